/**
 * The job codec: how every map() input item travels to the worker (a local
 * Deno process or a container on AWS Batch) and how every result comes back.
 *
 * The encoding is UTF-8 JSON text, not V8 serialization, so the client and
 * the worker may run different Deno versions (or a different language), and a
 * payload can be read with `jq` or a text editor. Encoding is deterministic:
 * the same value gives the same bytes.
 *
 * ## What can be carried
 *
 * What `structuredClone` can copy comes back as `structuredClone` would
 * return it (the differences are listed below):
 *
 * - `string`, finite numbers, `boolean`, `null`, `undefined` (also inside
 *   objects, arrays and Maps), `NaN`, `Infinity`, `-Infinity`, `-0`, `bigint`;
 * - plain objects (prototype `Object.prototype` or `null`; both decode as
 *   ordinary objects), with key order kept, including keys such as
 *   `"__proto__"` (restored as an own property, never as a prototype);
 * - arrays, including holes (sparse arrays stay sparse) and extra
 *   non-index properties;
 * - `Map` and `Set` with keys and items of any supported kind, in insertion
 *   order;
 * - `Date` (an invalid date stays invalid), `RegExp` (source and flags;
 *   `lastIndex` is reset);
 * - `ArrayBuffer` (resizable ones stay resizable), every typed array
 *   (`Int8Array` … `BigUint64Array`, `Float16Array` where the runtime has it,
 *   `Uint8ClampedArray`) and `DataView`, with their offsets and lengths. Views
 *   that share one buffer still share one buffer after decoding; a view always
 *   carries its whole buffer. A view that tracks the length of a resizable
 *   buffer comes back with a fixed length;
 * - boxed primitives (`new Number(1)`, `new String("a")`, `new Boolean(false)`,
 *   `Object(1n)`);
 * - errors: `name`, `message`, `stack` (the remote stack), `cause`, `errors`
 *   of an `AggregateError`, and own enumerable properties such as `code`. An
 *   error decodes as the nearest built-in class it derives from (`Error`,
 *   `TypeError`, `RangeError`, `SyntaxError`, `ReferenceError`, `EvalError`,
 *   `URIError`, `AggregateError`, `DOMException`) with its own `name` kept, so
 *   `class HttpError extends Error` arrives as an `Error` whose `name` is
 *   `"HttpError"`;
 * - shared references and cycles among objects, arrays, Maps, Sets, errors,
 *   buffers and every other object kind above: what was one object is one
 *   object after decoding.
 *
 * Like `structuredClone`, the codec reads own enumerable string-keyed
 * properties through `[[Get]]`, so accessor properties (getters) are invoked
 * and their current value is carried as a data property; a getter that
 * throws fails the encoding with a {@linkcode CodecError}. Non-enumerable
 * properties are dropped, and so are extra properties put on a Map, Set,
 * Date, RegExp, boxed primitive, buffer or view. Values nested deeper than
 * `maxDepth` (1,000 by default) are rejected.
 *
 * Where the codec differs from `structuredClone`: errors keep more (own
 * properties such as `code`, an `AggregateError`'s `errors`, custom names and
 * the nearest built-in class; `structuredClone` makes them plain `Error`s);
 * instances of subclasses of built-ins (`class MyMap extends Map`) are
 * rejected instead of quietly losing their prototype; a Proxy is read like
 * the object it presents instead of being refused; and the runtime's own
 * symbol-keyed fields of a `DOMException` are left out.
 *
 * ## What is rejected
 *
 * Encoding throws a {@linkcode CodecError} that names the path inside the
 * value (such as `$.a[3].b`, `$.m<map value 2>`), the kind of value and what
 * to do, for:
 *
 * - functions and classes; symbols as values; enumerable symbol-keyed
 *   properties (they are never dropped silently);
 * - instances of classes other than the built-ins above, including
 *   subclasses of `Map`, `Array`, `Uint8Array` (such as Node's `Buffer`) and so
 *   on: their prototype would be lost on the worker. Convert them to plain
 *   data first;
 * - `WeakMap`, `WeakSet`, `WeakRef`, `FinalizationRegistry`, `Promise`,
 *   `SharedArrayBuffer` (and views on one), detached `ArrayBuffer`s, and
 *   `Blob`/`File` (their bytes can only be read asynchronously: pass
 *   `await blob.bytes()` instead).
 *
 * ## The format (version 1)
 *
 * A document is the UTF-8 text of one JSON object `{"ck":1,"v":NODE}`: `ck`
 * is the codec version ({@linkcode CODEC_VERSION}) and `v` the value. Its
 * content type is {@linkcode CODEC_CONTENT_TYPE}. A NODE is:
 *
 * - a JSON string, `true`, `false`, `null` or number: itself (never `-0`, which
 *   is written as a tag);
 * - a JSON array: an array without holes or extra properties, of NODEs;
 * - a JSON object without a `"$"` key: a plain object. Each of its keys that
 *   starts with `$` is escaped with one more `$` (`"$"` is written `"$$"`,
 *   `"$ref"` is written `"$$ref"`). The unescaped key `"$id"` is not a
 *   property but the object's id (below); any other key that starts with a
 *   single `$` is invalid;
 * - a JSON object with a `"$"` key: a tagged node, one of
 *
 * | Node | Value |
 * | --- | --- |
 * | `{"$":"undefined"}` | `undefined` |
 * | `{"$":"NaN"}`, `{"$":"Infinity"}`, `{"$":"-Infinity"}`, `{"$":"-0"}` | those numbers |
 * | `{"$":"bigint","v":"-12"}` | a bigint, in decimal |
 * | `{"$":"ref","id":3}` | the object whose `$id` is 3 (the same object, not a copy) |
 * | `{"$":"Array","items":[NODE…]}` | an array without holes |
 * | `{"$":"Array","length":5,"entries":[[0,NODE],[3,NODE]…]}` | an array with holes: only the listed indices exist |
 * | `{"$":"Map","entries":[[KEY,VALUE]…]}` | a Map, in insertion order |
 * | `{"$":"Set","values":[NODE…]}` | a Set, in insertion order |
 * | `{"$":"Date","v":1700000000000}` | a Date, in ms since the epoch; `null` for an invalid date |
 * | `{"$":"RegExp","source":"a+b","flags":"gi"}` | a RegExp |
 * | `{"$":"Boxed","v":NODE}` | a boxed string, number, boolean or bigint; `v` is the primitive |
 * | `{"$":"ArrayBuffer","base64":"AAEC","maxByteLength":16}` | an ArrayBuffer: its bytes in standard base64 with padding; `maxByteLength` only when resizable |
 * | `{"$":"Uint8Array","buffer":NODE,"byteOffset":0,"length":3}` | a typed array (any typed array class name) over the ArrayBuffer NODE, in the platform's byte order (little-endian everywhere Deno runs) |
 * | `{"$":"DataView","buffer":NODE,"byteOffset":0,"byteLength":3}` | a DataView |
 * | `{"$":"Error","name":"TypeError","message":"…","stack":"…","cause":NODE,"errors":NODE,"props":OBJECT}` | an error; only `name` is required |
 *
 * An `Array` node may also have `"props"`, a plain-object NODE with its
 * non-index properties. An `Error` node may have `"type"`, the built-in class
 * to construct (such as `"TypeError"` or `"DOMException"`) when `name` alone
 * does not say it: without `type`, a built-in error name picks its class and
 * any other name gives an `Error`. Its `props` are its other own enumerable
 * properties, such as `code`.
 *
 * **Shared references.** Any node that makes an object (a plain object or a
 * tagged node other than `undefined`, the special numbers, `bigint` and
 * `ref`) may carry `"$id"`: a non-negative integer, unique in the document.
 * An array that is shared is written as an `Array` node so it can carry one.
 * A `ref` node stands for the object with that id and must come after it in
 * reading order: depth first, object keys in the order JavaScript lists them
 * (keys that are array indices such as `"7"` first, ascending, then the rest
 * in document order) and tagged fields in this order: `buffer`; `items` or
 * `entries` (each key before its value) or `values`; `v`; `cause`, `errors`,
 * `props`. An object may contain a ref to itself or its ancestors (a cycle).
 * Writers that never share objects never need ids. This encoder writes
 * `$id` as the first key of the object and numbers the ids in the order the
 * sharing is discovered; readers must accept `$id` at any position.
 *
 * An example: `{ when: new Date(0), tags: new Set(["a"]), n: -0, $x: 1n }`
 * with `v.self = v` encodes as
 *
 * ```json
 * {"ck":1,"v":{"$id":0,"when":{"$":"Date","v":0},"tags":{"$":"Set","values":["a"]},
 *  "n":{"$":"-0"},"$$x":{"$":"bigint","v":"1"},"self":{"$":"ref","id":0}}}
 * ```
 *
 * @example Usage
 * ```ts
 * import { decode, encode } from "@cloudknot/cloudknot";
 * import assert from "node:assert/strict";
 *
 * const value = { when: new Date(0), tags: new Set(["a", "b"]), big: 2n ** 70n };
 * assert.deepEqual(decode(encode(value)), value);
 * ```
 *
 * @module
 */

