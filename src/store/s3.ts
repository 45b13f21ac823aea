/**
 * An {@linkcode ObjectStore} in an S3 bucket under a key prefix: the AWS
 * target's storage, with the same keys the local store uses. It is opened
 * from `s3://bucket/prefix` URLs by {@linkcode openStore}, which loads this
 * module only when such a URL is opened.
 *
 * @module
 */
import { AwsError } from "../aws/core/error.ts";
import { createS3, S3_OBJECT_SERVICE, type S3Objects } from "../aws/services/s3.ts";
import { resolveAwsSetup } from "../aws/setup.ts";
import { CloudknotInputError } from "../util/errors.ts";
import { uploadObject } from "./s3_upload.ts";
import type { ByteRange, ObjectStore, StoredObject } from "./store.ts";

/** The server-side encryption an {@linkcode S3Store} asks for on every write. */
export type S3Encryption = "AES256" | "aws:kms";

/**
 * What an {@linkcode S3Store} needs of an AWS session: its region and its S3
 * client. An `AwsSession` is one; a job makes one with only an S3 client.
 */
export interface S3Session {
  /** The region. */
  readonly region: string;
  /** The S3 client. */
  readonly s3: S3Objects;
}

/** Options for an {@linkcode S3Store}. */
export interface S3StoreOptions {
  /** The AWS session (or just its region and S3 client) whose S3 client the store uses. */
  session: S3Session;
  /** The bucket. */
  bucket: string;
  /** The key prefix of the store's root, without a leading or trailing `/`. @default {""} */
  prefix?: string;
  /** Server-side encryption for every object written (the `x-amz-server-side-encryption` header). */
  sse?: S3Encryption;
  /**
   * Aborts every request of the store (and of the stores `at` makes from
   * it), with its retries' waits: once it aborts, each rejects with its
   * reason, and none is sent again. See {@linkcode S3Store.withSignal}.
   */
  signal?: AbortSignal;
}

/** Per-call options of {@linkcode S3Store}'s reads and deletes. */
export interface S3CallOptions {
  /**
   * Aborts the call, its retries' waits included (besides the store's own
   * `signal`): it rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

/** Options for {@linkcode S3Store.put}. */
export interface S3PutOptions extends S3CallOptions {
  /** User metadata (`x-amz-meta-*`); names are lowercase letters, digits and hyphens. */
  metadata?: Record<string, string>;
}

/** What {@linkcode S3Store.head} tells about an object. */
export interface S3ObjectInfo {
  /** The object's size in bytes. */
  size: number;
  /** The object's user metadata. */
  metadata: Record<string, string>;
  /** When the object was written, in epoch milliseconds, as S3 says (by S3's clock). */
  lastModified?: number;
}

const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * An object store in an S3 bucket. S3 is strongly consistent: an object is
 * listed and readable as soon as its `put` resolves.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 * import { S3Store } from "@cloudknot/cloudknot/store";
 *
 * const session = await AwsSession.create();
 * const store = new S3Store({ session, bucket: "my-bucket", prefix: "cloudknot/squares", sse: "AES256" });
 * await store.put("runs/r1/inputs", new Uint8Array([1, 2, 3, 4]));
 * console.log(await store.get("runs/r1/inputs", { range: { offset: 2, length: 2 } })); // Uint8Array(2) [ 3, 4 ]
 * console.log(store.url); // "s3://my-bucket/cloudknot/squares?region=us-east-1&sse=AES256"
 * ```
 */
export class S3Store implements ObjectStore {
  /** The bucket. */
  readonly bucket: string;
  /** The key prefix of the store's root (no leading or trailing `/`). */
  readonly prefix: string;
  /** The encryption asked for on writes, if any. */
  readonly sse?: S3Encryption;
  /** Bytes returned by `get` so far, for measurements. */
  bytesRead = 0;
  #session: S3Session;
  #signal: AbortSignal | undefined;

  /**
   * Makes a store; nothing is sent yet.
   *
   * @param options The session, the bucket, the prefix and the encryption.
   */
  constructor(options: S3StoreOptions) {
    if (typeof options.bucket !== "string" || !BUCKET_RE.test(options.bucket)) {
      throw new CloudknotInputError(
        `Invalid S3 bucket name "${options.bucket}": use 3 to 63 lowercase letters, digits, dots and hyphens`,
        { field: "bucket" },
      );
    }
    const prefix = options.prefix ?? "";
    if (prefix !== "") checkKey(prefix);
    if (options.sse !== undefined && options.sse !== "AES256" && options.sse !== "aws:kms") {
      throw new CloudknotInputError(
        `sse must be "AES256" or "aws:kms", not ${JSON.stringify(options.sse)}`,
        { field: "sse" },
      );
    }
    this.bucket = options.bucket;
    this.prefix = prefix;
    if (options.sse !== undefined) this.sse = options.sse;
    this.#session = options.session;
    this.#signal = options.signal;
  }

  /**
   * The same store, with every request it (or a store `at` makes from it)
   * sends aborted once `signal` aborts, besides this store's own signal: for
   * a reader that stops, so that no request of its, nor a retry's wait, is
   * left running after it stopped.
   *
   * @example Usage
   * ```ts ignore
   * const stop = new AbortController();
   * const reading = store.withSignal(stop.signal).get("runs/r1/run.json");
   * stop.abort(); // `reading` rejects with the signal's reason
   * ```
   *
   * @param signal Aborts its requests.
   * @returns The store.
   */
  withSignal(signal: AbortSignal): S3Store {
    return new S3Store({
      session: this.#session,
      bucket: this.bucket,
      prefix: this.prefix,
      ...(this.sse !== undefined ? { sse: this.sse } : {}),
      signal: this.#signal === undefined ? signal : AbortSignal.any([this.#signal, signal]),
    });
  }

  /** The options of a call: its signal and the store's, if any. */
  #call(options: S3CallOptions | undefined): { signal?: AbortSignal } {
    const own = this.#signal;
    const given = options?.signal;
    const signal = own === undefined
      ? given
      : given === undefined
      ? own
      : AbortSignal.any([own, given]);
    return signal === undefined ? {} : { signal };
  }

  /**
   * The store's location: `s3://bucket/prefix?region=…`, plus `&sse=…` when
   * writes are encrypted. The region lets a job open the store where its
   * container is not told its region (ECS on EC2).
   */
  get url(): string {
    const path = this.prefix === "" ? "" : `/${this.prefix}`;
    const sse = this.sse ? `&sse=${this.sse}` : "";
    return `s3://${this.bucket}${path}?region=${this.#session.region}${sse}`;
  }

