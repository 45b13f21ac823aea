/**
 * Uploading an object to S3 whole: small bodies in one PutObject, large ones
 * and streams that turn out large as a multipart upload
 * (CreateMultipartUpload, UploadPart…, CompleteMultipartUpload) of a few
 * parts at a time, aborted again when a part fails. The S3 client only
 * knows the operations; the store runs the upload.
 *
 * @module
 */
import { AwsError } from "../aws/core/error.ts";
import type { CallOptions } from "../aws/core/request.ts";
import type { PutObjectRequest, PutObjectResponse, S3Objects } from "../aws/services/s3.ts";
import { CloudknotInputError } from "../util/errors.ts";
import { forEachPooled } from "../util/pooled.ts";
import { sleep } from "../util/sleep.ts";
import { backoffDelay } from "../aws/core/retry.ts";

/** The smallest part S3 accepts (except the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
/** The default size above which {@linkcode uploadObject} uses a multipart upload. */
export const DEFAULT_MULTIPART_THRESHOLD = 16 * 1024 * 1024;
/** The default part size of multipart uploads. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
/**
 * How many parts of a multipart upload go up at once by default: the AWS SDK
 * for JavaScript v3's (`@aws-sdk/lib-storage` `Upload`'s `queueSize`).
 */
export const DEFAULT_QUEUE_SIZE = 4;
/** The most parts S3 takes in one multipart upload. */
export const MAX_PARTS = 10_000;
/** The largest part S3 takes. */
export const MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;

/** A body {@linkcode uploadObject} accepts. */
export type UploadBody = string | Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>;

/** What {@linkcode uploadObject} writes: PutObject's members, with any body. */
export interface UploadRequest extends Omit<PutObjectRequest, "Body"> {
  /** The body; a stream of unknown or large size goes up as a multipart upload. */
  Body: UploadBody;
}

/** Options of {@linkcode uploadObject}. */
export interface UploadOptions extends CallOptions {
  /**
   * Bodies larger than this go up as multipart uploads, in bytes.
   *
   * @default {16777216}
   */
  multipartThreshold?: number;
  /**
   * The size of each part, in bytes (at least 5 MiB).
   *
   * @default {8388608}
   */
  partSize?: number;
  /**
   * The most parts an upload may have (S3's limit; lower only to test). The
   * parts grow so that this many hold any object S3 takes: `partSize` for
   * the first tenth of them, then twice as large for each tenth after (at
   * most 5 GiB), so 10,000 parts of 8 MiB hold 8 TiB where parts of one
   * size would stop at 78 GiB.
   *
   * @default {10000}
   */
  maxParts?: number;
  /**
   * How many parts go up at once. A stream is read no further ahead than
   * the parts going up, so about this many parts are held in memory.
   *
   * @default {4}
   */
  queueSize?: number;
}

/**
 * Uploads an object. Strings and byte arrays up to `multipartThreshold` go
 * up in one PutObject; larger bodies and streams that turn out larger go up
 * as a multipart upload in `partSize` parts, `queueSize` at a time (aborted
 * again if a part fails).
 *
 * @param s3 The S3 client.
 * @param input The object.
 * @param options Thresholds and per-call options.
 * @returns PutObject's (or CompleteMultipartUpload's) response.
 * @throws {CloudknotInputError} For a part size under 5 MiB, or a `maxParts` or
 * `queueSize` out of range, before anything is sent.
 */