import { CloudknotInputError } from "../util/errors.ts";
import { CodecError, formatPath, type PathSegment } from "./codec_error.ts";

/**
 * The version of the encoding that {@linkcode encode} writes; it is the `ck`
 * field of every document. {@linkcode decode} reads this version only.
 *
 * @example Usage
 * ```ts
 * import { CODEC_VERSION, encodeToString } from "@cloudknot/cloudknot";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(JSON.parse(encodeToString(1)).ck, CODEC_VERSION);
 * ```
 */
export const CODEC_VERSION = 1;

/**
 * The media type of an encoded document, for example as the `Content-Type`
 * of a stored object.
 *
 * @example Usage
 * ```ts
 * import { CODEC_CONTENT_TYPE } from "@cloudknot/cloudknot";
 *
 * console.log(CODEC_CONTENT_TYPE); // "application/vnd.cloudknot.value.v1+json"
 * ```
 */
export const CODEC_CONTENT_TYPE = "application/vnd.cloudknot.value.v1+json";

/** The default of {@linkcode EncodeOptions.maxDepth}. */
const DEFAULT_MAX_DEPTH = 1000;

/** Options for {@linkcode encode} and {@linkcode encodeToString}. */
export interface EncodeOptions {
  /**
   * How deeply objects may nest before the value is rejected, which keeps a
   * very deep value (a long linked list) from overflowing the stack.
   *
   * @default {1000}
   */
  maxDepth?: number;
}

/** Options for {@linkcode encodeItems}. */
export interface EncodeItemsOptions extends EncodeOptions {
  /**
   * Check every item and report all bad ones (in
   * {@linkcode CodecError.failures}) instead of stopping at the first.
   *
   * @default {false}
   */
  allErrors?: boolean;
}

// ---------------------------------------------------------------------------
// Failures inside the walk. The walkers throw a Failure at the bad value; each
// frame on the way out adds its step, so the happy path pays nothing for paths.

class Failure {
  /** Steps from the bad value outwards (reversed at the end). */
  readonly steps: PathSegment[] = [];
  constructor(
    readonly kind: string,
    readonly explain: (at: string) => string,
    readonly cause?: unknown,
  ) {}
}

function step(e: unknown, segment: PathSegment, mode: "read" | "encode" | "decode"): Failure {
  let failure: Failure;
  if (e instanceof Failure) failure = e;
  else if (mode === "read") {
    failure = new Failure(
      "property",
      (at) =>
        `Cannot read the property at ${at}: its getter threw ${
          describeThrown(e)
        }; make it a plain data property`,
      e,
    );
  } else failure = fromThrown(e, mode);
  failure.steps.push(segment);
  return failure;
}

function fromThrown(e: unknown, operation: "encode" | "decode" = "encode"): Failure {
  if (e instanceof Failure) return e;
  if (e instanceof RangeError && e.message === "Invalid string length") {
    return new Failure(
      "large value",
      (at) =>
        `Cannot encode the value at ${at}: it is too large for one JSON text; split it into smaller items`,
      e,
    );
  }
  // Near the stack limit even a regular expression fails, so compare plainly.
  if (e instanceof RangeError && e.message === "Maximum call stack size exceeded") {
    return new Failure(
      "deep value",
      (at) => `Cannot handle the value at ${at}: it is nested too deeply for the stack; flatten it`,
      e,
    );
  }
  if (operation === "decode") {
    return new Failure(
      "malformed data",
      (at) =>
        `Cannot decode the value at ${at}: decoding threw ${
          describeThrown(e)
        }; the data is corrupt`,
      e,
    );
  }
  return new Failure(
    "value",
    (at) =>
      `Cannot read the value at ${at}: reading it threw ${
        describeThrown(e)
      }; pass plain data instead`,
    e,
  );
}

function toCodecError(failure: Failure, operation: "encode" | "decode"): CodecError {
  const path = failure.steps.slice().reverse();
  return new CodecError(failure.explain(formatPath(path, { maxSteps: 40 })), {
    operation,
    path,
    kind: failure.kind,
    cause: failure.cause,
  });
}

function describeThrown(e: unknown): string {
  try {
    if (e instanceof Error) return `${e.name}: ${e.message}`;
    return typeof e === "string" ? JSON.stringify(e) : String(e);
  } catch {
    return "a value that cannot be shown";
  }
}

// ---------------------------------------------------------------------------
// Shared tables.

// deno-lint-ignore no-explicit-any
type Slot = Record<string | number, any>;

const TYPED_ARRAYS: Record<string, ArrayBufferViewConstructor> = {};
type ArrayBufferViewConstructor = new (
  buffer: ArrayBuffer,
  byteOffset: number,
  length: number,
) => ArrayBufferView;
for (
  const name of [
    "Int8Array",
    "Uint8Array",
    "Uint8ClampedArray",
    "Int16Array",
    "Uint16Array",
    "Int32Array",
    "Uint32Array",
    "Float16Array",
    "Float32Array",
    "Float64Array",
    "BigInt64Array",
    "BigUint64Array",
  ]
) {
  const ctor = (globalThis as Slot)[name];
  if (typeof ctor === "function") TYPED_ARRAYS[name] = ctor;
}

