/**
 * Error records: a plain JSON form of anything a job function throws, so the
 * error (its name, message, remote stack, code and cause) can be written by
 * the worker and turned back into an `Error` on the client.
 *
 * Unlike the codec, these helpers never throw: a thrown string, number,
 * `null`, a Proxy or an object whose getters throw still gives a record, and
 * any record (even a damaged one) still gives an `Error`. The record holds
 * JSON values only, so `JSON.stringify` always works on it.
 *
 * @module
 */
import { ERROR_CLASSES } from "../util/builtin_errors.ts";
import { setStack } from "../util/error_stack.ts";

/** A JSON value, as found in {@linkcode SerializedError.props}. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * The plain JSON form of a thrown value.
 *
 * @example Usage
 * ```ts
 * import type { SerializedError } from "@cloudknot/cloudknot/job";
 *
 * const record: SerializedError = { name: "TypeError", message: "x is not a function", stack: "TypeError: x is not a function\n    at job (job.ts:3:5)" };
 * console.log(record.name); // "TypeError"
 * ```
 */
export interface SerializedError {
  /** The error's name, such as `"TypeError"` or a custom class name; `"Error"` for a thrown non-error. */
  name: string;
  /** The error's message; for a thrown non-error, the value as text. */
  message: string;
  /** The stack where the error was made (on the worker), when there is one. */
  stack?: string;
  /** The error's `code` property, when it is a string or a number (such as `"ENOENT"`). */
  code?: string | number;
  /** The error's `cause`, as a record of its own. */
  cause?: SerializedError;
  /** The `errors` of an `AggregateError`. */
  errors?: SerializedError[];
  /** Other own enumerable properties, made JSON-safe (functions, cycles and the like become text). */
  props?: { [key: string]: JsonValue };
  /** Set when the thrown value was not an `Error`: its type, such as `"string"`, `"number"`, `"null"` or `"object"`. */
  thrown?: string;
}

const MAX_CAUSES = 8;
const MAX_DEPTH = 4;
const MAX_TEXT = 2000;
const SKIPPED = new Set(["name", "message", "stack", "cause", "errors", "code"]);

function attempt<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

function isErrorLike(value: unknown): value is Error {
  if (typeof value !== "object" || value === null) return false;
  const isError = (Error as unknown as { isError?: (v: unknown) => boolean }).isError;
  return attempt(() => value instanceof Error || (isError?.(value) ?? false), false);
}

function clip(text: string): string {
  return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) + "…" : text;
}

function className(value: object): string {
  return attempt(() => {
    const proto = Object.getPrototypeOf(value);
    if (proto === null) return "Object";
    const ctor = Object.getOwnPropertyDescriptor(proto, "constructor")?.value;
    return typeof ctor === "function" && ctor.name ? String(ctor.name) : "Object";
  }, "Object");
}

/** An instance of a class, not plain data (an array, a date or an object of `Object` or none). */
function isInstance(value: object): boolean {
  if (Array.isArray(value) || value instanceof Date) return false;
  const proto = Object.getPrototypeOf(value);
  return proto !== Object.prototype && proto !== null;
}

/** Text for any value, never throwing. */
function show(value: unknown): string {
  switch (typeof value) {
    case "string":
      return clip(value);
    case "symbol":
      return attempt(() => value.toString(), "Symbol()");
    case "function":
      return `[Function ${attempt(() => String(value.name), "") || "anonymous"}]`;
    case "object":
      if (value === null) return "null";
      return attempt(() => {
        if (isInstance(value)) {
          // Its class and its own fields, where toJson would give only `[object Oops]`.
          const fields = plainProps(value as Record<string, unknown>, [], 1, new Set([value]));
          return clip(`${className(value)} ${JSON.stringify(fields ?? {})}`);
        }
        const json = JSON.stringify(toJson(value, 0, new Set()));
        return clip(json ?? `[object ${className(value)}]`);
      }, `[object ${className(value)}]`);
    default:
      return String(value);
  }
}

/** A JSON-safe copy of a value, for `props`. */
function toJson(value: unknown, depth: number, seen: Set<object>): JsonValue | undefined {
  switch (typeof value) {
    case "string":
      return clip(value);
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? (value === 0 ? 0 : value) : String(value);
    case "bigint":
      return `${value}n`;
    case "undefined":
      return undefined;
    case "symbol":
    case "function":
      return show(value);
  }
  if (value === null) return null;
  const object = value as object;
  if (seen.has(object)) return "[Circular]";
  if (isErrorLike(object)) {
    return errorToRecordAt(object, depth + MAX_CAUSES, seen) as unknown as JsonValue;
  }
  if (object instanceof Date) {
    return attempt(() => object.toISOString(), "Invalid Date");
  }
  if (depth >= MAX_DEPTH) return `[${className(object)}]`;
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      const out: JsonValue[] = [];
      const length = attempt(() => Math.min(object.length, 100), 0);
      for (let i = 0; i < length; i++) {
        out.push(attempt(() => toJson(object[i], depth + 1, seen), "[unreadable]") ?? null);
      }
      return out;
    }
    const proto = attempt(() => Object.getPrototypeOf(object), undefined);
    if (proto !== Object.prototype && proto !== null) return `[object ${className(object)}]`;
    return plainProps(object as Record<string, unknown>, [], depth + 1, seen) ?? {};
  } finally {
    seen.delete(object);
  }
}

