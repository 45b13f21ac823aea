/**
 * How many items each Batch job (or array child) of a run runs, from the
 * map's `itemsPerJob`: a number as given, or `"auto"`, which makes at most
 * 2 × (the compute environment's maxvCpus ÷ the job's vCPUs) children, so
 * every slot stays busy while far fewer containers start. The rule a run,
 * its dry run and its estimate share; `targets/aws/slicing.ts` reads its
 * facts from AWS.
 *
 * @module
 */
import type { JobTimeout } from "../aws/services/batch.ts";

/**
 * The most items one Batch job may run, given as a number: a slice's inputs
 * are read into the container's memory at once.
 */
export const MAX_ITEMS_PER_JOB: number = 100_000;

/** How a run's items are sliced into children. */
export interface Slicing {
  /** Items per child (1: one item per child, as before slices). */
  slice: number;
  /** The job's vCPUs, so items in flight in one child (at least 1). */
  concurrency: number;
  /** The job definition's timeout per attempt, when it has one. */
  timeout?: JobTimeout;
}

/**
 * The children `"auto"` makes at most: 2 × (the compute environment's
 * maxvCpus ÷ the job's vCPUs), at least 1; 2 when maxvCpus is unknown.
 *
 * @example Usage
 * ```ts
 * import { autoChildren } from "./slicing.ts";
 *
 * console.log(autoChildren(64, 1)); // 128
 * console.log(autoChildren(64, 4)); // 32
 * console.log(autoChildren(4, 0.25)); // 32
 * ```
 *
 * @param maxVcpus The compute environment's maxvCpus.
 * @param vcpus The job's vCPUs.
 * @returns The most children.
 */
export function autoChildren(maxVcpus: number | undefined, vcpus: number): number {
  if (maxVcpus === undefined || !(maxVcpus > 0) || !(vcpus > 0)) return 2;
  // Fargate's 0.25 and 0.5 vCPU jobs too: maxvCpus 4 runs 16 jobs of 0.25 at once.
  return Math.max(1, 2 * Math.floor(maxVcpus / vcpus));
}

/**
 * Slices a run of `count` items.
 *
 * @example Usage
 * ```ts
 * import { sliceRun } from "./slicing.ts";
 *
 * console.log(sliceRun({ vcpus: 1, maxVcpus: 64 }, 10_000, "auto").slice); // 79
 * console.log(sliceRun({ vcpus: 2 }, 100, 10)); // { slice: 10, concurrency: 2 }
 * ```
 *
 * @param facts The job's vCPUs and timeout, the compute environment's maxvCpus.
 * @param count How many items.
 * @param itemsPerJob The map option.
 * @returns The slice and how many items of it run at once.
 */
export function sliceRun(
  facts: { vcpus: number; maxVcpus?: number; timeout?: JobTimeout },
  count: number,
  itemsPerJob: number | "auto",
): Slicing {
  const slice = itemsPerJob === "auto"
    ? Math.max(1, Math.ceil(count / autoChildren(facts.maxVcpus, facts.vcpus)))
    : itemsPerJob;
  return {
    slice: Math.max(1, Math.min(slice, count)),
    concurrency: Math.max(1, Math.floor(facts.vcpus)),
    ...(facts.timeout !== undefined ? { timeout: facts.timeout } : {}),
  };
}

/**
 * The timeout of a child that runs `slice` items `concurrency` at a time:
 * the per-attempt timeout (the knot's, plus Batch's backstop) times the
 * rounds of items it runs, so Batch's backstop never stops a slice whose
 * every item keeps within the knot's timeout.
 *
 * @example Usage
 * ```ts
 * import { sliceTimeout } from "./slicing.ts";
 *
 * console.log(sliceTimeout({ attemptDurationSeconds: 120 }, 10, 4)); // { attemptDurationSeconds: 360 }
 * ```
 *
 * @param timeout The timeout of one item's attempt.
 * @param slice Items per child.
 * @param concurrency Items in flight at once.
 * @returns The child's timeout.
 */
export function sliceTimeout(timeout: JobTimeout, slice: number, concurrency: number): JobTimeout {
  const rounds = Math.ceil(slice / Math.max(1, concurrency));
  return { attemptDurationSeconds: (timeout.attemptDurationSeconds ?? 0) * rounds };
}