export async function uploadObject(
  s3: S3Objects,
  input: UploadRequest,
  options: UploadOptions = {},
): Promise<PutObjectResponse> {
  const { multipartThreshold, partSize: size, maxParts: most, queueSize: queue, ...callOptions } =
    options;
  const threshold = multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD;
  const partSize = size ?? DEFAULT_PART_SIZE;
  if (partSize < MIN_PART_SIZE) {
    throw new CloudknotInputError(
      `partSize must be at least ${MIN_PART_SIZE} bytes (5 MiB), got ${partSize}`,
    );
  }
  const maxParts = most ?? MAX_PARTS;
  if (!Number.isInteger(maxParts) || maxParts < 1 || maxParts > MAX_PARTS) {
    throw new CloudknotInputError(
      `maxParts must be an integer from 1 to ${MAX_PARTS}, got ${maxParts}`,
    );
  }
  const queueSize = queue ?? DEFAULT_QUEUE_SIZE;
  if (!Number.isInteger(queueSize) || queueSize < 1) {
    throw new CloudknotInputError(
      `queueSize must be a whole number of parts, at least 1, got ${queueSize}`,
    );
  }
  const sizeOf = partSizes(partSize, maxParts);
  const body = input.Body;
  if (typeof body === "string" || body instanceof Uint8Array) {
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
    if (bytes.byteLength <= threshold) {
      return await s3.putObject({ ...input, Body: bytes }, callOptions);
    }
    return await putMultipart(s3, input, chunksOf(bytes, sizeOf), queueSize, callOptions);
  }
  const head = await readAll(body, threshold);
  if (head.done) {
    return await s3.putObject({ ...input, Body: concat(head.chunks, head.size) }, callOptions);
  }
  return await putMultipart(
    s3,
    input,
    streamParts(head.chunks, head.reader, sizeOf),
    queueSize,
    callOptions,
  );
}

/**
 * Uploads `parts` as one multipart upload, `queueSize` parts at a time: a
 * part is taken from `parts` only when one of the `queueSize` going up is
 * done, so a stream is read no further ahead than that. On the first
 * failure (a part's, or reading `parts`) it takes no more parts, waits for
 * those going up, aborts the upload and rethrows that failure.
 */
async function putMultipart(
  s3: S3Objects,
  input: UploadRequest,
  parts: AsyncIterable<Uint8Array<ArrayBuffer>> | Iterable<Uint8Array<ArrayBuffer>>,
  queueSize: number,
  options: CallOptions,
): Promise<PutObjectResponse> {
  const { Body: _, ...object } = input;
  const { UploadId } = await s3.createMultipartUpload(object, options);
  if (!UploadId) {
    throw new AwsError("CreateMultipartUpload returned no UploadId", {
      service: "S3",
      operation: "CreateMultipartUpload",
      code: "InvalidResponse",
    });
  }
  const done: { PartNumber: number; ETag: string }[] = [];
  try {
    let failed = false;
    const errors = await forEachPooled(numbered(parts), queueSize, async (part) => {
      // A part taken while another failed is not sent: the upload is aborted.
      if (failed) return;
      try {
        const { ETag } = await s3.uploadPart({
          Bucket: input.Bucket,
          Key: input.Key,
          UploadId,
          PartNumber: part.number,
          Body: part.body,
        }, options);
        done[part.number - 1] = { PartNumber: part.number, ETag: ETag ?? "" };
      } catch (error) {
        failed = true;
        throw error;
      }
    }, { stopOnError: true });
    if (errors.length > 0) throw errors[0];
    const out = await completeUpload(s3, {
      Bucket: input.Bucket,
      Key: input.Key,
      UploadId,
      MultipartUpload: { Parts: done },
    }, options);
    return out.ETag ? { ETag: out.ETag } : {};
  } catch (error) {
    await s3.abortMultipartUpload({ Bucket: input.Bucket, Key: input.Key, UploadId }).catch(
      () => {},
    );
    throw error;
  }
}

/** How many times a CompleteMultipartUpload answered with an error in a 200 is sent again. */
const COMPLETE_RETRIES = 3;

/**
 * CompleteMultipartUpload, sent again when S3 answers it 200 with an error in
 * its body, which the upload is not completed by: "a 200 OK response can
 * contain either a success or an error … design your application to parse
 * the contents of the response and handle it appropriately"
 * (CompleteMultipartUpload in the S3 API reference). Such an answer gets past
 * the transport's retries, which look at the status, so it is retried here,
 * as botocore retries it (it turns the answer into a 500 for its retries).
 */