const Kind = {
  Plain: 0,
  Array: 1,
  Map: 2,
  Set: 3,
  Date: 4,
  RegExp: 5,
  Boxed: 6,
  ArrayBuffer: 7,
  TypedArray: 8,
  DataView: 9,
} as const;

const KINDS = new Map<object, number>([
  [Array.prototype, Kind.Array],
  [Map.prototype, Kind.Map],
  [Set.prototype, Kind.Set],
  [Date.prototype, Kind.Date],
  [RegExp.prototype, Kind.RegExp],
  [Number.prototype, Kind.Boxed],
  [String.prototype, Kind.Boxed],
  [Boolean.prototype, Kind.Boxed],
  [BigInt.prototype, Kind.Boxed],
  [ArrayBuffer.prototype, Kind.ArrayBuffer],
  [DataView.prototype, Kind.DataView],
]);
for (const ctor of Object.values(TYPED_ARRAYS)) KINDS.set(ctor.prototype, Kind.TypedArray);

const ERROR_TYPES: Record<string, new (message?: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Objects the codec refuses, with what to do instead. */
const REFUSED: [string, string][] = [
  ["WeakMap", "its entries cannot be read; use a Map instead"],
  ["WeakSet", "its items cannot be read; use a Set instead"],
  ["WeakRef", "it cannot cross to the worker; pass the referenced value itself"],
  ["FinalizationRegistry", "it cannot cross to the worker; remove it from the input"],
  ["Promise", "its value is not known yet; await it and pass the result"],
  ["Symbol", "a symbol is unique to one process; use a string instead"],
  [
    "SharedArrayBuffer",
    "shared memory cannot cross to the worker; copy it with new Uint8Array(shared).slice()",
  ],
  ["Blob", "its bytes can only be read asynchronously; pass await blob.bytes() instead"],
  ["File", "its bytes can only be read asynchronously; pass await file.bytes() instead"],
];
const REFUSED_PROTOS = new Map<object, [string, string]>();
for (const [name, advice] of REFUSED) {
  const ctor = (globalThis as Slot)[name];
  if (typeof ctor === "function") REFUSED_PROTOS.set(ctor.prototype, [name, advice]);
}

function setKey(target: Slot, key: string | number, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else target[key] = value;
}

function className(value: object): string {
  try {
    const proto = Object.getPrototypeOf(value);
    const ctor = proto && Object.getOwnPropertyDescriptor(proto, "constructor")?.value;
    if (typeof ctor === "function" && ctor.name) return ctor.name;
    const tag = Object.prototype.toString.call(value).slice(8, -1);
    if (tag && tag !== "Object") return tag;
  } catch {
    // A Proxy or an odd prototype: fall through.
  }
  return "";
}

/** The nearest supported built-in class a rejected instance derives from, if any. */
function builtinBase(value: object): string | undefined {
  let proto: object | null = Object.getPrototypeOf(value);
  while (proto !== null) {
    if (KINDS.has(proto)) {
      const ctor = Object.getOwnPropertyDescriptor(proto, "constructor")?.value;
      return typeof ctor === "function" ? ctor.name : undefined;
    }
    proto = Object.getPrototypeOf(proto);
  }
  return undefined;
}

function isError(value: object): value is Error {
  const isErrorFn = (Error as unknown as { isError?: (v: unknown) => boolean }).isError;
  return value instanceof Error || (isErrorFn !== undefined && isErrorFn(value));
}

function errorType(value: Error): string {
  const dom = (globalThis as Slot).DOMException;
  if (typeof dom === "function" && value instanceof dom) return "DOMException";
  if (value instanceof AggregateError) return "AggregateError";
  let proto: object | null = Object.getPrototypeOf(value);
  while (proto !== null) {
    const ctor = Object.getOwnPropertyDescriptor(proto, "constructor")?.value;
    if (typeof ctor === "function" && ERROR_TYPES[ctor.name] === ctor) return ctor.name;
    proto = Object.getPrototypeOf(proto);
  }
  return "Error";
}

function defaultErrorType(name: string): string {
  return name in ERROR_TYPES || name === "AggregateError" ? name : "Error";
}

// ---------------------------------------------------------------------------
// base64, with the Uint8Array methods where the runtime has them.

const fromBase64 = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array })
  .fromBase64;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function toBase64(bytes: Uint8Array): string {
  const native = (bytes as unknown as { toBase64?: () => string }).toBase64;
  if (typeof native === "function") return native.call(bytes);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function base64ToBytes(text: string): Uint8Array {
  if (!BASE64.test(text)) throw new Error("not standard padded base64");
  if (fromBase64 !== undefined) return fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// ---------------------------------------------------------------------------
// Encoding.

function failure(kind: string, explain: (at: string) => string): Failure {
  return new Failure(kind, explain);
}

function numberText(value: number): string {
  if (value === 0) return 1 / value < 0 ? '{"$":"-0"}' : "0";
  if (value - value === 0) return "" + value;
  return value !== value ? '{"$":"NaN"}' : value > 0 ? '{"$":"Infinity"}' : '{"$":"-Infinity"}';
}

/** Quoted (and escaped) ASCII keys, since the same keys recur in every item. */
const keyTexts = new Map<string, string>();

const NON_ASCII = /[\u0080-\uffff]/;

const FUNCTION_FAILURE = (at: string) =>
  `Cannot encode a function at ${at}: functions cannot cross to the worker; pass data and do the work inside the job function`;
const SYMBOL_FAILURE = (at: string) =>
  `Cannot encode a symbol at ${at}: a symbol is unique to one process; use a string instead`;

/** Up to this many objects in one value are found by a linear search. */
const SMALL = 16;
const EMPTY = {};

/**
 * Writes the JSON text directly, reading every property once. Objects are
 * remembered by the index of their first character; when one turns out to be
 * shared, `$id` labels are inserted into the text at the end.
 */
class Encoder {
  maxDepth = DEFAULT_MAX_DEPTH;
  #out = "";
  /** Whether #out is ASCII only, so its UTF-8 length is its length. */
  ascii = true;
  #depth = 0;
  /**
   * Each object seen so far, in the order seen. Small values are searched
   * linearly; past SMALL objects, #seen indexes them.
   */
  #objects: object[] = [];
  #count = 0;
  #seen = new Map<object, number>();
  /** For each object in #objects: where it starts and ends in #out. */
  #opens: number[] = [];
  #closes: number[] = [];
  #arrays: boolean[] = [];
  /** Objects that are shared, by their index in #objects. */
  #ids = new Map<number, number>();

  reset(): void {
    this.#out = "";
    this.ascii = true;
    this.#depth = 0;
    if (this.#count > SMALL) {
      // Forget large values, to hold on to no memory; small ones are overwritten.
      this.#objects.length = SMALL;
      this.#seen.clear();
    }
    for (let i = 0; i < this.#count && i < SMALL; i++) this.#objects[i] = EMPTY;
    this.#count = 0;
    if (this.#ids.size > 0) this.#ids.clear();
  }

  #find(object: object): number {
    const count = this.#count;
    if (count <= SMALL) {
      const objects = this.#objects;
      for (let i = 0; i < count; i++) if (objects[i] === object) return i;
      return -1;
    }
    return this.#seen.get(object) ?? -1;
  }

  document(value: unknown): string {
    this.reset();
    this.#out = '{"ck":1,"v":';
    try {
      this.#value(value);
    } catch (e) {
      throw fromThrown(e);
    }
    this.#out += "}";
    return this.#ids.size === 0 ? this.#out : this.#label();
  }

  /** Inserts the `$id` labels of shared objects into the finished text. */
  #label(): string {
    const inserts: [number, string][] = [];
    for (const [index, id] of this.#ids) {
      const open = this.#opens[index]!;
      const close = this.#closes[index]!;
      if (this.#arrays[index]) {
        inserts.push([open, `{"$":"Array","$id":${id},"items":`], [close + 1, "}"]);
      } else inserts.push([open + 1, close === open + 1 ? `"$id":${id}` : `"$id":${id},`]);
    }
    inserts.sort((a, b) => a[0] - b[0]);
    const text = this.#out;
    let result = "";
    let from = 0;
    for (const [at, insert] of inserts) {
      result += text.slice(from, at) + insert;
      from = at;
    }
    return result + text.slice(from);
  }

  /** A string as JSON text. */
  #quote(text: string): string {
    if (this.ascii && NON_ASCII.test(text)) this.ascii = false;
    return JSON.stringify(text);
  }

  /** A property name as JSON text with its colon, escaped if it starts with `$`. */
  #key(key: string): string {
    let text = keyTexts.get(key);
    if (text === undefined) {
      text = JSON.stringify(key.charCodeAt(0) === 36 ? "$" + key : key) + ":";
      if (NON_ASCII.test(key)) this.ascii = false;
      else if (keyTexts.size < 10_000) keyTexts.set(key, text);
    }
    return text;
  }

  #begin(object: object, array: boolean): number {
    const index = this.#count++;
    this.#objects[index] = object;
    if (index >= SMALL) {
      if (index === SMALL) { for (let i = 0; i < SMALL; i++) this.#seen.set(this.#objects[i]!, i); }
      this.#seen.set(object, index);
    }
    this.#opens[index] = this.#out.length;
    this.#closes[index] = -1;
    this.#arrays[index] = array;
    return index;
  }

  #end(index: number, text: string): void {
    this.#closes[index] = this.#out.length + text.length - 1;
    this.#out += text;
  }

  #value(value: unknown): void {
    switch (typeof value) {
      case "string":
        this.#out += this.#quote(value);
        return;
      case "number":
        this.#out += numberText(value);
        return;
      case "boolean":
        this.#out += value ? "true" : "false";
        return;
      case "undefined":
        this.#out += '{"$":"undefined"}';
        return;
      case "bigint":
        this.#out += `{"$":"bigint","v":"${value}"}`;
        return;
      case "function":
        throw failure("function", FUNCTION_FAILURE);
      case "symbol":
        throw failure("symbol", SYMBOL_FAILURE);
    }
    if (value === null) {
      this.#out += "null";
      return;
    }
    this.#object(value as object);
  }

  /**
   * Writes an object. Plain objects and arrays, the kinds that nest deeply,
   * are written here without further calls, so a deep value uses two stack
   * frames per level.
   */
  #object(object: object): void {
    const seen = this.#find(object);
    if (seen >= 0) {
      let id = this.#ids.get(seen);
      if (id === undefined) this.#ids.set(seen, id = this.#ids.size);
      this.#out += `{"$":"ref","id":${id}}`;
      return;
    }
    if (++this.#depth > this.maxDepth) {
      const max = this.maxDepth;
      throw failure(
        "deep value",
        (at) =>
          `Cannot encode the value at ${at}: it nests deeper than ${max} levels; flatten it or raise maxDepth`,
      );
    }
    const proto = Object.getPrototypeOf(object);
    const kind = proto === Object.prototype || proto === null ? Kind.Plain : KINDS.get(proto);
    if (kind === Kind.Plain || kind === Kind.Array) {
      let keys: string[];
      let index: number;
      let close: string;
      if (kind === Kind.Plain) {
        index = this.#begin(object, false);
        this.#checkSymbols(object);
        keys = Object.keys(object);
        this.#out += "{";
        close = "}";
      } else {
        if (!Array.isArray(object)) throw this.#refusal(object, proto);
        this.#checkSymbols(object);
        keys = Object.keys(object);
        const length = object.length;
        if (keys.length !== length || (length > 0 && keys[length - 1] !== String(length - 1))) {
          this.#array(object, keys);
          this.#depth--;
          return;
        }
        // Dense, no extra properties: a plain JSON array.
        index = this.#begin(object, true);
        this.#out += "[";
        close = "]";
      }
      const target = object as Slot;
      const plain = kind === Kind.Plain;
      for (let i = 0; i < keys.length; i++) {
        const key = plain ? keys[i]! : i;
        if (i > 0) this.#out += ",";
        if (plain) this.#out += this.#key(key as string);
        let read = true;
        try {
          const value = target[key];
          read = false;
          if (typeof value === "string") this.#out += this.#quote(value);
          else this.#value(value);
        } catch (e) {
          throw step(e, key, read ? "read" : "encode");
        }
      }
      this.#end(index, close);
      this.#depth--;
      return;
    }
    switch (kind) {
      case Kind.Map:
        this.#map(object as Map<unknown, unknown>);
        break;
      case Kind.Set:
        this.#set(object as Set<unknown>);
        break;
      case Kind.Date: {
        const time = Date.prototype.getTime.call(object);
        const index = this.#begin(object, false);
        this.#end(index, `{"$":"Date","v":${time === time ? time : "null"}}`);
        break;
      }
      case Kind.RegExp: {
        const re = object as RegExp;
        const text = `{"$":"RegExp","source":${this.#quote(re.source)},"flags":${
          this.#quote(re.flags)
        }}`;
        this.#end(this.#begin(object, false), text);
        break;
      }
      case Kind.Boxed: {
        const primitive = (object as { valueOf(): unknown }).valueOf();
        const index = this.#begin(object, false);
        this.#out += '{"$":"Boxed","v":';
        this.#value(primitive);
        this.#end(index, "}");
        break;
      }
      case Kind.ArrayBuffer:
        this.#arrayBuffer(object as ArrayBuffer);
        break;
      case Kind.TypedArray:
      case Kind.DataView:
        this.#view(object as ArrayBufferView);
        break;
      default:
        if (!isError(object)) throw this.#refusal(object, proto);
        this.#error(object);
    }
    this.#depth--;
  }

  #refusal(object: object, proto: object): Failure {
    const refused = REFUSED_PROTOS.get(proto);
    if (refused !== undefined) {
      const [name, advice] = refused;
      return failure(name, (at) => `Cannot encode a ${name} at ${at}: ${advice}`);
    }
    const name = className(object);
    const base = builtinBase(object);
    const kind = name ? `class ${name}` : "object with a custom prototype";
    const what = name ? `an instance of class ${name}` : "an object with a custom prototype";
    const advice = base !== undefined
      ? `it extends ${base} but its own prototype would be lost on the worker; convert it to a plain ${base} first`
      : "its prototype would be lost on the worker; convert it to a plain object (for example { ...value }) or pass only the fields the job needs";
    return failure(kind, (at) => `Cannot encode ${what} at ${at}: ${advice}`);
  }

  #checkSymbols(object: object): void {
    const symbols = Object.getOwnPropertySymbols(object);
    for (let i = 0; i < symbols.length; i++) {
      const symbol = symbols[i]!;
      if (Object.prototype.propertyIsEnumerable.call(object, symbol)) {
        const shown = symbol.toString();
        throw failure(
          "symbol-keyed property",
          (at) =>
            `Cannot encode the property ${shown} of the object at ${at}: symbol keys cannot cross to the worker; use a string key or remove the property`,
        );
      }
    }
  }

  /** Writes `"key":value` pairs, without braces. */
  #properties(object: Slot, keys: string[], from: number): void {
    for (let i = from; i < keys.length; i++) {
      const key = keys[i]!;
      if (i > from) this.#out += ",";
      this.#out += this.#key(key);
      let read = true;
      try {
        const value = object[key];
        read = false;
        if (typeof value === "string") this.#out += this.#quote(value);
        else this.#value(value);
      } catch (e) {
        throw step(e, key, read ? "read" : "encode");
      }
    }
  }

  /** Writes an array with holes or extra properties as an `Array` node. */
  #array(array: unknown[], keys: string[]): void {
    const length = array.length;
    let indices = 0;
    while (indices < keys.length && isIndex(keys[indices]!, length)) indices++;
    const index = this.#begin(array, false);
    if (indices === length) {
      this.#out += '{"$":"Array","items":[';
      for (let i = 0; i < length; i++) {
        if (i > 0) this.#out += ",";
        let read = true;
        try {
          const value = array[i];
          read = false;
          this.#value(value);
        } catch (e) {
          throw step(e, i, read ? "read" : "encode");
        }
      }
      this.#out += "]";
    } else {
      this.#out += `{"$":"Array","length":${length},"entries":[`;
      for (let i = 0; i < indices; i++) {
        const position = Number(keys[i]);
        this.#out += i === 0 ? `[${position},` : `,[${position},`;
        let read = true;
        try {
          const value = array[position];
          read = false;
          this.#value(value);
        } catch (e) {
          throw step(e, position, read ? "read" : "encode");
        }
        this.#out += "]";
      }
      this.#out += "]";
    }
    if (indices < keys.length) {
      this.#out += ',"props":{';
      this.#properties(array as unknown as Slot, keys, indices);
      this.#out += "}";
    }
    this.#end(index, "}");
  }

  #map(map: Map<unknown, unknown>): void {
    const index = this.#begin(map, false);
    this.#out += '{"$":"Map","entries":[';
    let entry = 0;
    for (const [k, v] of Map.prototype.entries.call(map)) {
      this.#out += entry === 0 ? "[" : ",[";
      try {
        this.#value(k);
      } catch (e) {
        throw step(e, { collection: "Map", part: "key", entry }, "encode");
      }
      this.#out += ",";
      try {
        this.#value(v);
      } catch (e) {
        throw step(e, { collection: "Map", part: "value", entry }, "encode");
      }
      this.#out += "]";
      entry++;
    }
    this.#end(index, "]}");
  }

  #set(set: Set<unknown>): void {
    const index = this.#begin(set, false);
    this.#out += '{"$":"Set","values":[';
    let entry = 0;
    for (const v of Set.prototype.values.call(set)) {
      if (entry > 0) this.#out += ",";
      try {
        this.#value(v);
      } catch (e) {
        throw step(e, { collection: "Set", part: "value", entry }, "encode");
      }
      entry++;
    }
    this.#end(index, "]}");
  }

  #arrayBuffer(buffer: ArrayBuffer): void {
    if (buffer.detached) {
      throw failure(
        "detached ArrayBuffer",
        (at) =>
          `Cannot encode a detached ArrayBuffer at ${at}: it was transferred and has no bytes; pass a copy made before transferring`,
      );
    }
    const base64 = toBase64(new Uint8Array(buffer));
    const max = buffer.resizable ? `,"maxByteLength":${buffer.maxByteLength}` : "";
    this.#end(this.#begin(buffer, false), `{"$":"ArrayBuffer","base64":"${base64}"${max}}`);
  }

  #view(view: ArrayBufferView): void {
    const name = view instanceof DataView ? "DataView" : className(view);
    const buffer = view.buffer;
    if (!(buffer instanceof ArrayBuffer)) {
      throw failure(
        name,
        (at) =>
          `Cannot encode a ${name} over a SharedArrayBuffer at ${at}: shared memory cannot cross to the worker; copy it with view.slice()`,
      );
    }
    const size = name === "DataView"
      ? `"byteLength":${view.byteLength}`
      : `"length":${(view as Uint8Array).length}`;
    const index = this.#begin(view, false);
    this.#out += `{"$":${this.#quote(name)},"buffer":`;
    try {
      this.#value(buffer);
    } catch (e) {
      throw step(e, "buffer", "encode");
    }
    this.#end(index, `,"byteOffset":${view.byteOffset},${size}}`);
  }

  #error(error: Error): void {
    const type = errorType(error);
    const e = error as unknown as Slot;
    const name = String(read(e, "name"));
    let head = `{"$":"Error","name":${this.#quote(name)}`;
    if (type !== defaultErrorType(name)) head += `,"type":${this.#quote(type)}`;
    const message = read(e, "message");
    if (message !== undefined) head += `,"message":${this.#quote(String(message))}`;
    const stack = read(e, "stack");
    if (typeof stack === "string") head += `,"stack":${this.#quote(stack)}`;
    const index = this.#begin(error, false);
    this.#out += head;
    for (const field of type === "AggregateError" ? ["cause", "errors"] : ["cause"]) {
      // An enumerable cause (made by assignment) travels with the other properties.
      const own = Object.getOwnPropertyDescriptor(error, field);
      if (own === undefined || own.enumerable) continue;
      const value = read(e, field);
      this.#out += `,"${field}":`;
      try {
        this.#value(value);
      } catch (err) {
        throw step(err, field, "encode");
      }
    }
    // A DOMException keeps its fields under symbols of the runtime's own.
    if (type !== "DOMException") this.#checkSymbols(error);
    const keys = Object.keys(error);
    if (keys.length > 0) {
      this.#out += ',"props":{';
      this.#properties(e, keys, 0);
      this.#out += "}";
    }
    this.#end(index, "}");
  }
}

