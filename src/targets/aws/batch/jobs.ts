/**
 * Small helpers over the Batch API that every part of the AWS side shares:
 * DescribeJobs at 100 ids per call, job states, and stopping a job the way
 * its state allows.
 *
 * @module
 */
import type { Batch, JobDetail } from "../../../aws/services/batch.ts";
import { forEachPooled } from "../../../util/pooled.ts";
import { sleep } from "../../../util/sleep.ts";
import { defined } from "../../../util/defined.ts";

/** The most job ids one DescribeJobs call takes. */
export const DESCRIBE_JOBS_LIMIT = 100;

/**
 * The most DescribeJobs calls one {@linkcode describeJobs} has in flight:
 * DescribeJobs shares the account's 50 requests per second with SubmitJob,
 * so describing 10,000 jobs must not take them all at once.
 */
export const DESCRIBE_JOBS_CONCURRENCY = 4;

/** The Batch job statuses, in the order a job moves through them. */
export const JOB_STATUS_ORDER = [
  "SUBMITTED",
  "PENDING",
  "RUNNABLE",
  "STARTING",
  "RUNNING",
  "FAILED",
  "SUCCEEDED",
] as const;

/**
 * What starts the reason cloudknot gives Batch when it stops a run's jobs
 * itself (a run's `cancel()`, a knot's clobber, `BatchJob.terminate()`): a
 * reader of the run (any process) then knows the attempts it stopped were
 * cancelled, not crashed.
 */
export const CLOUDKNOT_STOP_PREFIX = "cloudknot: ";

/** The longest reason TerminateJob and CancelJob take (their `reason` parameter). */
const STOP_REASON_LIMIT = 1024;

/**
 * The reason cloudknot gives Batch when it stops jobs itself: the prefix a
 * reader recognises ({@linkcode stoppedByCloudknot}), then why, cut to what
 * Batch takes.
 *
 * @example Usage
 * ```ts
 * import { cloudknotStopReason } from "./jobs.ts";
 *
 * console.log(cloudknotStopReason("Knot squares was clobbered")); // "cloudknot: Knot squares was clobbered"
 * ```
 *
 * @param why Why the jobs are stopped, as the user should read it.
 * @returns The reason for TerminateJob or CancelJob.
 */
export function cloudknotStopReason(why: string): string {
  return `${CLOUDKNOT_STOP_PREFIX}${why}`.slice(0, STOP_REASON_LIMIT);
}

/**
 * Why cloudknot stopped a job, when a status reason is one that
 * {@linkcode cloudknotStopReason} made.
 *
 * @example Usage
 * ```ts
 * import { stoppedByCloudknot } from "./jobs.ts";
 *
 * console.log(stoppedByCloudknot("cloudknot: Knot squares was clobbered")); // "Knot squares was clobbered"
 * console.log(stoppedByCloudknot("Essential container in task exited")); // undefined
 * ```
 *
 * @param statusReason Batch's status reason of a job or attempt.
 * @returns Why, without the prefix, or `undefined` when cloudknot did not stop it.
 */
export function stoppedByCloudknot(statusReason: string | undefined): string | undefined {
  return statusReason?.startsWith(CLOUDKNOT_STOP_PREFIX)
    ? statusReason.slice(CLOUDKNOT_STOP_PREFIX.length)
    : undefined;
}

/**
 * Whether cloudknot stopped a job because its knot was clobbered: `why`, as
 * {@linkcode stoppedByCloudknot} reads it, is in the words a knot's clobber
 * stops its jobs with (`knotClobberedWhy` in `../catalog.ts`), `Knot <name>
 * was clobbered: …`. The items of such jobs are cancelled for good: no retry
 * runs them, as the knot is gone.
 *
 * @example Usage
 * ```ts
 * import { stoppedByClobber } from "./jobs.ts";
 *
 * console.log(stoppedByClobber("Knot squares was clobbered: to run these items again, …")); // true
 * console.log(stoppedByClobber("The run was cancelled")); // false
 * ```
 *
 * @param why Why cloudknot stopped the job.
 * @returns Whether a clobber did.
 */
export function stoppedByClobber(why: string): boolean {
  return /^Knot \S+ was clobbered(?::|$)/.test(why);
}

/**
 * Whether a Batch job status is final.
 *
 * @example Usage
 * ```ts
 * import { isTerminalStatus } from "./jobs.ts";
 *
 * console.log(isTerminalStatus("FAILED"), isTerminalStatus("RUNNABLE")); // true false
 * ```
 *
 * @param status The status.
 * @returns `true` for `SUCCEEDED` and `FAILED`.
 */
export function isTerminalStatus(status: string | undefined): boolean {
  return status === "SUCCEEDED" || status === "FAILED";
}

/**
 * Describes any number of jobs, {@linkcode DESCRIBE_JOBS_LIMIT} ids per
 * DescribeJobs call, at most {@linkcode DESCRIBE_JOBS_CONCURRENCY} calls at
 * once. Jobs Batch no longer knows are absent from the map.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 * import { describeJobs } from "./jobs.ts";
 *
 * const session = await AwsSession.create();
 * const jobs = await describeJobs(session.batch, ["3f9a…", "77c1…"]);
 * for (const [id, job] of jobs) console.log(id, job.status);
 * ```
 *
 * @param batch The Batch client.
 * @param ids The job ids (duplicates are described once).
 * @param options `signal` aborts the calls.
 * @returns Each known job by id.
 */
