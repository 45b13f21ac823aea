/**
 * The run folders a `map()` on this machine left unfinished: a docker run's
 * driver writes the run's inputs before its manifest (`run.json`), so one
 * killed while it reads them leaves `runs/<runId>/` with inputs no one can
 * read (`knot.runs()` skips it). The local target writes its manifest first,
 * so its killed runs are runs `collect()` finishes, never leftovers.
 *
 * A folder is a leftover only while no process drives it: each driver holds
 * an exclusive lock on one of its files (`RUN_LOCK_FILES`) from before it
 * writes the inputs until the run ends, and the system releases it when the
 * driver dies. A folder without such a file (its driver is making it this
 * moment, or it was killed before it could lock it; it holds nothing) is
 * left alone, and so is one whose lock file is younger than
 * {@linkcode LOCK_GRACE_MS}: a driver creates the file, then locks it, and
 * may be caught in between.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { RUN_KEYS } from "../job/payload.ts";
import {
  type EnvLookup,
  localKnotsDir,
  localRunsRoot,
  RUN_LOCK_FILES,
} from "../store/local_knots.ts";
import { checkPrivateDir } from "../store/private_dir.ts";
import { CloudknotError, CloudknotInputError } from "../util/errors.ts";
import { pathExists } from "../util/read_text.ts";

/**
 * How old a free lock file must be for its folder to count as left: more
 * than the moment between a driver creating it and locking it, however
 * loaded the machine (the file is never written, so its modification time is
 * when it was made).
 */
export const LOCK_GRACE_MS = 60_000;

/** A run folder a killed `map()` left. */
export interface RunLeftover {
  /** The knot's name. */
  knot: string;
  /** The run's folder. */
  dir: string;
  /** The bytes its files take. */
  bytes: number;
}

/** Where to look: the knots directory and the environment. */
export interface RunLeftoverOptions {
  /** The directory of the local and docker knots. @default {"$CLOUDKNOT_LOCAL_DIR, else ~/.cloudknot/local"} */
  dir?: string;
  /** Reads `CLOUDKNOT_LOCAL_DIR` and `CLOUDKNOT_LOCAL_RUNS`. @default {Deno.env.get} */
  env?: EnvLookup;
}

/** Whether anything is at a path, a link counting as itself. */
function exists(path: string): Promise<boolean> {
  return pathExists(path, { followLinks: false });
}

async function subfolders(dir: string): Promise<string[]> {
  try {
    const entries = await Array.fromAsync(Deno.readDir(dir));
    return entries.filter((e) => e.isDirectory).map((e) => e.name).sort();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return [];
    throw e;
  }
}

/**
 * Runs `then` while holding the lock of every lock file the run folder has,
 * if it has one, every lock is free and it has no manifest; returns whether
 * it ran.
 */
async function whileAbandoned(dir: string, then: () => Promise<void>): Promise<boolean> {
  const held: Deno.FsFile[] = [];
  try {
    for (const name of Object.values(RUN_LOCK_FILES)) {
      let file: Deno.FsFile;
      try {
        file = await Deno.open(join(dir, name), { read: true });
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) continue;
        throw e;
      }
      held.push(file);
      if (!file.tryLockSync(true)) return false;
      const made = (await file.stat()).mtime?.getTime() ?? 0;
      if (Date.now() - made < LOCK_GRACE_MS) return false;
    }
    // Checked under the locks: a driver writes its manifest while it holds them.
    if (held.length === 0 || await exists(join(dir, RUN_KEYS.manifest))) return false;
    await then();
    return true;
  } finally {
    for (const file of held) file.close();
  }
}

async function folderBytes(dir: string): Promise<number> {
  let bytes = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) bytes += await folderBytes(path);
    else bytes += (await Deno.lstat(path)).size;
  }
  return bytes;
}

/**
 * The run folders of the knots in the knots directory (a local knot's runs
 * may be under `$CLOUDKNOT_LOCAL_RUNS`) that a `map()` killed while it wrote
 * the inputs left: no manifest, and no live process holds their lock (made
 * more than {@linkcode LOCK_GRACE_MS} ago). It only reads.
 *
 * @example Usage
 * ```ts ignore
 * import { findRunLeftovers } from "./_run_leftovers.ts";
 *
 * for (const left of await findRunLeftovers()) console.log(left.dir, left.bytes);
 * ```
 *
 * @param options Where the knots are.
 * @returns The leftovers, by knot, then run id.
 */
export async function findRunLeftovers(options: RunLeftoverOptions = {}): Promise<RunLeftover[]> {
  const knots = localKnotsDir(options);
  const found: RunLeftover[] = [];
  for (const knot of await subfolders(knots)) {
    const root = join(knots, knot);
    if (!await exists(join(root, "knot.json"))) continue;
    const roots = new Set([root, await localRunsRoot(root, options)]);
    for (const runsRoot of roots) {
      const runs = join(runsRoot, "runs");
      for (const runId of await subfolders(runs)) {
        const dir = join(runs, runId);
        // Not a folder cloudknot made (another user's, or opened to others): not judged.
        if (!await checkPrivateDir(dir).then(() => true, () => false)) continue;
        let bytes = 0;
        if (await whileAbandoned(dir, async () => void (bytes = await folderBytes(dir)))) {
          found.push({ knot, dir, bytes });
        }
      }
    }
  }
  return found;
}

/**
 * Removes a run folder {@linkcode findRunLeftovers} found, holding its locks
 * meanwhile, so a process that took the run up since keeps it.
 *
 * @example Usage
 * ```ts ignore
 * import { removeRunLeftover } from "./_run_leftovers.ts";
 *
 * await removeRunLeftover("/home/me/.cloudknot/local/squares/runs/20260101T000000Z-abcdef");
 * ```
 *
 * @param dir The run's folder; one already gone counts as removed.
 * @param knot The name of its knot, for the error that keeps it.
 * @throws {CloudknotError} When a live process drives it, or it has a manifest now.
 * @throws {CloudknotInputError} When it is not a run's folder (`…/runs/<runId>`).
 */
export async function removeRunLeftover(dir: string, knot?: string): Promise<void> {
  if (basename(dirname(dir)) !== "runs") {
    throw new CloudknotInputError(`Not the folder of a run (…/runs/<run id>): ${dir}`, {
      field: "id",
    });
  }
  if (!await exists(dir)) return;
  await checkPrivateDir(dir);
  const removed = await whileAbandoned(dir, () => Deno.remove(dir, { recursive: true }));
  if (!removed) {
    throw new CloudknotError(
      `The run in ${dir} was kept: a process is writing it now (or made it less than a ` +
        `minute ago), or it has its manifest ` +
        `(${RUN_KEYS.manifest}) now; list ${
          knot === undefined ? "its knot's" : `knot ${knot}'s`
        } runs with knot.runs() on its handle`,
    );
  }
}
