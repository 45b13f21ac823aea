/**
 * The runner every place items run shares: a pool of long-lived Deno worker
 * processes that runs items of one run with as many in flight as its
 * concurrency. It takes the function's artifact, a source of items and a sink
 * for records and output; it gives each attempt its own record, retries
 * failed attempts, kills attempts past their timeout, and replaces a worker
 * that dies, failing only the attempt that was running in it.
 *
 * The local target runs a whole run on one pool, its source the run's inputs
 * file and its sink the run's log. A container can run a slice of a run the
 * same way, its source the run's inputs in S3 and its sink S3 records.
 *
 * Attempts go to a worker in batches sized so that each worker stays busy
 * (about {@linkcode BATCH_MS} of work per batch, two batches in flight) and
 * come back one frame per attempt, in order, on the worker's stdout
 * (`wire.ts`). Where there is a shell, a worker starts with its stderr on its
 * stdout, so everything it prints comes back in the order it was printed,
 * and the record that ends an attempt is its only frame: one write per
 * attempt. Worker output is handed to the sink as it arrives, never kept.
 * Workers do not outlive the pool's process: when it is gone, the kernel
 * (through `setpriv`) or a watcher `sh` beside each worker ends them, in the
 * middle of an attempt; only a worker started without a shell watches for
 * it itself (`parent_watch.ts`).
 *
 * @module
 */
import { errorToRecord, type SerializedError } from "./error_record.ts";
import { memoryAdvice } from "./container_memory.ts";
import { OOM_LINE } from "./oom_line.ts";
import { LineWatch } from "./line_watch.ts";
import {
  setprivFound,
  setprivRefuses,
  watchWorker,
  workerScript,
  type WorkerWatcher,
} from "./parent_watch.ts";
import { functionReadPaths } from "./function_folder.ts";
import { permissionFlags, type Permissions } from "./permissions.ts";
import {
  decodeRecord,
  encodeRecord,
  type ErrorRecord,
  failsEveryAttempt,
  type FailureKind,
  failureRecord,
  type JobRecord,
} from "./record.ts";
import {
  encodeRunFrames,
  type FileSpan,
  FRAME,
  GC_NAME,
  MarkedStreamReader,
  newMark,
  readDone,
  type WireAttempt,
} from "./wire.ts";

/** Where a pool gets the items' encoded bytes. */
export interface ItemSource {
  /**
   * Reads items; may answer synchronously. The pool asks for the items of one
   * batch at a time, usually consecutive ones. An item may be answered with
   * its place in {@linkcode ItemSource.file} instead of its bytes: the worker
   * then reads it from there.
   *
   * @param indices The items, in the order wanted.
   * @returns Their encoded bytes (or places in the file), in the same order.
   */
  read(
    indices: readonly number[],
  ): (Uint8Array | FileSpan)[] | Promise<(Uint8Array | FileSpan)[]>;
  /**
   * A file that holds items, which every worker is allowed to read (and only
   * that file besides the function): `read` may answer with places in it.
   * Items written there before they are answered reach a worker without
   * passing through the pool's process or a pipe.
   *
   * @default {undefined}
   */
  file?: string;
}

/** An attempt that ended, with its encoded record. */
export interface EndedAttempt {
  /** The item's position in the inputs. */
  index: number;
  /** The attempt, counted from 1. */
  attempt: number;
  /** `"ok"` or why it failed. */
  kind: "ok" | FailureKind;
  /** The encoded record (owned by the receiver). */
  bytes: Uint8Array;
  /**
   * The record, when the pool made it (a crash, a timeout) or read it (a
   * thrown error's); otherwise decode `bytes`.
   */
  record?: ErrorRecord;
  /** Whether the item is done: `false` when it will be tried again. */
  final: boolean;
}

/** Where a pool sends what happens. */
export interface PoolSink {
  /** An attempt started running in a worker. */
  started(index: number, attempt: number): void;
  /**
   * Output of an attempt: `stream` 1 is stdout, 2 stderr. `bytes` is a view
   * that is only valid during the call: write it or copy it.
   */
  output(index: number, attempt: number, stream: 1 | 2, bytes: Uint8Array): void;
  /**
   * Keeps the records of attempts that ended, in the order they ended. A
   * throw (or rejection) means they could not be kept: the pool then ends
   * them with an infrastructure error whose message is the thrown one. A map
   * it returns names the attempts, by their place in `ended`, whose records
   * could not be kept, each with why: the pool ends those alone that way.
   */
  store(
    ended: readonly EndedAttempt[],
  ): void | ReadonlyMap<number, unknown> | Promise<void | ReadonlyMap<number, unknown>>;
  /** An attempt's record is kept (or could not be, see `store`): report it. */
  ended(attempt: EndedAttempt): void;
}

/** An attempt running in a worker now. */
export interface RunningAttempt {
  /** The item's position in the inputs. */
  index: number;
  /** The attempt, counted from 1. */
  attempt: number;
  /** When it started, in epoch milliseconds. */
  startedAt: number;
}

