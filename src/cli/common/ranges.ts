/**
 * The numbers the command line's options take, on each target: a value
 * outside an option's range is bad usage (exit code 2, with the usage line),
 * refused before anything is read or made, in a message that names the flag
 * and the range (`--retries takes an integer from 1 to 10, not "11"`).
 *
 * A range here is the option's own: what it can never take on the target,
 * whatever the other options say. What a value within it meets with the
 * knot's other options (Fargate's pairs of vCPUs and memory, `--min-vcpus`
 * above `--max-vcpus`, `--bid-percentage` without `--compute SPOT`) or with
 * this machine (its memory, its CPUs) is the library's check, an error (exit
 * code 1) that names both. The bounds are the library's: its exported
 * constants where it has them, else the number its check holds, which
 * `tests/cli/option_ranges_test.ts` checks against that check.
 *
 * @module
 */
import { MAX_ITEMS_PER_JOB } from "../../job/slicing.ts";
import {
  EC2_MAX_MEMORY_MIB,
  EC2_MAX_VCPUS,
  ECS_AMI_ROOT_GIB,
  FARGATE_MEMORY,
  MAX_COMPUTE_VCPUS,
  MAX_GPUS,
  MAX_RETRIES,
  MAX_TIMEOUT_SECONDS,
  MAX_VOLUME_GIB,
  MIN_MEMORY_MIB,
  MIN_TIMEOUT_SECONDS,
  RUNNABLE_LIMIT_SECONDS,
} from "../../targets/aws/batch/compute_options.ts";
import {
  MAX_CONCURRENCY,
  MIN_CONTAINER_CPUS,
  MIN_CONTAINER_MIB,
} from "../../targets/machine_resources.ts";
import type { TargetName } from "./target.ts";

/** The numbers an option takes. */
export interface NumberRange {
  /** Whole numbers only. */
  integer: boolean;
  /** The least value (refused itself when `above` is set). */
  min: number;
  /** Only numbers above `min`: a positive number has `min: 0, above: true`. */
  above?: boolean;
  /** The greatest value. @default {Infinity} */
  max?: number;
  /** Numbers taken besides the range, such as Fargate's 0.25 and 0.5 vCPUs. */
  also?: readonly number[];
  /** A word taken instead of a number, such as `auto` or `never`. */
  word?: string;
  /** Where the range holds, such as `on AWS`, when it is one target's. */
  where?: string;
  /** Why the range is what it is, said after a refusal when the bound is not plain. */
  why?: string;
}

/**
 * The root volume of the ECS-optimized AMI the compute environment launches, and the most
 * cloudknot asks for: the library's bounds, and the reason its refusal gives.
 */
const VOLUME_GIB: NumberRange = {
  integer: true,
  min: ECS_AMI_ROOT_GIB,
  max: MAX_VOLUME_GIB,
  why: `the instances run Batch's ECS-optimized Amazon Linux 2023 AMI, whose root snapshot is ` +
    `${ECS_AMI_ROOT_GIB} GiB, and EC2 launches none with a smaller root volume, so every job ` +
    `would wait in RUNNABLE; leave --volume-size out for the AMI's ${ECS_AMI_ROOT_GIB} GiB`,
};

/** A positive integer. */
export const POSITIVE_INTEGER: NumberRange = { integer: true, min: 1 };

/** A whole number: 0 or more. */
export const WHOLE_NUMBER: NumberRange = { integer: true, min: 0 };

/** A positive number. */
export const POSITIVE_NUMBER: NumberRange = { integer: false, min: 0, above: true };

const RETRIES: NumberRange = { integer: true, min: 1, max: MAX_RETRIES };
const CONCURRENCY: NumberRange = { integer: true, min: 1, max: MAX_CONCURRENCY };
const ITEMS_PER_JOB: NumberRange = { integer: true, min: 1, max: MAX_ITEMS_PER_JOB, word: "auto" };
const TIMEOUT: NumberRange = { integer: false, min: 0, above: true, max: MAX_TIMEOUT_SECONDS };
const RUNNABLE_LIMIT: NumberRange = { integer: true, ...RUNNABLE_LIMIT_SECONDS, word: "never" };

/**
 * The ranges of a knot's options on each target, by flag: those of `map`,
 * `knot create` and (`memory`, `vcpus`, `timeout`) `retry`. A flag a target
 * does not take is missing from its table (the command refuses it for that
 * target).
 *
 * @example Usage
 * ```ts
 * import { KNOT_RANGES } from "./ranges.ts";
 *
 * console.log(KNOT_RANGES.aws.timeout!.min); // 60
 * ```
 */
