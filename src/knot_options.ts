/**
 * The checks of {@linkcode Knot.create}'s and {@linkcode Knot.map}'s
 * options, made before anything is packaged, created or run: the name, the
 * function, the target and the options that belong to it (each with its upper
 * bound), the map options and the inputs. On AWS the options of
 * `targets/aws/knot_options.ts` are checked here too.
 *
 * @module
 */
import { validateFunctionSource } from "./job/function_source.ts";
import type { KnotOptions, MapOptions, MapPlanOptions } from "./knot.ts";
import { type ProgressOptions, validateProgress } from "./run/progress.ts";
import { type Permissions, validatePermissions } from "./job/permissions.ts";
import { MAX_ITEMS_PER_JOB } from "./job/slicing.ts";
import { MAX_RETRIES } from "./targets/aws/batch/compute_options.ts";
import { AWS_KNOT_OPTION_KEYS } from "./targets/aws/option_keys.ts";
import type { AwsClobberOptions } from "./targets/aws/aws_knot.ts";
import { DOCKER_KNOT_OPTIONS } from "./targets/docker/option_keys.ts";
import {
  checkMachineResources,
  DEFAULT_RETRIES,
  defaultConcurrency,
  MAX_CONCURRENCY,
} from "./targets/machine_resources.ts";
import { CloudknotInputError } from "./util/errors.ts";
import {
  describeValue,
  validateKnotName,
  validateOptionKeys,
  validateOptionType,
} from "./util/validate.ts";

/** The options of {@linkcode Knot.create} after their checks, with defaults. */
export interface ValidKnotOptions {
  /** The name. */
  name: string;
  /** Where the items run. */
  target: "local" | "aws" | "docker";
  /** Local worker processes. */
  concurrency: number;
  /** Attempts per item. */
  retries: number;
  /** Seconds per attempt, when limited. */
  timeout?: number;
  /** Memory per job or worker, MiB, when given. */
  memory?: number;
  /** What the function may reach (in a local worker or in its job's container). */
  permissions?: Permissions;
  /** CPUs per container (the docker target), when given. */
  vcpus?: number;
}

const KNOT_OPTION_KEYS: Readonly<Record<keyof KnotOptions | "dryRun", true>> = {
  ...AWS_KNOT_OPTION_KEYS,
  dryRun: true,
  name: true,
  func: true,
  module: true,
  exportName: true,
  files: true,
  target: true,
  concurrency: true,
  retries: true,
  timeout: true,
  memory: true,
  dir: true,
  permissions: true,
  network: true,
};

/** Options every target takes. */
const SHARED = new Set([
  "dryRun",
  "name",
  "func",
  "module",
  "exportName",
  "files",
  "target",
  "retries",
  "timeout",
  "memory",
  "permissions",
  "warn",
]);
/** The options of each target besides the shared ones, in the order errors name them. */
const TARGET_OPTIONS: Readonly<Record<"local" | "docker" | "aws", ReadonlySet<string>>> = {
  local: new Set(["concurrency", "dir", "permissions"]),
  docker: new Set(DOCKER_KNOT_OPTIONS),
  aws: new Set(Object.keys(AWS_KNOT_OPTION_KEYS).filter((key) => !SHARED.has(key))),
};

const MAP_OPTION_KEYS: Readonly<Record<keyof MapPlanOptions, true>> = {
  dryRun: true,
  itemSeconds: true,
  starmap: true,
  env: true,
  signal: true,
  jobType: true,
  itemsPerJob: true,
  progress: true,
};

/** The options of `knot.collect()`. */
interface CollectOptions {
  signal?: AbortSignal;
  progress?: boolean | ProgressOptions;
}

const COLLECT_OPTION_KEYS: Readonly<Record<keyof CollectOptions, true>> = {
  signal: true,
  progress: true,
};

/**
 * Checks the run id and the options of `knot.collect()`.
 *
 * @example Usage
 * ```ts ignore
 * validateCollectOptions("20260101T000000Z-abc123", { progress: false }); // passes
 * validateCollectOptions("20260101T000000Z-abc123", { progres: false }); // CloudknotInputError: did you mean "progress"?
 * validateCollectOptions(5 as unknown as string, {}); // CloudknotInputError: collect() takes a run id…
 * ```
 *
 * @param runId The run's id.
 * @param options The options.
 */
