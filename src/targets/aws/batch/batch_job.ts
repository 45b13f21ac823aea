/**
 * `BatchJob`: one AWS Batch job adopted by its id, like the original's
 * `aws.BatchJob`, with its weaknesses fixed: a FAILED array parent is done,
 * `result()` returns partial results and typed errors instead of hanging,
 * a function that returns `undefined` has a result, and logs stream as lines.
 *
 * @module
 */
import type { AwsSession } from "../../../aws/session.ts";
import type {
  ArrayPropertiesDetail,
  AttemptDetail,
  JobDetail,
} from "../../../aws/services/batch.ts";
import { type JobCommand, parseJobCommand } from "./command.ts";
import { cloudknotStopReason, describeJobs, isTerminalStatus, stopJob } from "./jobs.ts";
import { logGroupOf, readLogStream } from "./log_stream.ts";
import { type OutageNotice, OutageRider } from "./outage.ts";
import { sleep } from "../../../util/sleep.ts";
import {
  CancelledError,
  CloudknotError,
  CloudknotInputError,
  CloudknotTimeoutError,
} from "../../../util/errors.ts";
import { MapRun } from "../../../run/map_run.ts";
import type { StateFile } from "../../../state/state_file.ts";
import { jobsSection } from "../../../state/sections.ts";
import { showSummary } from "../../../util/summary.ts";
import { validateOptionKeys } from "../../../util/validate.ts";

/** Options for {@linkcode BatchJob.fromId}. */
export interface BatchJobOptions {
  /** The AWS session. */
  session: AwsSession;
  /** The cloudknot config file; when given, the job is recorded in `[batch-jobs <profile> <region>]`. */
  state?: StateFile;
  /** The shortest wait between polls of `result()` and `logs({ follow })`, in milliseconds. @default {2000} */
  pollIntervalMs?: number;
  /** The longest wait between polls of `result()`, in milliseconds. @default {30000} */
  maxPollIntervalMs?: number;
}

const BATCH_JOB_OPTION_KEYS: Readonly<Record<keyof BatchJobOptions, true>> = {
  session: true,
  state: true,
  pollIntervalMs: true,
  maxPollIntervalMs: true,
};

/** A job's status, as the original's `BatchJob.status` gives it. */
export interface BatchJobStatus {
  /** `SUBMITTED`, `PENDING`, `RUNNABLE`, `STARTING`, `RUNNING`, `SUCCEEDED` or `FAILED`. */
  status: string;
  /** Why it has this status. */
  statusReason?: string;
  /** Its attempts so far (an array parent has none). */
  attempts: AttemptDetail[];
  /** An array parent's size and child counts by status; a child's index. */
  arrayProperties?: ArrayPropertiesDetail;
}

/** Options for {@linkcode BatchJob.result}. */
export interface BatchJobResultOptions {
  /** How long to wait, in milliseconds; then a {@linkcode CloudknotTimeoutError}. @default {Infinity} */
  timeout?: number;
  /** Stops waiting (the job goes on). */
  signal?: AbortSignal;
  /**
   * While waiting, AWS that cannot be reached for a while (no network, a
   * laptop that slept, throttling) or credentials that expired are ridden
   * out for up to a day, as a run's handle rides them out: the polls go on,
   * and this is told once when they start to fail and once when AWS answers
   * again. Credentials AWS refuses that no renewal can reach (keys from the
   * environment, credentials given in code) end the wait at once instead.
   * @default {undefined}
   */
  onOutage?: (notice: OutageNotice) => void;
}

const RESULT_OPTION_KEYS: Readonly<Record<keyof BatchJobResultOptions, true>> = {
  timeout: true,
  signal: true,
  onOutage: true,
};

