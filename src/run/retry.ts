/**
 * Retrying only what failed: which items a retry runs again (those that
 * failed, were cancelled or were lost), with what resources (`memory:
 * "double"` doubles the memory of the items that ran out of it), and the
 * handle that merges a retry with the run it retries, so its results cover
 * the whole input.
 *
 * A retry is a new run of the same knot. Its manifest names the run it
 * retries and the item of that run each of its own items is, so collecting
 * it from another process gives the same merged handle.
 *
 * @module
 */
import { CloudknotInputError } from "../util/errors.ts";
import { validateOptionKeys, validateOptionType } from "../util/validate.ts";
import { type ItemError, OOM_LINE } from "../job/item_error.ts";
import { type ErrorRecord, failureDetails, type JobRecord } from "../job/record.ts";
import type { AttemptUsage, RunUsage } from "../cost/usage.ts";
import { type Permissions, validatePermissions } from "../job/permissions.ts";
import { type ProgressOptions, validateProgress } from "./progress.ts";
import type { MapRun, RunControl } from "./map_run.ts";

/** Options for `run.retry()`. */
export interface RetryOptions {
  /**
   * Memory per job in MiB for the retried items (locally, each worker's heap
   * limit); `"double"` doubles it for the items that ran out of memory and
   * keeps it for the others.
   */
  memory?: number | "double";
  /**
   * vCPUs per job (AWS) or per container (docker) for the retried items; a
   * run of the local target, whose workers take no CPU limit, refuses it.
   */
  vcpus?: number;
  /** Seconds one attempt of a retried item may run. */
  timeout?: number;
  /**
   * What the retried items' function may do, instead of the permissions
   * their run had: the whole set, as in `Knot.create` (`{ net: true, read:
   * ["/data"] }` to keep the network and grant reads of `/data`). An item
   * refused a permission is retried with it granted here. @default {the run's}
   */
  permissions?: Permissions;
  /**
   * Cancels the retry; before it starts, stops the wait for the run to end
   * (`retry()` then rejects with its reason, the run going on).
   */
  signal?: AbortSignal;
  /** Show progress on stderr; `false` silences it. @default {true} */
  progress?: boolean | ProgressOptions;
}

const RETRY_OPTION_KEYS: Readonly<Record<keyof RetryOptions, true>> = {
  memory: true,
  vcpus: true,
  timeout: true,
  permissions: true,
  signal: true,
  progress: true,
};

/** Resources for some items of a run, instead of the knot's. */
export interface ItemResources {
  /** MiB per job (locally, the worker's heap limit). */
  memory?: number;
  /** vCPUs per job (AWS). */
  vcpus?: number;
  /** Seconds per attempt. */
  timeout?: number;
}

/** A contiguous range of a run's items that runs with resources of its own. */
export interface ItemGroup {
  /** The first item. */
  offset: number;
  /** How many items. */
  size: number;
  /** Their resources. */
  resources: ItemResources;
}

/** What a retry run retries: a run, and which of its items each new item is. */
export interface RetryOf {
  /** The run retried (a retry itself, possibly). */
  runId: string;
  /** For each item of the retry, in order, its index in the whole input. */
  items: number[];
}

/** What a target is asked to run again: items of one run, in groups of like resources. */
export interface ResubmitRequest {
  /** The items, by their position in the run's own inputs, each group with its resources. */
  groups: { items: number[]; resources: ItemResources }[];
  /** What the new run retries, for its manifest. */
  retryOf: RetryOf;
  /** The items' permissions (validated), instead of their run's. */
  permissions?: Permissions;
  /** Cancels the new run. */
  signal?: AbortSignal;
}

/** Runs items of a run again as a new run; each target provides it. */
export type Resubmit = (request: ResubmitRequest) => Promise<MapRun<unknown>>;

export { retryAdvice } from "../job/retry_advice.ts";

/**
 * Whether an item failed because it ran out of memory: AWS Batch says so
 * (`OutOfMemoryError: Container killed due to memory usage`), or its process
 * died and its output has V8's out-of-memory message.
 *
 * @example Usage
 * ```ts
 * import { ItemError } from "@cloudknot/cloudknot";
 * import { ranOutOfMemory } from "@cloudknot/cloudknot/run";
 *
 * const error = ItemError.fromRecord({
 *   version: 1, status: "error", kind: "crashed", index: 0, attempt: 1, jobId: "j", endedAt: 0,
 *   error: { name: "WorkerCrashedError", message: "killed" }, signal: "SIGTRAP",
 * }, { attempts: 1 });
 * console.log(ranOutOfMemory(error, ["Fatal JavaScript out of memory: Reached heap limit"])); // true
 * ```
 *
 * @param error The item's error.
 * @param log The last lines of its last attempt's output.
 * @returns Whether it ran out of memory.
 */
