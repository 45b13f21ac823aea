/**
 * The EC2 instance types a knot's compute environment may launch, read from
 * EC2 DescribeInstanceTypes before anything is made: every type named must
 * exist in the region, and one job (its vCPUs, memory and GPUs) must fit in
 * at least one of them, or its jobs would wait in RUNNABLE for ever.
 *
 * @module
 */
import type { AwsSession } from "../../../aws/session.ts";
import type { InstanceTypeInfo } from "../../../aws/services/ec2.ts";
import { CloudknotInputError } from "../../../util/errors.ts";
import { BATCH_PICKS, type ComputeSpec, isFargate } from "./compute_options.ts";

/**
 * What `optimal` means to Batch: "instance types (from the C4, M4, and R4
 * instance families) ... In Regions that don't have instance types from those
 * instance families, instance types from the C5, M5, and R5 instance families
 * are used" (API_ComputeResource, `instanceTypes`).
 */
export const OPTIMAL_FAMILIES: readonly (readonly string[])[] = [
  ["c4", "m4", "r4"],
  ["c5", "m5", "r5"],
];

/** The largest job an instance type can hold. */
interface Capacity {
  type: string;
  vcpus: number;
  memory: number;
  gpus: number;
}

function capacity(info: InstanceTypeInfo): Capacity {
  return {
    type: info.InstanceType ?? "",
    vcpus: info.VCpuInfo?.DefaultVCpus ?? 0,
    memory: info.MemoryInfo?.SizeInMiB ?? 0,
    gpus: (info.GpuInfo?.Gpus ?? []).reduce((n, g) => n + (g.Count ?? 0), 0),
  };
}

async function describe(session: AwsSession, patterns: string[]): Promise<Capacity[]> {
  const out: Capacity[] = [];
  for await (
    const info of session.ec2.describeInstanceTypesAll({
      Filters: [{ Name: "instance-type", Values: patterns }],
    })
  ) {
    if (info.InstanceType) out.push(capacity(info));
  }
  return out;
}

/** Options for {@linkcode checkJobFits}. */
export interface CheckJobFitsOptions {
  /**
   * Whose job it is, for the advice: a knot's (`Knot.create`, its update:
   * lower its `vcpus` or `memory`, or choose larger `instanceTypes`) or a
   * retry's (`run.retry({ vcpus, memory })`: give the retry less, or map the
   * items on a knot with larger instance types, since a retry runs on its
   * knot's compute environment as it is). @default {"knot"}
   */
  caller?: "knot" | "retry";
}

/**
 * Checks, with read-only EC2 calls, that the instance types of an EC2 or
 * SPOT compute environment exist in the session's region and that one job
 * fits in at least one of them. Fargate needs no check: its sizes are a fixed
 * table, checked by `validateComputeOptions`.
 *
 * @example Usage
 * ```ts ignore
 * import { checkJobFits } from "./instance_types.ts";
 *
 * await checkJobFits(session, validateComputeOptions({ instanceTypes: ["m5"], memory: 64_000 }));
 * ```
 *
 * @param session The AWS session.
 * @param compute The checked compute settings.
 * @param options Whose job it is, for the advice.
 * @throws {CloudknotInputError} For an unknown instance type, or a job no instance type can hold.
 */
export async function checkJobFits(
  session: AwsSession,
  compute: ComputeSpec,
  options: CheckJobFitsOptions = {},
): Promise<void> {
  if (isFargate(compute.compute)) return;
  // Batch's own picks are not EC2 types; "optimal" is checked by its families below.
  const named = compute.instanceTypes.filter((t) => !BATCH_PICKS.includes(t));
  const pattern = (t: string) => t.includes(".") ? t : `${t}.*`;
  const types: Capacity[] = [];
  if (named.length > 0) {
    const found = await describe(session, named.map(pattern));
    const known = new Set(found.flatMap((c) => [c.type, c.type.split(".")[0]!]));
    const unknown = named.filter((t) => !known.has(t));
    if (unknown.length > 0) {
      const listed = `types EC2 DescribeInstanceTypes lists there, instance families such as ` +
        `"c5", or "optimal"`;
      throw new CloudknotInputError(
        `Unknown instance type${unknown.length > 1 ? "s" : ""} ${
          unknown.join(", ")
        } in ${session.region}: ` +
          // A retry's jobs run on its knot's compute environment, whose instance types only a
          // knot made again changes: the retry has no option for them.
          (options.caller === "retry"
            ? `the knot's compute environment names ${unknown.length > 1 ? "them" : "it"} ` +
              `among the types it may launch, and a retry runs on that environment as it is: ` +
              `map the items on a knot with other instanceTypes in Knot.create (${listed}; a ` +
              `new knot, or this one clobbered and created again)`
            : `use ${listed}`),
        options.caller === "retry" ? {} : { field: "instanceTypes" },
      );
    }
    types.push(...found);
  }
  if (compute.instanceTypes.includes("optimal")) {
    for (const families of OPTIMAL_FAMILIES) {
      const found = await describe(session, families.map(pattern));
      if (found.length === 0) continue;
      types.push(...found);
      break;
    }
  }
  if (types.length === 0) return;
  const fits = types.some((t) =>
    t.vcpus >= compute.vcpus && t.memory >= compute.memory && t.gpus >= compute.gpus
  );
  if (fits) return;
  const most = (key: "vcpus" | "memory" | "gpus") =>
    types.reduce((best, t) => t[key] > best[key] ? t : best);
  const which = compute.instanceTypes.join(", ");
  const job = `${compute.vcpus} vCPU${compute.vcpus === 1 ? "" : "s"}, ` +
    `${compute.memory.toLocaleString("en-US")} MiB` +
    (compute.gpus > 0 ? ` and ${compute.gpus} GPUs` : "");
  // A retry has vcpus and memory of its own, not instance types: those are its knot's compute
  // environment's, which only a knot made again changes (an update keeps its environment).
  const retry = options.caller === "retry";
  const largerTypes = retry
    ? "map the items on a knot with larger instanceTypes in Knot.create (a new knot, or this " +
      "one clobbered and created again)"
    : "choose larger instanceTypes";
  for (const field of ["gpus", "vcpus", "memory"] as const) {
    const largest = most(field);
    if (compute[field] <= largest[field]) continue;
    const unit = field === "memory" ? " MiB" : field === "vcpus" ? " vCPUs" : " GPUs";
    const limit = `${largest[field].toLocaleString("en-US")}${unit}`;
    throw new CloudknotInputError(
      `No instance type the compute environment may launch (${which}) can run one job of ${job}: ` +
        `the most ${field === "memory" ? "memory" : field === "vcpus" ? "vCPUs" : "GPUs"} ` +
        `any has is ${limit} (${largest.type}); ` +
        // A retry has no gpus of its own: its jobs have the knot's.
        (retry && field !== "gpus"
          ? `give the retry at most ${limit} with the ${field} option of run.retry(), or ${largerTypes}`
          : `lower ${field} or ${largerTypes}`),
      { field },
    );
  }
  throw new CloudknotInputError(
    `No instance type the compute environment may launch (${which}) has ${job} together: ` +
      (retry
        ? `give the retry fewer vCPUs or less memory with the vcpus and memory options of ` +
          `run.retry(), or ${largerTypes}`
        : `lower vcpus or memory, or ${largerTypes}`),
    // A retry's two options, neither alone.
    retry ? {} : { field: "instanceTypes" },
  );
}
