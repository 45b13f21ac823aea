/**
 * The cloudknot config file: where knots, Pars, images, repositories and jobs
 * are remembered between sessions, in the same INI format and sections as the
 * Python original (`$CLOUDKNOT_CONFIG_FILE` or `~/.aws/cloudknot`):
 *
 * - `[aws]`: `configured`, `profile`, `region`, `ecr-repo`, `s3-bucket`, `s3-sse`, …
 * - `[pars <name>]`, `[knot <name>]`, `[docker-image <name>]`
 * - `[docker-repos <profile> <region>]`: `<repo name> = <uri>`
 * - `[batch-jobs <profile> <region>]`: `<job id> = <job name>`
 *
 * Reading never writes. Every change is a read-modify-write under an OS lock
 * (`flock`) on a `.lock` file beside the file, written to a fresh temporary
 * file and renamed into place, so concurrent processes never lose each
 * other's changes, a reader never sees half a file, and a process that dies
 * holding the lock holds it no longer. A change keeps the rest of the file as
 * it was (a user's comments too), keeps the file's mode, writes through a
 * symbolic link to its target, and refuses a read-only file. Secrets are
 * refused. A write to `[aws]` also sets `configured = True` there, which the
 * Python original needs before it reads a record.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { basename, dirname, join, resolve } from "node:path";
import { homedir } from "node:os";
import { CloudknotConfigurationError, CloudknotInputError } from "../util/errors.ts";
import { type IniDocument, parseIni, updateIni } from "../util/ini.ts";
import { sleep } from "../util/sleep.ts";
import { AWS_SECTION } from "./sections.ts";

/** Options for a {@linkcode StateFile}. */
export interface StateFileOptions {
  /** The file (default: `$CLOUDKNOT_CONFIG_FILE` or `~/.aws/cloudknot`). */
  path?: string;
  /** Reads an environment variable (default: `Deno.env.get`). */
  env?: (name: string) => string | undefined;
  /** The home directory (default: `os.homedir()`). */
  homeDir?: string;
  /**
   * How long one live process may hold the lock before a waiting writer
   * gives up, in milliseconds; while writers take turns it waits on. A lock
   * left by a process that died is free at once.
   *
   * @default {10000}
   */
  lockTimeoutMs?: number;
}

/**
 * The config file cannot be read or changed: its path is a directory, it is
 * read-only, or it is not readable as an INI file.
 *
 * @example Usage
 * ```ts
 * import { StateFileError } from "@cloudknot/cloudknot/state";
 *
 * const e = new StateFileError("/x is a directory", "/x");
 * console.log(e.path); // "/x"
 * ```
 */
export class StateFileError extends CloudknotConfigurationError {
  /** The file the error is about. */
  readonly path: string;

  /**
   * Makes an error about one file.
   *
   * @param message What is wrong and what to do.
   * @param path The file.
   * @param options The standard error options, such as `cause`.
   */
  constructor(message: string, path: string, options?: ErrorOptions) {
    super(message, options);
    this.path = path;
  }
}

/**
 * The lock on the config file could not be taken: one live process held it
 * for longer than `lockTimeoutMs`.
 *
 * @example Usage
 * ```ts
 * import { StateLockError } from "@cloudknot/cloudknot/state";
 *
 * const e = new StateLockError("Another process holds /x.lock", "/x");
 * console.log(e.name); // "StateLockError"
 * ```
 */
export class StateLockError extends StateFileError {}

/** Key names the file refuses, so that it never holds a secret. */
const SECRET_KEY = /secret|password|passwd|token|credential|private/i;

/** The first line of a file this library creates. */
const NEW_FILE = "# cloudknot configuration file\n";

/** What follows the file's name in the name of a temporary file beside it. */
const TMP_INFIX = ".tmp-";

/** How many symbolic links are followed before giving up, as Linux's `MAXSYMLINKS`. */
const MAX_LINKS = 40;

