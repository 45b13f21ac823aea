/**
 * A pool of long-lived Deno worker processes that runs one map run's items on
 * this machine: retries, per-attempt timeouts, crash recovery, cancellation,
 * and per-attempt logs in the run's store.
 *
 * @module
 */
import { errorToRecord } from "../../job/error_record.ts";
import { RUN_KEYS } from "../../job/payload.ts";
import {
  decodeRecord,
  encodeRecord,
  type ErrorRecord,
  failureRecord,
  type JobRecord,
} from "../../job/record.ts";
import type { RunControl } from "../../run/map_run.ts";
import type { ObjectStore } from "../../store/store.ts";
import { readLines } from "../../util/text_line_stream.ts";
import {
  type DoneMessage,
  encodeMessage,
  END_MARKER,
  type FromWorker,
  type ToWorker,
} from "./protocol.ts";

/** Options for a {@linkcode WorkerPool}. */
export interface PoolOptions {
  /** The store rooted at the run. */
  run: ObjectStore;
  /** The run's id; attempts get job ids `<runId>:<index>`. */
  runId: string;
  /** The URL of the function artifact. */
  functionUrl: string;
  /** Spread each item into the function's arguments. */
  starmap: boolean;
  /** How many worker processes at most. */
  concurrency: number;
  /** Attempts per item. */
  attempts: number;
  /** Milliseconds an attempt may run before it is killed. */
  timeoutMs?: number;
  /** Extra environment variables for the workers. */
  env?: Record<string, string>;
  /** The V8 heap limit of each worker, in MiB. */
  memoryMiB?: number;
  /** The deno binary (default: this one). */
  deno?: string;
  /** The worker's main module (default: `worker_main.ts` next to this file). */
  workerUrl?: string;
}

interface AttemptLog {
  index: number;
  attempt: number;
  lines: string[];
  streamsDone: number;
}

interface Slot {
  child: Deno.ChildProcess;
  token: string;
  writer?: WritableStreamDefaultWriter<Uint8Array>;
  /** Attempts sent to the worker, in order; the first is running. */
  sent: { index: number; attempt: number }[];
  /** When the running attempt started (monotonic and epoch ms), and its timeout. */
  head?: { started: number; startedAt: number; timer?: ReturnType<typeof setTimeout> };
  killedFor?: "timeout" | "cancel";
  logs: [AttemptLog[], AttemptLog[]];
  fatal?: string;
  greeted: boolean;
  done: Promise<void>;
}

/** Workers that die before greeting their pool, in a row, before the run gives up. */
const MAX_EARLY_DEATHS = 3;
/**
 * Attempts shorter than this on average are sent to a worker two at a time,
 * so it starts the next one without waiting for the pool to answer.
 */
const PIPELINE_BELOW_MS = 20;

/**
 * Runs a map run's items on worker processes.
 *
 * @example Usage
 * ```ts ignore
 * import { WorkerPool } from "@cloudknot/cloudknot";
 *
 * const pool = new WorkerPool({ run, runId, functionUrl, starmap: false, concurrency: 4, attempts: 1 });
 * await pool.run([0, 1, 2], control);
 * ```
 */
export class WorkerPool {
  #options: PoolOptions;
  #control!: RunControl;
  #queue: { index: number; attempt: number }[] = [];
  #slots = new Set<Slot>();
  #listener?: Deno.TcpListener;
  #outstanding = 0;
  #earlyDeaths = 0;
  #cancelled?: string;
  #finished = Promise.withResolvers<void>();
  /** A moving average of attempt durations, in milliseconds. */
  #meanMs = Infinity;
  #pending: Promise<unknown>[] = [];

  /**
   * Makes a pool; nothing starts until {@linkcode WorkerPool.run}.
   *
   * @param options What to run and how.
   */
  constructor(options: PoolOptions) {
    this.#options = options;
  }

  /**
   * Runs the items and resolves when each has settled and every worker has
   * exited.
   *
   * @param indices The items to run.
   * @param control The run to report to.
   */
  async run(indices: readonly number[], control: RunControl): Promise<void> {
    this.#control = control;
    this.#outstanding = indices.length;
    if (indices.length === 0) return;
    for (const index of indices) this.#queue.push({ index, attempt: 1 });
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const accepting = this.#accept(this.#listener);
    try {
      this.#fill();
      await this.#finished.promise;
    } finally {
      await this.#shutdown();
      await accepting;
      await Promise.allSettled(this.#pending);
    }
  }

  /**
   * Stops the run: kills every worker. Items not settled yet are left to the
   * caller to settle.
   *
   * @param reason Why.
   */
  cancel(reason: string): void {
    if (this.#cancelled !== undefined) return;
    this.#cancelled = reason;
    this.#queue.length = 0;
    for (const slot of this.#slots) {
      slot.killedFor = "cancel";
      kill(slot.child);
    }
    this.#finished.resolve();
  }

  #fill(): void {
    while (
      this.#cancelled === undefined && this.#queue.length > this.#idle() &&
      this.#slots.size < this.#options.concurrency
    ) {
      this.#spawn();
    }
    for (const slot of this.#slots) {
      while (slot.writer !== undefined && this.#queue.length > 0 && this.#wantsMore(slot)) {
        this.#dispatch(slot);
      }
    }
  }

  /** Workers starting or with nothing to do. */
  #idle(): number {
    let n = 0;
    for (const slot of this.#slots) if (slot.sent.length === 0) n++;
    return n;
  }

  /** Whether to send a worker another attempt now. */
  #wantsMore(slot: Slot): boolean {
    if (slot.sent.length === 0) return true;
    // A second attempt waits behind the running one, so only for short attempts,
    // and only while there is enough work for every worker.
    return slot.sent.length < 2 && this.#meanMs < PIPELINE_BELOW_MS &&
      this.#queue.length >= this.#slots.size;
  }

