import assert from "node:assert/strict";
import { CloudknotInputError } from "../../mod.ts";
import {
  BINARY_MAGIC,
  CODEC_VERSION,
  CodecError,
  decode,
  encode,
  encodeItems,
  encodeToString,
  formatPath,
} from "../../src/job/codec.ts";
import { decodeRecord, encodeRecord } from "../../src/job/record.ts";
import { encodeInputs } from "../../src/job/inputs.ts";
import { assertIsomorphic, difference } from "./_isomorphic.ts";
import { fromThrown, toCodecError } from "../../src/job/codec/_failure.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

/** Encodes and decodes, checking the bytes and the string forms agree. */
function roundTrip<T>(value: T): T {
  const text = encodeToString(value);
  const bytes = encode(value);
  // Binary data makes a binary document; anything else is the text itself.
  if (bytes[0] !== BINARY_MAGIC[0]) assert.equal(new TextDecoder().decode(bytes), text);
  const fromBytes = decode(bytes);
  assertIsomorphic(decode(text), fromBytes);
  // A decoded value encodes to the same text: the format is canonical.
  assert.equal(encodeToString(fromBytes), text);
  return fromBytes as T;
}

function expectCodecError(
  run: () => unknown,
  check: { path?: string; kind?: string; message?: RegExp; operation?: "encode" | "decode" },
): CodecError {
  try {
    run();
  } catch (e) {
    assert.ok(e instanceof CodecError, `expected a CodecError, got ${e}`);
    if (check.path !== undefined) assert.equal(e.pathText, check.path);
    if (check.kind !== undefined) assert.equal(e.kind, check.kind);
    if (check.message !== undefined) assert.match(e.message, check.message);
    if (check.operation !== undefined) assert.equal(e.operation, check.operation);
    assert.match(e.message, /^[A-Z]/);
    assert.doesNotMatch(e.message, /\.$/);
    return e;
  }
  assert.fail("expected a CodecError");
}

// ---------------------------------------------------------------------------
// Round trips of every supported kind.

Deno.test("primitives round-trip, including -0, NaN, infinities, undefined and bigint", () => {
  const values = [
    "",
    "plain",
    "h\u00e9llo \u2603 \u{1f600}",
    "\ud800 lone surrogate",
    'quote " backslash \\ newline \n nul \u0000',
    0,
    -0,
    1,
    -7.25,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    2 ** 53 + 2,
    NaN,
    Infinity,
    -Infinity,
    true,
    false,
    null,
    undefined,
    0n,
    -1n,
    2n ** 200n,
    -(2n ** 64n),
  ];
  for (const value of values) assert.ok(Object.is(roundTrip(value), value), String(value));
  assertIsomorphic(roundTrip(values), values);
});

Deno.test("-0 and 0 stay distinct everywhere", () => {
  const value = { a: -0, b: 0, list: [-0, 0], map: new Map<unknown, unknown>([["z", -0]]) };
  const out = roundTrip(value);
  assert.ok(Object.is(out.a, -0));
  assert.ok(Object.is(out.b, 0));
  assert.ok(Object.is(out.list[0], -0) && Object.is(out.list[1], 0));
  assert.ok(Object.is(out.map.get("z"), -0));
  assert.ok(Object.is(roundTrip(new Number(-0)).valueOf(), -0));
});

Deno.test("undefined survives in objects, arrays and Maps, and is not a hole", () => {
  const value = { u: undefined, list: [undefined, 1], map: new Map([[undefined, undefined]]) };
  const out = roundTrip(value);
  assert.ok(Object.hasOwn(out, "u"));
  assert.equal(out.u, undefined);
  assert.ok(0 in out.list);
  assert.ok(out.map.has(undefined));
  assertIsomorphic(out, value);
});

Deno.test("plain objects keep key order, odd keys, and null prototypes become plain", () => {
  const value = { z: 1, a: 2, "10": 3, "2": 4, "": 5, "a b": 6, "constructor": 7, "toString": 8 };
  const out = roundTrip(value);
  assert.deepEqual(Object.keys(out), Object.keys(value));
  assertIsomorphic(out, value);

  const bare = Object.create(null);
  bare.x = 1;
  bare.nested = Object.create(null);
  const decoded = roundTrip(bare);
  assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
  assertIsomorphic(decoded, structuredClone(bare));
  assertIsomorphic(decoded, bare, { nullProtoAsPlain: true });
});

Deno.test("__proto__ keys are restored as own properties without touching prototypes", () => {
  const value = JSON.parse('{"a":1,"__proto__":{"polluted":true},"b":[{"__proto__":[1]}]}');
  const out = roundTrip(value);
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.ok(Object.hasOwn(out, "__proto__"));
  assert.deepEqual(Object.keys(out), ["a", "__proto__", "b"]);
  assert.equal(({} as Any).polluted, undefined);
  assert.equal(out.polluted, undefined);
  assert.ok(Array.isArray(Object.getOwnPropertyDescriptor(out.b[0], "__proto__")!.value));
  assert.equal(Object.getPrototypeOf(out.b[0]), Object.prototype);
  assertIsomorphic(out, value);

  // Through every decoding path: in place, rebuilt (escaped keys), error and array props.
  const hostile = [
    '{"ck":1,"v":{"__proto__":{"polluted":1}}}',
    '{"ck":1,"v":{"$$x":1,"__proto__":{"polluted":1}}}',
    '{"ck":1,"v":{"__proto__":{"$":"Date","v":0}}}',
    '{"ck":1,"v":{"$":"Error","name":"Error","props":{"__proto__":{"polluted":1}}}}',
    '{"ck":1,"v":{"$":"Array","items":[],"props":{"__proto__":{"polluted":1}}}}',
  ];
  for (const text of hostile) {
    const decoded = decode(text) as Any;
    assert.ok(Object.hasOwn(decoded, "__proto__"), text);
    assert.notEqual(Object.getPrototypeOf(decoded), decoded.__proto__);
    assert.equal(({} as Any).polluted, undefined);
    assert.equal(decoded.polluted, undefined);
  }
});

Deno.test("keys that collide with the tag marker are escaped", () => {
  const value = {
    $: "tag?",
    $id: 3,
    $$: "two",
    $ref: { $: "ref", id: 0 },
    nested: { $: "Date", v: 0 },
    arr: [{ $: "undefined" }],
  };
  const text = encodeToString(value);
  assert.match(text, /"\$\$":"tag\?"/);
  assert.match(text, /"\$\$id":3/);
  assert.match(text, /"\$\$\$":"two"/);
  const out = roundTrip(value);
  assertIsomorphic(out, value);
  assert.equal(typeof out.nested, "object");
  assert.ok(!(out.nested instanceof Date));
});

Deno.test("sparse arrays keep their holes, length and extra properties", () => {
  const holes = [1, , 3, , ,] as unknown[];
  const out = roundTrip(holes);
  assert.equal(out.length, 5);
  assert.deepEqual(Object.keys(out), ["0", "2"]);
  assert.ok(!(1 in out));

  const huge: unknown[] = [];
  huge[1_000_000] = "far";
  const text = encodeToString(huge);
  assert.ok(text.length < 100, "a very sparse array is written compactly");
  const decoded = roundTrip(huge);
  assert.equal(decoded.length, 1_000_001);
  assert.equal(decoded[1_000_000], "far");

  const extra = Object.assign([1, 2], { label: "x", $weird: true });
  assertIsomorphic(roundTrip(extra), extra);
  const both = Object.assign([, "b"], { label: "y" });
  assertIsomorphic(roundTrip(both), both);
  const empty: unknown[] = [];
  empty.length = 3;
  assertIsomorphic(roundTrip(empty), empty);
  assertIsomorphic(roundTrip([]), []);
  assertIsomorphic(roundTrip(structuredClone(holes)), holes);
});

