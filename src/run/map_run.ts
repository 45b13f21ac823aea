/**
 * The handle `knot.map()` returns, the same for every target: all results in
 * input order, per-item promises, completion-order iteration, live counts,
 * cancellation and a job view.
 *
 * @module
 */
import { ItemError, MapError } from "../job/item_error.ts";
import { unshippedFile } from "../job/permissions.ts";
import { missingFromImage } from "../job/missing_program.ts";
import {
  type ErrorRecord,
  failsEveryAttempt,
  failureRecord,
  type JobRecord,
} from "../job/record.ts";
import { renderRunHtml, renderRunText } from "./run_view.ts";
import type { RunUsage } from "../cost/usage.ts";
import { type CostReport, costReport, type CostReportOptions } from "../cost/report.ts";
import { CloudknotInputError } from "../util/errors.ts";
import { knotClobbered, neverStored } from "../job/retry_advice.ts";
import { itemsInWords } from "../util/item_words.ts";
import { type InspectPlace, nestedText } from "../util/summary.ts";
import { renderReportPage, type ReportFailure } from "./report_page.ts";
import { showProgress } from "./progress.ts";
import { isFreshReading } from "./fresh_reading.ts";
import {
  feedMerged,
  type ItemResources,
  mergeUsage,
  ranOutOfMemory,
  type Resubmit,
  retryAdvice,
  retryGroups,
  type RetryOf,
  type RetryOptions,
  validateRetryOptions,
} from "./retry.ts";
import { Timeline, type TimelineOptions } from "./timeline.ts";
import { defined } from "../util/defined.ts";
import { ABORTED, untilAborted } from "../util/sleep.ts";
import { validateOptionKeys } from "../util/validate.ts";

/**
 * Where an item is: `cancelled` is an item that failed because it was
 * cancelled (`cancel()`, a `signal`, Ctrl-C, a clobber, a job stuck in
 * RUNNABLE too long), which {@linkcode RunCounts} counts among the failed
 * ones and apart, as `cancelled`.
 */
export type ItemStatus = "pending" | "running" | "succeeded" | "failed" | "cancelled";

/** How one item ended, like one entry of `Promise.allSettled`. */
export type ItemSettled<T> =
  | { index: number; status: "fulfilled"; value: T }
  | { index: number; status: "rejected"; reason: ItemError };

/** Live counts of a run's items. */
export interface RunCounts {
  /** Items in the run. */
  total: number;
  /** Items not started yet (including those waiting for a retry). */
  pending: number;
  /** Items running now. */
  running: number;
  /** Items that returned a value. */
  succeeded: number;
  /** Items that failed for good, cancelled ones included. */
  failed: number;
  /**
   * Of the failed items, those cancelled (`cancel()`, a `signal`, Ctrl-C, a
   * clobber, or a job stuck in RUNNABLE too long): they never ran to an end.
   */
  cancelled: number;
  /** Attempts that failed and were retried. */
  retried: number;
}

/** What the job view shows of one item. */
export interface ItemView {
  /** The item's position in the inputs. */
  index: number;
  /** Where the item is. */
  status: ItemStatus;
  /** Attempts started so far: none for an item cancelled before it started. */
  attempts: number;
  /** The job (or array child) of the latest attempt. */
  jobId?: string;
  /** When the latest attempt started, in epoch milliseconds. */
  startedAt?: number;
  /** When the item ended, in epoch milliseconds. */
  endedAt?: number;
  /** The final error's message, when it failed. */
  error?: string;
}

/** Fixed facts about a run. */
export interface RunInfo {
  /** The knot's name. */
  knot: string;
  /** The run's id. */
  runId: string;
  /** Where it runs. */
  target: "local" | "aws" | "docker";
  /** How many items it has. */
  total: number;
  /** The attempts each item gets. */
  attempts: number;
  /** The run this run retries, and the input index of each of its items. */
  retryOf?: RetryOf;
  /**
   * The process that mapped it died while it was still reading the inputs:
   * the run is the `total` inputs read before. @default {false}
   */
  cutShort?: boolean;
}

/**
 * The side of a run that a target drives: it reports attempts starting,
 * failing and items settling. Every item must be settled exactly once.
 */
export interface RunControl {
  /**
   * An attempt of an item started: `startedAt` (epoch milliseconds, default
   * now) when it started elsewhere before this handle heard of it.
   */
  started(index: number, attempt: number, jobId?: string, startedAt?: number): void;
  /**
   * An attempt of the item is no longer running, and no record says how it
   * ended yet (what a handle that follows a run another process runs learns
   * from that process): the item is pending again.
   */
  idle(index: number): void;
  /** An attempt failed and the item will be tried again. */
  retrying(record: ErrorRecord): void;
  /** The item's final record arrived. Later calls for the same item are ignored. */
  settle(record: JobRecord): void;
  /** Settles every unsettled item with the same error (for example, a cancellation). */
  settleAll(make: (index: number) => ErrorRecord): void;
  /** Whether the item has settled. */
  isSettled(index: number): boolean;
  /**
   * The run is `done` only once this work (such as stopping workers) has
   * ended too. Call it before the run can finish (before `seal()`, or before
   * the last item settles): work tracked after that is not waited for.
   */
  track(work: Promise<unknown>): void;
  /** The run has `total` items now (it only grows; for a run made `open`). */
  extend(total: number): void;
  /**
   * No more items will be added: the run can finish. `cutShort`: because the
   * process that read the inputs died (see {@linkcode MapRun.cutShort}).
   */
  seal(options?: { cutShort?: boolean }): void;
}

