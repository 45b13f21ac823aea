/**
 * Which items a Batch job's children run. A job runs `size` items from
 * `offset`, `slice` of them per child (one, for runs recorded before
 * slices): child `k` runs items `offset + k·slice` to
 * `offset + k·slice + slice − 1`, the last child fewer. A single (non-array)
 * job is its own one child.
 *
 * @module
 */

/** The items of a job: from `offset`, `size` of them, `slice` per child. */
export interface SlicedJob {
  /** The index of its first item in the run. */
  offset: number;
  /** How many items it runs. */
  size: number;
  /** Whether it is an array job. */
  array: boolean;
  /** Items per child. @default {1} */
  slice?: number;
}

/**
 * How many children a job has (1 for a single job).
 *
 * @example Usage
 * ```ts
 * import { childCount } from "./slices.ts";
 *
 * console.log(childCount({ offset: 0, size: 10, array: true, slice: 4 })); // 3
 * ```
 *
 * @param job The job.
 * @returns Its children.
 */
export function childCount(job: SlicedJob): number {
  return job.array ? Math.ceil(job.size / (job.slice ?? 1)) : 1;
}

/**
 * The child of a job that runs an item.
 *
 * @example Usage
 * ```ts
 * import { childOf } from "./slices.ts";
 *
 * console.log(childOf({ offset: 10, size: 10, array: true, slice: 4 }, 15)); // 1
 * ```
 *
 * @param job The job.
 * @param index The item's index in the run.
 * @returns The child's array index (0 for a single job).
 */
export function childOf(job: SlicedJob, index: number): number {
  return job.array ? Math.floor((index - job.offset) / (job.slice ?? 1)) : 0;
}

/**
 * The items one child of a job runs, as `[from, to)`.
 *
 * @example Usage
 * ```ts
 * import { childItems } from "./slices.ts";
 *
 * console.log(childItems({ offset: 10, size: 10, array: true, slice: 4 }, 2)); // [ 18, 20 ]
 * ```
 *
 * @param job The job.
 * @param child The child's array index (0 for a single job).
 * @returns The first item and one past the last.
 */
export function childItems(job: SlicedJob, child: number): [number, number] {
  if (!job.array) return [job.offset, job.offset + job.size];
  const slice = job.slice ?? 1;
  const from = job.offset + child * slice;
  return [from, Math.min(from + slice, job.offset + job.size)];
}

/**
 * The id of the job (or array child) that runs an item.
 *
 * @example Usage
 * ```ts
 * import { childId } from "./slices.ts";
 *
 * console.log(childId({ jobId: "p", offset: 0, size: 10, array: true, slice: 4 }, 5)); // "p:1"
 * ```
 *
 * @param job The job and its id.
 * @param index The item's index in the run.
 * @returns The job id, with `:<child>` for an array job.
 */
export function childId(job: SlicedJob & { jobId: string }, index: number): string {
  return job.array ? `${job.jobId}:${childOf(job, index)}` : job.jobId;
}

/**
 * The items of a run of `count` items that none of its jobs runs: a run
 * whose map stopped part-way, or is still submitting.
 *
 * @example Usage
 * ```ts
 * import { uncovered } from "./slices.ts";
 *
 * console.log(uncovered(4, [{ offset: 0, size: 2, array: true }])); // [2, 3]
 * ```
 *
 * @param count How many items the run has.
 * @param jobs Its jobs.
 * @returns The items no job runs, in order.
 */
export function uncovered(count: number, jobs: readonly SlicedJob[]): number[] {
  const covered = new Uint8Array(count);
  for (const job of jobs) covered.fill(1, job.offset, Math.min(count, job.offset + job.size));
  const out: number[] = [];
  for (let i = 0; i < count; i++) if (covered[i] === 0) out.push(i);
  return out;
}
