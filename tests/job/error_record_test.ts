import assert from "node:assert/strict";
import type { SerializedError } from "../../src/job/mod.ts";
import { CodecError, decode, encode } from "../../src/job/codec.ts";
import { errorToRecord, isSerializedError, recordToError } from "../../src/job/mod.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

/** A record must survive JSON exactly: it holds JSON values only. */
function viaJson(record: SerializedError): SerializedError {
  const text = JSON.stringify(record);
  const back = JSON.parse(text);
  assert.deepEqual(back, record);
  assert.ok(isSerializedError(back));
  return back;
}

Deno.test("built-in errors keep their class, message and remote stack", () => {
  const classes = [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError];
  for (const Ctor of classes) {
    const original = new Ctor("went wrong");
    const record = viaJson(errorToRecord(original));
    assert.equal(record.name, Ctor.name);
    assert.equal(record.message, "went wrong");
    assert.equal(record.stack, original.stack);
    assert.equal(record.thrown, undefined);
    const error = recordToError(record);
    assert.equal(Object.getPrototypeOf(error), Ctor.prototype);
    assert.equal(error.message, "went wrong");
    assert.equal(error.stack, original.stack, "the remote stack, not a local one");
    assert.equal(error.name, Ctor.name);
  }
});

Deno.test("code, cause, errors and other properties are kept", () => {
  const inner = Object.assign(new RangeError("inner"), { code: 7 });
  const original = Object.assign(new Error("outer", { cause: inner }), {
    code: "E_OUTER",
    status: 503,
    when: new Date(0),
    big: 5n,
    nan: NaN,
    nested: { list: [1, undefined, () => 1], sym: Symbol("s") },
  });
  const record = viaJson(errorToRecord(original));
  assert.equal(record.code, "E_OUTER");
  assert.deepEqual(record.props, {
    status: 503,
    when: "1970-01-01T00:00:00.000Z",
    big: "5n",
    nan: "NaN",
    nested: { list: [1, null, "[Function anonymous]"], sym: "Symbol(s)" },
  });
  assert.equal(record.cause?.name, "RangeError");
  assert.equal(record.cause?.code, 7);
  const error = recordToError(record) as Any;
  assert.equal(error.code, "E_OUTER");
  assert.equal(error.status, 503);
  assert.ok(error.cause instanceof RangeError);
  assert.equal(error.cause.code, 7);
  assert.equal(error.cause.stack, inner.stack);
  assert.ok(!Object.keys(error).includes("cause"), "cause stays non-enumerable, as in ES");

  const agg = new AggregateError([new TypeError("a"), "b"], "many");
  const aggRecord = viaJson(errorToRecord(agg));
  assert.deepEqual(aggRecord.errors?.map((e) => [e.name, e.message, e.thrown]), [
    ["TypeError", "a", undefined],
    ["Error", "b", "string"],
  ]);
  const aggError = recordToError(aggRecord) as AggregateError;
  assert.ok(aggError instanceof AggregateError);
  assert.ok(aggError.errors[0] instanceof TypeError);
  assert.equal(aggError.errors[1].message, "b");
});

Deno.test("a restored error's stack is V8's own stack property, as on any error, holding the remote stack", () => {
  // Redefining `stack` as a plain property makes V8 keep the error as a dictionary object: about
  // 500 bytes more for each failed item's cause.
  const native = Object.getOwnPropertyDescriptor(new Error("local"), "stack")!;
  const records: SerializedError[] = [
    { name: "TypeError", message: "boom", stack: "TypeError: boom\n    at job (job.ts:3:5)" },
    { name: "QuotaError", message: "over", code: "E_Q", props: { limit: 10 } },
    { name: "AggregateError", message: "many", stack: "AggregateError: many", errors: [] },
  ];
  for (const record of records) {
    const error = recordToError(record);
    const own = Object.getOwnPropertyDescriptor(error, "stack")!;
    assert.deepEqual(own, native, record.name);
    assert.equal(error.stack, record.stack ?? `${record.name}: ${record.message}`);
    assert.ok(!Object.keys(error).includes("stack"));
    error.stack = "changed";
    assert.equal(error.stack, "changed", "stack stays writable");
  }
});