/**
 * The cloudknot config file.
 *
 * @example Usage
 * ```ts
 * import { StateFile } from "@cloudknot/cloudknot/state";
 *
 * const dir = await Deno.makeTempDir();
 * const state = new StateFile({ path: `${dir}/cloudknot` });
 * await state.set("aws", "region", "eu-west-1");
 * console.log(await state.get("aws", "region")); // "eu-west-1"
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class StateFile {
  /** The file's absolute path (a symbolic link stays the link). */
  readonly path: string;
  #lockTimeoutMs: number;

  /**
   * Opens the config file; nothing is read or written yet.
   *
   * @param options Where the file is and how long to wait for its lock.
   */
  constructor(options: StateFileOptions = {}) {
    const env = options.env ?? ((name: string) => Deno.env.get(name));
    this.path = resolve(
      options.path ?? env("CLOUDKNOT_CONFIG_FILE") ??
        join(options.homeDir ?? homedir(), ".aws", "cloudknot"),
    );
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
  }

  /**
   * Reads the whole file; an absent file reads as empty.
   *
   * @returns Sections in file order, each with its keys in file order.
   * @throws {StateFileError} When the path is a directory.
   * @throws {IniSyntaxError} When the file is not a configparser INI file.
   */
  async read(): Promise<IniDocument> {
    const text = await readText(this.path);
    return parseIni(text ?? "", { mode: "configparser", fileName: this.path });
  }

  /**
   * Reads one value.
   *
   * @param section The section, such as `"aws"` or `"knot my-knot"`.
   * @param key The key.
   * @returns The value, if there is one.
   */
  async get(section: string, key: string): Promise<string | undefined> {
    return (await this.read()).get(section)?.get(key.toLowerCase());
  }

  /**
   * Reads one section.
   *
   * @param section The section's name.
   * @returns Its keys and values, if the section exists.
   */
  async section(section: string): Promise<Map<string, string> | undefined> {
    return (await this.read()).get(section);
  }

  /**
   * Changes the file: takes the lock, reads the file, lets `change` edit the
   * document, and writes it back atomically, keeping the lines it did not
   * change (comments too), the file's mode and owner. A symbolic link is
   * written through to its target.
   *
   * @param change Edits the document in place.
   * @throws {StateLockError} When another live process holds the lock longer than `lockTimeoutMs`.
   * @throws {StateFileError} When the path is a directory or the file is read-only.
   * @throws {CloudknotInputError} When the change would write a secret.
   */
  async update(change: (doc: IniDocument) => void | Promise<void>): Promise<void> {
    const target = await followLinks(this.path);
    await Deno.mkdir(dirname(target), { recursive: true }).catch((e) => {
      throw cannotWrite(target, e);
    });
    await inTurn(target, this.#lockTimeoutMs, async () => {
      await removeLeftovers(target);
      const text = await readText(target);
      const info = text === undefined ? undefined : await Deno.stat(target);
      if (info) await checkWritable(target, info);
      const doc = parseIni(text ?? "", { mode: "configparser", fileName: target });
      const settings = sectionText(doc, AWS_SECTION);
      const configured = doc.get(AWS_SECTION)?.has("configured") ?? false;
      await change(doc);
      checkNoSecrets(doc, this.path);
      if (!configured && sectionText(doc, AWS_SECTION) !== settings) markConfigured(doc);
      const next = updateIni(text ?? NEW_FILE, doc, target);
      if (next !== text) await replace(target, next, info);
    });
  }

  /**
   * Checks, changing nothing, that {@linkcode StateFile.update} could write
   * the file, for callers that would change something elsewhere (on AWS)
   * before writing their record: a directory, a read-only file or one this
   * user may not write is refused with the same error an update gives. A
   * file that does not exist yet passes (an update creates it).
   *
   * @example Usage
   * ```ts
   * import { StateFile } from "@cloudknot/cloudknot/state";
   *
   * const dir = await Deno.makeTempDir();
   * await new StateFile({ path: `${dir}/cloudknot` }).assertWritable();
   * await Deno.remove(dir, { recursive: true });
   * ```
   *
   * @throws {StateFileError} When the path is a directory or the file is read-only.
   */
  async assertWritable(): Promise<void> {
    const target = await followLinks(this.path);
    const info = await Deno.stat(target).catch((e) => {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    });
    if (info) await checkWritable(target, info);
  }

  /**
   * Runs `body` while this process holds the mark that record `section` is
   * being made: an exclusive OS lock (`flock`) on a file beside the config
   * file, `<file>.making-<section>.lock`. Whatever makes AWS resources before
   * it writes their record holds it, so that `gc` ({@linkcode StateFile.making})
   * does not judge them garbage meanwhile, and a second process making the
   * same record waits, then finds the record written. The kernel frees the
   * mark when its holder exits however it exits, so a killed maker leaves no
   * mark that must age; the lock file is removed when `body` ends.
   *
   * @example Usage
   * ```ts
   * import { StateFile } from "@cloudknot/cloudknot/state";
   *
   * const dir = await Deno.makeTempDir();
   * const state = new StateFile({ path: `${dir}/cloudknot` });
   * await state.whileMaking("knot squares", async () => {
   *   console.log(await state.making()); // ["knot squares"]
   * });
   * await Deno.remove(dir, { recursive: true });
   * ```
   *
   * @param section The record being made, such as `"knot squares"`.
   * @param body Makes it, and writes its record.
   * @param onWait Called once, at once, when another holder has the mark (a reader looking
   *   at it, {@linkcode StateFile.making}, is not one and is waited out), before waiting for it.
   * @returns What `body` returns.
   * @throws {StateFileError} When the directory of the config file cannot be written.
   */
  async whileMaking<T>(
    section: string,
    body: () => Promise<T>,
    onWait?: () => void,
  ): Promise<T> {
    const target = await followLinks(this.path);
    await Deno.mkdir(dirname(target), { recursive: true }).catch((e) => {
      throw cannotWrite(target, e);
    });
    const lock = await holdMark(target, makingPath(target, section), onWait);
    try {
      return await body();
    } finally {
      await releaseLock(lock);
    }
  }

  /**
   * The records a live process is making now ({@linkcode StateFile.whileMaking});
   * it only reads (a mark left by a process that died is not listed).
   *
   * @example Usage
   * ```ts
   * import { StateFile } from "@cloudknot/cloudknot/state";
   *
   * const dir = await Deno.makeTempDir();
   * console.log(await new StateFile({ path: `${dir}/cloudknot` }).making()); // []
   * await Deno.remove(dir, { recursive: true });
   * ```
   *
   * @returns Their sections, such as `"knot squares"`, sorted.
   */
  async making(): Promise<string[]> {
    const target = await followLinks(this.path);
    return (await marks(target, MAKING_INFIX)).filter((m) => m.held).map((m) => m.name);
  }

  /**
   * Takes the mark that this process holds `name` (such as the tag of an
   * image it built and has not pushed yet) until {@linkcode StateHold.release}:
   * an exclusive OS lock (`flock`) on a file beside the config file,
   * `<file>.hold-<name>.lock`. The kernel frees it when the process exits
   * however it exits, so what a killed holder held is told apart from what a
   * live one holds however long it takes, with no age to guess and no
   * process id to outlive: {@linkcode StateFile.holdsLeft} lists the first,
   * for `gc` to undo.
   *
   * @example Usage
   * ```ts
   * import { StateFile } from "@cloudknot/cloudknot/state";
   *
   * const dir = await Deno.makeTempDir();
   * const state = new StateFile({ path: `${dir}/cloudknot` });
   * const hold = await state.hold("cloudknot/squares:hold-1");
   * console.log(await state.holdsLeft()); // []
   * await hold.release();
   * await Deno.remove(dir, { recursive: true });
   * ```
   *
   * @param name What is held; one holder at a time per name.
   * @returns The hold, held until released.
   * @throws {StateFileError} When the directory of the config file cannot be written.
   */
  async hold(name: string): Promise<StateHold> {
    const target = await followLinks(this.path);
    await Deno.mkdir(dirname(target), { recursive: true }).catch((e) => {
      throw cannotWrite(target, e);
    });
    const lock = await holdMark(target, markPath(target, HOLD_INFIX, name));
    let released: Promise<void> | undefined;
    return { name, release: () => released ??= releaseLock(lock) };
  }

  /**
   * The names of the holds ({@linkcode StateFile.hold}) whose holder ended
   * without releasing them (it was killed); it only reads.
   *
   * @example Usage
   * ```ts
   * import { StateFile } from "@cloudknot/cloudknot/state";
   *
   * const dir = await Deno.makeTempDir();
   * console.log(await new StateFile({ path: `${dir}/cloudknot` }).holdsLeft()); // []
   * await Deno.remove(dir, { recursive: true });
   * ```
   *
   * @returns Their names, sorted.
   */
  async holdsLeft(): Promise<string[]> {
    const target = await followLinks(this.path);
    return (await marks(target, HOLD_INFIX)).filter((m) => !m.held).map((m) => m.name);
  }

  /**
   * The names of the holds ({@linkcode StateFile.hold}) a live process holds
   * now, such as the tag of an image it built and has not pushed yet; it
   * only reads (a mark left by a process that died is not listed: see
   * {@linkcode StateFile.holdsLeft}).
   *
   * @example Usage
   * ```ts
   * import { StateFile } from "@cloudknot/cloudknot/state";
   *
   * const dir = await Deno.makeTempDir();
   * const state = new StateFile({ path: `${dir}/cloudknot` });
   * const hold = await state.hold("cloudknot/squares:hold-1");
   * console.log(await state.holding()); // ["cloudknot/squares:hold-1"]
   * await hold.release();
   * await Deno.remove(dir, { recursive: true });
   * ```
   *
   * @returns Their names, sorted.
   */
  async holding(): Promise<string[]> {
    const target = await followLinks(this.path);
    return (await marks(target, HOLD_INFIX)).filter((m) => m.held).map((m) => m.name);
  }

  /**
   * The file of a hold's mark ({@linkcode StateFile.hold}) beside the config
   * file, for a message; it only computes its path.
   *
   * @example Usage
   * ```ts
   * import { StateFile } from "@cloudknot/cloudknot/state";
   *
   * const state = new StateFile({ path: "/tmp/cloudknot" });
   * console.log(await state.holdFile("cloudknot/squares:hold-1")); // "/tmp/cloudknot.hold-cloudknot%2Fsquares%3Ahold-1.lock"
   * ```
   *
   * @param name The hold's name.
   * @returns The path of its lock file.
   */
  async holdFile(name: string): Promise<string> {
    return markPath(await followLinks(this.path), HOLD_INFIX, name);
  }

  /**
   * Ends a hold its holder left ({@linkcode StateFile.holdsLeft}): takes its
   * lock, runs `body` (that undoes what it held), then removes its file. A
   * hold a live process holds is left alone and `body` does not run; a hold
   * already ended counts as ended.
   *
   * @example Usage
   * ```ts
   * import { StateFile } from "@cloudknot/cloudknot/state";
   *
   * const dir = await Deno.makeTempDir();
   * const state = new StateFile({ path: `${dir}/cloudknot` });
   * console.log(await state.endHoldLeft("cloudknot/squares:hold-1", async () => {})); // true
   * await Deno.remove(dir, { recursive: true });
   * ```
   *
   * @param name The hold's name.
   * @param body Undoes what the hold held; the file stays when it throws.
   * @returns `false` when a live process holds it, otherwise `true`.
   */
  async endHoldLeft(name: string, body: () => Promise<void>): Promise<boolean> {
    const target = await followLinks(this.path);
    const path = markPath(target, HOLD_INFIX, name);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true, write: true });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return true;
      throw e;
    }
    try {
      if (!await tryHoldMark(file)) return false;
      const [mine, named] = [await file.stat(), await Deno.stat(path).catch(() => undefined)];
      // Its holder released it while this opened it.
      if (named?.ino !== mine.ino || named.dev !== mine.dev) return true;
      await body();
      await Deno.remove(path).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
      return true;
    } finally {
      file.close();
    }
  }

  /**
   * Sets one value, creating the section when needed.
   *
   * @param section The section's name.
   * @param key The key.
   * @param value The value.
   */
  set(section: string, key: string, value: string): Promise<void> {
    return this.setMany(section, { [key]: value });
  }

  /**
   * Sets several values of one section at once.
   *
   * @param section The section's name.
   * @param values Keys and values; `undefined` removes a key.
   */
  setMany(section: string, values: Record<string, string | undefined>): Promise<void> {
    return this.update((doc) => {
      const keys = doc.get(section) ?? new Map<string, string>();
      for (const [key, value] of Object.entries(values)) {
        if (value === undefined) keys.delete(key.toLowerCase());
        else keys.set(key.toLowerCase(), value);
      }
      doc.set(section, keys);
    });
  }

  /**
   * Removes a key, or a whole section when no key is given; a section left
   * empty goes too.
   *
   * @param section The section's name.
   * @param key The key to remove.
   */
  remove(section: string, key?: string): Promise<void> {
    return this.update((doc) => {
      if (key === undefined) doc.delete(section);
      else doc.get(section)?.delete(key.toLowerCase());
      if (doc.get(section)?.size === 0) doc.delete(section);
    });
  }
}

