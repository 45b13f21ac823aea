// A func's artifact carries a source map back to the file the function was
// written in, made from Deno's emit cache (TypeScript) or the file itself
// (plain JavaScript), so an item's stack names that file and the throw's line
// on the local target and in every process that opens the knot or its runs.
// A func with no file behind it, or whose cached code is not the code this
// process runs, ships without a map, as before.
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ItemError, Knot, MapError } from "../../mod.ts";
import { artifactFromFunc, resolveArtifactFrames } from "../../src/job/mod.ts";
import { funcSourceMap } from "../../src/job/func_source_map.ts";
import { sha256Hex } from "../../src/util/sha256.ts";
import { refuseNegativeJs } from "../fixtures/plain_func.js";
import { checks, refuseNegative } from "../fixtures/typed_func.ts";
import { denoChild, stacksElsewhere } from "../support/deno_child.ts";
import { PLAIN_FUNC_FRAME, throwFrame, TYPED_FUNC_FRAME } from "../fixtures/typed_func_frames.ts";

/** The error of calling an artifact's function with `input`, imported from a folder of its own as in a container. */
async function thrownByArtifact(source: string, input: unknown): Promise<Error> {
  const app = await Deno.makeTempDir({ prefix: "cloudknot-app-" });
  try {
    await Deno.writeTextFile(join(app, "function.js"), source);
    const { default: func } = await import(pathToFileURL(join(app, "function.js")).href);
    try {
      func(input);
    } catch (e) {
      return e as Error;
    }
    throw new Error("the function did not throw");
  } finally {
    await Deno.remove(app, { recursive: true });
  }
}

Deno.test("a TypeScript func's failed item names its file and the throw's line, here and in another process", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-func-stack-" });
  try {
    const knot = await Knot.create({ name: "typed-func", func: refuseNegative, dir });
    assert.equal(knot.artifact.kind, "func");
    assert.ok(knot.artifact.sources !== undefined);
    const run = await knot.map([{ value: 1 }, { value: -1 }], { progress: false });
    const error = await run.results().then(() => undefined, (e) => e);
    assert.ok(error instanceof MapError, String(error));
    const [item] = error.errors;
    assert.ok(item instanceof ItemError);
    assert.equal(item.remote.message, "negative reading -1");
    assert.match(item.remote.stack ?? "", TYPED_FUNC_FRAME);
    assert.match((item.cause as Error).stack ?? "", TYPED_FUNC_FRAME);
    assert.doesNotMatch(item.remote.stack ?? "", /artifacts\/[0-9a-f]{64}\.js/);

    // Processes that did not make the artifact read where its file is from the knot's record.
    const elsewhere = await stacksElsewhere({ name: "typed-func", dir }, run.runId, {
      CLOUDKNOT_LOCAL_DIR: dir,
    });
    assert.match(elsewhere.adopted, TYPED_FUNC_FRAME);
    assert.match(elsewhere.results, TYPED_FUNC_FRAME);
    await knot.clobber();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a plain JavaScript func's frames name its file and line, with no emit cache", async () => {
  const artifact = await artifactFromFunc(refuseNegativeJs);
  assert.ok(artifact.sources !== undefined);
  const error = await thrownByArtifact(artifact.source, { value: -2 });
  // Where it ran, the frame has a portable name…
  assert.match(error.stack ?? "", /\(cloudknot:[0-9a-f]{12}\/src\/plain_func\.js:\d+:\d+\)/);
  // …which this process resolves to the file on this machine.
  assert.match(resolveArtifactFrames(error.stack ?? ""), PLAIN_FUNC_FRAME);
});

