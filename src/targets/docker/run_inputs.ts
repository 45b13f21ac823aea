/**
 * A docker run's inputs, written to its directory as they are read: each
 * chunk of encoded items (`job/inputs.ts`) is appended to the run's `inputs`
 * and `index` (the job contract's payload, `job/payload.ts`) before the next
 * one is read, so a map of many or large items holds one chunk in memory,
 * where laying the whole payload out first held every encoded item twice.
 *
 * @module
 */
import { join } from "node:path";
import { layoutPayload, RUN_KEYS } from "../../job/payload.ts";
import { type MapRequest, requestChunks } from "../target.ts";

/**
 * The chunks of a request's items, with the first one already read; `undefined`
 * when it has no items, so an empty map makes nothing.
 *
 * @example Usage
 * ```ts ignore
 * import { firstChunk } from "./run_inputs.ts";
 *
 * console.log(await firstChunk([])); // undefined
 * ```
 *
 * @param items The request's items.
 * @param stop Ends the reading when it aborts (the map's signal): the run is the items read.
 * @returns The chunks, or `undefined` when there are none.
 */
export async function firstChunk(
  items: MapRequest["items"],
  stop?: AbortSignal,
): Promise<AsyncIterable<readonly Uint8Array[]> | undefined> {
  const chunks = requestChunks(items, stop)[Symbol.asyncIterator]();
  let first = await chunks.next();
  while (!first.done && first.value.length === 0) first = await chunks.next();
  if (first.done) return undefined;
  const head = first.value;
  return (async function* () {
    yield head;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  })();
}

/**
 * Appends each chunk of items to the run's `inputs` and their entries to its
 * `index` (files it makes, mode 0600), a chunk at a time, and returns how many
 * items there were. An error of the items (a bad one, a failed read) or of a
 * write rejects as it is; the caller removes the run's directory.
 *
 * @example Usage
 * ```ts ignore
 * import { writeInputs } from "./run_inputs.ts";
 *
 * const count = await writeInputs(runDir, chunks);
 * ```
 *
 * @param dir The run's directory.
 * @param chunks The encoded items, in chunks, in input order.
 * @returns The number of items written.
 */
export async function writeInputs(
  dir: string,
  chunks: AsyncIterable<readonly Uint8Array[]>,
): Promise<number> {
  const options = { write: true, createNew: true, mode: 0o600 } as const;
  const inputs = (await Deno.open(join(dir, RUN_KEYS.inputs), options)).writable.getWriter();
  const index = (await Deno.open(join(dir, RUN_KEYS.index), options)).writable.getWriter();
  let count = 0;
  let offset = 0;
  try {
    for await (const chunk of chunks) {
      const laid = layoutPayload(chunk, offset);
      await inputs.write(laid.inputs);
      await index.write(laid.index);
      offset += laid.inputs.byteLength;
      count += chunk.length;
    }
    await Promise.all([inputs.close(), index.close()]);
  } catch (e) {
    await Promise.all([inputs.abort(e).catch(() => {}), index.abort(e).catch(() => {})]);
    throw e;
  }
  return count;
}