/** The file's text; `undefined` when it does not exist. */
async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    if (e instanceof Deno.errors.IsADirectory) throw isADirectory(path, e);
    throw e;
  }
}

function isADirectory(path: string, cause?: unknown): StateFileError {
  return new StateFileError(
    `The cloudknot config file ${path} is a directory; remove it or point ` +
      `CLOUDKNOT_CONFIG_FILE (or the path option) at a file`,
    path,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Where a write must go: the final target of a chain of symbolic links (which
 * may not exist yet), so that renaming onto it keeps each link a link. A
 * directory is refused before anything is created beside it.
 */
async function followLinks(path: string): Promise<string> {
  let current = path;
  for (let hops = 0; hops <= MAX_LINKS; hops++) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(current);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return current;
      throw e;
    }
    if (info.isDirectory) throw isADirectory(path);
    if (!info.isSymlink) return current;
    current = resolve(dirname(current), await Deno.readLink(current));
  }
  throw new StateFileError(
    `The cloudknot config file ${path} is a chain of more than ${MAX_LINKS} symbolic links; ` +
      `point it at a file`,
    path,
  );
}

/**
 * Refuses a file its owner made read-only (root could write it anyway, so
 * the mode is checked, not only whether opening it for writing works), and a
 * file this process may not write.
 */