export function validateCollectOptions(runId: string, options: CollectOptions): void {
  if (typeof runId !== "string" || runId.trim() === "") {
    throw new CloudknotInputError(
      `collect() takes the id of one of the knot's runs (run.runId, or the runId of an entry of ` +
        `knot.runs()), not ${describeValue(runId)}`,
      { field: "runId" },
    );
  }
  validateOptionKeys(options, COLLECT_OPTION_KEYS, "collect()");
  validateOptionType(options, "signal", AbortSignal, "an AbortSignal");
  validateProgress(options.progress, "collect()");
}

/**
 * Checks every option of {@linkcode Knot.create} that needs no AWS call and
 * fills in the defaults. An option of the other target is an error, so
 * nothing given is silently ignored. The AWS target's own checks
 * (`targets/aws/knot_options.ts`) load only when the target is `"aws"`, so
 * that a knot on this machine does not load the AWS target's modules.
 *
 * @example Usage
 * ```ts
 * import { validateKnotOptions } from "./knot_options.ts";
 *
 * const valid = await validateKnotOptions({ name: "squares", func: (x: number) => x * x, concurrency: 2 });
 * console.log(valid.retries); // 3
 * ```
 *
 * @param options The options as given.
 * @param system What bounds the local target's options. @default {"this machine"}
 * @returns The checked options.
 */
export async function validateKnotOptions(
  options: KnotOptions,
  system: { totalMemoryMiB?: number } = {},
): Promise<ValidKnotOptions> {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new CloudknotInputError(
      `Knot.create() takes an options object with at least a name, not ${describeValue(options)}`,
    );
  }
  validateOptionKeys(options, KNOT_OPTION_KEYS, "Knot.create()", {
    where: "map()",
    keys: MAP_OPTION_KEYS,
    how: (key) => `for one run: knot.map(inputs, { ${key} })`,
  });
  validateDryRun(options as { dryRun?: unknown });
  const name = validateKnotName(options.name);
  validateFunctionSource(options);
  validateOptionType(options, "warn", "function");
  const target = options.target ?? "local";
  if (target !== "local" && target !== "aws" && target !== "docker") {
    throw new CloudknotInputError(
      `target must be "local", "aws" or "docker", not ${JSON.stringify(target)}`,
      { field: "target" },
    );
  }
  const given = Object.entries(options).filter(([key, value]) =>
    value !== undefined && !SHARED.has(key)
  ).map(([key]) => key);
  const targets = Object.keys(TARGET_OPTIONS) as (keyof typeof TARGET_OPTIONS)[];
  const otherOf = (key: string) => targets.find((t) => t !== target && TARGET_OPTIONS[t].has(key));
  const strays = given.filter((key) => !TARGET_OPTIONS[target].has(key));
  if (strays.length > 0) {
    const other = otherOf(strays[0]!)!;
    const stray = strays.filter((key) => otherOf(key) === other);
    throw new CloudknotInputError(
      `${stray.join(", ")} ${stray.length > 1 ? "are options" : "is an option"} of target ` +
        `"${other}", not of "${target}": leave ${stray.length > 1 ? "them" : "it"} out, or pass ` +
        `target: "${other}"`,
      { field: stray[0]! },
    );
  }
  const concurrency = options.concurrency ?? defaultConcurrency();
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new CloudknotInputError(
      `concurrency must be an integer from 1 to ${MAX_CONCURRENCY} (worker processes), not ${
        describeValue(concurrency)
      }`,
      { field: "concurrency" },
    );
  }
  const retries = options.retries ?? DEFAULT_RETRIES;
  if (!Number.isInteger(retries) || retries < 1 || retries > MAX_RETRIES) {
    throw new CloudknotInputError(
      `retries must be an integer from 1 to ${MAX_RETRIES} (the attempts each item gets), not ${
        describeValue(retries)
      }`,
      { field: "retries" },
    );
  }
  const valid: ValidKnotOptions = { name, target, concurrency, retries };
  if (options.permissions !== undefined) {
    valid.permissions = validatePermissions(options.permissions);
  }
  if (target === "aws") {
    // The AWS rules: timeout an integer of at least 60, memory within Batch's bounds.
    const { ownCompute, validateAwsKnotOptions } = await import("./targets/aws/knot_options.ts");
    const spec = { ...options, name };
    const checked = validateAwsKnotOptions(spec, await ownCompute(spec));
    if (options.timeout !== undefined) valid.timeout = checked.compute.timeout!;
    if (options.memory !== undefined) valid.memory = checked.compute.memory;
    return valid;
  }
  // The rule a retry's resources on this machine meet too (each target's checkResources).
  checkMachineResources(target, { timeout: options.timeout, memory: options.memory }, system);
  if (options.timeout !== undefined) valid.timeout = options.timeout;
  if (options.memory !== undefined) valid.memory = options.memory;
  validateOptionType(options, "dir", "string");
  if (target === "docker") {
    // The docker target's checks load the Docker driver: only a docker knot loads them.
    const { validateDockerKnotOptions } = await import("./targets/docker/knot_options.ts");
    validateDockerKnotOptions(options, valid);
  }
  return valid;
}

