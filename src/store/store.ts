/**
 * The object-storage interface every target shares: the S3 bucket on AWS and
 * a local directory on this machine. Keys are `/`-separated paths relative to
 * the store's root.
 *
 * @module
 */

/** A byte range to read: `length` bytes starting at `offset`. */
export interface ByteRange {
  /** The first byte to read, counted from 0. */
  offset: number;
  /** How many bytes to read. */
  length: number;
}

/** One object found by {@linkcode ObjectStore.list}. */
export interface StoredObject {
  /** The object's key, relative to the store's root. */
  key: string;
  /** The object's size in bytes. */
  size: number;
}

/**
 * Object storage behind one interface: `put`, `get` (whole or ranged),
 * `list` and `delete`.
 *
 * @example Usage
 * ```ts
 * import { LocalStore } from "@cloudknot/cloudknot/store";
 *
 * const dir = await Deno.makeTempDir();
 * const store: import("@cloudknot/cloudknot/store").ObjectStore = new LocalStore(dir);
 * await store.put("a/b.txt", "hello");
 * const bytes = await store.get("a/b.txt", { range: { offset: 1, length: 3 } });
 * console.log(new TextDecoder().decode(bytes)); // "ell"
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface ObjectStore {
  /** Where the store lives, as a URL: `file:///…` or `s3://bucket/prefix`. */
  readonly url: string;
  /** Writes an object whole; readers never see a partly written object. */
  put(key: string, body: Uint8Array | string): Promise<void>;
  /**
   * Reads an object, or the given range of it. Resolves to `undefined` when
   * the object does not exist. `signal` aborts the read (its request and a
   * retry's wait, where there are any): it rejects with the signal's reason.
   */
  get(
    key: string,
    options?: { range?: ByteRange; signal?: AbortSignal },
  ): Promise<Uint8Array | undefined>;
  /**
   * Lists the objects whose keys start with `prefix`, in key order.
   * `signal` aborts the listing (the page under way, and a retry's wait).
   */
  list(prefix: string, options?: { signal?: AbortSignal }): AsyncIterable<StoredObject>;
  /** Deletes objects; keys that do not exist are ignored. */
  delete(keys: string | string[]): Promise<void>;
  /** A store rooted at `prefix` inside this one (`prefix` has no trailing `/`). */
  at(prefix: string): ObjectStore;
}

/**
 * Deletes every object whose key starts with `prefix`.
 *
 * @example Usage
 * ```ts
 * import { deletePrefix, LocalStore } from "@cloudknot/cloudknot/store";
 *
 * const dir = await Deno.makeTempDir();
 * const store = new LocalStore(dir);
 * await store.put("run/1", "x");
 * console.log(await deletePrefix(store, "run/")); // 1
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param store The store to delete from.
 * @param prefix The key prefix; pass `""` to empty the store.
 * @returns How many objects were deleted.
 */
export async function deletePrefix(store: ObjectStore, prefix: string): Promise<number> {
  let batch: string[] = [];
  let count = 0;
  for await (const { key } of store.list(prefix)) {
    batch.push(key);
    if (batch.length === 1000) {
      await store.delete(batch);
      count += batch.length;
      batch = [];
    }
  }
  if (batch.length > 0) await store.delete(batch);
  return count + batch.length;
}