async function checkWritable(path: string, info: Deno.FileInfo): Promise<void> {
  const refuse = (why: string, cause?: unknown, fix = `(chmod u+w ${path})`) =>
    new StateFileError(
      `The cloudknot config file ${path} ${why}; cloudknot did not change it. Make it writable ` +
        `${fix} or point CLOUDKNOT_CONFIG_FILE (or the path option) at another file`,
      path,
      cause === undefined ? undefined : { cause },
    );
  if (info.mode !== null && (info.mode & 0o200) === 0) {
    throw refuse(`is read-only (mode ${(info.mode & 0o777).toString(8).padStart(4, "0")})`);
  }
  try {
    (await Deno.open(path, { write: true })).close();
  } catch (e) {
    if (e instanceof Deno.errors.PermissionDenied) throw refuse("is not writable by this user", e);
    if ((e as { code?: unknown }).code === "EROFS") {
      throw refuse("is on a read-only file system", e, "(mount that file system read-write)");
    }
    throw e;
  }
}

/**
 * Writes a new file beside the target and renames it into place. The name is
 * random and created exclusively, so two writers can never share it; the
 * data reaches the disk before the rename, so a crash leaves the old file or
 * the new one, never an empty one. The old file's mode (else owner-only) and
 * owner are kept.
 */
