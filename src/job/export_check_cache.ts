/**
 * What the last check of a module's export found, kept on disk: packaging a
 * `module` learns that its export is a function by running its bundle in a
 * deno of its own (about 0.1 s), and a module bundled again unchanged (each
 * `cloudknot map` of it, each `Knot.create` or `DockerImage.create` in a new
 * process) makes the same bundle. One small file per module and export (its
 * name a hash of the module's URL, the export and the Deno version) holds the
 * hash of the last bundle whose export was a function; a bundle with that
 * hash is not run again.
 *
 * Only a function is remembered: a bundle whose export is not one is refused
 * (the user changes it, and the bundle with it), and one whose check could not
 * run (its top level needs a permission, or took too long) is checked again.
 * The bundle's code alone decides what its check finds: the check runs it
 * with no permission but reading it.
 *
 * @module
 */
import { sha256Hex } from "../util/sha256.ts";

/** Where a module's last function bundle is kept, and its hash. */
interface Entry {
  /** The file that holds the hash. */
  path: string;
  /** The bundle's hash. */
  hash: string;
}

async function entryOf(
  dir: string,
  module: URL,
  exportName: string,
  bundle: string,
): Promise<Entry> {
  const [name, hash] = await Promise.all([
    sha256Hex(`${Deno.version.deno}\n${module.href}\n${exportName}`),
    sha256Hex(bundle),
  ]);
  return { path: `${dir}/${name.slice(0, 32)}`, hash };
}

/**
 * Whether this bundle of the module's export is the one the last check found
 * a function in.
 *
 * @example Usage
 * ```ts
 * import { knownFunctionBundle, rememberFunctionBundle } from "./export_check_cache.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const module = new URL("file:///jobs.ts");
 * const bundle = "export default (x) => x;";
 * console.log(await knownFunctionBundle(dir, module, "square", bundle)); // false
 * await rememberFunctionBundle(dir, module, "square", bundle);
 * console.log(await knownFunctionBundle(dir, module, "square", bundle)); // true
 * ```
 *
 * @param dir The folder of the cache.
 * @param module The module's URL.
 * @param exportName The export.
 * @param bundle The bundle's code.
 * @returns `true` when the check need not run.
 */
export async function knownFunctionBundle(
  dir: string,
  module: URL,
  exportName: string,
  bundle: string,
): Promise<boolean> {
  const { path, hash } = await entryOf(dir, module, exportName, bundle);
  try {
    return (await Deno.readTextFile(path)) === hash;
  } catch {
    // Missing, unreadable or refused: the check runs, as it did before there was a cache.
    return false;
  }
}

/**
 * Remembers that this bundle of the module's export exports a function, in
 * place of the module's earlier bundle. Written under another name, then
 * renamed, so a reader sees the old hash or the new one, never part of one;
 * a cache that cannot be written (a full disk, a read-only home) costs the
 * check next time, nothing else.
 *
 * @example Usage
 * ```ts
 * import { rememberFunctionBundle } from "./export_check_cache.ts";
 *
 * await rememberFunctionBundle(await Deno.makeTempDir(), new URL("file:///jobs.ts"), "default", "export default () => 1;");
 * ```
 *
 * @param dir The folder of the cache.
 * @param module The module's URL.
 * @param exportName The export.
 * @param bundle The bundle's code.
 */
export async function rememberFunctionBundle(
  dir: string,
  module: URL,
  exportName: string,
  bundle: string,
): Promise<void> {
  const { path, hash } = await entryOf(dir, module, exportName, bundle);
  const partial = `${path}.${crypto.randomUUID()}.partial`;
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    await Deno.writeTextFile(partial, hash);
    await Deno.rename(partial, path);
  } catch {
    await Deno.remove(partial).catch(() => {});
  }
}
