/**
 * Small helpers over the Batch API that every part of the AWS side shares:
 * DescribeJobs at 100 ids per call, job states, and stopping a job the way
 * its state allows.
 *
 * @module
 */
import type { Batch, JobDetail } from "../../../aws/services/batch.ts";
import { forEachPooled } from "../../../util/pooled.ts";

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
 * Stops a job the way its state allows: CancelJob while it waits
 * (SUBMITTED, PENDING, RUNNABLE), TerminateJob once it runs (STARTING,
 * RUNNING). An array parent is always terminated, which stops its running
 * children and cancels the others. A finished job is left alone.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 * import { describeJobs, stopJob } from "./jobs.ts";
 *
 * const session = await AwsSession.create();
 * const job = (await describeJobs(session.batch, ["3f9a…"])).get("3f9a…")!;
 * console.log(await stopJob(session.batch, job, "No longer needed")); // "cancel"
 * ```
 *
 * @param batch The Batch client.
 * @param job The job, as DescribeJobs returned it.
 * @param reason Why; Batch shows it as the job's status reason.
 * @returns What was done.
 */
export async function stopJob(
  batch: Batch,
  job: JobDetail,
  reason: string,
): Promise<"cancel" | "terminate" | "none"> {
  if (isTerminalStatus(job.status)) return "none";
  const parent = job.arrayProperties?.statusSummary !== undefined ||
    job.arrayProperties?.size !== undefined;
  if (
    !parent && (job.status === "SUBMITTED" || job.status === "PENDING" ||
      job.status === "RUNNABLE")
  ) {
    await batch.cancelJob({ jobId: job.jobId, reason });
    return "cancel";
  }
  await batch.terminateJob({ jobId: job.jobId, reason });
  return "terminate";
}
