/**
 * Reading a text file that may not exist.
 *
 * @module
 */

/**
 * Reads a text file; a file that does not exist is `undefined`, any other
 * failure throws.
 *
 * @example Usage
 * ```ts
 * import { readTextIfExists } from "./read_text.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await readTextIfExists("/nonexistent/cloudknot/config"), undefined);
 * ```
 *
 * @param path The file's path.
 * @returns Its text, or `undefined` when it does not exist.
 */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}
