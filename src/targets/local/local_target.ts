/**
 * The local target: runs a knot's items on this machine, on a pool of
 * long-lived Deno worker processes, with a local directory as the store. It
 * follows the same job contract as AWS Batch.
 *
 * @module
 */
import { CloudknotInputError } from "../../util/errors.ts";
import { sleep } from "../../util/sleep.ts";
import { errorToRecord } from "../../job/error_record.ts";
import {
  layoutPayload,
  readManifest,
  RUN_KEYS,
  type RunManifest,
  writePayload,
} from "../../job/payload.ts";
import {
  decodeRecord,
  encodeRecord,
  type ErrorRecord,
  failureRecord,
  type JobRecord,
} from "../../job/record.ts";
import { MapRun, type MapRunOptions } from "../../run/map_run.ts";
import type { ObjectStore } from "../../store/store.ts";
import { type MapRequest, newRunId, type Target } from "../target.ts";
import { resubmitRequest, withEarlierResults } from "../resubmit.ts";
import { WorkerPool } from "./pool.ts";
import { localRunUsage } from "./run_usage.ts";
import { type Estimate, estimateRun } from "../../cost/estimate.ts";
import { Plan } from "../../plan/plan.ts";

/** How often a running local run proves it is alive. */
const HEARTBEAT_MS = 2000;
/** A run whose heartbeat is older than this is no longer running. */
const STALE_MS = 10_000;

/** Options for a {@linkcode LocalTarget}. */
export interface LocalTargetOptions {
  /** The knot's name. */
  knot: string;
  /** The knot's store; runs go under `runs/<runId>`. */
  store: ObjectStore;
  /** The URL of the function artifact. */
  functionUrl: string;
  /** How many worker processes at most. */
  concurrency: number;
  /** Attempts per item. */
  attempts: number;
  /** Seconds an attempt may run. */
  timeout?: number;
  /** The V8 heap limit of each worker, in MiB. */
  memory?: number;
  /** The deno binary (default: this one). */
  deno?: string;
  /** The directories that hold everything the knot made; clobber removes them. */
  dirs: string[];
}

/**
 * Runs a knot's items on this machine.
 *
 * @example Usage
 * ```ts ignore
 * import { LocalTarget } from "@cloudknot/cloudknot";
 *
 * const target = new LocalTarget({ knot: "k", store, functionUrl, concurrency: 2, attempts: 1, dirs: [root] });
 * const run = await target.map({ items, starmap: false, env: {} });
 * ```
 */
export class LocalTarget implements Target {
  /** Which target this is. */
  readonly kind = "local" as const;
  #options: LocalTargetOptions;

  /**
   * Makes a local target.
   *
   * @param options The knot's store, function and limits.
   */
  constructor(options: LocalTargetOptions) {
    this.#options = options;
  }