/** Options for a {@linkcode WorkerPool}. */
export interface PoolOptions {
  /** The URL of the function's artifact. */
  functionUrl: string;
  /**
   * The artifact lies in a folder of its own, with the data files shipped
   * beside it (`function_folder.ts`): its workers may read that folder, not
   * only the artifact. @default {false}
   */
  functionFolder?: boolean;
  /** Spread each item into the function's arguments. */
  starmap: boolean;
  /** How many worker processes at most. */
  concurrency: number;
  /** Attempts per item, counted from 1. */
  attempts: number;
  /** The `AWS_BATCH_JOB_ID` of every attempt; `{index}` stands for the item's index. */
  jobId: string;
  /** Where items come from. */
  source: ItemSource;
  /** Where records and output go. */
  sink: PoolSink;
  /** Milliseconds an attempt may run before its worker is killed. */
  timeoutMs?: number;
  /** Extra environment variables for every attempt (the function may read them). */
  env?: Record<string, string>;
  /** What the function may do (validated). @default {{ net: true }} */
  permissions?: Permissions;
  /** Each worker's V8 heap limit, in MiB. */
  memoryMiB?: number;
  /**
   * The deno binary, or a program that becomes it (`exec`): a worker takes
   * the process that started it for its pool's, and ends when it is gone.
   *
   * @default {Deno.execPath()}
   */
  deno?: string;
  /**
   * The worker's main module and the arguments before its own, for a
   * bundled runtime that is also a worker.
   *
   * @default {{ url: "worker_main.ts next to this file", args: [] }}
   */
  worker?: { url: string; args?: string[] };
  /**
   * The POSIX shell that starts each worker with its stderr on its stdout
   * (`exec deno … 2>&1`, through `setpriv --pdeathsig KILL` where it can,
   * otherwise with a watcher that ends it with this process, see
   * `parent_watch.ts`), so the worker writes one frame per attempt and its
   * output keeps the order it was printed in (every attempt's output is then
   * reported as `stream` 1). `null` starts workers directly, their stdout and
   * stderr apart: each attempt then also ends with a frame on stderr.
   *
   * @default {"/bin/sh" where it exists and may be run, otherwise null}
   */
  shell?: string | null;
  /**
   * More flags for each worker's `deno run`, before its permissions: in an
   * image, `--cached-only`, so a worker downloads nothing while it runs.
   *
   * @default {[]}
   */
  denoFlags?: readonly string[];
  /**
   * What the error of an attempt that never ran, because the pool gave up
   * starting workers, says to do once the cause is fixed: where the item can
   * run again (see {@linkcode neverRan}).
   *
   * @default {"run it again once that is fixed"}
   */
  unstarted?: string;
  /**
   * How to map an item of this run again with the given retry options (code,
   * such as `{ timeout: 6 }`), in the library's words: what the error of an
   * attempt killed past its timeout tells to do, and (without options, told
   * to the workers) that of a program the function runs missing on this machine.
   *
   * @default {(options) => `run.retry(${options}) on the run's handle`}
   */
  retry?: (options: string) => string;
}

/** The error name of an attempt that never ran because no worker could start (or load the function). */
export const WORKER_START_ERROR = "WorkerStartError";

/**
 * Whether a record is of an attempt that never ran: the pool that took it
 * gave up starting workers (they could not start, died before they were
 * ready, or could not load the function), so the item was not tried. Such an
 * attempt is final for the pool that gave up (it cannot run it), but the
 * item may run again elsewhere, as that same attempt: a reader of a local
 * run's log runs it again when it finishes the run.
 *
 * @example Usage
 * ```ts ignore
 * if (neverRan(record)) pool.add(record.index, record.attempt);
 * ```
 *
 * @param record The record of an attempt.
 * @returns Whether the attempt never ran.
 */
export function neverRan(record: JobRecord): boolean {
  return record.status === "error" && record.kind === "infrastructure" &&
    record.error.name === WORKER_START_ERROR;
}

/** About this much work goes to a worker at once. */
export const BATCH_MS = 5;
/**
 * About this many bytes of items go to a worker at once (a larger item goes
 * alone): large items then take little memory in flight, and a worker's
 * buffer for them stays the size of one.
 */
const BATCH_BYTES = 1024 * 1024;
/**
 * Attempts shorter than this on average are sent ahead, a batch behind the
 * running one; longer ones one batch at a time, so an attempt never waits
 * behind another that a third one could have run.
 */
const PIPELINE_BELOW_MS = 20;
/**
 * The bytes at the end of each piece of a worker's output that are searched
 * for V8's out-of-memory message: it comes as the worker's last words, so
 * the end of a flood of output is enough to look at.
 */
const OOM_TAIL = 16 * 1024;
/** Bytes read from a worker's stdout or stderr at once. */
const READ_BYTES = 256 * 1024;
/** The most attempts in one batch. */
const MAX_BATCH = 512;
/**
 * The shell that merges a worker's stderr into its stdout, where there is one
 * and this process may run it: a caller that granted `--allow-run` for `deno`
 * alone (as `docs/command_line.md`'s narrower flags do) gets workers started
 * directly, their stdout and stderr apart.
 */
