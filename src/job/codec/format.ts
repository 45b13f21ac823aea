/**
 * The cloudknot value format, version 1: what `encode()` writes and
 * `decode()` reads. Another implementation (in another language, or a `jq`
 * script) needs this description and nothing else.
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
 * @module
 */

/**
 * The version of the encoding that {@linkcode encode} writes; it is the `ck`
 * field of every document. {@linkcode decode} reads this version only.
 *
 * @example Usage
 * ```ts
 * import { CODEC_VERSION, encodeToString } from "@cloudknot/cloudknot/codec";
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
 * import { CODEC_CONTENT_TYPE } from "@cloudknot/cloudknot/codec";
 *
 * console.log(CODEC_CONTENT_TYPE); // "application/vnd.cloudknot.value.v1+json"
 * ```
 */
export const CODEC_CONTENT_TYPE = "application/vnd.cloudknot.value.v1+json";