  /** Writes the run's payload, then runs its items on worker processes. */
  async map<T>(request: MapRequest): Promise<MapRun<T>> {
    const o = this.#options;
    const runId = newRunId();
    const store = o.store.at(`runs/${runId}`);
    const manifest: RunManifest = {
      version: 1,
      runId,
      knot: o.knot,
      count: request.items.length,
      starmap: request.starmap,
      createdAt: Date.now(),
      attempts: o.attempts,
      env: request.env,
      ...(request.groups !== undefined ? { groups: request.groups } : {}),
      ...(request.retryOf !== undefined ? { retryOf: request.retryOf } : {}),
    };
    if (request.items.length > 0) await writePayload(store, request.items, manifest);
    // One pool per group of items with resources of their own, one after another.
    let pool: WorkerPool | undefined;
    let stopped: string | undefined;
    const { run, control } = MapRun.create<T>(
      {
        knot: o.knot,
        runId,
        target: "local",
        total: request.items.length,
        attempts: o.attempts,
        ...(request.retryOf !== undefined ? { retryOf: request.retryOf } : {}),
      },
      {
        onCancel: (reason) => {
          stopped = reason;
          pool?.cancel(reason);
        },
        saveCancelled: (records) => saveCancelled(store, records),
        startedAt: manifest.createdAt,
        logs: (index, attempt) => readLog(store, index, attempt),
        ...this.#hooks(store, manifest),
      },
    );
    if (request.items.length === 0) return run;
    const reason = () => String(request.signal?.reason ?? "The run was cancelled");
    if (request.signal?.aborted) {
      await run.cancel(reason());
      return run;
    }
    const abort = () => run.cancel(reason());
    request.signal?.addEventListener("abort", abort, { once: true });
    const heartbeat = setInterval(
      () => store.put(RUN_KEYS.heartbeat, String(Date.now())),
      HEARTBEAT_MS,
    );
    const work = store.put(RUN_KEYS.heartbeat, String(Date.now()))
      .then(async () => {
        for (const group of poolGroups(request)) {
          if (stopped !== undefined) break;
          pool = new WorkerPool({
            run: store,
            runId,
            functionUrl: o.functionUrl,
            starmap: request.starmap,
            concurrency: o.concurrency,
            attempts: o.attempts,
            env: { ...request.env },
            ...(group.timeout ?? o.timeout) !== undefined
              ? { timeoutMs: (group.timeout ?? o.timeout)! * 1000 }
              : {},
            ...(group.memory ?? o.memory) !== undefined
              ? { memoryMiB: (group.memory ?? o.memory)! }
              : {},
            ...(o.deno !== undefined ? { deno: o.deno } : {}),
          });
          await pool.run(group.indices, control);
        }
      })
      .catch((e) =>
        control.settleAll((index) =>
          failureRecord(
            { index, attempt: 1, jobId: `${runId}:${index}`, kind: "infrastructure" },
            errorToRecord(e),
          )
        )
      )
      .finally(() => {
        clearInterval(heartbeat);
        request.signal?.removeEventListener("abort", abort);
        return store.put(RUN_KEYS.heartbeat, "finished");
      });
    control.track(work);
    return run;
  }

  /** What `map(request)` would write and run, with nothing done; `itemSeconds` adds an estimate. */
  plan(request: MapRequest, options: { itemSeconds?: number } = {}): Promise<Plan> {
    const o = this.#options;
    const count = request.items.length;
    const { inputs, index } = layoutPayload(request.items);
    const run = `${o.store.url}/runs/<run id>`;
    return Promise.resolve(
      new Plan({
        title: `Map ${count} items on knot ${o.knot} (local)`,
        steps: [
          {
            action: "write",
            kind: "file",
            name: `${run}/${RUN_KEYS.inputs}`,
            details: { bytes: inputs.byteLength },
          },
          {
            action: "write",
            kind: "file",
            name: `${run}/${RUN_KEYS.index}`,
            details: { bytes: index.byteLength },
          },
          {
            action: "run",
            kind: "worker processes",
            name: `${Math.min(o.concurrency, count)}`,
            details: {
              items: count,
              attempts: o.attempts,
              ...(o.memory !== undefined ? { "heap limit MiB": o.memory } : {}),
              ...(o.timeout !== undefined ? { timeout: o.timeout } : {}),
            },
          },
        ],
        ...(options.itemSeconds !== undefined && count > 0
          ? {
            estimate: estimateRun({
              target: "local",
              count,
              itemSeconds: options.itemSeconds,
              concurrency: o.concurrency,
            }),
          }
          : {}),
      }),
    );
  }

  /** An estimate of a local run: its duration on the knot's workers, and its CPU-hours. */
  estimate(count: number, options: { itemSeconds: number }): Promise<Estimate> {
    return Promise.resolve(
      estimateRun({
        target: "local",
        count,
        itemSeconds: options.itemSeconds,
        concurrency: this.#options.concurrency,
      }),
    );
  }

