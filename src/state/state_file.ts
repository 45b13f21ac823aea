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
 * Reading never writes. Every change is a read-modify-write under a
 * cross-process lock file, written to a temporary file and renamed into
 * place, so two processes never lose each other's changes and a reader never
 * sees half a file. Secrets are refused.
 *
 * @module
 */
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { CloudknotError, CloudknotInputError } from "../util/errors.ts";
import { type IniDocument, parseIni, stringifyIni } from "../util/ini.ts";
import { sleep } from "../util/sleep.ts";

/** Options for a {@linkcode StateFile}. */
export interface StateFileOptions {
  /** The file (default: `$CLOUDKNOT_CONFIG_FILE` or `~/.aws/cloudknot`). */
  path?: string;
  /** Reads an environment variable (default: `Deno.env.get`). */
  env?: (name: string) => string | undefined;
  /** The home directory (default: `os.homedir()`). */
  homeDir?: string;
  /** How long to wait for another process's lock, in milliseconds. @default {10000} */
  lockTimeoutMs?: number;
  /** A lock older than this is left over from a process that died. @default {30000} */
  staleLockMs?: number;
}

/**
 * The lock on the config file could not be taken.
 *
 * @example Usage
 * ```ts
 * import { StateLockError } from "@cloudknot/cloudknot";
 *
 * const e = new StateLockError("Another process holds /x.lock");
 * console.log(e.name); // "StateLockError"
 * ```
 */
export class StateLockError extends CloudknotError {}

/** Key names the file refuses, so that it never holds a secret. */
const SECRET_KEY = /secret|password|passwd|token|credential|private/i;

/**
 * The cloudknot config file.
 *
 * @example Usage
 * ```ts
 * import { StateFile } from "@cloudknot/cloudknot";
 *
 * const dir = await Deno.makeTempDir();
 * const state = new StateFile({ path: `${dir}/cloudknot` });
 * await state.set("aws", "region", "eu-west-1");
 * console.log(await state.get("aws", "region")); // "eu-west-1"
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class StateFile {
  /** The file's absolute path. */
  readonly path: string;
  #lockTimeoutMs: number;
  #staleLockMs: number;

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
    this.#staleLockMs = options.staleLockMs ?? 30_000;
  }

  /**
   * Reads the whole file; an absent file reads as empty.
   *
   * @returns Sections in file order, each with its keys in file order.
   */
  async read(): Promise<IniDocument> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return new Map();
      throw e;
    }
    return parseIni(text, { mode: "configparser", fileName: this.path });
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
   * document, and writes it back atomically.
   *
   * @param change Edits the document in place.
   */
  async update(change: (doc: IniDocument) => void | Promise<void>): Promise<void> {
    await this.#withLock(async () => {
      const doc = await this.read();
      await change(doc);
      checkNoSecrets(doc, this.path);
      const text = "# cloudknot configuration file\n" + stringifyIni(doc);
      const tmp = `${this.path}.tmp-${Deno.pid}-${Date.now()}`;
      await Deno.writeTextFile(tmp, text, { mode: 0o600 });
      await Deno.rename(tmp, this.path);
    });
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

  async #withLock<T>(body: () => Promise<T>): Promise<T> {
    const lock = `${this.path}.lock`;
    await Deno.mkdir(dirname(this.path), { recursive: true });
    const deadline = Date.now() + this.#lockTimeoutMs;
    let wait = 5;
    while (true) {
      try {
        const file = await Deno.open(lock, { createNew: true, write: true });
        await file.write(new TextEncoder().encode(`${Deno.pid} ${Date.now()}\n`));
        file.close();
        break;
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      }
      const stat = await Deno.stat(lock).catch(() => undefined);
      if (stat?.mtime && Date.now() - stat.mtime.getTime() > this.#staleLockMs) {
        await Deno.remove(lock).catch(() => {});
        continue;
      }
      if (Date.now() > deadline) {
        const holder = (await Deno.readTextFile(lock).catch(() => "")).split(" ")[0];
        throw new StateLockError(
          `Another cloudknot process${holder ? ` (pid ${holder})` : ""} holds the lock ${lock}; ` +
            `wait for it to finish, or delete the lock file if no other process is running`,
        );
      }
      await sleep(wait);
      wait = Math.min(wait * 2, 100);
    }
    try {
      return await body();
    } finally {
      await Deno.remove(lock).catch(() => {});
    }
  }
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
