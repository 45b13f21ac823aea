/**
 * A {@linkcode JobRunner} that runs each attempt as an in-process function:
 * for fast tests and for benchmarks with thousands of array children.
 *
 * @module
 */
import type { JobRunner, JobRunRequest, JobRunResult } from "../runner.ts";

/** The function an {@linkcode InlineRunner} calls for each attempt. */
export type InlineJob = (req: JobRunRequest) => JobRunResult | Promise<JobRunResult>;

/**
 * Runs job attempts as in-process functions.
 *
 * @example Usage
 * ```ts ignore
 * const runner = new InlineRunner((req) => {
 *   req.log(`child ${req.arrayIndex}`);
 *   return { exitCode: 0 };
 * });
 * ```
 */
export class InlineRunner implements JobRunner {
  /** The most attempts at once (unlimited when undefined). */
  readonly capacity?: number;
  /** How many attempts it ran. */
  runs = 0;
  #fn: InlineJob;

  /**
   * Makes an inline runner.
   *
   * @param fn Runs one attempt.
   * @param options An optional concurrency limit.
   */
  constructor(fn: InlineJob, options: { capacity?: number } = {}) {
    this.#fn = fn;
    this.capacity = options.capacity;
  }

  /**
   * Runs the attempt.
   *
   * @param req The attempt.
   */
  async run(req: JobRunRequest): Promise<JobRunResult> {
    this.runs++;
    return await this.#fn(req);
  }
}

/**
 * Resolves after `ms`, or rejects with the signal's reason when it aborts
 * first: a cancellable sleep for inline jobs.
 *
 * @example Usage
 * ```ts ignore
 * await abortableSleep(1000, req.signal).catch(() => {});
 * ```
 */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error("aborted"));
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new Error("aborted"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