Deno.test("custom error classes keep their name; the project's errors keep their fields", () => {
  class QuotaError extends Error {
    override name = "QuotaError";
    limit = 10;
  }
  const record = viaJson(errorToRecord(new QuotaError("over")));
  assert.equal(record.name, "QuotaError");
  assert.deepEqual(record.props, { limit: 10 });
  const error = recordToError(record) as Any;
  assert.equal(Object.getPrototypeOf(error), Error.prototype);
  assert.equal(error.name, "QuotaError");
  assert.equal(error.limit, 10);
  assert.match(String(error), /^QuotaError: over$/);

  const codec = new CodecError("Cannot encode a function at $.cb", {
    path: ["cb"],
    kind: "function",
    index: 2,
  });
  const codecRecord = viaJson(errorToRecord(codec));
  assert.equal(codecRecord.name, "CodecError");
  assert.deepEqual(codecRecord.props, {
    operation: "encode",
    path: ["cb"],
    kind: "function",
    index: 2,
  });
});

Deno.test("odd thrown values give records and never throw", () => {
  const cases: [unknown, Partial<SerializedError>][] = [
    ["boom", { name: "Error", message: "boom", thrown: "string" }],
    [42, { name: "Error", message: "42", thrown: "number" }],
    [null, { name: "Error", message: "null", thrown: "null" }],
    [undefined, { name: "Error", message: "undefined", thrown: "undefined" }],
    [false, { message: "false", thrown: "boolean" }],
    [10n, { message: "10", thrown: "bigint" }],
    [Symbol("why"), { message: "Symbol(why)", thrown: "symbol" }],
    [function named() {}, { message: "[Function named]", thrown: "function" }],
    [{ reason: "x", code: 42 }, {
      message: '{"reason":"x","code":42}',
      code: 42,
      props: { reason: "x" },
      thrown: "object",
    }],
    [{ name: "HttpFailure", message: "503" }, {
      name: "HttpFailure",
      message: "503",
      thrown: "object",
    }],
    [Object.create(null), { message: "{}", thrown: "object" }],
    [[1, "a"], { message: '[1,"a"]', thrown: "object" }],
    // An instance of a class of the function's: its class and fields, never `"[object Oops]"`.
    [
      new (class Oops {
        why = "x";
        at = new Date(0);
      })(),
      {
        message: 'Oops {"why":"x","at":"1970-01-01T00:00:00.000Z"}',
        props: { why: "x", at: "1970-01-01T00:00:00.000Z" },
        thrown: "object",
      },
    ],
  ];
  for (const [value, expected] of cases) {
    const record = viaJson(errorToRecord(value));
    for (const [k, v] of Object.entries(expected)) {
      assert.deepEqual((record as Any)[k], v, `${record.message}: ${k}`);
    }
    const error = recordToError(record);
    assert.ok(error instanceof Error);
    assert.equal(error.message, record.message);
    assert.equal((error as Any).thrown, record.thrown);
  }
});

Deno.test("values whose every read throws still give records", () => {
  const hostile = new Proxy({}, {
    get() {
      throw new Error("get trap");
    },
    getPrototypeOf() {
      throw new Error("proto trap");
    },
    ownKeys() {
      throw new Error("keys trap");
    },
    has() {
      throw new Error("has trap");
    },
    getOwnPropertyDescriptor() {
      throw new Error("descriptor trap");
    },
  });
  const record = viaJson(errorToRecord(hostile));
  assert.equal(record.name, "Error");
  assert.equal(typeof record.message, "string");

  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  assert.equal(viaJson(errorToRecord(proxy)).name, "Error");

  const error = new TypeError("x");
  for (const key of ["name", "message", "stack", "code", "cause"]) {
    Object.defineProperty(error, key, {
      get() {
        throw new Error(`no ${key}`);
      },
      enumerable: true,
    });
  }
  const errorRecord = viaJson(errorToRecord(error));
  assert.equal(errorRecord.name, "TypeError", "falls back to the class name");
  assert.equal(errorRecord.message, "");
  assert.equal(errorRecord.cause?.message, "[unreadable]");

  const badToString = {
    toString() {
      throw new Error("no");
    },
    get message() {
      throw new Error("no");
    },
  };
  assert.equal(viaJson(errorToRecord(badToString)).thrown, "object");
});

