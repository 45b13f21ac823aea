/**
 * The folders a local knot's create left half made in its `artifacts/`: an
 * artifact that ships files is made in `.<hash>.tmp-<random>/` and renamed to
 * `<hash>/` once whole (`local_knot.ts`), so a process killed while it copied
 * the files leaves that folder, which nothing reads or removes.
 *
 * A folder is a leftover only while no process makes it: the maker holds an
 * exclusive lock on the folder itself from just after it makes it until it
 * renames it, and the system releases it when the maker dies, however it
 * dies (a process id in the name would be reused, and mean nothing to another
 * machine sharing the folder). One younger than {@linkcode LOCK_GRACE_MS} is
 * left alone: its maker may be caught between making it and locking it.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { type EnvLookup, localKnotsDir, MAKING_ARTIFACT } from "../store/local_knots.ts";
import { CloudknotError, CloudknotInputError } from "../util/errors.ts";
import { pathExists } from "../util/read_text.ts";
import { LOCK_GRACE_MS } from "./_run_leftovers.ts";

/** A half-made artifact folder a killed create left. */
export interface ArtifactLeftover {
  /** The knot's name. */
  knot: string;
  /** The folder, `<knot>/artifacts/.<hash>.tmp-…`. */
  dir: string;
}

/**
 * Runs `then` while holding the folder's lock, if no process holds it and it
 * was last changed more than {@linkcode LOCK_GRACE_MS} ago; returns whether
 * it ran.
 */
async function whileAbandoned(dir: string, then: () => Promise<void>): Promise<boolean> {
  let folder: Deno.FsFile;
  try {
    folder = await Deno.open(dir, { read: true });
  } catch (e) {
    // Renamed into place, or removed, since it was listed.
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
  try {
    if (!folder.tryLockSync(true)) return false;
    const changed = (await folder.stat()).mtime?.getTime() ?? 0;
    if (Date.now() - changed < LOCK_GRACE_MS) return false;
    await then();
    return true;
  } finally {
    folder.close();
  }
}

async function entries(dir: string): Promise<Deno.DirEntry[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).sort((a, b) => a.name < b.name ? -1 : 1);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return [];
    throw e;
  }
}

/**
 * The half-made artifact folders (`artifacts/.<hash>.tmp-…`) of the knots in
 * the knots directory that no process is making. It only reads.
 *
 * @example Usage
 * ```ts ignore
 * import { findArtifactLeftovers } from "./_artifact_leftovers.ts";
 *
 * for (const left of await findArtifactLeftovers()) console.log(left.dir);
 * ```
 *
 * @param options `dir` is the knots directory, `env` reads `CLOUDKNOT_LOCAL_DIR`.
 * @returns The leftovers, by knot, then name.
 */
export async function findArtifactLeftovers(
  options: { dir?: string; env?: EnvLookup } = {},
): Promise<ArtifactLeftover[]> {
  const knots = localKnotsDir(options);
  const found: ArtifactLeftover[] = [];
  for (const knot of await entries(knots)) {
    if (!knot.isDirectory) continue;
    const artifacts = join(knots, knot.name, "artifacts");
    for (const entry of await entries(artifacts)) {
      if (!entry.isDirectory || !MAKING_ARTIFACT.test(entry.name)) continue;
      const dir = join(artifacts, entry.name);
      if (await whileAbandoned(dir, async () => {})) found.push({ knot: knot.name, dir });
    }
  }
  return found;
}

/**
 * Removes a folder {@linkcode findArtifactLeftovers} found, holding its lock
 * meanwhile, so one a process makes now is kept.
 *
 * @example Usage
 * ```ts ignore
 * import { removeArtifactLeftover } from "./_artifact_leftovers.ts";
 *
 * await removeArtifactLeftover(`/home/me/.cloudknot/local/squares/artifacts/.${hash}.tmp-x1y2`);
 * ```
 *
 * @param dir The folder; one already gone counts as removed.
 * @throws {CloudknotError} When a live process makes it.
 * @throws {CloudknotInputError} When it is not such a folder (`…/artifacts/.<hash>.tmp-…`).
 */
export async function removeArtifactLeftover(dir: string): Promise<void> {
  if (basename(dirname(dir)) !== "artifacts" || !MAKING_ARTIFACT.test(basename(dir))) {
    throw new CloudknotInputError(
      `Not the folder of a half-made artifact (…/artifacts/.<hash>.tmp-…): ${dir}`,
      { field: "id" },
    );
  }
  if (!await pathExists(dir, { followLinks: false })) return;
  const removed = await whileAbandoned(dir, () => Deno.remove(dir, { recursive: true }));
  if (!removed) {
    throw new CloudknotError(
      `The folder ${dir} was kept: a process is making its knot's artifact in it now (or ` +
        `made it less than a minute ago); run gc again once that create has ended`,
    );
  }
}
