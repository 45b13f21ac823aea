/**
 * The options of a knot on AWS, as command-line options (`map --target aws`
 * and `knot create --target aws`), and their reading into `Knot.create()`
 * options.
 *
 * @module
 */
import type { ComputeType } from "../../targets/aws/batch/compute_options.ts";
import type { AwsKnotOptions } from "../../targets/aws/aws_knot.ts";
import type { CommandContext, OptionSpec } from "./command.ts";
import { KNOT_RANGES } from "./ranges.ts";
import type { TargetName } from "./target.ts";

/** The options of a knot on AWS Batch. */
export const AWS_KNOT_OPTIONS: Record<string, OptionSpec> = {
  compute: {
    type: "string",
    value: "EC2|SPOT|FARGATE|FARGATE_SPOT",
    description: "AWS: where the jobs run (default: EC2)",
  },
  vcpus: {
    type: "string",
    value: "N",
    description:
      "AWS: vCPUs per job, 1 to 256; Fargate takes 0.25, 0.5, 1, 2, 4, 8 or 16 (default: 1); " +
      "map --target docker: each container's CPUs",
  },
  gpus: {
    type: "string",
    value: "N",
    description: "AWS: GPUs per job, EC2 and SPOT, 0 to 16 (default: 0)",
  },
  "max-vcpus": {
    type: "string",
    value: "N",
    description:
      "AWS: the most vCPUs the compute environment runs at once, 1 to 100,000 (default: 256)",
  },
  "min-vcpus": {
    type: "string",
    value: "N",
    description: "AWS: vCPUs kept running when idle, EC2 and SPOT, 0 to 100,000 (default: 0)",
  },
  "instance-types": {
    type: "string",
    value: "T,T",
    description: "AWS: EC2 instance types or families, comma-separated (default: optimal)",
  },
  "bid-percentage": {
    type: "string",
    value: "N",
    description: "AWS: the spot bid as a percentage of the on-demand price (SPOT), 1 to 100",
  },
  "volume-size": {
    type: "string",
    value: "GiB",
    description: "AWS: the instances' root volume size, EC2 and SPOT, 30 to 16384",
  },
  "stuck-timeout": {
    type: "string",
    value: "SECONDS|never",
    description: "AWS: how long a job may wait in RUNNABLE when no instance the compute " +
      "environment may launch can run it, before Batch cancels it, 600 to 86400 (default: 600)",
  },
  "capacity-timeout": {
    type: "string",
    value: "SECONDS|never",
    description: "AWS: how long a job may wait in RUNNABLE for capacity AWS does not have, " +
      "before Batch cancels it, 600 to 86400 (default: never)",
  },
  "base-image": {
    type: "string",
    value: "IMAGE",
    description: "AWS and docker: the image's base, with deno on PATH (default: " +
      "$CLOUDKNOT_BASE_IMAGE, else denoland/deno:<this Deno's version>)",
  },
  pars: {
    type: "string",
    value: "NAME",
    description: "AWS: the Pars to run with (default: the shared <you>-default Pars)",
  },
  policy: {
    type: "string",
    value: "POLICY",
    multiple: true,
    description: "AWS: an IAM policy for the jobs; the knot gets a Pars of its own",
  },
  repo: {
    type: "string",
    value: "REPO",
    description: "AWS: the ECR repository of the image (default: the configured one)",
  },
  tag: {
    type: "string",
    value: "K=V",
    multiple: true,
    description: "AWS: a tag for everything the knot makes",
  },
};

/** The names of {@linkcode AWS_KNOT_OPTIONS} and the shared options that mean something on AWS. */
export const AWS_ONLY: readonly string[] = Object.keys(AWS_KNOT_OPTIONS);

const COMPUTE: readonly ComputeType[] = ["EC2", "SPOT", "FARGATE", "FARGATE_SPOT"];

/**
 * Reads the AWS options of a command into `Knot.create()` options. Each
 * number is checked against its range on the target (`ranges.ts`); what the
 * values mean together (Fargate's pairs, `--min-vcpus` above `--max-vcpus`)
 * is `Knot.create()`'s check.
 *
 * @example Usage
 * ```ts ignore
 * const options = awsKnotOptions(ctx, "aws"); // { compute: "FARGATE", vcpus: 0.5, ... }
 * ```
 *
 * @param ctx The running command.
 * @param target The knot's target: `aws`, or `docker` (which takes `--vcpus` and
 *   `--base-image` of them). @default {"aws"}
 * @returns The options that were given.
 * @throws {UsageError} When a value is out of its range, or not a compute type.
 */
export function awsKnotOptions(ctx: CommandContext, target: TargetName = "aws"): AwsKnotOptions {
  const out: AwsKnotOptions = {};
  const compute = ctx.string("compute");
  if (compute !== undefined) {
    const upper = compute.toUpperCase() as ComputeType;
    if (!COMPUTE.includes(upper)) {
      throw ctx.usage(`--compute must be one of ${COMPUTE.join(", ")}, not "${compute}"`);
    }
    out.compute = upper;
  }
  // A flag the target does not take was refused before; on AWS, each has its range there.
  const range = (flag: string) => KNOT_RANGES[target][flag] ?? KNOT_RANGES.aws[flag]!;
  const vcpus = ctx.number("vcpus", range("vcpus"));
  if (vcpus !== undefined) out.vcpus = vcpus;
  const numbers: [string, keyof AwsKnotOptions][] = [
    ["gpus", "gpus"],
    ["max-vcpus", "maxVcpus"],
    ["min-vcpus", "minVcpus"],
    ["bid-percentage", "bidPercentage"],
    ["volume-size", "volumeSize"],
  ];
  for (const [option, key] of numbers) {
    const value = ctx.number(option, range(option));
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  const limits: [string, "stuckTimeout" | "capacityTimeout"][] = [
    ["stuck-timeout", "stuckTimeout"],
    ["capacity-timeout", "capacityTimeout"],
  ];
  for (const [option, key] of limits) {
    const value = ctx.numberOrWord(option, range(option));
    if (value !== undefined) out[key] = value === "never" ? false : value as number;
  }
  const types = ctx.string("instance-types");
  if (types !== undefined) {
    out.instanceTypes = types.split(",").map((t) => t.trim()).filter((t) => t !== "");
  }
  const baseImage = ctx.string("base-image") ?? (ctx.io.env("CLOUDKNOT_BASE_IMAGE") || undefined);
  if (baseImage !== undefined) out.baseImage = baseImage;
  const pars = ctx.string("pars");
  if (pars !== undefined) out.pars = pars;
  const policies = ctx.strings("policy");
  if (policies.length > 0) out.parsPolicies = policies;
  const repo = ctx.string("repo");
  if (repo !== undefined) out.repoName = repo;
  return out;
}

/**
 * The flags of AWS knots the docker target takes too, as `--name`: what they
 * mean on one machine (`map` and `knot create` refuse the others there).
 */
export const DOCKER_TOO: ReadonlySet<string> = new Set([
  "--vcpus",
  "--base-image",
  "--items-per-job",
]);

/**
 * The AWS options given to a command that runs on the local target, which
 * are an error there.
 *
 * @example Usage
 * ```ts ignore
 * const stray = awsOptionsGiven(ctx); // ["--compute"]
 * ```
 *
 * @param ctx The running command.
 * @returns The options, as `--name`.
 */
export function awsOptionsGiven(ctx: CommandContext): string[] {
  return AWS_ONLY.filter((name) =>
    AWS_KNOT_OPTIONS[name]!.multiple ? ctx.strings(name).length > 0 : ctx.string(name) !== undefined
  ).map((name) => `--${name}`);
}
