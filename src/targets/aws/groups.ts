/**
 * Items of a run with resources of their own (a retry with more memory, more
 * vCPUs or a longer timeout) on AWS Batch: each group is submitted as jobs
 * of its own whose SubmitJob overrides the job definition's resources
 * (`containerOverrides.resourceRequirements`, `timeout`), after the
 * resources are checked against what the job definition's platform takes.
 *
 * @module
 */
import type { Batch, ContainerOverrides, JobTimeout } from "../../aws/services/batch.ts";
import type { ItemGroup, ItemResources } from "../../run/retry.ts";
import { CloudknotInputError } from "../../util/errors.ts";
import type { AwsSession } from "../../aws/session.ts";
import { validateComputeOptions } from "./batch/compute_options.ts";
import { checkJobFits } from "./batch/instance_types.ts";
import { TIMEOUT_BACKSTOP_SECONDS } from "./batch/environment.ts";
import { jobResources, type QueueCompute, queueCompute } from "./batch/run_usage.ts";
import { planJobs, type PlannedJob } from "./submit.ts";

/** A planned job, with the resources its items run with when they are not the knot's. */
export type GroupedJob = PlannedJob & { resources?: ItemResources };

/**
 * Splits a run into jobs as {@linkcode planJobs} does, each group of items
 * with resources of its own into jobs of its own.
 *
 * @example Usage
 * ```ts
 * import { planGroups } from "./groups.ts";
 *
 * const plan = planGroups(5, [{ offset: 3, size: 2, resources: { memory: 4096 } }]);
 * console.log(plan.map((j) => [j.offset, j.size, j.resources?.memory])); // [ [ 0, 3, undefined ], [ 3, 2, 4096 ] ]
 * ```
 *
 * @param count How many items.
 * @param groups Contiguous ranges of items with resources of their own.
 * @param options Independent jobs, and the array size limit.
 * @returns The jobs, in item order.
 */
export function planGroups(
  count: number,
  groups: readonly ItemGroup[],
  options: { independent?: boolean; maxArraySize?: number; slice?: number } = {},
): GroupedJob[] {
  const segments: { offset: number; size: number; resources?: ItemResources }[] = [];
  let cursor = 0;
  for (const g of [...groups].sort((a, b) => a.offset - b.offset)) {
    if (g.offset > cursor) segments.push({ offset: cursor, size: g.offset - cursor });
    segments.push({ offset: g.offset, size: g.size, resources: g.resources });
    cursor = g.offset + g.size;
  }
  if (cursor < count) segments.push({ offset: cursor, size: count - cursor });
  return segments.flatMap((segment) =>
    planJobs(segment.size, options).map((job) => ({
      ...job,
      offset: job.offset + segment.offset,
      ...(segment.resources !== undefined ? { resources: segment.resources } : {}),
    }))
  );
}

/**
 * The SubmitJob fields that give a job its resources. A timeout of its own
 * is the job's to keep, as the knot's is (`CLOUDKNOT_TIMEOUT`, which the
 * job stops an item at, so a timed-out attempt is retried), with Batch's a
 * backstop a minute later, as on the knot's job definition.
 *
 * @example Usage
 * ```ts
 * import { resourceOverrides } from "./groups.ts";
 *
 * const { environment, timeout } = resourceOverrides({ timeout: 600 });
 * console.log(environment, timeout); // { CLOUDKNOT_TIMEOUT: "600" } { timeout: { attemptDurationSeconds: 660 } }
 * ```
 *
 * @param resources The resources, when the job has its own.
 * @returns Container overrides and a timeout to spread into the request, and
 * the variables to add to the job's environment.
 */
export function resourceOverrides(resources: ItemResources | undefined): {
  containerOverrides: Pick<ContainerOverrides, "resourceRequirements">;
  timeout: { timeout?: JobTimeout };
  environment: Record<string, string>;
} {
  const requirements = [
    ...(resources?.vcpus !== undefined ? [{ type: "VCPU", value: String(resources.vcpus) }] : []),
    ...(resources?.memory !== undefined
      ? [{ type: "MEMORY", value: String(resources.memory) }]
      : []),
  ];
  const timeout = resources?.timeout;
  return {
    containerOverrides: requirements.length > 0 ? { resourceRequirements: requirements } : {},
    timeout: timeout !== undefined
      ? { timeout: { attemptDurationSeconds: timeout + TIMEOUT_BACKSTOP_SECONDS } }
      : {},
    environment: timeout !== undefined ? { CLOUDKNOT_TIMEOUT: String(timeout) } : {},
  };
}

