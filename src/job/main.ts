/**
 * The job entry point: the command a container (or any process) runs for one
 * attempt of a slice of items (one item, by default). It reads the job from
 * its arguments and from the environment variables AWS Batch sets:
 *
 * ```sh
 * deno run -A main.js --run <store URL of the run> [--function <artifact URL>]
 *   [--starmap] [--offset N | --index N] [--slice N --end E] [--concurrency C]
 * ```
 *
 * - `--slice N` makes a job run N items: child `k` of an array job (its
 *   `AWS_BATCH_JOB_ARRAY_INDEX`) runs items `offset + k·N` to
 *   `offset + k·N + N − 1`, a single job items `index` to `index + N − 1`,
 *   never `end` or beyond. Without it a job runs its one item.
 * - `AWS_BATCH_JOB_ATTEMPT` is the attempt (default 1) and `AWS_BATCH_JOB_ID`
 *   the job id. An attempt after the first lists the run's records once and
 *   skips the items of its slice that an earlier attempt ran to a result.
 * - The items run on a {@linkcode WorkerPool} (`pool.ts`, the runner of the
 *   local target), `--concurrency` of them at once (the job's vCPUs), each in
 *   a worker process with the knot's permissions (`CLOUDKNOT_PERMISSIONS`, a
 *   JSON object of Deno permission descriptors; default network only) plus
 *   the variables named by `CLOUDKNOT_ENV_NAMES` (comma-separated) and
 *   `CLOUDKNOT_TIMEOUT`. The slice's inputs come with one ranged read of the
 *   index and one of the inputs after it (one per 64 MiB window of them, read
 *   as the workers take the items, for a larger slice); with
 *   `CLOUDKNOT_INPUTS_BYTES` set
 *   (the inputs object's size, which the client sets when it is small), the
 *   whole inputs object is read beside the index instead, one round trip
 *   instead of two. The records are buffered and written as
 *   segments (`record_writer.ts`): at 1 MiB or 1,000 records, when the oldest
 *   has waited 1 s, and before the job exits; a job of one item writes its
 *   one record under its own stamped key.
 *   With `CLOUDKNOT_CACHED_ONLY=1` (an image sets it) the workers run with
 *   `--cached-only`, as the entry point does: nothing is downloaded.
 * - On SIGTERM (Batch terminating the job, or stopping it at its timeout)
 *   the job stops its workers, writes the records it holds and exits 143.
 *   An item whose record was not written (it was running, or the container
 *   was killed before a flush) has no record and runs again on a retry.
 * - `CLOUDKNOT_TIMEOUT` (seconds), when set, limits each item: its worker is
 *   killed when the time is up, and a `timeout` record is written. Batch
 *   never retries an attempt that its own job timeout stopped ("Jobs that
 *   time out are not retried",
 *   https://docs.aws.amazon.com/batch/latest/userguide/job_timeouts.html), so
 *   a knot's timeout is kept here and Batch retries the child as for any
 *   other failure, as the local target does.
 * - `CLOUDKNOT_KNOT` and `CLOUDKNOT_RUN_ID`, when set (the docker target and
 *   AWS set them), name the knot and the run, so an item's error says how to
 *   map it again in full (`retryAdvice`): `run.retry({ timeout: 8 }) on the
 *   run's handle (knot.collect("<run>") of knot <knot>)`, which the command
 *   line words `cloudknot retry <knot> <run> --timeout 8`.
 * - In a job of more than one item, each line an item writes goes to the
 *   job's stdout or stderr with the item's tag in front (`item_log.ts`), so
 *   one item's lines can be read back from the log stream its slice shares.
 *
 * Exit codes: 0 when every item of the slice returned, was refused a
 * permission or ran a program the image lacks (a `refused` record, or a
 * `threw` one whose error says a program is missing, is final: Batch need not
 * retry the job for it, and a retry does not run it again), 1 when one failed otherwise
 * (each has its record; the others are unaffected), 2 for bad usage, 3 when
 * the store cannot be reached, an item cannot be read or a record cannot be
 * written, 124 when the only failures were items past `CLOUDKNOT_TIMEOUT`, 143 after
 * SIGTERM.
 *
 * The workers run `worker.js` where it lies beside this module (an image's
 * `runtime.js`; `runtime_bundle.ts` bundles it from `worker_main.ts`). On a
 * first attempt the workers are spawned before anything else (a Deno
 * process's start each, the longest part of a job's start), then the store
 * is opened and the items read while they start. `runtime.js` has no static
 * `node:` import, so the job's own start loads none of Deno's Node layer
 * (BENCHMARKS.md, "Job start"). Without `worker.js`, `main.js --worker …`
 * runs a worker process of the pool instead (`worker_main.ts`), so the
 * module is its own worker. The command line's options are declared in
 * `job_args.ts`, which reads a Batch job's command back too.
 *
 * @module
 */