function read(object: Slot, key: string): unknown {
  try {
    return object[key];
  } catch (e) {
    throw step(e, key, "read");
  }
}

function isIndex(key: string, length: number): boolean {
  const n = Number(key);
  return n < length && String(n) === key;
}

let idleEncoder: Encoder | undefined = new Encoder();

function withEncoder<T>(options: EncodeOptions | undefined, use: (encoder: Encoder) => T): T {
  const maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 1) {
    throw new CloudknotInputError(
      `The maxDepth option must be a positive integer, not ${
        String(maxDepth)
      }; pass a number such as 1000`,
      { field: "maxDepth" },
    );
  }
  // A getter may call encode() while an encoding runs: it gets its own encoder.
  const encoder = idleEncoder ?? new Encoder();
  idleEncoder = undefined;
  encoder.maxDepth = maxDepth;
  try {
    return use(encoder);
  } finally {
    encoder.reset();
    idleEncoder = encoder;
  }
}

function encodeText(value: unknown, encoder: Encoder): string {
  try {
    return encoder.document(value);
  } catch (e) {
    throw toCodecError(e instanceof Failure ? e : fromThrown(e), "encode");
  }
}

const utf8 = new TextEncoder();

/**
 * Encodes a value as JSON text in the cloudknot format and returns the text.
 * See the module documentation for what can be carried.
 *
 * @example Usage
 * ```ts
 * import { encodeToString } from "@cloudknot/cloudknot";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeToString({ a: [1, undefined] }), '{"ck":1,"v":{"a":[1,{"$":"undefined"}]}}');
 * ```
 *
 * @param value Any value the codec can carry.
 * @param options How deep the value may nest.
 * @returns The encoded document as a string.
 * @throws {CodecError} When the value holds something that cannot be carried.
 */