  /** The AWS session the store uses. */
  get session(): S3Session {
    return this.#session;
  }

  /**
   * Writes an object whole (one PutObject; multipart above 16 MiB, four
   * parts of 8 MiB going up at once). A stream is read no further ahead
   * than the parts going up, so about four parts are held in memory; if it
   * errors, or a part fails, the multipart upload is aborted and rejects
   * with that error.
   *
   * @param key The key, relative to the store's root.
   * @param body The bytes, text or a stream of bytes.
   * @param options User metadata, and a signal that aborts it.
   */
  async put(
    key: string,
    body: Uint8Array | string | ReadableStream<Uint8Array>,
    options: S3PutOptions = {},
  ): Promise<void> {
    const bytes = typeof body === "string"
      ? new TextEncoder().encode(body)
      : body instanceof ReadableStream
      ? body
      : body.buffer instanceof ArrayBuffer
      ? body as Uint8Array<ArrayBuffer>
      : new Uint8Array(body);
    await uploadObject(this.#session.s3, {
      Bucket: this.bucket,
      Key: this.#key(key),
      Body: bytes,
      ...(this.sse !== undefined ? { ServerSideEncryption: this.sse } : {}),
      ...(options.metadata !== undefined ? { Metadata: options.metadata } : {}),
    }, this.#call(options));
  }

