/**
 * Watches the looks at one mark file beside a config file (a clobber's,
 * a hold's): each `tryLock` of it, in this process, whatever takes it.
 *
 * @module
 */

/** One `tryLock` of the watched file. */
export interface MarkLook {
  /** Whether the exclusive lock was asked for (a holder), or the shared one (a reader). */
  exclusive: boolean;
  /** Whether it was granted. */
  got: boolean;
  /** How many looks at the file there were, this one included. */
  n: number;
}

/**
 * Calls `seen` after each `tryLock` of the file whose inode is `ino`; the
 * call returns once `seen` has, so a test can act between two looks. It only
 * watches: `flock` does what it always does. Dispose of it (`using`) to stop.
 *
 * @example Usage
 * ```ts ignore
 * using _ = watchLooks((await Deno.stat(mark)).ino, ({ exclusive }) => {
 *   if (exclusive) tries++;
 * });
 * ```
 *
 * @param ino The mark file's inode.
 * @param seen Called with each look.
 * @returns What stops the watch.
 */
export function watchLooks(
  ino: number | null,
  seen: (look: MarkLook) => void | Promise<void>,
): Disposable {
  const proto = Deno.FsFile.prototype;
  const original = proto.tryLock;
  let n = 0;
  proto.tryLock = async function (this: Deno.FsFile, exclusive = false) {
    const got = await original.call(this, exclusive);
    if ((await this.stat()).ino === ino) await seen({ exclusive, got, n: ++n });
    return got;
  };
  return { [Symbol.dispose]: () => void (proto.tryLock = original) };
}

/**
 * Starts what `start` does while two readers look at mark file `mark` with
 * the shared lock, their looks overlapping so that one is always under way,
 * as two processes running `StateFile.making()` without a pause would; they
 * look until what was started has tried the exclusive lock `tries` times (or
 * settled), then `check` runs and the readers stop.
 *
 * @example Usage
 * ```ts ignore
 * const result = await whileReadersLook(mark, 12, () => clobber(), () => assert.equal(ran, false));
 * ```
 *
 * @param mark The mark file's path (made when missing).
 * @param tries How many exclusive tries to wait for.
 * @param start Starts what takes the mark.
 * @param check Runs once the readers have looked long enough, before they stop.
 * @returns What `start` settles with, once the readers stopped.
 */
export async function whileReadersLook<T>(
  mark: string,
  tries: number,
  start: () => Promise<T>,
  check: () => void,
): Promise<T> {
  const readers: [Deno.FsFile, Deno.FsFile] = [
    await Deno.open(mark, { read: true, write: true, create: true }),
    await Deno.open(mark, { read: true, write: true }),
  ];
  try {
    await readers[0].lock(false);
    let tried = 0;
    using _ = watchLooks((await Deno.stat(mark)).ino, ({ exclusive }) => {
      if (exclusive) tried++;
    });
    let settled = false;
    const started = start().finally(() => settled = true);
    for (let i = 0; tried < tries && !settled; i++) {
      await readers[(i + 1) % 2]!.lock(false);
      await readers[i % 2]!.unlock();
      await new Promise((r) => setTimeout(r, 1));
    }
    check();
    for (const reader of readers) await reader.unlock();
    return await started;
  } finally {
    for (const reader of readers) reader.close();
  }
}
