/**
 * Checks of a knot's AWS Batch settings, made before any AWS call: compute
 * type, vCPUs, memory, GPUs and their valid combinations (Fargate's table),
 * retries, timeout, retry rules, instance settings and scaling.
 *
 * @module
 */
import { CloudknotInputError } from "../../../util/errors.ts";
import { describeValue } from "../../../util/validate.ts";
import type { JobStateTimeLimitAction } from "../../../aws/services/batch.ts";
import { CAPACITY_REASON, MISCONFIGURATION_REASONS } from "./stuck.ts";

/** Where a knot's jobs run on AWS Batch. */
export type ComputeType = "EC2" | "SPOT" | "FARGATE" | "FARGATE_SPOT";

/** One retry rule of a job definition's `retryStrategy.evaluateOnExit`. */
export interface RetryRule {
  /** A glob on the exit code, such as `"137"` or `"1*"`. */
  onExitCode?: string;
  /** A glob on the container's reason, such as `"OutOfMemoryError*"`. */
  onReason?: string;
  /** A glob on the attempt's status reason, such as `"Host EC2*"`. */
  onStatusReason?: string;
  /** Retry the attempt, or stop retrying. */
  action: "RETRY" | "EXIT";
}

/** The compute settings of a knot on AWS, as the user writes them. */
export interface ComputeOptions {
  /** EC2 on-demand, EC2 spot, Fargate or Fargate spot. @default {"EC2"} */
  compute?: ComputeType;
  /**
   * vCPUs per job; Fargate takes 0.25, 0.5, 1, 2, 4, 8 or 16. @default {1 on AWS; on the docker
   * target no CPU limit, one item in flight}
   */
  vcpus?: number;
  /**
   * MiB of memory per job. @default {8000 on EC2; on Fargate the least its vCPUs take, 2048 per
   * vCPU}
   */
  memory?: number;
  /** GPUs per job (EC2 and SPOT only). @default {0} */
  gpus?: number;
  /** Attempts per job, 1 to 10. @default {3} */
  retries?: number;
  /** Seconds one attempt may run, at least 60. */
  timeout?: number;
  /** Which failures to retry; when no rule matches, Batch retries. */
  evaluateOnExit?: RetryRule[];
  /**
   * EC2 instance types or families, or one of AWS Batch's picks: `optimal`,
   * `default_x86_64`, `default_arm64`. @default {["optimal"]}
   */
  instanceTypes?: string[];
  /** vCPUs kept running when idle (EC2 and SPOT). @default {0} */
  minVcpus?: number;
  /** vCPUs to start with (EC2 and SPOT). @default {0} */
  desiredVcpus?: number;
  /** The most vCPUs the compute environment may run. @default {256} */
  maxVcpus?: number;
  /** The spot bid as a percentage of the on-demand price, 1 to 100 (SPOT). */
  bidPercentage?: number;
  /**
   * The root volume's size in GiB, through a launch template (EC2 and SPOT):
   * 30 (the ECS-optimized AMI's own) to 16,384.
   */
  volumeSize?: number;
  /** A custom AMI id (EC2 and SPOT). */
  imageId?: string;
  /** An EC2 key pair for the instances (EC2 and SPOT). */
  ec2KeyPair?: string;
  /** The job queue's priority. @default {1} */
  priority?: number;
  /**
   * Seconds a job may wait in RUNNABLE when AWS Batch finds that no instance
   * the compute environment may launch can run it (a misconfiguration that
   * never resolves by itself) before Batch cancels it, 600 to 86,400; `false`
   * never cancels. @default {600}
   */
  stuckTimeout?: number | false;
  /**
   * Seconds a job may wait in RUNNABLE while AWS has no capacity for the
   * instance types before Batch cancels it, 600 to 86,400; `false` waits for
   * capacity as long as it takes. @default {false}
   */
  capacityTimeout?: number | false;
}

