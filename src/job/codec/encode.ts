/**
 * Encoding: a value to the JSON text of the cloudknot format (see
 * `format.ts`), in one pass that reads every property once.
 *
 * @module
 */
import { CloudknotInputError } from "../../util/errors.ts";
import { CodecError } from "./error.ts";
import {
  DEEP_KIND,
  describeThrown,
  Failure,
  fromThrown,
  type Role,
  step,
  toCodecError,
} from "./_failure.ts";
import { defaultErrorType, isIndex, type Slot, TYPED_ARRAYS } from "./_builtins.ts";
import { ERROR_CLASSES } from "../../util/builtin_errors.ts";
import { BINARY_MAGIC, BINARY_VERSION } from "./format.ts";

/**
 * The default of {@linkcode EncodeOptions.maxDepth}, and the depth a map's
 * inputs and a job function's results may nest to (no option raises it).
 *
 * @example Usage
 * ```ts ignore
 * encode(record, { maxDepth: DEFAULT_MAX_DEPTH + 1 }); // a record holds its value one level down
 * ```
 */
export const DEFAULT_MAX_DEPTH = 1000;

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

/**
 * Objects the codec refuses, with what to do instead, given the verb for
 * the value's role ("pass" for an input, "return" for a result).
 */
const REFUSED: [string, (verb: string) => string][] = [
  ["WeakMap", () => "its entries cannot be read; use a Map instead"],
  ["WeakSet", () => "its items cannot be read; use a Set instead"],
  ["WeakRef", (verb) => `it cannot cross between processes; ${verb} the referenced value itself`],
  ["FinalizationRegistry", () => "it cannot cross between processes; remove it"],
  [
    "Promise",
    (verb) =>
      `its value is not known yet; await it and ${
        verb === "return" ? "return its value" : "pass the result"
      }`,
  ],
  ["Symbol", () => "a symbol is unique to one process; use a string instead"],
  [
    "SharedArrayBuffer",
    () =>
      "shared memory cannot cross between processes; copy it with new Uint8Array(shared).slice()",
  ],
  [
    "Blob",
    (verb) => `its bytes can only be read asynchronously; ${verb} await blob.bytes() instead`,
  ],
  [
    "File",
    (verb) => `its bytes can only be read asynchronously; ${verb} await file.bytes() instead`,
  ],
];
const REFUSED_PROTOS = new Map<object, [string, (verb: string) => string]>();
for (const [name, advice] of REFUSED) {
  const ctor = (globalThis as Slot)[name];
  if (typeof ctor === "function") REFUSED_PROTOS.set(ctor.prototype, [name, advice]);
}

/**
 * What to send instead of an instance of a built-in class whose data is not
 * in fields of its own, so that `{ ...value }` would be empty.
 */
const HOLLOW_DATA: Record<string, string> = {
  URL: "url.href",
  URLSearchParams: "params.toString() or Object.fromEntries(params)",
  Headers: "Object.fromEntries(headers)",
  FormData: "Object.fromEntries(form) (its text fields)",
  Response: "await response.text(), .json() or .bytes() (and the status or headers you need)",
  Request: "the url, method and headers you need, and await request.text() or .bytes()",
};

/** How many own enumerable string keys an object has (0 when they cannot be read). */
function ownKeyCount(object: object): number {
  try {
    return Object.keys(object).length;
  } catch {
    return 0;
  }
}

/** The verb of advice about a value in this role. */
function verbOf(role: Role): string {
  return role === "result" ? "return" : "pass";
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
    if (typeof ctor === "function" && ERROR_CLASSES[ctor.name] === ctor) return ctor.name;
    proto = Object.getPrototypeOf(proto);
  }
  return "Error";
}