/**
 * Checks the options of {@linkcode Knot.map}.
 *
 * @example Usage
 * ```ts
 * import { validateMapOptions } from "./knot_options.ts";
 *
 * validateMapOptions({ starmap: true, env: { MODE: "fast" } });
 * ```
 *
 * @param options The options as given.
 * @param target The knot's target, for the options of one target only. @default {"aws"}
 * @param knot The knot's name, for the message that says where an option of `Knot.create()` goes.
 */
export function validateMapOptions(
  options: MapOptions & Partial<MapPlanOptions>,
  target: "local" | "docker" | "aws" = "aws",
  knot?: string,
): void {
  validateOptionKeys(options, MAP_OPTION_KEYS, "map()", {
    where: "Knot.create()",
    keys: KNOT_OPTION_KEYS,
    how: (key) =>
      `for every run of the knot: Knot.create({ name: ${
        knot === undefined ? "…" : JSON.stringify(knot)
      }, ${key} })`,
  });
  validateDryRun(options as { dryRun?: unknown });
  const { itemSeconds } = options;
  if (itemSeconds !== undefined && !(typeof itemSeconds === "number" && itemSeconds > 0)) {
    throw new CloudknotInputError(
      `itemSeconds must be a positive number of seconds, not ${describeValue(itemSeconds)}`,
      { field: "itemSeconds" },
    );
  }
  if (itemSeconds !== undefined && options.dryRun !== true) {
    throw new CloudknotInputError(
      "itemSeconds is read only by a dry run, for its cost estimate: map(inputs, { dryRun: true, " +
        "itemSeconds }), or knot.estimate(inputs, { itemSeconds }); a run would ignore it",
      { field: "itemSeconds" },
    );
  }
  validateOptionType(options, "starmap", "boolean");
  validateOptionType(options, "signal", AbortSignal, "an AbortSignal");
  const { jobType, progress, env } = options;
  if (jobType !== undefined && jobType !== "array" && jobType !== "independent") {
    throw new CloudknotInputError(
      `jobType must be "array" or "independent", not ${JSON.stringify(jobType)}`,
      { field: "jobType" },
    );
  }
  if (jobType !== undefined && target !== "aws") {
    throw new CloudknotInputError(
      `jobType is an option of target "aws" (array jobs or one job per item), not of ` +
        `"${target}": leave it out`,
      { field: "jobType" },
    );
  }
  validateProgress(progress, "map()");
  if (env !== undefined) validateEnv(env);
  const { itemsPerJob } = options;
  if (itemsPerJob !== undefined) {
    if (target === "local") {
      throw new CloudknotInputError(
        `itemsPerJob is an option of targets "aws" and "docker" (items per Batch job or ` +
          `container), not of "${target}": leave it out`,
        { field: "itemsPerJob" },
      );
    }
    if (
      itemsPerJob !== "auto" &&
      !(Number.isInteger(itemsPerJob) && itemsPerJob >= 1 && itemsPerJob <= MAX_ITEMS_PER_JOB)
    ) {
      throw new CloudknotInputError(
        `itemsPerJob must be "auto" or an integer from 1 to ${
          MAX_ITEMS_PER_JOB.toLocaleString("en-US")
        } (items per Batch job or container), not ${describeValue(itemsPerJob)}`,
        { field: "itemsPerJob" },
      );
    }
  }
}