/** Compute settings after their checks, with every default filled in. */
export interface ComputeSpec {
  /** Where the jobs run. */
  compute: ComputeType;
  /** vCPUs per job. */
  vcpus: number;
  /** MiB per job. */
  memory: number;
  /** GPUs per job. */
  gpus: number;
  /** Attempts per job. */
  retries: number;
  /** Seconds per attempt, when limited. */
  timeout?: number;
  /** Retry rules. */
  evaluateOnExit: RetryRule[];
  /** Instance types (EC2 and SPOT). */
  instanceTypes: string[];
  /** Scaling bounds. */
  minVcpus: number;
  /** vCPUs to start with. */
  desiredVcpus: number;
  /** The most vCPUs. */
  maxVcpus: number;
  /** The spot bid percentage. */
  bidPercentage?: number;
  /** The root volume size in GiB. */
  volumeSize?: number;
  /** A custom AMI. */
  imageId?: string;
  /** An EC2 key pair. */
  ec2KeyPair?: string;
  /** The queue's priority. */
  priority: number;
  /** What Batch does with jobs stuck in RUNNABLE. */
  jobStateTimeLimitActions: JobStateTimeLimitAction[];
}

/** Fargate's valid memory sizes (MiB) for each vCPU count. */
export const FARGATE_MEMORY: ReadonlyMap<number, readonly number[]> = new Map([
  [0.25, [512, 1024, 2048]],
  [0.5, range(1024, 4096, 1024)],
  [1, range(2048, 8192, 1024)],
  [2, range(4096, 16384, 1024)],
  [4, range(8192, 30720, 1024)],
  [8, range(16384, 61440, 4096)],
  [16, range(32768, 122880, 8192)],
]);

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/**
 * The most vCPUs one job may ask for on EC2 and SPOT. Batch gives a job
 * `vcpus × 1024` CPU shares, and the Linux kernel takes at most 262,144 CPU
 * shares: ECS ContainerDefinition `cpu`,
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html.
 * (Fargate's limit, 16, is in {@linkcode FARGATE_MEMORY}.)
 */
export const EC2_MAX_VCPUS: number = 256;

/**
 * The most memory one job may ask for on EC2 and SPOT, in MiB: the memory of
 * the largest EC2 instance, u7in-32tb.224xlarge with 32,768 GiB
 * (https://docs.aws.amazon.com/ec2/latest/instancetypes/mo.html). A job
 * bigger than every instance its compute environment may launch waits in
 * RUNNABLE for ever; the instance types themselves are checked against
 * EC2 DescribeInstanceTypes when the knot is made (`instance_types.ts`).
 * (Fargate's limit, 120 GiB, is in {@linkcode FARGATE_MEMORY}.)
 */
export const EC2_MAX_MEMORY_MIB: number = 32_768 * 1024;

/**
 * The most GPUs one job may ask for: the GPUs of the EC2 instances with the
 * most, p2.16xlarge with 16
 * (https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html).
 */
export const MAX_GPUS: number = 16;

/**
 * The most vCPUs a compute environment may run. Batch documents no upper
 * bound for `maxvCpus` (an Integer: API_ComputeResource); what runs is bounded
 * by the account's EC2 vCPU quota (32 On-Demand vCPUs for a new account,
 * quota L-1216C47A), and the largest quotas users report are in the tens of
 * thousands (13,000 in ASFHyP3/hyp3#2917). cloudknot takes more than 100,000 for
 * a mistake, such as a value in MiB or a stray exponent.
 */
export const MAX_COMPUTE_VCPUS: number = 100_000;

/**
 * The longest `timeout`, in seconds: 2^31 - 1 ms, the longest timer the
 * local target can set (a longer `setTimeout` fires at once). The same bound
 * holds on AWS, so a knot's timeout means the same on both targets.
 */
export const MAX_TIMEOUT_SECONDS: number = Math.floor((2 ** 31 - 1) / 1000);

