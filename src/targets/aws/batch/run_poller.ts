/**
 * The poll loop that turns a run's Batch jobs and its records in S3 into
 * settled items: one loop per run, whatever its number of jobs.
 *
 * Each round:
 *
 * 1. describes the run's unfinished jobs, at most one DescribeJobs per 100
 *    jobs; an array parent reports its children through `statusSummary`;
 * 2. for an array parent whose summary shows children running, lists them
 *    (one ListJobs page) to mark those items running; when it shows failed
 *    children it has not seen, it lists them and describes only those;
 * 3. lists the records written since the last round (`record_feed.ts`:
 *    record keys sort by when they were written), from the start of any job
 *    that just ended with items still unsettled, and fetches those of
 *    unsettled items, while the listing goes on: a segment (the records of
 *    many items of a child, `job/record_segment.ts`) with one GET, once;
 * 4. settles an item on its result record, or when Batch says its job (or
 *    array child) failed: with the last attempt's error record plus Batch's
 *    exit code, status reason and log stream, or, when the attempt left no
 *    record, with a record made from what Batch says;
 * 5. once a job is finished, settles every item it left without a record,
 *    so a FAILED parent never leaves the run waiting.
 *
 * The interval adapts: the minimum while things change, growing to the
 * maximum while nothing does.
 *
 * @module
 */
import type { Batch, JobDetail } from "../../../aws/services/batch.ts";
import type { Logs } from "../../../aws/services/logs.ts";
import { errorToRecord } from "../../../job/error_record.ts";
import type { RecordKey } from "../../../job/payload.ts";
import { type ErrorRecord, failsEveryAttempt, type JobRecord } from "../../../job/record.ts";
import { decodeRecords } from "../../../job/record_segment.ts";
import type { RunControl } from "../../../run/map_run.ts";
import type { S3Store } from "../../../store/s3.ts";
import { batchFailureRecord, withBatchDetails, withLogOutOfMemory } from "./failure.ts";
import { logGroupOf, readLogTail } from "./log_stream.ts";
import { RecordFeed } from "./record_feed.ts";
import { DESCRIBE_JOBS_LIMIT, describeJobs, isTerminalStatus, stoppedByCloudknot } from "./jobs.ts";
import { forEachPooled } from "../../../util/pooled.ts";
import { sleep } from "../../../util/sleep.ts";
import { stuckReason } from "./stuck.ts";
import { defined } from "../../../util/defined.ts";
import { childId, childItems, childOf, type SlicedJob } from "./slices.ts";
import { lastingRefusal, MAX_OUTAGE_MS, OutageLog, type OutageNotice, outageOf } from "./outage.ts";

/**
 * One Batch job of a run and the items it runs: `slice` items per child
 * (`slices.ts`), so item `offset + i` is child `⌊i ÷ slice⌋`.
 */
export interface RunJob extends SlicedJob {
  /** The job's id. */
  jobId: string;
  /** The job's name. */
  jobName: string;
}

/** What one poll round did, for diagnostics and tests. */
export interface PollRound {
  /** The round's number, from 1. */
  round: number;
  /** DescribeJobs calls for the run's own jobs (at most one per 100 unfinished jobs). */
  describeCalls: number;
  /** The run's unfinished jobs described. */
  jobsDescribed: number;
  /** DescribeJobs calls for failed array children (only children not seen before). */
  childDescribeCalls: number;
  /** Record and segment keys listed (ListObjectsV2 returns up to 1,000 per call). */
  recordsListed: number;
  /** Records fetched (a segment holds many). */
  recordsFetched: number;
  /** Items still unsettled after the round. */
  unsettled: number;
  /** The wait before the next round, in milliseconds. */
  nextIntervalMs: number;
}

