/**
 * The internal interface both targets implement: where a knot's items run,
 * and everything a knot does that depends on where. `Knot` holds one target
 * and never asks which it is. (The dry run a map on this machine shares is
 * in `machine_plan.ts`.)
 *
 * @module
 */
import type { FunctionArtifact } from "../job/function_artifact.ts";
import type { RunManifest } from "../job/payload.ts";
import type { MapRun } from "../run/map_run.ts";
import type { ItemGroup, ItemResources, RetryOf } from "../run/retry.ts";
import type { Permissions } from "../job/permissions.ts";
import type { Estimate } from "../cost/estimate.ts";
import type { Plan } from "../plan/plan.ts";
import type { JobsView } from "./aws/batch/jobs_view.ts";
import type { BatchJob } from "./aws/batch/batch_job.ts";

/** One map call, validated and encoded as its inputs are read. */
export interface MapRequest {
  /**
   * Each item's encoded bytes, in input order: all of them, or chunks read
   * lazily, where an item is checked and encoded when its chunk is read
   * (see `job/inputs.ts`), so a bad item rejects there.
   */
  items: readonly Uint8Array[] | AsyncIterable<Uint8Array[]>;
  /** Spread each item into the function's arguments. */
  starmap: boolean;
  /** Extra environment variables for every job. */
  env: Record<string, string>;
  /** `"array"` (default) or one job per item. */
  jobType?: "array" | "independent";
  /**
   * Items per Batch job (or array child), run side by side in its container
   * (AWS): a number, or `"auto"` for at most 2 × (the compute environment's
   * maxvCpus ÷ the job's vCPUs) children. @default {"auto"}
   */
  itemsPerJob?: number | "auto";
  /**
   * Cancels the run; one aborted already makes `map` reject with its reason,
   * with no input read and nothing made.
   */
  signal?: AbortSignal;
  /** Ranges of items that run with resources of their own instead of the knot's. */
  groups?: ItemGroup[];
  /** The run this run retries (a retry), for its manifest. */
  retryOf?: RetryOf;
  /** The function's permissions for this run (a retry's, validated), instead of the knot's. */
  permissions?: Permissions;
  /**
   * The job definition revision to run on and its attempts, instead of the
   * knot's (AWS): a retry's are those of the run it retries, so it runs the
   * function that run ran, whatever the knot was updated to since.
   */
  definition?: { jobDefinition: string; attempts: number };
  /**
   * Told the run's handle as soon as it exists, where `map` resolves only once every input is
   * stored (the local target, whose items start while a stream of inputs is still read): a
   * caller shows the run's progress (and its id) from then on.
   */
  started?: (run: MapRun<unknown>) => void;
}

/** One item to submit as a job of its own. */
export interface SubmitRequest {
  /** The item's encoded bytes. */
  item: Uint8Array;
  /** Spread the item into the function's arguments. */
  starmap: boolean;
  /** Extra environment variables for the job. */
  env: Record<string, string>;
}

/**
 * How many items a request has and how many bytes they weigh, read a chunk at
 * a time and let go, so measuring a request (a dry run, a cancelled map)
 * holds no more of it than running it does.
 *
 * @example Usage
 * ```ts
 * import { measureItems } from "./target.ts";
 *
 * console.log(await measureItems([new Uint8Array([1]), new Uint8Array([2, 3])])); // { count: 2, bytes: 3 }
 * ```
 *
 * @param items The request's items.
 * @returns The number of items and the sum of their sizes in bytes.
 */
export async function measureItems(
  items: MapRequest["items"],
): Promise<{ count: number; bytes: number }> {
  let count = 0;
  let bytes = 0;
  for await (const chunk of requestChunks(items)) {
    count += chunk.length;
    for (const item of chunk) bytes += item.byteLength;
  }
  return { count, bytes };
}

/**
 * The items of a request in chunks. With `stop`, reading ends once it aborts,
 * also while the source waits for its next item (a queue, a socket, an
 * endless generator), and the source is closed (its `finally` blocks run)
 * when it next yields; the chunk it gives then is not taken. A `stop`
 * aborted already reads nothing (a map whose signal was aborted before it
 * rejects with the signal's reason before it asks for any).
 *
 * @example Usage
 * ```ts
 * import { requestChunks } from "./target.ts";
 *
 * for await (const chunk of requestChunks([new Uint8Array([1])])) console.log(chunk.length); // 1
 * ```
 *
 * @param items The request's items.
 * @param stop Ends the reading when it aborts.
 * @returns The chunks.
 */
export function requestChunks(
  items: MapRequest["items"] | AsyncIterable<readonly Uint8Array[]>,
  stop?: AbortSignal,
): AsyncIterable<readonly Uint8Array[]> {
  const source = Symbol.asyncIterator in items
    ? items as AsyncIterable<readonly Uint8Array[]>
    : (async function* () {
      const all = items as readonly Uint8Array[];
      if (all.length > 0) yield all;
    })();
  return stop === undefined ? source : untilStopped(source, stop);
}