/** Options for {@linkcode BatchJob.logs}. */
export interface BatchJobLogsOptions {
  /** Keep reading while the attempt runs, until it has ended and its stream is drained. @default {false} */
  follow?: boolean;
  /** The attempt, counted from 1. @default {the latest} */
  attempt?: number;
  /** Stops reading, at once: a read in flight, or one waiting for credentials, included. */
  signal?: AbortSignal;
  /**
   * Told the attempt whose stream is read (counted from 1) before its first
   * line: the one given, or the latest, which may be running. Not called when
   * the job has no stream to read (no attempt has started).
   */
  onAttempt?: (attempt: number) => void;
  /**
   * While following, AWS that cannot be reached for a while (no network, a
   * laptop that slept, throttling) or credentials that expired are ridden
   * out for up to a day: the reads are made again, from where the stream
   * was, and this is told once when they start to fail and once when AWS
   * answers again. Credentials AWS refuses that no renewal can reach (keys
   * from the environment, credentials given in code) end it at once, with
   * AWS's error. @default {undefined}
   */
  onOutage?: (notice: OutageNotice) => void;
}

const LOGS_OPTION_KEYS: Readonly<Record<keyof BatchJobLogsOptions, true>> = {
  follow: true,
  attempt: true,
  signal: true,
  onAttempt: true,
  onOutage: true,
};

/**
 * No job has the given id (Batch forgets jobs some days after they end).
 *
 * @example Usage
 * ```ts
 * import { JobNotFoundError } from "@cloudknot/cloudknot";
 *
 * const e = new JobNotFoundError("3f9a");
 * console.log(e.jobId, e.message.startsWith("AWS Batch has no job 3f9a")); // "3f9a" true
 * ```
 */
export class JobNotFoundError extends CloudknotError {
  /** The id that was not found. */
  readonly jobId: string;

  /**
   * Makes the error.
   *
   * @param jobId The id that was not found.
   */
  constructor(jobId: string) {
    super(
      `AWS Batch has no job ${jobId} in this region: check the id and the region (jobs are forgotten some days after they end)`,
    );
    this.jobId = jobId;
  }
}

/**
 * An AWS Batch job, adopted by its id.
 *
 * `console.log` and a Jupyter notebook show it as a short summary: its id,
 * name, queue, children, run and the status Batch gave when it was last
 * described (sending nothing).
 *
 * @example Usage
 * ```ts ignore
 * import { BatchJob } from "@cloudknot/cloudknot";
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 *
 * const session = await AwsSession.create();
 * const job = await BatchJob.fromId("3f9a…", { session });
 * console.log((await job.status()).status);
 * const values = await job.result({ timeout: 60_000 }); // an array job: every child's result, in order
 * for await (const line of (await BatchJob.fromId(`${job.jobId}:0`, { session })).logs()) console.log(line);
 * ```
 */
export class BatchJob {
  /** The job's id (`<parent>:<index>` for an array child). */
  readonly jobId: string;
  /** The job's name. */
  readonly jobName: string;
  /** The ARN of its queue. */
  readonly jobQueue: string;
  /** The ARN of its job definition. */
  readonly jobDefinition: string;
  /** An array parent's number of children; `undefined` for other jobs. */
  readonly arraySize?: number;
  /** What its cloudknot command says (`--run`, `--offset` or `--index`, `--starmap`). */
  readonly command: JobCommand;
  #session: AwsSession;
  #state?: StateFile;
  #options: BatchJobOptions;
  #detail: JobDetail;

  private constructor(detail: JobDetail, options: BatchJobOptions) {
    this.jobId = detail.jobId;
    this.jobName = detail.jobName;
    this.jobQueue = detail.jobQueue;
    this.jobDefinition = detail.jobDefinition;
    const size = detail.arrayProperties?.size;
    if (size !== undefined) this.arraySize = size;
    this.command = parseJobCommand(detail.container?.command ?? []);
    this.#session = options.session;
    if (options.state !== undefined) this.#state = options.state;
    this.#options = options;
    this.#detail = detail;
  }

