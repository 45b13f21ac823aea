/**
 * The local target: runs a knot's items on this machine, on a pool of
 * long-lived Deno worker processes (`job/pool.ts`), keeping each run in a
 * private directory on disk (`run_dir.ts`). It follows the same job contract
 * as AWS Batch: the same payload layout, records and environment variables.
 *
 * A run survives its process: another process's `collect()` follows it while
 * its process lives, and finishes it once that process is gone, running each
 * item that has no final record once more.
 *
 * @module
 */
import { FUNCTION_FILE } from "../../job/function_folder.ts";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { setImmediate } from "node:timers";
import { CloudknotError, CloudknotInputError } from "../../util/errors.ts";
import { sleep } from "../../util/sleep.ts";
import { errorToRecord } from "../../job/error_record.ts";
import { type Permissions, permissionsText } from "../../job/permissions.ts";
import {
  type EndedAttempt,
  neverRan,
  type PoolSink,
  type RunningAttempt,
  WorkerPool,
} from "../../job/pool.ts";
import {
  decodeRecord,
  encodeRecord,
  type ErrorRecord,
  failsEveryAttempt,
  failureRecord,
  type JobRecord,
} from "../../job/record.ts";
import { MapRun, type MapRunOptions, type RunControl } from "../../run/map_run.ts";
import {
  CLOBBERED_WHILE_RUNNING,
  isRunName,
  readRunManifests,
  requestCancel,
  requestedCancel,
  settleCancelled,
  withdrawCancel,
} from "../run_manifests.ts";
import { KNOT_CLOBBERED_ERROR } from "../../job/retry_advice.ts";
import { LocalStore } from "../../store/local.ts";
import { checkPrivateDirs, ensurePrivateDir } from "../../store/private_dir.ts";
import type { Estimate } from "../../cost/estimate.ts";
import type { Plan } from "../../plan/plan.ts";
import type { ItemResources } from "../../run/retry.ts";
import { checkMachineResources } from "../machine_resources.ts";
import { type MapRequest, newRunId, requestChunks, type Target } from "../target.ts";
import {
  type CollectOptions,
  collectWhole,
  latestRetry,
  resubmitRequest,
  retryAdvice,
} from "../resubmit.ts";
import { localRunUsage } from "./run_usage.ts";
import { ItemFeed } from "./item_feed.ts";
import { FollowedRunning, publishRunning, readRunning } from "./running_file.ts";
import { LOCAL_RUN_LAYOUT, type LocalRunManifest, RUN_FILES, RunDir } from "./run_dir.ts";
import {
  isDiskRefusal,
  RunDataGoneError,
  runsRootAdvice,
  RunStoreError,
  unstoredInputs,
} from "./errors.ts";
import { CLOBBERING_FILE, knotDirId, markClobber } from "../../store/local_knots.ts";
import { pathExists } from "../../util/read_text.ts";

export { RunDataGoneError };

/** How often a follower looks at a run another process is running, in milliseconds. */
const FOLLOW_MS = 200;
/**
 * How long a clobber waits for a process that runs one of the knot's runs to
 * cancel it once asked, in milliseconds: that process looks for the request
 * every {@linkcode FOLLOW_MS} and stops its workers at once. 30 s.
 */
export const CLOBBER_WAIT_MS = 30_000;

/**
 * Why a run stopped when its knot was clobbered while it ran: the error its
 * items that had not ended end with, in every process that reads them
 * (`KnotClobberedError`, with what to do).
 *
 * @example Usage
 * ```ts
 * import { clobberedReason } from "./local_target.ts";
 *
 * console.log(clobberedReason("squares").message);
 * ```
 *
 * @param knot The knot's name.
 * @returns The reason, as `run.cancel()` takes it.
 */
export function clobberedReason(knot: string): { name: string; message: string } {
  return {
    name: KNOT_CLOBBERED_ERROR,
    message: `The run stopped because its knot ${knot} ${CLOBBERED_WHILE_RUNNING}: create the ` +
      `knot again and map the inputs again`,
  };
}

/** The file in a knot's directory that lists its runs' ids, one a line. */
const RUN_LIST = "runs.log";
/**
 * The file in a knot's directory that lists the directories other than its
 * own that its runs were put under (`$CLOUDKNOT_LOCAL_RUNS/<id>`), one a line:
 * a clobber removes them all, and a process that sets the variable otherwise
 * is told where a run is.
 */
const RUNS_ROOTS = "runs-roots.log";

/** Options for a {@linkcode LocalTarget}. */
export interface LocalTargetOptions {
  /** The knot's name. */
  knot: string;
  /** The knot's directory, where its artifacts and its list of runs are. */
  root: string;
  /** The directory under which its runs go, as `runs/<runId>`. */
  runsRoot: string;
  /** The function's artifact, relative to `root` (`artifacts/<hash>.js`). */
  artifact: string;
  /**
   * The knot's artifact when a run is retried, as its record says then: a
   * retry runs the knot's function of then, whichever handle retries it (a
   * knot created again with another function meanwhile runs that one).
   * @default {() => artifact}
   */
  knotArtifact?: () => Promise<string>;
  /** How many worker processes at most. */
  concurrency: number;
  /** Attempts per item. */
  attempts: number;
  /** What the function may do (validated). */
  permissions: Permissions;
  /** Seconds an attempt may run. */
  timeout?: number;
  /** The V8 heap limit of each worker, in MiB. */
  memory?: number;
  /** The deno binary (default: this one). */
  deno?: string;
  /** Where warnings go, such as a run's manifest that could not be written. @default {console.warn} */
  warn?: (message: string) => void;
  /**
   * How long a clobber waits for a process that runs one of the knot's runs
   * to let go of it once asked to cancel it, in milliseconds.
   * @default {CLOBBER_WAIT_MS}
   */
  clobberWaitMs?: number;
}

/** The folders of the runs a `collect()` of this process took over, once their process died. */
const TAKEN_OVER = new Set<string>();

/**
 * A run of a local knot whose manifest (`run.json`) is damaged
 * (`LocalTarget.damagedRuns`).
 */
export interface DamagedRun {
  /** What `collect()` of it throws: it names the manifest and says what can be done. */
  error: CloudknotError;
  /**
   * When its folder was made (epoch milliseconds, the file system's birth time
   * of it), where the file system keeps one: the run was made before then.
   * The order of a run without it is known only to the second of its id.
   */
  madeBy?: number;
}

