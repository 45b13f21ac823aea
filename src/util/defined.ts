/**
 * Options objects without their `undefined` fields.
 *
 * @module
 */

/**
 * The given fields without those that are `undefined`: an optional field of
 * an options object is left out rather than set to `undefined`, as
 * `exactOptionalPropertyTypes` asks. Spread it into the object:
 * `{ name, ...defined({ timeout, memory }) }`.
 *
 * @example Usage
 * ```ts
 * import { defined } from "./defined.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(defined({ a: 1, b: undefined }), { a: 1 });
 * ```
 *
 * @param fields The fields, some perhaps `undefined`.
 * @returns A new object with the fields that have a value.
 */
export function defined<T extends object>(
  fields: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
}
