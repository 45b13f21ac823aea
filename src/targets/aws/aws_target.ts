/**
 * The AWS target: runs a knot's items as AWS Batch jobs, with an S3 bucket
 * as the store. It is built from resources that already exist (the knot's
 * job queue and job definition, the bucket), and follows the job contract
 * every target shares.
 *
 * A run's objects live under `<prefix>/runs/<runId>/` in the bucket:
 * `inputs` and `index` (written before any job is submitted; the index
 * carries the run's manifest as metadata), `run.json` (the manifest with the
 * jobs, written once they are submitted) and the records under `out/`
 * (written by the jobs, several items' records to an object, each key
 * stamped with when it was written, so each poll round lists only the new
 * ones: `job/payload.ts`).
 *
 * @module
 */
import type { AwsSession } from "../../aws/session.ts";
import type { KeyValuePair, SubmitJobRequest } from "../../aws/services/batch.ts";
import {
  cloudknotStopReason,
  describeJobs,
  isTerminalStatus,
  stopJob,
  waitForJobsToEnd,
} from "./batch/jobs.ts";
import { type JobsView, viewJobs } from "./batch/jobs_view.ts";
import { BATCH_LOG_GROUP } from "./batch/log_stream.ts";
import { ItemLogs } from "./batch/item_logs.ts";
import { outageWords } from "./batch/outage.ts";
import {
  type LateJobs,
  type PollRound,
  type RunJob,
  RunPoller,
  type StuckNotice,
  type WaitingNotice,
} from "./batch/run_poller.ts";
import {
  checkJobEnvironment,
  jobCommand,
  jobEnvironment,
  parseJobCommand,
} from "./batch/command.ts";
import { CloudknotInputError } from "../../util/errors.ts";
import { describeValue } from "../../util/validate.ts";
import { forEachPooled } from "../../util/pooled.ts";
import { sleep } from "../../util/sleep.ts";
import {
  INPUTS_BYTES_ENV,
  MANIFEST_METADATA_KEY,
  readManifest,
  RUN_KEYS,
  type RunManifest,
  writeManifest,
} from "../../job/payload.ts";
import { failureRecord } from "../../job/record.ts";
import { MapRun, type RunControl, type RunInfo, type Unconfirmed } from "../../run/map_run.ts";
import type { StateFile } from "../../state/state_file.ts";
import { configOwner } from "../../resources/owner.ts";
import { isAwsCode } from "../../resources/_ledger.ts";
import { type S3Encryption, S3Store } from "../../store/s3.ts";
import { type MapRequest, newRunId, type SubmitRequest, type Target } from "../target.ts";
import { BatchJob } from "./batch/batch_job.ts";
import {
  rebuiltRevision,
  type RuntimeCheckRequest,
  RuntimeMismatchError,
} from "./batch/runtime_check.ts";
import { KNOT_ENV, RUN_ID_ENV } from "../../job/retry_advice.ts";
import { NO_COLOR_ENV } from "../../job/no_color.ts";
import { openItems, type UploadedInputs, uploadInputs } from "./run_inputs.ts";
import {
  findJobByName,
  MAX_ARRAY_SIZE,
  outcomeUnknown,
  SubmitError,
  submitJobOnce,
} from "./submit.ts";
import {
  type AwsRunManifest,
  forgetSubmitMark,
  holdSubmitMark,
  SUBMIT_GRACE_MS,
  SUBMIT_WINDOW_MS,
  type SubmitGaveUp,
  type SubmitMark,
  submitterDiedAt,
} from "./submit_mark.ts";
import { latestRetry, resubmitRequest, retryAdvice, withEarlierResults } from "../resubmit.ts";
import { awsRunUsage } from "./batch/run_usage.ts";
import { checkGroups, type GroupedJob, planGroups, resourceOverrides } from "./groups.ts";
import { checkSubmitJobBytes } from "./batch/quotas.ts";
import { estimateAwsRun, type EstimateRequest, planAwsMap } from "./run_plan.ts";
import type { Estimate } from "../../cost/estimate.ts";
import type { Plan } from "../../plan/plan.ts";
import {
  clobberHasBegun,
  knotClobberedWhy,
  knotJobIds,
  readAwsKnot,
  recordAwsRun,
  recordedRuns,
  refuseMapWhileClobbered,
} from "./catalog.ts";
import { readSlicingFacts } from "./slicing.ts";
import { sliceRun, sliceTimeout, type Slicing } from "../../job/slicing.ts";
import { childCount, childId, uncovered } from "./batch/slices.ts";
import { itemsInWords, retryWaitWarning } from "../../util/item_words.ts";

/**
 * The largest inputs object a job reads whole, beside its index, instead of
 * its range after the index (`INPUTS_BYTES_ENV`): one S3 round trip saved per
 * job. 64 KiB keeps the whole read cheap when every child of a large array
 * job makes it: 10,000 children read 640 MiB in all with the same number of
 * GETs (S3 charges per request; a transfer to EC2 in the same region is
 * free), and 64 KiB takes about a millisecond at the tens of MB/s of one
 * connection, less than the round trip it saves.
 */
const WHOLE_INPUTS_MAX_BYTES = 64 * 1024;

/**
 * How long the usage of a finished run waits for AWS Batch to report the
 * attempts whose containers are still stopping: 2 minutes.
 */
const USAGE_SETTLE_MS = 120_000;

/**
 * How long a cancelled run waits for the jobs it stopped to end
 * (`AwsTargetOptions.cancelStopWaitMs`): 1 minute, ECS's 30 s from SIGTERM
 * to SIGKILL, then the time AWS Batch takes to say the job FAILED.
 */
const CANCEL_STOP_WAIT_MS = 60_000;

/** The longest wait between two looks at the jobs a cancelled run stopped. */
const CANCEL_LOOK_MS = 2000;

