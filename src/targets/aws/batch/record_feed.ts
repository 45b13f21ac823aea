/**
 * The new records of a run, found by listing from a time. Jobs write their
 * records (and segments of records) under keys stamped with when they were
 * written (`out/<stamp>-<index>-<attempt>`,
 * `out/<stamp>-s<first>-<last>-<attempt>-<seq>`), so the keys sort in writing order and a
 * listing that starts after the newest stamp seen finds only what is new:
 * about one ListObjectsV2 per 1,000 new records, however many records the
 * run already has.
 *
 * Each listing starts `lagMs` before the newest stamp seen, for records whose
 * upload began before it and ended after the last listing (and for writers
 * whose clocks are a little behind). A record whose stamp is older still (a
 * long upload, a clock further behind) is found when the caller asks for a
 * listing from a time it knows to be early enough (`since`): the start of a
 * job that has ended. S3 lists every object whose upload finished before the
 * listing began, so a listing from a finished job's start sees all it wrote.
 *
 * Records without a stamp (jobs of an earlier version) do not sort by time:
 * once one is seen, every listing lists every record.
 *
 * @module
 */
import { type RecordKey, RUN_KEYS } from "../../../job/payload.ts";
import type { S3Store } from "../../../store/s3.ts";

/** Options of a {@linkcode RecordFeed}. */
export interface RecordFeedOptions {
  /**
   * How far before the newest stamp seen each listing starts, in
   * milliseconds: the time an upload may take, plus how far writers' clocks
   * may differ.
   *
   * @default {2000}
   */
  lagMs?: number;
}

/**
 * Lists the records written since the last listing.
 *
 * @example Usage
 * ```ts ignore
 * import { RecordFeed } from "./record_feed.ts";
 *
 * const feed = new RecordFeed(store.at(`runs/${runId}`));
 * for await (const { index, attempt } of feed.next()) console.log(index, attempt); // every record so far
 * for await (const { index, attempt } of feed.next()) console.log(index, attempt); // the new ones
 * ```
 */
export class RecordFeed {
  #store: S3Store;
  #lagMs: number;
  #newest?: number;
  #unstamped = false;

  /**
   * Makes a feed; nothing is listed until {@linkcode RecordFeed.next}.
   *
   * @param store The run's store (rooted at `runs/<runId>`).
   * @param options The lag.
   */
  constructor(store: S3Store, options: RecordFeedOptions = {}) {
    this.#store = store;
    this.#lagMs = options.lagMs ?? 2000;
  }

  /**
   * Where the next listing starts: a stamp, or `undefined` for the first
   * record. It starts `lagMs` before the newest stamp seen, or `lagMs`
   * before `since` when that is earlier.
   *
   * @param since A time no record of interest was written before (epoch ms).
   * @returns The stamp, or `undefined`.
   */
  start(since?: number): number | undefined {
    if (this.#unstamped || this.#newest === undefined) return undefined;
    const from = Math.min(this.#newest, since ?? Infinity) - this.#lagMs;
    return from <= 0 ? undefined : from;
  }

  /**
   * Lists the records from {@linkcode RecordFeed.start}, in key order (some
   * seen before: the caller skips what it has).
   *
   * @param options `since`: list at least from this time (epoch ms), less the lag; `signal`
   *   aborts the listing (the page under way, and a retry's wait).
   * @returns The records' keys, items, attempts and stamps.
   */
  async *next(
    options: { since?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<RecordKey> {
    const from = this.start(options.since);
    const startAfter = from === undefined ? {} : { startAfter: RUN_KEYS.recordsFrom(from) };
    const signal = options.signal === undefined ? {} : { signal: options.signal };
    for await (const { key } of this.#store.list(RUN_KEYS.records, { ...startAfter, ...signal })) {
      const parsed = RUN_KEYS.parseRecord(key);
      if (parsed === undefined) continue;
      if (parsed.stamp === undefined) this.#unstamped = true;
      else if (this.#newest === undefined || parsed.stamp > this.#newest) {
        this.#newest = parsed.stamp;
      }
      yield parsed;
    }
  }
}