/**
 * The message of a cancelled item whose work the target could not confirm
 * stopped (it may still record how the item ended), or `undefined` for an
 * item whose work stopped.
 *
 * @example Usage
 * ```ts
 * import type { Unconfirmed } from "@cloudknot/cloudknot/run";
 *
 * const unconfirmed: Unconfirmed = (index) => index === 3 ? "Its job was still stopping" : undefined;
 * console.log(unconfirmed(3)); // "Its job was still stopping"
 * ```
 */
export type Unconfirmed = (index: number) => string | undefined;

/**
 * Why a run is cancelled ({@linkcode MapRun.cancel}): words, which its items
 * give as a `CancelledError`'s message, or an error's name and message, which
 * they give as theirs (a knot's clobber's `KnotClobberedError`).
 */
export type CancelReason = string | { name: string; message: string };

/** Options for {@linkcode MapRun.create}. */
export interface MapRunOptions {
  /**
   * Called by `cancel()`; the target stops its work and settles what is left.
   * It may resolve to the message of each item it could not confirm stopped
   * (`undefined` for the others): those items end cancelled with that message
   * instead of the bare reason. `error` is the error the items end with: the reason, and its name
   * (`KnotClobberedError` for a clobber's), for a target that passes the cancel on.
   */
  onCancel?: (
    reason: string,
    error: { name: string; message: string },
  ) => void | Promise<void | Unconfirmed>;
  /** When the run started (default: now). */
  startedAt?: number;
  /** Reads the output of one attempt of one item. */
  logs?: (index: number, attempt: number) => AsyncIterable<string>;
  /**
   * Whether an attempt of an item ended without the item's record, as the
   * target knows without asking (`attemptsWithoutRecord()`). @default {() => false}
   */
  withoutRecord?: (index: number, attempt: number) => boolean;
  /** Keeps the cancellation records `cancel()` made, so a later `collect` sees them. */
  saveCancelled?: (records: ErrorRecord[]) => Promise<void>;
  /** The job id of an item whose attempts were reported without one. */
  jobId?: (index: number) => string;
  /**
   * More items may still be added with {@linkcode RunControl.extend} (inputs
   * that are still being read); the run cannot finish until
   * {@linkcode RunControl.seal}. @default {false}
   */
  open?: boolean;
  /** What the run's attempts used, for `cost()`, `timeline()` and `report()`. */
  usage?: () => Promise<RunUsage>;
  /** Runs items of this run again as a new run, for `retry()`. */
  resubmit?: Resubmit;
  /**
   * The latest run that retries this one, if any, as collected (over the whole input): a
   * `retry()` of this run is that run's, so that what a retry ran is never run again. The
   * signal (the retry's) stops that reading, as `collect`'s does.
   */
  retriedBy?: (signal?: AbortSignal) => Promise<MapRun<unknown> | undefined>;
  /**
   * Checks the resources a retry gives items (its `memory`, `vcpus` and
   * `timeout`, and doubled memory) against the target's own bounds, before
   * the retry writes anything: the target's `checkResources`.
   */
  checkResources?: (resources: ItemResources) => void;
  /**
   * The run read again where its records are kept, for `retry()`: a handle
   * over the same input that follows the run until it ends, so that what its
   * jobs recorded after this handle settled (a cancel that did not see them
   * stop) counts. Without it, `retry()` retries what this handle holds.
   */
  reread?: (signal?: AbortSignal) => Promise<MapRun<unknown>>;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/** Item states, one byte each. */
const PENDING = 0;
const RUNNING = 1;
const SUCCEEDED = 2;
const FAILED = 3;
const STATUS: readonly ItemStatus[] = ["pending", "running", "succeeded", "failed"];

/**
 * A map run in progress or done. Its bookkeeping is a few bytes per item in
 * typed arrays (status, attempts, times, completion order) plus each item's
 * value; per-item promises are made only when asked for.
 *
 * @example Usage
 * ```ts
 * import { MapRun } from "@cloudknot/cloudknot";
 *
 * const { run, control } = MapRun.create<number>({ knot: "k", runId: "r", target: "local", total: 1, attempts: 1 });
 * control.started(0, 1);
 * control.settle({ version: 1, status: "ok", index: 0, attempt: 1, jobId: "j", endedAt: Date.now(), value: 42 });
 * console.log(await run.results()); // [ 42 ]
 * ```
 */
export class MapRun<T = unknown> implements AsyncIterable<ItemSettled<T>> {
  /** The knot's name. */
  readonly knot: string;
  /** The run's id. */
  readonly runId: string;
  /** Where it runs. */
  readonly target: "local" | "aws" | "docker";
  /** The attempts each item gets. */
  readonly attempts: number;
  /** When the run started, in epoch milliseconds. */
  readonly startedAt: number;
  /** The run this run retries, when it is a retry: its results cover the whole input. */
  readonly retryOf?: RetryOf;

  #total: number;
  #open: boolean;
  #cutShort: boolean;
  #status: Uint8Array;
  #attempts: Uint8Array;
  #started: Float64Array;
  #ended: Float64Array;
  /** Item indices in the order they settled. */
  #order: Uint32Array;
  #settledCount = 0;
  #values: unknown[] = [];
  #errors = new Map<number, ItemError>();
  #jobIds = new Map<number, string>();
  #jobId?: (index: number) => string;
  #deferreds = new Map<number, Deferred<T>>();
  #counts: RunCounts;
  #listeners = new Set<() => void>();
  /** Told which item changed, for a merged handle that follows this run item by item. */
  #itemListeners = new Set<(index: number) => void>();
  #waiters: (() => void)[] = [];
  #done: Deferred<void>;
  #endedAt?: number;
  #onCancel?: MapRunOptions["onCancel"];
  #logs?: (index: number, attempt: number) => AsyncIterable<string>;
  #withoutRecord?: (index: number, attempt: number) => boolean;
  #saveCancelled?: (records: ErrorRecord[]) => Promise<void>;
  #cancelling?: Promise<void>;
  #work: Promise<unknown>[] = [];
  #usage?: () => Promise<RunUsage>;
  #resubmit?: Resubmit;
  #retriedBy?: (signal?: AbortSignal) => Promise<MapRun<unknown> | undefined>;
  #checkResources?: (resources: ItemResources) => void;
  #reread?: (signal?: AbortSignal) => Promise<MapRun<unknown>>;
  #cost?: CostReport;
  /** On a handle over a run and its retry: the items the retry runs again. */
  #retried?: ReadonlySet<number>;
  /** On a retry's handle (over the whole input), the retry's own. */
  #retry?: MapRun<unknown>;
  /** On a retry's handle (over the whole input), the run it retries. */
  #earlier?: MapRun<unknown>;

