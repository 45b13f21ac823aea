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
import { writeTextAtomically } from "../util/write_text.ts";

/** One bundle of a module's export, as the cache knows it. */
export interface ExportCheckEntry {
  /** Whether this bundle is the one the last check found a function in. */
  known(): Promise<boolean>;
  /**
   * Remembers that this bundle exports a function, in place of the module's
   * earlier bundle. A cache that cannot be written (a full disk, a read-only
   * home) costs the check next time, nothing else.
   */
  remember(): Promise<void>;
}

/**
 * The cache's entry for one bundle of a module's export: its file and the
 * bundle's hash, each computed once for both questions.
 *
 * @example Usage
 * ```ts
 * import { exportCheckEntry } from "./export_check_cache.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const entry = await exportCheckEntry(dir, new URL("file:///jobs.ts"), "square", "export default (x) => x;");
 * console.log(await entry.known()); // false
 * await entry.remember();
 * console.log(await entry.known()); // true
 * ```
 *
 * @param dir The folder of the cache.
 * @param module The module's URL.
 * @param exportName The export.
 * @param bundle The bundle's code.
 * @returns The entry.
 */
export async function exportCheckEntry(
  dir: string,
  module: URL,
  exportName: string,
  bundle: string,
): Promise<ExportCheckEntry> {
  const [name, hash] = await Promise.all([
    sha256Hex(`${Deno.version.deno}\n${module.href}\n${exportName}`),
    sha256Hex(bundle),
  ]);
  const path = `${dir}/${name.slice(0, 32)}`;
  return {
    known: async () => {
      try {
        return (await Deno.readTextFile(path)) === hash;
      } catch {
        // Missing, unreadable or refused: the check runs, as it did before there was a cache.
        return false;
      }
    },
    remember: async () => {
      try {
        await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
        await writeTextAtomically(path, hash);
      } catch {
        // Nothing kept: the next packaging of this bundle runs the check.
      }
    },
  };
}