/** Options for a {@linkcode RunPoller}. */
export interface RunPollerOptions {
  /** The Batch client. */
  batch: Batch;
  /**
   * The CloudWatch Logs client: the last lines of an attempt that crashed
   * without a record are read (one GetLogEvents) for V8's out-of-memory
   * line. Without it, such an attempt is a crash.
   */
  logs?: Logs;
  /**
   * How long after an attempt stopped the last lines of its log may still be
   * on their way to CloudWatch Logs, in milliseconds: the `awslogs` driver
   * sends lines in batches every 5 seconds. When the log tail of an attempt
   * that ended as V8 ends a process at its heap limit (killed by its own
   * signal: exit code 128 or more, but not 137 or 143), read within this
   * time, has no out-of-memory line, it is read once
   * more when the time is up; the attempt's items settle then, and the poll
   * goes on meanwhile. @default {5000}
   */
  logLagMs?: number;
  /** The run's store (rooted at `runs/<runId>`). */
  run: S3Store;
  /** The jobs to watch. */
  jobs: readonly RunJob[];
  /** The attempts each item gets (the job definition's `retryStrategy.attempts`). */
  attempts: number;
  /** The run handle's control. */
  control: RunControl;
  /** The run index of the control's item 0 (to watch part of a run). @default {0} */
  base?: number;
  /** How many items the control has. */
  total: number;
  /** The shortest wait between rounds, in milliseconds. @default {1000} */
  minIntervalMs?: number;
  /** The longest wait between rounds, in milliseconds. @default {20000} */
  maxIntervalMs?: number;
  /**
   * Rounds that may fail in a row before every unsettled item ends with an
   * error (when the failure is an outage, see `maxOutageMs`). @default {30}
   */
  maxFailedRounds?: number;
  /**
   * How long a wait rides out an outage (`outage.ts`): once a round of it
   * has succeeded, rounds that fail because AWS cannot be reached (no
   * network, a laptop that slept, throttling or server errors for a stretch)
   * or because the credentials expired end the items only once they have
   * failed for this long and at least `maxFailedRounds` times in a row; the
   * run's jobs go on meanwhile, and their results are read when AWS answers
   * again. Credentials AWS refuses that this program cannot renew (keys from
   * the environment, credentials given in code) end the items at the first
   * round they fail, whatever this says. In milliseconds. @default {86400000}
   */
  maxOutageMs?: number;
  /**
   * Told once when rounds start to fail for an outage (`kind` says which),
   * and once when AWS answers again (`back`).
   */
  onOutage?: (notice: OutageNotice) => void;
  /**
   * How the error of items a wait gave up on says to read the run again.
   * @default {"collect the run again later"}
   */
  readAgain?: string;
  /** Record objects (single records or segments) fetched at once. @default {32} */
  fetchConcurrency?: number;
  /**
   * How far before the newest record seen each round's listing starts, in
   * milliseconds (see `RecordFeed`). @default {2000}
   */
  recordLagMs?: number;
  /** Called after each round. */
  onRound?: (round: PollRound) => void;
  /**
   * Called once per reason when Batch says a job (or array child) of the run
   * is stuck in RUNNABLE, such as for lack of capacity. Without it, stuck
   * jobs are not looked for.
   */
  onStuck?: (notice: StuckNotice) => void;
  /**
   * Whose jobs the run's are, for the advice of a stuck job: a run's (the
   * knot's options) or a retry's (the retry's own). @default {"knot"}
   */
  caller?: "knot" | "retry";
  /**
   * How often an array whose children all wait in RUNNABLE is checked for a
   * stuck reason (one ListJobs page), in milliseconds. @default {60000}
   */
  stuckCheckIntervalMs?: number;
  /**
   * Called once when every unfinished job of the run has waited in RUNNABLE
   * for `waitingWarnMs` with no status reason and nothing running: what an
   * account's vCPU quota, or a compute environment at its maxvCpus, looks
   * like. Without it, waits are not watched.
   */
  onWaiting?: (notice: WaitingNotice) => void;
  /** How long such a wait lasts before `onWaiting` is told, in ms. @default {300000} */
  waitingWarnMs?: number;
  /**
   * From when, and why, cloudknot stopped every job of the run, if it did
   * (a knot's clobber: see `BatchFailureTarget.stoppedSince`), asked at
   * most once a round, and only for an attempt that ended without a record
   * and without cloudknot's stop reason; the poll's signal stops the look.
   */
  stoppedSince?: (signal: AbortSignal) => Promise<{ at: number; why: string } | undefined>;
  /**
   * Where the run's jobs that `jobs` does not name are looked for: a
   * manifest lacks jobs while the map that submits the run is still
   * submitting them, or when it stopped part-way, possibly with a SubmitJob
   * already on its way to Batch. Each round while an unsettled item has no
   * watched job, {@linkcode LateJobs.find} is asked, and the jobs it gives
   * are watched from then on. Without it, such items wait for a record.
   */
  lateJobs?: LateJobs;
}

/** How a poller finds a run's jobs its manifest does not name (see `RunPollerOptions.lateJobs`). */
export interface LateJobs {
  /**
   * The run's jobs as AWS Batch lists them now, and whether the run's
   * submission is over: no job missing from them can still come.
   */
  find(signal: AbortSignal): Promise<{ jobs: RunJob[]; over: boolean }>;
  /** The error an item gets when the submission is over and no job runs it. */
  missing(index: number): ErrorRecord;
}

/** The run's jobs all wait in RUNNABLE, and AWS Batch says nothing about why. */
export interface WaitingNotice {
  /** The run's unfinished jobs (an array job counts once). */
  jobs: number;
  /** How long they have waited so far, in ms (as this poller saw it). */
  waitedMs: number;
}

/** A job of the run that AWS Batch cannot place, and why. */
export interface StuckNotice {
  /** The job (or array child) at the head of the queue. */
  jobId: string;
  /** Batch's `statusReason`, as it says it. */
  statusReason: string;
  /** The reason's code, such as `CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY`. */
  code: string;
  /** What to do about it. */
  advice: string;
}

/** Crashed attempts' logs read at once. */
const LOG_READS = 8;

interface Watch {
  job: RunJob;
  key?: string;
  detail?: JobDetail;
  gone: boolean;
  failedSeen: Set<number>;
  done: boolean;
  stuckCheckedAt?: number;
  /** The first look at its waiting children found no reason: it looks again next round. */
  stuckLookAgain?: boolean;
}

/**
 * Polls a run's jobs and records until every item is settled.
 *
 * @example Usage
 * ```ts ignore
 * import { MapRun } from "@cloudknot/cloudknot";
 * import { RunPoller } from "./run_poller.ts";
 *
 * const { run, control } = MapRun.create({ knot: "k", runId, target: "aws", total: 25, attempts: 3 });
 * const poller = new RunPoller({ batch: session.batch, run: store, jobs, attempts: 3, control, total: 25 });
 * control.track(poller.run(new AbortController().signal));
 * console.log(await run.results());
 * ```
 */
export class RunPoller {
  #o: RunPollerOptions;
  /** This round's answer of `stoppedSince`, once asked. */
  #stoppedSince?: Promise<{ at: number; why: string } | undefined>;
  #base: number;
  #watches: Watch[];
  #latest = new Map<number, JobRecord>();
  /** The attempts whose error record was read and that a later attempt follows (`<index>-<attempt>`). */
  #retried = new Set<string>();
  #marked = new Map<number, number>();
  #round = 0;
  #childDescribes = 0;
  #stuckSeen = new Set<string>();
  #feed: RecordFeed;
  /** The segments read so far. */
  #segments = new Set<string>();
  #lastListed = 0;
  #refetchFrom?: number;
  #reconciled = 0;
  #waitingSince?: number;
  #waitingTold = false;
  /**
   * The last lines of crashed attempts' log streams, by stream, and, while
   * they may still be arriving, a read of them once they have.
   */
  #tails = new Map<string, Promise<{ tail: string[]; later?: Promise<string[]> }>>();
  /** Items that settle once their log is read again. */
  #lateItems = new Set<number>();
  /** Ends the rest between rounds, once a late read settled an item. */
  #wake?: () => void;
  /** Stops late reads when polling ends. */
  #stopLate = new AbortController();
  /** Whether no job the run's manifest lacks can come any more (see `RunPollerOptions.lateJobs`). */
  #submissionOver = false;
  /** In {@linkcode RunPoller.last}: no job is looked for, no log read again later. */
  #last = false;
  /** The attempt each item ended with a record this poller made (it left none), by item (as the control counts). */
  #noRecord = new Map<number, number>();