async function completeUpload(
  s3: S3Objects,
  input: Parameters<S3Objects["completeMultipartUpload"]>[0],
  options: CallOptions | undefined,
): Promise<Awaited<ReturnType<S3Objects["completeMultipartUpload"]>>> {
  for (let attempt = 0;; attempt++) {
    try {
      return await s3.completeMultipartUpload(input, options);
    } catch (e) {
      if (!(e instanceof AwsError && e.status === 200) || attempt >= COMPLETE_RETRIES) throw e;
      await sleep(backoffDelay(attempt, {}), options?.signal);
    }
  }
}

/** The parts with their numbers (from 1), taken one at a time as they are asked for. */
async function* numbered(
  parts: AsyncIterable<Uint8Array<ArrayBuffer>> | Iterable<Uint8Array<ArrayBuffer>>,
): AsyncGenerator<{ number: number; body: Uint8Array<ArrayBuffer> }> {
  let number = 0;
  for await (const body of parts) yield { number: ++number, body };
}

async function readAll(
  stream: ReadableStream<Uint8Array>,
  limit: number,
): Promise<
  {
    chunks: Uint8Array[];
    size: number;
    done: boolean;
    reader: ReadableStreamDefaultReader<Uint8Array>;
  }
> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size <= limit) {
    const { value, done } = await reader.read();
    if (done) return { chunks, size, done: true, reader };
    chunks.push(value);
    size += value.byteLength;
  }
  return { chunks, size, done: false, reader };
}

function concat(chunks: Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/**
 * The size of each part of an upload, by its number (from 1): `partSize` for
 * the first tenth of `maxParts`, twice that for the next tenth, and so on,
 * at most 5 GiB.
 */
function partSizes(partSize: number, maxParts: number): (part: number) => number {
  const tenth = Math.max(1, Math.floor(maxParts / 10));
  return (part) => Math.min(MAX_PART_SIZE, partSize * 2 ** Math.floor((part - 1) / tenth));
}

function* chunksOf(
  bytes: Uint8Array<ArrayBuffer>,
  sizeOf: (part: number) => number,
): Generator<Uint8Array<ArrayBuffer>> {
  for (let offset = 0, part = 1; offset < bytes.byteLength; part++) {
    const end = Math.min(offset + sizeOf(part), bytes.byteLength);
    yield bytes.subarray(offset, end);
    offset = end;
  }
}

/**
 * Cuts a stream into parts of `sizeOf(n)` bytes (the last one shorter) as it
 * is read. The pieces read are kept as they are until a part is full, then
 * copied once into it: each byte is copied once, however the pieces are cut
 * (gathering everything pending into one buffer for every part copied the
 * rest of a large piece again for each part cut from it).
 */
async function* streamParts(
  head: Uint8Array[],
  reader: ReadableStreamDefaultReader<Uint8Array>,
  sizeOf: (part: number) => number,
): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  const pending: Uint8Array[] = [...head];
  let pendingSize = head.reduce((n, c) => n + c.byteLength, 0);
  let finished = false;
  try {
    for (let number = 1; !finished || pendingSize > 0; number++) {
      const size = sizeOf(number);
      while (!finished && pendingSize < size) {
        const { value, done } = await reader.read();
        if (done) finished = true;
        else {
          pending.push(value);
          pendingSize += value.byteLength;
        }
      }
      if (pendingSize === 0) break;
      const part = new Uint8Array(Math.min(size, pendingSize));
      let filled = 0;
      let used = 0;
      while (filled < part.byteLength) {
        const piece = pending[used]!;
        const take = Math.min(piece.byteLength, part.byteLength - filled);
        if (take === piece.byteLength) {
          part.set(piece, filled);
          used++;
        } else {
          part.set(piece.subarray(0, take), filled);
          pending[used] = piece.subarray(take);
        }
        filled += take;
      }
      pending.splice(0, used);
      pendingSize -= part.byteLength;
      yield part;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