/** Options for an {@linkcode AwsTarget}. */
export interface AwsTargetOptions {
  /** The AWS session. */
  session: AwsSession;
  /** The cloudknot config file, where runs and jobs are recorded. */
  state: StateFile;
  /** The knot's name. */
  knot: string;
  /** The bucket of the knot's job data. */
  bucket: string;
  /** The key prefix of the knot's job data, such as `cloudknot/<knot>`. */
  prefix: string;
  /** Server-side encryption for the objects the client writes. */
  sse?: S3Encryption;
  /** The job queue's ARN (or name). */
  jobQueue: string;
  /** The job definition's ARN (or `name:revision`). */
  jobDefinition: string;
  /**
   * The revision the knot ran before its first update, and when that update
   * began (ms since the epoch): a run whose manifest names no revision (one
   * of an earlier version) made before then retries on it once AWS Batch no
   * longer describes the run's jobs. @default {undefined}
   */
  updatedFrom?: { jobDefinition: string; at: number };
  /** The attempts each item gets: the job definition's `retryStrategy.attempts`. */
  attempts: number;
  /** The AWS profile, for the state file's `[batch-jobs <profile> <region>]`. */
  profile: string;
  /** The AWS region, for the state file's `[batch-jobs <profile> <region>]`. */
  region: string;
  /** The shortest wait between poll rounds, in milliseconds. @default {2000} */
  pollIntervalMs?: number;
  /** The longest wait between poll rounds, in milliseconds. @default {30000} */
  maxPollIntervalMs?: number;
  /**
   * How far before the newest record seen each poll round's listing of
   * records starts, in milliseconds (see `RecordFeed`). @default {2000}
   */
  recordLagMs?: number;
  /**
   * How long after a crashed attempt stopped its log's last lines may still
   * be on their way to CloudWatch Logs, in milliseconds (see
   * `RunPollerOptions.logLagMs`; a child's stream is read once for its items'
   * logs only once this has passed, `ItemLogsOptions.logLagMs`): a finite
   * number, 0 or more. @default {5000}
   */
  logLagMs?: number;
  /** The log group of the jobs' output. @default {"/aws/batch/job"} */
  logGroup?: string;
  /** The most items per array job (2 to 10,000); larger runs are split. @default {10000} */
  maxArraySize?: number;
  /** SubmitJob calls in flight at once (independent jobs). @default {10} */
  submitConcurrency?: number;
  /** Tags for every job, besides `cloudknot:knot` and `cloudknot:run`. */
  tags?: Record<string, string>;
  /** The wait before looking a job up by name a second time after a lost SubmitJob answer, ms. @default {2000} */
  reconcileDelayMs?: number;
  /**
   * How long a reader of a run whose manifest does not name a job for every
   * item waits for the missing jobs, in ms, from the last sign of the run's
   * submission (its index written, or the newest of its jobs submitted, by
   * AWS's clocks): the map that submits it may still be submitting, or was
   * killed with a SubmitJob on its way to AWS Batch. Meanwhile those items
   * are not settled, and each poll round looks for their jobs by name (one
   * ListJobs); after it, they end with `MissingJobError`. A submitting map
   * may go minutes between two of its jobs when AWS throttles or times it
   * out. @default {600000}
   */
  submitWindowMs?: number;
  /**
   * How long a reader still waits for the missing jobs of a run whose map
   * died while it submitted them, in ms, from when the reader first saw it
   * dead, when that is sooner than the end of `submitWindowMs`: a map holds
   * a mark beside the config file while it submits (`submit_mark.ts`), and a
   * reader with the same config file sees that the mark's holder is gone
   * (killed, crashed); only a SubmitJob it sent just before it died may
   * still land. A reader with another config file (or on another machine)
   * sees no mark and waits `submitWindowMs`. @default {60000}
   */
  submitGraceMs?: number;
  /** Called after each poll round of any run (diagnostics). */
  onPoll?: (runId: string, round: PollRound) => void;
  /** Called once per reason when a run's jobs are stuck in RUNNABLE (see {@linkcode StuckNotice}). */
  onStuck?: (runId: string, notice: StuckNotice) => void;
  /** How often an array waiting in RUNNABLE is checked for a stuck reason, ms. @default {60000} */
  stuckCheckIntervalMs?: number;
  /**
   * Called once per run when all its jobs have waited in RUNNABLE with no
   * reason for `waitingWarnMs` (see {@linkcode WaitingNotice}).
   */
  onWaiting?: (runId: string, notice: WaitingNotice) => void;
  /** How long a run's jobs may all wait in RUNNABLE without a reason before `onWaiting`, ms. @default {300000} */
  waitingWarnMs?: number;
  /** Where warnings go, such as waits while the knot is clobbered. @default {console.warn} */
  warn?: (message: string) => void;
  /**
   * How long a knot's clobber waits for the jobs it stopped to end before it
   * deletes their queue, in ms; Batch then terminates those still stopping,
   * and their items still read as cancelled by the clobber. @default {150000}
   */
  clobberStopWaitMs?: number;
  /**
   * How long a run's `cancel()` (or the map's `signal`) waits for the jobs
   * it stopped to end, in ms, looking every `pollIntervalMs` (at most every
   * 2 s), before it reads the run's records a last time and calls the items
   * without an end cancelled. A stopped job's container gets SIGTERM, on
   * which the job writes the records it holds and exits; ECS sends SIGKILL
   * 30 s later to one still running, and nothing is written after that. An
   * item whose job is still stopping when the wait is over is cancelled on
   * the handle while a later `collect()` reads the record it may still write:
   * the handle warns (`warn`) naming those items and their jobs, and each
   * one's error says so and to collect the run again once the job stopped.
   * A finite number, 0 or more.
   * @default {60000}
   */
  cancelStopWaitMs?: number;
  /**
   * Checks the job definition revision a map or retry would submit to,
   * before anything is read, uploaded or submitted: `awsTargetOptions` sets
   * the check of its runtime protocol (`batch/runtime_check.ts`), which
   * refuses a revision whose image runs another cloudknot version's job
   * runtime. @default {undefined}
   */
  checkRevision?: (request: RuntimeCheckRequest) => Promise<void>;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** A run a map started: its jobs, or, without items (or cancelled first), its empty handle. */
interface StartedRun {
  run?: MapRun<unknown>;
  info: RunInfo;
  store: S3Store;
  jobs?: RunJob[];
  manifest: RunManifest;
  /** Releases the run's submission mark, with its jobs: once its manifest with them is written. */
  release?: () => Promise<void>;
}

/**
 * The environment of every job of a run, as its SubmitJob requests override
 * it. ECS on EC2 does not tell containers their region (Fargate does), so
 * every job is told; this also repairs knots whose job definition predates
 * the variables. The user's own values win. The function may read them
 * (CLOUDKNOT_ENV_NAMES: its worker is granted those names). A small inputs
 * object is read whole, beside the index: the job is told its size (a job of
 * an older runtime ignores the variable). The knot and the run are named in
 * what an item's error says to do (job/main.ts). A retry given permissions of
 * its own passes them as the job definition passes the knot's
 * (CLOUDKNOT_PERMISSIONS, which the job grants its workers). Deno's own
 * messages reach the log without colour codes, unless the map's env says
 * otherwise.
 */
function runEnvironment(
  o: AwsTargetOptions,
  request: MapRequest,
  runId: string,
  inputsBytes: number,
): KeyValuePair[] {
  return Object.entries({
    ...NO_COLOR_ENV,
    ...jobEnvironment(o.session.region, request.env),
    ...(inputsBytes <= WHOLE_INPUTS_MAX_BYTES ? { [INPUTS_BYTES_ENV]: String(inputsBytes) } : {}),
    [KNOT_ENV]: o.knot,
    [RUN_ID_ENV]: runId,
    ...(request.permissions !== undefined
      ? { CLOUDKNOT_PERMISSIONS: JSON.stringify(request.permissions) }
      : {}),
  }).map(([name, value]) => ({ name, value }));
}

/** One SubmitJob request of a run: its job's command, environment, resources, timeout and tags. */
function submitJobRequest(
  o: AwsTargetOptions,
  request: MapRequest,
  run: {
    jobName: string;
    runId: string;
    store: string;
    environment: KeyValuePair[];
    job: GroupedJob;
    slicing: Slicing;
  },
): SubmitJobRequest {
  const { job, slicing, environment } = run;
  const slice = job.slice ?? 1;
  const concurrency = Math.max(1, Math.floor(job.resources?.vcpus ?? slicing.concurrency));
  const overrides = resourceOverrides(job.resources);
  // A child runs its slice in rounds of `concurrency` items: Batch's
  // timeout (the knot's, per item) is stretched to cover them all.
  const perItem = overrides.timeout.timeout ?? slicing.timeout;
  const timeout = slice > 1 && perItem !== undefined
    ? { timeout: sliceTimeout(perItem, slice, concurrency) }
    : overrides.timeout;
  return {
    jobName: run.jobName,
    jobQueue: o.jobQueue,
    jobDefinition: request.definition?.jobDefinition ?? o.jobDefinition,
    containerOverrides: {
      command: jobCommand({
        run: run.store,
        starmap: request.starmap,
        ...(job.array ? { offset: job.offset } : { index: job.offset }),
        ...(slice > 1 ? { slice, end: job.offset + job.size, concurrency } : {}),
      }),
      environment: Object.keys(overrides.environment).length === 0 ? environment : [
        ...environment.filter((v) => !(v.name! in overrides.environment)),
        ...Object.entries(overrides.environment).map(([name, value]) => ({ name, value })),
      ],
      ...overrides.containerOverrides,
    },
    ...timeout,
    tags: { ...o.tags, "cloudknot:knot": o.knot, "cloudknot:run": run.runId },
    ...(job.array ? { arrayProperties: { size: childCount(job) } } : {}),
  };
}

/**
 * Refuses a run whose SubmitJob requests would pass AWS Batch's 30 KiB,
 * before anything of it is written: each is built as the run builds it, for
 * a job of every shape the run may have (with the resources of each of its
 * groups, as an array of slices with a timeout), with the numbers still to
 * come (the job's index, its first and last item, its size, its timeout, the
 * inputs' size) counted at their longest.
 */
function checkRunRequests(
  o: AwsTargetOptions,
  request: MapRequest,
  run: { runId: string; store: string },
): void {
  const environment = runEnvironment(o, request, run.runId, 0);
  const shapes = [undefined, ...(request.groups ?? []).map((g) => g.resources)];
  for (const resources of shapes) {
    const submit = submitJobRequest(o, request, {
      ...run,
      jobName: `${o.knot}-${run.runId}-0`,
      environment,
      job: { offset: 0, size: 2, array: true, slice: 2, ...(resources ? { resources } : {}) },
      slicing: { slice: 2, concurrency: 1, timeout: { attemptDurationSeconds: 0 } },
    });
    // The job's number, its offset, slice, end and concurrency, its array's size, its
    // timeout, CLOUDKNOT_TIMEOUT and the inputs' size: each at most 16 digits.
    checkSubmitJobBytes(submit, { env: request.env, numbers: 9 });
  }
}

/**
 * Runs a knot's items on AWS Batch. What a knot is made of, and so its
 * clobber, comes with the knot: see `AwsKnotTarget`.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 * import { encodeItems } from "@cloudknot/cloudknot/codec";
 * import { StateFile } from "@cloudknot/cloudknot/state";
 * import { AwsTarget } from "./aws_target.ts";
 *
 * const session = await AwsSession.create();
 * const target = new AwsTarget({
 *   session, state: new StateFile(), knot: "squares", bucket: "my-bucket", prefix: "cloudknot/squares",
 *   jobQueue: queueArn, jobDefinition: definitionArn, attempts: 3, profile: session.profile, region: session.region,
 * });
 * const run = await target.map({ items: encodeItems([1, 2, 3]), starmap: false, env: {} });
 * console.log(await run.results());
 * ```
 */
export class AwsTarget implements Omit<Target, "clobber" | "summary"> {
  /** Which target this is. */
  readonly kind = "aws" as const;
  #o: AwsTargetOptions;
  #store: S3Store;
  #slicingFacts = new Map<string, ReturnType<typeof readSlicingFacts>>();
  /** When the knot's clobber began, once its record said so. */
  #clobberStartedAt?: number;
  /** Which job runs each item of the handles this target gave, for {@linkcode AwsTarget.itemJob}. */
  #itemJobs = new WeakMap<MapRun<unknown>, ItemJobs>();