/**
 * The most attempts an item may get (`retries`): AWS Batch's limit of a job's
 * `retryStrategy.attempts` (API_RetryStrategy: "between 1 and 10"), which
 * every target keeps, so that a knot's retries mean the same everywhere.
 */
export const MAX_RETRIES: number = 10;

/** Batch's least job timeout: "The minimum value for the timeout is 60 seconds" (API_JobTimeout). */
export const MIN_TIMEOUT_SECONDS: number = 60;

/** Batch's least memory of a job: "at least 4 MiB" (API_ResourceRequirement). */
export const MIN_MEMORY_MIB: number = 4;

/**
 * The smallest root volume, in GiB, a knot's instances may have: the root
 * snapshot of the Amazon ECS-optimized Amazon Linux 2023 AMIs that Batch
 * launches for a knot (`ECS_AL2023`, and `ECS_AL2023_NVIDIA` with GPUs; x86
 * and arm64) is 30 GiB (`block_device_size_gb` in AWS's aws/amazon-ecs-ami
 * build), and EC2 launches no instance whose root volume is smaller than its
 * snapshot (`InvalidBlockDeviceMapping: Volume of size 2GB is smaller than
 * snapshot …, expect size >= 30GB`): every job would wait in RUNNABLE.
 */
export const ECS_AMI_ROOT_GIB: number = 30;

/** The largest root volume cloudknot asks for, in GiB (16 TiB). */
export const MAX_VOLUME_GIB: number = 16_384;

const COMPUTE_TYPES: readonly ComputeType[] = ["EC2", "SPOT", "FARGATE", "FARGATE_SPOT"];

/**
 * Whether a compute type (a knot's `compute`, or a compute environment's
 * `computeResources.type`) runs jobs on AWS Fargate: `FARGATE` or
 * `FARGATE_SPOT`.
 *
 * @example Usage
 * ```ts
 * import { isFargate } from "@cloudknot/cloudknot/batch";
 *
 * console.log(isFargate("FARGATE_SPOT"), isFargate("SPOT")); // true false
 * ```
 *
 * @param compute The compute type.
 * @returns `true` on Fargate.
 */
export function isFargate(compute: string | undefined): boolean {
  return compute === "FARGATE" || compute === "FARGATE_SPOT";
}

/**
 * The instance types that let AWS Batch choose: `optimal` (c4, m4, r4, c5, m5
 * and r5, or like `default_x86_64` from November 2025), `default_x86_64` (m6i,
 * c6i, r6i, c7i) and `default_arm64` (m6g, c6g, r6g, c7g); none has GPUs
 * (https://docs.aws.amazon.com/batch/latest/APIReference/API_ComputeResource.html).
 *
 * @example Usage
 * ```ts
 * import { BATCH_PICKS } from "@cloudknot/cloudknot/batch";
 *
 * console.log(BATCH_PICKS.includes("optimal")); // true
 * ```
 */
export const BATCH_PICKS: readonly string[] = ["optimal", "default_x86_64", "default_arm64"];

/**
 * The CPU architecture of an EC2 instance type or family, as Docker names
 * it: `arm64` for AWS Graviton types (`a1`, and the families whose
 * generation digit is followed by `g`: `m6g`, `c7gn`, `r6gd`, `t4g`, `x2gd`,
 * …; https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html)
 * and `default_arm64`, `amd64` for every other type, `optimal` included.
 *
 * @example Usage
 * ```ts
 * import { instanceArchitecture } from "@cloudknot/cloudknot/batch";
 *
 * console.log(instanceArchitecture("c7gn.large"), instanceArchitecture("g4dn")); // "arm64" "amd64"
 * ```
 *
 * @param type An instance type (`m6g.large`), a family (`m6g`) or one of Batch's picks.
 * @returns `arm64` or `amd64`.
 */
export function instanceArchitecture(type: string): "arm64" | "amd64" {
  const family = type.split(".")[0]!;
  return family === "default_arm64" || family === "a1" || /^[a-z]+\d+g/.test(family)
    ? "arm64"
    : "amd64";
}

