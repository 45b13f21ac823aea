/**
 * The job codec: how every map() input item travels to the worker (a local
 * Deno process or a container on AWS Batch) and how every result comes back.
 *
 * The encoding is UTF-8 JSON text, not V8 serialization, so the client and
 * the worker may run different Deno versions (or a different language), and a
 * payload can be read with `jq` or a text editor. Binary data (`ArrayBuffer`s
 * and the typed arrays and `DataView`s over them) travels as raw bytes beside
 * the text, in a binary document, never in base64. Encoding is deterministic:
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
 * `maxDepth` (1,000 by default) are rejected. A map's inputs and a job
 * function's results nest at most 1,000 levels, a limit no option of
 * `map()`, `Knot.create` or `cloudknot map` raises: their error says to
 * flatten the value.
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
 * ## The format
 *
 * UTF-8 JSON text, or that text and raw bytes beside it for binary data,
 * described node by node in `codec/format.ts` (text version
 * {@linkcode CODEC_VERSION}, binary version {@linkcode BINARY_VERSION});
 * `codec/encode.ts` writes it and `codec/decode.ts` reads it.
 *
 * @example Usage
 * ```ts
 * import { decode, encode } from "@cloudknot/cloudknot/codec";
 * import assert from "node:assert/strict";
 *
 * const value = { when: new Date(0), tags: new Set(["a", "b"]), big: 2n ** 70n };
 * assert.deepEqual(decode(encode(value)), value);
 * ```
 *
 * @module
 */
export { BINARY_MAGIC, BINARY_VERSION, CODEC_CONTENT_TYPE, CODEC_VERSION } from "./codec/format.ts";
export {
  encode,
  encodeItems,
  type EncodeItemsOptions,
  type EncodeOptions,
  encodeToString,
} from "./codec/encode.ts";
export { decode } from "./codec/decode.ts";
export * from "./codec/error.ts";