export async function describeJobs(
  batch: Batch,
  ids: Iterable<string>,
  options: { signal?: AbortSignal } = {},
): Promise<Map<string, JobDetail>> {
  const unique = [...new Set(ids)];
  const chunks: string[][] = [];
  for (let i = 0; i < unique.length; i += DESCRIBE_JOBS_LIMIT) {
    chunks.push(unique.slice(i, i + DESCRIBE_JOBS_LIMIT));
  }
  const pages: (JobDetail[] | undefined)[] = new Array(chunks.length);
  const [failure] = await forEachPooled(chunks, DESCRIBE_JOBS_CONCURRENCY, async (jobs, i) => {
    const page = await batch.describeJobs(
      { jobs },
      options.signal ? { signal: options.signal } : undefined,
    );
    pages[i] = page.jobs;
  }, { stopOnError: true });
  if (failure !== undefined) throw failure;
  const out = new Map<string, JobDetail>();
  for (const page of pages) for (const job of page ?? []) out.set(job.jobId, job);
  return out;
}

/**
 * Stops a job, whatever its state: TerminateJob cancels a job that waits
 * (SUBMITTED, PENDING, RUNNABLE) and terminates one that runs (STARTING,
 * RUNNING), and an array parent's running children with it. CancelJob is
 * never sent: it leaves a job that moved on to STARTING since it was read
 * running, and still succeeds (AWS's CancelJob reference), so a job read as
 * waiting a moment before would run to its end. A finished job is left
 * alone.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 * import { describeJobs, stopJob } from "./jobs.ts";
 *
 * const session = await AwsSession.create();
 * const job = (await describeJobs(session.batch, ["3f9a…"])).get("3f9a…")!;
 * console.log(await stopJob(session.batch, job, "No longer needed")); // "cancel" (it waited)
 * ```
 *
 * @param batch The Batch client.
 * @param job The job, as DescribeJobs returned it.
 * @param reason Why; Batch shows it as the job's status reason.
 * @returns What was done, as the job was read: `"cancel"` for a job that waited, `"terminate"`
 *   for one that ran (or an array parent), `"none"` for a finished one.
 */
export async function stopJob(
  batch: Batch,
  job: JobDetail,
  reason: string,
): Promise<"cancel" | "terminate" | "none"> {
  if (isTerminalStatus(job.status)) return "none";
  const parent = job.arrayProperties?.statusSummary !== undefined ||
    job.arrayProperties?.size !== undefined;
  await batch.terminateJob({ jobId: job.jobId, reason });
  const waited = job.status === "SUBMITTED" || job.status === "PENDING" ||
    job.status === "RUNNABLE";
  return !parent && waited ? "cancel" : "terminate";
}

/**
 * The ids of a queue's jobs that have not ended (SUBMITTED to RUNNING); an
 * array job is listed by its parent, which ends after its children.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 * import { unfinishedJobIds } from "./jobs.ts";
 *
 * const session = await AwsSession.create();
 * console.log(await unfinishedJobIds(session.batch, "my-knot-ck-jq"));
 * ```
 *
 * @param batch The Batch client.
 * @param jobQueue The queue's name or ARN.
 * @returns The jobs' ids.
 */
export async function unfinishedJobIds(batch: Batch, jobQueue: string): Promise<string[]> {
  const ids: string[] = [];
  for (const jobStatus of JOB_STATUS_ORDER.filter((s) => !isTerminalStatus(s))) {
    for await (const job of batch.listJobsAll({ jobQueue, jobStatus })) ids.push(job.jobId);
  }
  return ids;
}

/**
 * Waits until jobs have finished (or Batch no longer knows them), looking
 * every `pollMs`, for at most `timeoutMs`: a terminated job's container gets
 * SIGTERM, and SIGKILL only after its stop timeout, so it ends moments after
 * TerminateJob answers.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 * import { waitForJobsToEnd } from "./jobs.ts";
 *
 * const session = await AwsSession.create();
 * const left = await waitForJobsToEnd(session.batch, ["3f9a…"], { timeoutMs: 120_000 });
 * console.log(left.length === 0 ? "all ended" : `${left.length} still running`);
 * ```
 *
 * @param batch The Batch client.
 * @param ids The jobs.
 * @param options `pollMs` between looks (default 2000), `timeoutMs` in all
 *   (default 120000), `signal` stops waiting.
 * @returns The ids of the jobs still unfinished when the time was up (empty when all ended).
 */
export async function waitForJobsToEnd(
  batch: Batch,
  ids: Iterable<string>,
  options: { pollMs?: number; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<string[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  let left = [...new Set(ids)];
  while (left.length > 0) {
    const found = await describeJobs(batch, left, defined({ signal: options.signal }));
    left = left.filter((id) => found.has(id) && !isTerminalStatus(found.get(id)!.status));
    if (left.length === 0 || Date.now() >= deadline) break;
    await sleep(
      Math.min(options.pollMs ?? 2000, Math.max(0, deadline - Date.now())),
      options.signal,
    );
  }
  return left;
}
