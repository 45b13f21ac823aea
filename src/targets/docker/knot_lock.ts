/**
 * The lock of a docker knot's folder, which whatever writes its build
 * directory, builds its image, writes its record or removes it holds: a
 * knot's create (or adoption), the build of its image again at `map()`, and
 * its clobber. Two processes doing these to one knot at once take turns, so
 * neither builds the other's function under its own record, nor removes a
 * knot that another is half-way through making. What removes the containers
 * and images of a knot whose folder is gone (a driver after a clobber, `gc`)
 * holds the same lock on a folder it makes for that time
 * (`whileKnotGone`, `store/local_knots.ts`), so a create waits for it too.
 *
 * @module
 */
import { join } from "node:path";
import { ensurePrivateDir } from "../../store/private_dir.ts";
import { KNOT_LOCK_FILE } from "../../store/local_knots.ts";

/** Options of {@linkcode holdingKnot}. */
export interface HoldingKnotOptions {
  /**
   * Make the knot's folder (private) when it is missing, as a create does.
   * Without it, `body` runs without the lock when the folder is gone (the
   * knot was clobbered), as there is nothing left to take turns on.
   */
  make: boolean;
  /** Called once, before waiting, when another process holds the lock. */
  onWait: () => void;
}

/**
 * Runs `body` holding the knot's lock: an exclusive OS lock (`flock`) on
 * `<root>/knot.lock`, opened for writing (as an exclusive lock needs over
 * NFS). The kernel frees it when its holder exits however it exits, so a
 * killed holder leaves no lock that must age, as the lock of a run's folder.
 * The file stays, empty: removing it on release would let a waiter hold a
 * file no longer named. A lock taken on a file a clobber removed meanwhile
 * (with its folder) is let go, and the file named now is locked instead.
 *
 * Not re-entrant: a process holding it that takes it again waits for itself.
 *
 * @example Usage
 * ```ts ignore
 * import { holdingKnot } from "./knot_lock.ts";
 *
 * await holdingKnot("/home/me/.cloudknot/local/squares", async () => {
 *   // write the build directory, build, write the record
 * }, { make: true, onWait: () => console.warn("waiting for another process") });
 * ```
 *
 * @param root The knot's folder.
 * @param body What is done holding the lock.
 * @param options Whether to make the folder, and what to say before waiting.
 * @returns What `body` returns.
 */
export async function holdingKnot<T>(
  root: string,
  body: () => Promise<T>,
  options: HoldingKnotOptions,
): Promise<T> {
  const path = join(root, KNOT_LOCK_FILE);
  let told = false;
  for (;;) {
    if (options.make) await ensurePrivateDir(root);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      if (!options.make) return await body();
      // Removed since it was made (by a clobber, or by `whileKnotGone`): made again.
      continue;
    }
    try {
      if (!await file.tryLock(true)) {
        if (!told) options.onWait();
        told = true;
        await file.lock(true);
      }
      const [mine, named] = [await file.stat(), await Deno.stat(path).catch(() => undefined)];
      if (named?.ino === mine.ino && named.dev === mine.dev) return await body();
    } finally {
      file.close();
    }
  }
}

/**
 * What a process says before it waits for the lock of a docker knot another
 * process holds, and what it does then.
 *
 * @example Usage
 * ```ts ignore
 * import { knotBusyNotice } from "./knot_lock.ts";
 *
 * console.warn(knotBusyNotice("squares", "/home/me/.cloudknot/local/squares", "adopts it"));
 * ```
 *
 * @param knot The knot's name.
 * @param root The knot's folder.
 * @param then What this process does once the other is done.
 * @returns The notice.
 */
export function knotBusyNotice(knot: string, root: string, then: string): string {
  return `cloudknot: another process is creating, building or clobbering docker knot ${knot} ` +
    `(in ${root}); waiting for it to finish, then this one ${then}`;
}