Deno.test("Map and Set keep any keys and insertion order", () => {
  const key = { k: 1 };
  const map = new Map<unknown, unknown>([
    [key, "object key"],
    [NaN, "nan"],
    [1n, "bigint"],
    ["b", 2],
    ["a", 1],
    [undefined, null],
    [[1, 2], new Set([key])],
  ]);
  const out = roundTrip(map);
  assertIsomorphic(out, map);
  const outKey = [...out.keys()][0];
  assert.equal([...([...out.values()][6] as Set<unknown>)][0], outKey);
  const set = new Set<unknown>(["z", "a", 3, NaN, key, new Map()]);
  assertIsomorphic(roundTrip(set), set);
  assertIsomorphic(roundTrip(new Map()), new Map());
  assertIsomorphic(roundTrip(new Set()), new Set());
});

Deno.test("Date and RegExp round-trip, including invalid dates", () => {
  const value = [
    new Date(0),
    new Date(-8.64e15),
    new Date(8.64e15),
    new Date("2024-02-29T12:34:56.789Z"),
    new Date(NaN),
    /a+b/giu,
    new RegExp("\\/[\\]]\\n", "dmsvy"),
    /(?<year>\d{4})/,
  ];
  const out = roundTrip(value);
  assertIsomorphic(out, value);
  assert.ok(Number.isNaN((out[4] as Date).getTime()));
  const re = /x/g;
  re.lastIndex = 3;
  assert.equal(roundTrip(re).lastIndex, 0);
});

Deno.test("boxed primitives round-trip as boxed values", () => {
  const value = [
    new Number(3),
    new Number(NaN),
    new Number(-0),
    new String("s"),
    new Boolean(false),
    Object(5n),
  ];
  const out = roundTrip(value);
  assertIsomorphic(out, value);
  assert.ok(out[4] instanceof Boolean);
  assertIsomorphic(out, structuredClone(value));
});

Deno.test("every typed array, DataView and ArrayBuffer round-trips with offsets", () => {
  // Every typed array class this runtime has, read from the runtime itself
  // (the subclasses of %TypedArray%), not from the codec's own list: a class
  // the codec forgets fails here.
  const TypedArray = Object.getPrototypeOf(Int8Array);
  const names = Object.entries(Object.getOwnPropertyDescriptors(globalThis))
    .filter(([, d]) =>
      typeof d.value === "function" && Object.getPrototypeOf(d.value) === TypedArray
    )
    .map(([name]) => name);
  let seen = 0;
  for (const name of names) {
    const Ctor = (globalThis as Any)[name];
    if (typeof Ctor !== "function") continue;
    seen++;
    const buffer = new ArrayBuffer(64);
    new Uint8Array(buffer).forEach((_, i, a) => a[i] = (i * 37 + 11) & 0xff);
    const view = new Ctor(buffer, 8, 3);
    const out = roundTrip(view);
    assert.equal(out.constructor, Ctor);
    assert.equal(out.byteOffset, 8);
    assert.equal(out.length, 3);
    assert.equal(out.buffer.byteLength, 64);
    assertIsomorphic(out, view);
    assertIsomorphic(out, structuredClone(view));
  }
  assert.ok(seen >= 11);
  const dv = new DataView(new ArrayBuffer(16), 4, 6);
  dv.setFloat32(0, Math.PI);
  assertIsomorphic(roundTrip(dv), dv);
  const empty = new ArrayBuffer(0);
  assertIsomorphic(roundTrip(empty), empty);
  const resizable = new ArrayBuffer(4, { maxByteLength: 32 });
  const outResizable = roundTrip(resizable);
  assert.ok(outResizable.resizable);
  assert.equal(outResizable.maxByteLength, 32);
  const bytes = crypto.getRandomValues(new Uint8Array(10_000));
  assertIsomorphic(roundTrip(bytes), bytes);
});

Deno.test("views that share one ArrayBuffer still share it after decoding", () => {
  const buffer = new ArrayBuffer(32);
  const value = {
    a: new Uint8Array(buffer, 0, 8),
    b: new Float64Array(buffer, 8, 2),
    c: new DataView(buffer, 4),
    raw: buffer,
    again: new Uint8Array(buffer),
  };
  value.b[0] = 1.5;
  const out = roundTrip(value);
  assert.equal(out.a.buffer, out.b.buffer);
  assert.equal(out.a.buffer, out.c.buffer);
  assert.equal(out.a.buffer, out.raw);
  assert.equal(out.again.buffer, out.raw);
  assertIsomorphic(out, value);
  assertIsomorphic(out, structuredClone(value));
  out.a[0] = 99;
  assert.equal(out.again[0], 99);
  // The buffer's bytes are written once.
  assert.equal(encodeToString(value).split("base64").length, 2);
});

Deno.test("binary data travels as raw bytes beside the text, never in base64", () => {
  const payload = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 7919) % 251);
  const bytes = encode({ name: "blob", payload });
  assert.deepEqual([...bytes.subarray(0, 4)], [...BINARY_MAGIC]);
  // The document is the payload plus a small header, not 4/3 of it.
  assert.ok(bytes.byteLength < payload.byteLength + 300, `${bytes.byteLength} bytes`);
  const out = decode(bytes) as { name: string; payload: Uint8Array };
  assert.deepEqual(out, { name: "blob", payload });
  // The value owns its buffer: it is not a view of the document.
  assert.equal(out.payload.buffer.byteLength, payload.byteLength);
  // Items: text and binary documents side by side, each decodable alone.
  const items = encodeItems([1, new Uint16Array([1, 2]), "x", new ArrayBuffer(3)]);
  assert.deepEqual(items.map((b) => b[0] === BINARY_MAGIC[0]), [false, true, false, true]);
  assert.deepEqual(decode(items[1]!), new Uint16Array([1, 2]));
  assert.deepEqual(decode(items[3]!), new ArrayBuffer(3));
  // Text with base64, as version 1 wrote it, is still read.
  assert.deepEqual(
    decode('{"ck":1,"v":{"$":"ArrayBuffer","base64":"AQI="}}'),
    Uint8Array.of(1, 2).buffer,
  );
});