export function ranOutOfMemory(error: ItemError, log: readonly string[] = []): boolean {
  if (error.remote.name === "OutOfMemoryError") return true;
  const reason = (error.remote.props as { reason?: unknown } | undefined)?.reason;
  if (OOM_LINE.test(error.statusReason ?? "") || OOM_LINE.test(String(reason ?? ""))) return true;
  return error.kind === "crashed" && log.some((line) => OOM_LINE.test(line));
}

/**
 * Checks retry options before anything is submitted. An option the run's
 * target does not take (`vcpus` locally) is an error, as it is in
 * `Knot.create()` and `map()`, so nothing given is silently ignored.
 *
 * @example Usage
 * ```ts
 * import { validateRetryOptions } from "@cloudknot/cloudknot/run";
 *
 * validateRetryOptions({ memory: "double", timeout: 600 }, "local");
 * ```
 *
 * @param options The options as given.
 * @param target The run's target. @default {"aws"}
 * @returns The permissions given, in their canonical form.
 * @throws {CloudknotInputError} Naming the option and what it takes.
 */
export function validateRetryOptions(
  options: RetryOptions,
  target: "local" | "docker" | "aws" = "aws",
): Permissions | undefined {
  validateOptionKeys(options, RETRY_OPTION_KEYS, "retry()");
  validateOptionType(options, "signal", AbortSignal, "an AbortSignal");
  validateProgress(options.progress, "retry()");
  const { memory, vcpus, timeout } = options;
  if (memory !== undefined && memory !== "double" && !(Number.isInteger(memory) && memory > 0)) {
    throw new CloudknotInputError(
      `memory must be a positive integer of MiB or "double", not ${JSON.stringify(memory)}`,
      { field: "memory" },
    );
  }
  if (vcpus !== undefined && !(typeof vcpus === "number" && vcpus > 0 && Number.isFinite(vcpus))) {
    throw new CloudknotInputError(`vcpus must be a positive number, not ${JSON.stringify(vcpus)}`, {
      field: "vcpus",
    });
  }
  if (vcpus !== undefined && target === "local") {
    // The words of map()'s itemsPerJob and Knot.create()'s options of another target.
    throw new CloudknotInputError(
      `vcpus is an option of targets "aws" and "docker" (vCPUs per Batch job or container), ` +
        `not of "${target}", whose workers take no CPU limit: leave it out`,
      { field: "vcpus" },
    );
  }
  if (
    timeout !== undefined &&
    !(typeof timeout === "number" && timeout > 0 && Number.isFinite(timeout))
  ) {
    throw new CloudknotInputError(
      `timeout must be a positive number of seconds, not ${JSON.stringify(timeout)}`,
      { field: "timeout" },
    );
  }
  return options.permissions === undefined ? undefined : validatePermissions(options.permissions);
}

/**
 * Groups the items to retry by the resources they get: `memory: "double"`
 * gives each item that ran out of memory twice the memory its last attempt
 * had.
 *
 * @param items The items to retry, each with whether it ran out of memory and its last memory.
 * @param options The retry's options.
 * @returns The groups, in a stable order.
 */
