/**
 * Internal, for the encoder and the decoder: the built-in classes the format
 * names (typed arrays, errors) and how it tells an array index.
 *
 * @module
 */
import { ERROR_CLASSES } from "../../util/builtin_errors.ts";

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

/** The class an `Error` node without `type` decodes as: its built-in name, else `Error`. */
export function defaultErrorType(name: string): string {
  return name in ERROR_CLASSES || name === "AggregateError" ? name : "Error";
}

/** Whether a key is an index of an array of this length. */
export function isIndex(key: string, length: number): boolean {
  const n = Number(key);
  return n < length && String(n) === key;
}
