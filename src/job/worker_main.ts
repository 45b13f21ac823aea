/**
 * The main module of a worker process: it loads the function once, then runs
 * the attempts its pool sends on stdin one after another, with the
 * environment variables an AWS Batch child gets, and answers on stdout (see
 * `wire.ts`). It touches no store and no socket, so it runs with only the
 * permissions the knot grants its function.
 *
 * ```sh
 * deno run <permission flags> worker_main.ts --function URL --mark HEX --job-id TEMPLATE [--inputs PATH] [--retry ADVICE] [--starmap] [--real-env] [--merged-output] [--group] [--parent PID] [--parent-death]
 * ```
 *
 * `--retry` is how to map an item of the run again, in the library's words
 * (`retryAdvice`, naming the knot and the run): what the error of a program
 * missing on this machine says to do once it is installed.
 * `--job-id` is the `AWS_BATCH_JOB_ID` every attempt sees; `{index}` in it
 * stands for the item's index. `--inputs` is the run's inputs file, from
 * which the worker reads the items its pool sends as a place in it (large
 * ones, see `FileSpan` in `wire.ts`); the pool grants read access to that
 * file alone. `--real-env` sets the AWS Batch variables in
 * the process's environment for each attempt (for a function that may start
 * programs); without it they are laid over `Deno.env`. `--merged-output` says
 * its stderr is its stdout: the record alone ends an attempt's output, and
 * no end frame goes to stderr. `--parent` is the pid of its pool's
 * process: the worker stops when that process is gone (`parent_watch.ts`),
 * which the kernel or a watcher the pool started sees to when
 * `--parent-death` says so.
 * `--group` says the worker leads a process group of its own (a function
 * that may start programs, `pool.ts`), which a terminal's Ctrl-C does not
 * reach: the group, the worker and the programs, then goes with it.
 *
 * @module
 */
import { watchParent } from "./parent_watch.ts";
import { type LoadedFunction, loadFunction, runItem } from "./runtime.ts";
import { explainPermissionError } from "./permissions.ts";
import {
  doneFrame,
  doneHead,
  type FileSpan,
  FRAME,
  GC_NAME,
  kindCode,
  markedHead,
  RunFrameReader,
} from "./wire.ts";

/** Records larger than this are written after their frame's head, not copied into it. */
const COPY_BELOW = 64 * 1024;

/**
 * After this many bytes of items read from the inputs file, the worker asks
 * V8 for a young-generation collection (about 0.1 ms): each item's decoded
 * copy is garbage once its attempt ended, and V8 would otherwise let up to
 * 64 MiB of them (its external-memory limit) pile up in every worker. Freed
 * this soon, their memory is also reused for the next item's copy instead
 * of fresh pages (in a CPU profile of 1 MiB items, collecting every 4 MiB
 * left the decoder's copy twice as slow).
 */
const GC_BYTES = 1024 * 1024;

/** Bytes read from stdin at once, at least. */
const READ_BYTES = 256 * 1024;

/**
 * Writes whole to a stream through its `writeSync` as it was when the worker
 * started: a function that replaces the method (to silence its own output)
 * does not silence the frames.
 */
function writerOf(stream: typeof Deno.stdout): (bytes: Uint8Array) => void {
  const writeSync = stream.writeSync.bind(stream);
  return (bytes) => {
    let written = 0;
    while (written < bytes.byteLength) written += writeSync(bytes.subarray(written));
  };
}

/**
 * Runs a worker until its stdin ends and returns its exit code.
 *
 * @example Usage
 * ```ts ignore
 * import { workerMain } from "./worker_main.ts";
 *
 * Deno.exit(await workerMain(Deno.args));
 * ```
 *
 * @param args The command-line arguments.
 * @returns The exit code: 0 when stdin ended, 3 when the function did not load.
 */