  #spawn(): void {
    const o = this.#options;
    const token = crypto.randomUUID();
    const args = ["run", "-A", "--quiet", "--no-prompt"];
    if (o.memoryMiB !== undefined) args.push(`--v8-flags=--max-old-space-size=${o.memoryMiB}`);
    args.push(
      o.workerUrl ?? new URL("./worker_main.ts", import.meta.url).href,
      "--port",
      String((this.#listener!.addr as Deno.NetAddr).port),
      "--token",
      token,
      "--function",
      o.functionUrl,
      "--run",
      o.run.url,
    );
    if (o.starmap) args.push("--starmap");
    const child = new Deno.Command(o.deno ?? Deno.execPath(), {
      args,
      env: o.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const slot: Slot = {
      child,
      token,
      sent: [],
      logs: [[], []],
      greeted: false,
      done: Promise.resolve(),
    };
    const streams = [child.stdout, child.stderr].map((s, i) => this.#collect(slot, s, i as 0 | 1));
    slot.done = Promise.all(streams).then(() => child.status).then((status) =>
      this.#exited(slot, status)
    );
    this.#pending.push(slot.done);
    this.#slots.add(slot);
  }

  async #accept(listener: Deno.TcpListener): Promise<void> {
    try {
      for await (const conn of listener) this.#pending.push(this.#serve(conn));
    } catch (e) {
      if (!(e instanceof Deno.errors.BadResource)) throw e;
    }
  }

  async #serve(conn: Deno.TcpConn): Promise<void> {
    conn.setNoDelay(true);
    let slot: Slot | undefined;
    try {
      for await (const line of readLines(conn.readable)) {
        const message = JSON.parse(line) as FromWorker;
        if (message.type === "hello") {
          slot = [...this.#slots].find((s) => s.token === message.token);
          if (slot === undefined) break;
          slot.greeted = true;
          this.#earlyDeaths = 0;
          slot.writer = conn.writable.getWriter();
          this.#fill();
        } else if (message.type === "fatal" && slot === undefined) {
          // The worker could not load the function: every item fails the same way.
          this.#failEverything(message.message);
        } else if (message.type === "done" && slot !== undefined) {
          await this.#attemptDone(slot, message);
        }
      }
    } catch {
      // The worker went away; its exit is handled by #exited.
    } finally {
      if (slot?.writer) await slot.writer.close().catch(() => {});
      try {
        conn.close();
      } catch {
        // Closed with its streams.
      }
    }
  }

  #dispatch(slot: Slot): void {
    const next = this.#queue.shift();
    if (next === undefined || slot.writer === undefined) return;
    slot.sent.push(next);
    const log: AttemptLog = { ...next, lines: [], streamsDone: 0 };
    slot.logs[0].push(log);
    slot.logs[1].push(log);
    const message: ToWorker = { type: "run", ...next, jobId: this.#jobId(next.index) };
    slot.writer.write(encodeMessage(message)).catch(() => {});
    if (slot.sent.length === 1) this.#startHead(slot);
  }

  /** The first attempt sent to a worker is the one it runs now. */
  #startHead(slot: Slot): void {
    const head = slot.sent[0]!;
    slot.head = { started: performance.now(), startedAt: Date.now() };
    const { timeoutMs } = this.#options;
    if (timeoutMs !== undefined) {
      slot.head.timer = setTimeout(() => {
        slot.killedFor = "timeout";
        kill(slot.child);
      }, timeoutMs);
    }
    this.#control.started(head.index, head.attempt, this.#jobId(head.index));
  }

  #jobId(index: number): string {
    return `${this.#options.runId}:${index}`;
  }

  async #attemptDone(slot: Slot, done: DoneMessage): Promise<void> {
    const { index, attempt } = done;
    const head = slot.sent[0];
    if (head?.index !== index || head.attempt !== attempt) return;
    slot.sent.shift();
    clearTimeout(slot.head?.timer);
    const ms = performance.now() - (slot.head?.started ?? 0);
    this.#meanMs = this.#meanMs === Infinity ? ms : 0.9 * this.#meanMs + 0.1 * ms;
    slot.head = undefined;
    if (slot.sent.length > 0) this.#startHead(slot);
    const bytes = done.record ?? await this.#options.run.get(RUN_KEYS.record(index, attempt));
    const record = bytes === undefined
      ? this.#failure(index, attempt, "infrastructure", {
        name: "MissingRecordError",
        message:
          `The worker finished item ${index} but its record is not in ${this.#options.run.url}`,
      })
      : decodeRecord(bytes);
    await this.#conclude(record);
    this.#fill();
  }

  async #exited(slot: Slot, status: Deno.CommandStatus): Promise<void> {
    this.#slots.delete(slot);
    const [running, ...waiting] = slot.sent.splice(0);
    clearTimeout(slot.head?.timer);
    // Attempts sent but not started go back to the front of the queue, unchanged.
    if (this.#cancelled === undefined) this.#queue.unshift(...waiting);
    if (running !== undefined) {
      const { index, attempt } = running;
      const startedAt = slot.head?.startedAt;
      if (slot.killedFor === "timeout") {
        const seconds = this.#options.timeoutMs! / 1000;
        await this.#conclude(this.#failure(index, attempt, "timeout", {
          name: "TimeoutError",
          message: `The attempt ran longer than the knot's timeout of ${seconds}s and was killed`,
        }, startedAt));
      } else if (slot.killedFor !== "cancel") {
        const how = status.signal
          ? `was killed by ${status.signal}`
          : `exited with code ${status.code}`;
        const record = this.#failure(index, attempt, "crashed", {
          name: "WorkerCrashedError",
          message: `The worker process running the item ${how}, for example by Deno.exit(), ` +
            `running out of memory or a crash`,
        }, startedAt);
        if (status.signal) record.signal = status.signal;
        else record.exitCode = status.code;
        await this.#conclude(record);
      }
    } else if (!slot.greeted && slot.killedFor === undefined && this.#cancelled === undefined) {
      if (slot.fatal === undefined && ++this.#earlyDeaths >= MAX_EARLY_DEATHS) {
        this.#failEverything(
          `Worker processes exit before they start (code ${status.code}); run the function ` +
            `once with deno run to see why`,
        );
      }
    }
    this.#fill();
  }

  async #collect(slot: Slot, stream: ReadableStream<Uint8Array>, which: 0 | 1): Promise<void> {
    for await (const line of readLines(stream)) {
      const log = slot.logs[which][0];
      if (line === END_MARKER) {
        if (log === undefined) continue;
        if (log.lines.at(-1) === "") log.lines.pop();
        slot.logs[which].shift();
        if (++log.streamsDone === 2) await this.#writeLog(log);
      } else if (log !== undefined) {
        log.lines.push(line);
      }
    }
    for (const log of slot.logs[which].splice(0)) {
      if (++log.streamsDone === 2) await this.#writeLog(log);
    }
  }

  async #writeLog(log: AttemptLog): Promise<void> {
    if (log.lines.length === 0) return;
    await this.#options.run.put(RUN_KEYS.log(log.index, log.attempt), log.lines.join("\n") + "\n")
      .catch(() => {});
  }

  #failure(
    index: number,
    attempt: number,
    kind: ErrorRecord["kind"],
    error: { name: string; message: string },
    startedAt?: number,
  ): ErrorRecord {
    const e = new Error(error.message);
    e.name = error.name;
    return {
      ...failureRecord({ index, attempt, jobId: this.#jobId(index), kind }, {
        ...errorToRecord(e),
        stack: undefined,
      }),
      ...(startedAt !== undefined ? { startedAt } : {}),
      logStream: RUN_KEYS.log(index, attempt),
    };
  }

  /** Retries a failed attempt or settles the item, writing records the worker could not. */
  async #conclude(record: JobRecord): Promise<void> {
    const { attempts, run } = this.#options;
    const control = this.#control;
    if (record.status === "error" && record.kind !== "threw" && record.kind !== "unencodable") {
      await run.put(RUN_KEYS.record(record.index, record.attempt), encodeRecord(record).bytes)
        .catch(() => {});
    }
    const retry = record.status === "error" && record.kind !== "unencodable" &&
      record.attempt < attempts && this.#cancelled === undefined;
    if (retry) {
      control.retrying(record);
      this.#queue.push({ index: record.index, attempt: record.attempt + 1 });
      return;
    }
    control.settle(record);
    if (--this.#outstanding === 0) this.#finished.resolve();
  }

  #failEverything(message: string): void {
    const control = this.#control;
    control.settleAll((index) =>
      this.#failure(index, 1, "infrastructure", {
        name: "WorkerStartError",
        message,
      })
    );
    this.#queue.length = 0;
    this.#outstanding = 0;
    for (const slot of this.#slots) {
      slot.fatal = message;
      slot.killedFor = "cancel";
      kill(slot.child);
    }
    this.#finished.resolve();
  }

  async #shutdown(): Promise<void> {
    for (const slot of this.#slots) {
      if (slot.writer) slot.writer.write(encodeMessage({ type: "exit" })).catch(() => {});
      else kill(slot.child);
    }
    await Promise.allSettled([...this.#slots].map((s) => s.done));
    this.#listener?.close();
  }
}

function kill(child: Deno.ChildProcess): void {
  try {
    child.kill("SIGKILL");
  } catch {
    // Already gone.
  }
}
