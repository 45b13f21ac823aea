// A result the codec cannot carry: one it refuses for its kind (a function, a
// class instance, a WeakMap) ends its item at the first attempt, as every
// attempt of the same function returns one alike; one whose reading failed
// (a getter that threw) is retried, as another attempt may return one that
// encodes.
import assert from "node:assert/strict";
import { ItemError, MapError } from "../../../mod.ts";
import { withKnot } from "./helpers.ts";

/** Returns a value of the kind its input names, none of which the codec carries. */
const unsendable = (kind: string): unknown => {
  switch (kind) {
    case "function":
      return { cb: () => 1 };
    case "symbol":
      return Symbol("s");
    case "WeakMap":
      return new WeakMap();
    case "URL":
      return new URL("https://example.com/a");
    default:
      return new (class Point {
        x = 1;
      })();
  }
};

/** The item's error of a settled entry that must have failed. */
function failure(settled: unknown): ItemError {
  const s = settled as { status: string; reason?: unknown };
  assert.equal(s.status, "rejected");
  assert.ok(s.reason instanceof ItemError);
  return s.reason;
}

Deno.test("a result the codec refuses for its kind fails its item at the first attempt of 3, with no attempt count, as every attempt would return one alike", async () => {
  await withKnot({ name: "unsendable", retries: 3, func: unsendable }, async (knot) => {
    const kinds = ["function", "symbol", "WeakMap", "URL", "Point"];
    const run = await knot.map(kinds, { progress: false });
    const errors = (await run.settled()).map(failure);
    assert.deepEqual(errors.map((e) => [e.kind, e.attempt]), kinds.map(() => ["unencodable", 1]));
    assert.equal(run.counts.retried, 0);
    assert.deepEqual(
      (await run.usage()).attempts.map((a) => [a.index, a.attempt]).sort(),
      kinds.map((_, i) => [i, 1]),
    );
    assert.equal(
      errors[0]!.message,
      "Item 0 returned a value that cannot be sent back: Cannot encode a function at $.cb: " +
        "functions cannot cross between processes; return data instead, such as what the " +
        "function would compute",
    );
    assert.match(errors[3]!.message, /class URL at \$: .*return url\.href instead$/);
    // A retry runs the same function, which returns one alike: the run's error does not offer it.
    const mapError = await run.results().then(() => undefined, (e: unknown) => e);
    assert.ok(mapError instanceof MapError);
    assert.doesNotMatch(mapError.message, /retry/);
  });
});

Deno.test("a result whose getter threw is retried, and succeeds when a later attempt returns data", async () => {
  await withKnot({
    name: "getter-first",
    retries: 2,
    func: (_x: number) =>
      Deno.env.get("AWS_BATCH_JOB_ATTEMPT") === "1"
        ? {
          get x(): number {
            throw new Error("not ready");
          },
        }
        : { x: 2 },
  }, async (knot) => {
    const run = await knot.map([0], { progress: false });
    assert.deepEqual(await run.results(), [{ x: 2 }]);
    assert.equal(run.counts.retried, 1);
  });
});

Deno.test("a result whose getter always throws is tried every attempt, and its error says which attempt it was", async () => {
  await withKnot({
    name: "getter-always",
    retries: 2,
    func: (_x: number) => ({
      get x(): number {
        throw new Error("not ready");
      },
    }),
  }, async (knot) => {
    const run = await knot.map([0], { progress: false });
    const [only] = await run.settled();
    const error = failure(only);
    assert.equal(error.kind, "unencodable");
    assert.equal(error.attempt, 2);
    assert.equal(
      error.message,
      "Item 0 returned a value that cannot be sent back: Cannot read the property at $.x: its " +
        "getter threw Error: not ready; make it a plain data property (attempt 2 of 2)",
    );
  });
});

Deno.test("collect() of a finished run whose result the codec refused for its kind reads its one attempt as final and runs it no more", async () => {
  await withKnot({ name: "collected-unsendable", retries: 3, func: unsendable }, async (knot) => {
    const run = await knot.map(["function"], { progress: false });
    await run.settled();
    const [settled] = await (await knot.collect(run.runId)).settled();
    assert.equal(failure(settled).attempt, 1);
    assert.deepEqual((await run.usage()).attempts.map((a) => a.attempt), [1]);
  });
});
