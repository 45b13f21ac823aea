/**
 * What AWS Batch says about a failed attempt, turned into the job contract's
 * error records: for attempts that died without writing a record (a crash,
 * out of memory, a timeout, a reclaimed Spot host, a cancellation), and to
 * add Batch's exit code, status reason and log stream to records that exist.
 *
 * @module
 */
import type { AttemptDetail, JobDetail } from "../../../aws/services/batch.ts";
import type { SerializedError } from "../../../job/error_record.ts";
import { OOM_LINE } from "../../../job/oom_line.ts";
import { memoryAdvice as raiseMemory } from "../../../job/container_memory.ts";
import {
  type ErrorRecord,
  type FailureKind,
  type JobRecord,
  STORE_EXIT_CODE,
} from "../../../job/record.ts";
import { TIMEOUT_BACKSTOP_SECONDS } from "./environment.ts";
import { parseJobCommand } from "./command.ts";
import { stoppedByClobber, stoppedByCloudknot } from "./jobs.ts";
import { KNOT_CLOBBERED_ERROR } from "../../../job/retry_advice.ts";
import { stuckReason } from "./stuck.ts";
import { defined } from "../../../util/defined.ts";

/** Which item and attempt a failure record is about. */
export interface BatchFailureTarget {
  /** The item's index in the run. */
  index: number;
  /** The attempt, counted from 1 (default: the job's last attempt, or 1 when it never ran). */
  attempt?: number;
  /**
   * What ran the attempt, as the message names it, such as `"Docker
   * container"` for the docker target, which runs the same job contract.
   * @default {"AWS Batch job"}
   */
  runner?: string;
  /**
   * From when, and why, cloudknot stopped every job of the run: an attempt
   * that ended then without cloudknot's stop reason was stopped by it all the
   * same, and reads as cancelled with this `why`. A knot's clobber deletes
   * the job queue of the jobs still stopping once its wait for them is over,
   * and Batch then terminates them with a reason of its own.
   */
  stoppedSince?: { at: number; why: string };
  /**
   * Whose job it is, for the advice of a job Batch cancelled as stuck: a
   * run's (the knot's options) or a retry's (its own). @default {"knot"}
   */
  caller?: "knot" | "retry";
}

const TIMEOUT_RE = /attempt duration exceeded timeout/i;

/** Batch's status reason for an attempt whose EC2 host went away (a reclaimed Spot instance). */
const HOST_GONE_RE = /^Host EC2 .* terminated/;

/** What to do about an attempt whose host went away. */
const HOST_GONE_ADVICE = "the instance that ran it went away (a Spot instance reclaimed, or one " +
  "stopped), not the item: run it again with run.retry() on the run's handle; a knot made with " +
  "more retries (the retries option of Knot.create, up to 10) has AWS Batch run such an attempt " +
  "again itself";

/**
 * What to do about an attempt AWS Batch stopped at its own timeout: the job
 * stops each item at the knot's timeout itself, and Batch's timeout is a
 * backstop a minute past the time of the job's items (`TIMEOUT_BACKSTOP_SECONDS`
 * in `environment.ts`), which Batch does not retry. The retry it suggests
 * gives each item twice the timeout it had. In the pool's words
 * (`src/job/pool.ts`), which `inCliWords` turns into `--timeout` and
 * `cloudknot retry`.
 */
function timeoutAdvice(job: JobDetail): string {
  const limit = job.timeout?.attemptDurationSeconds;
  const item = limit !== undefined ? itemTimeout(limit, job.container?.command ?? []) : undefined;
  return `AWS Batch stopped the job ${
    limit !== undefined ? `after ${limit}s, ` : ""
  }a minute past the time its items were given (the knot's timeout for each round of the ` +
    "items it runs), and does not retry such an attempt: the job stops each item at its timeout " +
    "itself, so the job as a whole ran past it (a slow or hung start, slow writes of its " +
    "records, or an item that did not stop; its log says which). Give it more time with the " +
    "timeout option of Knot.create or run.retry" +
    (item !== undefined
      ? `: run.retry({ timeout: ${item * 2} }) on the run's handle maps the run's failed items ` +
        "again"
      : "");
}

