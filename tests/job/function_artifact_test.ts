// A module named by a path that names no file, or a directory: the error says
// where relative paths are resolved and what to pass. A module's artifact maps
// its stack frames back to the user's files, and does not depend on where the
// project or the Deno cache is. A module by URL comes from any host.
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ArtifactError, Knot } from "../../mod.ts";
import { artifactFromModule, resolveArtifactFrames } from "../../src/job/mod.ts";
import { checkModulePath } from "../../src/cli/common/module_path.ts";
import { CloudknotInputError } from "../../src/util/errors.ts";
import { THROWING_FRAMES } from "../fixtures/throwing_frames.ts";

Deno.test("a relative module path that names no file says it is relative to the working directory and suggests import.meta.url", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "cloudknot-artifact-" });
  try {
    const e = await artifactFromModule("jobs.ts", "square", { cwd }).catch((e) => e);
    assert.ok(e instanceof ArtifactError, String(e));
    assert.equal(e.module, "jobs.ts");
    assert.match(e.message, new RegExp(`^Module jobs\\.ts does not exist in ${cwd}: `));
    assert.match(e.message, /a relative module path is resolved against the working directory/);
    assert.match(e.message, /pass module: new URL\("\.\/jobs\.ts", import\.meta\.url\)$/);

    // The same from Knot.create, with the working directory of this process.
    const dir = join(cwd, "knots");
    const knot = await Knot.create({ name: "nope", module: "./no_such_jobs.ts", dir }).catch((e) =>
      e
    );
    assert.ok(knot instanceof ArtifactError, String(knot));
    assert.match(knot.message, new RegExp(`does not exist in ${Deno.cwd()}: `));
    assert.match(knot.message, /new URL\("\.\/no_such_jobs\.ts", import\.meta\.url\)/);

    // The suggestion works: the URL form finds a module next to this file.
    const found = await artifactFromModule(
      new URL("../fixtures/npm_job.ts", import.meta.url),
      "default",
      { cwd },
    );
    assert.equal(found.kind, "module");
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("a missing absolute module path or file URL names the module, without the relative-path advice", async () => {
  const missing = new URL("./no_such_module.ts", import.meta.url);
  for (const module of [missing, missing.pathname]) {
    const e = await artifactFromModule(module, "default").catch((e) => e);
    assert.ok(e instanceof ArtifactError, String(e));
    assert.match(e.message, /does not exist: pass the path or file URL of a TypeScript/);
    assert.doesNotMatch(e.message, /working directory/);
  }
});

Deno.test("the command line's missing module error names the working directory", async () => {
  const e = await checkModulePath("no_such_jobs.ts").catch((e) => e);
  assert.ok(e instanceof CloudknotInputError, String(e));
  assert.equal(
    e.message,
    "Module no_such_jobs.ts does not exist: pass the path of a TypeScript or JavaScript module, " +
      `absolute or relative to the working directory (${Deno.cwd()})`,
  );
});

Deno.test("a module artifact's stack frames name the user's files and lines wherever the artifact is loaded from", async () => {
  const module = new URL("../fixtures/throwing_job.ts", import.meta.url);
  const artifact = await artifactFromModule(module, "measure");
  // The same graph gives the same artifact: the map names no temporary folder.
  assert.equal((await artifactFromModule(module, "measure")).hash, artifact.hash);
  assert.doesNotMatch(artifact.source, /cloudknot-bundle-|fixtures/);
  // The map names the files relative to their folder and carries positions, not the user's source.
  const map = inlineMap(artifact.source);
  assert.ok(
    map.sources.some((s: string) => /^cloudknot:[0-9a-f]{12}\/src\/throwing_job\.ts$/.test(s)),
    map.sources.join(", "),
  );
  assert.equal(map.sourcesContent, undefined);
  const app = await Deno.makeTempDir({ prefix: "cloudknot-app-" });
  try {
    // As in a container: the artifact alone, in a folder of its own.
    await Deno.writeTextFile(join(app, "function.js"), artifact.source);
    const { default: measure } = await import(pathToFileURL(join(app, "function.js")).href);
    assert.equal(measure(2), 4);
    const error = (() => {
      try {
        measure(-1);
      } catch (e) {
        return e as Error;
      }
    })();
    assert.ok(error instanceof RangeError);
    // Where it ran, the frames name the files under the module's folder, by line…
    assert.match(
      error.stack ?? "",
      /at check \(cloudknot:[0-9a-f]{12}\/src\/throwing_helper\.ts:6:\d+\)/,
    );
    assert.doesNotMatch(error.stack ?? "", /function\.js/);
    // …and the process that made the artifact names them on this machine.
    assert.match(resolveArtifactFrames(error.stack ?? ""), THROWING_FRAMES);
  } finally {
    await Deno.remove(app, { recursive: true });
  }
});

Deno.test("a module's artifact hash is the same wherever the project and the Deno cache are, and changes with its code", async () => {
  const root = await Deno.makeTempDir({ prefix: "cloudknot-artifact-moved-" });
  try {
    // One project (a module, a helper beside it, an npm package), in two places,
    // each bundled with a Deno cache of its own.
    const fixtures = new URL("../fixtures/", import.meta.url);
    const made: { hash: string; source: string; job: string }[] = [];
    for (const place of ["a/project", "b/deeper/clone"]) {
      const dir = join(root, place);
      await Deno.mkdir(join(dir, "lib"), { recursive: true });
      await Deno.copyFile(new URL("throwing_helper.ts", fixtures), join(dir, "lib", "helper.ts"));
      const job = join(dir, "job.ts");
      await Deno.writeTextFile(
        job,
        'import isNumber from "npm:is-number@7.0.0";\nimport { check } from "./lib/helper.ts";\n' +
          "export function measure(x: number): number {\n  return isNumber(x) ? check(x) : 0;\n}\n",
      );
      const denoDir = join(root, `${place.replaceAll("/", "-")}-deno-dir`);
      const deno = join(root, `${place.replaceAll("/", "-")}-deno`);
      await Deno.writeTextFile(
        deno,
        `#!/bin/sh\nDENO_DIR='${denoDir}' exec '${Deno.execPath()}' "$@"\n`,
      );
      await Deno.chmod(deno, 0o755);
      const artifact = await artifactFromModule(job, "measure", { deno, cwd: dir });
      made.push({ ...artifact, job: pathToFileURL(job).href });
      // The package came from this project's own cache.
      assert.ok((await Deno.stat(join(denoDir, "npm"))).isDirectory);
    }
    assert.equal(made[0]!.hash, made[1]!.hash);
    assert.equal(made[0]!.source, made[1]!.source);
    assert.doesNotMatch(made[0]!.source, new RegExp(RegExp.escape(root)));
    const sources: string[] = inlineMap(made[0]!.source).sources;
    assert.ok(
      sources.some((s) => s.endsWith("/deno_dir/npm/registry.npmjs.org/is-number/7.0.0/index.js")),
      sources.join(", "),
    );
    // The frames resolve to the copy made last.
    const key = /^cloudknot:([0-9a-f]{12})\//.exec(sources[0]!)![1];
    assert.equal(
      resolveArtifactFrames(`at measure (cloudknot:${key}/src/job.ts:4:38)`),
      `at measure (${made[1]!.job}:4:38)`,
    );

    // A real change to the code changes the hash.
    const job = join(root, "a/project/job.ts");
    await Deno.writeTextFile(
      job,
      (await Deno.readTextFile(job)).replace("check(x) : 0", "check(x) : 1"),
    );
    const changed = await artifactFromModule(job, "measure", {
      deno: join(root, "a-project-deno"),
    });
    assert.notEqual(changed.hash, made[0]!.hash);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// deno-lint-ignore no-explicit-any
function inlineMap(source: string): any {
  const inline = /\n\/\/# sourceMappingURL=data:application\/json;base64,(.+)\n$/.exec(source);
  return JSON.parse(new TextDecoder().decode(Uint8Array.fromBase64(inline![1]!)));
}

Deno.test("a module export that is not a function is refused when the knot is made, naming its type", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "cloudknot-artifact-" });
  try {
    const module = join(cwd, "m.ts");
    await Deno.writeTextFile(
      module,
      "export const x = 42;\nexport class Model {}\nexport const names = ['a'];\n" +
        "export function square(n: number) { return n * n; }\nexport default 'text';\n",
    );
    for (
      const [exportName, message] of [
        [
          "x",
          /^Export x of .*m\.ts is a number, not a function: pass the name of an exported function as exportName$/,
        ],
        [
          "Model",
          /^Export Model of .*m\.ts is a class, not a function: .*export a function that creates the instance$/,
        ],
        ["names", /^Export names of .*m\.ts is an array, not a function/],
        ["default", /^The default export of .*m\.ts is a string, not a function/],
      ] as const
    ) {
      const e = await artifactFromModule(module, exportName).catch((e) => e);
      assert.ok(e instanceof CloudknotInputError, String(e));
      assert.equal(e.field, "exportName");
      assert.match(e.message, message);
    }
    assert.equal((await artifactFromModule(module, "square")).kind, "module");

    // Knot.create refuses it before any item runs, and makes no knot.
    const dir = join(cwd, "knots");
    const knot = await Knot.create({ name: "nofunc", module, exportName: "x", dir }).catch((e) =>
      e
    );
    assert.ok(knot instanceof CloudknotInputError, String(knot));
    assert.match(knot.message, /Export x of .*m\.ts is a number, not a function/);
    await assert.rejects(Deno.stat(join(dir, "nofunc")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("an exportName the module lacks is refused with the names of the functions the module exports, re-exports included, or saying it exports none", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-artifact-" });
  try {
    await Deno.writeTextFile(
      join(dir, "helpers.ts"),
      "export const double = (x: number) => 2 * x;\nexport const x = 42;\n" +
        "export class Model {}\nexport type Size = number;\n",
    );
    await Deno.writeTextFile(
      join(dir, "jobs.ts"),
      'export function square(x: number) {\n  return x * x;\n}\nexport * from "./helpers.ts";\n',
    );
    const module = pathToFileURL(join(dir, "jobs.ts"));
    const e = await artifactFromModule(module, "sqare", { cwd: dir }).catch((e) => e);
    assert.ok(e instanceof ArtifactError, String(e));
    // Only the functions are named: a number, a class or a type is no exportName to pass.
    assert.equal(
      e.message,
      `Module ${module.href} has no export named "sqare": pass one of its exported function ` +
        `names as exportName (its functions: square, double)`,
    );
    // No default export: the same list, for a module given without exportName.
    const d = await artifactFromModule(module, "default", { cwd: dir }).catch((e) => e);
    assert.match(d.message, /has no export named "default": .* \(its functions: square, double\)$/);

    // A module that exports no function says so, rather than listing what it does export.
    const helpers = pathToFileURL(join(dir, "helpers.ts"));
    await Deno.writeTextFile(
      join(dir, "helpers.ts"),
      "export const x = 42;\nexport class Model {}\n",
    );
    const none = await artifactFromModule(helpers, "double", { cwd: dir }).catch((e) => e);
    assert.ok(none instanceof ArtifactError, String(none));
    assert.equal(
      none.message,
      `Module ${helpers.href} has no export named "double", and it exports no function: export ` +
        "the function to run from it, then pass its name as exportName",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a module path that names a directory says it is a directory and names the files in it to pass", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "cloudknot-artifact-" });
  try {
    await Deno.mkdir(join(cwd, "lib", "nested"), { recursive: true });
    await Deno.writeTextFile(join(cwd, "lib", "jobs.ts"), "export const f = () => 1;\n");
    await Deno.writeTextFile(join(cwd, "lib", "helper.js"), "export const g = () => 2;\n");
    await Deno.writeTextFile(join(cwd, "lib", "notes.md"), "# not a module\n");
    await Deno.mkdir(join(cwd, "empty"));
    const cases: [string | URL, string][] = [
      [
        "./lib/",
        `Module ./lib/ is a directory in ${cwd}, not a module: pass the path of one TypeScript or ` +
        "JavaScript file in it, such as one of ./lib/helper.js, ./lib/jobs.ts",
      ],
      [
        join(cwd, "empty"),
        `Module ${join(cwd, "empty")} is a directory, not a module: pass the path of one ` +
        "TypeScript or JavaScript file in it (it holds none)",
      ],
      [
        pathToFileURL(join(cwd, "lib")),
        `Module ${pathToFileURL(join(cwd, "lib")).href} is a directory, not a module: pass the ` +
        `path of one TypeScript or JavaScript file in it, such as one of ` +
        `${pathToFileURL(join(cwd, "lib")).href}/helper.js, ${
          pathToFileURL(join(cwd, "lib")).href
        }/jobs.ts`,
      ],
    ];
    for (const [module, message] of cases) {
      const e = await artifactFromModule(module, "f", { cwd }).catch((e) => e);
      assert.ok(e instanceof ArtifactError, String(e));
      assert.equal(e.module, String(module));
      assert.equal(e.message, message);
    }
    // The file it names is one to pass.
    assert.equal((await artifactFromModule("./lib/jobs.ts", "f", { cwd })).kind, "module");

    // The command line's check says the same, relative to the working directory.
    const here = Deno.cwd();
    Deno.chdir(cwd);
    try {
      const c = await checkModulePath("lib").catch((e) => e);
      assert.ok(c instanceof CloudknotInputError, String(c));
      assert.equal(
        c.message,
        `Module lib is a directory in ${cwd}, not a module: pass the path of one TypeScript or ` +
          "JavaScript file in it, such as one of lib/helper.js, lib/jobs.ts",
      );
    } finally {
      Deno.chdir(here);
    }
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("a module served over HTTP from any host is bundled with the modules it imports, its artifact needs no network where it runs, and a module sent with another content type is told so", async () => {
  const root = await Deno.makeTempDir({ prefix: "cloudknot-artifact-http-" });
  await Deno.mkdir(join(root, "site", "lib"), { recursive: true });
  // A host outside Deno's default import allow list (deno.land, jsr.io, esm.sh, …),
  // serving TypeScript as a CDN does.
  await Deno.writeTextFile(
    join(root, "site", "lib", "helper.ts"),
    "export function plusOne(x: number): number {\n  return x + 1;\n}\n",
  );
  await Deno.writeTextFile(
    join(root, "site", "jobs.ts"),
    'import { plusOne } from "./lib/helper.ts";\n' +
      "export function squarePlusOne(x: number): number {\n  return plusOne(x * x);\n}\n",
  );
  const served: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    served.push(path);
    try {
      // Under /as-text/, as Python's http.server sends a .ts file.
      const text = path.startsWith("/as-text/");
      return new Response(await Deno.readFile(join(root, "site", path.replace("/as-text", ""))), {
        headers: {
          "content-type": text ? "text/vnd.trolltech.linguist" : "application/typescript",
        },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    const module = `${base}/jobs.ts`;
    const artifact = await artifactFromModule(module, "squarePlusOne", { cwd: root });
    assert.deepEqual(served.toSorted(), ["/jobs.ts", "/lib/helper.ts"]);

    // A local module importing from that host is bundled too.
    await Deno.writeTextFile(
      join(root, "local.ts"),
      `import { plusOne } from "${base}/lib/helper.ts";\nexport default (x: number) => plusOne(-x);\n`,
    );
    const local = await artifactFromModule("./local.ts", "default", { cwd: root });

    // Knot.create with that URL makes a knot whose items run.
    const knot = await Knot.create({
      name: "http-module",
      module,
      exportName: "squarePlusOne",
      dir: join(root, "knots"),
    });
    assert.deepEqual(await (await knot.map([1, 2, 3])).results(), [2, 5, 10]);
    await knot.clobber();

    // A server that sends TypeScript as some other type is named, with the type to send.
    const misserved = await artifactFromModule(`${base}/as-text/jobs.ts`, "squarePlusOne", {
      cwd: root,
    }).catch((e) => e);
    assert.ok(misserved instanceof ArtifactError, String(misserved));
    assert.match(
      misserved.message,
      new RegExp(
        `so that \`deno bundle --allow-import ${RegExp.escape(base)}/as-text/jobs\.ts\` works, ` +
          `and check the content type the server sends with ${
            RegExp.escape(base)
          }/as-text/jobs\.ts: Deno reads a module by it, so TypeScript must come as ` +
          "application/typescript, JavaScript as text/javascript:\n",
      ),
    );

    // The host is gone: the artifacts hold the code they import, and import nothing.
    await server.shutdown();
    for (const [made, input, output] of [[artifact, 3, 10], [local, 3, -2]] as const) {
      assert.doesNotMatch(made.source, /^\s*(import|export)\b[^\n]*["']http:|\bimport\(/m);
      const file = join(root, `${made.hash}.js`);
      await Deno.writeTextFile(file, made.source);
      const { default: run } = await import(pathToFileURL(file).href);
      assert.equal(run(input), output);
    }
  } finally {
    await server.shutdown();
    await Deno.remove(root, { recursive: true });
  }
});
