/**
 * Internal: what the encoder and the decoder share: the failure their walks
 * throw at a bad value (each frame on the way out adds its step, so the
 * happy path pays nothing for paths), and the built-in classes the format
 * names.
 *
 * @module
 */
import { CodecError, formatPath, type PathSegment } from "./error.ts";

export class Failure {
  /** Steps from the bad value outwards (reversed at the end). */
  readonly steps: PathSegment[] = [];
  constructor(
    readonly kind: string,
    readonly explain: (at: string) => string,
    readonly cause?: unknown,
  ) {}
}

export function step(
  e: unknown,
  segment: PathSegment,
  mode: "read" | "encode" | "decode",
): Failure {
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

export function fromThrown(e: unknown, operation: "encode" | "decode" = "encode"): Failure {
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

export function toCodecError(failure: Failure, operation: "encode" | "decode"): CodecError {
  const path = failure.steps.slice().reverse();
  return new CodecError(failure.explain(formatPath(path, { maxSteps: 40 })), {
    operation,
    path,
    kind: failure.kind,
    cause: failure.cause,
  });
}

export function describeThrown(e: unknown): string {
  try {
    if (e instanceof Error) return `${e.name}: ${e.message}`;
    return typeof e === "string" ? JSON.stringify(e) : String(e);
  } catch {
    return "a value that cannot be shown";
  }
}

/** A plain object or array being read or built. */
// deno-lint-ignore no-explicit-any
export type Slot = Record<string | number, any>;

/** The typed array classes of this runtime, by the name the format uses. */
export const TYPED_ARRAYS: Record<string, ArrayBufferViewConstructor> = {};
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

/** The built-in error classes an `Error` node's `type` may name (besides `AggregateError` and `DOMException`). */
export const ERROR_TYPES: Record<string, new (message?: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** The class an `Error` node without `type` decodes as: its built-in name, else `Error`. */
export function defaultErrorType(name: string): string {
  return name in ERROR_TYPES || name === "AggregateError" ? name : "Error";
}

/** Whether a key is an index of an array of this length. */
export function isIndex(key: string, length: number): boolean {
  const n = Number(key);
  return n < length && String(n) === key;
}