const SHELL: string | null = (() => {
  if (Deno.build.os === "windows") return null;
  try {
    const granted = Deno.permissions.querySync({ name: "run", command: "/bin/sh" }).state;
    return granted === "granted" && Deno.statSync("/bin/sh").isFile ? "/bin/sh" : null;
  } catch {
    return null;
  }
})();
/**
 * The least time a worker has to load the function, with a `timeoutMs` (the most it has: a short
 * timeout is an attempt's, and a worker's start on a busy machine may take longer than it).
 */
const MIN_LOAD_MS = 30_000;

/** Workers that die before they are ready, in a row, before the pool gives up. */
const MAX_EARLY_DEATHS = 3;
/** The AWS Batch variables every attempt sees. */
const JOB_VARIABLES = ["AWS_BATCH_JOB_ID", "AWS_BATCH_JOB_ARRAY_INDEX", "AWS_BATCH_JOB_ATTEMPT"];

/** Attempts are packed into one number: `index * 16 + attempt` (attempts are at most 10). */
const pack = (index: number, attempt: number) => index * 16 + attempt;
const indexOf = (packed: number) => Math.floor(packed / 16);
const attemptOf = (packed: number) => packed % 16;

interface Slot {
  child: Deno.ChildProcess;
  /** Its stderr is its stdout: no frame ends an attempt's stderr. */
  merged: boolean;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  /** Attempts sent, packed, in order; entries before both heads are dropped. */
  sent: number[];
  /** The first attempt without its record (the running one). */
  outHead: number;
  /** The first attempt without its end on stderr. */
  errHead: number;
  /** Where a trailing write of the previous attempt goes. */
  lastOut?: number;
  lastErr?: number;
  ready: boolean;
  /**
   * When the running attempt started (performance.now()); before the worker is ready, when it
   * was started: it has the timeout (at least `MIN_LOAD_MS`) to load the function.
   */
  since: number;
  killedFor?: "timeout" | "cancel";
  /** The worker's stderr says V8 ran out of heap. */
  outOfMemory?: boolean;
  /** Serializes dispatches whose items are read asynchronously. */
  tail: Promise<void>;
  /** Attempts taken for this worker whose items are being read. */
  reading: number;
  exited: Promise<void>;
  /** The worker leads a process group of its own, which holds what its function started. */
  group: boolean;
  /** The shell that started the worker through setpriv where it found it. */
  shell: string | null;
  /** What kills the worker when this process ends, where the kernel does not. */
  watcher?: WorkerWatcher;
}

/**
 * Runs items on worker processes.
 *
 * @example Usage
 * ```ts ignore
 * import { WorkerPool } from "./pool.ts";
 *
 * const pool = new WorkerPool({ functionUrl, starmap: false, concurrency: 2, attempts: 3, jobId: "run:{index}", source, sink });
 * pool.addRange(0, 100);
 * pool.close();
 * await pool.done;
 * ```
 */
export class WorkerPool {
  #o: PoolOptions;
  #queue: number[] = [];
  #queueHead = 0;
  /** Attempts taken back from a dead worker, run first. */
  #front: number[] = [];
  #slots = new Set<Slot>();
  #outstanding = 0;
  #closed = false;
  #cancelled?: string;
  #fatal?: string;
  #fatalAdvice?: string;
  #earlyDeaths = 0;
  /** A moving average of attempt durations, in milliseconds. */
  #meanMs = Infinity;
  /** A moving average of the items' sizes, in bytes (0 before the first batch). */
  #meanBytes = 0;
  #finished = Promise.withResolvers<void>();
  #done: Promise<void>;
  #timer?: ReturnType<typeof setInterval>;
  #storing: Promise<void> = Promise.resolve();

  /**
   * Makes a pool; workers start when there are items.
   *
   * @param options The function, the items' source, the sink and the limits.
   */
  constructor(options: PoolOptions) {
    this.#o = options;
    this.#done = this.#finished.promise.then(() => this.#shutdown());
    if (options.timeoutMs !== undefined) {
      const every = Math.max(10, Math.min(1000, options.timeoutMs / 4));
      this.#timer = setInterval(() => this.#checkTimeouts(), every);
    }
  }

  /**
   * Resolves when every item added has ended for good (or the pool was
   * cancelled), {@linkcode WorkerPool.close} was called, and every worker has
   * exited.
   */
  get done(): Promise<void> {
    return this.#done;
  }

  /**
   * Adds one attempt of an item.
   *
   * @param index The item.
   * @param attempt Its attempt, counted from 1.
   */
  add(index: number, attempt = 1): void {
    this.#outstanding++;
    this.#queue.push(pack(index, attempt));
    this.#fill();
  }

