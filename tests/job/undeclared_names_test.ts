// The names a shipped function uses from the scope it was written in, found
// by a real `deno lint` process before anything runs.
import assert from "node:assert/strict";
import { undeclaredNames } from "../../src/job/undeclared_names.ts";
import { CloudknotInputError } from "../../mod.ts";
import { artifactFromFunc } from "../../src/job/mod.ts";
import { join } from "node:path";
import { countingDeno } from "../support/counting_deno.ts";

Deno.test("names from the enclosing scope are found, each once, in order of use", async () => {
  const source = `export default async (x, { offset } = {}) => {
    const { join } = await import("node:path");
    function local(y) { return y + 1; }
    if (typeof maybeGlobal !== "undefined") return 0;
    return helper(x) * factor + local(offset) + join("a").length + factor;
  };`;
  assert.deepEqual(await undeclaredNames(source), ["helper", "factor"]);
});

Deno.test("the globals of a Deno module are not undeclared, Node's included", async () => {
  const source = `export default () => [Deno.pid, fetch, crypto.randomUUID(), structuredClone(1),
    process.pid, Buffer.from("a"), setImmediate, globalThis, Temporal, navigator, performance.now(),
    new URL("file:///"), AbortSignal.timeout(1), queueMicrotask, console];`;
  assert.deepEqual(await undeclaredNames(source), []);
});

Deno.test("when deno lint cannot run, the check says so with undefined", async () => {
  const source = "export default () => factor;";
  assert.equal(await undeclaredNames(source, { deno: "/nonexistent/deno" }), undefined);
  // A binary that prints no lint report.
  assert.equal(await undeclaredNames(source, { deno: "true" }), undefined);
});

Deno.test("artifactFromFunc refuses a function using names from its scope, naming them", async () => {
  const factor = 3;
  const helper = (x: number) => x;
  await assert.rejects(
    () => artifactFromFunc((x: number) => helper(x) * factor),
    (e) =>
      e instanceof CloudknotInputError && e.field === "func" &&
      /func uses "helper", "factor" from the scope it was written in/.test(e.message) &&
      /module and exportName/.test(e.message),
  );
  const artifact = await artifactFromFunc((x: number) => x * 3);
  assert.equal(artifact.kind, "func");
});

// A function made into a knot again (a notebook cell run twice, knots of one
// function in a loop) is not linted again: each lint is a Deno process.
Deno.test("a source is linted once per deno binary in a process, and a check that could not run is tried again", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { deno, runs: lints } = await countingDeno(dir, "lint");
    // A deno that prints no lint report, and counts its runs.
    const silent = join(dir, "silent");
    const silentRuns = join(dir, "silent-runs");
    await Deno.writeTextFile(silent, `#!/bin/sh\necho run >> '${silentRuns}'\n`);
    await Deno.chmod(silent, 0o755);
    const source = `export default (x) => x * factor${crypto.randomUUID().slice(0, 8)};`;

    const first = await undeclaredNames(source, { deno });
    assert.equal(first?.length, 1);
    first!.push("changed by the caller");
    const again = await undeclaredNames(source, { deno });
    assert.deepEqual(again, first!.slice(0, 1), "the kept answer, unchanged by the caller");
    assert.equal(await lints(), 1);

    assert.deepEqual(await undeclaredNames("export default (x) => x;", { deno }), []);
    assert.equal(await lints(), 2, "another source is linted");

    // No answer (a binary that prints no report) is kept: the next call runs it again.
    assert.equal(await undeclaredNames(source, { deno: silent }), undefined);
    assert.equal(await undeclaredNames(source, { deno: silent }), undefined);
    assert.equal((await Deno.readTextFile(silentRuns)).trim().split("\n").length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
