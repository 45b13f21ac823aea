/**
 * A pool of long-lived Deno worker processes that runs one map run's items on
 * this machine: retries, per-attempt timeouts, crash recovery, cancellation,
 * and per-attempt logs in the run's store.
 *
 * @module
 */
import { errorToRecord } from "../../job/error_record.ts";
import { RUN_KEYS } from "../../job/payload.ts";
import { decodeRecord, encodeRecord, type ErrorRecord, type JobRecord } from "../../job/record.ts";
import type { RunControl } from "../../run/map_run.ts";
import type { ObjectStore } from "../../store/store.ts";
import { readLines } from "../../util/text_line_stream.ts";
import { encodeMessage, END_MARKER, type FromWorker, type ToWorker } from "./protocol.ts";

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
  /** The run to report to. */
  control: RunControl;
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
  current?: { index: number; attempt: number; timer?: number };
  killedFor?: "timeout" | "cancel";
  logs: [AttemptLog[], AttemptLog[]];
  fatal?: string;
  greeted: boolean;
  done: Promise<void>;
}

/** Workers that die before greeting their pool, in a row, before the run gives up. */
const MAX_EARLY_DEATHS = 3;

/**
 * Runs a map run's items on worker processes.
 *
 * @example Usage
 * ```ts ignore
 * import { WorkerPool } from "@cloudknot/cloudknot";
 *
 * const pool = new WorkerPool({ run, runId, functionUrl, starmap: false, concurrency: 4, attempts: 1, control });
 * await pool.run([0, 1, 2]);
 * ```
 */
export class WorkerPool {
  #options: PoolOptions;
  #queue: { index: number; attempt: number }[] = [];
  #slots = new Set<Slot>();
  #listener?: Deno.Listener;
  #outstanding = 0;
  #earlyDeaths = 0;
  #cancelled?: string;
  #finished = Promise.withResolvers<void>();
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
   */
  async run(indices: readonly number[]): Promise<void> {
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
      this.#cancelled === undefined && this.#queue.length > this.#idleOrStarting() &&
      this.#slots.size < this.#options.concurrency
    ) {
      this.#spawn();
    }
    for (const slot of this.#slots) {
      if (slot.writer !== undefined && slot.current === undefined) this.#dispatch(slot);
    }
  }

  #idleOrStarting(): number {
    let n = 0;
    for (const slot of this.#slots) if (slot.current === undefined) n++;
    return n;
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

  async #accept(listener: Deno.Listener): Promise<void> {
    try {
      for await (const conn of listener) this.#pending.push(this.#serve(conn));
    } catch (e) {
      if (!(e instanceof Deno.errors.BadResource)) throw e;
    }
  }

  async #serve(conn: Deno.Conn): Promise<void> {
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
          await this.#attemptDone(slot, message.index, message.attempt);
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
    const o = this.#options;
    const jobId = `${o.runId}:${next.index}`;
    slot.current = { ...next };
    if (o.timeoutMs !== undefined) {
      slot.current.timer = setTimeout(() => {
        slot.killedFor = "timeout";
        kill(slot.child);
      }, o.timeoutMs);
    }
    const log: AttemptLog = { ...next, lines: [], streamsDone: 0 };
    slot.logs[0].push(log);
    slot.logs[1].push(log);
    o.control.started(next.index, next.attempt, jobId);
    const message: ToWorker = { type: "run", ...next, jobId };
    slot.writer.write(encodeMessage(message)).catch(() => {});
  }

  async #attemptDone(slot: Slot, index: number, attempt: number): Promise<void> {
    if (slot.current?.index !== index || slot.current.attempt !== attempt) return;
    clearTimeout(slot.current.timer);
    slot.current = undefined;
    const bytes = await this.#options.run.get(RUN_KEYS.record(index, attempt));
    const record = bytes === undefined
      ? this.#failure(index, attempt, "infrastructure", {
        name: "MissingRecordError",
        message: `The worker finished item ${index} but its record is not in ${this.#options.run.url}`,
      })
      : decodeRecord(bytes);
    await this.#conclude(record);
    this.#fill();
  }

  async #exited(slot: Slot, status: Deno.CommandStatus): Promise<void> {
    this.#slots.delete(slot);
    if (slot.current !== undefined) {
      const { index, attempt, timer } = slot.current;
      clearTimeout(timer);
      slot.current = undefined;
      if (slot.killedFor === "timeout") {
        const seconds = this.#options.timeoutMs! / 1000;
        await this.#conclude(this.#failure(index, attempt, "timeout", {
          name: "TimeoutError",
          message: `The attempt ran longer than the knot's timeout of ${seconds}s and was killed`,
        }));
      } else if (slot.killedFor !== "cancel") {
        const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
        const record = this.#failure(index, attempt, "crashed", {
          name: "WorkerCrashedError",
          message: `The worker process running the item ${how}, for example by Deno.exit(), ` +
            `running out of memory or a crash`,
        });
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
  ): ErrorRecord {
    const e = new Error(error.message);
    e.name = error.name;
    return {
      version: 1,
      status: "error",
      kind,
      index,
      attempt,
      jobId: `${this.#options.runId}:${index}`,
      endedAt: Date.now(),
      error: { ...errorToRecord(e), stack: undefined },
      logStream: RUN_KEYS.log(index, attempt),
    };
  }

  /** Retries a failed attempt or settles the item, writing records the worker could not. */
  async #conclude(record: JobRecord): Promise<void> {
    const { control, attempts, run } = this.#options;
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
    const { control } = this.#options;
    control.settleAll((index) => this.#failure(index, 1, "infrastructure", {
      name: "WorkerStartError",
      message,
    }));
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
