/**
 * The lock of a docker knot's folder (`<folder>/knot.lock`), the one module
 * that takes it. Whatever writes the knot's build directory, builds its
 * image, writes its record or removes it holds it ({@linkcode holdingKnot}):
 * a knot's create (or adoption), the build of its image again at `map()`, and
 * its clobber. Two processes doing these to one knot at once take turns, so
 * neither builds the other's function under its own record, nor removes a
 * knot that another is half-way through making. What removes the containers
 * and images of a knot whose folder is gone (a run's driver after a clobber,
 * `gc`) holds the same lock on a folder it makes for that time
 * ({@linkcode whileKnotGone}), so a create waits for it too.
 *
 * Its holder writes in the file who it is (its process id, what it does,
 * since when), which a process that must wait for it tells its user
 * ({@linkcode knotBusyNotice}): a holder that hangs (a `docker build` that
 * never ends) is found, and ended, by its id.
 *
 * @module
 */
import { join } from "node:path";
import { ensurePrivateDir } from "./private_dir.ts";
import { sleep } from "../util/sleep.ts";

/**
 * The file of a docker knot's folder whose exclusive lock (`flock`) is the
 * knot's lock.
 *
 * @example Usage
 * ```ts
 * import { KNOT_LOCK_FILE } from "./knot_lock.ts";
 *
 * console.log(KNOT_LOCK_FILE); // "knot.lock"
 * ```
 */
export const KNOT_LOCK_FILE = "knot.lock";

/** Who holds a knot's lock, as its holder wrote it in the lock's file. */
export interface KnotLockHolder {
  /** The holder's process id. */
  pid: number;
  /** What it does holding the lock, as a verb phrase ("builds its image"). */
  doing: string;
  /** When it took the lock (milliseconds since the epoch). */
  since: number;
}

/** Options of {@linkcode holdingKnot}. */
export interface HoldingKnotOptions {
  /**
   * Make the knot's folder (private) when it is missing, as a create does.
   * Without it, `body` runs without the lock when the folder is gone (the
   * knot was clobbered), as there is nothing left to take turns on.
   */
  make: boolean;
  /**
   * Called once, before waiting, when another process holds the lock, with
   * what that process wrote of itself (`undefined` when it had not written it
   * within a fifth of a second of its lock: a full disk, or a release).
   */
  onWait: (holder: KnotLockHolder | undefined) => void;
  /**
   * What this process does holding the lock, as a verb phrase, which a
   * process waiting for it is told.
   * @default {"holds it"}
   */
  doing?: string;
}

/** What the holder of the lock's file wrote of itself; `undefined` when nothing (or not that). */
async function readHolder(file: Deno.FsFile): Promise<KnotLockHolder | undefined> {
  try {
    await file.seek(0, Deno.SeekMode.Start);
    const buffer = new Uint8Array(4096);
    const n = await file.read(buffer);
    if (n === null || n === 0) return undefined;
    const holder = JSON.parse(new TextDecoder().decode(buffer.subarray(0, n)));
    return Number.isInteger(holder?.pid) && typeof holder.doing === "string" &&
        typeof holder.since === "number"
      ? { pid: holder.pid, doing: holder.doing, since: holder.since }
      : undefined;
  } catch {
    // Half-written, or written by no holder: as if not written yet.
    return undefined;
  }
}

/**
 * Writes who holds the lock of `file` (held), for a process that waits for
 * it. Only words for a waiter: a write that fails (a full disk) leaves the
 * file empty, as if not written yet, and the lock held all the same, so a
 * knot on a full disk still opens and reads its runs.
 */
async function writeHolder(file: Deno.FsFile, doing: string): Promise<void> {
  const holder: KnotLockHolder = { pid: Deno.pid, doing, since: Date.now() };
  try {
    await file.truncate(0);
    await file.seek(0, Deno.SeekMode.Start);
    const bytes = new TextEncoder().encode(JSON.stringify(holder));
    for (let written = 0; written < bytes.length;) {
      written += await file.write(bytes.subarray(written));
    }
  } catch {
    await file.truncate(0).catch(() => {});
  }
}

