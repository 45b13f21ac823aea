/**
 * The command line of a cloudknot Batch job: what follows the image's entry
 * point (`deno run … main.js`). It names the run's store and the item (or the
 * first item of an array job), and for a job that runs a slice of items per
 * child, the slice's size, where the job's items end and how many run at
 * once, so a job explains itself to any process that describes it.
 *
 * @module
 */
import { parseJobArgs } from "../../../job/job_args.ts";
import { checkContainerEnv } from "../../../job/container_env.ts";
import { CloudknotInputError } from "../../../util/errors.ts";

/** What a job's command says. */
export interface JobCommand {
  /** The run's store URL (`s3://bucket/prefix/runs/<runId>`). */
  run?: string;
  /** The index of the array job's first item (array jobs). */
  offset?: number;
  /** The item's index (single jobs). */
  index?: number;
  /** Whether each item is spread into the function's arguments. */
  starmap: boolean;
  /** Items per child (or per single job); without it, one. */
  slice?: number;
  /** One past the job's last item (with `slice`). */
  end?: number;
  /** Items in flight at once in a child: the job's vCPUs (with `slice`). */
  concurrency?: number;
}

/**
 * Builds a job's command: `--run <url>`, then `--offset N` for an array job
 * or `--index N` for a single job, then `--starmap` when asked, then
 * `--slice N --end E --concurrency C` for a job of more than one item per
 * child.
 *
 * @example Usage
 * ```ts
 * import { jobCommand } from "@cloudknot/cloudknot/batch";
 *
 * console.log(jobCommand({ run: "s3://b/k/runs/r", offset: 0, starmap: false }));
 * // [ "--run", "s3://b/k/runs/r", "--offset", "0" ]
 * ```
 *
 * @param command The run, the position and starmap.
 * @returns The arguments.
 */
export function jobCommand(command: JobCommand & { run: string }): string[] {
  const args = ["--run", command.run];
  if (command.index !== undefined) args.push("--index", String(command.index));
  else args.push("--offset", String(command.offset ?? 0));
  if (command.starmap) args.push("--starmap");
  if (command.slice !== undefined && command.slice > 1) {
    args.push("--slice", String(command.slice));
    if (command.end !== undefined) args.push("--end", String(command.end));
    if (command.concurrency !== undefined) {
      args.push("--concurrency", String(command.concurrency));
    }
  }
  return args;
}

/**
 * Reads a job's command back; arguments it does not know are ignored, so a
 * command with the entry point in front of it reads too.
 *
 * @example Usage
 * ```ts
 * import { parseJobCommand } from "@cloudknot/cloudknot/batch";
 *
 * console.log(parseJobCommand(["--run", "s3://b/r", "--index", "4", "--starmap"]));
 * // { run: "s3://b/r", index: 4, starmap: true }
 * ```
 *
 * @param command The job's `container.command`.
 * @returns What it says.
 */
export function parseJobCommand(command: readonly string[]): JobCommand {
  // The job's own options and parser (job/job_args.ts), lenient.
  const values = parseJobArgs(command, { strict: false });
  const out: JobCommand = { starmap: values.starmap };
  if (typeof values.run === "string") out.run = values.run;
  const offset = Number(values.offset);
  if (typeof values.offset === "string" && Number.isSafeInteger(offset)) out.offset = offset;
  const index = Number(values.index);
  if (typeof values.index === "string" && Number.isSafeInteger(index)) out.index = index;
  for (const name of ["slice", "end", "concurrency"] as const) {
    const n = Number(values[name]);
    if (typeof values[name] === "string" && Number.isSafeInteger(n)) out[name] = n;
  }
  return out;
}

/**
 * The environment of a run's jobs: the region's variables
 * ({@linkcode regionEnvironment}), the map's own `env` over them, and
 * `CLOUDKNOT_ENV_NAMES`, the names of both, which the job entry grants the
 * function's worker processes (`job/main.ts`) so the function may read them.
 *
 * @example Usage
 * ```ts
 * import { jobEnvironment } from "./command.ts";
 *
 * console.log(jobEnvironment("eu-west-1", { MODE: "fast" }).CLOUDKNOT_ENV_NAMES);
 * // "AWS_REGION,AWS_DEFAULT_REGION,MODE"
 * ```
 *
 * @param region The knot's region.
 * @param env The map's environment variables.
 * @returns The variables.
 */
export function jobEnvironment(
  region: string,
  env: Record<string, string>,
): Record<string, string> {
  const given = { ...regionEnvironment(region), ...env };
  return { ...given, CLOUDKNOT_ENV_NAMES: Object.keys(given).join(",") };
}

/**
 * The variables a job's own runtime reads to reach its data (credentials,
 * profile, endpoint, region), which a map's `env` may not set: the job would
 * sign its S3 requests with them and every item would fail.
 */