export function encodeToString(value: unknown, options?: EncodeOptions): string {
  return withEncoder(options, (encoder) => encodeText(value, encoder));
}

/**
 * Encodes a value as UTF-8 JSON bytes in the cloudknot format. See the module
 * documentation for what can be carried and what is rejected.
 *
 * @example Usage
 * ```ts
 * import { decode, encode } from "@cloudknot/cloudknot";
 * import assert from "node:assert/strict";
 *
 * const bytes = encode({ id: 7n, at: new Date(0) });
 * assert.deepEqual(decode(bytes), { id: 7n, at: new Date(0) });
 * ```
 *
 * @param value Any value the codec can carry.
 * @param options How deep the value may nest.
 * @returns The encoded document.
 * @throws {CodecError} When the value holds something that cannot be carried.
 */
export function encode(value: unknown, options?: EncodeOptions): Uint8Array {
  return utf8.encode(withEncoder(options, (encoder) => encodeText(value, encoder)));
}

/**
 * Encodes every item of a map() input list on its own, so each can be decoded
 * alone. A bad item throws a {@linkcode CodecError} whose message starts with
 * `Item <index>:` and whose `index` is set; with `allErrors`, every item is
 * checked and all bad ones are listed in `failures`. Objects shared between
 * items become copies, one per item.
 *
 * The chunks are consecutive views of a few large buffers (text is encoded
 * in batches of about a million characters), so laying them out one after
 * another copies no more than needed; copy a chunk (`chunk.slice()`) before
 * transferring it.
 *
 * @example Usage
 * ```ts
 * import { CodecError, decode, encodeItems } from "@cloudknot/cloudknot";
 * import assert from "node:assert/strict";
 *
 * const chunks = encodeItems([1, { a: 2 }]);
 * assert.deepEqual(chunks.map((c) => decode(c)), [1, { a: 2 }]);
 *
 * try {
 *   encodeItems([1, 2, { cb: () => 3 }]);
 * } catch (e) {
 *   assert.ok(e instanceof CodecError);
 *   assert.deepEqual(e.index, 2);
 * }
 * ```
 *
 * @param items The inputs, in order.
 * @param options `allErrors` to report every bad item; how deep items may nest.
 * @returns One encoded document per item, in input order.
 * @throws {CodecError} When an item holds something that cannot be carried.
 */
