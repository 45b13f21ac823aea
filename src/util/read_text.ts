/**
 * Reading a path that may not exist: a text file's contents, or whether
 * anything is there at all.
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

/** Options of {@linkcode pathExists}. */
export interface PathExistsOptions {
  /**
   * Whether a symbolic link counts by what it points to (`Deno.stat`), so
   * that a dangling one does not exist, or by itself (`Deno.lstat`).
   *
   * @default {true}
   */
  followLinks?: boolean;
}

/**
 * Whether anything (a file, a folder, a link) is at a path; a path that
 * does not exist is `false`, any other failure, such as a folder that may
 * not be read, throws.
 *
 * @example Usage
 * ```ts
 * import { pathExists } from "./read_text.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await pathExists("/nonexistent/cloudknot/config"), false);
 * assert.equal(await pathExists(Deno.execPath(), { followLinks: false }), true);
 * ```
 *
 * @param path The path.
 * @param options Whether a symbolic link is followed.
 * @returns Whether it exists.
 */
export async function pathExists(path: string, options: PathExistsOptions = {}): Promise<boolean> {
  try {
    await (options.followLinks === false ? Deno.lstat(path) : Deno.stat(path));
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
