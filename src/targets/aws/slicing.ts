/**
 * What slicing a knot's runs on AWS depends on (`job/slicing.ts` has the
 * rule): the job's vCPUs and timeout and the compute environment's maxvCpus.
 * Only reads AWS (DescribeJobDefinitions, DescribeJobQueues,
 * DescribeComputeEnvironments), and only for a run that may run more than one
 * item per child.
 *
 * @module
 */
import type { Batch, JobTimeout } from "../../aws/services/batch.ts";
import { jobResources, queueCompute } from "./batch/run_usage.ts";

/** What the slicing of a knot's runs depends on, read once per knot. */
export interface SlicingSource {
  /** The Batch client. */
  batch: Batch;
  /** The knot's job queue. */
  jobQueue: string;
  /** The knot's job definition. */
  jobDefinition: string;
}

/**
 * Reads what slicing needs, once: the job's vCPUs and timeout, and the
 * compute environment's maxvCpus.
 *
 * @example Usage
 * ```ts ignore
 * import { readSlicingFacts } from "./slicing.ts";
 * import { sliceRun } from "../../job/slicing.ts";
 *
 * const facts = await readSlicingFacts({ batch, jobQueue, jobDefinition });
 * console.log(sliceRun(facts, 10_000, "auto").slice); // 79 on 64 vCPUs of 1-vCPU jobs
 * ```
 *
 * @param source The client, queue and job definition.
 * @returns The facts.
 */
export async function readSlicingFacts(
  source: SlicingSource,
): Promise<{ vcpus: number; maxVcpus?: number; timeout?: JobTimeout }> {
  const [definitions, compute] = await Promise.all([
    source.batch.describeJobDefinitions({ jobDefinitions: [source.jobDefinition] }),
    queueCompute(source.batch, source.jobQueue),
  ]);
  const definition = definitions.jobDefinitions?.[0];
  const vcpus = jobResources(definition?.containerProperties).vcpus ?? 1;
  return {
    vcpus,
    ...(compute.maxVcpus !== undefined ? { maxVcpus: compute.maxVcpus } : {}),
    ...(definition?.timeout !== undefined ? { timeout: definition.timeout } : {}),
  };
}