export function encodeItems(
  items: Iterable<unknown>,
  options?: EncodeItemsOptions,
): Uint8Array[] {
  return withEncoder(options, (encoder) => encodeEach(items, encoder, options?.allErrors ?? false));
}

function encodeEach(items: Iterable<unknown>, encoder: Encoder, allErrors: boolean): Uint8Array[] {
  const chunks = new Chunker();
  const failures: CodecError[] = [];
  let index = 0;
  const add = (item: unknown) => {
    try {
      chunks.add(encodeText(item, encoder), encoder.ascii);
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      const itemError = new CodecError(`Item ${index}: ${e.message}`, {
        path: e.path,
        kind: e.kind,
        index,
        cause: e.cause,
      });
      if (!allErrors) throw itemError;
      failures.push(itemError);
    }
    index++;
  };
  if (Array.isArray(items)) {
    for (let i = 0; i < items.length; i++) add(items[i]);
  } else {
    let iterator: Iterator<unknown>;
    try {
      iterator = items[Symbol.iterator]();
    } catch (e) {
      throw new CodecError(
        "Cannot read the inputs: they are not iterable; pass an array or another iterable of items",
        { cause: e },
      );
    }
    for (;;) {
      let next: IteratorResult<unknown>;
      try {
        next = iterator.next();
      } catch (e) {
        throw new CodecError(
          `Cannot read item ${index} of the inputs: the iterator threw ${
            describeThrown(e)
          }; pass an array of items`,
          { cause: e, index },
        );
      }
      if (next.done) break;
      add(next.value);
    }
  }
  if (failures.length === 1) throw failures[0]!;
  if (failures.length > 1) {
    const shown = failures.slice(0, 3).map((f) => f.message).join("; ");
    const more = failures.length > 3 ? `; and ${failures.length - 3} more` : "";
    const indices = failures.slice(0, 10).map((f) => f.index);
    const list = failures.length > 10
      ? `${indices.join(", ")}, …`
      : `${indices.slice(0, -1).join(", ")} and ${indices.at(-1)}`;
    throw new CodecError(
      `Items ${list} cannot be encoded (${failures.length} of ${index}): ${shown}${more}`,
      {
        path: failures[0]!.path,
        kind: failures[0]!.kind,
        index: failures[0]!.index,
        failures,
      },
    );
  }
  return chunks.finish();
}

/** The UTF-8 length of a string without lone surrogates (as JSON.stringify writes them). */
function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) length += 1;
    else if (c < 0x800) length += 2;
    else if (c >= 0xd800 && c < 0xdc00) {
      length += 4;
      i++;
    } else length += 3;
  }
  return length;
}

/** The most text encoded to UTF-8 in one go by {@linkcode Chunker}. */
const BATCH_CHARS = 1 << 20;

/**
 * Turns many small texts into UTF-8 bytes with few calls into the runtime:
 * texts are joined in batches, each batch is encoded once, and each text
 * becomes a view of its batch.
 */
class Chunker {
  #out: Uint8Array[] = [];
  #texts: string[] = [];
  /** The UTF-8 length of each text. */
  #lengths: number[] = [];
  #chars = 0;

