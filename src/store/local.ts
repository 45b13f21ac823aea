/**
 * An {@linkcode ObjectStore} in a directory on this machine: the local
 * target's storage, with the same keys the S3 store uses.
 *
 * @module
 */
import { dirname, join, pathToFileURL, resolve } from "../util/path.ts";
import { CloudknotInputError } from "../util/errors.ts";
import type { ByteRange, ObjectStore, StoredObject } from "./store.ts";

/**
 * An object store in a local directory. Writes go to a temporary file that is
 * renamed into place, so a reader sees a whole object or none. Directories it
 * makes are 0700 and files 0600: only their owner can read them.
 *
 * @example Usage
 * ```ts
 * import { LocalStore } from "@cloudknot/cloudknot/store";
 *
 * const dir = await Deno.makeTempDir();
 * const store = new LocalStore(dir);
 * await store.put("runs/r1/inputs", new Uint8Array([1, 2, 3, 4]));
 * console.log(await store.get("runs/r1/inputs", { range: { offset: 2, length: 2 } })); // Uint8Array(2) [ 3, 4 ]
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class LocalStore implements ObjectStore {
  /** The absolute path of the store's root directory. */
  readonly root: string;
  /** Bytes returned by `get` so far, for measurements. */
  bytesRead = 0;

  /**
   * Opens a store rooted at a directory; it is created on the first write.
   *
   * @param root The directory, absolute or relative to the working directory.
   */
  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The store's location as a `file:` URL. */
  get url(): string {
    return pathToFileURL(this.root).href;
  }

  /** Writes an object atomically. */
  async put(key: string, body: Uint8Array | string): Promise<void> {
    const path = this.#path(key);
    // A short, process-unique temporary name: long random names make ext4
    // directories many times slower to write into.
    const tmp = `${path}.tmp-${Deno.pid}-${++writes}`;
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
    try {
      try {
        await writeFile(tmp, bytes);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
        await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
        await writeFile(tmp, bytes);
      }
      await rename(tmp, path, bytes.byteLength);
    } catch (e) {
      // A write the disk refused (full) leaves no part of the object behind to fill it.
      await Deno.remove(tmp).catch(() => {});
      throw e;
    }
  }

  /** Reads an object or a range of it; `undefined` when it does not exist. */
  async get(key: string, options?: { range?: ByteRange }): Promise<Uint8Array | undefined> {
    const path = this.#path(key);
    let bytes: Uint8Array;
    try {
      if (options?.range === undefined) {
        bytes = await readFile(path);
      } else {
        bytes = await readRange(path, options.range);
      }
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
    this.bytesRead += bytes.byteLength;
    return bytes;
  }

  /** Lists objects under a key prefix, in key order. */
  async *list(prefix: string): AsyncIterable<StoredObject> {
    const cut = prefix.lastIndexOf("/");
    const base = cut < 0 ? "" : prefix.slice(0, cut);
    const dir = base === "" ? this.root : this.#path(base);
    const found: StoredObject[] = [];
    for await (const object of walk(dir, base)) {
      if (object.key.startsWith(prefix)) found.push(object);
    }
    yield* found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Deletes objects, ignoring those already gone. */
  async delete(keys: string | string[]): Promise<void> {
    for (const key of typeof keys === "string" ? [keys] : keys) {
      try {
        await Deno.remove(this.#path(key));
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
  }

  /** A store rooted at a sub-directory of this one. */
  at(prefix: string): LocalStore {
    return new LocalStore(this.#path(prefix));
  }

  #path(key: string): string {
    if (
      key === "" || key.startsWith("/") || key.includes("\\") ||
      key.split("/").some((s) => s === "" || s === "." || s === "..")
    ) {
      throw new CloudknotInputError(
        `Invalid store key "${key}": use relative, "/"-separated keys without empty, "." or ".." segments`,
      );
    }
    return join(this.root, key);
  }
}

let writes = 0;

/**
 * Objects up to this size are read and written with synchronous file calls:
 * for small files, each of Deno's asynchronous file calls costs a round trip
 * through a thread pool that is many times the work itself, and a run reads
 * and writes thousands of small objects.
 */
const SMALL = 256 * 1024;

function writeFile(path: string, bytes: Uint8Array): Promise<void> {
  if (bytes.byteLength > SMALL) return Deno.writeFile(path, bytes, { mode: 0o600 });
  Deno.writeFileSync(path, bytes, { mode: 0o600 });
  return Promise.resolve();
}

function rename(from: string, to: string, size: number): Promise<void> {
  if (size > SMALL) return Deno.rename(from, to);
  Deno.renameSync(from, to);
  return Promise.resolve();
}

function readFile(path: string): Promise<Uint8Array> {
  const size = Deno.statSync(path).size;
  return size > SMALL ? Deno.readFile(path) : Promise.resolve(Deno.readFileSync(path));
}

function readRange(path: string, range: ByteRange): Promise<Uint8Array> {
  if (range.length > SMALL) return readRangeAsync(path, range);
  using file = Deno.openSync(path);
  file.seekSync(range.offset, Deno.SeekMode.Start);
  const out = new Uint8Array(range.length);
  let filled = 0;
  while (filled < out.length) {
    const n = file.readSync(out.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return Promise.resolve(filled === out.length ? out : out.subarray(0, filled));
}

async function readRangeAsync(path: string, range: ByteRange): Promise<Uint8Array> {
  using file = await Deno.open(path);
  await file.seek(range.offset, Deno.SeekMode.Start);
  const out = new Uint8Array(range.length);
  let filled = 0;
  while (filled < out.length) {
    const n = await file.read(out.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return filled === out.length ? out : out.subarray(0, filled);
}

async function* walk(dir: string, base: string): AsyncIterable<StoredObject> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  for (const entry of entries) {
    if (entry.name.includes(".tmp-")) continue;
    const key = base === "" ? entry.name : `${base}/${entry.name}`;
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* walk(path, key);
    else if (entry.isFile) {
      // Deleted since the folder was read (a prefix another process removes): not listed.
      const size = await Deno.stat(path).then((info) => info.size, (e) => {
        if (e instanceof Deno.errors.NotFound) return undefined;
        throw e;
      });
      if (size !== undefined) yield { key, size };
    }
  }
}