/** Standard base64 with padding, with the Uint8Array method where the runtime has it. */
function toBase64(bytes: Uint8Array): string {
  const native = (bytes as unknown as { toBase64?: () => string }).toBase64;
  if (typeof native === "function") return native.call(bytes);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function failure(kind: string, explain: (at: string, role: Role) => string): Failure {
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

const FUNCTION_FAILURE = (at: string, role: Role) =>
  `Cannot encode a function at ${at}: functions cannot cross between processes; ${
    role === "result"
      ? "return data instead, such as what the function would compute"
      : "send data, and do the work in the job function"
  }`;
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
  /**
   * The depth limit is the caller's, who can raise it (the codec's own API),
   * rather than fixed (a map's inputs, a job function's results).
   */
  ownLimit = true;
  /** Write ArrayBuffers as blobs beside the text (a binary document) instead of base64. */
  binary = false;
  /** The blobs of the document being written, in the order their nodes were written. */
  blobs: Uint8Array[] = [];
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
    if (this.blobs.length > 0) this.blobs = [];
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
    // A document with blobs is the JSON part of a binary document: version 2.
    if (this.blobs.length > 0) this.#out = `{"ck":${BINARY_VERSION}${this.#out.slice(7)}`;
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
      // Read now: the encoder is another caller's by the time the message is made.
      const own = this.ownLimit;
      throw failure(
        DEEP_KIND,
        (at, role) =>
          `Cannot encode the value at ${at}: it nests deeper than ` +
          (own
            ? `${max} levels; flatten it or raise maxDepth`
            : `${max.toLocaleString("en-US")} levels, the most ${
              role === "result" ? "a function's result" : "a map's input"
            } may nest, a limit no option raises; flatten it`),
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
        this.#slot(target, key);
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
      return failure(
        name,
        (at, role) => `Cannot encode a ${name} at ${at}: ${advice(verbOf(role))}`,
      );
    }
    const name = className(object);
    const base = builtinBase(object);
    const kind = name ? `class ${name}` : "object with a custom prototype";
    const what = name ? `an instance of class ${name}` : "an object with a custom prototype";
    // Its data in no fields of its own (a URL's, a Headers'): a copy { ...value } would be empty.
    const hollow = base === undefined && ownKeyCount(object) === 0;
    const advice = (role: Role) =>
      hollow
        ? `its prototype would be lost ${
          role === "result" ? "on the way back" : "on the worker"
        }, and its data is not in fields of its own ({ ...value } would be empty); ` +
          `${verbOf(role)} ${
            HOLLOW_DATA[name] ?? "the values you need of it as plain data"
          } instead`
        : role === "result"
        ? base !== undefined
          ? `it extends ${base} but its own prototype would be lost on the way back; return a plain ${base} instead`
          : "its prototype would be lost on the way back; return a plain object (for example { ...value }) or only the fields you need"
        : base !== undefined
        ? `it extends ${base} but its own prototype would be lost on the worker; convert it to a plain ${base} first`
        : "its prototype would be lost on the worker; convert it to a plain object (for example { ...value }) or pass only the fields the job needs";
    return failure(kind, (at, role) => `Cannot encode ${what} at ${at}: ${advice(role)}`);
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
            `Cannot encode the property ${shown} of the object at ${at}: symbol keys cannot cross between processes; use a string key or remove the property`,
        );
      }
    }
  }

  /**
   * Writes `target[key]`; an error names the key and whether reading it (a
   * getter) or encoding its value failed.
   */
  #slot(target: Slot, key: string | number): void {
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

  /** Writes `"key":value` pairs, without braces. */
  #properties(object: Slot, keys: string[], from: number): void {
    for (let i = from; i < keys.length; i++) {
      const key = keys[i]!;
      if (i > from) this.#out += ",";
      this.#out += this.#key(key);
      this.#slot(object, key);
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
        this.#slot(array as unknown as Slot, i);
      }
      this.#out += "]";
    } else {
      this.#out += `{"$":"Array","length":${length},"entries":[`;
      for (let i = 0; i < indices; i++) {
        const position = Number(keys[i]);
        this.#out += i === 0 ? `[${position},` : `,[${position},`;
        this.#slot(array as unknown as Slot, position);
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
        (at, role) =>
          `Cannot encode a detached ArrayBuffer at ${at}: it was transferred and has no bytes; ${
            verbOf(role)
          } a copy made before transferring`,
      );
    }
    const max = buffer.resizable ? `,"maxByteLength":${buffer.maxByteLength}` : "";
    const index = this.#begin(buffer, false);
    if (this.binary) {
      // Its bytes go beside the text, as they are: no base64.
      this.#end(index, `{"$":"ArrayBuffer","blob":${this.blobs.length}${max}}`);
      this.blobs.push(new Uint8Array(buffer, 0, buffer.byteLength));
      return;
    }
    const base64 = toBase64(new Uint8Array(buffer));
    this.#end(index, `{"$":"ArrayBuffer","base64":"${base64}"${max}}`);
  }

  #view(view: ArrayBufferView): void {
    const name = view instanceof DataView ? "DataView" : className(view);
    const buffer = view.buffer;
    if (!(buffer instanceof ArrayBuffer)) {
      throw failure(
        name,
        (at) =>
          `Cannot encode a ${name} over a SharedArrayBuffer at ${at}: shared memory cannot cross between processes; copy it with view.slice()`,
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

let idleEncoder: Encoder | undefined = new Encoder();

/**
 * Runs `use` with an idle encoder set up for `options`; `fixed` encodes a
 * map's input or a job function's result, whose depth limit is no caller's
 * to raise, so a value too deep is told to be flattened only.
 */
function withEncoder<T>(
  options: EncodeOptions | undefined,
  use: (encoder: Encoder) => T,
  fixed = false,
): T {
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
  encoder.ownLimit = !fixed;
  try {
    return use(encoder);
  } finally {
    encoder.reset();
    encoder.binary = false;
    encoder.ownLimit = true;
    idleEncoder = encoder;
  }
}

function encodeText(value: unknown, encoder: Encoder, role?: Role): string {
  try {
    return encoder.document(value);
  } catch (e) {
    throw toCodecError(e instanceof Failure ? e : fromThrown(e), "encode", role);
  }
}

const utf8 = new TextEncoder();

/**
 * Encodes a value as JSON text in the cloudknot format and returns the text.
 * See the codec module (`src/job/codec.ts`) for what can be carried.
 *
 * @example Usage
 * ```ts
 * import { encodeToString } from "@cloudknot/cloudknot/codec";
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
 * Encodes a value as UTF-8 JSON bytes in the cloudknot format. See the codec
 * module (`src/job/codec.ts`) for what can be carried and what is rejected.
 *
 * @example Usage
 * ```ts
 * import { decode, encode } from "@cloudknot/cloudknot/codec";
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
  return withEncoder(options, (encoder) => encodeBytes(value, encoder));
}

/**
 * Internal (not in the codec's entry point): encodes what a job function
 * returned, as {@linkcode encode} does, but a {@linkcode CodecError} advises
 * what to return rather than what to pass, and a value nested deeper than
 * {@linkcode DEFAULT_MAX_DEPTH} levels is told to be flattened (its caller
 * has no `maxDepth` to raise). Only the error path differs.
 *
 * @example Usage
 * ```ts ignore
 * encodeResult({ cb: () => 1 }); // throws: "…; return data instead, …"
 * ```
 *
 * @param value What the job function returned.
 * @returns The encoded document.
 * @throws {CodecError} When the value holds something that cannot be carried.
 */
export function encodeResult(value: unknown): Uint8Array {
  return withEncoder(undefined, (encoder) => encodeBytes(value, encoder, "result"), true);
}

/**
 * Internal (not in the codec's entry point): encodes one input of a map, as
 * {@linkcode encode} does, but a value nested deeper than
 * {@linkcode DEFAULT_MAX_DEPTH} levels is told to be flattened: `map()` and
 * `cloudknot map` have no `maxDepth` to raise. Only the error path differs.
 *
 * @example Usage
 * ```ts ignore
 * encodeInput([[[1]]]); // the bytes encode([[[1]]]) gives
 * ```
 *
 * @param value The input.
 * @returns The encoded document.
 * @throws {CodecError} When the value holds something that cannot be carried.
 */
export function encodeInput(value: unknown): Uint8Array {
  return withEncoder(undefined, (encoder) => encodeBytes(value, encoder, "input"), true);
}

/** A document's bytes: its UTF-8 text, or a binary document when it has blobs. */
function encodeBytes(value: unknown, encoder: Encoder, role?: Role): Uint8Array {
  encoder.binary = true;
  const text = encodeText(value, encoder, role);
  return encoder.blobs.length === 0 ? utf8.encode(text) : binaryDocument(text, encoder.blobs);
}

/**
 * Lays out a binary document (see `format.ts`): the magic, the JSON part's
 * length and its UTF-8, the blob count and each blob's length, the blobs.
 */
function binaryDocument(text: string, blobs: readonly Uint8Array[]): Uint8Array {
  const json = utf8.encode(text);
  let size = BINARY_MAGIC.length + 4 + json.byteLength + 4 + 8 * blobs.length;
  for (const blob of blobs) size += blob.byteLength;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(BINARY_MAGIC);
  let at = BINARY_MAGIC.length;
  view.setUint32(at, json.byteLength, true);
  out.set(json, at + 4);
  at += 4 + json.byteLength;
  view.setUint32(at, blobs.length, true);
  at += 4;
  for (const blob of blobs) {
    view.setBigUint64(at, BigInt(blob.byteLength), true);
    at += 8;
  }
  for (const blob of blobs) {
    out.set(blob, at);
    at += blob.byteLength;
  }
  return out;
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
 * import { CodecError, decode, encodeItems } from "@cloudknot/cloudknot/codec";
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
      encoder.binary = true;
      const text = encodeText(item, encoder);
      if (encoder.blobs.length === 0) chunks.add(text, encoder.ascii);
      else chunks.addBytes(binaryDocument(text, encoder.blobs));
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

  /** Adds a document that is already bytes, after the texts before it. */
  addBytes(bytes: Uint8Array): void {
    this.#flush();
    this.#out.push(bytes);
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