/**
 * The timeout each item of a job had, read back from the job's limit: a job
 * of one item has its item's timeout plus the backstop, and a child that runs
 * a slice of items (`--slice N --concurrency C` in its command) has that
 * times the rounds it runs them in (`sliceTimeout` in `job/slicing.ts`).
 */
function itemTimeout(limit: number, command: readonly string[]): number | undefined {
  const { slice = 1, concurrency = 1 } = parseJobCommand(command);
  const rounds = slice > 1 ? Math.ceil(slice / Math.max(1, concurrency)) : 1;
  const item = Math.round(limit / rounds) - TIMEOUT_BACKSTOP_SECONDS;
  return item > 0 ? item : undefined;
}

/** The job's memory limit, and what to raise, for a job Batch stopped for memory. */
function memoryAdvice(job: JobDetail): string {
  const container = job.container;
  const limit = container?.resourceRequirements?.find((r) => r.type === "MEMORY")?.value ??
    container?.memory;
  const advice = `${
    raiseMemory(limit !== undefined ? Number(limit) : undefined)
  }, or make the item smaller`;
  return limit !== undefined ? `the job's memory limit is ${limit} MiB: ${advice}` : advice;
}

function attemptOf(job: JobDetail, attempt: number): AttemptDetail | undefined {
  return job.attempts?.[attempt - 1];
}

/**
 * Makes the error record of a Batch attempt that left no record of its own.
 *
 * - `timeout`: the attempt ran past the job's `attemptDurationSeconds`;
 * - `crashed`: the container exited (or was killed) with a code, including
 *   out-of-memory kills;
 * - `cancelled`: the job never ran (cancelled or terminated while waiting,
 *   or cancelled by its queue's time limit for a job stuck in RUNNABLE, with
 *   what to do about the reason), or cloudknot itself stopped the attempt
 *   (a run's `cancel()`, a knot's clobber: its reason starts `cloudknot: `,
 *   or it ended once `stoppedSince` says cloudknot stopped every job),
 *   whatever the container's exit code; a knot's clobber's error is named
 *   `KnotClobberedError`, any other `JobCancelledError`;
 * - `infrastructure`: the container never got to exit (it could not start,
 *   or its host went away, as when Spot capacity is reclaimed).
 *
 * @example Usage
 * ```ts
 * import { batchFailureRecord } from "./failure.ts";
 *
 * const record = batchFailureRecord({
 *   jobId: "p:3", jobName: "k-r-0", jobQueue: "q", jobDefinition: "d", status: "FAILED",
 *   statusReason: "Essential container in task exited",
 *   attempts: [{ container: { exitCode: 3, logStreamName: "d/default/abc" }, statusReason: "Essential container in task exited" }],
 * }, { index: 3 });
 * console.log(record.kind, record.exitCode, record.logStream); // "crashed" 3 "d/default/abc"
 * ```
 *
 * @param job The job (or array child) as DescribeJobs returned it.
 * @param target The item and attempt.
 * @returns The error record.
 */
