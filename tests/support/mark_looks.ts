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