  add(text: string, ascii: boolean): void {
    if (this.#chars + text.length > BATCH_CHARS) this.#flush();
    this.#texts.push(text);
    this.#lengths.push(ascii ? text.length : utf8Length(text));
    this.#chars += text.length;
  }

  finish(): Uint8Array[] {
    this.#flush();
    return this.#out;
  }

  #flush(): void {
    if (this.#texts.length === 0) return;
    const bytes = utf8.encode(this.#texts.join(""));
    let offset = 0;
    for (const length of this.#lengths) {
      this.#out.push(bytes.subarray(offset, offset + length));
      offset += length;
    }
    this.#texts = [];
    this.#lengths = [];
    this.#chars = 0;
  }
}

// ---------------------------------------------------------------------------
// Decoding.

function malformed(explain: string): Failure {
  return new Failure(
    "malformed data",
    (at) =>
      `Cannot decode the value at ${at}: ${explain}; the data is corrupt or was not written by this codec`,
  );
}

function isObject(value: unknown): value is Slot {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkInteger(value: unknown, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw malformed(`${what} must be an integer from 0 to ${max}, not ${JSON.stringify(value)}`);
  }
  return value;
}

function checkString(value: unknown, what: string): string {
  if (typeof value !== "string") {
    throw malformed(`${what} must be a string, not ${JSON.stringify(value) ?? typeof value}`);
  }
  return value;
}

function checkArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) {
    throw malformed(`${what} must be an array, not ${JSON.stringify(value) ?? typeof value}`);
  }
  return value;
}

const BIGINT = /^-?(?:0|[1-9][0-9]*)$/;

function bigintOf(node: Slot): bigint {
  return BigInt(checkString(node.v, "a bigint's v").match(BIGINT)?.[0] ?? badBigint(node.v));
}

function badBigint(v: unknown): never {
  throw malformed(`a bigint's v must be decimal digits, not ${JSON.stringify(v)}`);
}

class Decoder {
  #objects = new Map<number, unknown>();

  document(doc: unknown): unknown {
    if (!isObject(doc) || !("ck" in doc)) {
      throw new Failure(
        "malformed data",
        () =>
          `Cannot decode: the data is JSON but not a cloudknot codec document (no "ck" marker); pass the bytes that encode() returned`,
      );
    }
    if (doc.ck !== CODEC_VERSION) {
      const version = JSON.stringify(doc.ck);
      throw new Failure(
        "unsupported version",
        () =>
          `Cannot decode: the data is in codec version ${version} but this cloudknot reads version ${CODEC_VERSION}; use the same cloudknot version on the client and the worker`,
      );
    }
    if (!("v" in doc)) {
      throw new Failure(
        "malformed data",
        () => `Cannot decode: the document has no "v" value; the data is corrupt`,
      );
    }
    try {
      return this.#node(doc.v);
    } catch (e) {
      throw fromThrown(e, "decode");
    }
  }

  #define(node: Slot, value: unknown): void {
    const id = node.$id;
    if (id === undefined) return;
    checkInteger(id, "$id");
    if (this.#objects.has(id)) throw malformed(`the $id ${id} is used twice`);
    this.#objects.set(id, value);
  }