async function replace(target: string, text: string, old: Deno.FileInfo | undefined) {
  const tmp = join(dirname(target), `${basename(target)}${TMP_INFIX}${crypto.randomUUID()}`);
  const file = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 })
    .catch((e) => {
      throw cannotWrite(target, e);
    });
  try {
    try {
      const bytes = new TextEncoder().encode(text);
      for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
      await Deno.chmod(tmp, old?.mode != null ? old.mode & 0o7777 : 0o600);
      if (old?.uid != null && old.gid != null) {
        const mine = await file.stat();
        if (mine.uid !== old.uid || mine.gid !== old.gid) {
          await Deno.chown(tmp, old.uid, old.gid).catch(() => {});
        }
      }
      await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, target);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw cannotWrite(target, e);
  }
}

/**
 * A full disk, a quota, a folder this user may not write, an I/O error: the
 * file is as it was; the error says which file and what to do.
 */
function cannotWrite(target: string, cause: unknown): StateFileError {
  return new StateFileError(
    `Cannot write the cloudknot config file ${target} (${(cause as Error).message}); cloudknot ` +
      `did not change it. Free space on that disk (or fix the cause), or point ` +
      `CLOUDKNOT_CONFIG_FILE (or the path option) at a file on another disk`,
    target,
    { cause },
  );
}

