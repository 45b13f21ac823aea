/**
 * The dry run of a map on AWS, and its estimate: the objects it would write,
 * the jobs it would submit (array sizes, items per job, resources of their
 * own) and what running them would cost on the knot's compute, read from its
 * job definition and compute environment. Nothing is written or submitted.
 *
 * @module
 */
import { type Estimate, estimateRun } from "../../cost/estimate.ts";
import { INDEX_ENTRY_BYTES, RUN_KEYS } from "../../job/payload.ts";
import { Plan, type PlanStep } from "../../plan/plan.ts";
import { type MapRequest, measureItems } from "../target.ts";
import type { AwsTargetOptions } from "./aws_target.ts";
import { jobResources, queueCompute } from "./batch/run_usage.ts";
import { planGroups } from "./groups.ts";
import { MAX_ARRAY_SIZE } from "./submit.ts";
import { childCount } from "./batch/slices.ts";
import { readSlicingFacts } from "./slicing.ts";
import { checkJobEnvironment } from "./batch/command.ts";
import { sliceRun } from "../../job/slicing.ts";
import { defined } from "../../util/defined.ts";

/** What an estimate of a run asks: how long one item runs, and the inputs' bytes. */
export interface EstimateRequest {
  /** Seconds one item runs. */
  itemSeconds: number;
  /** Bytes of the encoded inputs. @default {0} */
  inputBytes?: number;
  /** Items per job (array child), as `map`'s `itemsPerJob`. @default {"auto"} */
  itemsPerJob?: number | "auto";
}

/**
 * Estimates a run of a knot on AWS from its job definition's vCPUs and
 * memory and its compute environment's type and bounds (read-only calls).
 *
 * @param o The knot's target options.
 * @param count How many items.
 * @param request How long one item runs, and the inputs' bytes.
 * @returns The estimate.
 */
export async function estimateAwsRun(
  o: AwsTargetOptions,
  count: number,
  request: EstimateRequest,
): Promise<Estimate> {
  const definition = (await o.session.batch.describeJobDefinitions({
    jobDefinitions: [o.jobDefinition],
  })).jobDefinitions?.[0];
  const resources = jobResources(definition?.containerProperties);
  const ce = await queueCompute(o.session.batch, o.jobQueue);
  return estimateRun({
    count,
    itemSeconds: request.itemSeconds,
    ...defined({
      compute: ce.compute,
      vcpus: resources.vcpus,
      memory: resources.memoryMiB,
      maxVcpus: ce.maxVcpus,
      instanceTypes: ce.instanceTypes,
      bidPercentage: ce.bidPercentage,
      inputBytes: request.inputBytes,
      itemsPerJob: request.itemsPerJob,
    }),
    region: o.region,
  });
}

/**
 * Plans a map on AWS: the run's objects in S3, its jobs, and its record.
 *
 * @param o The knot's target options (for a knot not made yet, its names and region).
 * @param storeUrl The URL of the knot's job data (`s3://bucket/prefix`).
 * @param request The map request.
 * @param options `itemSeconds` adds an estimate; `estimate` makes it (default: from the knot's compute on AWS).
 * @returns The plan.
 */
export async function planAwsMap(
  o: Pick<AwsTargetOptions, "knot" | "jobQueue" | "jobDefinition" | "region" | "maxArraySize"> & {
    session?: AwsTargetOptions["session"];
  },
  storeUrl: string,
  request: MapRequest,
  options: {
    itemSeconds?: number;
    estimate?: (count: number, request: EstimateRequest) => Promise<Estimate>;
    /** The job's vCPUs and the compute environment's maxvCpus (default: read from AWS). */
    slicing?: { vcpus: number; maxVcpus?: number };
  } = {},
): Promise<Plan> {
  checkJobEnvironment(request.env);
  // The items are counted and weighed a chunk at a time, as the run reads
  // them (`run_inputs.ts`): a dry run holds no more of them than the run.
  const { count, bytes } = await measureItems(request.items);
  const wanted = request.itemsPerJob ?? "auto";
  // Only "auto" slices by what AWS says (the job's vCPUs, the compute environment's
  // maxvCpus): a number of items per job, or one item, needs nothing read.
  const { slice } = count <= 1 || wanted !== "auto"
    ? sliceRun({ vcpus: 1 }, count, wanted)
    : sliceRun(
      options.slicing ?? await readSlicingFacts({
        batch: o.session!.batch,
        jobQueue: o.jobQueue,
        jobDefinition: o.jobDefinition,
      }),
      count,
      wanted,
    );
  // Where the objects go, without the store URL's settings (`?region=…`).
  const run = `${storeUrl.replace(/\?.*$/, "")}/runs/<run id>`;
  const steps: PlanStep[] = [
    {
      action: "write",
      kind: "S3 object",
      name: `${run}/${RUN_KEYS.inputs}`,
      details: { bytes },
    },
    {
      action: "write",
      kind: "S3 object",
      name: `${run}/${RUN_KEYS.index}`,
      details: { bytes: count * INDEX_ENTRY_BYTES },
    },
  ];
  const jobs = planGroups(count, request.groups ?? [], {
    independent: request.jobType === "independent",
    maxArraySize: o.maxArraySize ?? MAX_ARRAY_SIZE,
    slice,
  });
  jobs.forEach((job, n) => {
    steps.push({
      action: "run",
      kind: job.array ? "array job" : "job",
      name: `${o.knot}-<run id>-${n}`,
      details: {
        items: job.size > 1 ? `${job.offset} to ${job.offset + job.size - 1}` : String(job.offset),
        ...(job.array ? { "array size": childCount(job) } : {}),
        "items per job": job.slice ?? 1,
        queue: o.jobQueue,
        "job definition": o.jobDefinition,
        ...defined({
          memory: job.resources?.memory,
          vcpus: job.resources?.vcpus,
          timeout: job.resources?.timeout,
        }),
      },
    });
  });
  steps.push({ action: "write", kind: "config record", name: `knot ${o.knot} (its runs)` });
  const notes = count === 0 ? ["there are no inputs: nothing would run"] : [];
  if (options.itemSeconds === undefined) notes.push("pass itemSeconds for a cost estimate");
  return new Plan({
    title: `Map ${count} items on knot ${o.knot} (AWS Batch, ${o.region})`,
    steps,
    notes,
    ...(options.itemSeconds !== undefined && count > 0
      ? {
        estimate: await (options.estimate ??
          ((n: number, r: EstimateRequest) => estimateAwsRun(o as AwsTargetOptions, n, r)))(count, {
            itemSeconds: options.itemSeconds,
            inputBytes: bytes,
            ...(request.itemsPerJob !== undefined ? { itemsPerJob: request.itemsPerJob } : {}),
          }),
      }
      : {}),
  });
}