import { openStore } from "../store/open.ts";
import type { ObjectStore } from "../store/store.ts";
import { ItemLines } from "./item_log.ts";
import { parseJobArgs } from "./job_args.ts";
import { INPUTS_BYTES_ENV, listRecords, type RecordKey, SliceReader } from "./payload.ts";
import { type Permissions, validatePermissions } from "./permissions.ts";
import { type EndedAttempt, WorkerPool } from "./pool.ts";
import { KNOT_ENV, retryAdvice, RUN_ID_ENV } from "./retry_advice.ts";
import { decodeRecord, encodeRecord, failsEveryAttempt, STORE_EXIT_CODE } from "./record.ts";
import { mayHoldItems, readRecords } from "./record_segment.ts";
import { RecordWriter } from "./record_writer.ts";
import { forEachPooled } from "../util/pooled.ts";
import { containerMemoryMiB, containerOomKills, outOfMemoryRecord } from "./container_memory.ts";

/** The exit code of an attempt whose only failures were items killed at their timeout. */
export const TIMEOUT_EXIT_CODE = 124;

/** Where the entry point gets its environment. */
export interface JobMainOptions {
  /** Reads an environment variable (default: `Deno.env.get`). */
  env?: (name: string) => string | undefined;
  /** Where messages go (default: `console.error`). */
  log?: (line: string) => void;
}