Deno.test("cycles and long cause chains are cut, not followed forever", () => {
  const self: Any = new Error("self");
  self.cause = self;
  self.again = { self };
  const record = viaJson(errorToRecord(self));
  assert.deepEqual(record.cause, { name: "Error", message: "[Circular]" });
  assert.deepEqual(record.props, { again: { self: "[Circular]" } });

  let chain: Error = new Error("root");
  for (let i = 0; i < 50; i++) chain = new Error(`level ${i}`, { cause: chain });
  const long = viaJson(errorToRecord(chain));
  let depth = 0;
  for (let r: SerializedError | undefined = long; r; r = r.cause) depth++;
  assert.ok(depth <= 10, `depth ${depth}`);

  const cyclicRecord: Any = { name: "Error", message: "loop" };
  cyclicRecord.cause = cyclicRecord;
  const error = recordToError(cyclicRecord);
  assert.equal(error.message, "loop");
});

Deno.test("damaged records still give errors", () => {
  const damaged: unknown[] = [
    null,
    undefined,
    "just text",
    7,
    [],
    {},
    { name: 5, message: { nested: true } },
    { name: "TypeError", message: "m", stack: 3, code: {}, props: "x", errors: "y" },
    { name: "AggregateError", message: "m", errors: [null, { name: "RangeError" }] },
    { name: "Error", message: "m", props: { message: "shadow", name: "shadow", extra: 1 } },
  ];
  for (const record of damaged) {
    const error = recordToError(record as SerializedError);
    assert.ok(error instanceof Error, JSON.stringify(record));
    assert.equal(typeof error.message, "string");
  }
  const text = recordToError("just text" as unknown as SerializedError);
  assert.equal(text.message, "just text");
  const typed = recordToError({ name: "TypeError", message: "m", stack: 3 } as Any);
  assert.ok(typed instanceof TypeError);
  assert.equal(typed.stack, "TypeError: m");
  const agg = recordToError({
    name: "AggregateError",
    message: "m",
    errors: [null, { name: "RangeError" }],
  } as Any) as AggregateError;
  assert.ok(agg.errors[1] instanceof RangeError);
  const shadow = recordToError({
    name: "Error",
    message: "m",
    props: { message: "shadow", extra: 1 },
  } as Any) as Any;
  assert.equal(shadow.message, "m");
  assert.equal(shadow.extra, 1);
});

Deno.test("isSerializedError accepts records and rejects other shapes", () => {
  assert.ok(isSerializedError({ name: "E", message: "m" }));
  assert.ok(isSerializedError(errorToRecord(new Error("x", { cause: "y" }))));
  assert.ok(!isSerializedError(null));
  assert.ok(!isSerializedError([]));
  assert.ok(!isSerializedError({ name: "E" }));
  assert.ok(!isSerializedError({ name: "E", message: "m", stack: 1 }));
  assert.ok(!isSerializedError({ name: "E", message: "m", code: true }));
  assert.ok(!isSerializedError({ name: "E", message: "m", cause: { name: 1 } }));
  assert.ok(!isSerializedError({ name: "E", message: "m", errors: [{}] }));
  assert.ok(!isSerializedError({ name: "E", message: "m", props: null }));
});

Deno.test("records also travel through the codec", () => {
  const record = errorToRecord(Object.assign(new RangeError("r"), { code: "E" }));
  const back = decode(encode(record)) as SerializedError;
  assert.deepEqual(back, record);
  assert.ok(recordToError(back) instanceof RangeError);
});