/**
 * Whether a `collect()` in this process took over the local run in `dir` (its
 * process was gone) and ran its unfinished items here: a command that waited
 * for the run and stops then stops those items with it, and the run does not
 * go on. Decided as the run is followed, not when it was opened: its map may
 * die while the command waits.
 *
 * @example Usage
 * ```ts ignore
 * const here = tookOverRun(join(knot.runsRoot, "runs", runId));
 * ```
 *
 * @param dir The run's folder (`<runs root>/runs/<run id>`).
 * @returns Whether this process took it over.
 */
export function tookOverRun(dir: string): boolean {
  return TAKEN_OVER.has(resolve(dir));
}

/**
 * Runs a knot's items on this machine.
 *
 * @example Usage
 * ```ts ignore
 * import { LocalTarget } from "./local_target.ts";
 *
 * const target = new LocalTarget({ knot: "k", root, runsRoot: root, artifact, concurrency: 2, attempts: 1, permissions: { net: true } });
 * const run = await target.map({ items, starmap: false, env: {} });
 * ```
 */
export class LocalTarget implements Target {
  /** Which target this is. */
  readonly kind = "local" as const;
  #o: LocalTargetOptions;
  /** The runs this process started that are not done yet: clobber stops them first. */
  #active = new Set<MapRun<unknown>>();
  /** Runs being set up on disk, not yet active: clobber waits for them, then stops them. */
  #starting = new Set<Promise<void>>();
  /** Set when clobber starts: a run not yet set up is refused. */
  #clobbered = false;

  /**
   * Makes a local target.
   *
   * @param options The knot's directories, function and limits.
   */
  constructor(options: LocalTargetOptions) {
    this.#o = options;
  }

  #runDir(runId: string): string {
    return join(this.#o.runsRoot, "runs", runId);
  }

  /**
   * Starts a run: reads the inputs as they come, writing each to the run's
   * directory and handing it to the workers at once. Resolves once every
   * input is written; a bad input rejects, naming its index, and the run is
   * stopped and removed.
   */
  map<T>(request: MapRequest): Promise<MapRun<T>> {
    return this.#map(request, {});
  }