  /** Re-opens an earlier run from its records; a retry, merged with the run it retries. */
  async collect<T>(runId: string, options: { signal?: AbortSignal } = {}): Promise<MapRun<T>> {
    const run = await collectLocal<T>(this.#options, runId, options.signal, this.#hooks.bind(this));
    return await withEarlierResults(run, (id) => this.collect<T>(id, options));
  }

  /** What a run's handle asks its target: its attempts' usage, and a retry. */
  #hooks(store: ObjectStore, manifest: RunManifest): Pick<MapRunOptions, "usage" | "resubmit"> {
    const o = this.#options;
    return {
      usage: () =>
        localRunUsage(store, manifest, o.memory !== undefined ? { memory: o.memory } : {}),
      resubmit: async (request) => this.map(await resubmitRequest(store, manifest, request)),
    };
  }

  /** The knot's runs, oldest first. */
  async runs(): Promise<RunManifest[]> {
    const manifests: RunManifest[] = [];
    for await (const { key } of this.#options.store.list("runs/")) {
      if (!key.endsWith(`/${RUN_KEYS.manifest}`)) continue;
      const manifest = await readManifest(
        this.#options.store.at(key.slice(0, key.lastIndexOf("/"))),
      );
      if (manifest !== undefined) manifests.push(manifest);
    }
    return manifests.sort((a, b) => a.createdAt - b.createdAt);
  }

  /**
   * A local knot has no AWS Batch jobs (its items run in worker processes,
   * grouped in runs): this rejects, saying to use its runs instead.
   */
  jobIds(): Promise<never> {
    return Promise.reject(
      new CloudknotInputError(
        `Knot ${this.#options.knot} runs locally, where items run in worker processes, not as ` +
          `AWS Batch jobs: list its runs with knot.runs() and collect one with knot.collect(runId)`,
      ),
    );
  }

  /** As {@linkcode LocalTarget.jobIds}: this rejects, saying to use the knot's runs. */
  jobs(): Promise<never> {
    return this.jobIds();
  }

  /** A local knot has no AWS Batch jobs: this rejects, saying to map one item instead. */
  submit(): Promise<never> {
    return Promise.reject(
      new CloudknotInputError(
        `Knot ${this.#options.knot} runs locally, where there are no AWS Batch jobs to submit: ` +
          `run one item with const run = await knot.map([input]) and await run.item(0)`,
      ),
    );
  }

  /** A local knot has no AWS Batch jobs: this rejects, saying to print a run instead. */
  viewJobs(): Promise<never> {
    return Promise.reject(
      new CloudknotInputError(
        `Knot ${this.#options.knot} runs locally: print a run (console.log(run)) to see its items`,
      ),
    );
  }

