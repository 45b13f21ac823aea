/**
 * Directories only their owner can enter: where the local target keeps a
 * knot's function and its runs' inputs, results and output. Each is created
 * with mode 0700 and, whether it was just made or found, checked to be a real
 * directory (not a link) owned by this user with no access for anyone else.
 * A directory someone else made first (another user squatting the name in a
 * shared place such as `/tmp`) is refused, never trusted.
 *
 * On systems without user ids (Windows) the check is skipped.
 *
 * @module
 */
import { CloudknotError } from "../util/errors.ts";

/**
 * A directory for private data is not private: it belongs to another user,
 * others may enter it, or it is not a directory.
 *
 * @example Usage
 * ```ts
 * import { UnsafeDirectoryError } from "@cloudknot/cloudknot";
 *
 * const e = new UnsafeDirectoryError("/tmp/x", "it belongs to user 1001, not to you (user 1000)");
 * console.log(e.path); // "/tmp/x"
 * ```
 */
export class UnsafeDirectoryError extends CloudknotError {
  /** The directory. */
  readonly path: string;

  /**
   * Makes the error.
   *
   * @param path The directory.
   * @param problem What is wrong with it.
   */
  constructor(path: string, problem: string) {
    super(
      `Refusing to use ${path} for cloudknot's data: ${problem}. Cloudknot keeps inputs and ` +
        `results only in directories that you own with mode 0700. Remove it${
          // Only a mode is mended by chmod: a link, a file or another user's folder is not.
          problem.startsWith("its mode")
            ? " (or, if it is yours, run chmod 700 on it)"
            : ""}, or choose another directory with CLOUDKNOT_LOCAL_DIR (knots) or CLOUDKNOT_LOCAL_RUNS ` +
        `(runs)`,
    );
    this.path = path;
  }
}

/**
 * Checks that a directory is private: a directory (not a link), owned by
 * this user, with no permissions for group or others.
 *
 * @example Usage
 * ```ts
 * import { checkPrivateDir, ensurePrivateDir } from "@cloudknot/cloudknot/store";
 *
 * const dir = await Deno.makeTempDir();
 * await ensurePrivateDir(`${dir}/runs`);
 * await checkPrivateDir(`${dir}/runs`);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param path The directory.
 * @throws {UnsafeDirectoryError} When it is not private.
 * @throws {Deno.errors.NotFound} When it does not exist.
 */
export async function checkPrivateDir(path: string): Promise<void> {
  const info = await Deno.lstat(path);
  const uid = Deno.uid();
  if (info.isSymlink) throw new UnsafeDirectoryError(path, "it is a symbolic link");
  if (!info.isDirectory) throw new UnsafeDirectoryError(path, "it is not a directory");
  if (uid === null || info.uid === null || info.mode === null) return;
  if (info.uid !== uid) {
    throw new UnsafeDirectoryError(
      path,
      `it belongs to user ${info.uid}, not to you (user ${uid})`,
    );
  }
  if ((info.mode & 0o077) !== 0) {
    throw new UnsafeDirectoryError(
      path,
      `its mode is 0${(info.mode & 0o777).toString(8)}, so other users may enter it`,
    );
  }
}

/**
 * Checks each of the directories that exists to be private ({@linkcode checkPrivateDir}); one
 * that does not exist passes.
 *
 * @example Usage
 * ```ts
 * import { checkPrivateDirs } from "@cloudknot/cloudknot/store";
 *
 * const dir = await Deno.makeTempDir();
 * await checkPrivateDirs([dir, `${dir}/not-yet`]);
 * await Deno.remove(dir);
 * ```
 *
 * @param paths The directories.
 * @throws {UnsafeDirectoryError} When one exists and is not private.
 */
export async function checkPrivateDirs(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    await checkPrivateDir(path).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
}

/**
 * Creates a private directory (mode 0700, and its missing parents), or
 * checks the one that is there.
 *
 * @example Usage
 * ```ts
 * import { ensurePrivateDir } from "@cloudknot/cloudknot/store";
 *
 * const dir = await Deno.makeTempDir();
 * await ensurePrivateDir(`${dir}/a/b`);
 * console.log((await Deno.stat(`${dir}/a/b`)).mode! & 0o777); // 448
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param path The directory.
 * @throws {UnsafeDirectoryError} When it exists and is not private.
 */
export async function ensurePrivateDir(path: string): Promise<void> {
  try {
    await Deno.mkdir(path, { mode: 0o700 });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      // Parents are created with the same mode; only `path` itself is checked.
      await Deno.mkdir(path, { recursive: true, mode: 0o700 });
    } else if (!(e instanceof Deno.errors.AlreadyExists)) {
      throw e;
    }
  }
  await checkPrivateDir(path);
}
