// Existing code shipped as a module: the project it lives in (its deno.json
// import map, aliases and JSX settings, its package.json and node_modules) is
// found from the module's folder, whatever the program's working directory; a
// module that prints or awaits at import is a knot; code that reaches files
// beside the module at run time (import.meta.url, import.meta.dirname, a
// package's __dirname) is warned about, by file and line, when the artifact
// is made; a CommonJS package that calls require keeps the user's frames on
// their lines; an unreachable JSR says so and names the import.
// Every project is written to a temporary folder; nothing is fetched.
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ArtifactError, Knot, type Permissions } from "../../mod.ts";
import { artifactFromModule, resolveArtifactFrames } from "../../src/job/mod.ts";

/** Writes files under `root`, making their folders. */
async function write(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(join(root, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(root, path), text);
  }
}

/** The same files, in a folder. */
function under(folder: string, files: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(files).map(([path, text]) => [`${folder}/${path}`, text]),
  );
}

/** The run of `inputs` on a new local knot (named after the export) of a module's export. */
async function localRun(
  dir: string,
  module: string | URL,
  exportName: string,
  inputs: number[],
  permissions?: Permissions,
  warn?: (message: string) => void,
) {
  const knot = await Knot.create({
    name: exportName,
    module,
    exportName,
    dir,
    ...(permissions === undefined ? {} : { permissions }),
    ...(warn === undefined ? {} : { warn }),
  });
  return await knot.map(inputs, { progress: false });
}