  #child(node: unknown, segment: PathSegment): unknown {
    if (typeof node !== "object" || node === null) return node;
    try {
      return this.#node(node);
    } catch (e) {
      throw step(e, segment, "decode");
    }
  }

  #node(node: unknown): unknown {
    if (typeof node !== "object" || node === null) return node;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const child = node[i];
        if (typeof child === "object" && child !== null) {
          const value = this.#child(child, i);
          if (value !== child) node[i] = value;
        }
      }
      return node;
    }
    const tag = (node as Slot).$;
    if (tag === undefined) return this.#plain(node as Slot);
    return this.#tagged(node as Slot, tag);
  }

  #plain(node: Slot): Slot {
    const keys = Object.keys(node);
    let inPlace = true;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i]!.charCodeAt(0) === 36) {
        inPlace = false;
        break;
      }
    }
    if (inPlace) {
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const child = node[key];
        if (typeof child === "object" && child !== null) {
          const value = this.#child(child, key);
          if (value !== child) setKey(node, key, value);
        }
      }
      return node;
    }
    const out: Slot = {};
    this.#define(node, out);
    this.#assign(out, node, keys);
    return out;
  }

  /** Copies the properties of a plain-object node onto a target, unescaping keys. */
  #assign(target: Slot, node: Slot, keys: string[], define = false): void {
    for (const key of keys) {
      let name = key;
      if (key.charCodeAt(0) === 36) {
        if (key === "$id") continue;
        if (key.charCodeAt(1) !== 36) {
          throw malformed(
            `the key ${JSON.stringify(key)} is neither "$id" nor escaped as "$${key}"`,
          );
        }
        name = key.slice(1);
      }
      const value = this.#child(node[key], name);
      if (define) {
        Object.defineProperty(target, name, {
          value,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      } else setKey(target, name, value);
    }
  }

  #props(target: Slot, props: unknown): void {
    if (props === undefined) return;
    if (!isObject(props) || props.$ !== undefined) {
      throw malformed(`props must be a plain JSON object`);
    }
    try {
      this.#assign(target, props, Object.keys(props), true);
    } catch (e) {
      throw e instanceof Failure ? e : malformed(`props cannot be set (${describeThrown(e)})`);
    }
  }

  #ref(id: unknown): unknown {
    checkInteger(id, "a ref's id");
    if (!this.#objects.has(id as number)) {
      throw malformed(
        `the ref to id ${id} comes before the object with that $id, or there is none`,
      );
    }
    return this.#objects.get(id as number);
  }

  #tagged(node: Slot, tag: unknown): unknown {
    switch (tag) {
      case "undefined":
        return undefined;
      case "NaN":
        return NaN;
      case "Infinity":
        return Infinity;
      case "-Infinity":
        return -Infinity;
      case "-0":
        return -0;
      case "bigint":
        return bigintOf(node);
      case "ref":
        return this.#ref(node.id);
      case "Array":
        return this.#array(node);
      case "Map": {
        const map = new Map();
        this.#define(node, map);
        const entries = checkArray(node.entries, "a Map's entries");
        for (let entry = 0; entry < entries.length; entry++) {
          const pair = entries[entry];
          if (!Array.isArray(pair) || pair.length !== 2) {
            throw step(
              malformed("each Map entry must be a [key, value] pair"),
              "entries",
              "decode",
            );
          }
          const k = this.#child(pair[0], { collection: "Map", part: "key", entry });
          map.set(k, this.#child(pair[1], { collection: "Map", part: "value", entry }));
        }
        return map;
      }
      case "Set": {
        const set = new Set();
        this.#define(node, set);
        const values = checkArray(node.values, "a Set's values");
        for (let entry = 0; entry < values.length; entry++) {
          set.add(this.#child(values[entry], { collection: "Set", part: "value", entry }));
        }
        return set;
      }
      case "Date": {
        const v = node.v;
        if (v !== null && (typeof v !== "number" || !Number.isFinite(v))) {
          throw malformed(`a Date's v must be a number of ms or null, not ${JSON.stringify(v)}`);
        }
        const date = new Date(v === null ? NaN : v);
        this.#define(node, date);
        return date;
      }
      case "RegExp": {
        const source = checkString(node.source, "a RegExp's source");
        const flags = checkString(node.flags, "a RegExp's flags");
        let re: RegExp;
        try {
          re = new RegExp(source, flags);
        } catch (e) {
          throw malformed(`the RegExp /${source}/${flags} is invalid (${describeThrown(e)})`);
        }
        this.#define(node, re);
        return re;
      }
      case "Boxed": {
        const v = node.v;
        let primitive: unknown = v;
        if (isObject(v)) {
          const inner = v.$;
          if (inner === "bigint") primitive = bigintOf(v);
          else if (
            inner === "NaN" || inner === "Infinity" || inner === "-Infinity" || inner === "-0"
          ) {
            primitive = this.#tagged(v, inner);
          } else primitive = undefined;
        }
        const t = typeof primitive;
        if (t !== "string" && t !== "number" && t !== "boolean" && t !== "bigint") {
          throw malformed("a Boxed node's v must be a string, number, boolean or bigint");
        }
        const boxed = Object(primitive);
        this.#define(node, boxed);
        return boxed;
      }
      case "ArrayBuffer": {
        let bytes: Uint8Array;
        try {
          bytes = base64ToBytes(checkString(node.base64, "an ArrayBuffer's base64"));
        } catch (e) {
          throw e instanceof Failure ? e : malformed(`an ArrayBuffer's base64 is invalid`);
        }
        let buffer: ArrayBuffer;
        if (node.maxByteLength !== undefined) {
          const max = checkInteger(node.maxByteLength, "maxByteLength");
          if (max < bytes.length) throw malformed("maxByteLength is smaller than the bytes");
          buffer = new ArrayBuffer(bytes.length, { maxByteLength: max });
          new Uint8Array(buffer).set(bytes);
        } else if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) {
          buffer = bytes.buffer as ArrayBuffer;
        } else buffer = bytes.slice().buffer as ArrayBuffer;
        this.#define(node, buffer);
        return buffer;
      }
      case "Error":
        return this.#error(node);
      default: {
        if (typeof tag === "string" && (tag === "DataView" || Object.hasOwn(TYPED_ARRAYS, tag))) {
          return this.#view(node, tag);
        }
        throw malformed(
          `the tag ${JSON.stringify(tag)} is unknown (a newer cloudknot may have written it)`,
        );
      }
    }
  }

  #array(node: Slot): unknown[] {
    const array: unknown[] = [];
    this.#define(node, array);
    if (node.items !== undefined) {
      const items = checkArray(node.items, "an Array's items");
      for (let i = 0; i < items.length; i++) array.push(this.#child(items[i], i));
    } else {
      const length = checkInteger(node.length, "an Array's length", 2 ** 32 - 1);
      const entries = checkArray(node.entries, "an Array's entries");
      array.length = length;
      for (const pair of entries) {
        if (!Array.isArray(pair) || pair.length !== 2) {
          throw malformed("each Array entry must be an [index, value] pair");
        }
        const index = checkInteger(pair[0], "an Array entry's index", length - 1);
        array[index] = this.#child(pair[1], index);
      }
    }
    if (node.props !== undefined) {
      if (isObject(node.props)) {
        for (const key of Object.keys(node.props)) {
          const name = key.charCodeAt(0) === 36 ? key.slice(1) : key;
          if (name === "length" || isIndex(name, 2 ** 32 - 1)) {
            throw malformed(`an Array's props cannot hold the key ${JSON.stringify(name)}`);
          }
        }
      }
      this.#props(array as unknown as Slot, node.props);
    }
    return array;
  }

  #view(node: Slot, tag: string): ArrayBufferView {
    const buffer = this.#child(node.buffer, "buffer");
    if (!(buffer instanceof ArrayBuffer)) {
      throw step(
        malformed(`the buffer of a ${tag} must be an ArrayBuffer node`),
        "buffer",
        "decode",
      );
    }
    const byteOffset = checkInteger(node.byteOffset, `a ${tag}'s byteOffset`);
    let view: ArrayBufferView;
    try {
      if (tag === "DataView") {
        view = new DataView(buffer, byteOffset, checkInteger(node.byteLength, "byteLength"));
      } else {
        view = new TYPED_ARRAYS[tag]!(buffer, byteOffset, checkInteger(node.length, "length"));
      }
    } catch (e) {
      if (e instanceof Failure) throw e;
      throw malformed(`the ${tag} does not fit its buffer (${describeThrown(e)})`);
    }
    this.#define(node, view);
    return view;
  }

  #error(node: Slot): Error {
    const name = checkString(node.name, "an Error's name");
    const message = node.message === undefined
      ? undefined
      : checkString(node.message, "an Error's message");
    const type = node.type === undefined
      ? defaultErrorType(name)
      : checkString(node.type, "an Error's type");
    let error: Error;
    const dom = (globalThis as Slot).DOMException;
    if (type === "DOMException" && typeof dom === "function") {
      error = new dom(message, name);
    } else if (type === "AggregateError") {
      error = message === undefined ? new AggregateError([]) : new AggregateError([], message);
      delete (error as Slot).errors;
    } else {
      const ctor = ERROR_TYPES[type] ?? Error;
      error = message === undefined ? new ctor() : new ctor(message);
    }
    this.#define(node, error);
    const hidden = (key: string, value: unknown) =>
      Object.defineProperty(error, key, {
        value,
        writable: true,
        enumerable: false,
        configurable: true,
      });
    // An own enumerable name (set by assignment) comes back with the props, in its place.
    const nameInProps = isObject(node.props) && Object.hasOwn(node.props, "name");
    if (error.name !== name && !nameInProps) hidden("name", name);
    if (node.stack === undefined) delete (error as Slot).stack;
    else hidden("stack", checkString(node.stack, "an Error's stack"));
    if ("cause" in node) hidden("cause", this.#child(node.cause, "cause"));
    if ("errors" in node) hidden("errors", this.#child(node.errors, "errors"));
    this.#props(error as unknown as Slot, node.props);
    return error;
  }
}

const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes a document that {@linkcode encode} (or another implementation of
 * the format in the module documentation) wrote, as bytes or as text.
 *
 * @example Usage
 * ```ts
 * import { decode } from "@cloudknot/cloudknot";
 * import assert from "node:assert/strict";
 *
 * const value = decode('{"ck":1,"v":{"n":{"$":"NaN"},"s":{"$":"Set","values":[1,2]}}}');
 * assert.deepEqual(value, { n: NaN, s: new Set([1, 2]) });
 * ```
 *
 * @param input The encoded document.
 * @returns The value, with shared references and cycles restored.
 * @throws {CodecError} When the input is not a valid document.
 */
export function decode(input: Uint8Array | string): unknown {
  let text: string;
  if (typeof input === "string") text = input;
  else if (input instanceof Uint8Array) {
    try {
      text = utf8Strict.decode(input);
    } catch (e) {
      throw new CodecError(
        "Cannot decode: the bytes are not valid UTF-8; pass the bytes that encode() returned, unchanged",
        { operation: "decode", kind: "malformed data", cause: e },
      );
    }
  } else {
    const what = input === null ? "null" : typeof input;
    throw new CodecError(
      `Cannot decode a ${what}: pass the Uint8Array or string that encode() returned`,
      { operation: "decode", kind: "malformed data" },
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CodecError(
      `Cannot decode: the data is not JSON (${
        describeThrown(e)
      }); pass the bytes that encode() returned, unchanged`,
      { operation: "decode", kind: "malformed data", cause: e },
    );
  }
  try {
    return new Decoder().document(doc);
  } catch (e) {
    throw toCodecError(fromThrown(e, "decode"), "decode");
  }
}