  private constructor(info: RunInfo, options: MapRunOptions) {
    this.knot = info.knot;
    this.runId = info.runId;
    this.target = info.target;
    this.#total = info.total;
    this.attempts = info.attempts;
    this.startedAt = options.startedAt ?? Date.now();
    this.#open = options.open ?? false;
    this.#cutShort = info.cutShort ?? false;
    if (options.onCancel) this.#onCancel = options.onCancel;
    if (options.logs) this.#logs = options.logs;
    if (options.withoutRecord) this.#withoutRecord = options.withoutRecord;
    if (options.saveCancelled) this.#saveCancelled = options.saveCancelled;
    if (options.jobId) this.#jobId = options.jobId;
    const capacity = Math.max(16, info.total);
    this.#status = new Uint8Array(capacity);
    this.#attempts = new Uint8Array(capacity);
    this.#started = new Float64Array(capacity);
    this.#ended = new Float64Array(capacity);
    this.#order = new Uint32Array(capacity);
    this.#values = new Array(capacity);
    if (options.usage) this.#usage = options.usage;
    if (options.resubmit) this.#resubmit = options.resubmit;
    if (options.retriedBy) this.#retriedBy = options.retriedBy;
    if (options.checkResources) this.#checkResources = options.checkResources;
    if (options.reread) this.#reread = options.reread;
    if (info.retryOf) this.retryOf = info.retryOf;
    this.#counts = {
      total: info.total,
      pending: info.total,
      running: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
      retried: 0,
    };
    this.#done = Promise.withResolvers<void>();
    if (info.total === 0 && !this.#open) this.#finish();
  }