  /**
   * Adopts a job by its id (one DescribeJobs call). With a state file, the
   * job is recorded in `[batch-jobs <profile> <region>]`, as the original
   * did (an array child is not: its parent stands for it).
   *
   * @param jobId The job's id.
   * @param options The session and, optionally, the state file.
   * @returns The job.
   * @throws {JobNotFoundError} When Batch has no such job.
   */
  static async fromId(jobId: string, options: BatchJobOptions): Promise<BatchJob> {
    validateOptionKeys(options, BATCH_JOB_OPTION_KEYS, "BatchJob.fromId()");
    if (typeof jobId !== "string" || jobId.trim() === "") {
      throw new CloudknotInputError("jobId must be a non-empty string", { field: "jobId" });
    }
    const detail = (await describeJobs(options.session.batch, [jobId])).get(jobId);
    if (detail === undefined) throw new JobNotFoundError(jobId);
    const job = new BatchJob(detail, options);
    // An array child belongs to its parent's entry (and ":" cannot be an INI key).
    if (!job.#isChild) await options.state?.set(job.#section(), detail.jobId, detail.jobName);
    return job;
  }

  /**
   * Adopts many jobs at once (DescribeJobs, 100 ids a call), in the order
   * given; jobs AWS Batch no longer knows (it forgets them some days after
   * they end) are left out. Nothing is recorded.
   *
   * @example Usage
   * ```ts ignore
   * import { BatchJob } from "@cloudknot/cloudknot";
   * import { AwsSession } from "@cloudknot/cloudknot/aws";
   *
   * const jobs = await BatchJob.fromIds(["3f9a…", "77c1…"], { session: await AwsSession.create() });
   * console.log(jobs.map((j) => j.jobName));
   * ```
   *
   * @param jobIds The jobs' ids.
   * @param options The session.
   * @returns The jobs Batch knows, in the order of `jobIds`.
   */
  static async fromIds(jobIds: readonly string[], options: BatchJobOptions): Promise<BatchJob[]> {
    validateOptionKeys(options, BATCH_JOB_OPTION_KEYS, "BatchJob.fromIds()");
    const details = await describeJobs(options.session.batch, jobIds);
    const { state: _, ...rest } = options;
    return jobIds.map((id) => details.get(id)).filter((d): d is JobDetail => d !== undefined)
      .map((d) => new BatchJob(d, rest));
  }

  /** Whether this is an array parent. */
  get isArray(): boolean {
    return this.arraySize !== undefined;
  }

  static {
    showSummary(BatchJob, (job) => {
      const seen = job.#detail.status;
      return [`BatchJob ${job.jobName}`, [
        ["job id", job.jobId],
        ["queue", job.jobQueue.replace(/^arn:.*:job-queue\//, "")],
        ["definition", job.jobDefinition.replace(/^arn:.*:job-definition\//, "")],
        ["children", job.arraySize],
        ["run", job.command.run],
        ["status", seen === undefined ? undefined : `${seen} (when last described)`],
      ]];
    });
  }

  /**
   * The job's status now (one DescribeJobs call).
   *
   * @returns Status, reason, attempts and array properties.
   */
  async status(): Promise<BatchJobStatus> {
    const d = await this.#describe();
    const out: BatchJobStatus = { status: d.status, attempts: d.attempts ?? [] };
    if (d.statusReason !== undefined) out.statusReason = d.statusReason;
    if (d.arrayProperties !== undefined) out.arrayProperties = d.arrayProperties;
    return out;
  }

  /**
   * Whether the job is finished: SUCCEEDED, or FAILED (an array parent too,
   * which has no attempts of its own).
   *
   * @returns `true` once it will not change any more.
   */
  async done(): Promise<boolean> {
    return isTerminalStatus((await this.#describe()).status);
  }

  /**
   * The job's result, read from the records its run holds in S3: for an
   * array parent, every item's value in order; for a job (or child) that
   * runs a slice of items, the values of its slice; for another job, its
   * value (which may be `undefined`). Waits while the job runs.
   *
   * @param options `timeout` in milliseconds, a signal, and who is told of an outage ridden out.
   * @returns The value, or the values of an array job.
   * @throws {CloudknotTimeoutError} When the job is not done in time (it goes on).
   * @throws {MapError} When children of an array job failed: it carries each error and the partial results.
   * @throws {ItemError} When a single job failed: with the remote stack, exit code, status reason and log stream.
   */
  async result<T = unknown>(options: BatchJobResultOptions = {}): Promise<T> {
    validateOptionKeys(options, RESULT_OPTION_KEYS, "job.result()");
    const timeout = options.timeout ?? Infinity;
    if (typeof timeout !== "number" || !(timeout >= 0)) {
      throw new CloudknotInputError(
        `timeout must be a non-negative number of milliseconds, not ${timeout}`,
        { field: "timeout" },
      );
    }
    if (this.command.run === undefined) {
      throw new CloudknotInputError(
        `Job ${this.jobId} has no --run argument in its command: it was not submitted by cloudknot, so its results are not in S3`,
      );
    }
    const detail = await this.#describe();
    // The S3 store and the poller load with a job's first results: importing
    // BatchJob does not load them.
    const [{ openS3Store }, { RunPoller }] = await Promise.all([
      import("../../../store/s3.ts"),
      import("./run_poller.ts"),
    ]);
    const store = await openS3Store(this.command.run, { session: this.#session });
    // An array child runs the slice of items from offset + slice × its index;
    // a single job names its first item; without --slice, a job runs one item.
    const slice = this.command.slice ?? 1;
    const end = this.command.end ?? Infinity;
    const base = this.command.index ??
      (this.command.offset ?? 0) +
        (this.isArray ? 0 : (detail.arrayProperties?.index ?? 0) * slice);
    const total = this.isArray
      ? Math.min((this.arraySize ?? 1) * slice, end - base)
      : Math.min(slice, end - base);
    const attempts = detail.retryStrategy?.attempts ?? 1;
    const { run, control } = MapRun.create<unknown>({
      knot: this.jobName,
      runId: this.jobId,
      target: "aws",
      total,
      attempts,
    });
    const stop = new AbortController();
    const poller = new RunPoller({
      batch: this.#session.batch,
      logs: this.#session.logs,
      run: store,
      jobs: [{
        jobId: this.jobId,
        jobName: this.jobName,
        offset: base,
        size: total,
        array: this.isArray,
        ...(slice > 1 ? { slice } : {}),
      }],
      attempts,
      control,
      base,
      total,
      minIntervalMs: this.#options.pollIntervalMs ?? 2000,
      maxIntervalMs: this.#options.maxPollIntervalMs ?? 30_000,
      readAgain: `read the job's result again (result() of BatchJob.fromId("${this.jobId}"))`,
      ...(options.onOutage ? { onOutage: options.onOutage } : {}),
    });
    const polling = poller.run(stop.signal);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const outcome = await new Promise<"done" | "timeout" | "aborted">((resolve) => {
      run.done.then(() => resolve("done"));
      if (Number.isFinite(timeout)) timer = setTimeout(() => resolve("timeout"), timeout);
      if (options.signal?.aborted) resolve("aborted");
      onAbort = () => resolve("aborted");
      options.signal?.addEventListener("abort", onAbort, { once: true });
    });
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener("abort", onAbort);
    stop.abort();
    await polling;
    if (outcome === "aborted") {
      throw options.signal?.reason ?? new CancelledError("Waiting for the result was cancelled");
    }
    if (outcome === "timeout") {
      const c = run.counts;
      throw new CloudknotTimeoutError(
        `Job ${this.jobId} did not finish within ${timeout} ms (${
          c.succeeded + c.failed
        } of ${total} items done); the job goes on: call result() again to keep waiting`,
      );
    }
    if (this.isArray || total > 1) return await run.results() as T;
    return await run.item(0) as T;
  }

  /**
   * Stops the job with TerminateJob, which cancels it while it waits and
   * terminates it once it runs (even if it started since it was read); an
   * array parent's children stop with it. As a run's `cancel()` does, it gives Batch the reason
   * after `cloudknot: `, so whoever reads the job's run (`result()`, the run's
   * handle, `cloudknot results`) reads its items as cancelled with this
   * reason, not as crashed (a running container gets SIGTERM and exits 143).
   *
   * @param reason Why; Batch shows it as the status reason, as `cloudknot: <reason>`.
   * @returns What was done (`"none"` when the job had already finished).
   */
  async terminate(reason: string): Promise<"cancel" | "terminate" | "none"> {
    if (typeof reason !== "string" || reason.trim() === "") {
      throw new CloudknotInputError("reason must be a non-empty string", { field: "reason" });
    }
    return await stopJob(this.#session.batch, await this.#describe(), cloudknotStopReason(reason));
  }

  /**
   * The job's output, line by line, from CloudWatch Logs. With `follow`, it
   * waits for the attempt to start, then keeps reading until the attempt has
   * ended and its stream is drained.
   *
   * @param options Follow mode, the attempt and a signal.
   * @returns The lines.
   */
  async *logs(options: BatchJobLogsOptions = {}): AsyncGenerator<string> {
    validateOptionKeys(options, LOGS_OPTION_KEYS, "job.logs()");
    if (this.isArray) {
      throw new CloudknotInputError(
        `Job ${this.jobId} is an array parent, which has no output of its own: read a child's, such as BatchJob.fromId("${this.jobId}:0")`,
      );
    }
    const pollMs = this.#options.pollIntervalMs ?? 2000;
    // A follow rides out an outage; a single read fails at once, as before.
    const rider = options.follow
      ? new OutageRider({
        pauseMs: pollMs,
        maxPauseMs: this.#options.maxPollIntervalMs ?? 30_000,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onOutage ? { onOutage: options.onOutage } : {}),
      })
      : undefined;
    // The signal stops a describe in flight too (one waiting for credentials included).
    const { signal } = options;
    const describe = () =>
      rider === undefined ? this.#describe(signal) : rider.run(() => this.#describe(signal));
    let found: { stream: string; attempt: number } | undefined;
    while (true) {
      let d: JobDetail;
      try {
        d = await describe();
      } catch (e) {
        if (signal?.aborted) return;
        throw e;
      }
      found = streamOf(d, options.attempt);
      if (found !== undefined || !options.follow || isTerminalStatus(d.status)) break;
      if (options.signal?.aborted) return;
      await sleep(pollMs, options.signal);
    }
    if (found === undefined) return;
    const { stream, attempt } = found;
    options.onAttempt?.(attempt);
    yield* readLogStream(this.#session.logs, stream, {
      logGroup: logGroupOf(this.#detail),
      pollMs,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(rider !== undefined ? { rider } : {}),
      ...(options.follow
        ? {
          finished: async () => {
            const d = await this.#describe(signal);
            return isTerminalStatus(d.status) || (d.attempts?.length ?? 0) >= attempt;
          },
        }
        : {}),
    });
  }

  /**
   * CloudWatch console URLs of the job's attempts, oldest first (an array
   * parent has none).
   *
   * @returns One URL per attempt that has a log stream.
   */
  async logUrls(): Promise<string[]> {
    const d = await this.#describe();
    const group = logGroupOf(d);
    const streams = [...(d.attempts ?? [])]
      .sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0))
      .map((a) => a.container?.logStreamName)
      .filter((s): s is string => s !== undefined);
    const current = d.container?.logStreamName;
    if (current !== undefined && !streams.includes(current)) streams.push(current);
    return streams.map((stream) =>
      `https://console.aws.amazon.com/cloudwatch/home?region=${this.#session.region}` +
      `#logEventViewer:group=${group};stream=${stream}`
    );
  }

  /**
   * Stops the job (unless it has finished) and removes it from the state
   * file.
   *
   * @param reason Why, for the status reason (after `cloudknot: `, as {@linkcode terminate} gives it). @default {"The job was clobbered"}
   */
  async clobber(reason = "The job was clobbered"): Promise<void> {
    await this.terminate(reason);
    if (!this.#isChild) await this.#state?.remove(this.#section(), this.jobId);
  }

  get #isChild(): boolean {
    return this.jobId.includes(":");
  }

  #section(): string {
    return jobsSection(this.#session.profile, this.#session.region);
  }

  async #describe(signal?: AbortSignal): Promise<JobDetail> {
    const d = (await describeJobs(this.#session.batch, [this.jobId], signal ? { signal } : {}))
      .get(this.jobId);
    if (d === undefined) throw new JobNotFoundError(this.jobId);
    this.#detail = d;
    return d;
  }
}

/** The log stream of an attempt (default: the latest, including one running now). */
function streamOf(
  job: JobDetail,
  attempt?: number,
): { stream: string; attempt: number } | undefined {
  const ended = job.attempts?.length ?? 0;
  const running = job.status === "STARTING" || job.status === "RUNNING";
  const n = attempt ?? (running ? ended + 1 : ended);
  if (n < 1) return undefined;
  const stream = n <= ended
    ? job.attempts?.[n - 1]?.container?.logStreamName
    : n === ended + 1 && running
    ? job.container?.logStreamName
    : undefined;
  return stream === undefined ? undefined : { stream, attempt: n };
}