  /**
   * Makes an AWS target from resources that already exist.
   *
   * @param options The session, the state file, the knot's bucket, queue and job definition.
   */
  constructor(options: AwsTargetOptions) {
    if (!NAME_RE.test(options.knot) || options.knot.length > 80) {
      throw new CloudknotInputError(
        `Invalid knot name "${options.knot}" for AWS Batch job names: use letters, digits, hyphens and underscores, starting with a letter or digit`,
        { field: "knot" },
      );
    }
    if (!Number.isInteger(options.attempts) || options.attempts < 1 || options.attempts > 10) {
      throw new CloudknotInputError(
        `attempts must be an integer from 1 to 10, not ${options.attempts}`,
        { field: "attempts" },
      );
    }
    const max = options.maxArraySize ?? MAX_ARRAY_SIZE;
    if (!Number.isInteger(max) || max < 2 || max > MAX_ARRAY_SIZE) {
      throw new CloudknotInputError(
        `maxArraySize must be an integer from 2 to ${MAX_ARRAY_SIZE}, not ${max}`,
        { field: "maxArraySize" },
      );
    }
    // Each wait, in milliseconds: what it is for, and its default.
    const waits = [
      [
        "logLagMs",
        "how long a crashed attempt's last log lines may take to reach CloudWatch Logs; 5000",
      ],
      [
        "submitWindowMs",
        "how long a reader waits for the jobs of a run still being submitted; 600000",
      ],
      [
        "submitGraceMs",
        "how long a reader waits for the jobs of a run whose map died while it submitted them; " +
        "60000",
      ],
      [
        "cancelStopWaitMs",
        "how long a cancelled run waits for the jobs it stopped to end before it reads their " +
        "records; 60000",
      ],
    ] as const;
    for (const [field, what] of waits) {
      const value = options[field];
      if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
        throw new CloudknotInputError(
          `${field} must be a finite number of milliseconds, 0 or more (${what} if left out), ` +
            `not ${describeValue(value)}`,
          { field },
        );
      }
    }
    this.#o = options;
    this.#store = new S3Store({
      session: options.session,
      bucket: options.bucket,
      prefix: options.prefix,
      ...(options.sse !== undefined ? { sse: options.sse } : {}),
    });
  }

  /** The store of the knot's job data (`s3://bucket/prefix`). */
  get store(): S3Store {
    return this.#store;
  }

  /**
   * Uploads the run's inputs and index, submits its jobs (array jobs of at
   * most 10,000 items, or one job per item), records the run in the state
   * file, and returns its handle; the results are polled for in the
   * background.
   *
   * @param request The encoded items and the map options.
   * @returns The run's handle.
   */
  async map<T>(request: MapRequest): Promise<MapRun<T>> {
    // A signal aborted already: nothing is read, asked or made (as fetch() does).
    request.signal?.throwIfAborted();
    const started = await this.#start(request);
    if (started.jobs === undefined) return started.run as MapRun<T>;
    const { info, store, jobs, manifest } = started;
    const { run, control } = this.#open<T>(info, store, manifest, jobs, {
      ...(request.signal ? { signal: request.signal } : {}),
      cancelOnAbort: true,
    });
    // The manifest with its jobs, for collect() from anywhere. It is written
    // while the first poll runs; until it is there, collect() finds the jobs
    // by their names.
    control.track(writeManifest(store, manifest).catch(() => {}).finally(started.release));
    return run;
  }

  /**
   * Submits one item as a job of its own (a run of one item), records it
   * like a run, and returns the job's handle; nothing polls it until its
   * `result()` is asked for.
   *
   * @param request The encoded item, starmap and environment.
   * @returns The job.
   */
  async submit(request: SubmitRequest): Promise<BatchJob> {
    const started = await this.#start({
      items: [request.item],
      starmap: request.starmap,
      env: request.env,
      jobType: "independent",
    });
    const { store, jobs, manifest, release } = started as Required<typeof started>;
    try {
      await writeManifest(store, manifest);
    } finally {
      await release();
    }
    const [job] = await BatchJob.fromIds([jobs[0]!.jobId], this.#batchJobOptions());
    if (job === undefined) {
      throw new SubmitError(
        `AWS Batch does not know job ${jobs[0]!.jobId}, just submitted for knot ${this.#o.knot}; ` +
          `look for it in the AWS Batch console`,
      );
    }
    return job;
  }

  /**
   * The ids of the knot's jobs that `[batch-jobs <profile> <region>]` lists,
   * oldest first (array parents; the children are reached through them).
   *
   * @returns The job ids.
   */
  jobIds(): Promise<string[]> {
    return knotJobIds(this.#o.state, this.#o);
  }

  /**
   * The knot's jobs as handles, oldest first: those {@linkcode AwsTarget.jobIds}
   * lists that AWS Batch still knows.
   *
   * @returns The jobs.
   */
  async jobs(): Promise<BatchJob[]> {
    return await BatchJob.fromIds(await this.jobIds(), this.#batchJobOptions());
  }

  /**
   * From when the knot's clobber stopped every job of its runs, and why, as
   * its record says (and, once the record is gone, as it said when last
   * read): a clobber past its wait deletes the queue of the jobs still
   * stopping, and Batch terminates them with a reason of its own, which AWS
   * does not document. A config file that cannot be read now counts as one
   * without the record.
   *
   * A handle that never saw the record note the clobber (it looked only once
   * the clobber had removed it) knows the knot was clobbered when its queue
   * is gone too (deleted, or being deleted), but not when that began: an
   * attempt that ended since the handle began to follow the run
   * (`watchedFrom`), and that it sees end only now, is taken as stopped by
   * it (a handle that polls looks again within its poll interval, 30 s at
   * most by default, and a clobber takes longer: it waits for its compute
   * environment's deletion); what ended before the handle followed the run
   * is not judged.
   */
  async #clobberedSince(
    watchedFrom: number,
    signal: AbortSignal,
  ): Promise<{ at: number; why: string } | undefined> {
    const record = await readAwsKnot(this.#o.state, this.#o.knot).catch(() => undefined);
    if (record !== undefined) this.#clobberStartedAt = record.clobberStartedAt;
    const why = knotClobberedWhy(this.#o.knot);
    if (this.#clobberStartedAt !== undefined) return { at: this.#clobberStartedAt, why };
    if (record !== undefined) return undefined;
    const { jobQueues } = await this.#o.session.batch.describeJobQueues({
      jobQueues: [this.#o.jobQueue],
    }, { signal });
    const status = jobQueues?.[0]?.status;
    const deleted = status === undefined || status === "DELETING" || status === "DELETED";
    return deleted ? { at: watchedFrom, why } : undefined;
  }

  #batchJobOptions() {
    const o = this.#o;
    return {
      session: o.session,
      ...(o.pollIntervalMs !== undefined ? { pollIntervalMs: o.pollIntervalMs } : {}),
      ...(o.maxPollIntervalMs !== undefined ? { maxPollIntervalMs: o.maxPollIntervalMs } : {}),
    };
  }

  /**
   * Uploads a run's inputs, submits its jobs and records the run; without
   * items (or when cancelled first) the run is an empty handle instead.
   */
  async #start(request: MapRequest): Promise<StartedRun> {
    const o = this.#o;
    checkJobEnvironment(
      request.env,
      request.permissions === undefined ? undefined : JSON.stringify(request.permissions),
    );
    // A knot whose clobber has begun (another process or handle) runs nothing: refused before
    // anything is read or uploaded (a retry through a reader of the knot's runs too).
    await refuseMapWhileClobbered(o.state, o.knot);
    // A retry runs on the revision of the run it retries, which may be older than the knot's.
    const { jobDefinition, attempts } = request.definition ??
      { jobDefinition: o.jobDefinition, attempts: o.attempts };
    // An image that runs another version's job runtime is refused before anything else.
    await o.checkRevision?.({
      jobDefinition,
      ...(request.retryOf !== undefined ? { retryOf: request.retryOf } : {}),
    });
    // Resources of their own are checked against the job definition, and against the instance
    // types the compute environment may launch, before anything is written.
    if (request.groups !== undefined) {
      await checkGroups(o.session.batch, jobDefinition, request.groups, {
        session: o.session,
        jobQueue: o.jobQueue,
      });
    }
    const runId = newRunId();
    const store = this.#store.at(`runs/${runId}`);
    // AWS Batch takes SubmitJob requests of at most 30 KiB: refused before anything is written.
    checkRunRequests(o, request, { runId, store: store.url });
    const createdAt = Date.now();
    const owner = await configOwner(o.state);
    // The first items are read first: a map without any asks AWS nothing more. Reading
    // stops once the signal aborts, also while the input waits for its next item.
    request.signal?.throwIfAborted();
    const items = await openItems(request.items, request.signal);
    // What slicing needs is read before anything is written, as the count is only known
    // after; one item, or one item per child, needs none of it.
    if (items !== undefined && !items.single && (request.itemsPerJob ?? "auto") !== 1) {
      await this.#readSlicingFacts(jobDefinition).catch(async (e) => {
        await items.close();
        throw e;
      });
    }
    // The inputs go up a chunk at a time as they are read (`run_inputs.ts`); a
    // bad item midway rejects here, with the upload aborted and nothing submitted.
    const uploaded = items === undefined
      ? { count: 0, bytes: 0, index: undefined }
      : await uploadInputs(store, items);
    const count = uploaded.count;
    const manifest: RunManifest = {
      version: 1,
      runId,
      knot: o.knot,
      count,
      starmap: request.starmap,
      createdAt,
      attempts,
      env: request.env,
      jobDefinition,
      ...(request.groups !== undefined ? { groups: request.groups } : {}),
      ...(request.retryOf !== undefined ? { retryOf: request.retryOf } : {}),
      owner,
    };
    const info: RunInfo = {
      knot: o.knot,
      runId,
      target: "aws",
      total: count,
      attempts,
      ...(request.retryOf !== undefined ? { retryOf: request.retryOf } : {}),
    };
    const empty = async () => {
      const { run } = MapRun.create<unknown>(info, { startedAt: manifest.createdAt });
      if (count > 0) await run.cancel(String(request.signal?.reason ?? "The run was cancelled"));
      return { run, info, store, manifest };
    };
    if (uploaded.index === undefined || count === 0) return await empty();
    // Held from before the index is written (before any reader sees the run) until its jobs are
    // submitted and recorded: a reader with this config file that finds it left by a process
    // that died waits only moments for jobs that may still come (`submit_mark.ts`).
    // A run whose jobs were submitted keeps it until its manifest with them is written (its
    // caller releases it): a clobber of the knot waits for it, and deletes that manifest too.
    const mark = await holdSubmitMark(o.state, o.knot, runId);
    let handedOver = false;
    try {
      const started = await this.#submitRun(
        request,
        { info, store, manifest },
        {
          ...uploaded,
          index: uploaded.index,
        },
        empty,
        mark,
      );
      if (started.jobs === undefined) return started;
      handedOver = true;
      return { ...started, release: () => mark.release() };
    } finally {
      if (!handedOver) await mark.release();
    }
  }

  /**
   * Writes a run's index (and its manifest when it does not fit on it),
   * submits its jobs and records the run: the part of {@linkcode AwsTarget.map}
   * that its submission mark covers.
   */
  async #submitRun(
    request: MapRequest,
    run: Omit<StartedRun, "run" | "jobs">,
    uploaded: UploadedInputs,
    empty: () => Promise<StartedRun>,
    mark: SubmitMark,
  ): Promise<StartedRun> {
    const o = this.#o;
    const { info, store, manifest } = run;
    const { runId } = info;
    const { count } = uploaded;
    // The revision the run's jobs run on (a retry's is the run's it retries).
    const jobDefinition = manifest.jobDefinition ?? o.jobDefinition;
    let slicing: Slicing;
    let plan: ReturnType<typeof planGroups>;
    try {
      // A clobber of the knot that began since the map's first look (above) and
      // before this map took its mark: nothing is submitted into a queue being deleted, and the
      // inputs go (the clobber may have deleted the knot's job data already). A clobber that
      // begins from now on waits for this map's mark (`waitForSubmissions`).
      await refuseMapWhileClobbered(o.state, o.knot);
      slicing = await this.#slicing(count, request.itemsPerJob ?? "auto", jobDefinition);
      if (slicing.slice > 1) manifest.itemsPerJob = slicing.slice;
      plan = planGroups(count, request.groups ?? [], {
        independent: request.jobType === "independent",
        maxArraySize: o.maxArraySize ?? MAX_ARRAY_SIZE,
        slice: slicing.slice,
      });
      if (request.signal?.aborted) {
        await store.delete(RUN_KEYS.inputs);
        return await empty();
      }
      // The manifest rides on the index when it fits S3's 2 KB of metadata;
      // a larger one (a long env, a retry of many items) is written as the
      // run's run.json first, without jobs, before any job is submitted.
      const meta = metadataJson(manifest);
      await store.put(RUN_KEYS.index, uploaded.index, {
        ...(meta !== undefined ? { metadata: { [MANIFEST_METADATA_KEY]: meta } } : {}),
      });
      if (meta === undefined) await writeManifest(store, manifest);
    } catch (e) {
      // Nothing was submitted: the run's data must not outlive it.
      await store.delete([RUN_KEYS.inputs, RUN_KEYS.index, RUN_KEYS.manifest]).catch(() => {});
      throw e;
    }
    const jobs = await this.#submit(runId, store, plan, request, slicing, uploaded.bytes, {
      manifest,
      mark,
    });
    manifest.jobs = jobs;
    try {
      await recordAwsRun(o.state, o, runId, jobs);
    } catch (e) {
      // A run nobody can find again must not run: all or nothing.
      await this.#stopJobs(jobs, "The run could not be recorded").catch(() => {});
      throw e;
    }
    return { info, store, jobs, manifest };
  }

  /**
   * How many items each child of a run runs (`slicing.ts`); the job
   * definition and compute environment are read once per target, before a
   * run's inputs are written, unless each child runs one item.
   */
  async #slicing(
    count: number,
    itemsPerJob: number | "auto",
    jobDefinition: string,
  ): Promise<Slicing> {
    if (count <= 1 || itemsPerJob === 1) return { slice: 1, concurrency: 1 };
    return sliceRun(await this.#readSlicingFacts(jobDefinition), count, itemsPerJob);
  }

  /**
   * The facts slicing reads, read once per target and job definition revision (again after a
   * failed read).
   */
  async #readSlicingFacts(
    jobDefinition: string,
  ): Promise<Awaited<ReturnType<typeof readSlicingFacts>>> {
    const o = this.#o;
    let facts = this.#slicingFacts.get(jobDefinition);
    if (facts === undefined) {
      facts = readSlicingFacts({ batch: o.session.batch, jobQueue: o.jobQueue, jobDefinition });
      this.#slicingFacts.set(jobDefinition, facts);
    }
    try {
      return await facts;
    } catch (e) {
      this.#slicingFacts.delete(jobDefinition);
      throw e;
    }
  }

  /**
   * What `map(request)` would write and submit, with nothing done.
   *
   * @param request The encoded items and the map options.
   * @param options `itemSeconds` adds an estimate.
   * @returns The plan.
   * @throws {RuntimeMismatchError} When `checkRevision` refuses the revision it would run on.
   */
  async plan(request: MapRequest, options: { itemSeconds?: number } = {}): Promise<Plan> {
    // Refused as its map would be (`checkRevision`).
    await this.#o.checkRevision?.({
      jobDefinition: request.definition?.jobDefinition ?? this.#o.jobDefinition,
      ...(request.retryOf !== undefined ? { retryOf: request.retryOf } : {}),
    });
    return await planAwsMap(this.#o, this.#store.url, request, options);
  }

  /**
   * An estimate of a run on the knot's compute (read from its job definition
   * and compute environment).
   *
   * @param count How many items.
   * @param options How long one item runs, the inputs' bytes, and the items per job.
   * @returns The estimate.
   */
  estimate(count: number, options: EstimateRequest): Promise<Estimate> {
    return estimateAwsRun(this.#o, count, options);
  }

  /**
   * Re-opens a run from any process: from its `run.json` in S3 (or, when
   * that is missing, from the manifest on its index and its jobs found by
   * name), then the same poll loop as `map`.
   *
   * @example Usage
   * ```ts ignore
   * // The run a command picked, its manifest not read again.
   * const manifests = new Map((await target.runsNamed(runId)).map((m) => [m.runId, m]));
   * const run = await target.collect(runId, { manifests });
   * ```
   *
   * @param runId The run's id.
   * @param options `signal` stops waiting (the jobs go on); `manifests`
   *   holds run manifests read already, by run id (as {@linkcode runsNamed}
   *   or {@linkcode runs} gave them), which are not read again when they name
   *   their jobs (one that does not may have gained them since), and gets the
   *   manifest of each run this opens (the run, and those it retries).
   * @returns The run's handle.
   */
  async collect<T>(
    runId: string,
    options: { signal?: AbortSignal; manifests?: Map<string, RunManifest> } = {},
  ): Promise<MapRun<T>> {
    if (typeof runId !== "string" || !/^[A-Za-z0-9_-]+$/.test(runId)) {
      throw new CloudknotInputError(`Invalid run id ${JSON.stringify(runId)}`, { field: "runId" });
    }
    const store = this.#store.at(`runs/${runId}`);
    // A manifest with its jobs is final (a retry is a run of its own; no one rewrites it):
    // one read a moment ago is the one read now. One without (the map still submits, or was
    // killed) gains them when they are all found: read again, as it may have since.
    const known = options.manifests?.get(runId);
    let manifest = known?.jobs !== undefined ? known : await this.#manifest(store);
    if (manifest === undefined) {
      throw new CloudknotInputError(
        `Knot ${this.#o.knot} has no run ${runId} in ${
          this.#store.url.replace(/\?.*$/, "")
        }: list its runs with knot.runs()`,
        { field: "runId" },
      );
    }
    let discovered: Discovered | undefined;
    if (manifest.jobs === undefined) {
      discovered = await this.#discoverJobs(runId);
      manifest = { ...manifest, jobs: discovered.jobs };
      // Kept only when complete: the run may still be being submitted. Not once the knot's
      // clobber has begun: it deletes the knot's prefix, and a manifest written after would be
      // left behind.
      if (
        uncovered(manifest.count, manifest.jobs!).length === 0 &&
        !await clobberHasBegun(this.#o.state, this.#o.knot).catch(() => true)
      ) {
        await writeManifest(store, manifest).catch(() => {});
        // A map killed once it had submitted every job left its mark: no reader needs it.
        await forgetSubmitMark(this.#o.state, this.#o.knot, runId);
      }
    }
    options.manifests?.set(runId, manifest);
    const { run } = this.#open<T>(
      {
        knot: this.#o.knot,
        runId,
        target: "aws",
        total: manifest.count,
        attempts: manifest.attempts,
        ...(manifest.retryOf !== undefined ? { retryOf: manifest.retryOf } : {}),
      },
      store,
      manifest,
      [...manifest.jobs!],
      { ...(options.signal ? { signal: options.signal } : {}), cancelOnAbort: false },
      discovered,
    );
    // A retry's handle covers the whole input, with the results of the run it retries.
    let earlier: MapRun<T> | undefined;
    const whole = await withEarlierResults(run, async (id) => {
      earlier = await this.collect<T>(id, options);
      return earlier;
    });
    if (whole !== run && earlier !== undefined) {
      const retried = this.#itemJobs.get(run as MapRun<unknown>)!;
      const before = this.#itemJobs.get(earlier as MapRun<unknown>)!;
      const position = new Map(run.retryOf!.items.map((index, k) => [index, k]));
      this.#itemJobs.set(whole as MapRun<unknown>, {
        jobOf: (index) => {
          const k = position.get(index);
          return k === undefined ? before.jobOf(index) : retried.jobOf(k);
        },
        // A round of each run's poll loop still going: the handle stands as its runs are now.
        nextLook: () =>
          Promise.all(
            [retried, before].filter((part) => part.following()).map((part) => part.nextLook()),
          ).then(() => {}),
        following: () => retried.following() || before.following(),
        stopped: Promise.all([retried.stopped, before.stopped]).then(() => {}),
      });
    }
    return whole;
  }

  /**
   * The AWS Batch job that runs item `index` of a run whose handle this
   * target gave (`map()` or `collect()`), as an id `BatchJob.fromId` takes
   * (`<id>:<child>` for an array child): a job the run's manifest names, or
   * one found by name, when the handle was opened or since. While no job
   * runs the item yet (the run's map is still submitting it, or was killed
   * with a SubmitJob on its way), this waits as the handle looks for it each
   * poll round, within the submission window (`submitWindowMs`; the handle
   * warns once that it waits).
   *
   * @example Usage
   * ```ts ignore
   * const run = await target.collect(runId);
   * const jobId = await target.itemJob(run, 2);
   * if (jobId !== undefined) {
   *   for await (const line of (await BatchJob.fromId(jobId, { session })).logs({ follow: true })) {
   *     console.log(line);
   *   }
   * }
   * ```
   *
   * @param run The run's handle.
   * @param index The item's position in the run's inputs.
   * @param options `signal` stops waiting; `wait: false` does not wait: the
   *   job known now, if any (`wait` @default {true}).
   * @returns The job's id, or `undefined` when the item ended with no job
   *   found (`MissingJobError`, or read from the record of a job Batch no
   *   longer lists), when the handle stopped following the run, for a
   *   handle this target did not give, or, with `wait: false`, when no job
   *   of the item is known yet.
   * @throws The signal's reason, once it aborts.
   */
  async itemJob(
    run: MapRun<unknown>,
    index: number,
    options: { signal?: AbortSignal; wait?: boolean } = {},
  ): Promise<string | undefined> {
    const jobs = this.#itemJobs.get(run);
    if (jobs === undefined) return undefined;
    for (;;) {
      const id = jobs.jobOf(index);
      if (id !== undefined || options.wait === false) return id;
      if (run.settledItem(index) !== undefined || !jobs.following()) return undefined;
      options.signal?.throwIfAborted();
      const woken = Promise.withResolvers<void>();
      const onAbort = () => woken.resolve();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const off = run.onUpdate(() => woken.resolve());
      try {
        // The poll round that may find its job, or an update that may settle the item.
        await Promise.race([jobs.nextLook(), woken.promise]);
      } finally {
        off();
        options.signal?.removeEventListener("abort", onAbort);
      }
    }
  }

  /**
   * Resolves once a handle this target gave (`map()` or `collect()`; a
   * retry's, with the handles of the runs it retries) has stopped polling
   * AWS, its last round's requests ended: every item settled, its run was
   * cancelled, or `collect()`'s signal stopped it following the run. A
   * caller that stops a handle's wait awaits it, so that nothing of the
   * handle is left running (a request, or a retry's wait) once it goes on.
   * At once for a handle this target did not give.
   *
   * @example Usage
   * ```ts ignore
   * const stop = new AbortController();
   * const run = await target.collect(runId, { signal: stop.signal });
   * stop.abort();
   * await target.stopped(run); // no request of the handle is left
   * ```
   *
   * @param run The run's handle.
   */
  async stopped(run: MapRun<unknown>): Promise<void> {
    await this.#itemJobs.get(run)?.stopped;
  }

  /**
   * The knot's runs, oldest first: those the state file remembers and those
   * found under `<prefix>/runs/` in the bucket.
   *
   * @returns Each run's manifest.
   */
  async runs(): Promise<RunManifest[]> {
    return (await this.#scanRuns()).runs;
  }

  /**
   * What a knot's job data holds: its runs, as {@linkcode runs} lists them,
   * and the ids of the run folders under `<prefix>/runs/` without a
   * manifest: the data of maps stopped before their index was written (killed
   * while they uploaded their inputs), or of one uploading now. A bucket that
   * is gone holds neither.
   *
   * @returns The runs, oldest first, and the unfinished run ids.
   */
  async runData(): Promise<{ runs: RunManifest[]; unfinished: string[] }> {
    try {
      return await this.#scanRuns();
    } catch (e) {
      if (isAwsCode(e, "NoSuchBucket")) return { runs: [], unfinished: [] };
      throw e;
    }
  }

  /**
   * The runs a command that opens one run may mean, with only their
   * manifests read (where {@linkcode runs} reads every run's): with `runId`,
   * the run of that id, or else each run whose id starts with it; without,
   * the latest run last, after the runs read to find it (those of its second,
   * which a handle of a retry among them opens with, not reading them again).
   * Picking among them picks what picking among all the knot's runs would.
   *
   * @example Usage
   * ```ts ignore
   * const latest = (await target.runsNamed()).at(-1);
   * const matching = await target.runsNamed("20261126T12");
   * ```
   *
   * @param runId A run's id, or the start of one; the latest run when omitted.
   * @returns Their manifests, oldest first: none when no run has one.
   */
  async runsNamed(runId?: string): Promise<RunManifest[]> {
    // A whole id (as a retry names the run it retries) is read without listing the runs.
    if (runId !== undefined && FULL_RUN_ID.test(runId)) {
      const named = await this.#manifest(this.#store.at(`runs/${runId}`));
      if (named !== undefined) return [named];
    }
    const { ids } = await this.#runIds();
    if (runId === undefined) return await this.#latestRun(ids);
    const matching = ids.filter((id) => id !== runId && id.startsWith(runId));
    return byCreation((await this.#manifests(matching)).filter(isManifest));
  }

  /**
   * The latest run, read from the newest run ids down: an id starts with the
   * second its run was made, and the manifests' `createdAt` orders the runs
   * of one second. An older second's runs are read only while none of the
   * newer ones has a manifest (a map killed while it uploaded its inputs).
   * Every manifest read is returned, oldest first, the latest last.
   */
  async #latestRun(ids: string[]): Promise<RunManifest[]> {
    const seconds = Map.groupBy(ids, (id) => RUN_SECOND.exec(id)?.[0]);
    // An id of another form could be of any time: it is read with the newest.
    const found = (await this.#manifests(seconds.get(undefined) ?? [])).filter(isManifest);
    const newestFirst = [...seconds.keys()].filter((s) => s !== undefined).sort().reverse();
    for (const second of newestFirst) {
      const manifests = (await this.#manifests(seconds.get(second)!)).filter(isManifest);
      found.push(...manifests);
      if (manifests.length > 0) break;
    }
    return byCreation(found);
  }

  /**
   * The runs made since run `runId` (from its second on: a run's id starts with the second it
   * was made), with only their manifests read: where a retry of it is, without reading every run.
   */
  async #runsSince(runId: string): Promise<RunManifest[]> {
    const since = RUN_SECOND.exec(runId)?.[0];
    const { ids } = await this.#runIds();
    const later = ids.filter((id) => {
      const second = RUN_SECOND.exec(id)?.[0];
      return id !== runId && (since === undefined || second === undefined || second >= since);
    });
    return byCreation((await this.#manifests(later)).filter(isManifest));
  }

  async #scanRuns(): Promise<{ runs: RunManifest[]; unfinished: string[] }> {
    const { ids, folders } = await this.#runIds();
    const manifests = await this.#manifests(ids);
    return {
      runs: byCreation(manifests.filter(isManifest)),
      unfinished: ids.filter((id, i) => folders.has(id) && manifests[i] === undefined),
    };
  }

  /** The ids of the knot's runs: those the config file records and the run folders in the bucket. */
  async #runIds(): Promise<{ ids: string[]; folders: Set<string> }> {
    const all = new Set(await recordedRuns(this.#o.state, this.#o.knot));
    const folders = new Set<string>();
    for await (const id of this.#store.folders("runs/")) {
      folders.add(id);
      all.add(id);
    }
    return { ids: [...all], folders };
  }

  /** The manifests of these runs, each read at once: `undefined` for a run without one. */
  async #manifests(ids: string[]): Promise<(RunManifest | undefined)[]> {
    return await Promise.all(ids.map((id) => this.#manifest(this.#store.at(`runs/${id}`))));
  }

  async #manifest(store: S3Store): Promise<RunManifest | undefined> {
    const manifest = await readManifest(store);
    if (manifest !== undefined) return manifest;
    const head = await store.head(RUN_KEYS.index);
    const meta = head?.metadata[MANIFEST_METADATA_KEY];
    if (meta === undefined) return undefined;
    try {
      return JSON.parse(meta) as RunManifest;
    } catch {
      return undefined;
    }
  }

  /**
   * Finds a run's jobs by name on the queue (for runs whose `run.json` is
   * missing), and when the newest of them was submitted (AWS Batch's
   * `createdAt`).
   */
  async #discoverJobs(runId: string, signal?: AbortSignal): Promise<Discovered> {
    const { batch } = this.#o.session;
    const prefix = `${this.#o.knot}-${runId}-`;
    const found = new Map<string, { jobId: string; createdAt: number }>();
    let lastSubmittedAt: number | undefined;
    for await (
      const job of batch.listJobsAll({
        jobQueue: this.#o.jobQueue,
        filters: [{ name: "JOB_NAME", values: [`${prefix}*`] }],
      }, { signal })
    ) {
      signal?.throwIfAborted();
      if (!job.jobName.startsWith(prefix)) continue;
      if (job.createdAt !== undefined) {
        lastSubmittedAt = Math.max(lastSubmittedAt ?? 0, job.createdAt);
      }
      const seen = found.get(job.jobName);
      if (seen === undefined || (job.createdAt ?? 0) < seen.createdAt) {
        found.set(job.jobName, { jobId: job.jobId, createdAt: job.createdAt ?? 0 });
      }
    }
    const details = await describeJobs(
      batch,
      [...found.values()].map((f) => f.jobId),
      signal ? { signal } : {},
    );
    const jobs: RunJob[] = [];
    for (const d of details.values()) {
      const command = parseJobCommand(d.container?.command ?? []);
      const size = d.arrayProperties?.size;
      const offset = command.index ?? command.offset ?? 0;
      const slice = command.slice ?? 1;
      jobs.push({
        jobId: d.jobId,
        jobName: d.jobName,
        offset,
        size: command.end !== undefined ? command.end - offset : (size ?? 1) * slice,
        array: size !== undefined,
        ...(slice > 1 ? { slice } : {}),
      });
    }
    jobs.sort((a, b) => a.offset - b.offset);
    return { jobs, ...(lastSubmittedAt !== undefined ? { lastSubmittedAt } : {}) };
  }

  async #submit(
    runId: string,
    store: S3Store,
    plan: ReturnType<typeof planGroups>,
    request: MapRequest,
    slicing: Slicing,
    inputsBytes: number,
    { manifest, mark }: { manifest: RunManifest; mark: SubmitMark },
  ): Promise<RunJob[]> {
    const o = this.#o;
    const environment = runEnvironment(o, request, runId, inputsBytes);
    const jobs: RunJob[] = new Array(plan.length);
    const nameOf = (n: number) => `${o.knot}-${runId}-${n}`;
    const failures = await forEachPooled(plan, o.submitConcurrency ?? 10, async (job, n) => {
      const jobName = nameOf(n);
      const slice = job.slice ?? 1;
      const submit = submitJobRequest(o, request, {
        jobName,
        runId,
        store: store.url,
        environment,
        job,
        slicing,
      });
      const { jobId } = await submitJobOnce(o.session.batch, submit, {
        ...(o.reconcileDelayMs !== undefined ? { reconcileDelayMs: o.reconcileDelayMs } : {}),
      });
      await mark.submitted();
      jobs[n] = {
        jobId,
        jobName,
        offset: job.offset,
        size: job.size,
        array: job.array,
        ...(slice > 1 ? { slice } : {}),
      };
    }, { stopOnError: true });
    const [failure] = failures;
    if (failure !== undefined) {
      // A job whose SubmitJob answer was lost for good may exist all the same: looked for by
      // name once more, it is stopped with the others and recorded.
      if (failures.some(outcomeUnknown)) {
        await forEachPooled(plan, 10, async (job, n) => {
          if (jobs[n] !== undefined) return;
          const found = await findJobByName(o.session.batch, o.jobQueue, nameOf(n));
          if (found === undefined) return;
          const slice = job.slice ?? 1;
          jobs[n] = {
            jobId: found.jobId,
            jobName: found.jobName,
            offset: job.offset,
            size: job.size,
            array: job.array,
            ...(slice > 1 ? { slice } : {}),
          };
        });
      }
      const submitted = jobs.filter((j) => j !== undefined);
      // A job definition deregistered under the knot: what gets a working one back. A retry
      // runs on its run's revision, which no new revision brings back: its items are mapped
      // again instead.
      const definition = request.definition?.jobDefinition ?? o.jobDefinition;
      const gone = await this.#jobDefinitionGone(failure, definition);
      const again = request.retryOf === undefined
        ? "map again"
        : `retry again with ${retryAdvice(o.knot, request.retryOf.runId)}${
          gone
            ? ` of the knot created again (a retry runs on its run's job definition, or on the ` +
              `knot's new one when that runs the same image)`
            : ""
        }`;
      const why = `Submitting run ${runId} of knot ${o.knot} failed`;
      const cause = (failure as Error)?.message ?? failure;
      const fix = gone ? deregisteredAdvice(o.knot, definition) : "fix the cause";
      if (submitted.length === 0 && !outcomeUnknown(failure)) {
        // No job exists: the run's data must not outlive it, or knot.runs() would list a run
        // whose every item a later collect() waits for, then calls missing.
        await store.delete([RUN_KEYS.inputs, RUN_KEYS.index, RUN_KEYS.manifest]).catch(() => {});
        throw new SubmitError(
          `${why} at its first job (${cause}); nothing was submitted and the run's data was ` +
            `removed: ${fix} and ${again}`,
          { cause: failure },
        );
      }
      await this.#stopJobs(submitted, "The rest of the run could not be submitted").catch(() => {});
      // The record every reader trusts at once: the jobs there are, and that no other comes
      // (readers end the other items as never submitted, instead of waiting for the
      // submission window). Written before the run's submission mark is released.
      const gaveUp: SubmitGaveUp = { at: Date.now(), why: String(cause) };
      await writeManifest(
        store,
        { ...manifest, jobs: submitted, submitGaveUp: gaveUp } as AwsRunManifest,
      ).catch(() => {});
      throw new SubmitError(
        `${why} after ${submitted.length} of ${plan.length} jobs (${cause}); the submitted jobs ` +
          `were stopped: ${fix} and ${again}`,
        { cause: failure },
      );
    }
    return jobs;
  }

  /**
   * Whether a SubmitJob Batch refused was refused because the knot's job
   * definition is no longer ACTIVE (deregistered outside cloudknot), as
   * DescribeJobDefinitions, which lists INACTIVE revisions too, says.
   */
  async #jobDefinitionGone(failure: unknown, jobDefinition: string): Promise<boolean> {
    if (!isAwsCode(failure, "ClientException")) return false;
    const { jobDefinitions } = await this.#o.session.batch.describeJobDefinitions({
      jobDefinitions: [jobDefinition],
    }).catch(() => ({ jobDefinitions: undefined }));
    if (jobDefinitions === undefined) return false;
    return jobDefinitions[0]?.status !== "ACTIVE";
  }

  /**
   * The knot's jobs on AWS Batch (those `[batch-jobs <profile> <region>]`
   * lists) as a table, array children summarised.
   *
   * @returns The view.
   */
  async viewJobs(): Promise<JobsView> {
    const { state, session } = this.#o;
    return await viewJobs(await knotJobIds(state, this.#o), { session });
  }

  /** Makes the run's handle and starts its poll loop. */
  /**
   * The job definition revision a run's jobs ran on, for a run whose
   * manifest does not say (one of an earlier version): Batch's description of
   * one of its jobs, or `undefined` once Batch no longer describes them.
   */
  async #ranOn(jobs: readonly RunJob[]): Promise<string | undefined> {
    const first = jobs[0];
    if (first === undefined) return undefined;
    const found = await describeJobs(this.#o.session.batch, [first.jobId]).catch(() => undefined);
    return found?.get(first.jobId)?.jobDefinition;
  }

  /**
   * The revision the knot ran when a run of an earlier version was made,
   * once Batch no longer describes its jobs: the one before the knot's first
   * update for a run made before it; `undefined` (the knot's own) otherwise.
   */
  #ranBeforeUpdate(createdAt: number): string | undefined {
    const from = this.#o.updatedFrom;
    return from !== undefined && createdAt < from.at ? from.jobDefinition : undefined;
  }

  /**
   * The revision a run's retry runs on: the run's own, unless it was
   * deregistered outside cloudknot (INACTIVE, whose jobs Batch refuses) and
   * the knot's revision runs the same image, by digest, so the same function
   * (a heal registers one so). Else the run's own, whose refusal says what to do.
   */
  async #stillRuns(ran: string): Promise<string> {
    const current = this.#o.jobDefinition;
    if (ran === current) return ran;
    const { jobDefinitions = [] } = await this.#o.session.batch.describeJobDefinitions({
      jobDefinitions: [ran, current],
    }).catch(() => ({ jobDefinitions: undefined }));
    const [own, knots] = [ran, current].map((arn) =>
      jobDefinitions.find((d) => d.jobDefinitionArn === arn)
    );
    const same = own !== undefined && knots?.status === "ACTIVE" &&
      own.containerProperties?.image === knots.containerProperties?.image;
    return own?.status !== "ACTIVE" && same ? current : ran;
  }

  /**
   * The revision a retry of a run made on `ran` runs on: `ran`, unless its
   * image runs another cloudknot version's job runtime and the knot was
   * created again with its own function and options since, which registered
   * a revision rebuilt from it (`rebuiltRevision`): that one. Else the check
   * refuses `ran`, as the retry's map would, before anything is written.
   */
  async #onThisRuntime(ran: string, runId: string): Promise<string> {
    const check = this.#o.checkRevision;
    if (check === undefined) return ran;
    try {
      await check({ jobDefinition: ran, retryOf: { runId } });
      return ran;
    } catch (e) {
      if (!(e instanceof RuntimeMismatchError)) throw e;
      return await rebuiltRevision(this.#o.session.batch, ran) ?? Promise.reject(e);
    }
  }

  #open<T>(
    info: RunInfo,
    store: S3Store,
    manifest: RunManifest,
    jobs: RunJob[],
    watch: { signal?: AbortSignal; cancelOnAbort: boolean },
    discovered?: Discovered,
  ): { run: MapRun<T>; control: RunControl } {
    const startedAt = manifest.createdAt;
    const signal = watch.signal;
    /** What stops this handle's waits without cancelling the run (collect's signal). */
    const watching = watch.cancelOnAbort ? undefined : signal;
    const o = this.#o;
    const stop = new AbortController();
    let polling: Promise<void> = Promise.resolve();
    const itemLogs = new ItemLogs({
      batch: o.session.batch,
      logs: o.session.logs,
      logGroup: o.logGroup ?? BATCH_LOG_GROUP,
      ...(o.logLagMs !== undefined ? { logLagMs: o.logLagMs } : {}),
    });
    const { run, control } = MapRun.create<T>(info, {
      startedAt,
      onCancel: async (reason): Promise<Unconfirmed | undefined> => {
        stop.abort();
        await polling;
        let stopping: string[] = [];
        try {
          const stopped = await this.#stopJobs(jobs, reason);
          // A stopped job writes the records it holds as it stops (SIGTERM), after TerminateJob
          // answered: its items keep those ends, as every later reader of the run reads them.
          stopping = stopped;
          stopping = await waitForJobsToEnd(o.session.batch, stopped, {
            pollMs: Math.min(o.pollIntervalMs ?? CANCEL_LOOK_MS, CANCEL_LOOK_MS),
            timeoutMs: o.cancelStopWaitMs ?? CANCEL_STOP_WAIT_MS,
          }).catch(() => stopping);
        } finally {
          // The handle's poller (made below, before anything can cancel the run) reads it a last time.
          await poller.last();
        }
        return this.#unconfirmed(info.runId, jobs, stopping, reason, (i) => control.isSettled(i));
      },
      // An attempt that ended without the item's record, its last or one Batch retried, has its
      // job's own lines too: why.
      logs: (index, attempt): AsyncGenerator<string> =>
        this.#logs(jobs, itemLogs, index, attempt, poller.endedWithoutRecord(index, attempt)),
      withoutRecord: (index, attempt): boolean => poller.endedWithoutRecord(index, attempt),
      usage: async () => {
        const read = () =>
          awsRunUsage({
            batch: o.session.batch,
            knot: o.knot,
            runId: info.runId,
            jobs,
            jobQueue: o.jobQueue,
            region: o.region,
          });
        let usage = await read();
        // Once every item has settled, a container that wrote its last record (or was told
        // to stop) may still be stopping; Batch reports its stop time only once it has
        // stopped. Wait for that, so a finished run's report counts every attempt.
        const until = Date.now() + USAGE_SETTLE_MS;
        while (
          run.finished && usage.attempts.some((a) => a.outcome === "running") &&
          Date.now() < until
        ) {
          // Not once the handle stopped following the run (collect's signal): what was read is
          // given, and no timer is left after the stop.
          if (watching?.aborted) break;
          await sleep(o.pollIntervalMs ?? 2000, watching);
          if (watching?.aborted) break;
          usage = await read();
        }
        return usage;
      },
      retriedBy: (signal) =>
        latestRetry(
          {
            runs: () => this.#runsSince(info.runId),
            collect: (id, options) => this.collect(id, options),
          },
          info.runId,
          signal,
        ),
      // On the revision the run ran on: its function, whatever the knot was updated to since.
      resubmit: async (request) => {
        const ran = manifest.jobDefinition ?? await this.#ranOn(jobs) ??
          this.#ranBeforeUpdate(manifest.createdAt);
        const jobDefinition = ran === undefined
          ? undefined
          : await this.#onThisRuntime(await this.#stillRuns(ran), manifest.runId);
        return await this.map({
          ...await resubmitRequest(store, manifest, request),
          ...(jobDefinition !== undefined
            ? { definition: { jobDefinition, attempts: manifest.attempts } }
            : {}),
        });
      },
      reread: (signal) => this.#reread(info.runId, signal),
    });
    // Items no job covers: the run is still being submitted, or its submission stopped part-way,
    // maybe with a SubmitJob on its way. Their jobs are looked for until the window closes.
    const lateJobs = uncovered(info.total, jobs).length > 0
      ? this.#lateJobs(info.runId, store, manifest, jobs, discovered)
      : undefined;
    // Each poll round may find a late job: who waits for one (`itemJob`) looks again after it.
    let look = Promise.withResolvers<void>();
    let following = true;
    const stopped = Promise.withResolvers<void>();
    this.#itemJobs.set(run as MapRun<unknown>, {
      jobOf: (index) => {
        const job = jobs.find((j) => index >= j.offset && index < j.offset + j.size);
        return job === undefined ? undefined : childId(job, index);
      },
      nextLook: () => look.promise,
      following: () => following,
      stopped: stopped.promise,
    });
    const looked = () => {
      look.resolve();
      look = Promise.withResolvers<void>();
    };
    // From now on this handle sees each of the run's attempts that ends.
    const watchedFrom = Date.now();
    const poller = new RunPoller({
      batch: o.session.batch,
      logs: o.session.logs,
      run: store,
      jobs,
      attempts: info.attempts,
      control,
      total: info.total,
      minIntervalMs: o.pollIntervalMs ?? 2000,
      maxIntervalMs: o.maxPollIntervalMs ?? 30_000,
      ...(o.recordLagMs !== undefined ? { recordLagMs: o.recordLagMs } : {}),
      ...(o.logLagMs !== undefined ? { logLagMs: o.logLagMs } : {}),
      onRound: (round: PollRound) => {
        o.onPoll?.(info.runId, round);
        looked();
      },
      ...(o.onStuck ? { onStuck: (notice: StuckNotice) => o.onStuck!(info.runId, notice) } : {}),
      // A retry's stuck jobs are answered with the retry's options, not the knot's.
      ...(info.retryOf !== undefined ? { caller: "retry" as const } : {}),
      ...(o.stuckCheckIntervalMs !== undefined
        ? { stuckCheckIntervalMs: o.stuckCheckIntervalMs }
        : {}),
      ...(o.onWaiting
        ? { onWaiting: (notice: WaitingNotice) => o.onWaiting!(info.runId, notice) }
        : {}),
      ...(o.waitingWarnMs !== undefined ? { waitingWarnMs: o.waitingWarnMs } : {}),
      stoppedSince: (signal) => this.#clobberedSince(watchedFrom, signal),
      ...(lateJobs !== undefined ? { lateJobs } : {}),
      // A wait that cannot use AWS for a while rides it out and says so (batch/outage.ts).
      onOutage: (notice) => (o.warn ?? console.warn)(outageWords(notice, o.knot, info.runId)),
      readAgain: `collect the run again (knot.collect("${info.runId}") of knot ${o.knot})`,
    });
    // map()'s signal cancels the run; collect()'s only stops waiting, as locally.
    const abort = watch.cancelOnAbort
      ? () => void run.cancel(String(signal?.reason ?? "The run was cancelled")).catch(() => {})
      : () => stop.abort();
    polling = poller.run(stop.signal).finally(() => {
      signal?.removeEventListener("abort", abort);
      following = false;
      looked();
      stopped.resolve();
    });
    control.track(polling);
    if (signal?.aborted) abort();
    else signal?.addEventListener("abort", abort, { once: true });
    return { run, control };
  }

  /**
   * How a run's handle finds the jobs its manifest does not name: by name,
   * each poll round, adding them to `jobs` (which its cancel, logs and usage
   * read), until the submission window (`submitWindowMs`) has passed since
   * the last sign of the run's submission: its index written, or the newest
   * of its jobs submitted. Once every item has a job, the manifest is
   * written with them, so that later readers need no look.
   */
  #lateJobs(
    runId: string,
    store: S3Store,
    manifest: RunManifest,
    jobs: RunJob[],
    discovered?: Discovered,
  ): LateJobs {
    const o = this.#o;
    /** The look by name the handle's open just made: the first round takes it instead of another. */
    let first = discovered;
    const windowMs = o.submitWindowMs ?? SUBMIT_WINDOW_MS;
    const graceMs = o.submitGraceMs ?? SUBMIT_GRACE_MS;
    let started: Promise<number> | undefined;
    /** The last sign of the run's submission, as last seen. */
    let lastSign = manifest.createdAt;
    /** When the map submitting the run was first seen dead part-way, by any reader. */
    let diedSeenAt: number | undefined;
    /** The map's record that its submission failed and it gave up (`submitGaveUp`). */
    let gaveUp = (manifest as AwsRunManifest).submitGaveUp;
    /** The looks made so far. */
    let rounds = 0;
    let told = false;
    return {
      find: async (signal) => {
        // Every request of a look carries the poll's signal: one under way when polling stops
        // (logs --follow ending, collect's signal) ends then, with its retries' waits.
        const run = store.withSignal(signal);
        const indexWritten = started ??= run.head(RUN_KEYS.index).then(
          (head) => head?.lastModified ?? manifest.createdAt,
          () => {
            // Asked again by a later look, unless it failed for another reason than the stop.
            if (signal.aborted) started = undefined;
            return manifest.createdAt;
          },
        );
        // A map that gave up records so, with its jobs, before it lets go of its mark: read
        // before the jobs are looked for, so that what it submitted is found too. Not in the
        // first round: the handle opened with the manifest just read (read once, not twice).
        if (rounds++ > 0) {
          gaveUp ??= (await readManifest(run).catch(() => undefined) as AwsRunManifest | undefined)
            ?.submitGaveUp;
        }
        signal.throwIfAborted();
        const found = first ?? await this.#discoverJobs(runId, signal);
        first = undefined;
        const known = new Set(jobs.map((j) => j.jobId));
        for (const job of found.jobs) if (!known.has(job.jobId)) jobs.push(job);
        const left = uncovered(manifest.count, jobs);
        signal.throwIfAborted();
        if (gaveUp !== undefined && left.length > 0) {
          // No other job comes: the items left are ended at once, and its mark is of no use.
          await forgetSubmitMark(o.state, o.knot, runId);
          return { jobs: found.jobs, over: true };
        }
        if (left.length === 0) {
          jobs.sort((a, b) => a.offset - b.offset);
          // As collect(): nothing is written under a prefix the knot's clobber deletes.
          if (!await clobberHasBegun(o.state, o.knot).catch(() => true)) {
            await writeManifest(run, { ...manifest, jobs }).catch(() => {});
          }
          signal.throwIfAborted();
          // A map killed once it had submitted every job left its mark: no reader needs it.
          await forgetSubmitMark(o.state, o.knot, runId);
          return { jobs: found.jobs, over: false };
        }
        lastSign = Math.max(await indexWritten, found.lastSubmittedAt ?? 0);
        signal.throwIfAborted();
        const windowEnd = lastSign + windowMs;
        // A map with this config file that died part-way: only a job it sent just before may come.
        if (diedSeenAt === undefined && Date.now() < windowEnd) {
          diedSeenAt = await submitterDiedAt(o.state, o.knot, runId);
        }
        const until = Math.min(
          windowEnd,
          diedSeenAt === undefined ? Infinity : diedSeenAt + graceMs,
        );
        const over = Date.now() >= until;
        // No reader waits for it any more: its mark is of no more use.
        if (Date.now() >= windowEnd) await forgetSubmitMark(o.state, o.knot, runId);
        if (!over && !told) {
          told = true;
          const they = left.length === 1 ? "it" : "them";
          const theirJobs = left.length === 1 ? "its job" : "their jobs";
          (o.warn ?? console.warn)(
            `${itemsInWords(left)} of run ${runId} of knot ${o.knot} ${
              left.length === 1 ? "has" : "have"
            } no AWS Batch job yet: ${
              diedSeenAt === undefined
                ? "the map that submits the run is still submitting it, or stopped part-way " +
                  "with a job maybe on its way"
                : `the map that submitted the run with this config file ended before it ` +
                  `submitted ${theirJobs} (it was killed, or crashed), and only a job it sent ` +
                  `just before may still come`
            }. Waiting for ${theirJobs} until ${
              new Date(until).toISOString()
            }; do not map ${they} ` +
              `again meanwhile`,
          );
        }
        return { jobs: found.jobs, over };
      },
      missing: (index) => {
        if (gaveUp !== undefined) {
          return failureRecord({ index, attempt: 1, jobId: "", kind: "infrastructure" }, {
            name: "MissingJobError",
            message: `No AWS Batch job of run ${runId} runs item ${index}: the map that ` +
              `submitted the run gave up at ${new Date(gaveUp.at).toISOString()}, when its ` +
              `SubmitJob failed (${gaveUp.why}), before it submitted this item's job, so it ` +
              `was never submitted and never ran; fix the cause and map it again with ` +
              `${retryAdvice(o.knot, runId)}`,
          });
        }
        const last = new Date(lastSign).toISOString();
        return failureRecord({ index, attempt: 1, jobId: "", kind: "infrastructure" }, {
          name: "MissingJobError",
          message: `No AWS Batch job of run ${runId} runs item ${index}, and none of the run's ` +
            `jobs was submitted after ${last}: the map that submitted the run stopped part-way ` +
            `(killed, or its SubmitJob failed) before it submitted this item's job, so it never ` +
            `ran; map it again with ${retryAdvice(o.knot, runId)}`,
        });
      },
    };
  }

  /**
   * A run read again for its retry (`collect`), after its first look at
   * AWS: while some of its items have not ended (their jobs still run or
   * stop, after a cancel that did not see them stop), it warns once that
   * the retry waits for them, naming them.
   */
  async #reread(runId: string, signal?: AbortSignal): Promise<MapRun<unknown>> {
    const again = await this.collect(runId, signal ? { signal } : {});
    await this.#itemJobs.get(again)?.nextLook();
    if (again.finished) return again;
    const left = again.items.filter((v) => v.status === "pending" || v.status === "running")
      .map((v) => v.index);
    const one = left.length === 1;
    (this.#o.warn ?? console.warn)(
      retryWaitWarning(
        left,
        { runId, knot: this.#o.knot },
        one ? "its AWS Batch job still runs or stops" : "their AWS Batch jobs still run or stop",
        one ? "it" : "them",
        "jobs",
      ),
    );
    return again;
  }

  /**
   * Cancels or terminates a run's jobs, whichever their state allows, and
   * gives the ids of those it stopped (the unfinished ones).
   */
  async #stopJobs(jobs: RunJob[], reason: string): Promise<string[]> {
    if (jobs.length === 0) return [];
    const { batch } = this.#o.session;
    const details = await describeJobs(batch, jobs.map((j) => j.jobId));
    const all = [...details.values()];
    const errors = await forEachPooled(
      all,
      10,
      (job) => stopJob(batch, job, cloudknotStopReason(reason)),
    );
    if (errors.length > 0) throw errors[0];
    return all.filter((job) => !isTerminalStatus(job.status)).map((job) => job.jobId);
  }

  /**
   * After a cancel, the items a job still stopping when the wait for it
   * (`cancelStopWaitMs`) was over left unsettled: the handle calls them
   * cancelled without knowing how they end (the job may still record a
   * success as it stops), so it warns once, naming them, and each one's
   * error says so and how to read its end.
   */
  #unconfirmed(
    runId: string,
    jobs: RunJob[],
    stopping: string[],
    reason: string,
    settled: (index: number) => boolean,
  ): Unconfirmed | undefined {
    const o = this.#o;
    const still = new Set(stopping);
    const jobOf = new Map<number, string>();
    for (const job of jobs) {
      if (!still.has(job.jobId)) continue;
      for (let i = job.offset; i < job.offset + job.size; i++) {
        if (!settled(i)) jobOf.set(i, childId(job, i));
      }
    }
    if (jobOf.size === 0) return undefined;
    const ms = o.cancelStopWaitMs ?? CANCEL_STOP_WAIT_MS;
    const waited = ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
    const readAgain = `collect the run again (knot.collect("${runId}") of knot ${o.knot})`;
    const items = [...jobOf.keys()];
    (o.warn ?? console.warn)(
      `${itemsInWords(items)} of run ${runId} of knot ${o.knot} ${
        items.length === 1 ? "is" : "are"
      } called cancelled without knowing how ${items.length === 1 ? "it" : "they"} ended: ` +
        `${still.size === 1 ? "its AWS Batch job" : "their AWS Batch jobs"} (${
          [...still].join(", ")
        }) had not stopped ${waited} after being told to, ` +
        `and may still record a result as ${still.size === 1 ? "it stops" : "they stop"}; ` +
        `to read how ${items.length === 1 ? "it" : "they"} ended once stopped, ${readAgain}`,
    );
    return (index) => {
      const job = jobOf.get(index);
      return job === undefined ? undefined : `${reason}; its AWS Batch job ${job} had not ` +
        `stopped ${waited} after being told to, so ` +
        `whether the item ended before it stopped is not known: once the job has stopped, ` +
        `${readAgain} to read how it ended`;
    };
  }

  /**
   * The CloudWatch lines of one attempt of one item: of its child's log
   * stream, the lines tagged with the item (`job/item_log.ts`), read by the
   * handle's `ItemLogs`, which describes children a hundred at a time and
   * reads an ended child's stream once for its items; with `jobLines` (the
   * attempt ended without the item's record), the job's own lines too,
   * marked as the job's.
   */
  async *#logs(
    jobs: RunJob[],
    logs: ItemLogs,
    index: number,
    attempt: number,
    jobLines: boolean,
  ): AsyncGenerator<string> {
    const job = jobs.find((j) => index >= j.offset && index < j.offset + j.size);
    if (job === undefined) return;
    yield* logs.read(job, index, attempt, { jobLines });
  }
}

