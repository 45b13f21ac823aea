// Which failed attempts are final whatever attempts are left, judged from the
// records a job writes: a result the codec refuses for its kind is, one too
// deep or whose getter threw is not.
import assert from "node:assert/strict";
import { encodeRecord, type ErrorRecord, failsEveryAttempt } from "../../src/job/record.ts";

/** The error record a job writes for an attempt that returned `value`. */
function recordOf(value: unknown): ErrorRecord {
  const { record } = encodeRecord({
    version: 1,
    status: "ok",
    index: 0,
    attempt: 1,
    jobId: "j",
    endedAt: 0,
    value,
  });
  assert.equal(record.status, "error");
  assert.equal(record.kind, "unencodable");
  return record as ErrorRecord;
}

Deno.test("a result the codec refuses for its kind is final at its first attempt", () => {
  const detached = new ArrayBuffer(4);
  structuredClone(detached, { transfer: [detached] });
  const refused: [string, unknown][] = [
    ["a function", { cb: () => 1 }],
    ["a symbol", Symbol("s")],
    ["a symbol-keyed property", { [Symbol("k")]: 1 }],
    ["a WeakMap", new WeakMap()],
    ["a Promise", Promise.resolve(1)],
    [
      "a class instance",
      new (class Point {
        x = 1;
      })(),
    ],
    ["a hollow URL", new URL("https://example.com")],
    ["a hollow Headers", new Headers({ a: "b" })],
    ["a subclass of Map", new (class Registry extends Map {})()],
    ["a detached ArrayBuffer", detached],
    ["a view on shared memory", new Uint8Array(new SharedArrayBuffer(4))],
  ];
  for (const [what, value] of refused) {
    const record = recordOf(value);
    assert.ok(failsEveryAttempt(record.kind, record.error), what);
  }
});

Deno.test("a result too deep, or whose getter threw, is retried", () => {
  let deep: unknown = 1;
  for (let i = 0; i < 2000; i++) deep = { deep };
  const unsteady: [string, unknown][] = [
    ["too deep", deep],
    [
      "a getter that threw",
      {
        get x(): number {
          throw new Error("not ready");
        },
      },
    ],
  ];
  for (const [what, value] of unsteady) {
    const record = recordOf(value);
    assert.equal(failsEveryAttempt(record.kind, record.error), false, what);
  }
});

Deno.test("an unencodable record without the codec's kind, as another writer may leave, is retried", () => {
  assert.equal(failsEveryAttempt("unencodable"), false);
  assert.equal(failsEveryAttempt("unencodable", { message: "Cannot encode it" }), false);
});