function validateDryRun(options: { dryRun?: unknown }): void {
  if (options.dryRun !== undefined && typeof options.dryRun !== "boolean") {
    throw new CloudknotInputError(
      `dryRun must be true or false, not ${describeValue(options.dryRun)}`,
      { field: "dryRun" },
    );
  }
}

function validateEnv(env: Record<string, string>): void {
  if (env === null || typeof env !== "object" || Array.isArray(env)) {
    throw new CloudknotInputError("env must be an object of variable names to string values", {
      field: "env",
    });
  }
  for (const [key, value] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new CloudknotInputError(`env has an invalid variable name "${key}"`, { field: "env" });
    }
    if (key.startsWith("AWS_BATCH_")) {
      throw new CloudknotInputError(
        `env must not set ${key}: AWS Batch sets the AWS_BATCH_ variables itself`,
        { field: "env" },
      );
    }
    if (typeof value !== "string") {
      throw new CloudknotInputError(`env.${key} must be a string, not a ${typeof value}`, {
        field: "env",
      });
    }
    if (value.includes("\0")) {
      throw new CloudknotInputError(
        `env.${key} holds a NUL character (\\0), which no process environment can carry: ` +
          `pass the value in the inputs instead, or encode it (for example as base64)`,
        { field: "env" },
      );
    }
  }
}

/**
 * Checks that the inputs of {@linkcode Knot.map} are a collection of items:
 * an array or another iterable or async iterable object. A string is
 * refused: it would run one item per character.
 *
 * @example Usage
 * ```ts
 * import { validateInputs } from "./knot_options.ts";
 *
 * validateInputs([1, 2, 3]);
 * ```
 *
 * @param inputs The inputs as given.
 */
export function validateInputs(
  inputs: unknown,
): asserts inputs is Iterable<unknown> | AsyncIterable<unknown> {
  const iterable = inputs !== null && typeof inputs === "object" &&
    (Symbol.iterator in inputs || Symbol.asyncIterator in inputs);
  if (!iterable) {
    throw new CloudknotInputError(
      `inputs must be an array or another iterable of items, not ${describeValue(inputs)}` +
        (typeof inputs === "string" ? ": wrap one string item in an array, as [text]" : ""),
      { field: "inputs" },
    );
  }
}

const CLOBBER_OPTION_KEYS: Readonly<Record<keyof AwsClobberOptions, true>> = {
  pars: true,
  repo: true,
  image: true,
  keepData: true,
  bucket: true,
};

/**
 * Checks the options of `knot.clobber()` before anything is deleted: each a
 * known key (a misspelt `keepData` must not delete the data it meant to
 * keep) and a boolean, and none given to a knot that is not on AWS, whose
 * clobber deletes its runs, function and record and takes no options.
 *
 * @example Usage
 * ```ts
 * import { validateClobberOptions } from "./knot_options.ts";
 *
 * validateClobberOptions({ keepData: true }, "aws"); // fine
 * ```
 *
 * @param options The options given.
 * @param target Where the knot runs.
 * @throws {CloudknotInputError} For an unknown key, a value that is not a boolean, or an option
 *   given to a local or docker knot.
 */
export function validateClobberOptions(
  options: AwsClobberOptions,
  target: "local" | "aws" | "docker",
): void {
  validateOptionKeys(options, CLOBBER_OPTION_KEYS, "clobber()");
  for (const key of Object.keys(CLOBBER_OPTION_KEYS)) validateOptionType(options, key, "boolean");
  const given = Object.keys(options).filter((key) =>
    options[key as keyof AwsClobberOptions] !== undefined
  );
  if (target !== "aws" && given.length > 0) {
    throw new CloudknotInputError(
      `clobber() of a ${target} knot deletes its runs, its function and its record, and takes ` +
        `no options: ${given.join(", ")} ${given.length === 1 ? "is an option" : "are options"} ` +
        "of a knot on AWS; leave them out",
      { field: given[0]! },
    );
  }
}