  /**
   * Starts a run: of this target's function, attempts, permissions, memory
   * and timeout, unless others are given (a key given as `undefined` is no
   * limit, as a retried run had none).
   */
  async #map<T>(
    request: MapRequest,
    given: Partial<
      Pick<LocalTargetOptions, "artifact" | "attempts" | "permissions" | "memory" | "timeout">
    >,
  ): Promise<MapRun<T>> {
    // A signal aborted already: nothing is read or made (as fetch() does).
    request.signal?.throwIfAborted();
    const o = { ...this.#o, ...given };
    // Reading stops when the map's signal aborts or the run is cancelled,
    // also while the source waits for its next input.
    const stopReading = new AbortController();
    const onAbort = () => stopReading.abort();
    request.signal?.addEventListener("abort", onAbort, { once: true });
    const chunks = requestChunks(request.items, stopReading.signal)[Symbol.asyncIterator]();
    // Nothing is made before the first input is read and encoded.
    const first = await chunks.next();
    const runId = newRunId();
    const jobId = (index: number) => `${runId}:${index}`;
    if (first.done || request.signal?.aborted) {
      // A signal aborted while the first inputs were read: those read end
      // cancelled, with nothing written or run (as on AWS).
      let total = 0;
      for (let next = first; !next.done; next = await chunks.next()) total += next.value.length;
      const { run } = MapRun.create<T>(
        { knot: o.knot, runId, target: "local", total, attempts: o.attempts },
        { jobId },
      );
      request.signal?.removeEventListener("abort", onAbort);
      if (total > 0) await run.cancel(String(request.signal?.reason ?? "The run was cancelled"));
      return run;
    }
    const manifest: LocalRunManifest = {
      version: 1,
      layout: LOCAL_RUN_LAYOUT,
      runId,
      knot: o.knot,
      count: 0,
      open: true,
      starmap: request.starmap,
      createdAt: Date.now(),
      attempts: o.attempts,
      artifact: o.artifact,
      env: { ...request.env },
      permissions: o.permissions,
      ...(o.timeout !== undefined ? { timeoutMs: o.timeout * 1000 } : {}),
      ...(o.memory !== undefined ? { memoryMiB: o.memory } : {}),
      ...(request.groups !== undefined ? { groups: request.groups } : {}),
      ...(request.retryOf !== undefined ? { retryOf: request.retryOf } : {}),
    };
    if (this.#clobbered) {
      throw new CloudknotInputError(
        `Knot ${o.knot} was clobbered while map() was starting: create it again with Knot.create()`,
      );
    }
    // Another handle's clobber (this process's or another's) took the knot's record: a run made
    // now would bring its folder back, and no item could load the function.
    if (await this.#clobberedElsewhere()) {
      throw new CloudknotError(
        `Knot ${o.knot} was clobbered since this handle opened it, its function with it: create ` +
          `it again (Knot.create({ name: "${o.knot}", func })) and map the items again`,
      );
    }
    const dir = this.#runDir(runId);
    // Until the run is in #active (the synchronous code after this), clobber waits.
    const starting = Promise.withResolvers<void>();
    this.#starting.add(starting.promise);
    let files: RunDir;
    try {
      await ensurePrivateDir(join(o.runsRoot, "runs"));
      files = await RunDir.create(dir, manifest);
    } catch (e) {
      // A disk that takes no write (read-only, full): said as such, not as an unexpected error.
      if (!isDiskRefusal(e)) throw e;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw new RunStoreError(dir, "make the run's folder", e);
    } finally {
      this.#starting.delete(starting.promise);
      starting.resolve();
    }
    let stopped = false;
    const { run, control } = MapRun.create<T>(
      {
        knot: o.knot,
        runId,
        target: "local",
        total: 0,
        attempts: o.attempts,
        ...(request.retryOf !== undefined ? { retryOf: request.retryOf } : {}),
      },
      {
        ...this.#hooks(dir, manifest),
        open: true,
        jobId,
        startedAt: manifest.createdAt,
        onCancel: async (reason) => {
          stopped = true;
          stopReading.abort();
          pool.cancel(reason);
          await pool.done;
        },
        saveCancelled: (records) => Promise.resolve(saveCancelled(files, records)),
        logs: (index, attempt) => readLog(files, index, attempt),
      },
    );
    watchCancel(dir, run);
    // Inputs read from an iterable are this run's own copies (Knot.map
    // encodes them), which the feed may free once done with.
    const feed = new ItemFeed(files, Symbol.asyncIterator in request.items);
    const pool = this.#pools(files, manifest, control, feed);
    publishRunning(dir, () => pool.running(), pool.done);
    const abort = () => run.cancel(String(request.signal?.reason ?? "The run was cancelled"));
    request.signal?.addEventListener("abort", abort, { once: true });
    if (request.signal?.aborted) abort();
    // The run's files are closed (and its lock released) once it is done,
    // after cancellation records are written.
    run.done.then(() => files.close());
    this.#active.add(run);
    run.done.then(() => this.#active.delete(run));
    request.started?.(run as MapRun<unknown>);
    let written = 0;
    /** The items whose inputs could not be written, first to last, and why. */
    let unwritten: { from: number; to: number; error: RunStoreError } | undefined;
    try {
      for (
        let next: IteratorResult<readonly Uint8Array[]> = first;
        !next.done && !stopped;
        next = await chunks.next()
      ) {
        const chunk = next.value;
        const from = written;
        written += chunk.length;
        control.extend(written);
        if (unwritten === undefined) {
          try {
            await files.appendItems(chunk);
          } catch (e) {
            if (!(e instanceof RunStoreError)) throw e;
            const error = unstoredInputs(dir, "write", from, written - 1, e.cause);
            unwritten = { from, to: written - 1, error };
          }
        }
        if (unwritten === undefined) feed.offer(from, chunk, () => pool.addRange(from, written));
        else {
          // A run's inputs are stored in order (an item's place in them is its index): none
          // after those that could not be written is stored either. Each item's error names
          // its own chunk, and says to map these inputs again.
          const { from: first, to: last, error } = unwritten;
          settleUnwritten(
            control,
            jobId,
            from,
            written,
            from === first ? error : unstoredInputs(
              dir,
              "write",
              from,
              written - 1,
              new Error(
                `they follow items ${first} to ${last}, whose inputs could not be written ` +
                  `(${(error.cause as Error | undefined)?.message ?? error.message})`,
              ),
            ),
          );
        }
        // Let the workers' answers in between chunks of inputs.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (e) {
      // A bad input: nothing of the run is kept.
      request.signal?.removeEventListener("abort", abort);
      request.signal?.removeEventListener("abort", onAbort);
      pool.cancel(String(e));
      await pool.done;
      files.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw e;
    }
    // Stopped (its signal, a cancel, a clobber): the run is the inputs read
    // so far, and the source is closed (its finally blocks run) without
    // waiting for it.
    request.signal?.removeEventListener("abort", onAbort);
    if (stopped) void chunks.return?.(undefined);
    manifest.count = written;
    delete manifest.open;
    // The run's end, which its readers go by: a run left open whose process is gone was cut
    // short (its process died while reading its inputs). On a full disk sealManifest writes it
    // over the open one's bytes, which takes no room; should that fail too (a read-only disk),
    // it is tried again once the run is done (room may be made meanwhile), then said.
    const sealed = await files.sealManifest(manifest).then(() => true, () => false);
    if (!sealed) {
      const again = () =>
        files.sealManifest(manifest).catch((e: RunStoreError) =>
          (o.warn ?? console.warn)(
            `cloudknot: run ${runId} of knot ${o.knot} read all its ${written} inputs, but ` +
              `its manifest (${join(dir, RUN_FILES.manifest)}) could not be written to say ` +
              `so: ${(e.cause as Error | undefined)?.message ?? e.message}. Its results are ` +
              `kept, but reading the run will say it was cut short after the ` +
              `inputs it stored, as if its process had died while reading them: it was not, ` +
              `and none of the inputs it stored is lost`,
          )
        );
      void run.done.then(again, again);
    }
    try {
      // The knot's list of its runs, to tell a run whose data is gone from none.
      // Deno's own append, not node:fs's, whose import costs a knot's process about 0.05 s.
      Deno.writeTextFileSync(join(o.root, RUN_LIST), `${runId}\n`, { append: true, mode: 0o600 });
      if (o.runsRoot !== o.root && !this.#recordedRunsRoots().includes(o.runsRoot)) {
        const line = `${o.runsRoot}\n`;
        Deno.writeTextFileSync(join(o.root, RUNS_ROOTS), line, { append: true, mode: 0o600 });
      }
    } catch {
      // Only the message about gone data (or data elsewhere) is lost.
    }
    pool.close();
    // Tracked before the run is sealed: when every item has already settled,
    // sealing finishes the run, and its done (which results() waits for)
    // must still wait for the workers to exit.
    control.track(pool.done.finally(() => request.signal?.removeEventListener("abort", abort)));
    control.seal();
    return run;
  }

  /**
   * The pools that run a run's items: the knot's own, then one for each
   * group of items with resources of their own (a retry's), one after
   * another.
   */
  #pools(
    files: RunDir,
    manifest: LocalRunManifest,
    control: RunControl,
    feed: ItemFeed = new ItemFeed(files, false),
  ): GroupedPools {
    return new GroupedPools(
      manifest,
      (resources) => this.#pool(files, manifest, control, resources, feed),
    );
  }

  /** A pool that runs the run's items and reports to its handle. */
  #pool(
    files: RunDir,
    manifest: LocalRunManifest,
    control: RunControl,
    resources: PoolResources,
    feed: ItemFeed,
  ): WorkerPool {
    const o = this.#o;
    const lost = new Map<number, RunStoreError>();
    const key = (index: number, attempt: number) => index * 16 + attempt;
    // An attempt whose record or output could not be written leaves no record:
    // a collect() that finishes the run runs its item again.
    const rerun = (e: unknown): RunStoreError =>
      e instanceof RunStoreError
        ? new RunStoreError(
          e.dir,
          e.what,
          e.cause,
          `collect the run again (knot.collect("${manifest.runId}") of knot ${o.knot}) once ` +
            `its process is done, to run the items that could not be written`,
        )
        : e as RunStoreError;
    const sink: PoolSink = {
      started: (index, attempt) => control.started(index, attempt),
      output: (index, attempt, stream, bytes) => {
        try {
          files.appendOutput(index, attempt, stream, bytes);
        } catch (e) {
          lost.set(key(index, attempt), rerun(e));
        }
      },
      store: (ended) => {
        // Each attempt fails with its own error: one whose output could not
        // be written fails alone, the others' records are kept.
        const failed = new Map<number, RunStoreError>();
        const kept: number[] = [];
        ended.forEach((a, i) => {
          const error = lost.get(key(a.index, a.attempt));
          if (error === undefined) return kept.push(i);
          lost.delete(key(a.index, a.attempt));
          failed.set(i, error);
        });
        if (kept.length === 0) return failed;
        try {
          files.appendRecords(kept.map((i) => ({
            index: ended[i]!.index,
            attempt: ended[i]!.attempt,
            kind: ended[i]!.kind,
            record: ended[i]!.bytes,
          })));
        } catch (e) {
          const error = rerun(e);
          for (const i of kept) failed.set(i, error);
        }
        return failed;
      },
      ended: (a) => {
        feed.ended(a.index);
        report(control, a);
      },
    };
    return new WorkerPool({
      functionUrl: pathToFileURL(join(o.root, manifest.artifact)).href,
      // artifacts/<hash>/function.js, with the files it ships beside it.
      functionFolder: manifest.artifact.endsWith(`/${FUNCTION_FILE}`),
      starmap: manifest.starmap,
      concurrency: o.concurrency,
      attempts: manifest.attempts,
      jobId: `${manifest.runId}:{index}`,
      source: feed,
      sink,
      env: manifest.env,
      permissions: manifest.permissions,
      ...(resources.timeoutMs !== undefined ? { timeoutMs: resources.timeoutMs } : {}),
      ...(resources.memoryMiB !== undefined ? { memoryMiB: resources.memoryMiB } : {}),
      ...(o.deno !== undefined ? { deno: o.deno } : {}),
      unstarted: unstartedAdvice(o.knot, manifest.runId),
      retry: (options) => retryAdvice(o.knot, manifest.runId, options),
    });
  }

  /**
   * Re-opens an earlier run from its log, from any process. The records
   * already written are loaded before it resolves. A run whose process is
   * alive is followed; a run whose process is gone is finished here: each
   * item without a final record runs again. `signal` stops following (or
   * finishing) it; the handle then stays unfinished. With `finish: false` an
   * abandoned run is only read, never run (its unfinished items stay
   * pending), for commands that only look.
   */
  collect<T>(runId: string, options: CollectOptions = {}): Promise<MapRun<T>> {
    // A retry's handle covers the whole input, with the run it retries.
    return collectWhole(runId, (id) => this.#collectOne<T>(id, options));
  }

  /** Re-opens one run (see {@linkcode LocalTarget.collect}). */
  async #collectOne<T>(runId: string, options: CollectOptions): Promise<MapRun<T>> {
    const o = this.#o;
    const dir = this.#runDir(runId);
    await this.#checkDirs();
    // A run id is a name in the knot's runs, never a path to another knot's.
    const opened = isRunName(runId) ? await RunDir.open(dir) : undefined;
    if (opened === undefined) {
      const elsewhere = this.runsElsewhere().get(runId);
      if (elsewhere !== undefined) {
        throw new CloudknotError(
          `Run ${runId} of knot ${o.knot} is ${runsRootAdvice(o.root, elsewhere, "it")}`,
        );
      }
      if (this.#listedRuns().includes(runId)) throw new RunDataGoneError(o.knot, runId, dir);
      throw new CloudknotInputError(
        `Knot ${o.knot} has no local run ${runId}: list its runs with knot.runs()`,
        { field: "runId" },
      );
    }
    const { run: files, manifest } = opened;
    if (manifest.layout !== LOCAL_RUN_LAYOUT) {
      throw new CloudknotError(
        `Run ${runId} of knot ${o.knot} was written by an earlier version of cloudknot (one ` +
          `file per item), which this version does not read: collect it with the version that ` +
          `made it, or map its inputs again`,
      );
    }
    const signal = options.signal;
    let pool: GroupedPools | undefined;
    const { run, control } = MapRun.create<T>({
      knot: o.knot,
      runId,
      target: "local",
      total: manifest.count,
      attempts: manifest.attempts,
      ...(manifest.retryOf !== undefined ? { retryOf: manifest.retryOf } : {}),
      ...(manifest.cutShort === true ? { cutShort: true } : {}),
    }, {
      ...this.#hooks(dir, manifest),
      open: manifest.open === true,
      jobId: (index) => `${runId}:${index}`,
      startedAt: manifest.createdAt,
      logs: (index, attempt) => readLog(files, index, attempt),
      onCancel: async (reason, error) => {
        if (pool === undefined && !files.owned) {
          // No process runs it (its map was killed): this handle takes it over, so that its
          // cancellation is written in the run's log for every later reader, as that process's
          // would have been.
          if (!files.takeOver()) {
            // Another process runs it: that process cancels it, and its records are read here.
            requestCancel(dir, error);
            while (!run.finished && !files.owned && files.isLive()) {
              await sleep(FOLLOW_MS);
              read();
            }
            // It let go with items left (killed meanwhile): their cancellation is written here.
            if (!run.finished) files.takeOver();
          }
          // What the process that ran it recorded before it let go (an item it
          // finished, the cancellation it wrote) ends the item here too, as it
          // does for every later reader: only the items the log leaves open
          // are this cancel's.
          read();
        }
        pool?.cancel(reason);
        await pool?.done;
      },
      saveCancelled: (records) => Promise.resolve(saveCancelled(files, records)),
    });
    /** The last attempt recorded of each item that has not ended. */
    const tried = new Map<number, number>();
    /**
     * The items whose last record is an attempt that never ran (the process
     * that ran the run could not start workers): whoever finishes the run runs
     * that attempt again; once no one runs the run, they failed with it.
     */
    const unstarted = new Map<number, ErrorRecord>();
    let offset = 0;
    const read = () => {
      offset = files.scanRecords(offset, (entry) => {
        if (entry.index >= run.total) control.extend(entry.index + 1);
        unstarted.delete(entry.index);
        // A thrown error's record says whether a program was missing, and an unencodable
        // result's what kind of value the codec refused: final, as a refusal.
        const record = entry.kind === "infrastructure" || entry.kind === "threw" ||
            entry.kind === "unencodable"
          ? decodeEntry(entry.record, entry.index, entry.attempt)
          : undefined;
        const final = entry.kind === "ok" || entry.kind === "cancelled" ||
          failsEveryAttempt(entry.kind, (record as ErrorRecord | undefined)?.error) ||
          entry.attempt >= manifest.attempts;
        if (record !== undefined && neverRan(record)) {
          tried.set(entry.index, entry.attempt - 1);
          unstarted.set(entry.index, record as ErrorRecord);
        } else if (final) {
          tried.delete(entry.index);
          control.settle(record ?? decodeEntry(entry.record, entry.index, entry.attempt));
        } else {
          tried.set(entry.index, entry.attempt);
          control.retrying(decodeEntry(entry.record, entry.index, entry.attempt) as ErrorRecord);
        }
      });
    };
    const finish = async (): Promise<void> => {
      read();
      if (manifest.open) {
        // Its process died while reading the inputs: the run is what was written.
        manifest.count = files.itemCount;
        delete manifest.open;
        manifest.cutShort = true;
        control.extend(manifest.count);
        await files.sealManifest(manifest).catch(() => {});
        control.seal({ cutShort: true });
      }
      if (run.finished) return;
      const cancelled = requestedCancel(dir);
      if (cancelled !== undefined) {
        void run.cancel(cancelled);
        return;
      }
      pool = this.#pools(files, manifest, control);
      const own = pool;
      publishRunning(dir, () => own.running(), own.done);
      watchCancel(dir, run);
      const stop = () => pool?.cancel("stopped");
      signal?.addEventListener("abort", stop, { once: true });
      for (let index = 0; index < run.total; index++) {
        if (control.isSettled(index)) continue;
        if (index >= files.itemCount) {
          settleUnwritten(
            control,
            (i) => `${runId}:${i}`,
            index,
            index + 1,
            unstoredInputs(dir, "read", index, index, new Error("its inputs end before them")),
          );
        } else {
          pool!.add(index, (tried.get(index) ?? 0) + 1);
        }
      }
      pool.close();
      await pool.done;
      signal?.removeEventListener("abort", stop);
    };
    /**
     * No process runs the run and its folder cannot be written (read-only, full), so nothing of
     * it can run here: each item not ended ends on this handle only (no record is written, and
     * none of them ran), saying why and what finishes it once the folder is writable. A run cut
     * short is, on this handle, the items whose inputs were written.
     */
    const unwritable = (e: Error): void => {
      if (manifest.open) {
        control.extend(files.writtenCount());
        control.seal({ cutShort: true });
      }
      const error = new RunStoreError(
        dir,
        `finish run ${runId} (its process stopped before this item ended; it did not run ` +
          `here, since no record can be written)`,
        e,
        `collect the run again (knot.collect("${runId}") of knot ${o.knot}) to run it`,
      );
      control.settleAll((index) =>
        failureRecord(
          {
            index,
            attempt: (tried.get(index) ?? 0) + 1,
            jobId: `${runId}:${index}`,
            kind: "infrastructure",
          },
          { name: error.name, message: error.message },
        )
      );
    };
    /** The items the process that runs the run runs now, shown on this handle. */
    const running = new FollowedRunning(control);
    /** One look at the run; true when there is nothing more to wait for. */
    const look = async (): Promise<boolean> => {
      read();
      if (run.finished && !manifest.open) return true;
      if (options.finish === false) {
        const live = files.isLive();
        running.show(live ? readRunning(dir) : []);
        // No one runs the run: an attempt that never ran is how its item ended,
        // until a collect() that finishes the run runs it again.
        if (!live) { for (const record of unstarted.values()) control.settle(record); }
        return !live;
      }
      let owned: boolean;
      try {
        owned = files.takeOver();
      } catch (e) {
        // Its folder cannot be written (read-only, full): only a live process could run it.
        if (!isDiskRefusal(e)) throw e;
        if (files.isLive()) owned = false;
        else {
          unwritable(e);
          return true;
        }
      }
      if (!owned) {
        running.show(readRunning(dir));
        return false;
      }
      // Run here from now on: its workers say what runs.
      TAKEN_OVER.add(resolve(dir));
      running.show([]);
      await finish();
      return true;
    };
    // The records there are now are loaded before the handle is returned, so
    // its counts and job view show the run as it stands, with what runs now.
    read();
    if (!files.owned && files.isLive()) running.show(readRunning(dir));
    /**
     * The run's folder went while the run was followed (its knot was clobbered, or the folder
     * removed): its items not ended end cancelled, saying why, since no record of them is left.
     */
    const gone = async (): Promise<boolean> => {
      if (await pathExists(dir)) return false;
      const clobbered = await this.#clobberedElsewhere();
      settleCancelled(
        control,
        runId,
        tried,
        clobbered
          ? clobberedReason(o.knot)
          : `The run's folder ${dir} was removed while it was read, so nothing more of it is ` +
            `kept; map the inputs again`,
      );
      return true;
    };
    const work = (async () => {
      while (!signal?.aborted) {
        try {
          if (await look()) break;
        } catch (e) {
          // Taking the run over opens its log: in a folder gone, that fails.
          if (e instanceof Deno.errors.NotFound && await gone()) break;
          throw e;
        }
        await sleep(FOLLOW_MS, signal);
        if (await gone()) break;
        const fresh = await RunDir.open(dir);
        if (fresh !== undefined && fresh.manifest.open !== manifest.open) {
          Object.assign(manifest, fresh.manifest);
          if (!manifest.open) {
            control.extend(manifest.count);
            control.seal({ cutShort: manifest.cutShort === true });
          }
        }
      }
    })();
    control.track(work);
    // The files are closed (and the lock released) when the run is done, or
    // when following it stops.
    run.done.then(() => files.close());
    this.#active.add(run);
    run.done.then(() => this.#active.delete(run));
    const release = () => {
      if (!run.finished) files.close();
    };
    work.then(release, release);
    return run;
  }

  /** Whether a clobber of the knot (this process's other handle's, or another process's) began. */
  async #clobberedElsewhere(): Promise<boolean> {
    const root = this.#o.root;
    return await pathExists(join(root, CLOBBERING_FILE)) ||
      !await pathExists(join(root, "knot.json"));
  }

  /**
   * Whether a process runs the run now (this one or another: it holds the lock on the run's log).
   * A run not finished that none runs lost its process: a `collect()` finishes it.
   */
  async isLive(runId: string): Promise<boolean> {
    return (await RunDir.openLive(this.#runDir(runId))) !== undefined;
  }

  /** The knot's folder, where its runs are, and what each item runs with. */
  summary(): [string, string | undefined][] {
    const o = this.#o;
    return [
      ["folder", o.root],
      ["runs", o.runsRoot === o.root ? undefined : o.runsRoot],
      // Named as the options that set them.
      ["concurrency", `${o.concurrency} worker${o.concurrency === 1 ? "" : "s"}`],
      ["retries", String(o.attempts)],
      ["timeout", o.timeout === undefined ? undefined : `${o.timeout} s`],
      ["memory", o.memory === undefined ? undefined : `${o.memory} MiB`],
      ["permissions", permissionsText(o.permissions)],
    ];
  }

  /**
   * Refuses the knot's directory, its runs directory and their `runs` folder when one is not
   * private any more (opening the knot checked them): nothing is read from them then.
   */
  async #checkDirs(): Promise<void> {
    const { root, runsRoot } = this.#o;
    await checkPrivateDirs([root, runsRoot, join(runsRoot, "runs")]);
  }

  /** The knot's runs that still have their data, oldest first. */
  async runs(): Promise<LocalRunManifest[]> {
    return (await this.#readRuns()).kept;
  }

  /** The knot's runs that can be read, and those whose manifest is damaged, each with why. */
  async #readRuns(): Promise<{ kept: LocalRunManifest[]; damaged: Map<string, DamagedRun> }> {
    await this.#checkDirs();
    const damaged = new Map<string, DamagedRun>();
    const kept = await readRunManifests(
      join(this.#o.runsRoot, "runs"),
      // A run whose manifest is damaged is left out (collect() says why).
      async (dir) =>
        (await RunDir.open(dir).catch(async (e) => {
          if (!(e?.cause instanceof SyntaxError)) throw e;
          if (!isRunName(basename(dir))) return undefined;
          // Its folder's birth, where the file system keeps one: the run was made before it.
          const born = (await Deno.stat(dir).catch(() => undefined))?.birthtime?.getTime();
          damaged.set(basename(dir), { error: e, ...(born ? { madeBy: born } : {}) });
          return undefined;
        }))?.manifest,
    );
    return { kept, damaged };
  }

  /**
   * The knot's runs whose manifest (`run.json`) is damaged, which `runs()`
   * leaves out: each with the error that `collect()` of it throws, which
   * names the manifest and says what can be done, and when its folder was
   * made, where the file system says so.
   *
   * @returns Each run's id, its error and when it was made at the latest.
   */
  async damagedRuns(): Promise<Map<string, DamagedRun>> {
    return (await this.#readRuns()).damaged;
  }

  /**
   * The ids of runs the knot made whose data is gone: not those whose
   * manifest is damaged ({@linkcode LocalTarget.damagedRuns}), which are there.
   *
   * @returns The ids, oldest first.
   */
  async goneRuns(): Promise<string[]> {
    const { kept, damaged } = await this.#readRuns();
    const there = new Set(kept.map((m) => m.runId));
    const elsewhere = this.runsElsewhere();
    return this.#listedRuns().filter((id) =>
      !there.has(id) && !damaged.has(id) && !elsewhere.has(id)
    );
  }

  /**
   * The runs the knot made under another runs directory than this process's
   * (`CLOUDKNOT_LOCAL_RUNS` set otherwise, or not set, when they were made),
   * each with that directory: they are there, not gone.
   *
   * @returns Each run's id and its runs directory, oldest first.
   */
  runsElsewhere(): Map<string, string> {
    const found = new Map<string, string>();
    const others = [this.#o.root, ...this.#recordedRunsRoots()]
      .filter((root) => root !== this.#o.runsRoot);
    for (const runId of this.#listedRuns()) {
      if (!isRunName(runId) || hasManifest(this.#runDir(runId))) continue;
      const root = others.find((r) => hasManifest(join(r, "runs", runId)));
      if (root !== undefined) found.set(runId, root);
    }
    return found;
  }

  /** The runs directories other than its own the knot's runs were put under. */
  #recordedRunsRoots(): string[] {
    try {
      return Deno.readTextFileSync(join(this.#o.root, RUNS_ROOTS)).split("\n").filter((l) => l);
    } catch {
      return [];
    }
  }

  /**
   * What `map(request)` would write and run, with nothing done;
   * `itemSeconds` adds an estimate.
   */
  async plan(request: MapRequest, options: { itemSeconds?: number } = {}): Promise<Plan> {
    const o = this.#o;
    const { planMachineMap } = await import("../machine_plan.ts");
    return await planMachineMap(request, {
      kind: "local",
      knot: o.knot,
      root: o.runsRoot,
      concurrency: o.concurrency,
      run: (count) => ({
        action: "run",
        kind: "worker processes",
        name: `${Math.min(o.concurrency, count)}`,
        details: {
          items: count,
          attempts: o.attempts,
          ...(o.memory !== undefined ? { "heap limit MiB": o.memory } : {}),
          ...(o.timeout !== undefined ? { timeout: o.timeout } : {}),
        },
      }),
    }, options);
  }

  /** An estimate of a local run: its duration on the knot's workers, and its CPU-hours. */
  async estimate(count: number, options: { itemSeconds: number }): Promise<Estimate> {
    const { estimateMachineRun } = await import("../machine_plan.ts");
    return await estimateMachineRun(count, options.itemSeconds, this.#o.concurrency, "local");
  }

  /**
   * Checks resources a retry gives some items of a run against this target's
   * bounds, by the rule `Knot.create` checks the knot's with
   * ({@linkcode checkMachineResources}), before the retry writes anything.
   *
   * @example Usage
   * ```ts ignore
   * target.checkResources({ memory: 512 });
   * ```
   *
   * @param resources The memory (MiB), vCPUs and timeout (seconds) the items would run with.
   * @throws {CloudknotInputError} Naming the option and the range it takes here.
   */
  checkResources(resources: ItemResources): void {
    checkMachineResources("local", resources);
  }

  /** What a run's handle asks its target: its attempts' usage, and a retry. */
  #hooks(
    dir: string,
    manifest: LocalRunManifest,
  ): Pick<MapRunOptions, "usage" | "resubmit" | "retriedBy" | "checkResources"> {
    return {
      checkResources: (resources) => this.checkResources(resources),
      usage: async () =>
        localRunUsage(
          await readRecords(dir, this.#o.knot, manifest.runId),
          manifest,
          manifest.memoryMiB !== undefined ? { memory: manifest.memoryMiB } : {},
        ),
      // The run's inputs and index are the job contract's payload layout.
      // A retry's items get the attempts, permissions, memory and timeout its
      // run had (unless it gives others) and the knot's function of then, from
      // whichever handle and process retries it.
      retriedBy: (signal) => latestRetry(this, manifest.runId, signal),
      resubmit: async (request) =>
        this.#map(await resubmitRequest(new LocalStore(dir), manifest, request), {
          attempts: manifest.attempts,
          permissions: request.permissions ?? manifest.permissions,
          artifact: await (this.#o.knotArtifact?.() ?? this.#o.artifact),
          memory: manifest.memoryMiB,
          timeout: manifest.timeoutMs === undefined ? undefined : manifest.timeoutMs / 1000,
        }),
    };
  }

  /**
   * A local knot has no AWS Batch jobs (its items run in worker processes,
   * grouped in runs): this rejects, saying to use its runs instead.
   */
  jobIds(): Promise<never> {
    return Promise.reject(
      new CloudknotInputError(
        `Knot ${this.#o.knot} runs locally, where items run in worker processes, not as ` +
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
        `Knot ${this.#o.knot} runs locally, where there are no AWS Batch jobs to submit: ` +
          `run one item with const run = await knot.map([input]) and await run.item(0)`,
      ),
    );
  }

  /** A local knot has no AWS Batch jobs: this rejects, saying to print a run instead. */
  viewJobs(): Promise<never> {
    return Promise.reject(
      new CloudknotInputError(
        `Knot ${this.#o.knot} runs locally: print a run (console.log(run)) to see its items`,
      ),
    );
  }

  /**
   * Removes the knot's directories: its record, its function and its runs.
   * Each run is a few files, so this costs O(runs), not O(items). Runs this
   * process is still running are cancelled first, and their workers waited
   * for, so none writes into a directory being removed; a run another
   * process runs is asked to cancel (as a cancel from another handle asks),
   * and the clobber waits until that process lets go of it.
   *
   * @throws {CloudknotError} When a process that runs one of the knot's runs
   *   has not let go of it `clobberWaitMs` after it was asked to cancel it:
   *   nothing is removed then.
   */
  async clobber(): Promise<void> {
    this.#clobbered = true;
    await Promise.all(this.#starting);
    const active = [...this.#active];
    await Promise.all(active.map((run) => run.cancel(clobberedReason(this.#o.knot))));
    await Promise.all(active.map((run) => run.done));
    // Every runs directory it used: one named for this knot's directory, never another's.
    const id = await knotDirId(this.#o.root);
    const roots = [
      this.#o.runsRoot,
      ...this.#recordedRunsRoots().filter((root) => basename(root) === id),
    ];
    await this.#stopOthersRuns(roots);
    const root = this.#o.root;
    const gone = (e: unknown) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    };
    // Its mark first, and the record after the rest: a clobber killed part-way leaves the knot
    // listed with its mark, and opening it again (`cloudknot knot clobber` again, or a create of
    // its name) finishes the clobber, never adopts what is left of it.
    await markClobber(root, "local").catch(gone);
    for (const dir of roots.filter((dir) => dir !== root)) {
      await Deno.remove(dir, { recursive: true }).catch(gone);
    }
    const last = new Set([CLOBBERING_FILE, RUNS_ROOTS, "knot.json"]);
    for (const entry of await Array.fromAsync(Deno.readDir(root)).catch(() => [])) {
      if (!last.has(entry.name)) {
        await Deno.remove(join(root, entry.name), { recursive: true }).catch(gone);
      }
    }
    await Deno.remove(join(root, RUNS_ROOTS)).catch(gone);
    await Deno.remove(join(root, "knot.json")).catch(gone);
    await Deno.remove(root, { recursive: true }).catch(gone);
  }

  /**
   * Asks each process that runs one of the knot's runs to cancel it, saying
   * the knot was clobbered, and waits until every one has let go of its run
   * (its workers stopped, its records written), so that none goes on running
   * items, or writes, in a directory being removed.
   */
  async #stopOthersRuns(roots: string[]): Promise<void> {
    const live: RunDir[] = [];
    for (const runs of roots.map((root) => join(root, "runs"))) {
      for (const entry of await Array.fromAsync(Deno.readDir(runs)).catch(() => [])) {
        if (!entry.isDirectory || !isRunName(entry.name)) continue;
        const run = await RunDir.openLive(join(runs, entry.name));
        if (run === undefined) continue;
        requestCancel(run.dir, clobberedReason(this.#o.knot));
        live.push(run);
      }
    }
    const waitMs = this.#o.clobberWaitMs ?? CLOBBER_WAIT_MS;
    const deadline = Date.now() + waitMs;
    for (const run of live) {
      while (run.isLive()) {
        if (Date.now() >= deadline) {
          // Not clobbered: the runs go on, and none ends saying its knot was.
          for (const asked of live) withdrawCancel(asked.dir, clobberedReason(this.#o.knot));
          const pid = run.driverPid();
          throw new CloudknotError(
            `Knot ${this.#o.knot} was not clobbered: the process that runs its run ` +
              `${basename(run.dir)}${pid === undefined ? "" : ` (pid ${pid})`} did not stop it ` +
              `within ${waitMs / 1000} s of being asked to cancel it. End that process, then ` +
              `clobber the knot again`,
          );
        }
        await sleep(FOLLOW_MS);
      }
    }
  }

  #listedRuns(): string[] {
    try {
      return Deno.readTextFileSync(join(this.#o.root, RUN_LIST)).split("\n").filter((l) => l);
    } catch {
      return [];
    }
  }
}

/** Whether the run folder `dir` has its manifest. */
function hasManifest(dir: string): boolean {
  try {
    return Deno.statSync(join(dir, RUN_FILES.manifest)).isFile;
  } catch {
    return false;
  }
}

/** Reports an ended attempt to the run's handle. */
function report(control: RunControl, a: EndedAttempt): void {
  const record = a.record ?? decodeEntry(a.bytes, a.index, a.attempt);
  if (a.final) control.settle(record);
  else if (record.status === "error") control.retrying(record);
}

/** Decodes a record; a damaged one becomes an infrastructure error. */
function decodeEntry(bytes: Uint8Array, index: number, attempt: number) {
  try {
    return decodeRecord(bytes);
  } catch (e) {
    return failureRecord(
      { index, attempt, jobId: "", kind: "infrastructure" },
      {
        ...errorToRecord(e),
        // The codec's advice is a caller's, of bytes it passed: this is a file on disk.
        message: `The record of item ${index} in the run's log is damaged (a disk fault, or the ` +
          `file was changed): ${(e as Error).message.replace(/; pass the bytes .*$/, "")}; a ` +
          `retry of the run runs the item again`,
      },
    );
  }
}

/**
 * What the error of an item that never ran (its run's process could not
 * start workers) says to do: collecting the run again runs it with the run's
 * function, as every finishing `collect()` runs an attempt that never ran; a
 * retry maps it in a new run with the knot's function of then (one mended and
 * created again), with other resources if those were the cause.
 */
function unstartedAdvice(knot: string, runId: string): string {
  return `once that is fixed, collect the run again (knot.collect("${runId}") of knot ${knot}) ` +
    `to run it with the same function, or, with a mended function the knot is created again ` +
    `with, map it again with ${retryAdvice(knot, runId)}`;
}

/** Settles items whose inputs could not be written. */
function settleUnwritten(
  control: RunControl,
  jobId: (index: number) => string,
  from: number,
  to: number,
  error: RunStoreError,
): void {
  for (let index = from; index < to; index++) {
    control.settle(failureRecord(
      { index, attempt: 1, jobId: jobId(index), kind: "infrastructure" },
      { name: error.name, message: error.message },
    ));
  }
}

async function* readLog(files: RunDir, index: number, attempt: number): AsyncGenerator<string> {
  yield* files.readOutput(index, attempt);
}

/** Cancels a run this process runs once another handle asks (`requestCancel`). */
function watchCancel(dir: string, run: MapRun<unknown>): void {
  const timer = setInterval(() => {
    const reason = requestedCancel(dir);
    if (reason === undefined) return;
    clearInterval(timer);
    void run.cancel(reason);
  }, FOLLOW_MS);
  // Only while the run keeps the process alive anyway.
  Deno.unrefTimer(timer);
  run.done.then(() => clearInterval(timer));
}

/** Writes cancellation records, so a later `collect` sees the items as cancelled. */
function saveCancelled(files: RunDir, records: ErrorRecord[]): void {
  if (!files.owned || records.length === 0) return;
  files.appendRecords(records.map((record) => ({
    index: record.index,
    attempt: record.attempt,
    kind: "cancelled",
    record: encodeRecord(record).bytes,
  })));
}

/** The resources of one pool: the knot's, or a group's. */
interface PoolResources {
  memoryMiB?: number;
  timeoutMs?: number;
}

/**
 * Runs a run's items on the knot's pool, then the items of each group with
 * resources of its own (a retry's `memory: "double"`, for example) on a pool
 * of its own, one group after another, so no more than `concurrency`
 * workers run at once.
 */
class GroupedPools {
  #groups: (PoolResources & { from: number; to: number; queued: number[] })[];
  #current: WorkerPool;
  #closed = Promise.withResolvers<void>();
  #cancelled = false;
  /** Resolves when every pool is done. */
  readonly done: Promise<void>;

  constructor(manifest: LocalRunManifest, make: (resources: PoolResources) => WorkerPool) {
    this.#groups = (manifest.groups ?? []).map((g) => {
      const timeout = g.resources.timeout;
      const memoryMiB = g.resources.memory ?? manifest.memoryMiB;
      const timeoutMs = timeout !== undefined ? timeout * 1000 : manifest.timeoutMs;
      return {
        from: g.offset,
        to: g.offset + g.size,
        queued: [],
        ...(memoryMiB !== undefined ? { memoryMiB } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      };
    });
    this.#current = make({
      ...(manifest.memoryMiB !== undefined ? { memoryMiB: manifest.memoryMiB } : {}),
      ...(manifest.timeoutMs !== undefined ? { timeoutMs: manifest.timeoutMs } : {}),
    });
    this.done = this.#closed.promise.then(async () => {
      await this.#current.done;
      for (const group of this.#groups) {
        if (this.#cancelled || group.queued.length === 0) continue;
        this.#current = make(group);
        for (let k = 0; k < group.queued.length; k += 2) {
          this.#current.add(group.queued[k]!, group.queued[k + 1]!);
        }
        this.#current.close();
        await this.#current.done;
      }
    });
  }

  /** The attempts running now (see {@linkcode WorkerPool.running}). */
  running(): RunningAttempt[] {
    return this.#current.running();
  }

  /** Adds one attempt of an item. */
  add(index: number, attempt = 1): void {
    const group = this.#groups.find((g) => index >= g.from && index < g.to);
    if (group !== undefined) group.queued.push(index, attempt);
    else this.#current.add(index, attempt);
  }

  /** Adds the first attempt of items `from` to `to - 1`. */
  addRange(from: number, to: number): void {
    if (this.#groups.length === 0) this.#current.addRange(from, to);
    else for (let i = from; i < to; i++) this.add(i);
  }

  /** No more items will be added. */
  close(): void {
    this.#current.close();
    this.#closed.resolve();
  }

  /** Stops every pool: the running one is cancelled, the others never start. */
  cancel(reason: string): void {
    this.#cancelled = true;
    this.#current.cancel(reason);
    this.#closed.resolve();
  }
}

/** Every record in a run's log, for its usage. */
async function readRecords(dir: string, knot: string, runId: string): Promise<JobRecord[]> {
  const opened = await RunDir.open(dir);
  if (opened === undefined) throw new RunDataGoneError(knot, runId, dir);
  const records: JobRecord[] = [];
  try {
    opened.run.scanRecords(0, (e) => records.push(decodeEntry(e.record, e.index, e.attempt)));
  } finally {
    opened.run.close();
  }
  return records;
}