  /**
   * Makes a run handle and the control a target drives it with.
   *
   * @param info The run's fixed facts.
   * @param options A cancel hook and the start time.
   * @returns The handle and its control.
   */
  static create<T>(
    info: RunInfo,
    options: MapRunOptions = {},
  ): { run: MapRun<T>; control: RunControl } {
    const run = new MapRun<T>(info, options);
    return { run, control: run.#control() };
  }

  /**
   * Whether the process that mapped the run died while `map()` was still
   * reading its inputs (a kernel restarted, a process killed): the run is
   * its first `total` inputs, which every handle finishes, and the inputs
   * after those were never read. Map them again
   * (`knot.map(inputs.slice(run.total))`). The run's view says so too.
   */
  get cutShort(): boolean {
    return this.#cutShort;
  }

  /** How many items the run has. */
  get total(): number {
    return this.#total;
  }

  /** Live counts of the run's items. */
  get counts(): RunCounts {
    // A retry's handle counts the attempts its retry ran again, which its items are fed from.
    const retried = this.#retry?.counts.retried;
    return { ...this.#counts, ...(retried !== undefined ? { retried } : {}) };
  }

  /** Whether every item has settled. */
  get finished(): boolean {
    return !this.#open && this.#settledCount === this.#total;
  }

  /** When the last item settled, in epoch milliseconds. */
  get endedAt(): number | undefined {
    return this.#endedAt;
  }

  /**
   * How one item has settled so far, for views.
   *
   * @param index The item's position in the inputs.
   * @returns Its result or error, or `undefined` while it has not settled.
   */
  settledItem(index: number): ItemSettled<T> | undefined {
    return (this.#status[index] ?? 0) >= SUCCEEDED && index < this.#total
      ? this.#entry(index)
      : undefined;
  }

  /**
   * A snapshot of one item, for views.
   *
   * @param index The item's position in the inputs.
   * @returns The item, or `undefined` when out of range.
   */
  itemView(index: number): ItemView | undefined {
    return index >= 0 && index < this.#total ? this.#view(index) : undefined;
  }

  /** A snapshot of every item, for views. */
  get items(): readonly ItemView[] {
    return Array.from({ length: this.#total }, (_, index) => this.#view(index));
  }

  /**
   * Resolves when every item has settled and the target has stopped its work
   * (for example, its worker processes have exited); it never rejects.
   */
  get done(): Promise<void> {
    return this.#done.promise;
  }

  /**
   * One promise per item, in input order. Rejections are {@linkcode ItemError}s.
   */
  get promises(): Promise<T>[] {
    return Array.from({ length: this.#total }, (_, index) => this.item(index));
  }

  /**
   * The promise for one item's value.
   *
   * @param index The item's position in the inputs.
   * @returns Its value, or a rejection with its {@linkcode ItemError}.
   */
  item(index: number): Promise<T> {
    if (!(Number.isInteger(index) && index >= 0 && index < this.#total)) {
      return Promise.reject(
        new RangeError(`Item ${index} is out of range: the run has ${this.#total} items`),
      );
    }
    const status = this.#status[index];
    if (status === SUCCEEDED) return Promise.resolve(this.#values[index] as T);
    if (status === FAILED) {
      const rejected = Promise.reject(this.#errors.get(index));
      rejected.catch(() => {}); // rejections are handed out, never left unhandled
      return rejected;
    }
    let d = this.#deferreds.get(index);
    if (d === undefined) {
      d = Promise.withResolvers<T>();
      d.promise.catch(() => {}); // rejections are handed out, never left unhandled
      this.#deferreds.set(index, d);
    }
    return d.promise;
  }

  /**
   * All values in input order. If any item failed, it rejects with one
   * {@linkcode MapError} that carries every item's error and the partial
   * results.
   *
   * @returns The values.
   */
  async results(): Promise<T[]> {
    await this.done;
    const values = Array.from({ length: this.#total }, (_, i) => this.#values[i] as T);
    if (this.#errors.size === 0) return values;
    const errors = [...this.#errors.keys()].sort((a, b) => a - b).map((i) => this.#errors.get(i)!);
    throw new MapError<T>(
      errors,
      values,
      // A file not shipped is not there for a retry on AWS, which runs the run's own job
      // definition revision, nor a program the image lacks in a retry's container, which runs
      // the run's own image, nor a result the codec refuses for its kind, which a retry of the
      // same function returns again, nor what a clobber of the knot took with it: each such
      // item's error says what to change and to map the items again, which works on every target.
      this.#resubmit === undefined ||
        errors.some((e) =>
          knotClobbered(e) ||
          (e.kind === "refused" && unshippedFile(e)) || missingFromImage(e) ||
          (e.kind === "unencodable" && failsEveryAttempt(e.kind, e.remote))
        )
        ? undefined
        // A retry keeps the run's permissions: one refused a permission needs them given.
        : errors.some((e) => e.kind === "refused")
        ? `${
          retryAdvice(this.knot, this.runId, "{ permissions }")
        }, its permissions granting what each refused item's error names`
        : retryAdvice(this.knot, this.runId),
    );
  }

  /**
   * How every item ended, in input order, like `Promise.allSettled`.
   *
   * @returns One entry per item.
   */
  async settled(): Promise<ItemSettled<T>[]> {
    await this.done;
    return Array.from({ length: this.#total }, (_, index) => this.#entry(index));
  }

  /** Yields each item as it settles, in completion order. */
  async *[Symbol.asyncIterator](): AsyncIterator<ItemSettled<T>> {
    let next = 0;
    while (true) {
      while (next < this.#settledCount) yield this.#entry(this.#order[next++]!);
      if (this.finished) return;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /**
   * The output (stdout and stderr) of one attempt of one item, line by line.
   * On AWS, the items a job ran share its log: an attempt that ended without
   * the item's record (its job could not read the run or write the records,
   * or crashed, was stopped or lost first) has the job's own lines too, where
   * they came, each behind `[job] `: they say why.
   *
   * @param index The item's position in the inputs.
   * @param options `attempt` picks an attempt (default: the latest).
   * @returns The lines; none when the attempt printed nothing, or never ran: its workers
   * could not start or load the function (`WorkerStartError`), or, on AWS, no job was
   * submitted for it (`MissingJobError`); the item's {@linkcode ItemError} says why and how
   * to run it.
   * @throws {RangeError} For an item out of range, or an attempt an ended item never ran
   * (on a retry's handle, an item it retried ran its attempts of this run; the error names the
   * run whose handle reads its earlier ones).
   */
  async *logs(index: number, options: { attempt?: number } = {}): AsyncGenerator<string> {
    validateOptionKeys(options, { attempt: true }, "run.logs()");
    if (!(Number.isInteger(index) && index >= 0 && index < this.#total)) {
      throw new RangeError(`Item ${index} is out of range: the run has ${this.#total} items`);
    }
    const ran = this.#attempts[index]!;
    const attempt = options.attempt ?? ran;
    const ended = this.#status[index]! >= SUCCEEDED;
    if (
      options.attempt !== undefined &&
      (!Number.isInteger(attempt) || attempt < 1 || (ended && attempt > ran))
    ) {
      // An ended item ran all its attempts: a later one never printed anything.
      const earlier = this.retryOf !== undefined && this.#retried?.has(index) &&
          Number.isInteger(attempt) && attempt > ran
        ? this.retryOf.runId
        : undefined;
      const here = earlier !== undefined ? ` in run ${this.runId}` : "";
      const there = earlier !== undefined
        ? `. Run ${this.runId} retries it: its earlier attempts are run ${earlier}'s, ` +
          `read with (await knot.collect("${earlier}")).logs(${index}, { attempt })`
        : "";
      throw new RangeError(
        ended && ran === 0
          ? `Item ${index} was cancelled before it started${here}: it ran no attempt` +
            `${here === "" ? "" : " there"}, so it has no output${there}`
          : ended
          ? `Item ${index} ran ${ran} attempt${ran === 1 ? "" : "s"}${here}: attempt takes 1${
            ran === 1 ? "" : ` to ${ran}`
          }${there}`
          : `attempt must be a positive integer, not ${attempt}`,
      );
    }
    if (attempt < 1 || this.#logs === undefined) return;
    yield* this.#logs(index, attempt);
  }

  /**
   * The attempts of an item that ended without the item's record, from the
   * first: on AWS, those whose job (or array child) failed, crashed, was
   * stopped or lost before it wrote the item's record, its last attempt or
   * one AWS Batch ran again. Their {@linkcode MapRun.logs} hold the job's own
   * lines, each behind `[job] `, which say why. Known from what the handle
   * has read: asking sends no request. The local and docker targets give none.
   *
   * @example Usage
   * ```ts ignore
   * for (const attempt of run.attemptsWithoutRecord(3)) {
   *   console.log(`attempt ${attempt}:`, await Array.fromAsync(run.logs(3, { attempt })));
   * }
   * ```
   *
   * @param index The item's position in the inputs.
   * @returns The attempts, in order; none for an item out of range.
   */
  attemptsWithoutRecord(index: number): number[] {
    const ended = this.#withoutRecord;
    if (ended === undefined || !(Number.isInteger(index) && index >= 0 && index < this.#total)) {
      return [];
    }
    const ran = Array.from({ length: this.#attempts[index]! }, (_, k) => k + 1);
    return ran.filter((attempt) => ended(index, attempt));
  }

  /**
   * Calls `listener` whenever the counts change.
   *
   * @param listener The callback.
   * @returns A function that removes the listener.
   */
  onUpdate(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Cancels the run: work still running is stopped and every unsettled item
   * ends with a cancellation error. Resolves once the run is `done`.
   *
   * @param reason Why, for the items' errors: words, which they give as a `CancelledError`'s
   *   message, or an error's name and message, which they give as theirs (a knot's clobber
   *   cancels its runs as a `KnotClobberedError`).
   */
  cancel(reason: CancelReason = "The run was cancelled"): Promise<void> {
    if (this.finished) return this.done;
    const error = typeof reason === "string"
      ? { name: "CancelledError", message: reason }
      : { name: reason.name, message: reason.message };
    this.#cancelling ??= (async () => {
      const cancelled: ErrorRecord[] = [];
      let unconfirmed: Unconfirmed | void = undefined;
      try {
        unconfirmed = await this.#onCancel?.(error.message, error);
      } finally {
        this.#open = false;
        this.#control().settleAll((index) => {
          const record = failureRecord({
            index,
            attempt: Math.max(1, this.#attempts[index]!),
            jobId: this.#jobIdOf(index) ?? "",
            kind: "cancelled",
            // The attempt the cancel stopped ran from then: a reader of the record counts it.
            ...(this.#status[index] === RUNNING ? { startedAt: this.#started[index]! } : {}),
          }, { name: error.name, message: unconfirmed?.(index) ?? error.message });
          cancelled.push(record);
          return record;
        });
        // A run still open with nothing to settle (no input written yet) is
        // finished here: no item's settling will finish it.
        if (cancelled.length === 0 && this.finished) this.#finish();
      }
      await this.#saveCancelled?.(cancelled).catch(() => {});
      await this.done;
    })();
    return this.#cancelling;
  }

  /**
   * What the run's attempts used: each attempt's start and stop, its job's
   * resources and how it ended (on AWS from DescribeJobs; locally from the
   * run's records).
   *
   * @returns The attempts, and the compute they ran on.
   */
  usage(): Promise<RunUsage> {
    if (this.#usage === undefined) {
      return Promise.reject(
        new CloudknotInputError(
          `Run ${this.runId} cannot tell what it used: its target keeps no attempt times`,
        ),
      );
    }
    return this.#usage();
  }

  /**
   * What the run used and cost, from its attempts' start and stop times, its
   * jobs' vCPUs and memory and the compute type, retries included, at the
   * price table's prices; locally, its CPU-seconds. The run's view shows it
   * once computed.
   *
   * @param options `prices`: a price table of your own.
   * @returns The cost report.
   */
  async cost(options: CostReportOptions = {}): Promise<CostReport> {
    validateOptionKeys(options, { prices: true }, "run.cost()");
    this.#cost = costReport(await this.usage(), options);
    this.#emit();
    return this.#cost;
  }

  /** The cost report last computed by `cost()`, if any. */
  get lastCost(): CostReport | undefined {
    return this.#cost;
  }

  /**
   * A picture of the run: each attempt as a bar over time, one row per Batch
   * job (or local worker), coloured by how it ended, with the wait before it.
   * A notebook shows it beside a table of the items' values.
   *
   * @param options Its width and the most rows drawn.
   * @returns The timeline (its SVG is `String(timeline)`).
   */
  async timeline(options: TimelineOptions = {}): Promise<Timeline> {
    validateOptionKeys(options, { width: true, maxRows: true, now: true }, "run.timeline()");
    return new Timeline(await this.usage(), {
      ...options,
      beside: renderRunHtml(this, { values: true }),
    });
  }

  /**
   * The run's report as one self-contained HTML page: the timeline, the cost
   * report, and the failures with their errors and the last lines of their
   * output.
   *
   * @param options `prices` for the cost; `failures`, the most failures shown (default 20);
   *   `logLines`, the lines of output shown per failure (default 20); `describe`, each
   *   failure's message and stack as shown (default its error's message and remote stack; the
   *   command line gives them in its own words).
   * @returns The HTML document.
   */
  async report(
    options: CostReportOptions & {
      failures?: number;
      logLines?: number;
      describe?: (error: ItemError) => { message: string; stack?: string };
    } = {},
  ): Promise<string> {
    validateOptionKeys(
      options,
      { prices: true, failures: true, logLines: true, describe: true },
      "run.report()",
    );
    const usage = await this.usage();
    const failed = (await this.settled()).filter((s) => s.status === "rejected");
    const failures: ReportFailure[] = [];
    for (const s of failed.slice(0, options.failures ?? 20)) {
      const e = s.reason as ItemError;
      failures.push({
        index: s.index,
        ...(options.describe?.(e) ??
          { message: e.message, ...(e.remote.stack ? { stack: e.remote.stack } : {}) }),
        log: await this.#tail(s.index, options.logLines ?? 20),
      });
    }
    return renderReportPage({
      title: `${this.knot} run ${this.runId}`,
      summary: renderRunText(this).split("\n")[0]!,
      timeline: new Timeline(usage).svg,
      cost: costReport(usage, options),
      failures,
      failed: failed.length,
      madeAt: Date.now(),
    });
  }

  /**
   * Runs the items that failed, were cancelled or were lost again, as a new
   * run of the same knot, and returns a handle whose results cover the whole
   * input: this run's results for the other items, and the retried ones as
   * they come. Waits for this run to finish first, then reads it again where
   * its records are kept and waits for that reading to end too: an item that
   * recorded a result after this handle settled it (a job still stopping
   * after a cancel that could not confirm it stopped) keeps that result and
   * is not run again, and no item is retried while a job of the run may still
   * run it. `memory`, `vcpus` and `timeout` change the retried items'
   * resources; `memory: "double"` doubles the memory of the items that ran
   * out of it; `permissions` replaces the run's (for items refused one).
   * An item whose inputs the run never stored (a local run whose disk filled
   * as they were written) is not run again: nothing of it is there to run, so
   * it keeps its error on the merged handle, which says to map its inputs
   * again with `knot.map()`.
   *
   * @param options New resources, cancellation and progress.
   * @returns The merged handle (this run itself when nothing failed; the run as read again
   *   when what failed here has since ended otherwise).
   * @throws {CloudknotInputError} When every item that failed is one whose inputs were never
   *   stored: naming them, and saying to map their inputs again.
   */
  async retry(options: RetryOptions = {}): Promise<MapRun<T>> {
    const permissions = validateRetryOptions(options, this.target);
    // The target's own bounds, before the run is waited for or anything is written.
    this.#checkResources?.(defined({
      memory: typeof options.memory === "number" ? options.memory : undefined,
      vcpus: options.vcpus,
      timeout: options.timeout,
    }));
    if (this.#resubmit === undefined) {
      // A run of no items (an empty input) has nothing to run again, as one where nothing failed.
      if (this.#total === 0 && !this.#open) return this;
      throw new CloudknotInputError(
        `Run ${this.runId} cannot be retried: map its failed items again`,
      );
    }
    // Its signal stops the wait too: a reading that its own signal stopped (collect's) is never
    // done, and neither is a run another process drives that does not end.
    if (await untilAborted(this.done, options.signal) === ABORTED) throw options.signal!.reason;
    // A success is final: with no failure here, a reading again finds none either.
    if (this.#errors.size === 0) return this;
    // The knot clobbered while the run ran took the run with it: nothing is left to run again.
    const clobbered = [...this.#errors.values()].find(knotClobbered);
    if (clobbered !== undefined) {
      throw new CloudknotInputError(
        `Run ${this.runId} cannot be retried: its knot ${this.knot} was clobbered while it ran. ` +
          `Create the knot again and map the inputs again`,
      );
    }
    // Retried already (a cell run again, another process): the latest retry is retried, which
    // runs only what failed in it, and nothing when nothing did.
    const later = await this.#retriedBy?.(options.signal);
    if (later !== undefined) {
      // That run read, followed (or finished) until it ends: the signal stops that reading as
      // it stops the reading again below.
      await MapRun.#throwOnceStopped(later, options.signal);
      return await later.retry(options) as MapRun<T>;
    }
    const run = await this.#readAgain(options.signal);
    const resubmit = run.#resubmit!;
    const failed: { index: number; reason: ItemError }[] = [];
    const unstored: number[] = [];
    for (const [index, reason] of run.#errors) {
      // Inputs the run never stored (a local run's disk filled as they were written) leave a
      // retry nothing to read: such an item keeps its error, which says to map it again.
      if (neverStored(reason)) {
        unstored.push(index);
      } else failed.push({ index, reason });
    }
    failed.sort((a, b) => a.index - b.index);
    if (failed.length === 0 && unstored.length === 0) return run;
    if (failed.length === 0) throw nothingStored(run, unstored.sort((a, b) => a - b));
    const memory = new Map<number, number>();
    if (options.memory === "double") {
      for (const a of (await run.usage()).attempts) {
        if (a.memoryMiB !== undefined) memory.set(a.index, a.memoryMiB);
      }
    }
    const items = [];
    for (const s of failed) {
      // The output is read only for a crash the error itself does not explain.
      const outOfMemory = options.memory === "double" &&
        (ranOutOfMemory(s.reason) ||
          (s.reason.kind === "crashed" && ranOutOfMemory(s.reason, await run.#tail(s.index, 50))));
      const last = memory.get(s.index);
      items.push({
        position: s.index,
        outOfMemory,
        ...(last !== undefined ? { memory: last } : {}),
      });
    }
    const groups = retryGroups(items, options);
    // Memory doubled may pass the target's bounds: refused before the retry's run is written.
    const check = run.#checkResources ?? this.#checkResources;
    for (const group of groups) check?.(group.resources);
    const retried = await resubmit({
      groups,
      retryOf: { runId: run.runId, items: groups.flatMap((g) => g.items) },
      ...(permissions !== undefined ? { permissions } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const merged = MapRun.merge<T>(run, retried as MapRun<T>, groups.flatMap((g) => g.items));
    if (options.progress !== false && retried.total > 0) {
      showProgress(merged, typeof options.progress === "object" ? options.progress : {});
    }
    return merged;
  }

  /**
   * This run read again (`reread`), once that reading has ended; this handle
   * itself when its target gives no other reading, or when it is itself such
   * a reading that cancelled nothing (`fresh_reading.ts`).
   */
  async #readAgain(signal: AbortSignal | undefined): Promise<MapRun<T>> {
    if (this.#reread === undefined) return this;
    // A handle that is itself a reading of the run, followed to its end, holds what another
    // reading would: unless it called items cancelled itself, whose jobs may have gone on.
    if (isFreshReading(this) && this.#cancelling === undefined) return this;
    signal?.throwIfAborted();
    const again = (await this.#reread(signal)) as MapRun<T>;
    await MapRun.#throwOnceStopped(again, signal);
    return again;
  }

  /**
   * Waits until `reading` (a reading of a run this handle made for a retry)
   * is done; when `signal` aborts first, rejects with its reason once the
   * reading has stopped.
   *
   * Done, not only finished: a reading whose items have all settled may still
   * be polling (a retry's reading follows the run it retries too), and the
   * retry goes on (or fails) only once nothing of it is left running. Its jobs
   * go on when the signal aborts (also before the reading was returned, during
   * its first look): the reading only stops following them, and the retry
   * rejects once it has stopped, so that no request or timer of it outlives
   * the call. That cannot hang: a reading's poll loop or follow ends as its
   * signal aborts, its requests and waits carrying the signal, and a reading
   * that took over a run whose process was killed stops driving it, as that
   * process did (a docker reading starts no container more and leaves those
   * that run to whoever reads the run next; a local one stops its workers).
   */
  static async #throwOnceStopped(reading: MapRun<unknown>, signal?: AbortSignal): Promise<void> {
    if (await untilAborted(reading.done, signal) === ABORTED) {
      await reading.#stopped();
      throw signal!.reason;
    }
  }

  /**
   * Resolves once the work the target tracks for this handle has ended (a
   * reading's poll loop or follow, a map's workers), whether or not its items
   * settled: a reading its signal stopped leaves them unsettled, and is never
   * `done`. A merged handle's is both runs' (its own tracked work waits for
   * their items).
   */
  #stopped(): Promise<unknown> {
    if (this.#earlier !== undefined && this.#retry !== undefined) {
      return Promise.all([this.#earlier.#stopped(), this.#retry.#stopped()]);
    }
    return Promise.allSettled(this.#work);
  }

  /**
   * A handle over the whole input from a run and its retry: the earlier
   * run's results for the items not retried, the retry's for the others.
   *
   * @param earlier The run retried (over the whole input).
   * @param retried The retry; its item `k` is item `items[k]` of the input.
   * @param items The input index of each item of the retry.
   * @returns The merged handle, under the retry's id.
   */
  static merge<T>(earlier: MapRun<T>, retried: MapRun<T>, items: readonly number[]): MapRun<T> {
    const position = new Map(items.map((index, k) => [index, k]));
    const { run, control } = MapRun.create<T>({
      knot: earlier.knot,
      runId: retried.runId,
      target: earlier.target,
      total: earlier.total,
      attempts: retried.attempts,
      retryOf: { runId: earlier.runId, items: [...items] },
    }, {
      startedAt: retried.startedAt,
      onCancel: (reason) => retried.cancel(reason),
      ...(retried.#checkResources !== undefined ? { checkResources: retried.#checkResources } : {}),
      logs: (index, attempt) => {
        const k = position.get(index);
        return k === undefined ? earlier.logs(index, { attempt }) : retried.logs(k, { attempt });
      },
      withoutRecord: (index, attempt) => {
        const k = position.get(index);
        return (k === undefined
          ? earlier.#withoutRecord?.(index, attempt)
          : retried.#withoutRecord?.(k, attempt)) ?? false;
      },
      usage: async () => mergeUsage(await earlier.usage(), await retried.usage(), items),
      // The retry's target reads the retry again over the whole input, as `collect` does.
      ...(retried.#reread !== undefined ? { reread: retried.#reread } : {}),
      ...(retried.#retriedBy !== undefined ? { retriedBy: retried.#retriedBy } : {}),
      resubmit: (request) => {
        const inner = retried.#resubmit;
        if (inner === undefined) {
          throw new CloudknotInputError(`Run ${retried.runId} cannot be retried`);
        }
        return inner({
          ...request,
          groups: request.groups.map((g) => ({
            ...g,
            items: g.items.map((i) => position.get(i)!),
          })),
        });
      },
    });
    run.#retried = new Set(items);
    run.#retry = retried as MapRun<unknown>;
    run.#earlier = earlier as MapRun<unknown>;
    feedMerged(
      earlier as MapRun<unknown>,
      retried as MapRun<unknown>,
      items,
      control,
      (listener) => {
        retried.#itemListeners.add(listener);
        return () => retried.#itemListeners.delete(listener);
      },
    );
    return run;
  }

  async #tail(index: number, lines: number): Promise<string[]> {
    const out: string[] = [];
    try {
      for await (const line of this.logs(index)) {
        out.push(line);
        if (out.length > lines) out.shift();
      }
    } catch {
      // No output to show.
    }
    return out;
  }

  /** The job view as plain text: a summary line and a table of items. */
  toString(): string {
    return renderRunText(this);
  }

  /** Shows the job view as a table in a Jupyter notebook. */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    return { "text/html": renderRunHtml(this), "text/plain": renderRunText(this) };
  }

  /** Shows the job view in `console.log`. */
  [Symbol.for("Deno.customInspect")](_inspect: unknown, place?: InspectPlace): string {
    return nestedText(renderRunText(this), place);
  }

  #control(): RunControl {
    return {
      started: (index, attempt, jobId, startedAt) => {
        if (index >= this.#total) return;
        const status = this.#status[index]!;
        if (status >= SUCCEEDED) return;
        if (status !== RUNNING) {
          this.#counts.pending--;
          this.#counts.running++;
        }
        this.#status[index] = RUNNING;
        if (attempt > this.#attempts[index]!) this.#attempts[index] = attempt;
        this.#started[index] = startedAt ?? Date.now();
        if (jobId !== undefined) this.#setJobId(index, jobId);
        this.#emit(index);
      },
      idle: (index) => {
        if (index >= this.#total || this.#status[index] !== RUNNING) return;
        this.#status[index] = PENDING;
        this.#counts.running--;
        this.#counts.pending++;
        this.#emit(index);
      },
      retrying: (record) => {
        const status = this.#status[record.index];
        if (status === undefined || record.index >= this.#total || status >= SUCCEEDED) return;
        if (status === RUNNING) {
          this.#counts.running--;
          this.#counts.pending++;
        }
        this.#status[record.index] = PENDING;
        if (record.attempt > this.#attempts[record.index]!) {
          this.#attempts[record.index] = record.attempt;
        }
        this.#counts.retried++;
        this.#emit(record.index);
      },
      settle: (record) => this.#settle(record),
      settleAll: (make) => {
        for (let i = 0; i < this.#total; i++) {
          if (this.#status[i]! < SUCCEEDED) this.#settle(make(i), false);
        }
        this.#emit();
      },
      isSettled: (index) => (this.#status[index] ?? 0) >= SUCCEEDED,
      track: (work) => {
        this.#work.push(work);
      },
      extend: (total) => {
        if (total <= this.#total) return;
        this.#grow(total);
        this.#counts.pending += total - this.#total;
        this.#counts.total = total;
        this.#total = total;
        this.#emit();
      },
      seal: (options = {}) => {
        if (options.cutShort) this.#cutShort = true;
        if (!this.#open) return;
        this.#open = false;
        if (this.finished) this.#finish();
        this.#emit();
      },
    };
  }

  #grow(total: number): void {
    if (total <= this.#status.length) return;
    const capacity = Math.max(total, this.#status.length * 2);
    const grow = <A extends Uint8Array | Float64Array | Uint32Array>(
      a: A,
      make: (n: number) => A,
    ) => {
      const grown = make(capacity);
      grown.set(a as never);
      return grown;
    };
    this.#status = grow(this.#status, (n) => new Uint8Array(n));
    this.#attempts = grow(this.#attempts, (n) => new Uint8Array(n));
    this.#started = grow(this.#started, (n) => new Float64Array(n));
    this.#ended = grow(this.#ended, (n) => new Float64Array(n));
    this.#order = grow(this.#order, (n) => new Uint32Array(n));
    this.#values.length = capacity;
  }

  #setJobId(index: number, jobId: string): void {
    if (this.#jobId?.(index) === jobId) this.#jobIds.delete(index);
    else this.#jobIds.set(index, jobId);
  }

  #jobIdOf(index: number): string | undefined {
    return this.#jobIds.get(index) ?? this.#jobId?.(index);
  }

  #view(index: number): ItemView {
    const error = this.#errors.get(index);
    const view: ItemView = {
      index,
      status: error?.kind === "cancelled" ? "cancelled" : STATUS[this.#status[index]!]!,
      attempts: this.#attempts[index]!,
    };
    const jobId = this.#status[index] === PENDING && this.#attempts[index] === 0
      ? undefined
      : this.#jobIdOf(index);
    if (jobId !== undefined) view.jobId = jobId;
    if (this.#started[index]! > 0) view.startedAt = this.#started[index]!;
    if (this.#ended[index]! > 0) view.endedAt = this.#ended[index]!;
    if (error !== undefined) view.error = error.message;
    return view;
  }

  #entry(index: number): ItemSettled<T> {
    const error = this.#errors.get(index);
    return error === undefined
      ? { index, status: "fulfilled", value: this.#values[index] as T }
      : { index, status: "rejected", reason: error };
  }

  #settle(record: JobRecord, emit = true): void {
    const { index } = record;
    if (!(index >= 0 && index < this.#total)) return;
    const status = this.#status[index]!;
    if (status >= SUCCEEDED) return;
    if (status === RUNNING) this.#counts.running--;
    else this.#counts.pending--;
    // A cancellation names an attempt (a record needs one) also for an item that never
    // started: only one that says when it started, or one seen start here, counts it.
    const unstarted = record.status === "error" && record.kind === "cancelled" &&
      record.startedAt === undefined;
    if (!unstarted && record.attempt > this.#attempts[index]!) {
      this.#attempts[index] = record.attempt;
    }
    if (record.startedAt !== undefined) this.#started[index] = record.startedAt;
    this.#ended[index] = record.endedAt;
    if (record.jobId) this.#setJobId(index, record.jobId);
    const d = this.#deferreds.get(index);
    if (d !== undefined) this.#deferreds.delete(index);
    if (record.status === "ok") {
      this.#status[index] = SUCCEEDED;
      this.#counts.succeeded++;
      this.#values[index] = record.value;
      d?.resolve(record.value as T);
    } else {
      const error = ItemError.fromRecord(record, { attempts: this.attempts });
      this.#status[index] = FAILED;
      this.#counts.failed++;
      if (record.kind === "cancelled") this.#counts.cancelled++;
      this.#errors.set(index, error);
      d?.reject(error);
    }
    this.#order[this.#settledCount++] = index;
    if (this.finished) this.#finish();
    if (emit) this.#emit(index);
  }

  #finish(): void {
    // The last item's end, from its record: right also for a run re-opened
    // long after it ended.
    let last = 0;
    for (let i = 0; i < this.#total; i++) last = Math.max(last, this.#ended[i]!);
    this.#endedAt = last > 0 ? last : Date.now();
    Promise.allSettled(this.#work).then(() => this.#done.resolve());
  }

  /** Tells the listeners the counts changed, and which item did when one did. */
  #emit(index?: number): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
    for (const listener of this.#listeners) listener();
    if (index !== undefined) { for (const listener of this.#itemListeners) listener(index); }
  }
}

/**
 * The error of a retry of a run whose only failed items are items whose
 * inputs it never stored: it names them, and says to map those inputs again.
 */
function nothingStored(run: MapRun<unknown>, items: readonly number[]): CloudknotInputError {
  const one = items.length === 1;
  return new CloudknotInputError(
    `Run ${run.runId} of knot ${run.knot} has nothing a retry can run: ${
      itemsInWords(items).replace(/^I/, "i")
    } failed because ${one ? "its inputs were" : "their inputs were"} never stored in the run ` +
      `(writing them failed, on a full disk for example), and no retry runs ${
        one ? "it" : "them"
      }: map ${one ? "that input" : "those inputs"} again with knot.map()`,
  );
}