/** Runs `test` in a new temporary folder holding `files`, then removes the folder. */
async function inProject(
  files: Record<string, string>,
  test: (root: string) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "cloudknot-project-" });
  try {
    await write(root, files);
    await test(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** A project whose package is in its node_modules, as npm install leaves it, and is CommonJS that calls require. */
const PACKAGE = {
  "node_modules/fixture-cjs/package.json":
    '{ "name": "fixture-cjs", "version": "1.0.0", "main": "index.js" }\n',
  "node_modules/fixture-cjs/index.js": 'const path = require("node:path");\n' +
    "exports.triple = (x) => x * 3;\n" +
    "exports.base = (p) => path.basename(p);\n" +
    "/** Reads nothing by __dirname: only names it, as commander's comments do. */\n" +
    'exports.names = ["__filename", `${"__dirname"}`, /__dirname/.source];\n',
};

Deno.test("a module is bundled with its own project's deno.json (import map, aliases, JSX) or package.json and node_modules, whatever the working directory", async () => {
  await inProject({
    ...under("app", {
      "deno.json": JSON.stringify({
        imports: { "@/": "./src/", "tiny-jsx/jsx-runtime": "./src/lib/jsx_runtime.ts" },
        compilerOptions: { jsx: "react-jsx", jsxImportSource: "tiny-jsx" },
      }),
      "src/lib/jsx_runtime.ts":
        "export function jsx(type: string, props: { children?: unknown }) {\n" +
        "  return `<${type}>${props.children}</${type}>`;\n}\nexport const jsxs = jsx;\n",
      "src/lib/double.ts": "export const double = (x: number): number => x * 2;\n",
      "src/view.tsx": 'import { double } from "@/lib/double.ts";\n' +
        "export function view(x: number): string {\n  return <b>{double(x)}</b>;\n}\n",
    }),
    ...under("node-app", {
      "package.json":
        '{ "name": "node-app", "type": "module", "dependencies": { "fixture-cjs": "1.0.0" } }\n',
      ...PACKAGE,
      "lib/job.ts": 'import { triple } from "fixture-cjs";\n' +
        "export function run(x: number): number {\n  return triple(x);\n}\n",
    }),
  }, async (root) => {
    // This process's working directory is the repository, another project with a deno.json.
    const dir = join(root, "knots");
    const view = await localRun(dir, join(root, "app/src/view.tsx"), "view", [1, 2]);
    assert.deepEqual(await view.results(), ["<b>2</b>", "<b>4</b>"]);
    const node = await localRun(dir, pathToFileURL(join(root, "node-app/lib/job.ts")), "run", [
      1,
      2,
    ]);
    assert.deepEqual(await node.results(), [3, 6]);
    // A working directory with no project at all, as the command line's may be.
    const elsewhere = join(root, "elsewhere");
    await Deno.mkdir(elsewhere);
    const artifact = await artifactFromModule("../app/src/view.tsx", "view", { cwd: elsewhere });
    assert.equal(artifact.kind, "module");
  });
});

Deno.test("a module that prints and awaits when it is imported is a knot, and its export runs", async () => {
  await inProject({
    "jobs.ts": "const base = await Promise.resolve(10);\n" +
      'console.log("loaded the model");\nconsole.log("function");\n' +
      "export function add(x: number): number {\n  return base + x;\n}\n",
  }, async (root) => {
    const run = await localRun(join(root, "knots"), join(root, "jobs.ts"), "add", [1, 2]);
    assert.deepEqual(await run.results(), [11, 12]);
  });
});

Deno.test("code that reaches files beside its module at run time is warned about by file and line when the artifact is made, and the import that replaces it is not", async () => {
  await inProject({
    "model.json": '{ "weight": 2 }\n',
    "reads.ts": 'import { base } from "fixture-files";\n' +
      "export async function score(x: number): Promise<number> {\n" +
      '  const model = JSON.parse(await Deno.readTextFile(new URL("./model.json", import.meta.url)));\n' +
      "  return model.weight * x + base().length + import.meta.dirname!.length;\n}\n",
    "imports.ts": 'import model from "./model.json" with { type: "json" };\n' +
      'import { triple } from "fixture-cjs";\n' +
      "export function score(x: number): number {\n  return model.weight * triple(x);\n}\n",
    "package.json": '{ "name": "p", "type": "module", "dependencies": ' +
      '{ "fixture-cjs": "1.0.0", "fixture-files": "1.0.0" } }\n',
    ...PACKAGE,
    "node_modules/fixture-files/package.json":
      '{ "name": "fixture-files", "version": "1.0.0", "main": "index.js" }\n',
    "node_modules/fixture-files/index.js": 'const fs = require("node:fs");\n\n' +
      'exports.base = () => fs.readFileSync(__dirname + "/base.txt", "utf8");\n',
    "node_modules/fixture-files/base.txt": "base\n",
  }, async (root) => {
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    await artifactFromModule(join(root, "reads.ts"), "score", { warn });
    assert.equal(warnings.length, 1, warnings.join("\n"));
    const [warning] = warnings as [string];
    assert.match(warning, /^cloudknot: the module's code names its own location/);
    assert.ok(
      warning.includes(
        `${join(root, "reads.ts")}:3 uses import.meta.url; ${
          join(root, "reads.ts")
        }:4 uses import.meta.dirname: in the bundled function it names the function's own file`,
      ),
      warning,
    );
    assert.match(warning, /import data from "\.\/data\.json" with \{ type: "json" \}/);
    assert.match(warning, /pass the data in the inputs/);
    assert.ok(
      warning.includes(
        `npm package fixture-files uses __dirname (${
          join(root, "node_modules/fixture-files/index.js")
        }), which its bundled code does not have`,
      ),
      warning,
    );
    assert.match(warning, /await import\("npm:fixture-files"\)/);
    // fixture-cjs calls require too, and names __dirname in a comment, strings and a regular
    // expression, but reaches no file: it is not named.
    assert.doesNotMatch(warning, /fixture-cjs/);

    // What the warning says is so: the item fails where it runs. Knot.create gives it to the
    // knot's warn option, as its other warnings.
    const dir = join(root, "knots");
    const knotWarnings: string[] = [];
    const reads = await localRun(
      dir,
      join(root, "reads.ts"),
      "score",
      [1],
      { read: true },
      (m) => knotWarnings.push(m),
    );
    assert.deepEqual(knotWarnings, [warning]);
    const [ended] = await reads.settled();
    assert.equal(ended?.status, "rejected");
    assert.match(
      String(ended.reason.message),
      /threw NotFound: No such file or directory \(os error 2\): readfile '[^']*\/artifacts\/model\.json'/,
    );

    // Importing the data ships it, and says nothing.
    const imports = await localRun(join(root, "other"), join(root, "imports.ts"), "score", [1, 2]);
    assert.deepEqual(await imports.results(), [6, 12]);
    await artifactFromModule(join(root, "imports.ts"), "score", { warn });
    assert.equal(warnings.length, 1, warnings.join("\n"));
  });
});

Deno.test("a module whose CommonJS package calls require has stack frames on the user's own lines", async () => {
  await inProject({
    "package.json":
      '{ "name": "p", "type": "module", "dependencies": { "fixture-cjs": "1.0.0" } }\n',
    ...PACKAGE,
    "job.ts": 'import { base, triple } from "fixture-cjs";\n' +
      "export function measure(x: number): string {\n" +
      "  if (triple(x) < 0) {\n" +
      '    throw new RangeError("negative");\n' +
      "  }\n" +
      '  return base("/a/b.txt");\n' +
      "}\n",
  }, async (root) => {
    const artifact = await artifactFromModule(join(root, "job.ts"), "measure");
    const app = join(root, "app");
    await Deno.mkdir(app);
    await Deno.writeTextFile(join(app, "function.js"), artifact.source);
    const { default: measure } = await import(pathToFileURL(join(app, "function.js")).href);
    assert.equal(measure(1), "b.txt");
    // The throw is on line 4 of job.ts, below the shim Deno rewrote.
    const line = new RegExp(
      `at measure \\(${RegExp.escape(pathToFileURL(join(root, "job.ts")).href)}:4:11\\)`,
    );
    assert.throws(() => measure(-1), (e: unknown) => {
      assert.ok(e instanceof RangeError);
      assert.match(resolveArtifactFrames(e.stack ?? ""), line);
      return true;
    });
  });
});

Deno.test("a module that imports from a JSR this machine cannot reach is refused naming the import and the registry", async () => {
  await inProject({
    "jobs.ts": 'import { assert } from "jsr:@std/assert@1";\n' +
      "export function check(x: number): number {\n  assert(x);\n  return x;\n}\n",
  }, async (root) => {
    // A registry on a port nothing listens on: unreachable, at once, with or without a network.
    const deno = join(root, "deno");
    await Deno.writeTextFile(
      deno,
      `#!/bin/sh\nJSR_URL=http://127.0.0.1:9/ exec '${Deno.execPath()}' "$@"\n`,
    );
    await Deno.chmod(deno, 0o755);
    const module = join(root, "jobs.ts");
    const e = await artifactFromModule(module, "check", { deno }).catch((e) => e);
    assert.ok(e instanceof ArtifactError, String(e));
    assert.equal(e.module, module);
    assert.ok(
      e.message.startsWith(
        `Cannot load jsr:@std/assert@1, which ${module} imports, from JSR (jsr.io, or the ` +
          `registry JSR_URL names): the registry cannot be reached from this machine, or it has ` +
          `no such package or version.`,
      ),
      e.message,
    );
    assert.ok(e.message.includes(`\`deno cache ${module}\``), e.message);
    assert.doesNotMatch(e.message, /Stack backtrace/);
  });
});