/**
 * Runs one job attempt (of a slice of items) from command-line arguments and
 * returns the exit code.
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
    parsed = parseJobArgs(args);
  } catch (e) {
    log(`cloudknot job: ${(e as Error).message}`);
    return 2;
  }
  const slice = Number(parsed.slice ?? 1);
  const concurrency = Number(parsed.concurrency ?? 1);
  const arrayIndex = env("AWS_BATCH_JOB_ARRAY_INDEX");
  const first = parsed.index !== undefined
    ? Number(parsed.index)
    : Number(parsed.offset ?? 0) + Number(arrayIndex ?? Number.NaN) * slice;
  const stop = Math.min(first + slice, Number(parsed.end ?? Infinity));
  const attempt = Number(env("AWS_BATCH_JOB_ATTEMPT") ?? 1);
  if (
    parsed.run === undefined || !Number.isSafeInteger(first) || first < 0 ||
    !Number.isSafeInteger(slice) || slice < 1 || !(stop > first) ||
    !Number.isSafeInteger(concurrency) || concurrency < 1
  ) {
    log(
      "cloudknot job: usage: --run <store URL> and either --index N, or --offset N with " +
        "AWS_BATCH_JOB_ARRAY_INDEX set; --slice, --end and --concurrency are positive integers " +
        "and the slice holds at least one item",
    );
    return 2;
  }
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    log(`cloudknot job: AWS_BATCH_JOB_ATTEMPT must be a positive integer, not "${attempt}"`);
    return 2;
  }
  let permissions: Permissions;
  try {
    const text = env("CLOUDKNOT_PERMISSIONS");
    permissions = validatePermissions(text === undefined ? undefined : JSON.parse(text));
  } catch (e) {
    log(`cloudknot job: CLOUDKNOT_PERMISSIONS: ${(e as Error).message}`);
    return 2;
  }
  const jobId = env("AWS_BATCH_JOB_ID") ?? `local-${first}`;
  // The map's variables, and the knot's timeout, are the function's to read.
  const envNames = (env("CLOUDKNOT_ENV_NAMES") ?? "").split(",").filter((n) => n !== "")
    .concat("CLOUDKNOT_TIMEOUT");
  const itemEnv: Record<string, string> = {};
  for (const name of envNames) {
    const value = env(name);
    if (value !== undefined) itemEnv[name] = value;
  }
  const timeout = Number(env("CLOUDKNOT_TIMEOUT"));
  // What an item's error says to do, naming the knot and the run when the job is told them.
  const knot = env(KNOT_ENV);
  const runId = env(RUN_ID_ENV);
  const advice = knot !== undefined && runId !== undefined
    ? {
      retry: (options: string) => retryAdvice(knot, runId, options),
      unstarted: `once that is fixed, map it again with ${retryAdvice(knot, runId)}`,
    }
    : {};
  const write = (stream: 1 | 2, chunk: Uint8Array) => {
    const out = stream === 1 ? Deno.stdout : Deno.stderr;
    for (let n = 0; n < chunk.byteLength;) n += out.writeSync(chunk.subarray(n));
  };
  // A job of one item has its log stream to itself: its lines go out as they are.
  const tagged = stop - first > 1;
  const lines = new ItemLines(write);
  const failures = new Set<string>();
  let unstored = false;
  // The pool's callbacks below use the store (`reading`, `writing`), which
  // is opened only once the workers are spawned: none of them is called
  // before a worker is ready, long after this function returned to the
  // event loop.
  const pool = new WorkerPool({
    functionUrl: parsed.function ?? new URL("./function.js", import.meta.url).href,
    // The image's /app holds the function, the files shipped beside it and the runtime alone.
    functionFolder: parsed.function === undefined,
    starmap: parsed.starmap,
    // The pool starts no more workers than it has items.
    concurrency,
    denoFlags: env("CLOUDKNOT_CACHED_ONLY") === "1" ? ["--cached-only"] : [],
    // Batch retries the child, not the pool: every attempt here is final.
    attempts: attempt,
    jobId,
    source: {
      read: async (indices) => await (await (await reading).items)!.read(indices),
    },
    sink: {
      started() {},
      output: (index, _attempt, stream, chunk) =>
        tagged ? lines.write(index, stream, chunk) : write(stream, chunk),
      // Buffered, then written as segments (record_writer.ts).
      store: async (ended: readonly EndedAttempt[]) => {
        try {
          const writer = await writing;
          for (const a of ended) await writer.add(a.index, (await outOfMemory(a)).bytes);
        } catch (e) {
          unstored = true;
          throw e;
        }
      },
      ended: (a: EndedAttempt) => {
        lines.end(a.index);
        if (a.kind === "ok") return;
        const record = a.record ?? decodeRecord(a.bytes);
        if (record.status !== "error") return;
        // An item refused a permission, or whose function runs a program the image lacks, is
        // final: Batch is not to retry the job for it.
        if (!failsEveryAttempt(record.kind, record.error)) failures.add(record.kind);
        // Not the index: a retry's job knows its own run's, not the item's place in the input.
        const note = `cloudknot job: the item failed: ${
          record.error.stack ?? record.error.message
        }`;
        if (tagged) lines.note(a.index, note);
        else log(note);
      },
    },
    ...(timeout > 0 ? { timeoutMs: timeout * 1000 } : {}),
    ...(Object.keys(itemEnv).length > 0 ? { env: itemEnv } : {}),
    permissions,
    worker: workerEntry(import.meta.url),
    ...advice,
  });
  const terminated = stopOnTerminate(pool, log);
  // A first attempt runs its whole slice: its workers are spawned first of
  // all, as their start (a Deno process's each) is the longest part of a
  // job's. A later attempt first lists what an earlier one finished.
  if (attempt === 1) pool.addRange(first, stop);
  // The store opens and the slice's items are read while the workers start:
  // a small inputs object (its size set by the client) whole, beside the index.
  const whole = /^\d+$/.test(env(INPUTS_BYTES_ENV) ?? "");
  const reading = (async () => {
    const run = await openStore(parsed.run!);
    const todo = await unfinished(run, first, stop, attempt);
    const from = todo[0] ?? first;
    // Read a window at a time (64 MiB), each item let go of once a worker has it.
    const items = todo.length === 0
      ? Promise.resolve(undefined)
      : SliceReader.open(run, from, todo.at(-1)! + 1, { whole, wanted: todo });
    items.catch(() => {});
    return { run, todo, from, items };
  })();
  reading.catch(() => {});
  const writing = reading.then(({ run }) => new RecordWriter(run, attempt));
  writing.catch(() => {});
  // A worker the kernel killed for the container's memory limit shows in the
  // cgroup's count, read before any item runs.
  let oomKills = containerOomKills();
  const outOfMemory = async (a: EndedAttempt): Promise<EndedAttempt> => {
    if (a.kind !== "crashed" || a.record?.signal !== "SIGKILL") return a;
    const before = await oomKills;
    if (before === undefined) return a;
    const now = await containerOomKills();
    if (now === undefined || now <= before) return a;
    oomKills = Promise.resolve(now);
    const record = outOfMemoryRecord(a.record, await containerMemoryMiB());
    return { ...a, record, bytes: encodeRecord(record).bytes };
  };
  let todo: number[];
  try {
    todo = (await reading).todo;
  } catch (e) {
    pool.cancel("the run cannot be read");
    await pool.done;
    terminated.dispose();
    log(`cloudknot job: cannot read the run at ${parsed.run}: ${(e as Error).stack ?? e}`);
    return STORE_EXIT_CODE;
  }
  if (attempt > 1) { for (const index of todo) pool.add(index, attempt); }
  pool.close();
  await pool.done;
  terminated.dispose();
  const writer = await writing;
  try {
    await writer.close();
  } catch (e) {
    unstored = true;
    log(`cloudknot job: records could not be written: ${(e as Error).stack ?? e}`);
  }
  if (terminated.received) {
    log(
      `cloudknot job: stopped by SIGTERM after writing ${writer.written} records; ` +
        "the items without one run again on a retry",
    );
    return TERMINATED_EXIT_CODE;
  }
  if (unstored || failures.has("infrastructure")) return STORE_EXIT_CODE;
  if (failures.size === 1 && failures.has("timeout")) return TIMEOUT_EXIT_CODE;
  return failures.size > 0 ? 1 : 0;
}

/** The name of the workers' own bundle, beside a bundled runtime (`runtime_bundle.ts`). */
const WORKER_FILE = "worker.js";