/**
 * Checks each group's resources against what the job definition's platform
 * takes (Fargate's vCPU and memory combinations, EC2's bounds, a timeout of
 * at least 60 s) and, given `fits`, against the knot's compute environment:
 * its `maxvCpus` (the rule `Knot.create` checks a knot's vcpus with), and on
 * EC2 and Spot the instance types it may launch (`checkJobFits`, as
 * `Knot.create` checks them), before anything of the run is written or
 * submitted: with read-only requests. A job past either would wait in
 * RUNNABLE for good.
 *
 * @example Usage
 * ```ts ignore
 * import { checkGroups } from "./groups.ts";
 *
 * await checkGroups(session.batch, jobDefinition, [{ offset: 0, size: 2, resources: { vcpus: 4 } }], {
 *   session,
 *   jobQueue,
 * });
 * ```
 *
 * @param batch The Batch client.
 * @param jobDefinition The knot's job definition.
 * @param groups The groups.
 * @param fits The session and the knot's job queue, whose compute environment's
 *   maxvCpus and instance types a group's vCPUs and memory must fit. @default {undefined}
 * @throws {CloudknotInputError} Naming the retry's option and what it takes.
 */
export async function checkGroups(
  batch: Batch,
  jobDefinition: string,
  groups: readonly ItemGroup[],
  fits?: { session: AwsSession; jobQueue: string },
): Promise<void> {
  if (groups.length === 0) return;
  const definition = (await batch.describeJobDefinitions({ jobDefinitions: [jobDefinition] }))
    .jobDefinitions?.[0];
  const fargate = definition?.platformCapabilities?.includes("FARGATE") ?? false;
  const base = jobResources(definition?.containerProperties);
  // The compute environment is read once (DescribeJobQueues, DescribeComputeEnvironments), and
  // only for a group with vCPUs or memory of its own. Its maxvCpus is read from AWS, not from
  // the knot's record: the record keeps none (Knot.create checks a job's vcpus against the
  // maxVcpus it makes the environment with, and an update against the environment's own, as
  // AWS describes it), and AWS has the environment as it is now, also when it was changed
  // outside cloudknot.
  let environment: Promise<QueueCompute> | undefined;
  const compute = () => environment ??= queueCompute(batch, fits!.jobQueue);
  for (const { resources } of groups) {
    try {
      const spec = validateComputeOptions({
        compute: fargate ? "FARGATE" : "EC2",
        ...(resources.vcpus ?? base.vcpus) !== undefined
          ? { vcpus: (resources.vcpus ?? base.vcpus)! }
          : {},
        ...(resources.memory ?? base.memoryMiB) !== undefined
          ? { memory: (resources.memory ?? base.memoryMiB)! }
          : {},
        ...(resources.timeout !== undefined ? { timeout: resources.timeout } : {}),
      });
      if (fits === undefined || (resources.vcpus === undefined && resources.memory === undefined)) {
        continue;
      }
      const { maxVcpus, instanceTypes } = await compute();
      if (resources.vcpus !== undefined && maxVcpus !== undefined && resources.vcpus > maxVcpus) {
        throw new CloudknotInputError(
          `vcpus must be at most the knot's compute environment's maxvCpus (${maxVcpus}), not ` +
            `${resources.vcpus}: AWS Batch would hold the retry's jobs in RUNNABLE for good; give the ` +
            `retry fewer vCPUs, or map the items on a knot with a larger maxVcpus in Knot.create ` +
            `(a new knot, or this one clobbered and created again)`,
          { field: "vcpus" },
        );
      }
      if (!fargate && instanceTypes !== undefined && instanceTypes.length > 0) {
        await checkJobFits(fits.session, { ...spec, instanceTypes }, { caller: "retry" });
      }
    } catch (e) {
      if (!(e instanceof CloudknotInputError)) throw e;
      // A Fargate pair refused for the memory the retry gave, or for the knot's memory with the
      // vCPUs it gave: the other of the pair is the retry's to give as well.
      const more = !fargate || e.field !== "memory"
        ? ""
        : resources.vcpus === undefined
        ? "; give the retry vCPUs that take that memory as well, with the vcpus option of " +
          "run.retry()"
        : resources.memory === undefined
        ? "; give the retry memory those vCPUs take as well, with the memory option of run.retry()"
        : "";
      throw new CloudknotInputError(
        `The retry's resources do not fit the knot's ${
          fargate ? "Fargate" : "EC2"
        } jobs: ${e.message}${more}`,
        e.field !== undefined ? { field: e.field } : {},
      );
    }
  }
}