export function retryGroups(
  items: { position: number; outOfMemory: boolean; memory?: number }[],
  options: RetryOptions,
): { items: number[]; resources: ItemResources }[] {
  const groups = new Map<string, { items: number[]; resources: ItemResources }>();
  for (const item of items) {
    const resources: ItemResources = {};
    if (typeof options.memory === "number") resources.memory = options.memory;
    if (options.memory === "double" && item.outOfMemory) {
      if (item.memory === undefined) {
        throw new CloudknotInputError(
          `Item ${item.position} ran out of memory, but how much it had is unknown: retry with memory set to a number of MiB`,
          { field: "memory" },
        );
      }
      resources.memory = item.memory * 2;
    }
    if (options.vcpus !== undefined) resources.vcpus = options.vcpus;
    if (options.timeout !== undefined) resources.timeout = options.timeout;
    const key = JSON.stringify([resources.memory, resources.vcpus, resources.timeout]);
    const group = groups.get(key) ?? { items: [], resources };
    group.items.push(item.position);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** The record an item's settled outcome stands for, at another index. */
function recordOf(
  settled: { status: "fulfilled"; value: unknown } | { status: "rejected"; reason: ItemError },
  index: number,
  view: { attempts: number; jobId?: string; startedAt?: number; endedAt?: number },
): JobRecord {
  const base = {
    version: 1 as const,
    index,
    attempt: Math.max(1, view.attempts),
    jobId: view.jobId ?? "",
    endedAt: view.endedAt ?? 0,
    ...(view.startedAt !== undefined ? { startedAt: view.startedAt } : {}),
  };
  if (settled.status === "fulfilled") return { ...base, status: "ok", value: settled.value };
  const e = settled.reason;
  const record: ErrorRecord = {
    ...base,
    status: "error",
    kind: e.kind,
    attempt: e.attempt,
    jobId: e.jobId,
    error: e.remote,
    ...failureDetails(e),
  };
  return record;
}

/**
 * Feeds a merged handle: the earlier run's results for the items not
 * retried, at once, then each retried item as the retry settles it.
 *
 * @param earlier The run retried (a handle over the whole input).
 * @param retried The retry, whose item `k` is item `items[k]` of the input.
 * @param items The input index of each item of the retry.
 * @param control The merged handle's control.
 * @param onItem Calls a listener with the index of each item of the retry
 * whose state changes (an attempt starts or stops, the item ends); returns
 * what stops it.
 */
export function feedMerged(
  earlier: MapRun<unknown>,
  retried: MapRun<unknown>,
  items: readonly number[],
  control: RunControl,
  onItem: (listener: (index: number) => void) => () => void,
): void {
  const again = new Set(items);
  const views = earlier.items;
  // What both runs already hold is the merged handle's as it is returned, so
  // a view read at once (`cloudknot jobs`, `knot show`) sees a finished retry
  // finished; the feeds below settle the rest (a repeat is ignored).
  views.forEach((view, i) => {
    const s = again.has(i) ? undefined : earlier.settledItem(i);
    if (s) control.settle(recordOf(s, i, view));
  });
  items.forEach((input, k) => {
    const s = retried.settledItem(k);
    if (s) control.settle(recordOf(s, input, retried.itemView(k)!));
  });
  // The merged handle is done when both runs are (their workers stopped too).
  control.track(earlier.done);
  control.track(retried.done);
  // Each of the earlier run's items as it settles, not once that run is done:
  // a view read after one look at AWS (`knot show`) sees a finished retry finished.
  control.track((async () => {
    for await (const s of earlier) {
      if (!again.has(s.index)) control.settle(recordOf(s, s.index, earlier.itemView(s.index)!));
    }
  })());
  // Which retried items are running, followed item by item as the retry's attempts start and
  // stop (and once for those running already), where the whole retry was walked on updates.
  const marked = new Map<number, number>();
  const mark = (k: number) => {
    const view = retried.itemView(k);
    if (view === undefined || items[k] === undefined) return;
    if (view.status === "succeeded" || view.status === "failed" || view.status === "cancelled") {
      // Ended: the loop below settles it.
      marked.delete(k);
      return;
    }
    if (view.status === "pending" && marked.has(k)) {
      // No longer running, and not ended (to be retried, or seen so from another process).
      marked.delete(k);
      control.idle(items[k]);
    }
    if (view.status !== "running") return;
    if ((marked.get(k) ?? 0) >= view.attempts) return;
    marked.set(k, view.attempts);
    control.started(items[k], view.attempts, view.jobId, view.startedAt);
  };
  const stop = onItem(mark);
  for (let k = 0; k < items.length; k++) mark(k);
  control.track((async () => {
    for await (const s of retried) {
      control.settle(recordOf(s, items[s.index]!, retried.itemView(s.index)!));
    }
    stop();
  })());
}

/**
 * What a merged handle's attempts used: the earlier run's, then the retry's
 * at their input indices.
 *
 * @param earlier What the earlier run used.
 * @param retried What the retry used.
 * @param items The input index of each item of the retry.
 * @returns Both runs' attempts, under the retry's id.
 */
export function mergeUsage(
  earlier: RunUsage,
  retried: RunUsage,
  items: readonly number[],
): RunUsage {
  const mapped: AttemptUsage[] = retried.attempts.map((a) => ({
    ...a,
    index: items[a.index] ?? a.index,
  }));
  return { ...retried, attempts: [...earlier.attempts, ...mapped] };
}