/**
 * Holds the lock of an open lock's file, waiting for it (once `onWait` is
 * called, with its holder) when another process holds it; it writes who holds
 * it now. Whether the file is still the one named at `path` is the caller's
 * to check.
 */
async function lockFile(
  file: Deno.FsFile,
  onWait: ((holder: KnotLockHolder | undefined) => void) | undefined,
): Promise<void> {
  if (await file.tryLock(true)) return;
  if (onWait !== undefined) {
    // The holder writes who it is just after it locks: a look in between finds nothing yet, so
    // look again a few times (a holder that never writes, on a full disk, costs a fifth of a
    // second's wait for the notice).
    let holder = await readHolder(file);
    for (let look = 1; holder === undefined && look < HOLDER_LOOKS; look++) {
      await sleep(HOLDER_LOOK_MS);
      if (await file.tryLock(true)) return;
      holder = await readHolder(file);
    }
    onWait(holder);
  }
  await file.lock(true);
}

/** How many times a waiter reads the holder's words before it tells what it found. */
const HOLDER_LOOKS = 5;
/** Milliseconds between those reads. */
const HOLDER_LOOK_MS = 50;

/** Whether the file open as `file` is the one named `path` now. */
async function stillNamed(file: Deno.FsFile, path: string): Promise<boolean> {
  const [mine, named] = [await file.stat(), await Deno.stat(path).catch(() => undefined)];
  return named?.ino === mine.ino && named.dev === mine.dev;
}

/**
 * Runs `body` holding the knot's lock: an exclusive OS lock (`flock`) on
 * `<root>/knot.lock`, opened for writing (as an exclusive lock needs over
 * NFS). The kernel frees it when its holder exits however it exits, so a
 * killed holder leaves no lock that must age, as the lock of a run's folder.
 * The file stays, holding who held it last, which only a process that finds
 * it locked reads: removing it on release would let a waiter hold a file no
 * longer named. A lock taken on a file a clobber removed meanwhile (with its
 * folder) is let go, and the file named now is locked instead.
 *
 * A holder that never ends (a hung `docker build`, until the build's own
 * timeout, `CLOUDKNOT_DOCKER_BUILD_TIMEOUT`) keeps its waiters waiting: the
 * notice `onWait` is given says which process it is, to end it.
 *
 * Not re-entrant: a process holding it that takes it again waits for itself.
 *
 * @example Usage
 * ```ts ignore
 * import { holdingKnot, knotBusyNotice } from "./knot_lock.ts";
 *
 * const root = "/home/me/.cloudknot/local/squares";
 * await holdingKnot(root, async () => {
 *   // write the build directory, build, write the record
 * }, {
 *   make: true,
 *   doing: "creates it",
 *   onWait: (holder) => console.warn(knotBusyNotice("squares", root, "creates it", holder)),
 * });
 * ```
 *
 * @param root The knot's folder.
 * @param body What is done holding the lock.
 * @param options Whether to make the folder, what to say before waiting, and what this does.
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
      await lockFile(
        file,
        told ? undefined : (holder) => {
          told = true;
          options.onWait(holder);
        },
      );
      if (await stillNamed(file, path)) {
        await writeHolder(file, options.doing ?? "holds it");
        try {
          return await body();
        } finally {
          // No one holds it now: a waiter that reads the file before it writes its own finds
          // nothing, not this process.
          await file.truncate(0).catch(() => {});
        }
      }
    } finally {
      file.close();
    }
  }
}

/**
 * Whether a process holds the lock of the docker knot in `root` now, and who
 * it said it is (`holder`, when it wrote it): for what shows a knot, as a
 * clobber under way. `undefined` when none holds it (or there is no lock's
 * file). It looks with a shared lock, let go at once, so a holder is never
 * waited for; a process taking the lock at that instant waits that instant.
 *
 * @example Usage
 * ```ts ignore
 * import { knotLockHeld } from "./knot_lock.ts";
 *
 * const held = await knotLockHeld("/home/me/.cloudknot/local/squares");
 * if (held !== undefined) console.log(`process ${held.holder?.pid ?? "?"} holds it`);
 * ```
 *
 * @param root The knot's folder.
 * @returns Who holds it, or `undefined` when it is free.
 */