/**
 * Refuses compute settings whose hosts run another CPU architecture than
 * the image's platform, before anything is made: an amd64 image on AWS
 * Graviton instances (or an arm64 image on x86 instances or Fargate, which
 * runs X86_64 here) would fail every attempt with `exec format error`.
 *
 * @example Usage
 * ```ts
 * import { checkArchitecture, validateComputeOptions } from "@cloudknot/cloudknot/batch";
 *
 * checkArchitecture(validateComputeOptions({ instanceTypes: ["c6i"] }), "linux/amd64");
 * ```
 *
 * @param spec Checked compute settings.
 * @param platform The image's platform, such as `linux/amd64`.
 * @throws {CloudknotInputError} When they differ.
 */
export function checkArchitecture(spec: ComputeSpec, platform: string): void {
  const image = platform.split("/")[1] === "arm64" ? "arm64" : "amd64";
  const fargate = isFargate(spec.compute);
  if (fargate) {
    if (image === "arm64") {
      fail(
        "compute",
        `The image is built for ${platform}, but Fargate jobs run on X86_64 here: its jobs would ` +
          `fail with "exec format error"; build the image for linux/amd64, or use compute "EC2" ` +
          `with AWS Graviton instanceTypes such as ["m7g"]`,
      );
    }
    return;
  }
  const other = spec.instanceTypes.filter((t) => instanceArchitecture(t) !== image);
  if (other.length === 0) return;
  const kind = image === "amd64" ? "AWS Graviton (arm64)" : "x86 (amd64)";
  const instead = image === "amd64"
    ? 'x86 types such as "c6i", "m5" or "optimal"'
    : 'Graviton types such as "m7g", "c7g" or "default_arm64"';
  fail(
    "instanceTypes",
    `${other.map((t) => `"${t}"`).join(", ")} ${other.length > 1 ? "are" : "is"} ${kind}, but ` +
      `the image is built for ${platform}: its jobs would fail with "exec format error"; use ` +
      instead,
  );
}
const EC2_ONLY = [
  "gpus",
  "instanceTypes",
  "minVcpus",
  "desiredVcpus",
  "bidPercentage",
  "volumeSize",
  "imageId",
  "ec2KeyPair",
] as const;

function fail(field: string, message: string): never {
  throw new CloudknotInputError(message, { field });
}

/**
 * The seconds `stuckTimeout` and `capacityTimeout` may be: what AWS Batch
 * takes for a job queue's `jobStateTimeLimitActions` `maxTimeSeconds`.
 */
export const RUNNABLE_LIMIT_SECONDS: { readonly min: number; readonly max: number } = {
  min: 600,
  max: 86_400,
};

/** The queue's actions for jobs stuck in RUNNABLE, from `stuckTimeout` and `capacityTimeout`. */
function timeLimitActions(options: ComputeOptions): JobStateTimeLimitAction[] {
  const { min, max } = RUNNABLE_LIMIT_SECONDS;
  const limit = (field: "stuckTimeout" | "capacityTimeout", value: number | false) =>
    value === false ? undefined : integer(field, value, min, max);
  const stuck = limit("stuckTimeout", options.stuckTimeout ?? 600);
  const capacity = limit("capacityTimeout", options.capacityTimeout ?? false);
  const action = (reason: string, maxTimeSeconds: number): JobStateTimeLimitAction => ({
    reason,
    state: "RUNNABLE",
    maxTimeSeconds,
    action: "CANCEL",
  });
  return [
    ...(stuck === undefined ? [] : MISCONFIGURATION_REASONS.map((r) => action(r, stuck))),
    ...(capacity === undefined ? [] : [action(CAPACITY_REASON, capacity)]),
  ];
}

function integer(field: string, value: unknown, min: number, max = Infinity): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    const bound = max === Infinity
      ? `at least ${min}`
      : `from ${min} to ${max.toLocaleString("en-US")}`;
    fail(field, `${field} must be an integer ${bound}, not ${given(value)}`);
  }
  return value;
}