  /**
   * Adds the first attempt of items `from` to `to - 1`.
   *
   * @param from The first item.
   * @param to One past the last item.
   */
  addRange(from: number, to: number): void {
    for (let i = from; i < to; i++) this.#queue.push(pack(i, 1));
    this.#outstanding += Math.max(0, to - from);
    this.#fill();
  }

  /** No more items will be added: the pool finishes when those added have ended. */
  close(): void {
    this.#closed = true;
    this.#checkFinished();
  }

  /**
   * Stops: kills every worker. Attempts not ended are left to the caller.
   *
   * @param reason Why.
   */
  cancel(reason: string): void {
    if (this.#cancelled !== undefined) return;
    this.#cancelled = reason;
    this.#queue = [];
    this.#queueHead = 0;
    this.#front = [];
    for (const slot of this.#slots) {
      slot.killedFor = "cancel";
      kill(slot);
    }
    this.#finished.resolve();
  }

  /**
   * The attempts running now, one per busy worker (those whose start the
   * sink was told of and whose end it was not): a look at the workers, as
   * cheap as their number, never at the items.
   *
   * @returns The attempts, with when each started.
   */
  running(): RunningAttempt[] {
    const running: RunningAttempt[] = [];
    if (this.#cancelled !== undefined) return running;
    for (const slot of this.#slots) {
      const head = slot.sent[slot.outHead];
      if (head === undefined) continue;
      running.push({
        index: indexOf(head),
        attempt: attemptOf(head),
        startedAt: performance.timeOrigin + slot.since,
      });
    }
    return running;
  }

  #queued(): number {
    return this.#front.length + this.#queue.length - this.#queueHead;
  }

  #take(): number | undefined {
    if (this.#front.length > 0) return this.#front.shift();
    if (this.#queueHead >= this.#queue.length) return undefined;
    const next = this.#queue[this.#queueHead++]!;
    if (this.#queueHead > 4096 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
    return next;
  }

  #fill(): void {
    if (this.#cancelled !== undefined) return;
    if (this.#fatal !== undefined) {
      this.#failQueued();
      return;
    }
    let idle = 0;
    for (const slot of this.#slots) if (this.#inFlight(slot) === 0) idle++;
    while (this.#queued() > idle && this.#slots.size < this.#o.concurrency) {
      this.#spawn();
      idle++;
    }
    for (const slot of this.#slots) {
      if (!slot.ready || slot.killedFor !== undefined) continue;
      const size = this.#batchSize();
      while (this.#queued() > 0 && this.#wantsMore(slot, size)) this.#dispatch(slot, size);
    }
  }

  /**
   * Whether to send a worker a batch now: when it has nothing to do, and
   * for short attempts, while enough work waits for every worker, a second
   * batch behind the running one so it never waits for the pool.
   */
  #wantsMore(slot: Slot, size: number): boolean {
    const inFlight = this.#inFlight(slot);
    if (inFlight === 0) return true;
    return inFlight <= size && this.#meanMs < PIPELINE_BELOW_MS &&
      this.#queued() >= this.#slots.size;
  }

  #inFlight(slot: Slot): number {
    return slot.sent.length - slot.outHead + slot.reading;
  }

  #batchSize(): number {
    const byTime = this.#meanMs === Infinity ? 1 : Math.floor(BATCH_MS / this.#meanMs);
    const byBytes = this.#meanBytes === 0 ? MAX_BATCH : Math.floor(BATCH_BYTES / this.#meanBytes);
    const fair = Math.ceil(this.#queued() / Math.max(1, this.#slots.size));
    return Math.max(1, Math.min(MAX_BATCH, byTime, byBytes, fair));
  }

  #dispatch(slot: Slot, size: number): void {
    const packed: number[] = [];
    while (packed.length < size) {
      const next = this.#take();
      if (next === undefined) break;
      packed.push(next);
    }
    const send = (items: (Uint8Array | FileSpan)[]) => {
      if (!this.#slots.has(slot) || slot.killedFor !== undefined) {
        if (this.#cancelled === undefined) this.#front.push(...packed);
        return;
      }
      const idle = slot.sent.length === slot.outHead;
      for (const p of packed) slot.sent.push(p);
      if (idle) this.#startHead(slot);
      // The bytes that travel down the pipe: an item read from the file takes none.
      let bytes = 0;
      const attempts: WireAttempt[] = packed.map((p, i) => {
        const item = items[i]!;
        if (item instanceof Uint8Array) bytes += item.byteLength;
        return { index: indexOf(p), attempt: attemptOf(p), bytes: item };
      });
      const mean = bytes / Math.max(1, packed.length);
      this.#meanBytes = this.#meanBytes === 0 ? mean : 0.9 * this.#meanBytes + 0.1 * mean;
      for (const frame of encodeRunFrames(attempts)) slot.writer.write(frame).catch(() => {});
    };
    const fail = (e: unknown) => {
      // The worker never gets these attempts: each fails, and is retried if it may be.
      const message = e instanceof Error ? e.message : String(e);
      for (const p of packed) {
        this.#failAttempt(p, "infrastructure", { name: "ItemReadError", message });
      }
    };
    let read: (Uint8Array | FileSpan)[] | Promise<(Uint8Array | FileSpan)[]>;
    try {
      read = this.#o.source.read(packed.map(indexOf));
    } catch (e) {
      fail(e);
      return;
    }
    if (!(read instanceof Promise)) {
      send(read);
      return;
    }
    // Batches read asynchronously still reach the worker in the order they were taken.
    slot.reading += packed.length;
    slot.tail = slot.tail.then(() => read.then(send, fail)).finally(() => {
      slot.reading -= packed.length;
      this.#fill();
    });
  }

  #startHead(slot: Slot, now: number = performance.now()): void {
    slot.since = now;
    const head = slot.sent[slot.outHead];
    if (head !== undefined) this.#o.sink.started(indexOf(head), attemptOf(head));
  }

  #spawn(): void {
    const o = this.#o;
    const mark = newMark();
    const worker = o.worker ?? { url: new URL("./worker_main.ts", import.meta.url).href };
    // The function, and the files shipped beside it when it has a folder of its own.
    const functionPath = functionReadPaths(o.functionUrl, o.functionFolder ?? false);
    const file = o.source.file;
    const args = [
      "run",
      "--quiet",
      ...(o.denoFlags ?? []),
      ...permissionFlags(o.permissions ?? { net: true }, {
        read: file !== undefined ? [...functionPath, file] : functionPath,
        env: [...JOB_VARIABLES, ...Object.keys(o.env ?? {})],
      }),
    ];
    // A small young generation: a worker's garbage is short-lived, and V8
    // would otherwise grow it to tens of MiB per worker for nothing.
    const v8 = ["--max-semi-space-size=1"];
    if (o.memoryMiB !== undefined) v8.push(`--max-old-space-size=${o.memoryMiB}`);
    // A worker that reads large items from the file collects their garbage itself.
    if (file !== undefined) v8.push(`--expose-gc-as=${GC_NAME}`);
    args.push(`--v8-flags=${v8.join(",")}`);
    args.push(
      worker.url,
      ...(worker.args ?? []),
      "--function",
      o.functionUrl,
      "--mark",
      Array.from(mark, (b) => b.toString(16).padStart(2, "0")).join(""),
      "--job-id",
      o.jobId,
      ...(file !== undefined ? ["--inputs", file] : []),
      // What an item's error of a program missing here says to do, naming the knot and the run.
      ...(o.retry !== undefined ? ["--retry", o.retry("")] : []),
    );
    if (o.starmap) args.push("--starmap");
    // A function that may start programs gets a process group of its own, so
    // that killing its worker (a timeout, a cancel) kills them too, and what it
    // left running when its worker ended does not hold the worker's pipes; the
    // group goes when this process does (below), since a terminal's Ctrl-C no
    // longer reaches it.
    const group = Boolean(o.permissions?.run);
    if (group) args.push("--group");
    // A function that may start programs or load native code sees the job's
    // variables in the real environment, which its children inherit.
    if (o.permissions?.run || o.permissions?.ffi) args.push("--real-env");
    const deno = o.deno ?? Deno.execPath();
    const shell = o.shell === undefined ? SHELL : o.shell;
    if (shell !== null) args.push("--merged-output");
    // Whatever the function does, the worker ends when this process does: by
    // the kernel's parent-death signal where setpriv can ask for it, otherwise
    // by a watcher beside it, or, with no shell, by the worker's own look at
    // its parent (parent_watch.ts).
    const setpriv = shell !== null && !setprivRefuses(shell, false) &&
      setprivFound(shell, o.env ?? {});
    const watched = shell !== null && !setpriv;
    args.push("--parent", String(Deno.pid));
    if (shell !== null) args.push("--parent-death");
    let child: Deno.ChildProcess;
    try {
      // Through the shell, stdout and stderr are one pipe: what the function
      // prints on either keeps its order, and the record that follows it
      // ends it on both (one write per attempt instead of two).
      child = new Deno.Command(shell ?? deno, {
        args: shell !== null
          ? ["-c", workerScript(shell, { setpriv, group }), deno, ...args]
          : args,
        env: o.env ?? {},
        stdin: "piped",
        stdout: "piped",
        stderr: shell !== null ? "null" : "piped",
        detached: group,
      }).spawn();
    } catch (e) {
      this.#failEverything(`Cannot start a worker process: ${(e as Error).message}`);
      return;
    }
    const slot: Slot = {
      child,
      merged: shell !== null,
      writer: child.stdin.getWriter(),
      sent: [],
      outHead: 0,
      errHead: 0,
      ready: false,
      since: performance.now(),
      tail: Promise.resolve(),
      reading: 0,
      exited: Promise.resolve(),
      group,
      shell: setpriv ? shell : null,
    };
    let unwatched: unknown;
    if (watched) {
      try {
        slot.watcher = watchWorker(shell, child.pid, { group });
      } catch (e) {
        unwatched = e;
        try {
          child.kill("SIGKILL");
        } catch {
          // Gone already.
        }
      }
    }
    const ended = child.status.then(async (status) => {
      if (group) killGroup(child.pid);
      await slot.watcher?.stop();
      return status;
    });
    const out = this.#read(slot, child.stdout, 1, new MarkedStreamReader(mark));
    const err = slot.merged
      ? Promise.resolve()
      : this.#read(slot, child.stderr, 2, new MarkedStreamReader(mark));
    slot.exited = Promise.all([out, err]).then(() => ended).then((status) =>
      this.#exited(slot, status)
    );
    this.#slots.add(slot);
    if (unwatched !== undefined) {
      this.#failEverything(
        `Cannot start a worker process's watcher (${shell}): ${(unwatched as Error).message}`,
      );
    }
  }

