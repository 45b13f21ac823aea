/**
 * Writing a file whole or not at all: under a temporary name beside it, then
 * renamed into place, so a reader in another process sees the old text or
 * the new one, never part of one.
 *
 * @module
 */

/**
 * Writes `text` to `path` by a rename: on failure the temporary file is
 * removed and the error thrown, and `path` is as it was.
 *
 * @example Usage
 * ```ts
 * import { writeTextAtomically } from "./write_text.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await writeTextAtomically(`${dir}/cache.txt`, "hello");
 * console.log(await Deno.readTextFile(`${dir}/cache.txt`)); // "hello"
 * ```
 *
 * @param path The file.
 * @param text What it holds afterwards.
 * @param options `mode`: the file's permissions. @default {"0o666, less the umask"}
 */
export async function writeTextAtomically(
  path: string,
  text: string,
  options: { mode?: number } = {},
): Promise<void> {
  const partial = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.writeTextFile(partial, text, options);
    await Deno.rename(partial, path);
  } catch (e) {
    await Deno.remove(partial).catch(() => {});
    throw e;
  }
}