Deno.test("a method written with shorthand syntax names its file and line too", async () => {
  const artifact = await artifactFromFunc(checks.refuseNegativeMethod);
  assert.match(artifact.source, /Object\.values\(\{ refuseNegativeMethod/);
  const error = await thrownByArtifact(artifact.source, { value: -4 });
  assert.match(
    resolveArtifactFrames(error.stack ?? ""),
    throwFrame(new URL("../fixtures/typed_func.ts", import.meta.url), "negative method reading"),
  );
});

Deno.test("a func's artifact is the same for the same function at the same place, wherever the project is", async () => {
  const root = await Deno.makeTempDir({ prefix: "cloudknot-func-moved-" });
  try {
    assert.equal(
      (await artifactFromFunc(refuseNegative)).hash,
      (await artifactFromFunc(refuseNegative)).hash,
    );
    const fixture = await Deno.readTextFile(new URL("../fixtures/typed_func.ts", import.meta.url));
    const made = [];
    for (const place of ["a/project", "b/deeper/clone"]) {
      await Deno.mkdir(join(root, place), { recursive: true });
      const file = join(root, place, "typed_func.ts");
      await Deno.writeTextFile(file, fixture);
      const { refuseNegative } = await import(pathToFileURL(file).href);
      made.push({ file, artifact: await artifactFromFunc(refuseNegative) });
    }
    const [a, b] = made as [(typeof made)[0], (typeof made)[0]];
    assert.equal(a.artifact.hash, b.artifact.hash);
    assert.equal(a.artifact.source, b.artifact.source);
    assert.doesNotMatch(a.artifact.source, new RegExp(RegExp.escape(root)));
    // The hash is still that of the artifact's source: the map is part of it.
    assert.equal(a.artifact.hash, await sha256Hex(a.artifact.source));
    // The frames resolve to the copy made last, at the throw's line and column there.
    const error = await thrownByArtifact(b.artifact.source, { value: -3 });
    assert.match(resolveArtifactFrames(error.stack ?? ""), throwFrame(pathToFileURL(b.file)));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a func with no file behind it ships without a map, and its frames name the artifact", async () => {
  const made = new Function("x", "if (x < 0) throw new RangeError('negative');\nreturn x;") as (
    x: number,
  ) => number;
  const artifact = await artifactFromFunc(made);
  assert.equal(artifact.sources, undefined);
  assert.doesNotMatch(artifact.source, /sourceMappingURL/);
  assert.equal(artifact.hash, await sha256Hex(artifact.source));
  // The function's text begins on the artifact's third line; its throw is on the text's third.
  const error = await thrownByArtifact(artifact.source, -1);
  assert.match(error.stack ?? "", /function\.js:5:\d+\)/);

  // deno eval, as a notebook cell, has no file either.
  const evaluated = await denoChild([
    "eval",
    `
    import { artifactFromFunc } from ${
      JSON.stringify(new URL("../../src/job/mod.ts", import.meta.url).href)
    };
    const artifact = await artifactFromFunc((x: number) => { if (x < 0) throw new RangeError("no"); return x; });
    console.log(JSON.stringify({ sources: artifact.sources ?? null, mapped: /sourceMappingURL/.test(artifact.source) }));
    `,
  ]);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  assert.deepEqual(JSON.parse(evaluated.stdout), { sources: null, mapped: false });
});

Deno.test("a func whose cached emit is absent or is not the code this process runs gets no map", async () => {
  const code = `export default (${String(refuseNegative)});\n`;
  const at = { code, line: 0, column: "export default (".length };
  // Where this process's emit cache keeps the fixture's compiled code.
  const real = await artifactFromFunc(refuseNegative);
  assert.ok(real.sources !== undefined);
  const denoDir = new URL(real.sources.deno_dir).pathname;
  const fixture = new URL("../fixtures/typed_func.ts", import.meta.url).pathname;
  const cachedText = await Deno.readTextFile(`${denoDir}gen/file${fixture}.js`);
  const options = (text: string | undefined) => ({
    denoDir: () => Promise.resolve(denoDir),
    readText: (path: string) =>
      Promise.resolve(path === `${denoDir}gen/file${fixture}.js` ? text : undefined),
  });
  // The cache as Deno wrote it gives a map (so the cases below can fail)…
  assert.ok(await funcSourceMap(refuseNegative, at, options(cachedText)) !== undefined);
  // …no cache gives none…
  assert.equal(await funcSourceMap(refuseNegative, at, options(undefined)), undefined);
  // …and neither does a cache whose code differs from what this process runs.
  const stale = cachedText.replace("floor = 0", "floor = 1");
  assert.notEqual(stale, cachedText);
  assert.equal(await funcSourceMap(refuseNegative, at, options(stale)), undefined);
  // Nor one that cannot be learned.
  const noDir = () => Promise.reject(new Error("no deno"));
  assert.equal(await funcSourceMap(refuseNegative, at, { denoDir: noDir }), undefined);
});

Deno.test("the Deno cache is asked for while the inspector looks for the function, and waited for", async () => {
  const real = await artifactFromFunc(refuseNegative);
  assert.ok(real.sources !== undefined);
  const denoDir = new URL(real.sources.deno_dir).pathname;
  // Answers late, as a deno process would, and says when it was asked and answered.
  const late = { asked: false, answered: false };
  const denoDirLate = () => {
    late.asked = true;
    return new Promise<string>((resolve) =>
      setTimeout(() => {
        late.answered = true;
        resolve(denoDir);
      }, 50)
    );
  };
  const at = (func: unknown) => ({
    code: `export default (${String(func)});\n`,
    line: 0,
    column: "export default (".length,
  });
  const found = funcSourceMap(refuseNegative, at(refuseNegative), { denoDir: denoDirLate });
  // Asked at once, not after the inspector's answers…
  assert.equal(late.asked, true);
  assert.ok(await found !== undefined);
  assert.equal(late.answered, true);
  // …and a function with no file behind it still waits for the answer before it settles.
  late.answered = false;
  const noFile = new Function("x", "return x") as (x: unknown) => unknown;
  assert.equal(await funcSourceMap(noFile, at(noFile), { denoDir: denoDirLate }), undefined);
  assert.equal(late.answered, true);
});
