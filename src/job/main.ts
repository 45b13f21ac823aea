/**
 * The job entry point: the command a container (or any process) runs for one
 * attempt of one item. It reads the job from its arguments and from the
 * environment variables AWS Batch sets:
 *
 * ```sh
 * deno run -A main.js --run <store URL of the run> [--function <artifact URL>]
 *   [--starmap] [--offset N | --index N]
 * ```
 *
 * - `AWS_BATCH_JOB_ARRAY_INDEX` plus `--offset` gives the item's index in an
 *   array job; `--index` names it for a single job.
 * - `AWS_BATCH_JOB_ATTEMPT` is the attempt (default 1) and `AWS_BATCH_JOB_ID`
 *   the job id.
 *
 * - `CLOUDKNOT_TIMEOUT` (seconds), when set, limits the attempt: the
 *   function runs in a child process that is killed when the time is up, and
 *   a `timeout` error record is written. Batch never retries an attempt that
 *   its own job timeout stopped ("Jobs that time out are not retried",
 *   https://docs.aws.amazon.com/batch/latest/userguide/job_timeouts.html), so
 *   a knot's timeout is kept here and Batch retries the attempt as any other
 *   failure, as the local target does.
 *
 * Exit codes: 0 when the function returned, 1 when it threw (an error record
 * is written either way), 2 for bad usage, 3 when the store cannot be reached,
 * 124 when the attempt ran past `CLOUDKNOT_TIMEOUT`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { openStore } from "../store/open.ts";
import { RUN_KEYS } from "./payload.ts";
import { encodeRecord, failureRecord } from "./record.ts";
import { type LoadedFunction, loadFunction, runAttempt } from "./runtime.ts";

/** The exit code of an attempt killed at its timeout (as the `timeout` command's). */
export const TIMEOUT_EXIT_CODE = 124;

/** Where the entry point gets its environment. */
export interface JobMainOptions {
  /** Reads an environment variable (default: `Deno.env.get`). */
  env?: (name: string) => string | undefined;
  /** Where messages go (default: `console.error`). */
  log?: (line: string) => void;
}

/**
 * Runs one job attempt from command-line arguments and returns the exit code.
 *
 * @example Usage
 * ```ts ignore
 * import { jobMain } from "@cloudknot/cloudknot/job";
 *
 * Deno.exit(await jobMain(["--run", "file:///tmp/run", "--index", "0"]));
 * ```
 *
 * @param args The command-line arguments.
 * @param options The environment to read.
 * @returns The exit code.
 */
export async function jobMain(args: string[], options: JobMainOptions = {}): Promise<number> {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const log = options.log ?? ((line: string) => console.error(line));
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        run: { type: "string" },
        function: { type: "string" },
        starmap: { type: "boolean", default: false },
        offset: { type: "string" },
        index: { type: "string" },
      },
      strict: true,
    }).values;
  } catch (e) {
    log(`cloudknot job: ${(e as Error).message}`);
    return 2;
  }
  const arrayIndex = env("AWS_BATCH_JOB_ARRAY_INDEX");
  const index = parsed.index !== undefined
    ? Number(parsed.index)
    : Number(parsed.offset ?? 0) + Number(arrayIndex ?? Number.NaN);
  const attempt = Number(env("AWS_BATCH_JOB_ATTEMPT") ?? 1);
  if (parsed.run === undefined || !Number.isSafeInteger(index) || index < 0) {
    log(
      "cloudknot job: usage: --run <store URL> and either --index N, or --offset N with " +
        "AWS_BATCH_JOB_ARRAY_INDEX set",
    );
    return 2;
  }
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    log(`cloudknot job: AWS_BATCH_JOB_ATTEMPT must be a positive integer, not "${attempt}"`);
    return 2;
  }
  const jobId = env("AWS_BATCH_JOB_ID") ?? `local-${index}`;
  const timeout = Number(env("CLOUDKNOT_TIMEOUT"));
  if (timeout > 0 && env("CLOUDKNOT_WATCHED") === undefined) {
    return await watch(args, { run: parsed.run, index, attempt, jobId, timeout, log });
  }
  const spec = { index, attempt, jobId, starmap: parsed.starmap };
  let record;
  try {
    const run = await openStore(parsed.run);
    let func: LoadedFunction;
    try {
      func = await loadFunction(parsed.function ?? new URL("./function.js", import.meta.url).href);
    } catch (e) {
      func = { kind: "module", fn: () => Promise.reject(e) };
      spec.starmap = false;
    }
    ({ record } = await runAttempt(run, func, spec));
  } catch (e) {
    log(`cloudknot job: cannot write the record of item ${index}: ${(e as Error).stack ?? e}`);
    return 3;
  }
  if (record.status === "ok") return 0;
  log(`cloudknot job: item ${index} failed: ${record.error.stack ?? record.error.message}`);
  return record.kind === "infrastructure" ? 3 : 1;
}

/**
 * Runs the attempt in a child process (this entry point again) and kills it
 * when `timeout` seconds have passed, writing the attempt's `timeout` record.
 */
async function watch(
  args: string[],
  job: {
    run: string;
    index: number;
    attempt: number;
    jobId: string;
    timeout: number;
    log: (line: string) => void;
  },
): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", Deno.mainModule, ...args],
    env: { CLOUDKNOT_WATCHED: "1" },
    stdin: "null",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, job.timeout * 1000);
  const status = await child.status.finally(() => clearTimeout(timer));
  if (!timedOut) return status.code;
  const message =
    `The attempt ran longer than the knot's timeout of ${job.timeout}s and was killed`;
  job.log(`cloudknot job: item ${job.index}: ${message}`);
  const record = failureRecord(
    { index: job.index, attempt: job.attempt, jobId: job.jobId, kind: "timeout" },
    { name: "TimeoutError", message },
  );
  try {
    const run = await openStore(job.run);
    await run.put(
      RUN_KEYS.stampedRecord(Date.now(), job.index, job.attempt),
      encodeRecord(record).bytes,
    );
  } catch (e) {
    job.log(`cloudknot job: cannot write the record of item ${job.index}: ${e}`);
    return 3;
  }
  return TIMEOUT_EXIT_CODE;
}

if (import.meta.main) Deno.exit(await jobMain(Deno.args));