async function* untilStopped(
  source: AsyncIterable<readonly Uint8Array[]>,
  stop: AbortSignal,
): AsyncGenerator<readonly Uint8Array[]> {
  const chunks = source[Symbol.asyncIterator]();
  let ended = false;
  try {
    while (!stop.aborted) {
      const next = chunks.next();
      // A read left waiting may still fail: no one waits for it then.
      next.catch(() => {});
      // Each read races a stop of its own, dropped with its listener once the read answers: a
      // race against one promise for the whole reading would keep every chunk read, since each
      // race leaves a reaction on the promise that never settles.
      let onStop = () => {};
      const stopped = new Promise<"stopped">((resolve) => {
        onStop = () => resolve("stopped");
        stop.addEventListener("abort", onStop, { once: true });
      });
      const result = await Promise.race([next, stopped]).finally(() =>
        stop.removeEventListener("abort", onStop)
      );
      if (result === "stopped") return;
      if (result.done) {
        ended = true;
        return;
      }
      yield result.value;
    }
  } finally {
    // Closed once it next yields: a source that ended (or threw) needs no closing.
    if (!ended) chunks.return?.()?.catch(() => {});
  }
}

/**
 * Where a knot's jobs run. `ClobberOptions` is what the target's clobber
 * can delete besides the knot itself.
 */
export interface Target<ClobberOptions extends object = Record<never, never>> {
  /** Which target this is. */
  readonly kind: "local" | "aws" | "docker";
  /**
   * Starts a run and returns its handle once the run is recorded; rejects
   * with the reason of a `signal` aborted already, having read no input and
   * made nothing.
   */
  map<T>(request: MapRequest): Promise<MapRun<T>>;
  /** Re-opens an earlier run to collect its results, from any process. */
  collect<T>(runId: string, options?: { signal?: AbortSignal }): Promise<MapRun<T>>;
  /** The knot's runs, oldest first. */
  runs(): Promise<RunManifest[]>;
  /** What `map(request)` would do, with nothing done; `itemSeconds` adds an estimate. */
  plan(request: MapRequest, options?: { itemSeconds?: number }): Promise<Plan>;
  /**
   * An estimate of a run of `count` items of `itemSeconds` each, on the
   * knot's resources (on AWS, sliced by `itemsPerJob` as a run is).
   */
  estimate(
    count: number,
    options: { itemSeconds: number; inputBytes?: number; itemsPerJob?: number | "auto" },
  ): Promise<Estimate>;
  /**
   * The knot's jobs on AWS Batch as a table; a target without Batch jobs
   * rejects with a `CloudknotInputError` that says where to look instead.
   */
  viewJobs(): Promise<JobsView>;
  /**
   * The ids of the knot's AWS Batch jobs, oldest first; a target without
   * Batch jobs rejects with a `CloudknotInputError` that says what to use.
   */
  jobIds(): Promise<string[]>;
  /** The knot's AWS Batch jobs as handles, oldest first (as {@linkcode Target.jobIds}). */
  jobs(): Promise<BatchJob[]>;
  /** Submits one item as a job of its own; a target without Batch jobs rejects, as `jobIds` does. */
  submit(request: SubmitRequest): Promise<BatchJob>;
  /** Deletes everything the knot made (its runs, its function, its record), and what `options` ask. */
  clobber(options?: ClobberOptions): Promise<void>;
  /**
   * What the knot's summary (`console.log(knot)`, a notebook's display) shows of where its items
   * run: each row's label and value, a row without a value left out.
   */
  summary(): [string, string | undefined][];
  /**
   * Checks the resources some items of one of the knot's runs would run with
   * (a retry's `memory`, `vcpus` and `timeout`, and the memory `memory:
   * "double"` doubles) against this target's own bounds, by the rule
   * `Knot.create` checks the knot's with and in its words: a retry asks
   * before it writes anything (its run handle holds it, as `checkResources`).
   * A target without it checks them as it runs them.
   *
   * @throws {CloudknotInputError} Naming the option and the range it takes here.
   */
  checkResources?(resources: ItemResources): void;
}

/** A knot opened on its target: what each target's opener returns. */
export interface OpenedKnot<T extends Target<never>> {
  /** The packaged function. */
  artifact: FunctionArtifact;
  /** Where its items run. */
  target: T;
}

/**
 * Makes a run id that sorts by creation time, such as `20261126T120102Z-3f9a1c`.
 *
 * @example Usage
 * ```ts
 * import { newRunId } from "./target.ts";
 *
 * console.log(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/.test(newRunId())); // true
 * ```
 *
 * @param now The time, in epoch milliseconds (default: now).
 * @returns The id.
 */
export function newRunId(now: number = Date.now()): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const random = crypto.getRandomValues(new Uint8Array(3));
  return `${stamp}-${Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