/**
 * Removes temporary files a writer killed between writing and renaming left
 * behind. Only the lock's holder writes one, so while we hold it every such
 * file is a leftover.
 */
async function removeLeftovers(target: string): Promise<void> {
  const prefix = `${basename(target)}${TMP_INFIX}`;
  for await (const entry of Deno.readDir(dirname(target))) {
    if (entry.isFile && entry.name.startsWith(prefix)) {
      await Deno.remove(join(dirname(target), entry.name)).catch(() => {});
    }
  }
}

/**
 * Takes the lock: an exclusive `flock` on `<target>.lock`.
 *
 * Why an OS lock and not a lock file whose age or owner is judged: the kernel
 * releases a `flock` when its holder exits, however it exits (SIGKILL, OOM,
 * power loss on a local disk), so a lock left by a dead process cannot exist
 * and no waiter ever has to guess that a holder is dead. Judging staleness by
 * age waited 30 s after a crash and let two waiters both remove the "stale"
 * lock; judging by pid is wrong across hosts and containers (pids are reused
 * and only meaningful in one pid namespace). `flock` is exclusive between
 * processes and between two opens in one process (verified on Deno 2.9.6:
 * `Deno.FsFile.tryLock` is `flock(LOCK_EX|LOCK_NB)`), works across
 * containers sharing a mount, and over NFS Linux maps it to a server-side
 * lock that the server frees when a client's lease lapses (there it is a
 * POSIX lock, which does not exclude two opens in one process: the
 * in-process queue of {@linkcode inTurn} does that).
 *
 * The lock file is removed on release, while still locked, to leave nothing
 * behind; a waiter that locked the removed file then sees that the path no
 * longer names the file it locked and opens the new one, so two processes
 * never both hold "the" lock. The holder's pid is written in the file for
 * the message a waiter gives when it times out, with a token that tells a
 * waiter whether the lock changed hands since it last looked.
 */
async function takeLock(target: string, timeoutMs: number, watch: Turns): Promise<HeldLock> {
  const path = `${target}.lock`;
  let wait = 1;
  while (true) {
    const file = await openLockFile(target, path);
    let held = false;
    try {
      if (await file.tryLock(true)) {
        const [mine, named] = [await file.stat(), await Deno.stat(path).catch(() => undefined)];
        if (named?.ino === mine.ino && named.dev === mine.dev) {
          held = true;
          // Who holds it, for a waiter's message only: a full disk must not stop the update.
          await file.truncate(0).catch(() => {});
          await file.write(new TextEncoder().encode(`${Deno.pid} ${crypto.randomUUID()}\n`))
            .catch(() => {});
          watch.seen = undefined;
          return { file, path, id: mine };
        }
        continue; // the holder before us removed it; lock the one the path names now
      }
    } finally {
      if (!held) file.close();
    }
    // Each holder writes a fresh token: while it changes, writers are taking
    // turns and we wait on; one holder keeping it past the timeout is stuck.
    const holder = await Deno.readTextFile(path).catch(() => "");
    if (holder !== watch.seen) [watch.seen, watch.since] = [holder, Date.now()];
    if (Date.now() - watch.since >= timeoutMs) {
      const pid = holder.split(" ")[0]?.trim();
      throw new StateLockError(
        `Another cloudknot process${pid ? ` (pid ${pid})` : ""} has held the lock ` +
          `${path} for more than ${timeoutMs} ms; wait for it to finish and try again, or stop it`,
        target,
      );
    }
    await sleep(wait);
    wait = Math.min(wait * 2, 50);
  }
}