  /**
   * Reads an object, or a range of it (one GetObject with a `Range` header).
   * Resolves to `undefined` when the object does not exist, and to the bytes
   * that exist when the range runs past the object's end.
   *
   * @param key The key, relative to the store's root.
   * @param options `range` reads part of the object; `signal` aborts the read.
   * @returns The bytes, or `undefined`.
   */
  async get(
    key: string,
    options?: { range?: ByteRange } & S3CallOptions,
  ): Promise<Uint8Array | undefined> {
    const range = options?.range;
    if (range !== undefined) {
      if (
        !Number.isSafeInteger(range.offset) || range.offset < 0 ||
        !Number.isSafeInteger(range.length) || range.length < 0
      ) {
        throw new CloudknotInputError(
          `Invalid byte range ${
            JSON.stringify(range)
          }: offset and length must be non-negative integers`,
        );
      }
      if (range.length === 0) return new Uint8Array();
    }
    let bytes: Uint8Array;
    try {
      const object = await this.#session.s3.getObject({
        Bucket: this.bucket,
        Key: this.#key(key),
        ...(range !== undefined
          ? { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` }
          : {}),
      }, this.#call(options));
      bytes = await object.bytes();
    } catch (e) {
      if (e instanceof AwsError && (e.code === "NoSuchKey" || e.status === 404)) return undefined;
      if (await this.#deniedAsMissing(e, key, options)) return undefined;
      if (e instanceof AwsError && (e.code === "InvalidRange" || e.status === 416)) {
        return new Uint8Array();
      }
      throw e;
    }
    this.bytesRead += bytes.byteLength;
    return bytes;
  }

  /**
   * An object's size and user metadata (one HeadObject); `undefined` when it
   * does not exist.
   *
   * @param key The key, relative to the store's root.
   * @param options `signal` aborts it.
   * @returns Its size and metadata, or `undefined`.
   */
  async head(key: string, options?: S3CallOptions): Promise<S3ObjectInfo | undefined> {
    try {
      const meta = await this.#session.s3.headObject(
        { Bucket: this.bucket, Key: this.#key(key) },
        this.#call(options),
      );
      return {
        size: meta.ContentLength ?? 0,
        metadata: meta.Metadata,
        ...(meta.LastModified !== undefined ? { lastModified: meta.LastModified.getTime() } : {}),
      };
    } catch (e) {
      if (e instanceof AwsError && (e.code === "NotFound" || e.status === 404)) return undefined;
      if (await this.#deniedAsMissing(e, key, options)) return undefined;
      throw e;
    }
  }

  /**
   * Whether a 403 to a GetObject or HeadObject means that the key does not
   * exist. S3 answers a missing key with 403 to a caller it does not allow
   * `s3:ListBucket` in that request's context (Permissions in the S3 API
   * reference's GetObject and HeadObject), and a knot's job role may list the
   * bucket only under its prefix (`s3:prefix`, which a GetObject does not
   * carry): so the key is listed, as the role may, and one that is not there
   * is absent, as a 404 says to a caller who may list the bucket. A key that
   * is there was refused for another reason, which the caller is told.
   */
  async #deniedAsMissing(e: unknown, key: string, options?: S3CallOptions): Promise<boolean> {
    if (!(e instanceof AwsError && e.status === 403)) return false;
    const full = this.#key(key);
    try {
      const page = await this.#session.s3.listObjectsV2(
        { Bucket: this.bucket, Prefix: full, MaxKeys: 1 },
        this.#call(options),
      );
      return !(page.Contents ?? []).some((object) => object.Key === full);
    } catch {
      return false;
    }
  }

  /**
   * Lists objects under a key prefix, in key order (ListObjectsV2, 1,000 keys
   * per page).
   *
   * @param prefix The key prefix, relative to the store's root.
   * @param options `startAfter` lists only keys after this one (relative); `signal` aborts
   *   the listing (the page under way, and a retry's wait).
   * @returns The objects.
   */
  async *list(
    prefix: string,
    options: { startAfter?: string } & S3CallOptions = {},
  ): AsyncIterable<StoredObject> {
    const root = this.prefix === "" ? "" : `${this.prefix}/`;
    const startAfter = options.startAfter !== undefined && options.startAfter > prefix
      ? { StartAfter: root + options.startAfter }
      : {};
    for await (
      const object of this.#session.s3.listObjectsV2All({
        Bucket: this.bucket,
        Prefix: root + prefix,
        ...startAfter,
      }, this.#call(options))
    ) {
      if (object.Key === undefined) continue;
      yield { key: object.Key.slice(root.length), size: object.Size ?? 0 };
    }
  }

  /**
   * The "folders" right under a key prefix: the distinct next path segments
   * (ListObjectsV2 with the `/` delimiter).
   *
   * @param prefix The key prefix, relative to the store's root, ending with `/` (or `""`).
   * @param options `signal` aborts the listing.
   * @returns Each folder's name, without the prefix and the trailing `/`.
   */
  async *folders(prefix: string, options?: S3CallOptions): AsyncIterable<string> {
    const root = this.prefix === "" ? "" : `${this.prefix}/`;
    let token: string | undefined;
    do {
      const page = await this.#session.s3.listObjectsV2({
        Bucket: this.bucket,
        Prefix: root + prefix,
        Delimiter: "/",
        ...(token !== undefined ? { ContinuationToken: token } : {}),
      }, this.#call(options));
      for (const p of page.CommonPrefixes ?? []) {
        if (p.Prefix !== undefined) yield p.Prefix.slice(root.length + prefix.length, -1);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  /**
   * Deletes objects, 1,000 keys per DeleteObjects call; keys that do not
   * exist are ignored.
   *
   * @param keys The keys, relative to the store's root.
   * @param options `signal` aborts it.
   */
  async delete(keys: string | string[], options?: S3CallOptions): Promise<void> {
    const all = (typeof keys === "string" ? [keys] : keys).map((k) => this.#key(k));
    if (all.length === 0) return;
    const out = await this.#session.s3.deleteKeys(this.bucket, all, this.#call(options));
    const failed = (out.Errors ?? []).filter((e) => e.Code !== "NoSuchKey");
    if (failed.length > 0) {
      const first = failed[0]!;
      throw new AwsError(
        `${failed.length} of ${all.length} objects could not be deleted, such as ${first.Key}: ${
          first.Message ?? ""
        }`,
        { service: "S3", operation: "DeleteObjects", code: first.Code ?? "DeleteFailed" },
      );
    }
  }

  /**
   * A store rooted at `prefix` inside this one, with the same session,
   * encryption and signal.
   *
   * @param prefix The sub-prefix (no leading or trailing `/`).
   * @returns The store.
   */
  at(prefix: string): S3Store {
    checkKey(prefix);
    return new S3Store({
      session: this.#session,
      bucket: this.bucket,
      prefix: this.prefix === "" ? prefix : `${this.prefix}/${prefix}`,
      ...(this.sse !== undefined ? { sse: this.sse } : {}),
      ...(this.#signal !== undefined ? { signal: this.#signal } : {}),
    });
  }

  #key(key: string): string {
    checkKey(key);
    return this.prefix === "" ? key : `${this.prefix}/${key}`;
  }
}

function checkKey(key: string): void {
  if (
    typeof key !== "string" || key === "" || key.startsWith("/") || key.includes("\\") ||
    key.split("/").some((s) => s === "" || s === "." || s === "..")
  ) {
    throw new CloudknotInputError(
      `Invalid store key "${key}": use relative, "/"-separated keys without empty, "." or ".." segments`,
    );
  }
}

/** Options for {@linkcode openS3Store}. */
export interface OpenS3StoreOptions {
  /**
   * The session to use.
   *
   * @default {"an S3 client alone, on the profile, credentials and endpoint the environment names"}
   */
  session?: S3Session;
}

/**
 * Opens the store an `s3://bucket/prefix[?region=…][&sse=AES256|aws:kms]`
 * URL names. Without a session, it makes one from the environment and the
 * URL's region: inside an AWS Batch container, the container's credentials
 * (and, against an emulator, `AWS_ENDPOINT_URL`); the region is the URL's,
 * else `AWS_REGION`.
 *
 * @example Usage
 * ```ts ignore
 * import { openS3Store } from "@cloudknot/cloudknot/store";
 *
 * const run = await openS3Store("s3://my-bucket/cloudknot/squares/runs/20261126T120102Z-3f9a1c");
 * console.log(run.prefix); // "cloudknot/squares/runs/20261126T120102Z-3f9a1c"
 * ```
 *
 * @param url The store's URL.
 * @param options The session to use.
 * @returns The store.
 */
export async function openS3Store(
  url: string | URL,
  options: OpenS3StoreOptions = {},
): Promise<S3Store> {
  const parsed = typeof url === "string" ? parseS3Url(url) : url;
  if (parsed.protocol !== "s3:" || parsed.hostname === "") {
    throw new CloudknotInputError(`Invalid S3 store URL "${url}": use s3://bucket/prefix`);
  }
  const sse = parsed.searchParams.get("sse");
  const prefix = decodeURIComponent(parsed.pathname.replace(/^\/+|\/+$/g, ""));
  // The bucket's region, from the URL, comes first: a container on ECS with
  // EC2 has no AWS_REGION, and a user's own AWS_REGION may name another one.
  const region = parsed.searchParams.get("region");
  // Only an S3 client, not an AwsSession: a job loads no other service.
  let session = options.session;
  if (session === undefined) {
    const setup = await resolveAwsSetup(region !== null && region !== "" ? { region } : {});
    session = { region: setup.region, s3: createS3(setup.client("s3"), S3_OBJECT_SERVICE) };
  }
  return new S3Store({
    session,
    bucket: parsed.hostname,
    prefix,
    ...(sse !== null ? { sse: sse as S3Encryption } : {}),
  });
}

function parseS3Url(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new CloudknotInputError(`Invalid S3 store URL "${url}": use s3://bucket/prefix`);
  }
}