/** A value as given: a string in quotes (`"512"`, not 512), a number as it is (JSON would call NaN null). */
function given(value: unknown): string {
  return typeof value === "number" ? String(value) : JSON.stringify(value);
}

/**
 * Checks a knot's compute settings and fills in the defaults. Every mistake
 * is a {@linkcode CloudknotInputError} naming the option and what is allowed.
 *
 * @example Usage
 * ```ts
 * import { validateComputeOptions } from "@cloudknot/cloudknot/batch";
 *
 * const spec = validateComputeOptions({ compute: "FARGATE", vcpus: 1, memory: 2048 });
 * console.log(spec.maxVcpus); // 256
 * ```
 *
 * @param options The settings as given.
 * @param knotCompute The compute type of the knot the settings are given to, when it exists:
 *   the settings are checked against it when `compute` is not given. @default {"EC2"}
 * @returns The checked settings with defaults.
 */
export function validateComputeOptions(
  options: ComputeOptions = {},
  knotCompute: ComputeType = "EC2",
): ComputeSpec {
  const compute = options.compute ?? knotCompute;
  if (!COMPUTE_TYPES.includes(compute)) {
    fail(
      "compute",
      `compute must be one of ${COMPUTE_TYPES.join(", ")}, not ${JSON.stringify(compute)}`,
    );
  }
  const fargate = isFargate(compute);
  if (fargate) {
    for (const field of EC2_ONLY) {
      const value = options[field];
      if (value === undefined || (field === "gpus" && value === 0)) continue;
      fail(
        field,
        field === "gpus"
          ? 'Fargate has no GPUs: use compute "EC2" or "SPOT" for gpus'
          : `${field} applies to EC2 and SPOT compute only, not ${compute}`,
      );
    }
  }
  const vcpus = options.vcpus ?? 1;
  let memory: number;
  if (fargate) {
    // Memory alone given to an existing knot pairs with the vCPUs of its job definition, which
    // its update reads and checks the pair with before changing anything: here, any size.
    const alone = options.vcpus === undefined && options.compute === undefined &&
      options.memory !== undefined;
    const sizes = alone
      ? [...new Set([...FARGATE_MEMORY.values()].flat())].sort((a, b) => a - b)
      : FARGATE_MEMORY.get(vcpus);
    if (sizes === undefined || typeof vcpus !== "number") {
      fail(
        "vcpus",
        `On Fargate, vcpus must be one of ${[...FARGATE_MEMORY.keys()].join(", ")}, not ` +
          given(vcpus),
      );
    }
    if (options.memory !== undefined && typeof options.memory !== "number") {
      fail(
        "memory",
        `memory must be a number of MiB, such as ${sizes[0]}, not ${
          JSON.stringify(options.memory)
        }`,
      );
    }
    memory = options.memory ?? sizes[0]!;
    if (alone && !sizes.includes(memory)) {
      fail("memory", `On Fargate, memory must be one of the sizes Fargate takes, not ${memory}`);
    }
    if (!sizes.includes(memory)) {
      fail(
        "memory",
        `On Fargate, ${vcpus} vCPU takes memory of ${sizes[0]} to ${sizes.at(-1)} MiB in steps of ${
          sizes.length > 1 ? sizes[1]! - sizes[0]! : 0
        }${vcpus === 0.25 ? " (512, 1024 or 2048)" : ""}, not ${memory}`,
      );
    }
  } else {
    integer("vcpus", vcpus, 1, EC2_MAX_VCPUS);
    memory = integer("memory", options.memory ?? 8000, MIN_MEMORY_MIB, EC2_MAX_MEMORY_MIB);
  }
  const gpus = integer("gpus", options.gpus ?? 0, 0, MAX_GPUS);
  const retries = integer("retries", options.retries ?? 3, 1, MAX_RETRIES);
  let timeout: number | undefined;
  if (options.timeout !== undefined) {
    timeout = integer("timeout", options.timeout, MIN_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS);
  }
  const evaluateOnExit = validateRetryRules(options.evaluateOnExit ?? []);
  const instanceTypes = options.instanceTypes ?? (fargate ? [] : ["optimal"]);
  if (
    !Array.isArray(instanceTypes) ||
    instanceTypes.some((t) =>
      typeof t !== "string" || !(/^[a-z0-9][a-z0-9.-]*$/.test(t) || BATCH_PICKS.includes(t))
    )
  ) {
    fail(
      "instanceTypes",
      'instanceTypes must be an array of instance types such as "m5.large", "c5", "optimal", ' +
        '"default_x86_64" or "default_arm64"',
    );
  }
  // An empty list names nothing for Batch to launch: the compute environment could run no job.
  if (!fargate && instanceTypes.length === 0) {
    fail(
      "instanceTypes",
      `instanceTypes must name at least one instance type on ${compute}, such as ["optimal"] ` +
        `(the default) or ["c5", "m5"]`,
    );
  }
  const minVcpus = integer("minVcpus", options.minVcpus ?? 0, 0, MAX_COMPUTE_VCPUS);
  const desiredVcpus = integer(
    "desiredVcpus",
    options.desiredVcpus ?? minVcpus,
    0,
    MAX_COMPUTE_VCPUS,
  );
  const maxVcpus = integer("maxVcpus", options.maxVcpus ?? 256, 1, MAX_COMPUTE_VCPUS);
  if (!(minVcpus <= desiredVcpus && desiredVcpus <= maxVcpus)) {
    // Without desiredVcpus (it is minVcpus then), only minVcpus and maxVcpus were given.
    if (options.desiredVcpus === undefined) {
      fail(
        "minVcpus",
        `minVcpus (${minVcpus}) must be at most maxVcpus (${maxVcpus}${
          options.maxVcpus === undefined ? ", the default" : ""
        })`,
      );
    }
    fail(
      "desiredVcpus",
      `The vCPU bounds must satisfy minVcpus ≤ desiredVcpus ≤ maxVcpus, not ${minVcpus} ≤ ${desiredVcpus} ≤ ${maxVcpus}`,
    );
  }
  const picked = instanceTypes.filter((t) => BATCH_PICKS.includes(t));
  if (gpus > 0 && picked.length > 0) {
    fail(
      "instanceTypes",
      `gpus needs instance types with GPUs: "${picked[0]}" lets AWS Batch choose among C, M and ` +
        `R instances, which have none, so the jobs could never start; pass instanceTypes such ` +
        `as ["g4dn", "g5"] or ["p3"]`,
    );
  }
  if (vcpus > maxVcpus) {
    fail(
      "maxVcpus",
      `maxVcpus (${maxVcpus}) is below one job's vcpus (${vcpus}): no job could ever start`,
    );
  }
  const spec: ComputeSpec = {
    compute,
    vcpus,
    memory,
    gpus,
    retries,
    evaluateOnExit,
    instanceTypes,
    minVcpus,
    desiredVcpus,
    maxVcpus,
    priority: integer("priority", options.priority ?? 1, 1, 1000),
    jobStateTimeLimitActions: timeLimitActions(options),
  };
  if (timeout !== undefined) spec.timeout = timeout;
  if (options.bidPercentage !== undefined) {
    if (compute !== "SPOT") fail("bidPercentage", 'bidPercentage needs compute "SPOT"');
    spec.bidPercentage = integer("bidPercentage", options.bidPercentage, 1, 100);
  }
  if (options.volumeSize !== undefined && options.imageId !== undefined) {
    fail("volumeSize", "Pass volumeSize or imageId, not both: a custom AMI sets its own volume");
  }
  if (options.volumeSize !== undefined) {
    const size = integer("volumeSize", options.volumeSize, 1, MAX_VOLUME_GIB);
    if (size < ECS_AMI_ROOT_GIB) {
      fail(
        "volumeSize",
        `volumeSize must be at least ${ECS_AMI_ROOT_GIB} (GiB), not ${size}: the instances run ` +
          `Batch's ECS-optimized Amazon Linux 2023 AMI, whose root snapshot is ` +
          `${ECS_AMI_ROOT_GIB} GiB, and EC2 launches none with a smaller root volume, so every ` +
          `job would wait in RUNNABLE; pass volumeSize of ${ECS_AMI_ROOT_GIB} to ` +
          `${MAX_VOLUME_GIB.toLocaleString("en-US")}, or leave it out for the AMI's ` +
          `${ECS_AMI_ROOT_GIB} GiB`,
      );
    }
    spec.volumeSize = size;
  }
  if (options.imageId !== undefined) {
    if (!/^ami-[0-9a-f]{8,17}$/.test(options.imageId)) {
      fail(
        "imageId",
        `imageId must be an AMI id such as "ami-0123456789abcdef0", not "${options.imageId}"`,
      );
    }
    spec.imageId = options.imageId;
  }
  if (options.ec2KeyPair !== undefined) {
    if (typeof options.ec2KeyPair !== "string" || options.ec2KeyPair === "") {
      fail("ec2KeyPair", "ec2KeyPair must be the name of an EC2 key pair");
    }
    spec.ec2KeyPair = options.ec2KeyPair;
  }
  return spec;
}