/** Opens (or makes, private) a lock file of config file `target`. */
function openLockFile(target: string, path: string): Promise<Deno.FsFile> {
  return Deno.open(path, { read: true, write: true, create: true, mode: 0o600 }).catch((e) => {
    throw cannotWrite(target, e);
  });
}

/** What follows the file's name in the name of a mark of a record being made. */
const MAKING_INFIX = ".making-";
/** What follows the file's name in the name of a hold's mark. */
const HOLD_INFIX = ".hold-";

/** The lock file of a mark: `name` being made (`MAKING_INFIX`), or held (`HOLD_INFIX`). */
function markPath(target: string, infix: string, name: string): string {
  return join(dirname(target), `${basename(target)}${infix}${encodeURIComponent(name)}.lock`);
}

/** The lock file that marks `section` as being made. */
function makingPath(target: string, section: string): string {
  return markPath(target, MAKING_INFIX, section);
}

/**
 * The marks of one kind beside config file `target`, each with whether a
 * live process holds it. A look takes the mark's lock shared, for a moment:
 * it fails only while a holder has it (holders take it exclusive), and two
 * readers looking at once both see what is true; a holder tells a reader's
 * look from another holder's lock ({@linkcode tryHoldMark}).
 */
async function marks(target: string, infix: string): Promise<{ name: string; held: boolean }[]> {
  const prefix = `${basename(target)}${infix}`;
  const out: { name: string; held: boolean }[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dirname(target)));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  for (const entry of entries) {
    if (!entry.isFile || !entry.name.startsWith(prefix) || !entry.name.endsWith(".lock")) {
      continue;
    }
    const name = decodeURIComponent(entry.name.slice(prefix.length, -".lock".length));
    let file: Deno.FsFile;
    try {
      file = await Deno.open(join(dirname(target), entry.name), { read: true, write: true });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue; // its holder just finished
      throw e;
    }
    try {
      out.push({ name, held: !await file.tryLock(false) });
    } finally {
      file.close();
    }
  }
  return out.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * Takes the exclusive `flock` on a mark's file, waiting as long as its holder
 * is making the record (that can take many minutes: an image push, a compute
 * environment's validation). As in {@linkcode takeLock}, a lock on a file its
 * holder removed on release is let go and the new file is locked instead.
 */
async function holdMark(target: string, path: string, onWait?: () => void): Promise<HeldLock> {
  let told = false;
  while (true) {
    const file = await openLockFile(target, path);
    let held = false;
    try {
      if (!await tryHoldMark(file)) {
        if (!told) onWait?.();
        told = true;
        await file.lock(true);
      }
      const [mine, named] = [await file.stat(), await Deno.stat(path).catch(() => undefined)];
      if (named?.ino === mine.ino && named.dev === mine.dev) {
        held = true;
        return { file, path, id: mine };
      }
    } finally {
      if (!held) file.close();
    }
  }
}

/**
 * Takes the exclusive `flock` on an open mark's file, unless another holder
 * has it: `false` then, at once. Readers ({@linkcode marks}) look with the
 * shared lock, for a moment: when the exclusive lock is refused, the shared
 * one is tried, and it is refused only while an exclusive holder has the
 * mark; granted, only readers were there, and the exclusive lock is tried
 * again (at once, then after a pause that doubles up to 50 ms, so readers
 * that look without a pause are waited out, not raced).
 */
async function tryHoldMark(file: Deno.FsFile): Promise<boolean> {
  for (let wait = 0;; wait = Math.min(wait * 2 || 1, 50)) {
    if (await file.tryLock(true)) return true;
    if (!await file.tryLock(false)) return false;
    await file.unlock();
    if (wait > 0) await sleep(wait);
  }
}

/** This process's updates of one file, and what its waiters have seen of the lock. */
interface Turns {
  /** Settles when the last update queued so far has finished. */
  tail: Promise<void>;
  /** The holder's token when a waiter last looked, and since when it has been the same. */
  seen?: string;
  since: number;
}

const turns = new Map<string, Turns>();
const inside = new AsyncLocalStorage<string>();

/**
 * Runs `body` holding the lock, after this process's earlier updates of the
 * same file: they queue in memory, so only one of them at a time polls the
 * OS lock. Waiters share what they saw of the holder, so when one gives up
 * on a stuck holder the rest do not each wait the whole timeout again. A
 * nested update of the same file from inside a change would wait for itself
 * forever, so it is refused.
 */
async function inTurn(
  target: string,
  timeoutMs: number,
  body: () => Promise<void>,
): Promise<void> {
  if (inside.getStore() === target) {
    throw new StateFileError(
      `update() of ${target} was called from inside a change to the same file; ` +
        `make both edits in one change`,
      target,
    );
  }
  const queue = turns.get(target) ?? { tail: Promise.resolve(), since: Date.now() };
  turns.set(target, queue);
  const before = queue.tail;
  let done!: () => void;
  const mine = new Promise<void>((resolve) => done = resolve);
  queue.tail = mine;
  try {
    await before;
    const lock = await takeLock(target, timeoutMs, queue);
    try {
      await inside.run(target, body);
    } finally {
      await releaseLock(lock);
    }
  } finally {
    done();
    if (queue.tail === mine) turns.delete(target);
  }
}

/** A hold this process has ({@linkcode StateFile.hold}). */
export interface StateHold {
  /** What is held. */
  readonly name: string;
  /** Removes the hold's file and lets go of its lock; a second call does nothing more. */
  release(): Promise<void>;
}

/** A lock this process holds: the open, locked file and its path. */
interface HeldLock {
  file: Deno.FsFile;
  path: string;
  id: Deno.FileInfo;
}

/**
 * Removes the lock file while still holding it (unless someone removed it by
 * hand and another process made a new one), then releases the lock by
 * closing it. See {@linkcode takeLock}.
 */
async function releaseLock(lock: HeldLock): Promise<void> {
  try {
    const named = await Deno.stat(lock.path).catch(() => undefined);
    if (named?.ino === lock.id.ino && named.dev === lock.id.dev) {
      await Deno.remove(lock.path).catch(() => {});
    }
  } finally {
    lock.file.close();
  }
}
function sectionText(doc: IniDocument, section: string): string {
  return JSON.stringify([...doc.get(section) ?? []]);
}

/**
 * Adds `configured = True` to a `[aws]` section that was just written and
 * had no `configured` key before (a change that removes it is kept): the Python cloudknot refuses to make or adopt
 * anything (`CloudknotConfigurationError`) in a file without it, and only
 * its `cloudknot configure` writes it. Settings this library wrote are set up.
 */
function markConfigured(doc: IniDocument): void {
  const aws = doc.get(AWS_SECTION);
  if (aws && aws.size > 0 && !aws.has("configured")) aws.set("configured", "True");
}

function checkNoSecrets(doc: IniDocument, path: string): void {
  for (const [section, keys] of doc) {
    for (const key of keys.keys()) {
      if (SECRET_KEY.test(key)) {
        throw new CloudknotInputError(
          `Refusing to write "${key}" in [${section}] of ${path}: the cloudknot config file ` +
            `never holds secrets; keep credentials in the AWS credential chain`,
        );
      }
    }
  }
}