export function batchFailureRecord(job: JobDetail, target: BatchFailureTarget): ErrorRecord {
  const ran = job.attempts?.length ?? 0;
  const attemptNo = target.attempt ?? Math.max(ran, 1);
  const attempt = attemptOf(job, attemptNo);
  const container = attempt?.container;
  const statusReason = attempt?.statusReason ?? job.statusReason;
  const exitCode = container?.exitCode;
  const reason = container?.reason;
  let kind: FailureKind;
  let name: string;
  const stuck = stuckReason(statusReason, defined({ caller: target.caller }));
  // Terminated by cloudknot: its container got SIGTERM and exited 143, as a crash would.
  const since = target.stoppedSince;
  const stoppedBy = attempt === undefined ? undefined : stoppedByCloudknot(statusReason) ??
    (since !== undefined && (attempt.stoppedAt ?? job.stoppedAt ?? Infinity) >= since.at
      ? since.why
      : undefined);
  // A job that never ran, cancelled by a knot's clobber: by its reason, or once it began.
  const clobberedFirst = attempt === undefined &&
    (stoppedByClobber(stoppedByCloudknot(statusReason) ?? "") ||
      (since !== undefined && (job.stoppedAt ?? Infinity) >= since.at));
  if (attempt === undefined) {
    kind = "cancelled";
    name = stuck?.cancelled
      ? "JobStuckError"
      : clobberedFirst
      ? KNOT_CLOBBERED_ERROR
      : "JobCancelledError";
  } else if (stoppedBy !== undefined) {
    kind = "cancelled";
    // A knot's clobber's, told apart by name: no retry runs its items, as the knot is gone.
    name = stoppedByClobber(stoppedBy) ? KNOT_CLOBBERED_ERROR : "JobCancelledError";
  } else if (TIMEOUT_RE.test(statusReason ?? "")) {
    kind = "timeout";
    name = "TimeoutError";
  } else if (exitCode !== undefined) {
    kind = "crashed";
    name = /OutOfMemory/i.test(reason ?? "") ? "OutOfMemoryError" : "JobCrashedError";
  } else {
    kind = "infrastructure";
    name = "JobFailedError";
  }
  const runner = `${target.runner ?? "AWS Batch job"} ${job.jobId}`;
  const what = stoppedBy !== undefined
    ? `${runner} attempt ${attemptNo} was stopped by cloudknot: ${stoppedBy}`
    : attempt === undefined
    ? stuck?.cancelled
      ? `${runner} was cancelled after waiting too long in RUNNABLE`
      : `${runner} ended before it ran`
    : exitCode !== undefined
    ? `${runner} attempt ${attemptNo} exited with code ${exitCode} without a record`
    : `${runner} attempt ${attemptNo} stopped without a record`;
  const details = stoppedBy !== undefined
    ? []
    : [statusReason, reason, stuck?.advice].filter((s): s is string => !!s);
  // Cancelled with AWS Batch's own reason once the clobber deleted its queue: the clobber's words.
  if (clobberedFirst && stoppedByCloudknot(statusReason) === undefined) details.push(since!.why);
  if (name === "OutOfMemoryError") details.push(memoryAdvice(job));
  if (kind === "timeout") details.push(timeoutAdvice(job));
  if (kind === "infrastructure" && HOST_GONE_RE.test(statusReason ?? "")) {
    details.push(HOST_GONE_ADVICE);
  }
  if (exitCode === STORE_EXIT_CODE) {
    // Named: the items' own logs hold only their lines, not the job's own that say which.
    const log = container?.logStreamName;
    details.push(
      "the job could not read its run or write its records (S3 access, or a full disk on the " +
        `docker target); the attempt's log${log === undefined ? "" : `, ${log},`} says which`,
    );
  }
  const error: SerializedError = {
    name,
    message: details.length > 0 ? `${what}: ${details.join("; ")}` : what,
  };
  if (reason !== undefined) error.props = { reason };
  const record: ErrorRecord = {
    version: 1,
    status: "error",
    kind,
    index: target.index,
    attempt: attemptNo,
    jobId: job.jobId,
    endedAt: attempt?.stoppedAt ?? job.stoppedAt ?? Date.now(),
    error,
  };
  if (attempt?.startedAt !== undefined) record.startedAt = attempt.startedAt;
  if (exitCode !== undefined) record.exitCode = exitCode;
  if (statusReason !== undefined) record.statusReason = statusReason;
  if (container?.logStreamName !== undefined) record.logStream = container.logStreamName;
  return record;
}