export const KNOT_RANGES: Readonly<Record<TargetName, Readonly<Record<string, NumberRange>>>> = {
  local: {
    concurrency: CONCURRENCY,
    retries: RETRIES,
    timeout: TIMEOUT,
    // At most this machine's memory: the library's check, which reads it.
    memory: POSITIVE_INTEGER,
  },
  docker: {
    concurrency: CONCURRENCY,
    retries: RETRIES,
    timeout: TIMEOUT,
    memory: { integer: true, min: MIN_CONTAINER_MIB, where: "on docker" },
    // At most this machine's CPUs: the library's check.
    vcpus: { integer: false, min: MIN_CONTAINER_CPUS, where: "on docker" },
    "items-per-job": ITEMS_PER_JOB,
  },
  aws: {
    retries: RETRIES,
    timeout: {
      integer: true,
      min: MIN_TIMEOUT_SECONDS,
      max: MAX_TIMEOUT_SECONDS,
      where: "on AWS",
    },
    // Fargate's sizes are among these; which go with its vCPUs is the library's check.
    memory: { integer: true, min: MIN_MEMORY_MIB, max: EC2_MAX_MEMORY_MIB, where: "on AWS" },
    // EC2 and SPOT take whole vCPUs, Fargate its sizes: 0.25 and 0.5 besides whole ones.
    vcpus: {
      integer: true,
      min: 1,
      max: EC2_MAX_VCPUS,
      also: [...FARGATE_MEMORY.keys()].filter((v) => !Number.isInteger(v)),
      where: "on AWS",
    },
    gpus: { integer: true, min: 0, max: MAX_GPUS },
    "max-vcpus": { integer: true, min: 1, max: MAX_COMPUTE_VCPUS },
    "min-vcpus": { integer: true, min: 0, max: MAX_COMPUTE_VCPUS },
    "bid-percentage": { integer: true, min: 1, max: 100 },
    "volume-size": VOLUME_GIB,
    "stuck-timeout": RUNNABLE_LIMIT,
    "capacity-timeout": RUNNABLE_LIMIT,
    "items-per-job": ITEMS_PER_JOB,
  },
};

/** A number as the messages write it: `16,384`. */
function figure(n: number): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: 20 });
}

/**
 * A range in words, as a message or a help line says what an option takes:
 * `an integer from 1 to 10`, `a positive number`, `an integer from 1 to 256,
 * or 0.25 or 0.5, on AWS`, `an integer from 600 to 86,400, or never`.
 *
 * @example Usage
 * ```ts
 * import { rangeInWords } from "./ranges.ts";
 *
 * console.log(rangeInWords({ integer: true, min: 1, max: 10 })); // "an integer from 1 to 10"
 * ```
 *
 * @param range The range.
 * @returns Its words.
 */
export function rangeInWords(range: NumberRange): string {
  const { integer, min, above, max = Infinity, also = [], word, where } = range;
  let words: string;
  if (above && min === 0) {
    words = `a positive ${integer ? "integer" : "number"}` +
      (max === Infinity ? "" : ` up to ${figure(max)}`);
  } else if (max !== Infinity) {
    words = `${integer ? "an integer" : "a number"} from ${figure(min)} to ${figure(max)}`;
  } else if (min === -Infinity) words = integer ? "an integer" : "a number";
  else if (integer && min === 1) words = "a positive integer";
  else if (integer && min === 0) words = "a whole number";
  else words = `${integer ? "an integer" : "a number"} of at least ${figure(min)}`;
  const others = [...also.map(figure), ...(word !== undefined ? [word] : [])];
  if (others.length > 0) words += `, or ${others.join(" or ")}`;
  return where === undefined ? words : `${words}${others.length > 0 ? "," : ""} ${where}`;
}

/**
 * Whether a number is in a range (its word apart).
 *
 * @example Usage
 * ```ts
 * import { inRange } from "./ranges.ts";
 *
 * console.log(inRange(11, { integer: true, min: 1, max: 10 })); // false
 * ```
 *
 * @param value The number.
 * @param range The range.
 * @returns Whether the range takes it.
 */
export function inRange(value: number, range: NumberRange): boolean {
  if (!Number.isFinite(value)) return false;
  if (range.also?.includes(value)) return true;
  if (range.integer && !Number.isInteger(value)) return false;
  if (range.above ? !(value > range.min) : value < range.min) return false;
  return value <= (range.max ?? Infinity);
}

/**
 * The targets whose knots take a flag, as `--target` words: `--target aws or
 * --target docker` for `vcpus`. What `map` and `retry` say of a flag the
 * knot's target does not take (missing from its table in
 * {@linkcode KNOT_RANGES}).
 *
 * @example Usage
 * ```ts
 * import { targetsTaking } from "./ranges.ts";
 *
 * console.log(targetsTaking("vcpus")); // "--target aws or --target docker"
 * ```
 *
 * @param flag The flag, without its dashes.
 * @returns The targets, in words.
 */
export function targetsTaking(flag: string): string {
  return (["aws", "docker", "local"] as const)
    .filter((target) => KNOT_RANGES[target][flag] !== undefined)
    .map((target) => `--target ${target}`)
    .join(" or ");
}