export async function workerMain(args: string[]): Promise<number> {
  const values = workerArgs(args);
  const out = writerOf(Deno.stdout);
  const err = writerOf(Deno.stderr);
  if (values.parent !== undefined) {
    watchParent(Number(values.parent), {
      parentDeath: values["parent-death"],
      group: values.group,
    });
  }
  // Before the function loads: it must not read its items' frames.
  const readFrames = hideStdin();
  const mark = Uint8Array.from(values.mark!.match(/../g)!, (h) => parseInt(h, 16));
  const global = globalThis as Record<string, unknown>;
  const gc = global[GC_NAME] as ((options: { type: "minor" }) => void) | undefined;
  // Not the function's to call (V8 makes the name permanent, not read-only).
  if (gc !== undefined) global[GC_NAME] = undefined;
  let sinceGc = 0;
  const template = values["job-id"] ?? "{index}";
  let func: LoadedFunction;
  try {
    func = await loadFunction(values.function!);
  } catch (e) {
    // A read refused beside the function is of a file not shipped with it: said so.
    const explained = explainPermissionError(e, values.function) as Error;
    const message = new TextEncoder().encode(`Cannot load the function: ${explained.message}`);
    out(markedHead(mark, FRAME.fatal, message.byteLength));
    out(message);
    return 3;
  }
  out(markedHead(mark, FRAME.ready, 0));
  // One stream for both: the record that ends an attempt ends its stderr too.
  const end = values["merged-output"] ? undefined : markedHead(mark, FRAME.end, 0);
  const reader = new RunFrameReader();
  // Every small record's frame is made here, in turn.
  const frame = new Uint8Array(COPY_BELOW + 64);
  const jobEnv = values["real-env"] ? realJobEnv() : overlayJobEnv();
  const inputs = values.inputs !== undefined ? new InputsFile(values.inputs) : undefined;
  while (true) {
    // Straight into the frame reader's buffer: an item is never copied here.
    const n = await readFrames(reader.space(READ_BYTES));
    if (n === null) break;
    for (const batch of reader.commit(n)) {
      for (const { index, attempt, bytes } of batch) {
        const jobId = template.replace("{index}", String(index));
        jobEnv(jobId, String(index), String(attempt));
        const item = bytes instanceof Uint8Array ? bytes : readSpan(inputs, bytes);
        const { record, bytes: recordBytes } = await runItem(func, item, {
          index,
          attempt,
          jobId,
          starmap: values.starmap,
          ...(values.retry !== undefined ? { retry: values.retry } : {}),
        });
        const kind = kindCode(record.status === "ok" ? "ok" : record.kind);
        if (recordBytes.byteLength < COPY_BELOW) {
          out(doneFrame(mark, index, attempt, kind, recordBytes, frame));
        } else {
          out(doneHead(mark, index, attempt, kind, recordBytes.byteLength));
          out(recordBytes);
        }
        if (end !== undefined) err(end);
        if (!(bytes instanceof Uint8Array) && gc !== undefined) {
          sinceGc += bytes.length;
          if (sinceGc >= GC_BYTES) {
            gc({ type: "minor" });
            sinceGc = 0;
          }
        }
      }
    }
  }
  return 0;
}

/**
 * Takes the worker's stdin, which carries its pool's frames, for the worker
 * alone: the function then sees an empty stdin (`Deno.stdin.read`,
 * `readSync` and `readable` end at once, and so do `node:process`'s stdin and
 * `prompt()`), as a Batch job's container has nothing on it. A function that
 * read it would take the frames of the items queued behind its own, which
 * would then never run.
 *
 * @returns The worker's own read of its stdin.
 */
function hideStdin(): (buffer: Uint8Array) => Promise<number | null> {
  const stdin = Deno.stdin;
  const read = stdin.read.bind(stdin);
  Object.defineProperties(stdin, {
    read: { value: () => Promise.resolve(null), configurable: true },
    readSync: { value: () => null, configurable: true },
    readable: { get: () => new ReadableStream({ start: (c) => c.close() }), configurable: true },
  });
  return read;
}

/** The options of a worker's command line. */
interface WorkerArgs {
  function?: string;
  mark?: string;
  "job-id"?: string;
  inputs?: string;
  parent?: string;
  retry?: string;
  starmap: boolean;
  "real-env": boolean;
  "merged-output": boolean;
  group: boolean;
  "parent-death": boolean;
}

/**
 * Reads a worker's command line. Only its pool writes it (`pool.ts`), so a
 * few lines do: `node:util`'s `parseArgs` would load Deno's Node layer,
 * which is most of a worker's start after Deno's own (BENCHMARKS.md,
 * "Job start").
 */