  /** Removes the knot's directories: its record, its function and its runs. */
  async clobber(): Promise<void> {
    for (const dir of new Set(this.#options.dirs)) {
      await Deno.remove(dir, { recursive: true }).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
    }
  }
}

/**
 * Re-opens a local run from its records. The records already written are
 * loaded before it resolves. Items still running in another process are
 * waited for while that process's heartbeat is fresh; items left without a
 * final record by a process that stopped end with an error. `signal` stops
 * the waiting (the handle then stays unfinished).
 */
async function collectLocal<T>(
  options: LocalTargetOptions,
  runId: string,
  signal: AbortSignal | undefined,
  hooks: (store: ObjectStore, manifest: RunManifest) => Pick<MapRunOptions, "usage" | "resubmit">,
): Promise<MapRun<T>> {
  const store = options.store.at(`runs/${runId}`);
  const manifest = await readManifest(store);
  if (manifest === undefined) {
    throw new CloudknotInputError(
      `Knot ${options.knot} has no local run ${runId}: list its runs with knot.runs()`,
      { field: "runId" },
    );
  }
  const { run, control } = MapRun.create<T>({
    knot: options.knot,
    runId,
    target: "local",
    total: manifest.count,
    attempts: manifest.attempts,
    ...(manifest.retryOf !== undefined ? { retryOf: manifest.retryOf } : {}),
  }, {
    startedAt: manifest.createdAt,
    logs: (index, attempt) => readLog(store, index, attempt),
    ...hooks(store, manifest),
  });
  /** Settles the items whose final record is there; marks the others' retries. */
  const read = async () => {
    for (const record of await latestRecords(store)) {
      const final = record.status === "ok" || record.attempt >= manifest.attempts ||
        record.kind === "unencodable" || record.kind === "cancelled";
      if (final) control.settle(record);
      else control.started(record.index, record.attempt + 1);
    }
  };
  /** One look at the run; true when it needs no more looks. */
  const look = async (): Promise<boolean> => {
    await read();
    if (run.finished) return true;
    const beat = new TextDecoder().decode(
      await store.get(RUN_KEYS.heartbeat) ?? new Uint8Array(),
    );
    if (beat === "finished" || !(Date.now() - Number(beat) < STALE_MS)) {
      // The last records may have landed between the read and the heartbeat.
      await read();
      control.settleAll((index) =>
        failureRecord(
          { index, attempt: 1, jobId: `${runId}:${index}`, kind: "infrastructure" },
          {
            name: "LostItemError",
            message: `Item ${index} has no final record: the process running this local run ` +
              `stopped before it finished; map the item again`,
          },
        )
      );
      return true;
    }
    return false;
  };
  // The records there are now are loaded before the handle is returned, so
  // its counts and job view show the run as it stands.
  if (signal?.aborted || await look()) return run;
  const poll = async () => {
    while (!signal?.aborted) {
      await sleep(250, signal);
      if (signal?.aborted || await look()) return;
    }
  };
  control.track(poll());
  return run;
}

/** The items of a run in groups that share a pool: those with resources of their own, and the rest. */
function poolGroups(
  request: MapRequest,
): { indices: number[]; memory?: number; timeout?: number }[] {
  const own = new Set<number>();
  const groups = (request.groups ?? []).map((g) => {
    const indices = Array.from({ length: g.size }, (_, i) => g.offset + i);
    for (const i of indices) own.add(i);
    return {
      indices,
      ...(g.resources.memory !== undefined ? { memory: g.resources.memory } : {}),
      ...(g.resources.timeout !== undefined ? { timeout: g.resources.timeout } : {}),
    };
  });
  const rest = request.items.map((_, i) => i).filter((i) => !own.has(i));
  return [...(rest.length > 0 ? [{ indices: rest }] : []), ...groups];
}

/** The highest attempt's record of each item that has one. */
async function latestRecords(store: ObjectStore): Promise<JobRecord[]> {
  const latest = new Map<number, number>();
  for await (const { key } of store.list("out/")) {
    const parsed = RUN_KEYS.parseRecord(key);
    if (parsed === undefined) continue;
    if ((latest.get(parsed.index) ?? 0) < parsed.attempt) latest.set(parsed.index, parsed.attempt);
  }
  const records: JobRecord[] = [];
  for (const [index, attempt] of latest) {
    const bytes = await store.get(RUN_KEYS.record(index, attempt));
    if (bytes !== undefined) records.push(decodeRecord(bytes));
  }
  return records;
}

async function* readLog(run: ObjectStore, index: number, attempt: number): AsyncGenerator<string> {
  const bytes = await run.get(RUN_KEYS.log(index, attempt));
  if (bytes === undefined) return;
  const text = new TextDecoder().decode(bytes);
  yield* (text.endsWith("\n") ? text.slice(0, -1) : text).split("\n");
}

/** Writes cancellation records where no record of that attempt exists yet. */
async function saveCancelled(run: ObjectStore, records: ErrorRecord[]): Promise<void> {
  for (const record of records) {
    const key = RUN_KEYS.record(record.index, record.attempt);
    if ((await run.get(key)) === undefined) await run.put(key, encodeRecord(record).bytes);
  }
}
