/**
 * What a run's Batch jobs used, from AWS Batch itself: each attempt's start
 * and stop (DescribeJobs on every job and array child, 100 per call), each
 * job's vCPUs and memory (its container's resource requirements, overrides
 * included), and the compute environment's type, instance types and Spot
 * bid (DescribeJobQueues, DescribeComputeEnvironments).
 *
 * @module
 */
import type { Batch, ContainerProperties, JobDetail } from "../../../aws/services/batch.ts";
import type { AttemptUsage, RunUsage } from "../../../cost/usage.ts";
import type { ComputeKind } from "../../../cost/prices.ts";
import { describeJobs } from "./jobs.ts";
import type { RunJob } from "./run_poller.ts";
import { childCount, childItems } from "./slices.ts";

/** A job's vCPUs and memory (MiB), from its container's resource requirements. */
export function jobResources(container: ContainerProperties | undefined): {
  vcpus?: number;
  memoryMiB?: number;
} {
  const get = (type: string) =>
    container?.resourceRequirements?.find((r) => r.type === type)?.value;
  const vcpus = Number(get("VCPU") ?? container?.vcpus ?? NaN);
  const memoryMiB = Number(get("MEMORY") ?? container?.memory ?? NaN);
  return {
    ...(Number.isFinite(vcpus) ? { vcpus } : {}),
    ...(Number.isFinite(memoryMiB) ? { memoryMiB } : {}),
  };
}

/** Each attempt of one job (or array child) whose slice starts at item `index`. */
function attemptsOf(job: JobDetail, index: number, createdAt: number | undefined): AttemptUsage[] {
  const resources = jobResources(job.container);
  const out: AttemptUsage[] = [];
  const ran = job.attempts ?? [];
  ran.forEach((a, i) => {
    const last = i === ran.length - 1 && (job.status === "SUCCEEDED" || job.status === "FAILED");
    const usage: AttemptUsage = {
      jobId: job.jobId,
      index,
      attempt: i + 1,
      outcome: !last ? "retried" : job.status === "SUCCEEDED" ? "succeeded" : "failed",
      ...resources,
    };
    const queuedAt = i === 0 ? createdAt : ran[i - 1]!.stoppedAt;
    if (queuedAt !== undefined) usage.queuedAt = queuedAt;
    if (a.startedAt !== undefined) usage.startedAt = a.startedAt;
    if (a.stoppedAt !== undefined) usage.stoppedAt = a.stoppedAt;
    const reason = [a.statusReason, a.container?.reason].filter(Boolean).join("; ");
    if (reason && usage.outcome !== "succeeded") usage.reason = reason;
    out.push(usage);
  });
  if (job.status === "STARTING" || job.status === "RUNNING") {
    const queuedAt = ran.length === 0 ? createdAt : ran.at(-1)!.stoppedAt;
    out.push({
      jobId: job.jobId,
      index,
      attempt: ran.length + 1,
      outcome: "running",
      ...(queuedAt !== undefined ? { queuedAt } : {}),
      ...(job.startedAt !== undefined && ran.length === 0 ? { startedAt: job.startedAt } : {}),
      ...resources,
    });
  } else if (ran.length === 0 && job.status === "FAILED") {
    out.push({
      jobId: job.jobId,
      index,
      attempt: 1,
      outcome: "cancelled",
      ...(createdAt !== undefined ? { queuedAt: createdAt } : {}),
      ...(job.statusReason ? { reason: job.statusReason } : {}),
      ...resources,
    });
  }
  return out;
}

/** Options for {@linkcode awsRunUsage}. */
export interface AwsRunUsageOptions {
  /** The Batch client. */
  batch: Batch;
  /** The knot's name. */
  knot: string;
  /** The run's id. */
  runId: string;
  /** The run's jobs. */
  jobs: readonly RunJob[];
  /** The knot's job queue (for the compute environment's type). */
  jobQueue: string;
  /** The region. */
  region: string;
}

/**
 * Reads what a run's Batch jobs used.
 *
 * @example Usage
 * ```ts ignore
 * import { awsRunUsage } from "./run_usage.ts";
 *
 * const usage = await awsRunUsage({ batch: session.batch, knot: "k", runId, jobs, jobQueue, region: session.region });
 * console.log(usage.compute, usage.attempts.length);
 * ```
 *
 * @param options The client, the run and its jobs.
 * @returns Every attempt, in item and attempt order, and the compute it ran on.
 */
export async function awsRunUsage(options: AwsRunUsageOptions): Promise<RunUsage> {
  const { batch, jobs } = options;
  const parents = await describeJobs(batch, jobs.map((j) => j.jobId));
  const childIds = jobs.filter((j) => j.array).flatMap((j) =>
    Array.from({ length: childCount(j) }, (_, i) => `${j.jobId}:${i}`)
  );
  const children = await describeJobs(batch, childIds);
  const attempts: AttemptUsage[] = [];
  for (const job of jobs) {
    const parent = parents.get(job.jobId);
    if (!job.array) {
      if (parent !== undefined) attempts.push(...attemptsOf(parent, job.offset, parent.createdAt));
      continue;
    }
    // One attempt per child, however many items its slice has: what it used is the child's.
    for (let i = 0; i < childCount(job); i++) {
      const child = children.get(`${job.jobId}:${i}`);
      if (child === undefined) continue;
      // A child reports its parent's container when it has none of its own.
      const described = child.container ? child : { ...child, container: parent?.container };
      const first = childItems(job, i)[0];
      attempts.push(...attemptsOf(described, first, child.createdAt ?? parent?.createdAt));
    }
  }
  attempts.sort((a, b) => a.index - b.index || a.attempt - b.attempt);
  const usage: RunUsage = {
    knot: options.knot,
    runId: options.runId,
    target: "aws",
    region: options.region,
    attempts,
  };
  return { ...usage, ...await queueCompute(batch, options.jobQueue) };
}

/** What a queue's (first) compute environment runs on. */
export interface QueueCompute {
  /** The compute type. */
  compute?: ComputeKind;
  /** The instance types (EC2 and SPOT). */
  instanceTypes?: string[];
  /** The Spot bid percentage (SPOT). */
  bidPercentage?: number;
  /** The most vCPUs it runs. */
  maxVcpus?: number;
}

/**
 * Reads what a queue's first compute environment runs on (DescribeJobQueues,
 * DescribeComputeEnvironments).
 *
 * @param batch The Batch client.
 * @param jobQueue The queue's name or ARN.
 * @returns Its compute type, instance types, Spot bid and vCPU bound, as far as known.
 */
export async function queueCompute(batch: Batch, jobQueue: string): Promise<QueueCompute> {
  const queue = (await batch.describeJobQueues({ jobQueues: [jobQueue] })).jobQueues?.[0];
  const ceArn = queue?.computeEnvironmentOrder?.[0]?.computeEnvironment;
  if (ceArn === undefined) return {};
  const ce = (await batch.describeComputeEnvironments({ computeEnvironments: [ceArn] }))
    .computeEnvironments?.[0];
  const r = ce?.computeResources;
  return {
    ...(r?.type !== undefined ? { compute: r.type as ComputeKind } : {}),
    ...(r?.instanceTypes !== undefined ? { instanceTypes: r.instanceTypes } : {}),
    ...(r?.bidPercentage !== undefined ? { bidPercentage: r.bidPercentage } : {}),
    ...(r?.maxvCpus !== undefined ? { maxVcpus: r.maxvCpus } : {}),
  };
}
