// The names a shipped function uses from the scope it was written in, found
// by a real `deno lint` process before anything runs.
import assert from "node:assert/strict";
import { undeclaredNames } from "../../src/job/undeclared_names.ts";
import { CloudknotInputError } from "../../mod.ts";
import { artifactFromFunc } from "../../src/job/mod.ts";

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