function workerArgs(args: readonly string[]): WorkerArgs {
  const values: WorkerArgs = {
    starmap: false,
    "real-env": false,
    "merged-output": false,
    group: false,
    "parent-death": false,
  };
  for (let i = 0; i < args.length; i++) {
    const name = args[i]!.startsWith("--") ? args[i]!.slice(2) : "";
    if (
      name === "function" || name === "mark" || name === "job-id" || name === "inputs" ||
      name === "parent" || name === "retry"
    ) {
      if (i + 1 >= args.length) throw new TypeError(`Option '--${name} <value>' argument missing`);
      values[name] = args[++i];
    } else if (
      name === "starmap" || name === "real-env" || name === "merged-output" ||
      name === "group" || name === "parent-death"
    ) {
      values[name] = true;
    } else {
      throw new TypeError(`Unknown option '${args[i]}'`);
    }
  }
  return values;
}

/** An item's bytes from the inputs file, or why they cannot be read (the attempt fails with it). */
function readSpan(inputs: InputsFile | undefined, span: FileSpan): Uint8Array | Error {
  if (inputs === undefined) return new Error("The pool sent an item's place but no --inputs file");
  try {
    return inputs.read(span);
  } catch (e) {
    return new Error(`Cannot read the item from ${inputs.path}: ${(e as Error).message}`);
  }
}

/**
 * The run's inputs file, opened at its first use and read into one buffer
 * kept for every item (the codec copies what it keeps out of the bytes it
 * decodes), which grows to the largest item.
 */
class InputsFile {
  readonly path: string;
  #file?: Deno.FsFile;
  #buffer = new Uint8Array(0);

  constructor(path: string) {
    this.path = path;
  }

  /** Reads one item: a view of the buffer, valid until the next read. */
  read(span: FileSpan): Uint8Array {
    this.#file ??= Deno.openSync(this.path, { read: true });
    if (this.#buffer.byteLength < span.length) this.#buffer = new Uint8Array(span.length);
    const out = this.#buffer.subarray(0, span.length);
    this.#file.seekSync(span.offset, Deno.SeekMode.Start);
    let filled = 0;
    while (filled < out.byteLength) {
      const n = this.#file.readSync(out.subarray(filled));
      if (n === null || n === 0) throw new Error("the file is shorter than the item's place in it");
      filled += n;
    }
    return out;
  }
}

/** Sets the AWS Batch variables of one attempt. */
type JobEnv = (jobId: string, index: string, attempt: string) => void;

/**
 * The attempt's variables in the process's environment, as a child process
 * of the function would see them. Setting one costs a system call and, in
 * glibc, keeps every value ever set: used only when the function may start
 * programs or load native code (`run` or `ffi` permission).
 */
function realJobEnv(): JobEnv {
  const set: Record<string, string> = {};
  const put = (name: string, value: string) => {
    if (set[name] === value) return;
    set[name] = value;
    Deno.env.set(name, value);
  };
  return (jobId, index, attempt) => {
    put("AWS_BATCH_JOB_ID", jobId);
    put("AWS_BATCH_JOB_ARRAY_INDEX", index);
    put("AWS_BATCH_JOB_ATTEMPT", attempt);
  };
}

/**
 * The attempt's variables laid over the environment's readers
 * (`Deno.env.get`, `has`, `toObject`, and through them `process.env`),
 * which is every way a function without `run` or `ffi` permission can read
 * them: nothing is set in the process's environment per attempt.
 */
function overlayJobEnv(): JobEnv {
  const env = Deno.env;
  const real = { get: env.get.bind(env), has: env.has.bind(env), toObject: env.toObject.bind(env) };
  const job: Record<string, string> = {};
  const own = (name: string) => Object.hasOwn(job, name);
  const define = (name: string, value: unknown) =>
    Object.defineProperty(env, name, { value, configurable: true, writable: true });
  define("get", (name: string) => own(name) ? job[name] : real.get(name));
  define("has", (name: string) => own(name) || real.has(name));
  define("toObject", () => ({ ...real.toObject(), ...job }));
  return (jobId, index, attempt) => {
    job.AWS_BATCH_JOB_ID = jobId;
    job.AWS_BATCH_JOB_ARRAY_INDEX = index;
    job.AWS_BATCH_JOB_ATTEMPT = attempt;
  };
}

// Not a top-level await: Deno would end the process when a function's promise
// can never settle, before the attempt could say so (see runItem).
if (import.meta.main) workerMain(Deno.args).then((code) => Deno.exit(code));
