/**
 * An AWS run's inputs, uploaded to S3 as they are read: each chunk of encoded
 * items (`job/inputs.ts`) is appended to the run's `inputs` object (the job
 * contract's payload, `job/payload.ts`) through one streamed upload (a
 * multipart upload once it passes 16 MiB, four parts at a time,
 * `store/s3_upload.ts`), so a map of many or large items holds about one
 * chunk and four parts in memory, where laying the whole payload out first
 * held every encoded item twice. Only the index (16 bytes an item) is kept
 * until the end; the caller writes it with the run's manifest once the count
 * is known.
 *
 * @module
 */
import { INDEX_ENTRY_BYTES, layoutPayload, RUN_KEYS } from "../../job/payload.ts";
import type { S3Store } from "../../store/s3.ts";
import { type MapRequest, requestChunks } from "../target.ts";

/** What {@linkcode uploadInputs} uploaded. */
export interface UploadedInputs {
  /** The number of items. */
  count: number;
  /** The size of the `inputs` object, in bytes. */
  bytes: number;
  /** The run's `index`: for each item, its offset and length (little-endian u64s). */
  index: Uint8Array<ArrayBuffer>;
}

/**
 * Uploads a request's items, opened by {@linkcode openItems} (so there is at
 * least one), to `inputs` under `store` a chunk at a time and returns their
 * index. A bad item or a failed read midway rejects with its own error,
 * after the multipart upload begun for the items before it is aborted, so
 * nothing of the run is left in the bucket.
 *
 * @example Usage
 * ```ts ignore
 * import { openItems, uploadInputs } from "./run_inputs.ts";
 *
 * const items = await openItems(request.items);
 * if (items !== undefined) {
 *   const { count, index } = await uploadInputs(store.at(`runs/${runId}`), items);
 * }
 * ```
 *
 * @param store The run's folder in the knot's bucket.
 * @param items The request's items, opened.
 * @returns The count, the size of the inputs and the index.
 */
export async function uploadInputs(
  store: S3Store,
  items: OpenedItems,
): Promise<UploadedInputs> {
  const chunks = items[Symbol.asyncIterator]();
  const entries: Uint8Array[] = [];
  let count = 0;
  let offset = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      // A pull must enqueue or close: one that returns with nothing is not called again.
      let next = await chunks.next();
      while (!next.done && next.value.length === 0) next = await chunks.next();
      if (next.done) return controller.close();
      const chunk = next.value;
      const { inputs: bytes, index } = layoutPayload(chunk, offset);
      entries.push(index);
      offset += bytes.byteLength;
      count += chunk.length;
      controller.enqueue(bytes);
    },
    async cancel() {
      await chunks.return?.();
    },
  }, { highWaterMark: 0 });
  await store.put(RUN_KEYS.inputs, body);
  const index = new Uint8Array(count * INDEX_ENTRY_BYTES);
  let at = 0;
  for (const e of entries) {
    index.set(e, at);
    at += e.byteLength;
  }
  return { count, bytes: offset, index };
}

/**
 * A request's chunks of items, the first one read already (and the next one
 * too when the first holds one item); `close` lets them go unread.
 */
export interface OpenedItems extends AsyncIterable<readonly Uint8Array[]> {
  /** Whether the request has one item only: a run of it needs nothing read for slicing. */
  readonly single: boolean;
  /** Ends the reading of the items (their source's `return`), as a loop that breaks does. */
  close(): Promise<void>;
}

/**
 * Reads a request's items up to the second one, so a map knows whether it
 * has any, and more than one, before it asks AWS what slicing them needs:
 * `undefined` when there are none, otherwise every chunk again, from the
 * first.
 *
 * @example Usage
 * ```ts ignore
 * import { openItems } from "./run_inputs.ts";
 *
 * const items = await openItems(request.items);
 * if (items === undefined) console.log("nothing to run");
 * else if (items.single) console.log("one item: one child, nothing to slice");
 * ```
 *
 * @param items The request's items.
 * @param stop Ends the reading when it aborts (the map's signal): the run is the items read.
 * @returns The items, or `undefined` when there are none.
 */
export async function openItems(
  items: MapRequest["items"],
  stop?: AbortSignal,
): Promise<OpenedItems | undefined> {
  const chunks = requestChunks(items, stop)[Symbol.asyncIterator]();
  const nonEmpty = async () => {
    let chunk = await chunks.next();
    while (!chunk.done && chunk.value.length === 0) chunk = await chunks.next();
    return chunk;
  };
  const first = await nonEmpty();
  if (first.done) return undefined;
  let head: (readonly Uint8Array[])[] = [first.value];
  let single = false;
  if (first.value.length === 1) {
    // Whether a second item follows: a chunk's buffers are the source's until it
    // is asked for the next one, so the one item read is kept as a copy.
    head = [[first.value[0]!.slice()]];
    const second = await nonEmpty();
    if (second.done) single = true;
    else head.push(second.value);
  }
  const close = async () => {
    head = [];
    await chunks.return?.();
  };
  return {
    single,
    close,
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        const value = head.shift();
        if (value === undefined) return await chunks.next();
        return { value, done: false };
      },
      return: async () => {
        await close();
        return { value: undefined, done: true };
      },
    }),
  };
}