Deno.test("a damaged or newer binary document is refused with a clear error", () => {
  const good = encode(new Uint8Array([1, 2, 3]));
  const cases: [Uint8Array, RegExp][] = [
    [good.slice(0, 6), /binary document is damaged \(it ends in its header\)/],
    [good.slice(0, good.byteLength - 1), /it ends in its blobs/],
    [Uint8Array.of(...good, 0), /bytes after its last blob/],
    [
      Uint8Array.of(0x89, 0x43, 0x4b, 0x03, ...good.subarray(4)),
      /binary document of codec version 3/,
    ],
    [Uint8Array.of(0x89, 0x00, 0x00, 0x00), /first bytes are not the codec's/],
  ];
  for (const [bytes, pattern] of cases) {
    assert.throws(() => decode(bytes), (e) => e instanceof CodecError && pattern.test(e.message));
  }
});

Deno.test("errors keep class, name, message, stack, cause, code and errors", () => {
  const classes = [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError];
  for (const Ctor of classes) {
    const e = new Ctor("boom", { cause: new Error("inner") });
    const out = roundTrip(e);
    assert.equal(Object.getPrototypeOf(out), Ctor.prototype);
    assert.equal(out.stack, e.stack);
    assertIsomorphic(out, e);
    assertIsomorphic(out, structuredClone(e));
  }

  const coded = Object.assign(new Error("no file"), { code: "ENOENT", errno: -2, path: "/x" });
  const out = roundTrip(coded) as Any;
  assert.equal(out.code, "ENOENT");
  assert.equal(out.errno, -2);
  assertIsomorphic(out, coded);

  const agg = new AggregateError([new TypeError("a"), "b"], "many");
  const outAgg = roundTrip(agg);
  assert.ok(outAgg instanceof AggregateError);
  assert.equal(outAgg.errors.length, 2);
  assert.ok(outAgg.errors[0] instanceof TypeError);
  assertIsomorphic(outAgg, agg);

  const bare = new Error();
  assert.equal(roundTrip(bare).message, "");
  const noStack = new RangeError("x");
  delete (noStack as Any).stack;
  assert.equal(roundTrip(noStack).stack, undefined);
  const primitiveCause = new Error("with cause", { cause: 42 });
  assert.equal(roundTrip(primitiveCause).cause, 42);
  const undefinedCause = new Error("x", { cause: undefined });
  assert.ok(Object.hasOwn(roundTrip(undefinedCause), "cause"));
  assert.ok(!Object.hasOwn(roundTrip(new Error("x")), "cause"));
});

Deno.test("custom error classes arrive as their nearest built-in class with their name", () => {
  class HttpError extends Error {
    status = 404;
    constructor(message: string) {
      super(message);
      this.name = "HttpError";
    }
  }
  class BadArgument extends TypeError {
    override name = "BadArgument";
  }
  const http = roundTrip(new HttpError("missing")) as Any;
  assert.equal(Object.getPrototypeOf(http), Error.prototype);
  assert.equal(http.name, "HttpError");
  assert.equal(http.status, 404);
  assert.equal(http.message, "missing");
  const bad = roundTrip(new BadArgument("x"));
  assert.ok(bad instanceof TypeError);
  assert.equal(bad.name, "BadArgument");
  assert.match(encodeToString(new BadArgument("x")), /"type":"TypeError"/);

  // An Error renamed to a built-in name stays an Error.
  const renamed = new Error("r");
  renamed.name = "TypeError";
  const outRenamed = roundTrip(renamed);
  assert.equal(Object.getPrototypeOf(outRenamed), Error.prototype);
  assert.equal(outRenamed.name, "TypeError");

  // The project's own errors travel too (own enumerable name and fields).
  const codecError = new CodecError("Cannot encode x", { path: ["a", 1], kind: "function" });
  const outCodec = roundTrip(codecError) as Any;
  assert.equal(outCodec.name, "CodecError");
  assert.deepEqual(outCodec.path, ["a", 1]);
  assert.equal(outCodec.kind, "function");

  const dom = new DOMException("stopped", "AbortError");
  const outDom = roundTrip(dom);
  assert.ok(outDom instanceof DOMException);
  assert.equal(outDom.name, "AbortError");
  assert.equal(outDom.code, dom.code);
  assert.equal(outDom.message, "stopped");
});

Deno.test("a decoded error's stack keeps its text and attributes in every shape an error's stack takes", () => {
  /** What of `stack` a caller sees: its value, its attributes and whether it is among the keys. */
  const stackOf = (error: Error) => {
    const own = Object.getOwnPropertyDescriptor(error, "stack");
    return {
      value: error.stack as unknown,
      own: own !== undefined,
      enumerable: own?.enumerable,
      configurable: own?.configurable,
      writable: own === undefined ? undefined : own.writable === true || own.set !== undefined,
      keys: Object.keys(error),
    };
  };
  const changed = <E extends Error>(error: E, change: (e: Any) => void): E => {
    change(error);
    return error;
  };
  class HttpError extends Error {
    status = 404;
    override name = "HttpError";
  }
  const cases: [string, Error][] = [
    ...[Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError].map(
      (Ctor): [string, Error] => [Ctor.name, new Ctor("boom")],
    ),
    [
      "stack assigned",
      changed(new Error("x"), (e) => e.stack = "Error: x\n    at job (job.ts:1:1)"),
    ],
    ["stack deleted", changed(new TypeError("x"), (e) => delete e.stack)],
    ["stack set to a number", changed(new Error("x"), (e) => e.stack = 5)],
    ["stack deleted, then set", changed(new Error("x"), (e) => (delete e.stack, e.stack = "own"))],
    ["stack deleted, then a number", changed(new Error("x"), (e) => (delete e.stack, e.stack = 7))],
    ["own name and code", Object.assign(new RangeError("r"), { name: "LimitError", code: "E_L" })],
    ["subclass", new HttpError("missing")],
    ["cause", new Error("outer", { cause: new TypeError("inner") })],
    ["AggregateError", new AggregateError([new URIError("u"), 1], "many")],
    ["DOMException", new DOMException("stopped", "AbortError")],
    ["frozen", Object.freeze(Object.assign(new Error("cold"), { code: 1 }))],
  ];
  for (const [label, error] of cases) {
    const out = roundTrip(error);
    // The format carries a stack that is a string, or one among the own enumerable properties;
    // any other value is not kept, and the error comes back without a stack.
    const carried = typeof error.stack === "string" || Object.keys(error).includes("stack");
    const bare = changed(new Error(error.message), (e) => delete e.stack);
    const expected = stackOf(carried ? error : bare);
    // Like structuredClone, decoding makes a new error: a frozen one comes back unfrozen.
    assert.equal(Object.isFrozen(out), false, label);
    assert.deepEqual(
      stackOf(out),
      { ...expected, configurable: expected.own ? true : undefined },
      label,
    );
    // A subclass comes back as its nearest built-in class (tested above): its fields are compared.
    const sameClass = Object.getPrototypeOf(out) === Object.getPrototypeOf(error);
    if (carried && sameClass) assertIsomorphic(out, error);
    else assert.deepEqual([out.name, out.message], [error.name, error.message], label);
    if (stackOf(out).writable) {
      out.stack = "changed";
      assert.equal(out.stack, "changed", `${label}: stack stays writable`);
    }
  }
});

Deno.test("a decoded error's stack is V8's own stack accessor, as on an error made here", () => {
  // Redefining `stack` as a plain property made V8 keep each decoded error as a dictionary
  // object: about 900 bytes more for each.
  const native = Object.getOwnPropertyDescriptor(new Error("local"), "stack");
  const values = [
    new TypeError("boom"),
    Object.assign(new Error("no file"), { code: "ENOENT" }),
    new Error("outer", { cause: new RangeError("inner") }),
    new AggregateError([new URIError("u")], "many", { cause: 1 }),
    new DOMException("stopped", "AbortError"),
  ];
  for (const value of values) {
    const out = roundTrip(value) as Any;
    for (const error of [out, out.cause, ...(out.errors ?? [])].filter((e) => e instanceof Error)) {
      assert.deepEqual(Object.getOwnPropertyDescriptor(error, "stack"), native, error.name);
    }
    assert.equal(out.stack, value.stack);
  }
});

Deno.test("decoded errors of every kind keep V8's fast properties, as errors made here do", async () => {
  // %HasFastProperties is V8's own answer (no heap measure): a dictionary object costs several
  // hundred bytes more for each decoded error.
  const codec = new URL("../../src/job/codec.ts", import.meta.url).href;
  const script = `
    import { decode, encode } from ${JSON.stringify(codec)};
    const fast = new Function("o", "return %HasFastProperties(o)");
    class HttpError extends Error { status = 404; name = "HttpError"; }
    const values = {
      plain: new Error("x"),
      coded: Object.assign(new TypeError("x"), { code: "E_X" }),
      named: new HttpError("missing"),
      cause: new Error("outer", { cause: new Error("inner") }),
      aggregate: new AggregateError([new Error("a")], "many"),
      aggregateWithCause: new AggregateError([], "many", { cause: "why" }),
      dom: new DOMException("stopped", "AbortError"),
    };
    const answer = {};
    for (const [name, value] of Object.entries(values)) {
      answer[name] = [fast(value), fast(decode(encode(value)))];
    }
    console.log(JSON.stringify(answer));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-lock", "--v8-flags=--allow-natives-syntax", script],
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0);
  const answer: Record<string, [boolean, boolean]> = JSON.parse(
    new TextDecoder().decode(out.stdout),
  );
  assert.equal(Object.keys(answer).length, 7);
  for (const [name, [made, decoded]] of Object.entries(answer)) {
    assert.equal(made, true, `${name}: the error made here`);
    assert.equal(decoded, true, `${name}: the decoded error`);
  }
});

Deno.test("shared references and cycles are restored with identity", () => {
  const shared = { s: 1 };
  const list: unknown[] = [shared, shared];
  const root: Any = { list, again: list, shared };
  root.self = root;
  list.push(list);
  const map = new Map<unknown, unknown>();
  map.set(map, map);
  map.set("root", root);
  const set = new Set<unknown>();
  set.add(set);
  set.add(shared);
  const error: Any = new Error("cyclic");
  error.cause = error;
  error.self = error;
  const date = new Date(5);
  const boxed = new String("box");
  const re = /r/;
  root.more = { map, set, error, dates: [date, date], boxes: [boxed, boxed], res: [re, re] };
  const out = roundTrip(root);
  assert.equal(out.self, out);
  assert.equal(out.list, out.again);
  assert.equal(out.list[0], out.list[1]);
  assert.equal(out.list[0], out.shared);
  assert.equal(out.list[2], out.list);
  assert.equal(out.more.map.get(out.more.map), out.more.map);
  assert.equal(out.more.map.get("root"), out);
  assert.ok(out.more.set.has(out.more.set));
  assert.ok(out.more.set.has(out.shared));
  assert.equal(out.more.error.cause, out.more.error);
  assert.equal(out.more.error.self, out.more.error);
  assert.equal(out.more.dates[0], out.more.dates[1]);
  assert.equal(out.more.boxes[0], out.more.boxes[1]);
  assert.equal(out.more.res[0], out.more.res[1]);
  assertIsomorphic(out, root);

  const cyclicArray: unknown[] = [];
  cyclicArray.push(cyclicArray, [cyclicArray]);
  const outArray = roundTrip(cyclicArray);
  assert.equal(outArray[0], outArray);
  assert.equal((outArray[1] as unknown[])[0], outArray);
  const sparseCycle: unknown[] = [];
  sparseCycle[3] = sparseCycle;
  const outSparse = roundTrip(sparseCycle);
  assert.equal(outSparse[3], outSparse);
  assert.ok(!(0 in outSparse));
});

Deno.test("shared objects get labels only when shared, and the output is deterministic", () => {
  const shared = { x: 1 };
  const text = encodeToString({ a: shared, b: shared, c: [1], d: { y: 2 } });
  assert.equal(
    text,
    '{"ck":1,"v":{"a":{"$id":0,"x":1},"b":{"$":"ref","id":0},"c":[1],"d":{"y":2}}}',
  );
  const emptyShared = {};
  assert.equal(
    encodeToString([emptyShared, emptyShared]),
    '{"ck":1,"v":[{"$id":0},{"$":"ref","id":0}]}',
  );
  const arr = [1];
  assert.equal(
    encodeToString({ p: [arr, arr] }),
    '{"ck":1,"v":{"p":[{"$":"Array","$id":0,"items":[1]},{"$":"ref","id":0}]}}',
  );
  const value = { when: new Date(1), m: new Map([[1, { z: [arr, arr] }]]), b: 5n };
  assert.equal(encodeToString(value), encodeToString(structuredClone(value)));
  assert.deepEqual(encode(value), encode(value));
});

Deno.test("the example in the module documentation is exact", () => {
  const v: Any = { when: new Date(0), tags: new Set(["a"]), n: -0, $x: 1n };
  v.self = v;
  assert.equal(
    encodeToString(v),
    '{"ck":1,"v":{"$id":0,"when":{"$":"Date","v":0},"tags":{"$":"Set","values":["a"]},' +
      '"n":{"$":"-0"},"$$x":{"$":"bigint","v":"1"},"self":{"$":"ref","id":0}}}',
  );
  assert.equal(encodeToString({ a: [1, undefined] }), '{"ck":1,"v":{"a":[1,{"$":"undefined"}]}}');
});

Deno.test("getters are read once, like structuredClone; non-enumerable properties are dropped", () => {
  let reads = 0;
  const value = {
    get lazy() {
      reads++;
      return { computed: reads };
    },
  };
  Object.defineProperty(value, "hidden", { value: 1, enumerable: false });
  const out = decode(encode(value)) as Any;
  assert.deepEqual(Object.getOwnPropertyDescriptor(out, "lazy"), {
    value: { computed: 1 },
    writable: true,
    enumerable: true,
    configurable: true,
  });
  assert.equal(reads, 1);
  assert.ok(!Object.hasOwn(out, "hidden"));
  assertIsomorphic(out, { lazy: { computed: 1 } });
  assertIsomorphic(structuredClone(value), { lazy: { computed: 2 } });
  assert.equal(reads, 2);
  const nonEnumSymbol = {};
  Object.defineProperty(nonEnumSymbol, Symbol("quiet"), { value: 1, enumerable: false });
  assertIsomorphic(roundTrip(nonEnumSymbol), {});
});

Deno.test("a getter that encodes while an encoding runs does not disturb it", () => {
  const inner = { deep: [1, 2, 3] };
  const value = {
    first: inner,
    get nested() {
      return encodeToString({ inner, again: inner });
    },
    second: inner,
  };
  const out = decode(encode(value)) as Any;
  assert.equal(out.first, out.second);
  assertIsomorphic(decode(out.nested), { inner, again: inner });
});

Deno.test("deep values: maxDepth is enforced and the stack never overflows", () => {
  const nest = (n: number) => {
    let v: unknown = "leaf";
    for (let i = 0; i < n; i++) v = [v];
    return v;
  };
  assertIsomorphic(roundTrip(nest(1000)), nest(1000));
  let maps: unknown = 1;
  for (let i = 0; i < 1000; i++) maps = new Map([[i, maps]]);
  assertIsomorphic(roundTrip(maps), maps);
  const e = expectCodecError(() => encode(nest(1001)), {
    kind: "deep value",
    message: /nests deeper than 1000 levels; flatten it or raise maxDepth/,
  });
  assert.equal(e.path.length, 1000);
  assert.ok(e.message.length < 1000, "a long path is shortened in the message");
  assert.ok(decode(encode(nest(1500), { maxDepth: 1500 })));
  expectCodecError(() => encode(nest(20), { maxDepth: 10 }), { kind: "deep value" });
  assert.throws(() => encode(1, { maxDepth: 0 }), (e) => {
    assert.ok(e instanceof CloudknotInputError);
    assert.equal(e.field, "maxDepth");
    assert.match(e.message, /^The maxDepth option must be a positive integer, not 0/);
    return true;
  });
  // Beyond what the stack holds: still a CodecError, not a RangeError.
  expectCodecError(() => encode(nest(1_000_000), { maxDepth: 10_000_000 }), {
    kind: "deep value",
  });
  const deepText = `{"ck":1,"v":${"[".repeat(200_000)}${"]".repeat(200_000)}}`;
  expectCodecError(() => decode(deepText), { operation: "decode" });
});

Deno.test("a map's input nested deeper than 1,000 levels is told to be flattened, as map() has no maxDepth to raise", async () => {
  const nest = (n: number) => {
    let v: unknown = "leaf";
    for (let i = 0; i < n; i++) v = [v];
    return v;
  };
  const encoded = await Array.fromAsync(encodeInputs([nest(1000)]));
  assertIsomorphic(decode(encoded[0]![0]!), nest(1000));
  await assert.rejects(
    async () => await Array.fromAsync(encodeInputs([1, nest(1001)])),
    (e) => {
      assert.ok(e instanceof CodecError);
      assert.equal(e.index, 1);
      assert.equal(e.kind, "deep value");
      assert.match(
        e.message,
        /^Item 1: Cannot encode the value at \$\[0\][^\n]*: it nests deeper than 1,000 levels, the most a map's input may nest, a limit no option raises; flatten it$/,
      );
      return true;
    },
  );
  // The codec's own callers pass maxDepth: their advice still names it.
  expectCodecError(() => encode(nest(1001)), { message: /; flatten it or raise maxDepth$/ });
});

Deno.test("a function's result nested deeper than 1,000 levels ends its item unencodable, told to be flattened, and one of 1,000 levels is carried", () => {
  const nest = (n: number) => {
    let v: unknown = "leaf";
    for (let i = 0; i < n; i++) v = { v };
    return v;
  };
  const result = (value: unknown) =>
    encodeRecord({ version: 1, status: "ok", index: 0, attempt: 1, jobId: "j", endedAt: 0, value });
  const carried = result(nest(1000));
  assert.equal(carried.record.status, "ok");
  assertIsomorphic((decodeRecord(carried.bytes) as { value: unknown }).value, nest(1000));
  const { record } = result(nest(1001));
  assert.equal(record.status, "error");
  assert.equal((record as { kind: string }).kind, "unencodable");
  const error = (record as { error: { message: string } }).error;
  assert.match(
    error.message,
    /^Cannot encode the value at \$\.v\.v[^\n]*: it nests deeper than 1,000 levels, the most a function's result may nest, a limit no option raises; flatten it$/,
  );
});

// ---------------------------------------------------------------------------
// A randomized comparison with structuredClone.

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = [
  "",
  "a",
  "$",
  "$$",
  "$id",
  "$ref",
  "__proto__",
  "constructor",
  "0",
  "17",
  "4294967295",
  "-1",
  "01",
  "h\u00e9",
  "\u{1f600}",
  "\ud83d",
  '\u0000\n"\\',
  "long ".repeat(20),
];
const NUMBERS = [0, -0, 1, -1, 0.1, 1e21, -1e-7, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 53];
const ERRORS = [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError];
const VIEWS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
];

class Generator {
  #random: () => number;
  #pool: object[] = [];
  #buffers: ArrayBuffer[] = [];
  #ancestors: object[] = [];

  constructor(seed: number) {
    this.#random = mulberry32(seed);
  }

  int(n: number): number {
    return Math.floor(this.#random() * n);
  }

  chance(p: number): boolean {
    return this.#random() < p;
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }

  primitive(): unknown {
    switch (this.int(8)) {
      case 0:
        return this.pick(STRINGS);
      case 1:
        return this.pick(NUMBERS);
      case 2:
        return this.#random() * 1e6 - 5e5;
      case 3:
        return this.chance(0.5);
      case 4:
        return null;
      case 5:
        return undefined;
      case 6:
        return BigInt(this.int(1e9)) * (this.chance(0.5) ? -1n : 1n) * 2n ** BigInt(this.int(90));
      default:
        return `s${this.int(1000)}`;
    }
  }

  value(depth: number): unknown {
    if (depth <= 0 || this.chance(0.35)) return this.primitive();
    if (this.#pool.length > 0 && this.chance(0.08)) return this.pick(this.#pool);
    if (this.#ancestors.length > 0 && this.chance(0.04)) return this.pick(this.#ancestors);
    const object = this.#object(depth);
    this.#pool.push(object);
    return object;
  }

  #withAncestor<T extends object>(object: T, fill: () => void): T {
    this.#ancestors.push(object);
    fill();
    this.#ancestors.pop();
    return object;
  }

  #buffer(): ArrayBuffer {
    if (this.#buffers.length > 0 && this.chance(0.5)) return this.pick(this.#buffers);
    const buffer = this.chance(0.2)
      ? new ArrayBuffer(64, { maxByteLength: 128 })
      : new ArrayBuffer(64);
    const bytes = new Uint8Array(buffer);
    for (let i = 0; i < bytes.length; i++) bytes[i] = this.int(256);
    this.#buffers.push(buffer);
    return buffer;
  }

  #object(depth: number): object {
    const d = depth - 1;
    switch (this.int(13)) {
      case 0:
      case 1: {
        const object: Record<string, unknown> = this.chance(0.1) ? Object.create(null) : {};
        return this.#withAncestor(object, () => {
          for (let i = this.int(5); i > 0; i--) {
            const key = this.chance(0.5) ? this.pick(STRINGS) : `k${this.int(20)}`;
            Object.defineProperty(object, key, {
              value: this.value(d),
              enumerable: true,
              writable: true,
              configurable: true,
            });
          }
        });
      }
      case 2:
      case 3: {
        const array: unknown[] = [];
        return this.#withAncestor(array, () => {
          const length = this.int(6);
          for (let i = 0; i < length; i++) {
            if (this.chance(0.15)) array.length = i + 1;
            else array[i] = this.value(d);
          }
          if (this.chance(0.1)) array.length += this.int(3);
          if (this.chance(0.1)) (array as Any)[this.pick(["x", "$y", "__proto__"])] = this.value(d);
        });
      }
      case 4: {
        const map = new Map<unknown, unknown>();
        return this.#withAncestor(map, () => {
          for (let i = this.int(4); i > 0; i--) map.set(this.value(d), this.value(d));
        });
      }
      case 5: {
        const set = new Set<unknown>();
        return this.#withAncestor(set, () => {
          for (let i = this.int(4); i > 0; i--) set.add(this.value(d));
        });
      }
      case 6:
        return this.chance(0.2) ? new Date(NaN) : new Date(this.int(4e12) - 1e12);
      case 7:
        return this.pick([/a/, /^x+$/gim, /\//u, new RegExp("[\\]\\n]", "s"), /(?<n>\d)/dy]);
      case 8: {
        const p = this.primitive();
        return p === null || p === undefined ? new Number(this.pick(NUMBERS)) : Object(p);
      }
      case 9:
        return this.#buffer();
      case 10: {
        const buffer = this.#buffer();
        if (this.chance(0.2)) {
          const offset = this.int(32);
          return new DataView(buffer, offset, this.int(64 - offset));
        }
        const View = this.pick(VIEWS);
        const size = View.BYTES_PER_ELEMENT;
        const offset = this.int(64 / size / 2) * size;
        return new View(buffer, offset, this.int((64 - offset) / size));
      }
      case 11: {
        const Ctor = this.pick(ERRORS);
        const error = this.chance(0.4)
          ? new Ctor(this.pick(STRINGS), { cause: undefined })
          : new Ctor(this.pick(STRINGS));
        return this.#withAncestor(error, () => {
          if (Object.hasOwn(error, "cause")) error.cause = this.value(d);
          if (this.chance(0.1)) delete (error as Any).stack;
        });
      }
      default: {
        const object: Record<string, unknown> = {};
        return this.#withAncestor(object, () => {
          object.list = [this.value(d), this.value(d)];
          object.nested = { inner: this.value(d) };
        });
      }
    }
  }
}

Deno.test("randomized values decode to what structuredClone makes of them", () => {
  const cases = 3000;
  for (let seed = 1; seed <= cases; seed++) {
    const value = new Generator(seed).value(4);
    let text: string;
    try {
      text = encodeToString(value);
    } catch (e) {
      throw new Error(`seed ${seed}: encoding failed: ${e}`);
    }
    const out = decode(text);
    const clone = structuredClone(value);
    const d = difference(out, clone) ?? difference(out, value, { nullProtoAsPlain: true });
    if (d !== undefined) throw new Error(`seed ${seed}: ${d}\n${text}`);
    assert.equal(encodeToString(out), text, `seed ${seed}: re-encoding differs`);
    assert.equal(encodeToString(value), text, `seed ${seed}: encoding is not deterministic`);
  }
});

// ---------------------------------------------------------------------------
// Rejections.

Deno.test("functions and symbols are rejected with the path and what to do", () => {
  expectCodecError(() => encode({ cb: () => 1 }), {
    path: "$.cb",
    kind: "function",
    message:
      /^Cannot encode a function at \$\.cb: functions cannot cross between processes; send data, and do the work in the job function$/,
  });
  expectCodecError(() => encode([1, [2, class Foo {}]]), { path: "$[1][1]", kind: "function" });
  expectCodecError(() => encode(() => 1), { path: "$", kind: "function" });
  expectCodecError(() => encode({ "odd key": { s: Symbol("x") } }), {
    path: '$["odd key"].s',
    kind: "symbol",
    message: /Cannot encode a symbol at \$\["odd key"\]\.s: .*use a string instead/,
  });
  expectCodecError(() => encode({ a: { [Symbol("tag")]: 1 } }), {
    path: "$.a",
    kind: "symbol-keyed property",
    message: /property Symbol\(tag\) of the object at \$\.a: symbol keys cannot cross/,
  });
  const symbolArray = Object.assign([1], { [Symbol.iterator]: 1 });
  expectCodecError(() => encode(symbolArray), { kind: "symbol-keyed property" });
  const symbolError = Object.assign(new Error("x"), { [Symbol("s")]: 1 });
  expectCodecError(() => encode({ e: symbolError }), { path: "$.e" });
  expectCodecError(() => encode(Object(Symbol("boxed"))), { kind: "Symbol" });
});

Deno.test("paths through Maps, Sets, errors, views and sparse arrays are readable", () => {
  const map = new Map<unknown, unknown>([["ok", 1], [{ k: () => 1 }, 2]]);
  expectCodecError(() => encode({ m: map }), { path: "$.m<map key 1>.k" });
  const mapValue = new Map([["a", { f: Math.max }]]);
  expectCodecError(() => encode({ m: mapValue }), { path: "$.m<map value 0>.f" });
  expectCodecError(() => encode(new Set([1, 2, [Symbol()]])), { path: "$<set item 2>[0]" });
  expectCodecError(() => encode({ e: new Error("x", { cause: { f() {} } }) }), {
    path: "$.e.cause.f",
  });
  expectCodecError(() => encode(Object.assign(new Error("x"), { code: () => 1 })), {
    path: "$.code",
  });
  expectCodecError(() => encode(new AggregateError([1, () => 1])), { path: "$.errors[1]" });
  const sparse: unknown[] = [];
  sparse[5] = { bad: Symbol() };
  expectCodecError(() => encode(sparse), { path: "$[5].bad" });
  expectCodecError(() => encode(Object.assign([], { extra: () => 1 })), { path: "$.extra" });
  expectCodecError(
    () => encode(new Map<number, object>([[1, new Number(1)], [2, new WeakSet()]])),
    {
      path: "$<map value 1>",
      kind: "WeakSet",
    },
  );
  assert.equal(
    formatPath(["a", 3, "b", { collection: "Map", part: "key", entry: 2 }, "$x", "1a"]),
    '$.a[3].b<map key 2>.$x["1a"]',
  );
});

Deno.test("a result that cannot be encoded is advised to return data, not to send or pass it", () => {
  class Point {
    constructor(public x: number, public y: number) {}
  }
  class MyMap extends Map {}
  const cases: [unknown, string, RegExp][] = [
    [
      () => 1,
      "function",
      /^Cannot encode a function at \$\.x: functions cannot cross between processes; return data instead, such as what the function would compute$/,
    ],
    [
      new Point(1, 2),
      "class Point",
      /^Cannot encode an instance of class Point at \$\.x: its prototype would be lost on the way back; return a plain object \(for example \{ \.\.\.value \}\) or only the fields you need$/,
    ],
    [
      new MyMap(),
      "class MyMap",
      /its own prototype would be lost on the way back; return a plain Map instead$/,
    ],
    [Promise.resolve(1), "Promise", /await it and return its value$/],
    [new Blob(["x"]), "Blob", /return await blob\.bytes\(\) instead$/],
    [
      new Response("x"),
      "class Response",
      /^Cannot encode an instance of class Response at \$\.x: its prototype would be lost on the way back, and its data is not in fields of its own \(\{ \.\.\.value \} would be empty\); return await response\.text\(\), \.json\(\) or \.bytes\(\) \(and the status or headers you need\) instead$/,
    ],
  ];
  for (const [value, kind, message] of cases) {
    const { record } = encodeRecord({
      version: 1,
      status: "ok",
      index: 0,
      attempt: 1,
      jobId: "j",
      endedAt: 0,
      value: { x: value },
    });
    assert.equal(record.status, "error");
    const error = (record as { error: { message: string; kind?: string } }).error;
    assert.match(error.message, message, kind);
    assert.doesNotMatch(error.message, /send data|on the worker|pass /, kind);
  }
});

Deno.test("class instances, weak collections, promises and shared memory are rejected", () => {
  class Point {
    constructor(public x: number, public y: number) {}
  }
  expectCodecError(() => encode({ p: new Point(1, 2) }), {
    path: "$.p",
    kind: "class Point",
    message:
      /Cannot encode an instance of class Point at \$\.p: its prototype would be lost on the worker; convert it to a plain object/,
  });
  const anonymousProto = Object.create({ inherited: 1 });
  expectCodecError(() => encode([anonymousProto]), {
    path: "$[0]",
    kind: "object with a custom prototype",
  });
  class MyMap extends Map {}
  expectCodecError(() => encode({ m: new MyMap() }), {
    kind: "class MyMap",
    message:
      /it extends Map but its own prototype would be lost on the worker; convert it to a plain Map first/,
  });
  class Bytes extends Uint8Array {}
  expectCodecError(() => encode(new Bytes(2)), { message: /extends Uint8Array/ });
  class MyList extends Array {}
  expectCodecError(() => encode(new MyList()), { kind: "class MyList" });
  const cases: [unknown, string, RegExp][] = [
    [new WeakMap(), "WeakMap", /use a Map instead/],
    [new WeakSet(), "WeakSet", /use a Set instead/],
    [new WeakRef({}), "WeakRef", /pass the referenced value itself/],
    [new FinalizationRegistry(() => {}), "FinalizationRegistry", /remove it/],
    [Promise.resolve(1), "Promise", /await it and pass the result/],
    [new SharedArrayBuffer(4), "SharedArrayBuffer", /shared memory cannot cross/],
    [new Int32Array(new SharedArrayBuffer(8)), "Int32Array", /over a SharedArrayBuffer/],
    [new Blob(["x"]), "Blob", /pass await blob\.bytes\(\) instead/],
    [new File(["x"], "f.txt"), "File", /pass await file\.bytes\(\) instead/],
    // Their data is in no fields of their own: { ...value } would be empty, so it is not advised.
    [
      new URL("https://example.com/"),
      "class URL",
      /^Cannot encode an instance of class URL at \$\.x\[0\]: its prototype would be lost on the worker, and its data is not in fields of its own \(\{ \.\.\.value \} would be empty\); pass url\.href instead$/,
    ],
    [new Headers(), "class Headers", /; pass Object\.fromEntries\(headers\) instead$/],
    [
      (function* () {})(),
      "class Generator",
      /; pass the values you need of it as plain data instead$/,
    ],
  ];
  for (const [value, kind, message] of cases) {
    expectCodecError(() => encode({ x: [value] }), { path: "$.x[0]", kind, message });
  }
  const buffer = new ArrayBuffer(8);
  structuredClone(buffer, { transfer: [buffer] });
  expectCodecError(() => encode({ b: buffer }), {
    path: "$.b",
    kind: "detached ArrayBuffer",
    message: /was transferred and has no bytes/,
  });
});

Deno.test("a throwing getter gives a CodecError with its path and cause", () => {
  const boom = new Error("nope");
  const value = {
    ok: 1,
    list: [{
      get bad(): number {
        throw boom;
      },
    }],
  };
  const e = expectCodecError(() => encode(value), {
    path: "$.list[0].bad",
    kind: "property",
    message: /its getter threw Error: nope; make it a plain data property/,
  });
  assert.equal(e.cause, boom);
  const badError = new Error("x");
  Object.defineProperty(badError, "message", {
    get() {
      throw "no";
    },
  });
  expectCodecError(() => encode({ e: badError }), { path: "$.e.message", kind: "property" });
  const proxy = new Proxy({}, {
    getPrototypeOf() {
      throw new TypeError("trap");
    },
  });
  expectCodecError(() => encode({ p: proxy }), { path: "$.p", message: /TypeError: trap/ });
});

// ---------------------------------------------------------------------------
// encodeItems.

Deno.test("encodeItems encodes each item on its own, and names the bad item's index", () => {
  const items = [1, "two", { three: [3] }, new Map([[4, 4]]), undefined, "\u{1f600}é"];
  const chunks = encodeItems(items);
  assert.equal(chunks.length, items.length);
  chunks.forEach((chunk, i) => {
    assert.ok(chunk instanceof Uint8Array);
    assert.equal(new TextDecoder().decode(chunk), encodeToString(items[i]));
    assertIsomorphic(decode(chunk), items[i]);
  });
  assert.deepEqual(encodeItems([]), []);

  const e = expectCodecError(
    () => encodeItems([1, 2, 3, { cb: () => 1 }, { s: Symbol() }]),
    { path: "$.cb", kind: "function" },
  );
  assert.equal(e.index, 3);
  assert.match(e.message, /^Item 3: Cannot encode a function at \$\.cb: functions cannot cross/);
  assert.equal(e.failures, undefined);
});

Deno.test("encodeItems with allErrors lists every bad item", () => {
  const items = [0, () => 1, 2, { s: Symbol() }, 4, [new WeakMap()], new Promise(() => {}), 7];
  const e = expectCodecError(() => encodeItems(items, { allErrors: true }), {
    message:
      /^Items 1, 3, 5 and 6 cannot be encoded \(4 of 8\): Item 1: .*; Item 3: .*; Item 5: .*; and 1 more$/,
  });
  assert.equal(e.index, 1);
  assert.deepEqual(e.failures!.map((f) => f.index), [1, 3, 5, 6]);
  assert.deepEqual(e.failures!.map((f) => f.pathText), ["$", "$.s", "$[0]", "$"]);
  const one = expectCodecError(() => encodeItems([1, () => 1], { allErrors: true }), {
    message: /^Item 1: /,
  });
  assert.equal(one.index, 1);
});

Deno.test("encodeItems takes any iterable and reports a throwing iterator", () => {
  function* generate() {
    yield { a: 1 };
    yield new Set([2]);
  }
  assertIsomorphic(encodeItems(generate()).map((c) => decode(c)), [{ a: 1 }, new Set([2])]);
  function* failing() {
    yield 1;
    throw new Error("source broke");
  }
  const e = expectCodecError(() => encodeItems(failing()), {
    message: /^Cannot read item 1 of the inputs: the iterator threw Error: source broke/,
  });
  assert.equal(e.index, 1);
  expectCodecError(() => encodeItems(42 as unknown as unknown[]), { message: /not iterable/ });
});

Deno.test("encodeItems chunks have exact byte boundaries across batches and scripts", () => {
  const items: unknown[] = [];
  for (let i = 0; i < 3000; i++) {
    const text = i % 3 === 0 ? "ascii" : i % 3 === 1 ? "é☃" : "\u{1f600}\u{10ffff}";
    items.push({ i, text: text.repeat(1 + (i % 400)) });
  }
  items.push(
    { "clé": 1, "ключ": [2] },
    /é+/u,
    new Error("ü"),
    new Map([["ß", new Set(["∑"])]]),
    Object.assign([, "x"], { "ñ": 1 }),
  );
  const chunks = encodeItems(items);
  const total = chunks.reduce((n, c) => n + c.length, 0);
  assert.ok(total > 2 * (1 << 20), "the items span several batches");
  chunks.forEach((chunk, i) => {
    assert.deepEqual(chunk, new TextEncoder().encode(encodeToString(items[i])));
  });
});

Deno.test("5,000 small items encode and decode (no timing assertion)", () => {
  const items = Array.from({ length: 5000 }, (_, i) => ({ i, name: `n${i}`, tags: ["a"] }));
  const chunks = encodeItems(items);
  const out = chunks.map((c) => decode(c));
  assert.deepEqual(out, items);
});

Deno.test("text holding U+FFFD decodes as it was; bytes that are not UTF-8 beside it are refused", () => {
  const value = { s: "a\uFFFDb", bytes: new Uint8Array([1]) };
  assert.deepEqual(decode(encode("a\uFFFDb")), "a\uFFFDb");
  assert.deepEqual(decode(encode(value)), value);
  // A byte that is not UTF-8 next to a real U+FFFD (EF BF BD), in a text document and in a binary one's JSON.
  const text = new TextEncoder().encode('{"ck":1,"v":"\uFFFD?"}');
  text[text.length - 3] = 0xff;
  assert.throws(() => decode(text), /not valid UTF-8/);
  const binary = encode(value);
  const at = binary.indexOf(0xbd) + 1;
  binary[at] = 0xff;
  assert.throws(() => decode(binary), /its JSON part is not UTF-8/);
});

// ---------------------------------------------------------------------------
// Malformed input.

Deno.test("malformed input gives a typed decode error, never a crash", () => {
  const bad: [unknown, RegExp][] = [
    [new Uint8Array([0xff, 0xfe, 0x00]), /not valid UTF-8/],
    ["", /not JSON/],
    ["{", /not JSON/],
    ["[1,2]", /not a cloudknot codec document \(no "ck" marker\)/],
    ['{"v":1}', /no "ck" marker/],
    ['{"ck":2,"v":1}', /codec version 2 but this cloudknot reads version 1/],
    ['{"ck":"1","v":1}', /codec version "1"/],
    ['{"ck":1}', /no "v" value/],
    [42, /Cannot decode a number/],
    [null, /Cannot decode a null/],
    ['{"ck":1,"v":{"$":"nope"}}', /the tag "nope" is unknown/],
    ['{"ck":1,"v":{"$":7}}', /the tag 7 is unknown/],
    ['{"ck":1,"v":{"$":"bigint","v":"12x"}}', /decimal digits/],
    ['{"ck":1,"v":{"$":"bigint","v":12}}', /must be a string/],
    ['{"ck":1,"v":{"$":"ref","id":0}}', /the ref to id 0 comes before the object/],
    ['{"ck":1,"v":{"$":"ref","id":-1}}', /integer from 0/],
    ['{"ck":1,"v":[{"$id":0},{"$id":0}]}', /the \$id 0 is used twice/],
    ['{"ck":1,"v":{"$x":1}}', /the key "\$x" is neither "\$id" nor escaped as "\$\$x"/],
    ['{"ck":1,"v":{"$id":"a"}}', /\$id must be an integer/],
    ['{"ck":1,"v":{"$":"Map","entries":[[1]]}}', /\[key, value\] pair/],
    ['{"ck":1,"v":{"$":"Map","entries":{}}}', /entries must be an array/],
    ['{"ck":1,"v":{"$":"Set"}}', /values must be an array/],
    ['{"ck":1,"v":{"$":"Date","v":"x"}}', /a Date's v must be a number/],
    ['{"ck":1,"v":{"$":"RegExp","source":"(","flags":""}}', /is invalid/],
    ['{"ck":1,"v":{"$":"RegExp","source":"a","flags":"zz"}}', /is invalid/],
    ['{"ck":1,"v":{"$":"Boxed","v":null}}', /Boxed node's v/],
    ['{"ck":1,"v":{"$":"ArrayBuffer","base64":"###"}}', /base64 is invalid/],
    ['{"ck":1,"v":{"$":"ArrayBuffer","base64":"AA==","maxByteLength":0}}', /smaller/],
    ['{"ck":1,"v":{"$":"Uint8Array","buffer":1,"byteOffset":0,"length":1}}', /ArrayBuffer/],
    [
      '{"ck":1,"v":{"$":"Uint8Array","buffer":{"$":"ArrayBuffer","base64":"AA=="},"byteOffset":0,"length":9}}',
      /does not fit its buffer/,
    ],
    [
      '{"ck":1,"v":{"$":"Float64Array","buffer":{"$":"ArrayBuffer","base64":"AAAAAAAAAAAAAAAA"},"byteOffset":1,"length":1}}',
      /does not fit its buffer/,
    ],
    [
      '{"ck":1,"v":{"$":"DataView","buffer":{"$":"ArrayBuffer","base64":""},"byteOffset":0}}',
      /byteLength must be an integer/,
    ],
    ['{"ck":1,"v":{"$":"Array","length":-1,"entries":[]}}', /length must be an integer/],
    ['{"ck":1,"v":{"$":"Array","length":2,"entries":[[5,1]]}}', /index must be an integer/],
    ['{"ck":1,"v":{"$":"Array","items":[],"props":{"length":1}}}', /cannot hold the key/],
    ['{"ck":1,"v":{"$":"Array","items":[],"props":[]}}', /props must be a plain JSON object/],
    ['{"ck":1,"v":{"$":"Error"}}', /an Error's name must be a string/],
    ['{"ck":1,"v":{"$":"Error","name":"E","message":5}}', /message must be a string/],
  ];
  for (const [input, message] of bad) {
    const e = expectCodecError(() => decode(input as string), { operation: "decode", message });
    assert.match(e.message, /^Cannot decode/);
  }
  const nested = expectCodecError(
    () => decode('{"ck":1,"v":{"a":[1,{"b":new Map()}]}}'),
    { message: /not JSON/ },
  );
  assert.equal(nested.kind, "malformed data");
  expectCodecError(
    () => decode('{"ck":1,"v":{"a":[1,{"m":{"$":"Map","entries":[[1,{"$":"?"}]]}}]}}'),
    {
      path: "$.a[1].m<map value 0>",
      message: /^Cannot decode the value at \$\.a\[1\]\.m<map value 0>: the tag "\?" is unknown/,
    },
  );
});

Deno.test("every byte flip of a document decodes or fails with a CodecError", () => {
  const shared = { s: 1 };
  const text = encodeToString({
    a: [shared, shared, new Map([[1, new Set([2])]])],
    d: new Date(0),
    b: new Uint8Array([1, 2]),
    e: new TypeError("x", { cause: 1n }),
  });
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i++) {
    for (const flip of [0x01, 0x20, 0x80]) {
      const copy = bytes.slice();
      copy[i]! ^= flip;
      try {
        decode(copy);
      } catch (e) {
        if (!(e instanceof CodecError)) throw new Error(`byte ${i}: ${e}`);
      }
    }
  }
});

// ---------------------------------------------------------------------------
// The documented format, written by hand.

Deno.test("a hand-written document in the documented format decodes as described", async () => {
  const text = await Deno.readTextFile(new URL("./fixtures/codec_v1.json", import.meta.url));
  const out = decode(text) as Any;
  assert.equal(JSON.parse(text).ck, CODEC_VERSION);

  const key = { k: 1 };
  const buffer = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]).buffer;
  const holes: unknown[] = [];
  holes.length = 4;
  holes[1] = "one";
  holes[3] = undefined;
  (holes as Any).label = "sparse";
  const inner = new RangeError("inner");
  delete (inner as Any).stack;
  const failure = Object.assign(new TypeError("404", { cause: inner }), {
    code: "E_HTTP",
    status: 404,
  });
  Object.defineProperty(failure, "name", { value: "HttpError", writable: true });
  failure.stack = "HttpError: 404\n    at remote (job.ts:1:1)";
  const a = new Error("a");
  delete (a as Any).stack;
  const many = new AggregateError([a, "not an error"], "two");
  delete (many as Any).stack;
  const shared = [1, 2];
  const expected: Any = {
    text: 'h\u00e9llo \u2603 \u{1f600} "quoted"',
    int: 42,
    float: -1.5,
    big: -123456789012345678901234567890n,
    specials: [NaN, Infinity, -Infinity, -0, undefined, null, true],
    $: "a key that is one dollar sign",
    $id: "a key named $id",
    $$x: "a key named $$x",
  };
  Object.defineProperty(expected, "__proto__", {
    value: { polluted: true },
    enumerable: true,
    writable: true,
    configurable: true,
  });
  Object.assign(expected, {
    holes,
    when: new Date(86400000),
    never: new Date(NaN),
    pattern: /^a+\/b$/giu,
    boxed: [new String("s"), new Number(-0), new Boolean(false), Object(7n)],
    lookup: new Map<unknown, unknown>([[key, "object key"], [NaN, "NaN key"], ["self", expected]]),
    keyAgain: key,
    tags: new Set(["a", key, 3]),
    bytes: new Uint8Array(buffer, 2, 4),
    words: new Uint16Array(buffer, 4, 2),
    view: new DataView(buffer, 0, 8),
    growable: new ArrayBuffer(0, { maxByteLength: 64 }),
    shared,
    sharedAgain: shared,
    failure,
    many,
    7: "an index-like key, listed first by JavaScript",
  });
  assertIsomorphic(out, expected);
  assert.equal(out.lookup.get("self"), out);
  assert.equal([...out.lookup.keys()][0], out.keyAgain);
  assert.equal(out.bytes.buffer, out.view.buffer);
  assert.equal(out.words[0], 0x0504, "little-endian");
  assert.ok(out.failure instanceof TypeError);
  assert.equal(({} as Any).polluted, undefined);
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  // Re-encoding what the hand-written document describes decodes to the same value.
  assertIsomorphic(decode(encode(out)), expected);
});

Deno.test("a value too large for one JSON text is told apart as an input, to split into smaller items, and as a result, to return less", () => {
  const failure = () => fromThrown(new RangeError("Invalid string length"));
  assert.equal(
    toCodecError(failure(), "encode", "input").message,
    "Cannot encode the value at $: it is too large for one JSON text; split it into smaller items",
  );
  assert.equal(
    toCodecError(failure(), "encode", "result").message,
    "Cannot encode the value at $: it is too large for one JSON text; return less (write the " +
      "rest to a file or a store, and return where it is)",
  );
});
