/**
 * Submitting a run's jobs exactly once. SubmitJob is not idempotent: when its
 * answer is lost (the client reports `OutcomeUnknown`, or a server error),
 * the job may or may not exist. The job's name is unique to the run, so the
 * queue is asked for it by name (a `JOB_NAME` filter lists jobs of every
 * status); only when it is absent twice, a moment apart, is it submitted
 * again.
 *
 * @module
 */
import { AwsError } from "../../aws/core/error.ts";
import type {
  Batch,
  JobSummary,
  SubmitJobRequest,
  SubmitJobResponse,
} from "../../aws/services/batch.ts";
import { sleep } from "../../util/sleep.ts";
import { CloudknotError } from "../../util/errors.ts";

/** The most items one array job runs (AWS Batch's limit). */
export const MAX_ARRAY_SIZE = 10_000;

/** One job of a submission plan. */
export interface PlannedJob {
  /** The index of its first item. */
  offset: number;
  /** How many items it runs. */
  size: number;
  /** Whether it is an array job (it has at least 2 children). */
  array: boolean;
  /** Items per child (or per single job). @default {1} */
  slice?: number;
}

/**
 * Splits a run into jobs: array jobs of at most `maxArraySize` children,
 * each child running `slice` consecutive items (a last piece of one child
 * becomes a single job), or one job per slice for independent jobs and for
 * a run of one slice.
 *
 * @example Usage
 * ```ts
 * import { planJobs } from "./submit.ts";
 *
 * console.log(planJobs(10_001).map((j) => j.size)); // [ 10000, 1 ]
 * console.log(planJobs(3, { independent: true }).length); // 3
 * console.log(planJobs(10, { slice: 4 })); // [ { offset: 0, size: 10, array: true, slice: 4 } ]
 * ```
 *
 * @param count How many items.
 * @param options Independent jobs, the array size limit (children), and items per child.
 * @returns The jobs, in item order.
 */
export function planJobs(
  count: number,
  options: { independent?: boolean; maxArraySize?: number; slice?: number } = {},
): PlannedJob[] {
  const max = options.maxArraySize ?? MAX_ARRAY_SIZE;
  const slice = Math.max(1, options.slice ?? 1);
  const sliced = slice > 1 ? { slice } : {};
  const plan: PlannedJob[] = [];
  if (options.independent || count <= slice) {
    for (let i = 0; i < count; i += slice) {
      plan.push({ offset: i, size: Math.min(slice, count - i), array: false, ...sliced });
    }
    return plan;
  }
  for (let offset = 0; offset < count; offset += max * slice) {
    const size = Math.min(max * slice, count - offset);
    plan.push({ offset, size, array: size > slice, ...sliced });
  }
  return plan;
}

/** Options for {@linkcode submitJobOnce}. */
export interface SubmitOnceOptions {
  /** How long to wait before asking for the job by name a second time, in milliseconds. @default {2000} */
  reconcileDelayMs?: number;
  /** How many times to submit when the job is definitely absent after an unknown outcome. @default {5} */
  maxSubmits?: number;
}

/**
 * Whether a SubmitJob failure leaves the job's existence unknown.
 *
 * @example Usage
 * ```ts
 * import { AwsError } from "@cloudknot/cloudknot/aws";
 * import { outcomeUnknown } from "./submit.ts";
 *
 * const error = new AwsError("is INACTIVE", { service: "Batch", operation: "SubmitJob", code: "ClientException", status: 400 });
 * console.log(outcomeUnknown(error)); // false
 * ```
 *
 * @param error What SubmitJob threw.
 * @returns `true` for `OutcomeUnknown` and server errors.
 */
export function outcomeUnknown(error: unknown): boolean {
  return error instanceof AwsError &&
    (error.code === "OutcomeUnknown" || (error.status ?? 0) >= 500);
}

/**
 * Finds a job of a queue by its exact name, whatever its status.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 * import { findJobByName } from "./submit.ts";
 *
 * const session = await AwsSession.create();
 * console.log(await findJobByName(session.batch, "my-queue", "squares-20261126T120102Z-3f9a1c-0"));
 * ```
 *
 * @param batch The Batch client.
 * @param jobQueue The queue's name or ARN.
 * @param jobName The job's name.
 * @returns The job's summary, or `undefined`.
 */
export async function findJobByName(
  batch: Batch,
  jobQueue: string,
  jobName: string,
): Promise<JobSummary | undefined> {
  for await (
    const job of batch.listJobsAll({
      jobQueue,
      filters: [{ name: "JOB_NAME", values: [jobName] }],
    })
  ) {
    if (job.jobName === jobName) return job;
  }
  return undefined;
}

/**
 * Submits a job exactly once: when SubmitJob's answer is lost, the job is
 * looked up by name, and submitted again only when it is definitely absent.
 * The job name must be unique to this submission.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 * import { submitJobOnce } from "./submit.ts";
 *
 * const session = await AwsSession.create();
 * const { jobId } = await submitJobOnce(session.batch, { jobName: "k-r-0", jobQueue: "q", jobDefinition: "d" });
 * ```
 *
 * @param batch The Batch client.
 * @param request The SubmitJob request.
 * @param options Reconciliation timing.
 * @returns The job's id and name.
 */
export async function submitJobOnce(
  batch: Batch,
  request: SubmitJobRequest,
  options: SubmitOnceOptions = {},
): Promise<SubmitJobResponse> {
  const maxSubmits = options.maxSubmits ?? 5;
  for (let submits = 1;; submits++) {
    try {
      return await batch.submitJob(request);
    } catch (e) {
      if (!outcomeUnknown(e)) throw e;
      for (let look = 0; look < 2; look++) {
        if (look > 0) await sleep(options.reconcileDelayMs ?? 2000);
        const found = await findJobByName(batch, request.jobQueue, request.jobName);
        if (found !== undefined) {
          return {
            jobId: found.jobId,
            jobName: found.jobName,
            ...(found.jobArn !== undefined ? { jobArn: found.jobArn } : {}),
          };
        }
      }
      if (submits >= maxSubmits) throw e;
    }
  }
}

/**
 * A run's jobs could not all be submitted; the ones that were are stopped.
 *
 * @example Usage
 * ```ts
 * import { SubmitError } from "@cloudknot/cloudknot";
 *
 * const e = new SubmitError("Submitting run r of knot k failed after 1 of 2 jobs");
 * console.log(e.name); // "SubmitError"
 * ```
 */
export class SubmitError extends CloudknotError {}