  /**
   * Makes a poller; nothing is sent until {@linkcode RunPoller.run}.
   *
   * @param options The client, the run, its jobs and the control to drive.
   */
  constructor(options: RunPollerOptions) {
    this.#o = options;
    this.#base = options.base ?? 0;
    this.#feed = new RecordFeed(options.run, {
      ...(options.recordLagMs !== undefined ? { lagMs: options.recordLagMs } : {}),
    });
    this.#watches = [...options.jobs]
      .sort((a, b) => a.offset - b.offset)
      .map((job) => ({ job, gone: false, failedSeen: new Set<number>(), done: false }));
  }

  /**
   * Polls until every item is settled or the signal aborts. Never rejects:
   * after `maxFailedRounds` failed rounds in a row, or at the first round
   * whose credentials AWS refused for good (`outage.ts`' `lastingRefusal`),
   * every unsettled item ends with an `infrastructure` error that says why.
   *
   * @param signal Stops polling (items stay unsettled).
   */
  async run(signal: AbortSignal): Promise<void> {
    try {
      await this.#loop(signal);
    } finally {
      this.#stopLate.abort();
    }
  }

  /**
   * One last round, once polling has stopped and the run's jobs were
   * stopped (a run's `cancel()`) and have ended, or the wait for them is
   * over: it reads every record they wrote, those a job wrote as it was
   * stopped (on SIGTERM, after TerminateJob answered) included, and settles
   * the items as any later reader of the run does: an item whose success
   * was recorded succeeds, a job Batch says was stopped by cloudknot ends
   * its items without a record as cancelled, with Batch's reason. Items
   * whose end is not known yet (their job still stops) stay unsettled. No
   * job the run's manifest lacks is looked for, and a crashed attempt's log
   * is read once, not again later. Never rejects: what it cannot read stays
   * unsettled.
   *
   * @example Usage
   * ```ts ignore
   * stop.abort();
   * await polling;
   * await stopJobs(jobs);
   * await waitForJobsToEnd(batch, ids, { timeoutMs: 60_000 });
   * await poller.last();
   * ```
   *
   * @param signal Stops the round (what it settled so far stays settled).
   */
  async last(signal: AbortSignal = new AbortController().signal): Promise<void> {
    this.#last = true;
    // Log reads cut short when polling stopped are made again, once.
    this.#stopLate = new AbortController();
    this.#lateItems.clear();
    this.#tails.clear();
    try {
      if (this.#unsettled() > 0) await this.#poll(signal);
    } catch {
      // Unread: those items stay unsettled, for the caller to end.
    } finally {
      this.#stopLate.abort();
    }
  }

  async #loop(signal: AbortSignal): Promise<void> {
    const min = this.#o.minIntervalMs ?? 1000;
    const max = Math.max(min, this.#o.maxIntervalMs ?? 20_000);
    const maxFailed = this.#o.maxFailedRounds ?? 30;
    const maxOutage = this.#o.maxOutageMs ?? MAX_OUTAGE_MS;
    let interval = min;
    let failed = 0;
    /** Whether a round has succeeded: then AWS that cannot be reached is an outage. */
    let answered = false;
    /** The outage under way: when its first failed round began, and what was told. */
    const outage = new OutageLog(this.#o.onOutage);
    while (!signal.aborted && this.#unsettled() > 0) {
      const began = Date.now();
      try {
        const changed = await this.#poll(signal);
        failed = 0;
        answered = true;
        outage.answered();
        interval = changed ? min : Math.min(max, Math.round(interval * 1.5));
      } catch (e) {
        if (signal.aborted) return;
        // Credentials AWS refused that this program cannot renew: no round will do better.
        if (lastingRefusal(e) !== undefined) {
          this.#refusedForGood(e);
          return;
        }
        failed++;
        const kind = answered ? outageOf(e) : undefined;
        if (kind !== undefined) outage.failed(kind, e, began);
        else outage.forget();
        // An outage ends the items only once it has lasted, whatever the rounds' count.
        const over = (outage.lasted() ?? Infinity) >= maxOutage;
        if (failed >= maxFailed && over) {
          this.#giveUp(e, failed);
          return;
        }
        interval = Math.min(max, interval * 2);
      }
      this.#o.onRound?.({
        round: this.#round,
        describeCalls: this.#lastDescribe.calls,
        jobsDescribed: this.#lastDescribe.jobs,
        childDescribeCalls: this.#childDescribes,
        recordsListed: this.#lastListed,
        recordsFetched: this.#lastFetched,
        unsettled: this.#unsettled(),
        nextIntervalMs: interval,
      });
      if (this.#unsettled() === 0) return;
      await this.#rest(interval, signal);
    }
  }

  /** Waits between rounds, until a late log read settles an item. */
  async #rest(ms: number, signal: AbortSignal): Promise<void> {
    const woken = new AbortController();
    this.#wake = () => woken.abort();
    await sleep(ms, AbortSignal.any([signal, woken.signal]));
    this.#wake = undefined;
  }

  #lastDescribe = { calls: 0, jobs: 0 };
  #lastFetched = 0;

  #settled(index: number): boolean {
    return this.#o.control.isSettled(index - this.#base);
  }

  /** Whether an item is unsettled and its final record is not known. */
  #awaited(index: number): boolean {
    if (this.#settled(index)) return false;
    const record = this.#latest.get(index);
    return record === undefined ||
      (record.status !== "ok" && !failsEveryAttempt(record.kind, record.error) &&
        record.attempt < this.#o.attempts);
  }

  #unsettled(): number {
    let n = 0;
    for (let i = 0; i < this.#o.total; i++) if (!this.#o.control.isSettled(i)) n++;
    return n;
  }

  #settle(record: JobRecord): void {
    this.#o.control.settle({ ...record, index: record.index - this.#base });
  }

  /** Settles an item with the error this poller made for an attempt that left no record. */
  #settleWithoutRecord(record: ErrorRecord): void {
    if (this.#settled(record.index)) return;
    this.#noRecord.set(record.index - this.#base, record.attempt);
    this.#settle(record);
  }

  /**
   * Whether an attempt of an item ended without a record of the item's own:
   * its job (or array child) failed, stopped, crashed or was lost before it
   * wrote one. So did the attempt this poller ended the item with when it
   * made the item's record from what Batch says; and so did an earlier
   * attempt, one a later attempt of the item followed, of which it read no
   * record (an attempt that wrote the item's error record and was retried
   * left one). Then what the job printed of its own, untagged, may say why
   * (see `ItemLogs.read`'s `jobLines`). Known from what the poll read: no
   * request is made.
   *
   * @example Usage
   * ```ts ignore
   * const jobLines = poller.endedWithoutRecord(3, 1);
   * const lines = itemLogs.read(job, 3, 1, { jobLines });
   * ```
   *
   * @param index The item, as the control counts them.
   * @param attempt The attempt, from 1.
   * @returns Whether the attempt ended without the item's record, as far as the poll knows.
   */
  endedWithoutRecord(index: number, attempt: number): boolean {
    const last = this.#noRecord.get(index);
    if (attempt === last) return true;
    const at = index + this.#base;
    // An attempt is over once a later one of the item ended or wrote a record.
    const later = Math.max(last ?? 0, this.#latest.get(at)?.attempt ?? 0);
    return attempt < later && !this.#retried.has(`${at}-${attempt}`);
  }

  #started(index: number, attempt: number, jobId: string): void {
    if (this.#settled(index) || (this.#marked.get(index) ?? 0) >= attempt) return;
    this.#marked.set(index, attempt);
    this.#o.control.started(index - this.#base, attempt, jobId);
  }

  /** Tells `onStuck` about a stuck reason it has not been told of. */
  #stuck(jobId: string, statusReason: string | undefined): void {
    const stuck = stuckReason(statusReason, defined({ caller: this.#o.caller }));
    if (stuck === undefined || stuck.cancelled || this.#stuckSeen.has(stuck.code)) return;
    this.#stuckSeen.add(stuck.code);
    this.#o.onStuck?.({
      jobId,
      statusReason: statusReason!,
      code: stuck.code,
      advice: stuck.advice,
    });
  }

  /**
   * Tells `onWaiting`, once, when every unfinished job has waited in
   * RUNNABLE with no status reason, and nothing of the run has run, for
   * `waitingWarnMs`. New accounts start with low EC2 vCPU quotas, and Batch
   * then leaves jobs RUNNABLE without a word (Netflix/metaflow#110).
   */
  #watchWaiting(active: Watch[]): void {
    if (this.#o.onWaiting === undefined || this.#waitingTold) return;
    const waiting = active.length > 0 && this.#stuckSeen.size === 0 &&
      active.every(({ job, detail: d }) => {
        if (d === undefined) return false;
        if (!job.array) return d.status === "RUNNABLE" && !d.statusReason;
        const summary = d.arrayProperties?.statusSummary ?? {};
        return (summary.RUNNABLE ?? 0) > 0 &&
          (summary.STARTING ?? 0) + (summary.RUNNING ?? 0) + (summary.SUCCEEDED ?? 0) +
                (summary.FAILED ?? 0) === 0;
      }) && this.#marked.size === 0 && this.#unsettled() === this.#o.total;
    if (!waiting) {
      this.#waitingSince = undefined;
      return;
    }
    const now = Date.now();
    this.#waitingSince ??= now;
    const waitedMs = now - this.#waitingSince;
    if (waitedMs < (this.#o.waitingWarnMs ?? 300_000)) return;
    this.#waitingTold = true;
    this.#o.onWaiting({ jobs: active.length, waitedMs });
  }

  /**
   * While every unfinished child of an array waits in RUNNABLE, reads the
   * status reason of the first few, at most once per check interval.
   */
  async #checkStuckChildren(
    w: Watch,
    summary: Record<string, number>,
    signal: AbortSignal,
  ): Promise<void> {
    if (this.#o.onStuck === undefined || (summary.RUNNABLE ?? 0) === 0) return;
    if ((summary.STARTING ?? 0) + (summary.RUNNING ?? 0) > 0) return;
    const now = Date.now();
    const every = this.#o.stuckCheckIntervalMs ?? 60_000;
    const again = w.stuckLookAgain === true;
    if (!again && w.stuckCheckedAt !== undefined && now - w.stuckCheckedAt < every) return;
    const first = w.stuckCheckedAt === undefined;
    w.stuckCheckedAt = now;
    w.stuckLookAgain = false;
    const page = await this.#o.batch.listJobs(
      { arrayJobId: w.job.jobId, jobStatus: "RUNNABLE", maxResults: 10 },
      { signal },
    );
    for (const child of page.jobSummaryList) this.#stuck(child.jobId, child.statusReason);
    // A job is RUNNABLE a moment before AWS Batch gives the reason it cannot be placed: a first
    // look that finds none looks once more at the next round, not only a check interval later.
    w.stuckLookAgain = first && page.jobSummaryList.every((child) => !child.statusReason);
  }

  /** The items of a job that this poller watches. */
  #range(job: RunJob): [number, number] {
    return this.#clip([job.offset, job.offset + job.size]);
  }

  /** The items of a range that this poller watches. */
  #clip([from, to]: [number, number]): [number, number] {
    return [Math.max(from, this.#base), Math.min(to, this.#base + this.#o.total)];
  }

  /** The unsettled items that no job this poller watches runs. */
  #uncovered(): number[] {
    const covered = new Uint8Array(this.#o.total);
    for (const { job } of this.#watches) {
      const [from, to] = this.#range(job);
      if (from < to) covered.fill(1, from - this.#base, to - this.#base);
    }
    const out: number[] = [];
    for (let i = 0; i < this.#o.total; i++) {
      if (covered[i] === 0 && !this.#o.control.isSettled(i)) out.push(i + this.#base);
    }
    return out;
  }

  /**
   * Watches the jobs of the run that came to light since the manifest was
   * read, and notes whether its submission is over.
   */
  async #findLateJobs(signal: AbortSignal): Promise<boolean> {
    const late = this.#o.lateJobs;
    if (late === undefined || this.#last || this.#uncovered().length === 0) return false;
    const { jobs, over } = await late.find(signal);
    this.#submissionOver = over;
    const known = new Set(this.#watches.map((w) => w.job.jobId));
    let changed = false;
    for (const job of jobs) {
      if (known.has(job.jobId)) continue;
      this.#watches.push({ job, gone: false, failedSeen: new Set<number>(), done: false });
      changed = true;
    }
    return changed;
  }

  /**
   * Once the run's submission is over, settles the items no job runs: on
   * their records, when a listing of every record finds any (a job Batch no
   * longer lists may have written them), else as never submitted.
   */
  async #settleUnsubmitted(signal: AbortSignal): Promise<boolean> {
    const late = this.#o.lateJobs;
    if (late === undefined || !this.#submissionOver || this.#uncovered().length === 0) {
      return false;
    }
    await this.#reconcile(signal);
    for (const index of this.#uncovered()) {
      this.#settle(this.#latest.get(index) ?? late.missing(index));
    }
    return true;
  }

  async #poll(signal: AbortSignal): Promise<boolean> {
    this.#round++;
    this.#stoppedSince = undefined;
    this.#childDescribes = 0;
    const { batch } = this.#o;
    const found = await this.#findLateJobs(signal);
    const active = this.#watches.filter((w) => !w.done);
    const details = await describeJobs(batch, active.map((w) => w.job.jobId), { signal });
    this.#lastDescribe = {
      calls: Math.ceil(active.length / DESCRIBE_JOBS_LIMIT),
      jobs: active.length,
    };
    let changed = found;
    const failures: { index: number; detail: JobDetail }[] = [];
    /** Arrays with failed children not seen yet. */
    const failing: Watch[] = [];
    for (const w of active) {
      const d = details.get(w.job.jobId);
      if (d === undefined) {
        if (!w.gone) changed = true;
        w.gone = true;
        continue;
      }
      const key = `${d.status} ${d.attempts?.length ?? 0} ${
        JSON.stringify(d.arrayProperties?.statusSummary ?? {})
      }`;
      const moved = key !== w.key;
      if (moved) changed = true;
      w.key = key;
      w.detail = d;
      if (!w.job.array) {
        const attempt = (d.attempts?.length ?? 0) + 1;
        const [from, to] = this.#range(w.job);
        for (let index = from; index < to; index++) {
          if (d.status === "STARTING" || d.status === "RUNNING") {
            this.#started(index, attempt, d.jobId);
          }
          if (d.status === "FAILED") failures.push({ index, detail: d });
        }
        if (d.status === "RUNNABLE") this.#stuck(d.jobId, d.statusReason);
        continue;
      }
      const summary = d.arrayProperties?.statusSummary ?? {};
      await this.#checkStuckChildren(w, summary, signal);
      if (moved && (summary.RUNNING ?? 0) > 0) {
        const page = await batch.listJobs(
          { arrayJobId: w.job.jobId, jobStatus: "RUNNING", maxResults: 1000 },
          { signal },
        );
        for (const child of page.jobSummaryList) {
          const k = childIndex(child.jobId, child.arrayProperties?.index);
          const [from, to] = this.#clip(childItems(w.job, k));
          for (let index = from; index < to; index++) {
            this.#started(index, (this.#latest.get(index)?.attempt ?? 0) + 1, child.jobId);
          }
        }
      }
      if ((summary.FAILED ?? 0) > w.failedSeen.size) failing.push(w);
    }
    this.#watchWaiting(active);
    this.#lastListed = 0;
    const listing = await this.#fetchRecords(signal, this.#refetchFrom);
    let fetched = listing.records.length;
    let failure = listing.failure;
    this.#take(listing.records);
    // After the records: those of the children that failed name most of them.
    for (const w of failing) failures.push(...await this.#newFailedChildren(w, signal));
    // A job that ended with items still unsettled may have written records
    // whose stamps are older than the feed's lag: list again from its start.
    let since: number | undefined;
    const early = (at: number | undefined) => {
      if (at !== undefined && (since === undefined || at < since)) since = at;
    };
    for (const { index, detail } of failures) {
      const ran = detail.attempts?.length ?? 0;
      if (this.#settled(index) || ran === 0) continue;
      if ((this.#latest.get(index)?.attempt ?? 0) < ran) early(earliestStart(detail));
    }
    for (const w of active) {
      if (!w.gone && !isTerminalStatus(w.detail?.status)) continue;
      const [from, to] = this.#range(w.job);
      let open = false;
      for (let i = from; i < to && !open; i++) open = this.#awaited(i);
      if (open) early(w.gone || w.detail === undefined ? 0 : earliestStart(w.detail));
    }
    if (since !== undefined && failure === undefined) {
      const again = await this.#fetchRecords(signal, since);
      fetched += again.records.length;
      failure = again.failure;
      this.#take(again.records);
    }
    this.#lastFetched = fetched;
    if (fetched > 0) changed = true;
    // What arrived is settled; the round fails and the rest is fetched again.
    if (failure !== undefined) throw failure;
    const unsettled = await forEachPooled(
      failures,
      LOG_READS,
      (failure) => this.#settleFailure(failure.index, failure.detail, signal),
    );
    if (unsettled.length > 0) throw unsettled[0];
    if (failures.length > 0) changed = true;
    if (await this.#settleUnsubmitted(signal)) changed = true;
    for (const w of active) {
      const [from, to] = this.#range(w.job);
      const terminal = w.gone || isTerminalStatus(w.detail?.status);
      const left: number[] = [];
      for (let i = from; i < to; i++) if (!this.#settled(i)) left.push(i);
      if (left.length === 0) {
        w.done = true;
        continue;
      }
      if (!terminal) continue;
      changed = true;
      await this.#settleLeftovers(w, left, signal);
      w.done = true;
    }
    return changed;
  }

  /** Settles the items whose result arrived and notes the attempts that will be retried. */
  #take(records: JobRecord[]): void {
    for (const record of records) {
      if (this.#settled(record.index)) continue;
      // A refused permission (or a missing program) is final at once: the job does not run it again.
      if (record.status === "ok" || failsEveryAttempt(record.kind, record.error)) {
        this.#settle(record);
        continue;
      }
      // A last attempt's error settles once Batch reports the job (or child)
      // FAILED, moments later, with its exit code, reason and log stream.
      if (record.attempt >= this.#o.attempts) continue;
      const key = `${record.index}-${record.attempt}`;
      if (!this.#retried.has(key)) {
        this.#retried.add(key);
        this.#o.control.retrying({ ...record, index: record.index - this.#base });
      }
    }
  }

  /**
   * The children of an array job that failed since the last round, with
   * their details. A child whose item failed its last attempt wrote so in its
   * record: those children are described by their ids. Only when Batch
   * counts more failed children than that (one killed, out of memory, timed
   * out, before it wrote a record) are the array's FAILED children listed:
   * ListJobs has no filter for an array's children that failed since a time
   * (its `filters` do not apply to children), so a listing reads every failed
   * child again, a page per 1,000.
   */
  async #newFailedChildren(
    w: Watch,
    signal: AbortSignal,
  ): Promise<{ index: number; detail: JobDetail }[]> {
    const failed = w.detail?.arrayProperties?.statusSummary?.FAILED ?? 0;
    const told = new Set<string>();
    const [from, to] = this.#range(w.job);
    for (let index = from; index < to; index++) {
      // Unsettled with its final record known: an error at its last attempt.
      if (this.#settled(index) || this.#awaited(index)) continue;
      if (!w.failedSeen.has(childOf(w.job, index))) told.add(childId(w.job, index));
    }
    const out = (await this.#describeChildren(w, [...told], signal))
      .filter((f) => f.detail.status === "FAILED");
    if (failed <= w.failedSeen.size) return out;
    const fresh: string[] = [];
    for await (
      const child of this.#o.batch.listJobsAll({
        arrayJobId: w.job.jobId,
        jobStatus: "FAILED",
        maxResults: 1000,
      }, { signal })
    ) {
      const i = childIndex(child.jobId, child.arrayProperties?.index);
      if (!w.failedSeen.has(i)) fresh.push(child.jobId);
    }
    out.push(...await this.#describeChildren(w, fresh, signal));
    return out;
  }

  async #describeChildren(
    w: Watch,
    ids: string[],
    signal: AbortSignal,
  ): Promise<{ index: number; detail: JobDetail }[]> {
    if (ids.length === 0) return [];
    this.#childDescribes += Math.ceil(ids.length / DESCRIBE_JOBS_LIMIT);
    const described = await describeJobs(this.#o.batch, ids, { signal });
    const out: { index: number; detail: JobDetail }[] = [];
    for (const detail of described.values()) {
      const k = childIndex(detail.jobId, detail.arrayProperties?.index);
      if (detail.status === "FAILED") w.failedSeen.add(k);
      // A child's failure is each item's of its slice (those without a result).
      const [from, to] = this.#clip(childItems(w.job, k));
      for (let index = from; index < to; index++) out.push({ index, detail });
    }
    return out;
  }

  /** Settles an item whose job (or array child) failed. */
  async #settleFailure(index: number, detail: JobDetail, signal: AbortSignal): Promise<void> {
    if (this.#settled(index) || detail.status !== "FAILED") return;
    const ran = detail.attempts?.length ?? 0;
    // This round listed from the job's start, so its last record is known.
    const record = this.#latest.get(index);
    if (
      record !== undefined &&
      (record.status === "ok" || failsEveryAttempt(record.kind, record.error) ||
        record.attempt === ran)
    ) {
      this.#settle(withBatchDetails(record, detail));
      return;
    }
    if (this.#lateItems.has(index)) return;
    const caller = defined({ caller: this.#o.caller });
    let made = batchFailureRecord(detail, { index, ...caller });
    // AWS Batch's own end of a job may be a knot's clobber's (its queue deleted): an attempt's,
    // or that of a job that never ran with no reason of cloudknot's.
    const maybeClobbered = made.kind !== "cancelled" ||
      (ran === 0 && made.error.name === "JobCancelledError" &&
        stoppedByCloudknot(detail.statusReason) === undefined);
    if (maybeClobbered && this.#o.stoppedSince !== undefined) {
      const stoppedSince = await (this.#stoppedSince ??= this.#o.stoppedSince(signal));
      if (stoppedSince !== undefined) {
        made = batchFailureRecord(detail, { index, stoppedSince, ...caller });
      }
      if (this.#settled(index)) return;
    }
    const logs = this.#o.logs;
    const stream = made.logStream;
    let tail: string[] = [];
    if (made.kind === "crashed" && stream !== undefined && logs !== undefined) {
      // The items of one child's slice share its log: it is read once.
      let read = this.#tails.get(stream);
      if (read === undefined) {
        read = this.#readTail(logs, stream, detail, made, signal);
        this.#tails.set(stream, read);
      }
      const { tail: first, later } = await read;
      tail = first;
      if (later !== undefined) {
        this.#lateItems.add(index);
        void later.then((last) => {
          if (this.#settled(index) || this.#stopLate.signal.aborted) return;
          this.#settleWithoutRecord(withLogOutOfMemory(made, detail, last));
          this.#wake?.();
        });
        return;
      }
    }
    this.#settleWithoutRecord(withLogOutOfMemory(made, detail, tail));
  }

  /**
   * A crashed attempt's log tail; when it has no out-of-memory line, the
   * attempt may have been V8 stopping at its heap limit and it stopped less
   * than `logLagMs` ago, also a second read (`later`)
   * once that time is up, since CloudWatch Logs may get the last lines after
   * Batch says the attempt stopped. Neither read rejects: the log only
   * sharpens the error, and without it the crash stands.
   */
  async #readTail(
    logs: Logs,
    stream: string,
    detail: JobDetail,
    made: ErrorRecord,
    signal: AbortSignal,
  ): Promise<{ tail: string[]; later?: Promise<string[]> }> {
    const logGroup = logGroupOf(detail);
    const tail = await readLogTail(logs, stream, { logGroup, signal }).catch(() => []);
    const lag = this.#o.logLagMs ?? 5000;
    const wait = Math.min(lag, made.endedAt + lag - Date.now());
    const crash = made.error.name === "JobCrashedError" && mayBeV8Abort(made.exitCode);
    if (wait <= 0 || !crash || this.#last || withLogOutOfMemory(made, detail, tail) !== made) {
      return { tail };
    }
    const stop = AbortSignal.any([signal, this.#stopLate.signal]);
    const later = sleep(wait, stop).then(() =>
      stop.aborted ? tail : readLogTail(logs, stream, { logGroup, signal: stop }).catch(() => tail)
    );
    return { tail, later };
  }

  /** Settles the items a finished job left without a final record. */
  async #settleLeftovers(w: Watch, left: number[], signal: AbortSignal): Promise<void> {
    const d = w.detail;
    if (w.gone || d === undefined) {
      if (left.some((i) => !this.#latest.has(i))) await this.#reconcile(signal);
      for (const index of left) {
        if (this.#settled(index)) continue;
        const record = this.#latest.get(index);
        if (record !== undefined) this.#settle(record);
        else {
          this.#settleWithoutRecord(
            this.#lost(index, w.job, `AWS Batch no longer knows job ${w.job.jobId}`),
          );
        }
      }
      return;
    }
    if (!w.job.array) {
      if (d.status !== "FAILED" && left.some((i) => !this.#latest.has(i))) {
        await this.#reconcile(signal);
      }
      for (const index of left) {
        if (this.#settled(index)) continue;
        const record = this.#latest.get(index);
        if (d.status === "FAILED") await this.#settleFailure(index, d, signal);
        else if (record !== undefined) this.#settle(record);
        else this.#settleWithoutRecord(this.#lost(index, w.job, noRecord(d)));
      }
      return;
    }
    // Children the FAILED listing did not show, or that exited 0 without a record.
    const ids = [...new Set(left.map((index) => childId(w.job, index)))];
    const found = new Map(
      (await this.#describeChildren(w, ids, signal)).map((f) => [f.index, f.detail]),
    );
    if (left.some((i) => found.get(i)?.status !== "FAILED" && !this.#latest.has(i))) {
      await this.#reconcile(signal);
    }
    for (const index of left) {
      if (this.#settled(index)) continue;
      const child = found.get(index);
      const record = this.#latest.get(index);
      if (child?.status === "FAILED") await this.#settleFailure(index, child, signal);
      else if (record !== undefined) this.#settle(record);
      else this.#settleWithoutRecord(this.#lost(index, w.job, noRecord(child ?? d)));
    }
  }

  /**
   * Lists every record of the run, at most once per round: before an item
   * is declared lost, in case its record was stamped by a clock further
   * behind than the lag.
   */
  async #reconcile(signal: AbortSignal): Promise<void> {
    if (this.#reconciled === this.#round) return;
    this.#reconciled = this.#round;
    const all = await this.#fetchRecords(signal, 0);
    this.#lastFetched += all.records.length;
    this.#take(all.records);
    if (all.failure !== undefined) throw all.failure;
  }

  #lost(index: number, job: RunJob, message: string): ErrorRecord {
    const record = this.#latest.get(index);
    return {
      version: 1,
      status: "error",
      kind: "infrastructure",
      index,
      attempt: Math.max(record?.attempt ?? 1, 1),
      jobId: childId(job, index),
      endedAt: Date.now(),
      error: { name: "MissingRecordError", message },
    };
  }

  /**
   * Lists the records written since the last round (and since `since`) and
   * fetches those of unsettled items, the latest attempt of each, while the
   * listing goes on.
   */
  async #fetchRecords(
    signal: AbortSignal,
    since: number | undefined,
  ): Promise<{ records: JobRecord[]; failure?: unknown }> {
    const lo = this.#base;
    const hi = this.#base + this.#o.total;
    const taken = new Map<number, number>();
    const segments = new Set<string>();
    const failed: number[] = [];
    let listed = 0;
    const wanted = async function* (this: RunPoller): AsyncGenerator<RecordKey> {
      for await (
        const key of this.#feed.next(since === undefined ? { signal } : { since, signal })
      ) {
        listed++;
        if (key.segment !== undefined) {
          // A segment is read once, while it holds a record this poller awaits.
          if (this.#segments.has(key.key) || segments.has(key.key)) continue;
          if (!this.#awaitsAny(key, lo, hi)) continue;
          segments.add(key.key);
          yield key;
          continue;
        }
        const { index, attempt } = key;
        if (index < lo || index >= hi || this.#settled(index)) continue;
        const known = Math.max(this.#latest.get(index)?.attempt ?? 0, taken.get(index) ?? 0);
        if (attempt <= known) continue;
        taken.set(index, attempt);
        yield key;
      }
    }.call(this);
    const out: JobRecord[] = [];
    const errors = await forEachPooled(
      wanted,
      this.#o.fetchConcurrency ?? 32,
      async (key) => {
        let records;
        try {
          // With the poll's signal: a read under way when polling stops ends then, with its
          // retries' waits (`readRecords` of `record_segment.ts`, with a signal).
          const bytes = await this.#o.run.get(key.key, { signal });
          records = bytes === undefined ? [] : decodeRecords(key, bytes);
        } catch (e) {
          failed.push(key.stamp ?? 0);
          throw e;
        }
        if (key.segment !== undefined) this.#segments.add(key.key);
        for (const record of records) {
          if (record.index < lo || record.index >= hi) continue;
          if ((this.#latest.get(record.index)?.attempt ?? 0) < record.attempt) {
            this.#latest.set(record.index, record);
          }
          out.push(record);
        }
      },
      { signal },
    );
    this.#lastListed += listed;
    // A record that could not be fetched is listed again next round.
    this.#refetchFrom = failed.length > 0 ? Math.min(...failed) : undefined;
    out.sort((a, b) => a.index - b.index || a.attempt - b.attempt);
    return errors.length === 0 ? { records: out } : { records: out, failure: errors[0] };
  }

  /**
   * Whether a segment of attempt `key.attempt` may hold a record this
   * poller awaits: of an unsettled item it watches whose latest known
   * attempt is earlier.
   */
  #awaitsAny(key: RecordKey, lo: number, hi: number): boolean {
    const to = Math.min((key.segment?.last ?? key.index) + 1, hi);
    for (let i = Math.max(key.index, lo); i < to; i++) {
      if (!this.#settled(i) && (this.#latest.get(i)?.attempt ?? 0) < key.attempt) return true;
    }
    return false;
  }

  /** What to do to read the run once a wait ended before it: `readAgain`, or a generic word. */
  get #readAgain(): string {
    return this.#o.readAgain ?? "collect the run again later";
  }

  #giveUp(error: unknown, rounds: number): void {
    const cause = errorToRecord(error);
    this.#settleAllWith(
      cause,
      `Polling AWS Batch and S3 failed ${rounds} times in a row (${cause.message}); ` +
        `the jobs may still be running, and what they recorded is kept: ` +
        this.#readAgain,
    );
  }

  /**
   * Ends every unsettled item at once: AWS refused credentials this program
   * cannot renew (`outage.ts`' `lastingRefusal`), so waiting could only last
   * until `maxOutageMs`. The jobs go on, and what they record is read by
   * the next reader with new credentials.
   */
  #refusedForGood(error: unknown): void {
    const cause = errorToRecord(error);
    this.#settleAllWith(
      cause,
      `Stopped waiting at once: AWS refused the credentials, and this program cannot get ` +
        `others while it runs (${cause.message}). The jobs go on in AWS Batch and what they ` +
        `record is kept: with new credentials, ` +
        this.#readAgain,
    );
  }

  #settleAllWith(cause: ReturnType<typeof errorToRecord>, message: string): void {
    this.#o.control.settleAll((i) => ({
      version: 1,
      status: "error",
      kind: "infrastructure",
      index: i,
      attempt: Math.max(this.#latest.get(i + this.#base)?.attempt ?? 1, 1),
      jobId: "",
      endedAt: Date.now(),
      error: { name: "PollError", message, cause },
    }));
  }
}

/**
 * The earliest time a job could have written a record: its first attempt's
 * start; for an array parent, its creation, before any child started.
 * `undefined` when it never started.
 */
function earliestStart(job: JobDetail): number | undefined {
  if (job.arrayProperties?.size !== undefined) return job.createdAt ?? 0;
  let first: number | undefined;
  for (const attempt of job.attempts ?? []) {
    if (attempt.startedAt !== undefined && (first === undefined || attempt.startedAt < first)) {
      first = attempt.startedAt;
    }
  }
  return first ?? job.startedAt;
}

/**
 * Whether an exit code can be V8 stopping itself at its heap limit: a
 * process it ends dies of its own signal (SIGTRAP, 133, or another
 * abort), 128 or more; not of SIGKILL (137) or SIGTERM (143), which come
 * from outside (a termination, a container's memory limit), and not with
 * an exit code of its own.
 */
function mayBeV8Abort(exitCode: number | undefined): boolean {
  return exitCode !== undefined && exitCode >= 128 && exitCode !== 137 && exitCode !== 143;
}

function childIndex(jobId: string, index: number | undefined): number {
  return index ?? Number(jobId.slice(jobId.lastIndexOf(":") + 1));
}

function noRecord(job: JobDetail): string {
  return `AWS Batch job ${job.jobId} ended ${job.status}${
    job.statusReason ? ` (${job.statusReason})` : ""
  } without writing a record: its command must run the cloudknot job entry point`;
}