/** A run's jobs found by name, and when the newest of them was submitted (AWS Batch's `createdAt`). */
interface Discovered {
  jobs: RunJob[];
  lastSubmittedAt?: number;
}

/** Which job runs each item of a run's handle, as the handle knows it now (see `AwsTarget.itemJob`). */
interface ItemJobs {
  /** The id of the job (or array child) that runs an item, if one is known. */
  jobOf(index: number): string | undefined;
  /**
   * Resolves after the handle's next poll round (or once it stops polling); a retry's, after
   * the next round of each of its runs' loops that still poll.
   */
  nextLook(): Promise<void>;
  /** Whether the handle still polls, and so may still find a job. */
  following(): boolean;
  /** Resolves once the handle's poll loops have stopped, their last requests ended. */
  stopped: Promise<void>;
}

/** The most bytes of user metadata S3 keeps on an object (its keys and values added up). */
const METADATA_MAX_BYTES = 2048;

/** The second a run id (`newRunId`) says its run was made in: `20261126T120102Z`. */
const RUN_SECOND = /^\d{8}T\d{6}Z(?=-)/;

/** A whole run id, as `newRunId` makes them: `20261126T120102Z-3f9a1c`. */
const FULL_RUN_ID = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;

/** Whether a run has a manifest. */
function isManifest(manifest: RunManifest | undefined): manifest is RunManifest {
  return manifest !== undefined;
}

/** Runs in the order they were made: oldest first. */
function byCreation(runs: RunManifest[]): RunManifest[] {
  return runs.sort((a, b) => a.createdAt - b.createdAt);
}

/**
 * A run's manifest as the value of its index's metadata, in ASCII (a
 * header carries no other characters: the rest are escaped as JSON allows),
 * or `undefined` when it does not fit S3's 2 KB of metadata.
 */
function metadataJson(manifest: RunManifest): string | undefined {
  const json = JSON.stringify(manifest).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return MANIFEST_METADATA_KEY.length + json.length <= METADATA_MAX_BYTES ? json : undefined;
}

/**
 * What gets a knot whose job definition was deregistered outside cloudknot a
 * working one: creating the knot again with its function finds it INACTIVE
 * and registers a new revision, keeping the knot's runs. In the library's
 * words, which `inCliWords` turns into `cloudknot knot create`.
 */
function deregisteredAdvice(knot: string, jobDefinition: string): string {
  return `the knot's job definition ${jobDefinition} is not ACTIVE (it was deregistered ` +
    `outside cloudknot): create the knot with Knot.create({ name: "${knot}", func }) (or ` +
    `module and exportName), which registers a new job definition and keeps its runs,`;
}
