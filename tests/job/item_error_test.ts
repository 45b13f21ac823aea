// An ItemError's message says what the item threw: an Error by its name, any
// other value by its type, never calling a thrown string an Error.
import assert from "node:assert/strict";
import { ItemError, MapError, MapRun } from "../../mod.ts";
import { errorToRecord } from "../../src/job/error_record.ts";
import { failureRecord } from "../../src/job/record.ts";

function threw(value: unknown): string {
  const record = failureRecord(
    { index: 7, attempt: 1, jobId: "j", kind: "threw" },
    errorToRecord(value),
  );
  return ItemError.fromRecord(record, { attempts: 1 }).message;
}

Deno.test("an item that threw an Error is named by the error's name", () => {
  assert.equal(threw(new RangeError("too far")), "Item 7 threw RangeError: too far");
});

Deno.test("an item that threw a value that is not an Error says its type, not Error", () => {
  assert.equal(threw("a plain string"), "Item 7 threw a string, not an Error: a plain string");
  assert.equal(threw({ code: 42 }), 'Item 7 threw an object, not an Error: {"code":42}');
  assert.equal(threw(3), "Item 7 threw a number, not an Error: 3");
  assert.equal(
    threw(
      new (class Refusal {
        reason = "quota";
      })(),
    ),
    'Item 7 threw an object, not an Error: Refusal {"reason":"quota"}',
  );
  assert.match(threw(null), /^Item 7 threw null, not an Error: /);
});

Deno.test("the items one cancel ended share one remote error and one cause", async () => {
  const { run } = MapRun.create({
    knot: "k",
    runId: "r",
    target: "local",
    total: 10_000,
    attempts: 1,
  });
  await run.cancel("Stopped by the test");
  const errors = (await run.settled()).map((s) => {
    assert.equal(s.status, "rejected");
    return (s as { reason: ItemError }).reason;
  });
  assert.equal(errors.length, 10_000);
  assert.equal(errors[9_999]!.message, "Item 9999 was cancelled: Stopped by the test");
  assert.equal(new Set(errors.map((e) => e.cause)).size, 1, "one cause for every item");
  assert.equal(new Set(errors.map((e) => e.remote)).size, 1, "one remote error for every item");
  const cause = errors[0]!.cause as Error;
  assert.equal(cause.name, "CancelledError");
  assert.equal(cause.message, "Stopped by the test");
  assert.equal(cause.stack, "CancelledError: Stopped by the test");
  assert.deepEqual(errors[0]!.remote, { name: "CancelledError", message: "Stopped by the test" });
});

Deno.test("an item ended for another reason than the item before gets its own cause", () => {
  const cancelled = (index: number, message: string) =>
    ItemError.fromRecord(
      failureRecord({ index, attempt: 1, jobId: "j", kind: "cancelled" }, {
        name: "CancelledError",
        message,
      }),
      { attempts: 1 },
    );
  const [a, b, c] = [
    cancelled(0, "stop"),
    cancelled(1, "Its job was still stopping"),
    cancelled(2, "stop"),
  ];
  assert.equal((a.cause as Error).message, "stop");
  assert.equal((b.cause as Error).message, "Its job was still stopping");
  assert.equal((c.cause as Error).message, "stop");
  assert.equal(a.remote.message, "stop");
  assert.equal(b.remote.message, "Its job was still stopping");
});

Deno.test("an item error's stack names no frames of the client's; its cause's is the remote one", () => {
  const remote = errorToRecord(new RangeError("too far"));
  const error = ItemError.fromRecord(
    failureRecord({ index: 7, attempt: 1, jobId: "j", kind: "threw" }, remote),
    { attempts: 1 },
  );
  assert.equal(error.stack, "ItemError: Item 7 threw RangeError: too far");
  assert.ok(error.cause instanceof RangeError);
  assert.equal(error.cause.stack, remote.stack);
  assert.match(error.cause.stack ?? "", /\n\s+at /, "the remote stack has frames");
  assert.ok(Error.stackTraceLimit > 0, "stacks are captured again after");
  assert.match(new Error("x").stack ?? "", /\n\s+at /);
});

/** The error of item `index`, which threw `Error("odd <index>")` with a cause. */
function oddItem(index: number): ItemError {
  const remote = errorToRecord(new Error(`odd ${index}`, { cause: new TypeError("inner") }));
  return ItemError.fromRecord(
    failureRecord({ index, attempt: 2, jobId: `r:${index}`, kind: "threw" }, remote),
    { attempts: 2 },
  );
}

Deno.test("an item error shows its message, its fields that are set and where it failed once, as a value and nested", () => {
  const error = oddItem(3);
  const shown = Deno.inspect(error);
  assert.equal(
    shown.split("\n")[0],
    'ItemError: Item 3 threw Error: odd 3 (attempt 2 of 2) { index: 3, attempt: 2, kind: "threw", jobId: "r:3" }',
  );
  assert.doesNotMatch(shown, /undefined|remote/);
  // The remote stack's first frame, once (Deno's own view gave it in `remote` and the cause).
  const frame = (error.cause as Error).stack!.split("\n")[1]!.trim();
  assert.equal(shown.split(frame).length, 2, shown);
  assert.match(shown, /\n {2}\[cause\]: Error: odd 3\n[^]*\[cause\]: TypeError: inner/);
  assert.equal(Deno.inspect([error]), `[\n  ${shown.replaceAll("\n", "\n  ")}\n]`);
});

Deno.test("a map error of a thousand failed items shows its message and the size of its fields in a few lines", () => {
  const errors = Array.from({ length: 1000 }, (_, i) => oddItem(2 * i + 1));
  const error = new MapError(errors, Array.from({ length: 2000 }), "run.retry()");
  const shown = Deno.inspect(error);
  assert.ok(shown.startsWith(error.stack!), shown);
  assert.ok(
    shown.endsWith(
      "\n  errors:  1000 ItemErrors, one per failed item" +
        "\n  results: 2000 values, undefined where an item failed" +
        "\n  failed:  [ 1, 3, 5, 7, 9, … and 995 more ]",
    ),
    shown,
  );
  assert.ok(shown.split("\n").length < 20, shown);
  assert.match(Deno.inspect(new MapError([oddItem(0)], [undefined])), /\n {2}failed: {2}\[ 0 \]$/);
});

Deno.test("a caught error narrowed by instanceof MapError has results of unknown type, not any", () => {
  const caught: unknown = new MapError([oddItem(1)], [2, undefined]);
  assert.ok(caught instanceof MapError);
  // The type check of this file fails if `results` is `any[]` (the directive is then unused).
  // @ts-expect-error: an unknown result is not a number until the caller checks it.
  const first: number = caught.results[0];
  assert.equal(first, 2);
  assert.ok(!(new Error("other") instanceof MapError));
  assert.ok(new MapError([], []) instanceof Error);
});

Deno.test("a caught error narrowed by instanceof a subclass of MapError is of that subclass, its own members typed", () => {
  class RunFailed extends MapError<number> {
    readonly runId = "r";
  }
  const caught: unknown = new RunFailed([], [1]);
  assert.ok(caught instanceof RunFailed);
  // The type check of this file fails if the narrowing stops at MapError, which has no runId.
  const runId: string = caught.runId;
  assert.equal(runId, "r");
  assert.ok(!(new MapError([], []) instanceof RunFailed));
});
