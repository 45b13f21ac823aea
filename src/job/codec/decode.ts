/**
 * Decoding: a document of the cloudknot format (see `format.ts`) back to
 * the value, with shared references and cycles restored. Every node is
 * checked, so corrupt data fails with a {@linkcode CodecError} that names
 * where.
 *
 * @module
 */
import { CodecError, type PathSegment } from "./error.ts";
import { describeThrown, Failure, fromThrown, step, toCodecError } from "./_failure.ts";
import { defaultErrorType, isIndex, type Slot, TYPED_ARRAYS } from "./_builtins.ts";
import { ERROR_CLASSES } from "../../util/builtin_errors.ts";
import { setStack } from "../../util/error_stack.ts";
import { BINARY_MAGIC, BINARY_VERSION, CODEC_VERSION } from "./format.ts";

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

/** Standard base64 with padding, with the Uint8Array method where the runtime has it. */
const fromBase64 = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array })
  .fromBase64;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function base64ToBytes(text: string): Uint8Array {
  if (!BASE64.test(text)) throw new Error("not standard padded base64");
  if (fromBase64 !== undefined) return fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

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
  /** The blobs of a binary document; none for a text document. */
  #blobs: readonly Uint8Array[];

  constructor(blobs: readonly Uint8Array[] = []) {
    this.#blobs = blobs;
  }

  document(doc: unknown, binary = false): unknown {
    if (!isObject(doc) || !("ck" in doc)) {
      throw new Failure(
        "malformed data",
        () =>
          `Cannot decode: the data is JSON but not a cloudknot codec document (no "ck" marker); pass the bytes that encode() returned`,
      );
    }
    if (doc.ck !== (binary ? BINARY_VERSION : CODEC_VERSION)) {
      const version = JSON.stringify(doc.ck);
      throw new Failure(
        "unsupported version",
        () =>
          `Cannot decode: the data is in codec version ${version} but this cloudknot reads ` +
          `version ${CODEC_VERSION} as text and ${BINARY_VERSION} as a binary document; use ` +
          `the same cloudknot version on the client and the worker`,
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
        if ("blob" in node) {
          const blob = this.#blobs[checkInteger(node.blob, "an ArrayBuffer's blob")];
          if (blob === undefined) {
            throw malformed(`an ArrayBuffer's blob ${node.blob} is not in the document`);
          }
          // A copy: the value owns its buffer, not a view of the document.
          bytes = blob.slice();
        } else {
          try {
            bytes = base64ToBytes(checkString(node.base64, "an ArrayBuffer's base64"));
          } catch (e) {
            throw e instanceof Failure ? e : malformed(`an ArrayBuffer's base64 is invalid`);
          }
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
      // Made with the cause and errors it will hold, in their places, so that setting them
      // below changes values, not the error's shape (deleting a property would make it a
      // dictionary object, several hundred bytes more).
      error = "cause" in node
        ? new AggregateError([], message, { cause: undefined })
        : new AggregateError([], message);
      if (!("errors" in node)) delete (error as Slot).errors;
    } else {
      const ctor = ERROR_CLASSES[type] ?? Error;
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
    else setStack(error, checkString(node.stack, "an Error's stack"));
    if ("cause" in node) hidden("cause", this.#child(node.cause, "cause"));
    if ("errors" in node) hidden("errors", this.#child(node.errors, "errors"));
    this.#props(error as unknown as Slot, node.props);
    return error;
  }
}

const utf8Strict = new TextDecoder("utf-8", { fatal: true });
const utf8Lenient = new TextDecoder();

/**
 * Decodes UTF-8, throwing on bytes that are not UTF-8. The runtime's lenient
 * decoder has a fast path the strict one has not (about a microsecond less
 * per document): text it decodes without a U+FFFD was valid as it was, and
 * only text with one (which may be the text's own) is decoded again
 * strictly.
 */
function decodeUtf8(bytes: Uint8Array): string {
  const text = utf8Lenient.decode(bytes);
  return text.includes("\uFFFD") ? utf8Strict.decode(bytes) : text;
}

/**
 * Decodes a document that `encode()` (or another implementation of the
 * format that `src/job/codec/format.ts` describes) wrote, as bytes or as text.
 *
 * @example Usage
 * ```ts
 * import { decode } from "@cloudknot/cloudknot/codec";
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
  let blobs: Uint8Array[] | undefined;
  if (typeof input === "string") text = input;
  else if (input instanceof Uint8Array && input[0] === BINARY_MAGIC[0]) {
    ({ text, blobs } = readBinary(input));
  } else if (input instanceof Uint8Array) {
    try {
      text = decodeUtf8(input);
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
    return new Decoder(blobs).document(doc, blobs !== undefined);
  } catch (e) {
    throw toCodecError(fromThrown(e, "decode"), "decode");
  }
}

/** Splits a binary document into its JSON text and its blobs (views of `bytes`). */
function readBinary(bytes: Uint8Array): { text: string; blobs: Uint8Array[] } {
  const bad = (why: string) =>
    new CodecError(
      `Cannot decode: the binary document is damaged (${why}); pass the bytes that encode() returned, unchanged`,
      { operation: "decode", kind: "malformed data" },
    );
  for (let i = 0; i < BINARY_MAGIC.length; i++) {
    if (bytes[i] !== BINARY_MAGIC[i]) {
      throw i === 3 && bytes[0] === BINARY_MAGIC[0] && bytes[1] === BINARY_MAGIC[1]
        ? new CodecError(
          `Cannot decode: the data is a binary document of codec version ${bytes[3]} but this ` +
            `cloudknot reads version ${BINARY_VERSION}; use the same cloudknot version on the ` +
            `client and the worker`,
          { operation: "decode", kind: "unsupported version" },
        )
        : bad("its first bytes are not the codec's");
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = BINARY_MAGIC.length;
  if (bytes.byteLength < at + 4) throw bad("it ends in its header");
  const jsonLength = view.getUint32(at, true);
  at += 4;
  if (bytes.byteLength < at + jsonLength + 4) throw bad("it ends in its JSON part");
  let text: string;
  try {
    text = decodeUtf8(bytes.subarray(at, at + jsonLength));
  } catch {
    throw bad("its JSON part is not UTF-8");
  }
  at += jsonLength;
  const count = view.getUint32(at, true);
  at += 4;
  if (bytes.byteLength < at + 8 * count) throw bad("it ends in its blob lengths");
  const lengths: number[] = [];
  for (let i = 0; i < count; i++) lengths.push(Number(view.getBigUint64(at + 8 * i, true)));
  at += 8 * count;
  const blobs: Uint8Array[] = [];
  for (const length of lengths) {
    if (bytes.byteLength < at + length) throw bad("it ends in its blobs");
    blobs.push(bytes.subarray(at, at + length));
    at += length;
  }
  if (at !== bytes.byteLength) throw bad("it has bytes after its last blob");
  return { text, blobs };
}
