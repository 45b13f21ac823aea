/**
 * Handles that are themselves a reading of their run where its records are
 * kept, for `retry()`, which then takes the handle as that reading instead of
 * reading the run again (`MapRunOptions.reread`).
 *
 * @module
 */
import type { MapRun } from "./map_run.ts";

const READINGS = new WeakSet<object>();

/**
 * Marks a handle that is itself a reading of its run where its records are
 * kept: a `collect` that follows the run until it ends, as `cloudknot retry`
 * opens the run it retries. Its `retry()` waits for it to end as always, then
 * retries what it holds without reading the run a second time; a handle that
 * cancelled the run itself still reads it again (its jobs may have recorded
 * results after it called their items cancelled).
 *
 * @example Usage
 * ```ts ignore
 * import { markFreshReading } from "./fresh_reading.ts";
 *
 * const run = markFreshReading(await target.collect(runId));
 * const retried = await run.retry();
 * ```
 *
 * @param run A handle made by reading its run (`collect`), followed until it ends.
 * @returns The same handle.
 */
export function markFreshReading<T>(run: MapRun<T>): MapRun<T> {
  READINGS.add(run);
  return run;
}

/**
 * Whether a handle was marked as a reading of its run
 * ({@linkcode markFreshReading}).
 *
 * @example Usage
 * ```ts ignore
 * import { isFreshReading } from "./fresh_reading.ts";
 *
 * if (!isFreshReading(run)) await readAgain();
 * ```
 *
 * @param run The handle.
 * @returns Whether it was marked.
 */
export function isFreshReading(run: object): boolean {
  return READINGS.has(run);
}