export async function knotLockHeld(
  root: string,
): Promise<{ holder?: KnotLockHolder } | undefined> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(join(root, KNOT_LOCK_FILE), { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  try {
    if (await file.tryLock(false)) {
      await file.unlock();
      return undefined;
    }
    const holder = await readHolder(file);
    return holder === undefined ? {} : { holder };
  } finally {
    file.close();
  }
}

/**
 * What {@linkcode whileKnotGone} does holding the lock, as its waiters are
 * told, and as what lists knots tells its passing folder from a knot's.
 *
 * @example Usage
 * ```ts
 * import { REMOVING_LEFTOVERS } from "./knot_lock.ts";
 *
 * console.log(REMOVING_LEFTOVERS); // "removes the containers and images its clobber left"
 * ```
 */
export const REMOVING_LEFTOVERS = "removes the containers and images its clobber left";

/**
 * What a docker knot's create does holding the knot's lock, as its waiters
 * are told, and as what lists knots tells a knot being created from one
 * being clobbered (both have no record for a time).
 *
 * @example Usage
 * ```ts
 * import { CREATING_KNOT } from "./knot_lock.ts";
 *
 * console.log(CREATING_KNOT); // "creates it (writes its build directory, builds its image)"
 * ```
 */
export const CREATING_KNOT = "creates it (writes its build directory, builds its image)";

/**
 * What a docker knot's clobber does holding the knot's lock, as its waiters
 * are told, and as what lists knots tells a knot being clobbered (its record
 * removed already) from one being created.
 *
 * @example Usage
 * ```ts
 * import { CLOBBERING_KNOT } from "./knot_lock.ts";
 *
 * console.log(CLOBBERING_KNOT); // "clobbers it"
 * ```
 */
export const CLOBBERING_KNOT = "clobbers it";

/**
 * Runs `body` while no docker knot is in the folder `root`, and none can be
 * made there meanwhile: for what removes a gone knot's leftovers (the
 * containers and images named after its folder, which a create of the knot
 * again would make anew). It makes the folder (private), holds its lock
 * ({@linkcode KNOT_LOCK_FILE}, as a create holds it), runs `body`, then removes
 * the lock's file and the folder. A create of the knot meanwhile waits for
 * the lock, saying so, then makes the folder again. When another process holds
 * the folder for the same (two drivers of a clobbered knot's runs, or gc, at
 * once), this waits for it, then holds it in turn. `body` does not run, and
 * nothing is touched, when a knot is in the folder (or a process creates,
 * builds or clobbers one there now). When the knots directory itself is gone,
 * `body` runs without a lock: no knot is there, and there is nothing to take
 * turns on.
 *
 * @example Usage
 * ```ts ignore
 * import { whileKnotGone } from "./knot_lock.ts";
 *
 * const ran = await whileKnotGone("/home/me/.cloudknot/local/squares", async () => {
 *   // remove the containers and images of the gone knot
 * });
 * ```
 *
 * @param root The knot's folder.
 * @param body What is done while no knot is there.
 * @returns Whether `body` ran.
 */
export async function whileKnotGone(root: string, body: () => Promise<void>): Promise<boolean> {
  const path = join(root, KNOT_LOCK_FILE);
  for (;;) {
    try {
      await Deno.mkdir(root, { mode: 0o700 });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        // The knots directory is gone too: no knot is there, and there is nothing to take turns on.
        await body();
        return true;
      }
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      // Another process removing the gone knot's leftovers holds it: this waits for it, then
      // looks again (it removed the folder). A knot there, or being made, is left alone.
      if (!await waitForRemover(path)) return false;
      continue;
    }
    let file: Deno.FsFile;
    try {
      await Deno.chmod(root, 0o700);
      file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
    } catch (e) {
      // Removed meanwhile (by a remover that made it before, ending): looked at again.
      if (e instanceof Deno.errors.NotFound) continue;
      await Deno.remove(root).catch(() => {});
      throw e;
    }
    try {
      if (!await file.tryLock(true)) return false;
      await writeHolder(file, REMOVING_LEFTOVERS);
      // A create that made the lock's file after this made the folder, held it and ended.
      const names = (await Array.fromAsync(Deno.readDir(root))).map((e) => e.name);
      if (names.some((name) => name !== KNOT_LOCK_FILE)) return false;
      try {
        await body();
      } finally {
        // Removed while held, the folder too: a create waiting for it makes them again, and
        // another remover waiting for it makes the folder anew.
        await Deno.remove(path).catch(() => {});
        await Deno.remove(root).catch(() => {});
      }
      return true;
    } finally {
      file.close();
    }
  }
}

