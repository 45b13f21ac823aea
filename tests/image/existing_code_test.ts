// A module of an existing project in an image, on the real engine: the
// project's deno.json (an alias, JSX) and package.json (a CommonJS package in
// node_modules that calls require) are found from the module's folder, not
// this process's working directory; code that names its own location is
// warned about before anything is built; in the container, import.meta.url is
// the image's function.js.
import assert from "node:assert/strict";
import { join } from "node:path";
import { DockerImage } from "../../mod.ts";
import { Docker } from "../../src/docker/mod.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { runInContainer, tempWorld, valueOf } from "./helpers.ts";

const quiet = new Docker({ logger: () => {} });

/** A project with a deno.json, a package.json and a package in its node_modules. */
const PROJECT: Record<string, string> = {
  "deno.json": JSON.stringify({
    imports: { "@/": "./src/", "tiny-jsx/jsx-runtime": "./src/lib/jsx_runtime.ts" },
    compilerOptions: { jsx: "react-jsx", jsxImportSource: "tiny-jsx" },
  }),
  "package.json":
    '{ "name": "app", "type": "module", "dependencies": { "fixture-cjs": "1.0.0" } }\n',
  "node_modules/fixture-cjs/package.json":
    '{ "name": "fixture-cjs", "version": "1.0.0", "main": "index.js" }\n',
  "node_modules/fixture-cjs/index.js":
    'const path = require("node:path");\nexports.base = (p) => path.basename(p);\n',
  "src/lib/jsx_runtime.ts": "export function jsx(type: string, props: { children?: unknown }) {\n" +
    "  return `<${type}>${props.children}</${type}>`;\n}\nexport const jsxs = jsx;\n",
  "src/lib/double.ts": "export const double = (x: number): number => x * 2;\n",
  "src/job.tsx":
    'import { double } from "@/lib/double.ts";\nimport { base } from "fixture-cjs";\n' +
    "export function run(x: number) {\n" +
    '  return { html: <b>{double(x)}</b>, base: base("/a/b.txt"), url: import.meta.url };\n}\n',
};

dockerTest(
  "a project's module runs in a container with its deno.json and node_modules, and its use of import.meta.url is warned about before the build",
  async () => {
    const base = await ensureBaseImage({ docker: quiet });
    await using world = await tempWorld();
    const app = join(world.root, "app");
    for (const [path, text] of Object.entries(PROJECT)) {
      await Deno.mkdir(join(app, path, ".."), { recursive: true });
      await Deno.writeTextFile(join(app, path), text);
    }
    const warnings: string[] = [];
    // This process's working directory is the repository: another project, with a deno.json of its own.
    const image = await DockerImage.create({
      module: join(app, "src/job.tsx"),
      exportName: "run",
      name: `project-${crypto.randomUUID().slice(0, 8)}`,
      baseImage: base,
      state: world.state,
      docker: world.docker,
      cloudknotDir: world.cloudknotDir,
      warn: (m) => warnings.push(m),
    });
    try {
      assert.equal(image.images.length, 0, "nothing is built yet");
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.ok(
        warnings[0]!.includes(`${join(app, "src/job.tsx")}:4 uses import.meta.url: `),
        warnings[0],
      );
      assert.match(warnings[0]!, /\/app\/function\.js in a container/);
      await image.build({ tags: "v1" });
      const ran = await runInContainer(quiet, image.images[0]!, [2], { network: "none" });
      assert.equal(ran.code, 0, ran.stderr);
      assert.deepEqual(valueOf(ran.record), {
        html: "<b>4</b>",
        base: "b.txt",
        url: "file:///app/function.js",
      });
    } finally {
      await image.clobber();
    }
  },
);