/**
 * How a job starts its workers: from the worker's own bundle where one lies
 * next to the runtime (an image's `worker.js`), which loads a quarter of the
 * runtime's code and none of Deno's Node layer; otherwise, run from its
 * sources, from the worker's module beside this one. The runtime's bundle
 * thus holds no worker of its own (its byte budget, `runtime_bundle.ts`).
 */
function workerEntry(self: string): { url: string } {
  const own = new URL(WORKER_FILE, self);
  try {
    if (own.protocol === "file:" && Deno.statSync(own).isFile) return { url: own.href };
  } catch {
    // None beside this module: it runs from its sources.
  }
  return { url: new URL("./worker_main.ts", self).href };
}

/** The exit code of an attempt stopped by SIGTERM, as a process it killed would have. */
const TERMINATED_EXIT_CODE = 143;

/**
 * On SIGTERM (what a container gets when Batch terminates its job or stops
 * it at its timeout, before SIGKILL), stops the pool's workers,
 * so the job writes the records it holds and exits instead of being killed
 * with them unwritten.
 */
function stopOnTerminate(
  pool: WorkerPool,
  log: (line: string) => void,
): { readonly received: boolean; dispose(): void } {
  let received = false;
  const stop = () => {
    received = true;
    log("cloudknot job: SIGTERM: stopping the workers and writing the records held");
    pool.cancel("SIGTERM");
  };
  try {
    Deno.addSignalListener("SIGTERM", stop);
  } catch {
    // No SIGTERM here (Windows): nothing to listen for.
  }
  return {
    get received() {
      return received;
    },
    dispose() {
      try {
        Deno.removeSignalListener("SIGTERM", stop);
      } catch {
        // Never added.
      }
    },
  };
}

/**
 * The items of a slice to run: all of them on a first attempt; on a later
 * one (a Batch retry, a reclaimed Spot host), those without a result record,
 * found by listing the run's records once.
 */
async function unfinished(
  run: ObjectStore,
  first: number,
  stop: number,
  attempt: number,
): Promise<number[]> {
  const all = Array.from({ length: stop - first }, (_, i) => first + i);
  if (attempt === 1) return all;
  const earlier: RecordKey[] = [];
  for await (const key of listRecords(run)) {
    if (key.attempt < attempt && mayHoldItems(key, first, stop)) earlier.push(key);
  }
  // An item that an earlier attempt ran to a result was not run again after it,
  // nor one refused a permission or missing a program: it would fail alike again.
  const succeeded = new Set<number>();
  const errors = await forEachPooled(earlier, 32, async (key) => {
    for (const record of await readRecords(run, key)) {
      if (record.status === "ok" || failsEveryAttempt(record.kind, record.error)) {
        succeeded.add(record.index);
      }
    }
  }, { stopOnError: true });
  if (errors.length > 0) throw errors[0];
  return all.filter((i) => !succeeded.has(i));
}

// Not a top-level await: as a worker (`--worker`), Deno would end the process
// when a function's promise can never settle, before the attempt could say so.
if (import.meta.main) jobMain(Deno.args).then((code) => Deno.exit(code));