/** The keys of a retry rule, as Batch's `EvaluateOnExit` has them. */
const RETRY_RULE_KEYS: Readonly<Record<keyof RetryRule, true>> = {
  action: true,
  onExitCode: true,
  onReason: true,
  onStatusReason: true,
};

function validateRetryRules(rules: RetryRule[]): RetryRule[] {
  if (!Array.isArray(rules) || rules.length > 5) {
    fail("evaluateOnExit", "evaluateOnExit must be an array of at most 5 rules");
  }
  return rules.map((rule, i) => {
    const where = `evaluateOnExit[${i}]`;
    if (rule === null || typeof rule !== "object" || Array.isArray(rule)) {
      fail(
        "evaluateOnExit",
        `${where} must be a rule such as { action: "RETRY", onExitCode: "137" }`,
      );
    }
    // Batch refuses any other key (after the knot's other resources were made).
    const unknown = Object.keys(rule).find((key) => !Object.hasOwn(RETRY_RULE_KEYS, key));
    if (unknown !== undefined) {
      fail(
        "evaluateOnExit",
        `${where} has no key "${unknown}": a rule's keys are ${
          Object.keys(RETRY_RULE_KEYS).join(", ")
        }`,
      );
    }
    if (rule.action !== "RETRY" && rule.action !== "EXIT") {
      fail("evaluateOnExit", `${where}.action must be "RETRY" or "EXIT"`);
    }
    if (
      rule.onExitCode === undefined && rule.onReason === undefined &&
      rule.onStatusReason === undefined
    ) {
      fail("evaluateOnExit", `${where} needs onExitCode, onReason or onStatusReason`);
    }
    if (
      rule.onExitCode !== undefined &&
      (typeof rule.onExitCode !== "string" || !/^\d{1,512}\*?$/.test(rule.onExitCode))
    ) {
      fail(
        "evaluateOnExit",
        `${where}.onExitCode must be a string of digits, optionally ending in *, such as "137" or ` +
          `"1*", not ${describeValue(rule.onExitCode)}`,
      );
    }
    for (const key of ["onReason", "onStatusReason"] as const) {
      const glob = rule[key];
      if (
        glob !== undefined &&
        (typeof glob !== "string" || glob.length > 512 || !/^[A-Za-z0-9.: \t]*\*?$/.test(glob))
      ) {
        fail(
          "evaluateOnExit",
          `${where}.${key} must be at most 512 letters, digits, spaces, periods or colons, optionally ending in *`,
        );
      }
    }
    return { ...rule };
  });
}