/** How many times, and how often, an empty knot's folder with no lock's file is looked at again. */
const [EMPTY_LOOKS, EMPTY_LOOK_MS] = [50, 10];

/**
 * Waits until the process removing a gone knot's leftovers that holds the
 * lock at `path` is done; `false`, at once, when what holds the folder is no
 * such process (a knot is there, or one is being made, built or clobbered).
 */
async function waitForRemover(path: string): Promise<boolean> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true, write: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    // A folder with no lock's file is a knot's (made before knots had one), or one a process
    // makes or removes this instant (empty then): an empty one is looked at again a few times,
    // and left alone once it stays so; one that is gone is looked at again.
    const root = join(path, "..");
    for (let look = 0; look < EMPTY_LOOKS; look++) {
      const names = await Array.fromAsync(Deno.readDir(root)).catch((e) => {
        if (e instanceof Deno.errors.NotFound) return undefined;
        throw e;
      });
      if (names === undefined) return true;
      if (names.length > 0) return names.some((n) => n.name === KNOT_LOCK_FILE);
      await sleep(EMPTY_LOOK_MS);
    }
    return false;
  }
  try {
    // Free: held by none, or let go by a remover that removed it since this opened it (then
    // its folder goes too, and is looked at again).
    if (await file.tryLock(true)) return !await stillNamed(file, path);
    if ((await readHolder(file))?.doing !== REMOVING_LEFTOVERS) return false;
    await file.lock(true);
    return true;
  } finally {
    file.close();
  }
}

/**
 * What a process says before it waits for the lock of a docker knot another
 * process holds: which process holds it, doing what, since when, and what to
 * do when it hangs; then what this process does once it is done.
 *
 * @example Usage
 * ```ts
 * import { knotBusyNotice } from "./knot_lock.ts";
 *
 * const holder = { pid: 4242, doing: "builds its image", since: Date.now() };
 * console.log(knotBusyNotice("squares", "/home/me/.cloudknot/local/squares", "maps", holder));
 * ```
 *
 * @param knot The knot's name.
 * @param root The knot's folder.
 * @param then What this process does once the other is done.
 * @param holder Who holds the lock, when it said.
 * @param now The time now (milliseconds since the epoch). @default {Date.now()}
 * @returns The notice.
 */
export function knotBusyNotice(
  knot: string,
  root: string,
  then: string,
  holder?: KnotLockHolder,
  now: number = Date.now(),
): string {
  const who = holder === undefined
    ? ""
    : `: process ${holder.pid} ${holder.doing}, since ${new Date(holder.since).toISOString()} (${
      Math.max(0, Math.round((now - holder.since) / 1000))
    } s ago)`;
  const hung = holder === undefined
    ? "If it hangs, end that process (the one running cloudknot on this knot)"
    : `If it hangs (a docker build that never ends), end it: kill ${holder.pid}`;
  return `cloudknot: another process is creating, building or clobbering docker knot ${knot} ` +
    `(in ${root}${who}); waiting for it to finish, then this one ${then}. ${hung}; this one ` +
    `then goes on (a knot it left half-made is made again here, or removed by the knot's ` +
    `clobber: knot.clobber(), or cloudknot knot clobber ${knot}); or stop this one with Ctrl-C`;
}
