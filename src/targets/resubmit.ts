/**
 * What both targets do to retry items of a run: read the items' encoded
 * inputs back from the run's store as the new run takes them (the index
 * entries in one ranged read, the inputs a window at a time), lay them out
 * group by group (each group a contiguous range with its own resources), and
 * map them as a new run with the same starmap and environment, whose
 * manifest names what it retries. And, when collecting a retry, the handle
 * over the whole input.
 *
 * @module
 */
import { type RunManifest, SliceReader } from "../job/payload.ts";
import { MapRun } from "../run/map_run.ts";
import type { ItemGroup, ResubmitRequest } from "../run/retry.ts";
// Where the advice lives: the run handle words it too (MapError); the targets import it here.
export { retryAdvice } from "../run/retry.ts";
import type { ObjectStore } from "../store/store.ts";
import type { MapRequest } from "./target.ts";

/** The most items, and about the most bytes, of one chunk of a retry's inputs. */
const CHUNK_ITEMS = 1024;
const CHUNK_BYTES = 1 << 20;
/**
 * The most bytes of items not retried that one read fetches between two
 * retried ones (about what one more request's round trip costs in time);
 * items farther apart are read apart.
 */
const GAP_BYTES = 1 << 20;

/**
 * Makes the map request that retries items of a run. The items' index
 * entries are read at once (one ranged read, so a run whose data is gone
 * fails here, before the new run makes anything); their inputs are read as
 * the new run takes them, a window of the run's inputs per ranged read
 * (`SliceReader`; items more than 1 MiB apart in separate reads), so a retry
 * of many items neither reads them one request at a time nor holds them all,
 * nor reads much of what it does not retry.
 *
 * @example Usage
 * ```ts ignore
 * import { resubmitRequest } from "./resubmit.ts";
 *
 * const request = await resubmitRequest(store, manifest, { groups: [{ items: [3], resources: { memory: 4096 } }], retryOf: { runId, items: [3] } });
 * const retry = await target.map(request);
 * ```
 *
 * @param run The store rooted at the run whose items are retried.
 * @param manifest That run's manifest.
 * @param request Which items, with what resources.
 * @returns The request for the new run.
 */
export async function resubmitRequest(
  run: ObjectStore,
  manifest: RunManifest,
  request: ResubmitRequest,
): Promise<MapRequest> {
  const positions: number[] = [];
  const groups: ItemGroup[] = [];
  for (const group of request.groups) {
    const offset = positions.length;
    positions.push(...group.items);
    if (Object.keys(group.resources).length > 0) {
      groups.push({ offset, size: group.items.length, resources: group.resources });
    }
  }
  return {
    items: await readPositions(run, positions),
    starmap: manifest.starmap,
    env: manifest.env ?? {},
    ...(groups.length > 0 ? { groups } : {}),
    retryOf: request.retryOf,
    ...(request.permissions !== undefined ? { permissions: request.permissions } : {}),
    ...(request.signal !== undefined ? { signal: request.signal } : {}),
  };
}

/**
 * The encoded inputs of some items of a run, in the order given, in chunks of
 * at most 1,024 items or about 1 MiB: the index entries from the first item
 * to the last are read before this returns, the inputs as the chunks are
 * asked for.
 */
async function readPositions(
  run: ObjectStore,
  positions: readonly number[],
): Promise<AsyncIterable<Uint8Array[]>> {
  if (positions.length === 0) return toChunks([]);
  let from = positions[0]!;
  let to = from;
  for (const p of positions) {
    if (p < from) from = p;
    if (p > to) to = p;
  }
  const reader = await SliceReader.open(run, from, to + 1, {
    wanted: positions,
    gapBytes: GAP_BYTES,
  });
  return toChunks(positions, reader);
}

async function* toChunks(
  positions: readonly number[],
  reader?: SliceReader,
): AsyncGenerator<Uint8Array[]> {
  let chunk: Uint8Array[] = [];
  let bytes = 0;
  for (const position of positions) {
    const [item] = await reader!.read([position]);
    chunk.push(item!);
    bytes += item!.byteLength;
    if (chunk.length >= CHUNK_ITEMS || bytes >= CHUNK_BYTES) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * The handle over the whole input of a collected run: the run itself, or,
 * when it is a retry, the run it retries (collected the same way) merged
 * with it.
 *
 * @example Usage
 * ```ts ignore
 * import { withEarlierResults } from "./resubmit.ts";
 *
 * return await withEarlierResults(run, (id) => this.collect(id));
 * ```
 *
 * @param run The collected run.
 * @param collect Collects another run of the same knot.
 * @returns The handle whose results cover the whole input.
 */
export async function withEarlierResults<T>(
  run: MapRun<T>,
  collect: (runId: string) => Promise<MapRun<T>>,
): Promise<MapRun<T>> {
  if (run.retryOf === undefined) return run;
  return MapRun.merge(await collect(run.retryOf.runId), run, run.retryOf.items);
}

/** How a run on this machine is collected (local and docker targets). */
export interface CollectOptions {
  /**
   * Stops following the run, or driving it where the reading took over a run
   * whose process was gone (as that process stopped); its handle then stays
   * unfinished.
   */
  signal?: AbortSignal;
  /**
   * Whether a run whose process is gone is finished here; `false` only reads
   * and follows it, for commands that only look. @default {true}
   */
  finish?: boolean;
}

/**
 * Collects a run over its whole input: `collectOne` re-opens the run, and,
 * when it is a retry, the run it retries, and so on back to the first run
 * ({@linkcode withEarlierResults}).
 *
 * @example Usage
 * ```ts ignore
 * import { collectWhole } from "./resubmit.ts";
 *
 * return collectWhole(runId, (id) => this.#collectOne(id, options));
 * ```
 *
 * @param runId The run to collect.
 * @param collectOne Re-opens one run of the knot.
 * @returns The handle whose results cover the whole input.
 */
export async function collectWhole<T>(
  runId: string,
  collectOne: (runId: string) => Promise<MapRun<T>>,
): Promise<MapRun<T>> {
  return await withEarlierResults(
    await collectOne(runId),
    (id) => collectWhole(id, collectOne),
  );
}

/**
 * The latest run of the knot that retries run `runId`, collected over the whole input, or
 * `undefined`: a handle's `retry()` retries it instead (the `retriedBy` hook of
 * {@linkcode MapRun}), so that items a retry already ran are never run again.
 *
 * @example Usage
 * ```ts ignore
 * import { latestRetry } from "./resubmit.ts";
 *
 * const hooks = { retriedBy: (signal) => latestRetry(this, manifest.runId, signal) };
 * ```
 *
 * @param knot The knot's runs, and how one is collected.
 * @param runId The run.
 * @param signal Stops the retry's reading (`collect`'s `signal`).
 * @returns The retry's handle.
 */
export async function latestRetry(
  knot: {
    runs(): Promise<RunManifest[]>;
    collect<T>(runId: string, options?: CollectOptions): Promise<MapRun<T>>;
  },
  runId: string,
  signal?: AbortSignal,
): Promise<MapRun<unknown> | undefined> {
  const later = (await knot.runs()).findLast((m) => m.retryOf?.runId === runId);
  return later === undefined
    ? undefined
    : await knot.collect<unknown>(later.runId, signal ? { signal } : {});
}