const RUNTIME_VARIABLES =
  /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE|CONFIG_FILE|SHARED_CREDENTIALS_FILE|REGION|DEFAULT_REGION|ROLE_ARN|ROLE_SESSION_NAME|WEB_IDENTITY_TOKEN_FILE|ENDPOINT_URL(_.*)?|CONTAINER_.*|EC2_METADATA_.*)$/;

/**
 * The most characters a map's `env` may take in a job's container overrides
 * (as JSON entries, and its names again in `CLOUDKNOT_ENV_NAMES`). ECS takes
 * 8,192 characters of overrides per task, JSON included
 * (<https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html>);
 * the rest is kept for the job's command, the region, inputs, knot and run
 * variables and the variables Batch adds (`AWS_BATCH_JOB_ID`, …). A job past them
 * fails to start: "Container Overrides length must be at most 8192".
 */
export const ENV_MAX_CHARS = 6144;

/** The characters a map's `env` takes in a job's container overrides. */
function envChars(env: Record<string, string>): number {
  const entries = Object.entries(env).map(([name, value]) => ({ name, value }));
  return JSON.stringify(entries).length + Object.keys(env).join(",").length;
}

/**
 * Checks a map's `env` for a job on AWS Batch: it may not set the variables
 * the job's runtime reads to reach the run's data in S3 (the AWS credentials,
 * profile, endpoint and region), which would make every item fail, nor be
 * larger than a job's container overrides can carry
 * ({@linkcode ENV_MAX_CHARS}), which would stop every job from starting. A
 * retry's own permissions travel in the same overrides
 * (`CLOUDKNOT_PERMISSIONS`), and count with the `env`.
 *
 * @example Usage
 * ```ts
 * import { checkJobEnvironment } from "./command.ts";
 *
 * checkJobEnvironment({ MODE: "fast" }); // fine
 * ```
 *
 * @param env The map's environment variables.
 * @param permissions A retry's own permissions, as the job is told them (JSON).
 * @throws {CloudknotInputError} For a variable the runtime reads, or an env too large.
 */
export function checkJobEnvironment(env: Record<string, string>, permissions?: string): void {
  checkContainerEnv(env);
  const taken = Object.keys(env).filter((name) => RUNTIME_VARIABLES.test(name));
  if (taken.length > 0) {
    throw new CloudknotInputError(
      `env must not set ${taken.join(", ")}: the job reads the run's data in S3 with the job ` +
        `role's credentials in the knot's region, and these would replace them, so every item ` +
        `would fail; give the function its own settings under other names`,
      { field: "env" },
    );
  }
  const chars = envChars(env);
  const n = (x: number) => x.toLocaleString("en-US");
  const granted = permissions === undefined
    ? 0
    : JSON.stringify({ name: "CLOUDKNOT_PERMISSIONS", value: permissions }).length + 1;
  if (granted > 0 && chars + granted > ENV_MAX_CHARS) {
    throw new CloudknotInputError(
      `permissions are ${n(granted)} characters as AWS Batch passes them to a retry's jobs, ` +
        `which with the run's env (${n(chars)}) is more than the ${n(ENV_MAX_CHARS)} a job's ` +
        `container overrides leave for them (ECS takes 8,192 characters of overrides), so no ` +
        `job could start: grant the directories that hold the files instead of each file, or ` +
        `a kind whole (read: true), or give the permissions in Knot.create and map again`,
      { field: "permissions" },
    );
  }
  if (chars > ENV_MAX_CHARS) {
    throw new CloudknotInputError(
      `env is ${n(chars)} characters as AWS Batch passes it to a job, more than the ` +
        `${n(ENV_MAX_CHARS)} a job's container overrides leave for it (ECS takes 8,192 ` +
        `characters of overrides, which also hold the job's command and the variables ` +
        `cloudknot and Batch add), so no job could start: pass large settings in the items, ` +
        `or put them in S3 and pass their location in env`,
      { field: "env" },
    );
  }
}

/**
 * The environment that tells a job its region: `AWS_REGION` and
 * `AWS_DEFAULT_REGION`. ECS on EC2 does not set them in containers (Fargate
 * does; aws/containers-roadmap#1611), so every cloudknot job definition and
 * every SubmitJob carries them.
 *
 * @example Usage
 * ```ts
 * import { regionEnvironment } from "./command.ts";
 *
 * console.log(regionEnvironment("eu-west-1"));
 * // { AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "eu-west-1" }
 * ```
 *
 * @param region The knot's region.
 * @returns The variables.
 */
export function regionEnvironment(region: string): Record<string, string> {
  return { AWS_REGION: region, AWS_DEFAULT_REGION: region };
}