/**
 * Adds what Batch knows about a record's attempt (exit code, status reason,
 * log stream) to an error record; a result record is returned as it is.
 *
 * @example Usage
 * ```ts
 * import { withBatchDetails } from "./failure.ts";
 *
 * const record = withBatchDetails({
 *   version: 1, status: "error", kind: "threw", index: 0, attempt: 1, jobId: "j", endedAt: 0,
 *   error: { name: "Error", message: "boom" },
 * }, {
 *   jobId: "j", jobName: "n", jobQueue: "q", jobDefinition: "d", status: "FAILED",
 *   attempts: [{ container: { exitCode: 1, logStreamName: "s" }, statusReason: "Essential container in task exited" }],
 * });
 * console.log(record.status === "error" && record.logStream); // "s"
 * ```
 *
 * @param record The record the attempt wrote.
 * @param job The job (or array child) as DescribeJobs returned it.
 * @returns The record with Batch's details.
 */
export function withBatchDetails(record: JobRecord, job: JobDetail): JobRecord {
  if (record.status !== "error") return record;
  const attempt = attemptOf(job, record.attempt);
  if (attempt === undefined) return record;
  const out: ErrorRecord = { ...record };
  if (out.exitCode === undefined && attempt.container?.exitCode !== undefined) {
    out.exitCode = attempt.container.exitCode;
  }
  if (out.statusReason === undefined && attempt.statusReason !== undefined) {
    out.statusReason = attempt.statusReason;
  }
  if (out.logStream === undefined && attempt.container?.logStreamName !== undefined) {
    out.logStream = attempt.container.logStreamName;
  }
  return out;
}

/**
 * A crashed attempt's record as out of memory, when V8's fatal
 * out-of-memory line is among the last lines of its log. V8 stops at its
 * heap limit before the container reaches its own; it then aborts (exit
 * code 133, SIGTRAP), and neither Batch nor ECS says "OutOfMemoryError":
 * the line is only in the log (aws/amazon-ecs-agent#2231). Any other
 * record is returned as it is.
 *
 * @example Usage
 * ```ts
 * import { batchFailureRecord, withLogOutOfMemory } from "./failure.ts";
 *
 * const job = {
 *   jobId: "j", jobName: "n", jobQueue: "q", jobDefinition: "d", status: "FAILED",
 *   container: { resourceRequirements: [{ type: "MEMORY", value: "2048" }] },
 *   attempts: [{ container: { exitCode: 133, logStreamName: "s" }, statusReason: "Essential container in task exited" }],
 * };
 * const record = withLogOutOfMemory(batchFailureRecord(job, { index: 0 }), job, [
 *   "#",
 *   "# Fatal JavaScript out of memory: Reached heap limit",
 * ]);
 * console.log(record.error.name); // "OutOfMemoryError"
 * ```
 *
 * @param record The record {@linkcode batchFailureRecord} made.
 * @param job The job (or array child) as DescribeJobs returned it.
 * @param tail The last lines of the attempt's log.
 * @returns The record, as out of memory when the log says so.
 */
export function withLogOutOfMemory(
  record: ErrorRecord,
  job: JobDetail,
  tail: readonly string[],
): ErrorRecord {
  if (record.kind !== "crashed" || record.error.name !== "JobCrashedError") return record;
  const line = tail.findLast((l) => OOM_LINE.test(l));
  if (line === undefined) return record;
  return {
    ...record,
    error: {
      ...record.error,
      name: "OutOfMemoryError",
      message:
        `${record.error.message}; V8 ran out of heap ("${
          line.replace(/^[#\s]+/, "").trim()
        }" in its log): ${memoryAdvice(job)} (V8's heap limit can be set with ` +
        `DENO_V8_FLAGS=--max-old-space-size=<MiB> in the run's env)`,
    },
  };
}
