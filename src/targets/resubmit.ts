/**
 * What both targets do to retry items of a run: read the items' encoded
 * inputs back from the run's store, lay them out group by group (each group
 * a contiguous range with its own resources), and map them as a new run
 * with the same starmap and environment, whose manifest names what it
 * retries. And, when collecting a retry, the handle over the whole input.
 *
 * @module
 */
import { readItem, type RunManifest } from "../job/payload.ts";
import { MapRun } from "../run/map_run.ts";
import type { ItemGroup, ResubmitRequest } from "../run/retry.ts";
// Where the advice lives: the run handle words it too (MapError); the targets import it here.
export { retryAdvice } from "../run/retry.ts";
import type { ObjectStore } from "../store/store.ts";
import type { MapRequest } from "./target.ts";

/**
 * Makes the map request that retries items of a run.
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
  const items: Uint8Array[] = [];
  const groups: ItemGroup[] = [];
  for (const group of request.groups) {
    const offset = items.length;
    for (const position of group.items) items.push(await readItem(run, position));
    if (Object.keys(group.resources).length > 0) {
      groups.push({ offset, size: group.items.length, resources: group.resources });
    }
  }
  return {
    items,
    starmap: manifest.starmap,
    env: manifest.env ?? {},
    ...(groups.length > 0 ? { groups } : {}),
    retryOf: request.retryOf,
    ...(request.permissions !== undefined ? { permissions: request.permissions } : {}),
    ...(request.signal !== undefined ? { signal: request.signal } : {}),
  };
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
  /** Stops following the run; its handle then stays unfinished. */
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