function plainProps(
  object: Record<string, unknown>,
  skip: string[] | Set<string>,
  depth: number,
  seen: Set<object>,
): { [key: string]: JsonValue } | undefined {
  const keys = attempt(() => Object.keys(object), [] as string[]);
  let out: { [key: string]: JsonValue } | undefined;
  for (const key of keys.slice(0, 100)) {
    if (skip instanceof Set ? skip.has(key) : skip.includes(key)) continue;
    const value = attempt(() => toJson(object[key], depth, seen), "[unreadable]");
    if (value === undefined) continue;
    out ??= {};
    Object.defineProperty(out, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  return out;
}

function errorToRecordAt(value: unknown, depth: number, seen: Set<object>): SerializedError {
  if (!isErrorLike(value)) {
    const thrown = value === null ? "null" : typeof value;
    const record: SerializedError = { name: "Error", message: show(value) };
    if (typeof value === "object" && value !== null) {
      const object = value as Record<string, unknown>;
      const name = attempt(() => object.name, undefined);
      const message = attempt(() => object.message, undefined);
      if (typeof name === "string" && name) record.name = clip(name);
      if (typeof message === "string") record.message = clip(message);
      addCode(record, object);
      seen.add(object);
      const props = plainProps(object, SKIPPED, 1, seen);
      seen.delete(object);
      if (props !== undefined) record.props = props;
    }
    record.thrown = thrown;
    return record;
  }
  const error = value as unknown as Record<string, unknown>;
  const name = attempt(() => error.name, undefined);
  const message = attempt(() => error.message, undefined);
  const record: SerializedError = {
    name: typeof name === "string" && name ? clip(name) : className(value),
    message: typeof message === "string" ? message : message === undefined ? "" : show(message),
  };
  const stack = attempt(() => error.stack, undefined);
  if (typeof stack === "string") record.stack = stack;
  addCode(record, error);
  seen.add(value);
  try {
    if (attempt(() => Object.hasOwn(value, "cause"), false)) {
      const cause = attempt(() => error.cause, "[unreadable]");
      if (typeof cause === "object" && cause !== null && seen.has(cause)) {
        record.cause = { name: "Error", message: "[Circular]" };
      } else if (depth < MAX_CAUSES) record.cause = errorToRecordAt(cause, depth + 1, seen);
      else record.cause = { name: "Error", message: "[further causes omitted]" };
    }
    const errors = attempt(() => error.errors, undefined);
    if (Array.isArray(errors) && value instanceof AggregateError) {
      const list = attempt(() => errors.slice(0, 100), []);
      record.errors = list.map((e) =>
        typeof e === "object" && e !== null && seen.has(e)
          ? { name: "Error", message: "[Circular]" }
          : depth < MAX_CAUSES
          ? errorToRecordAt(e, depth + 1, seen)
          : { name: "Error", message: "[further errors omitted]" }
      );
    }
    const props = plainProps(error, SKIPPED, 1, seen);
    if (props !== undefined) record.props = props;
  } finally {
    seen.delete(value);
  }
  return record;
}

function addCode(record: SerializedError, object: Record<string, unknown>): void {
  const code = attempt(() => object.code, undefined);
  if (typeof code === "string") record.code = clip(code);
  else if (typeof code === "number" && Number.isFinite(code)) record.code = code;
}

/**
 * Makes the plain JSON record of anything thrown: an `Error` of any class, or
 * a thrown string, number, `null`, plain object and so on. It keeps the
 * stack, so the client can show where the job failed on the worker. It never
 * throws.
 *
 * @example Usage
 * ```ts
 * import { errorToRecord } from "@cloudknot/cloudknot/job";
 * import assert from "node:assert/strict";
 *
 * const e = Object.assign(new RangeError("too big", { cause: "limit" }), { code: "E_BIG" });
 * const record = errorToRecord(e);
 * assert.deepEqual(record.name, "RangeError");
 * assert.deepEqual(record.code, "E_BIG");
 * assert.deepEqual(record.cause, { name: "Error", message: "limit", thrown: "string" });
 * assert.deepEqual(errorToRecord("boom"), { name: "Error", message: "boom", thrown: "string" });
 * ```
 *
 * @param error The thrown value.
 * @returns Its record, made of JSON values only.
 */
export function errorToRecord(error: unknown): SerializedError {
  try {
    return errorToRecordAt(error, 0, new Set());
  } catch {
    return { name: "Error", message: "A value was thrown that cannot be read", thrown: "unknown" };
  }
}

function hidden(target: object, key: string, value: unknown, enumerable = false): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable, configurable: true });
}

