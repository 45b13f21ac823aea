/**
 * The runs a knot keeps in a directory of its own on this machine (the local
 * and docker targets): one folder per run, each with its manifest.
 *
 * @module
 */
import { join } from "node:path";

/**
 * Reads the manifest of every run folder under `root`, oldest first: a folder
 * whose manifest cannot be read is left out, and a missing `root` means no
 * runs.
 *
 * @example Usage
 * ```ts ignore
 * import { readRunManifests } from "./run_manifests.ts";
 *
 * const runs = await readRunManifests(join(knotDir, "runs"), async (dir) => (await RunDir.open(dir))?.manifest);
 * ```
 *
 * @param root The folder that holds one folder per run.
 * @param open Reads one run folder's manifest, or `undefined` when it has none.
 * @returns The manifests, by creation time, then run id.
 */
export async function readRunManifests<M extends { createdAt: number; runId: string }>(
  root: string,
  open: (dir: string) => Promise<M | undefined>,
): Promise<M[]> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(root));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const manifests: M[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory) continue;
    const manifest = await open(join(root, entry.name));
    if (manifest !== undefined) manifests.push(manifest);
  }
  return manifests.sort((a, b) => a.createdAt - b.createdAt || (a.runId < b.runId ? -1 : 1));
}