  async #read(
    slot: Slot,
    stream: ReadableStream<Uint8Array>,
    which: 1 | 2,
    reader: MarkedStreamReader,
  ): Promise<void> {
    let ended: EndedAttempt[] = [];
    /** When the chunk being read came: one clock read for every attempt ended in it. */
    let now = 0;
    const sink = this.#o.sink;
    // V8 says it ran out of heap on stderr (the worker's only stream when
    // merged), in a line that may come in two reads.
    const oom = which === 2 || slot.merged ? new LineWatch(OOM_LINE) : undefined;
    const owner = () => {
      const head = which === 1 ? slot.sent[slot.outHead] : slot.sent[slot.errHead];
      return head ?? (which === 1 ? slot.lastOut : slot.lastErr);
    };
    const handler = {
      text: (bytes: Uint8Array) => {
        // Only what the function printed is searched, never the records.
        if (oom !== undefined && !slot.outOfMemory && oom.push(bytes.subarray(-OOM_TAIL))) {
          slot.outOfMemory = true;
        }
        const at = owner();
        if (at !== undefined) sink.output(indexOf(at), attemptOf(at), which, bytes);
      },
      frame: (type: number, body: Uint8Array, owned: boolean) => {
        if (type === FRAME.end) {
          slot.lastErr = slot.sent[slot.errHead];
          slot.errHead++;
          this.#trim(slot);
        } else if (type === FRAME.done) {
          const done = readDone(body);
          const expected = slot.sent[slot.outHead];
          if (expected !== pack(done.index, done.attempt)) return;
          slot.lastOut = expected;
          slot.outHead++;
          if (slot.merged) slot.errHead = slot.outHead;
          const ms = now - slot.since;
          this.#meanMs = this.#meanMs === Infinity ? ms : 0.9 * this.#meanMs + 0.1 * ms;
          this.#startHead(slot, now);
          this.#trim(slot);
          const bytes = owned ? done.record : done.record.slice();
          // Only the record of a thrown error or of a result that could not be encoded is read:
          // it says whether a program was missing, or what kind of value the codec refused.
          const record = done.kind === "threw" || done.kind === "unencodable"
            ? decodeRecord(bytes) as ErrorRecord
            : undefined;
          ended.push({
            index: done.index,
            attempt: done.attempt,
            kind: done.kind,
            bytes,
            ...(record !== undefined ? { record } : {}),
            final: this.#isFinal(done.kind, done.attempt, record?.error),
          });
        } else if (type === FRAME.ready) {
          slot.ready = true;
          this.#earlyDeaths = 0;
        } else if (type === FRAME.fatal) {
          this.#failEverything(new TextDecoder().decode(body));
        }
      },
    };
    // One buffer, read into again and again: a flood of output makes no garbage.
    const byob = stream.getReader({ mode: "byob" });
    let buffer = new ArrayBuffer(READ_BYTES);
    try {
      while (true) {
        const { value, done } = await byob.read(new Uint8Array(buffer));
        if (done || value === undefined) break;
        now = performance.now();
        reader.push(value, handler);
        buffer = value.buffer as ArrayBuffer;
        if (ended.length > 0) {
          const batch = ended;
          ended = [];
          await this.#ended(batch);
        }
        if (which === 1) this.#fill();
      }
    } catch {
      // The stream broke with its process; the exit is handled below.
    } finally {
      byob.releaseLock();
    }
    reader.end(handler);
  }

  #isFinal(
    kind: "ok" | FailureKind,
    attempt: number,
    error?: Pick<SerializedError, "message" | "props">,
  ): boolean {
    // Every failed attempt is retried while attempts are left, as Batch retries
    // every attempt that exits non-zero (docs/mapping.md, "What is retried").
    // A cancel does not make a failed attempt final: its record says it may be
    // retried, as a reader of the log takes it, and the cancel ends the item.
    // Nor does giving up on workers: the next attempt is queued and ends as one
    // that never ran (#failQueued), so the log says what the handle does.
    // A refused permission is final, as is a program the function runs that is
    // missing, or a result the codec refuses for its kind: every attempt would fail alike.
    return kind === "ok" || kind === "cancelled" || failsEveryAttempt(kind, error) ||
      attempt >= this.#o.attempts;
  }

  /** Drops the attempts both streams are done with. */
  #trim(slot: Slot): void {
    const done = Math.min(slot.outHead, slot.errHead);
    if (done > 4096 && done * 2 > slot.sent.length) {
      slot.sent = slot.sent.slice(done);
      slot.outHead -= done;
      slot.errHead -= done;
    }
  }

  /** Stores ended attempts, reports them, and queues the retries. */
  async #ended(batch: EndedAttempt[]): Promise<void> {
    const sink = this.#o.sink;
    // Batches are stored one after another, in the order they ended.
    const previous = this.#storing;
    const stored = previous.then(() => sink.store(batch));
    this.#storing = stored.then(() => {}, () => {});
    let failures: ReadonlyMap<number, unknown> | undefined;
    try {
      failures = (await stored) ?? undefined;
    } catch (e) {
      failures = new Map(batch.map((_, i) => [i, e]));
    }
    if (failures !== undefined && failures.size > 0) {
      const failed = failures;
      batch = batch.map((a, i) => {
        if (!failed.has(i)) return a;
        const e = failed.get(i);
        const record = this.#record(pack(a.index, a.attempt), "infrastructure", {
          name: e instanceof Error ? e.name : "StoreError",
          message: e instanceof Error ? e.message : String(e),
        });
        return {
          ...a,
          kind: "infrastructure",
          record,
          bytes: encodeRecord(record).bytes,
          final: true,
        };
      });
    }
    // Every record kept is reported, also once the pool is cancelled: an
    // attempt that ended before the cancel reached its worker keeps its end
    // (a success stays one), as the log that holds its record says to every
    // later reader; only its retry is not run then.
    for (const a of batch) {
      sink.ended(a);
      if (a.final) this.#outstanding--;
      else if (this.#cancelled === undefined) this.#queue.push(pack(a.index, a.attempt + 1));
    }
    this.#fill();
    this.#checkFinished();
  }

  #record(
    packed: number,
    kind: FailureKind,
    error: { name: string; message: string },
  ): ErrorRecord {
    const e = new Error(error.message);
    e.name = error.name;
    const index = indexOf(packed);
    return failureRecord(
      {
        index,
        attempt: attemptOf(packed),
        jobId: this.#o.jobId.replace("{index}", String(index)),
        kind,
      },
      { ...errorToRecord(e), stack: undefined },
    );
  }

  /** Ends an attempt the worker could not answer for. */
  #failAttempt(
    packed: number,
    kind: FailureKind,
    error: { name: string; message: string },
    extra: Partial<ErrorRecord> = {},
    final: boolean = kind === "cancelled" || this.#isFinal(kind, attemptOf(packed)),
  ): void {
    const record = { ...this.#record(packed, kind, error), ...extra };
    this.#pending.push(this.#ended([{
      index: indexOf(packed),
      attempt: attemptOf(packed),
      kind,
      record,
      bytes: encodeRecord(record).bytes,
      final,
    }]));
  }

  #pending: Promise<void>[] = [];

  #checkTimeouts(): void {
    const limit = this.#o.timeoutMs!;
    const now = performance.now();
    for (const slot of this.#slots) {
      // An attempt past its timeout; or a worker still loading the function, whose items would
      // wait for ever for a module whose top level never ends (as on AWS, where an attempt's
      // timeout counts its container's start).
      if (
        slot.killedFor === undefined && (slot.sent.length > slot.outHead || !slot.ready) &&
        now - slot.since > (slot.ready ? limit : Math.max(limit, MIN_LOAD_MS))
      ) {
        slot.killedFor = "timeout";
        kill(slot);
      }
    }
  }

  #exited(slot: Slot, status: Deno.CommandStatus): void {
    this.#slots.delete(slot);
    slot.writer.close().catch(() => {});
    const running = slot.sent[slot.outHead];
    const waiting = slot.sent.slice(slot.outHead + 1);
    // Attempts sent but not started go back to the front of the queue, unchanged.
    if (this.#cancelled === undefined && this.#fatal === undefined) this.#front.unshift(...waiting);
    if (running !== undefined && this.#cancelled === undefined && this.#fatal === undefined) {
      // When the attempt started, for its usage: the worker wrote no record.
      const startedAt = { startedAt: performance.timeOrigin + slot.since };
      if (slot.killedFor === "timeout") {
        this.#failAttempt(running, "timeout", {
          name: "TimeoutError",
          message: timeoutMessage(this.#o.timeoutMs! / 1000, this.#o.retry),
        }, startedAt);
      } else if (slot.killedFor === undefined) {
        const how = status.signal
          ? `was killed by ${status.signal}`
          : `exited with code ${status.code}`;
        const { memoryMiB } = this.#o;
        this.#failAttempt(
          running,
          "crashed",
          slot.outOfMemory
            ? {
              name: "OutOfMemoryError",
              // The pool's memory is the attempt's: after a retry with more, not the knot's.
              message: `V8 stopped the attempt at ` +
                (memoryMiB !== undefined
                  ? `its limit of ${memoryMiB} MiB`
                  : "its default heap limit") +
                ` ("Fatal JavaScript out of memory" in its log) and the worker ${how}; ` +
                `${memoryAdvice(memoryMiB)}, or make the item smaller`,
            }
            : {
              name: "WorkerCrashedError",
              message: `The worker process running the item ${how}` +
                (status.signal
                  ? ", for example by running out of memory or a crash"
                  : `, as Deno.exit(${status.code}) or process.exit(${status.code}) makes it do`),
            },
          {
            ...startedAt,
            ...(status.signal ? { signal: status.signal } : { exitCode: status.code }),
          },
        );
      }
    } else if (!slot.ready && slot.killedFor === "timeout") {
      // Its module's top level waits for something that never comes, or loads for that long.
      this.#failEverything(
        `Workers did not load the function in ${
          Math.max(this.#o.timeoutMs!, MIN_LOAD_MS) / 1000
        }s; run it with deno run to see why`,
      );
    } else if (
      !slot.ready && slot.killedFor === undefined && this.#cancelled === undefined &&
      this.#fatal === undefined &&
      // A setpriv too old for --pdeathsig: the next workers start without it.
      !(slot.shell !== null && setprivRefuses(slot.shell)) &&
      ++this.#earlyDeaths >= MAX_EARLY_DEATHS
    ) {
      const { memoryMiB } = this.#o;
      const retry = this.#o.retry ?? retryOnHandle;
      this.#failEverything(
        slot.outOfMemory
          ? `Worker processes run out of memory before they start (code ${status.code}): ` +
            (memoryMiB !== undefined
              ? `the limit of ${memoryMiB} MiB is too small for Deno`
              : memoryAdvice(undefined, "the items"))
          : `Worker processes exit before they start (code ${status.code}); run the function ` +
            `once with deno run to see why`,
        // A run keeps its memory: only a retry gives its items more.
        slot.outOfMemory && memoryMiB !== undefined
          ? `map it again with more memory, ${retry(`{ memory: ${Math.max(2 * memoryMiB, 64)} }`)}`
          : undefined,
      );
    }
    this.#fill();
    this.#checkFinished();
  }

  /** Gives up: `message` says why, `advice` (default: `unstarted`) what to do. */
  #failEverything(message: string, advice?: string): void {
    if (this.#fatal !== undefined) return;
    this.#fatal = message;
    this.#fatalAdvice = advice;
    for (const slot of this.#slots) {
      slot.killedFor = "cancel";
      kill(slot);
      for (const p of slot.sent.slice(slot.outHead)) this.#front.push(p);
    }
    this.#failQueued();
  }

  /**
   * Ends every attempt no worker will run, as attempts that never ran: final
   * here, whatever attempt they are, and their message says how to run them.
   */
  #failQueued(): void {
    const unstarted = this.#fatalAdvice ?? this.#o.unstarted ?? "run it again once that is fixed";
    const message = `${this.#fatal!.replace(/\.$/, "")}. The item never ran: ${unstarted}`;
    for (let next = this.#take(); next !== undefined; next = this.#take()) {
      this.#failAttempt(next, "infrastructure", { name: WORKER_START_ERROR, message }, {}, true);
    }
  }

  #checkFinished(): void {
    if (this.#closed && this.#outstanding === 0) this.#finished.resolve();
  }

  async #shutdown(): Promise<void> {
    clearInterval(this.#timer);
    for (const slot of this.#slots) slot.writer.close().catch(() => {});
    // Let attempts that ended in the same turn be reported before the workers go.
    // (Deno's global setImmediate: importing node:timers would load Deno's Node
    // layer as every job starts.)
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.allSettled([...this.#slots].map((s) => s.exited));
    await Promise.allSettled(this.#pending);
    await this.#storing;
  }
}

/**
 * The error of an attempt killed past its timeout (the pool's: after a retry
 * with another timeout, not the knot's), with what to do in the library's
 * words (`inCliWords` in `src/cli/common/cli_words.ts` gives the command
 * line's): make the item faster, or give it more time, as a retry with twice
 * the timeout does.
 */
/** How to retry an item, when the pool is not told (its `retry` option). */
const retryOnHandle = (options: string) => `run.retry(${options}) on the run's handle`;

function timeoutMessage(seconds: number, retry = retryOnHandle): string {
  return `The attempt ran longer than its timeout of ${seconds}s and was killed. Make the item ` +
    `faster, or give it more time with the timeout option of Knot.create or run.retry: ` +
    `${retry(`{ timeout: ${seconds * 2} }`)} maps the run's failed items again`;
}

function kill(slot: Slot): void {
  if (slot.group) killGroup(slot.child.pid);
  try {
    slot.child.kill("SIGKILL");
  } catch {
    // Already gone.
  }
}

/** Kills a worker's process group: the worker and every program its function started. */
function killGroup(pid: number): void {
  try {
    Deno.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}