function fromRecord(record: unknown, depth: number): Error {
  if (typeof record !== "object" || record === null) {
    return new Error(typeof record === "string" ? record : show(record));
  }
  const r = record as Record<string, unknown>;
  const name = typeof r.name === "string" && r.name ? r.name : "Error";
  const message = typeof r.message === "string" ? r.message : show(r.message ?? "");
  let error: Error;
  if (name === "AggregateError") {
    const errors = Array.isArray(r.errors) && depth < MAX_CAUSES
      ? r.errors.map((e) => fromRecord(e, depth + 1))
      : [];
    error = new AggregateError(errors, message);
  } else {
    error = new (Object.hasOwn(ERROR_CLASSES, name) ? ERROR_CLASSES[name]! : Error)(message);
    if (Array.isArray(r.errors) && depth < MAX_CAUSES) {
      hidden(error, "errors", r.errors.map((e) => fromRecord(e, depth + 1)));
    }
  }
  if (error.name !== name) hidden(error, "name", name);
  setStack(error, typeof r.stack === "string" ? r.stack : `${name}: ${message}`);
  if (typeof r.code === "string" || typeof r.code === "number") hidden(error, "code", r.code, true);
  if (r.cause !== undefined && depth < MAX_CAUSES) {
    hidden(error, "cause", fromRecord(r.cause, depth + 1));
  }
  if (typeof r.props === "object" && r.props !== null && !Array.isArray(r.props)) {
    for (const key of Object.keys(r.props)) {
      if (key === "stack" || key === "message" || key === "name") continue;
      hidden(error, key, (r.props as Record<string, unknown>)[key], true);
    }
  }
  if (typeof r.thrown === "string") hidden(error, "thrown", r.thrown, true);
  return error;
}

/**
 * Turns an error record back into an `Error`: of the built-in class its name
 * names (`TypeError`, `AggregateError`, …) or an `Error` whose `name` is the
 * custom name, with the remote stack as its `stack`, its `code`, `cause` and
 * other properties. It never throws, even for a damaged record.
 *
 * @example Usage
 * ```ts
 * import { errorToRecord, recordToError } from "@cloudknot/cloudknot/job";
 * import assert from "node:assert/strict";
 *
 * const record = errorToRecord(new TypeError("bad input"));
 * const error = recordToError(record);
 * assert.ok(error instanceof TypeError);
 * assert.deepEqual(error.stack, record.stack);
 * ```
 *
 * @param record A record made by {@linkcode errorToRecord}, possibly after a trip through JSON.
 * @returns The error.
 */
export function recordToError(record: SerializedError): Error {
  try {
    return fromRecord(record, 0);
  } catch {
    return new Error("An error record could not be read");
  }
}

/**
 * Checks that a value has the shape of an {@linkcode SerializedError} (a `name`
 * and a `message` that are strings, and optional fields of the right types),
 * for example after reading one from storage.
 *
 * @example Usage
 * ```ts
 * import { isSerializedError } from "@cloudknot/cloudknot/job";
 *
 * console.log(isSerializedError({ name: "Error", message: "boom" })); // true
 * console.log(isSerializedError({ message: 1 })); // false
 * ```
 *
 * @param value Any value.
 * @returns Whether it is an error record.
 */
export function isSerializedError(value: unknown): value is SerializedError {
  return isRecord(value, 0);
}

function isRecord(value: unknown, depth: number): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const r = value as Record<string, unknown>;
  if (typeof r.name !== "string" || typeof r.message !== "string") return false;
  if (r.stack !== undefined && typeof r.stack !== "string") return false;
  if (r.code !== undefined && typeof r.code !== "string" && typeof r.code !== "number") {
    return false;
  }
  if (r.thrown !== undefined && typeof r.thrown !== "string") return false;
  if (r.props !== undefined && (typeof r.props !== "object" || r.props === null)) return false;
  if (depth > MAX_CAUSES * 2) return true;
  if (r.cause !== undefined && !isRecord(r.cause, depth + 1)) return false;
  if (r.errors !== undefined) {
    if (!Array.isArray(r.errors)) return false;
    if (!r.errors.every((e) => isRecord(e, depth + 1))) return false;
  }
  return true;
}
