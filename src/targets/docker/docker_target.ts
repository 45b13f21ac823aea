/**
 * The docker target: runs a knot's image on the local Docker engine with the
 * job contract of AWS Batch, so what will run on Batch can be tried here
 * first. Each attempt of each item is one container, started with the
 * command and environment a Batch array child gets (`batch/command.ts`):
 * `--run file://<run directory> --offset 0`, `AWS_BATCH_JOB_ARRAY_INDEX`,
 * `AWS_BATCH_JOB_ATTEMPT`, `AWS_BATCH_JOB_ID` and `CLOUDKNOT_TIMEOUT`. The
 * run's directory (private, under the knot's) holds the payload in the
 * layout a job reads on Batch, and is bind-mounted at the same path, so the
 * job writes its stamped records there as it would to S3.
 *
 * The containers are the run's state: they are labelled with the knot and
 * the run, and each one's output is kept as its attempt's log file before it
 * is removed. A run outlives its process: another process's `collect()`
 * takes the run's lock once it is free, waits for the containers still
 * running, and runs each unfinished item's next attempt.
 *
 * @module
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { JobDetail } from "../../aws/services/batch.ts";
import type { Estimate } from "../../cost/estimate.ts";
import { estimateRun } from "../../cost/estimate.ts";
import type { Docker } from "../../docker/docker.ts";
import { localRunUsage } from "../local/run_usage.ts";
import {
  INDEX_ENTRY_BYTES,
  listRecords,
  readManifest,
  RUN_KEYS,
  type RunManifest,
  writePayload,
} from "../../job/payload.ts";
import { mayHoldItems, readRecords } from "../../job/record_segment.ts";
import { encodeRecord, type ErrorRecord, failureRecord, type JobRecord } from "../../job/record.ts";
import { MapRun, type MapRunOptions, type RunControl } from "../../run/map_run.ts";
import { Plan } from "../../plan/plan.ts";
import { LocalStore } from "../../store/local.ts";
import { ensurePrivateDir } from "../../store/private_dir.ts";
import { CloudknotInputError } from "../../util/errors.ts";
import { errorToRecord } from "../../job/error_record.ts";
import { CommandTimeoutError } from "../../util/command_limit.ts";
import { forEachPooled } from "../../util/pooled.ts";
import { sleep } from "../../util/sleep.ts";
import { jobCommand } from "../aws/batch/command.ts";
import { batchFailureRecord, withBatchDetails } from "../aws/batch/failure.ts";
import { resubmitRequest, withEarlierResults } from "../resubmit.ts";
import { readRunManifests } from "../run_manifests.ts";
import { type MapRequest, newRunId, requestItems, type Target } from "../target.ts";

/** The labels of a docker knot's containers. */
export const CONTAINER_LABELS = {
  /** The knot's directory: it tells knots of the same name apart. */
  knot: "org.cloudknot.knot-dir",
  /** The run's id. */
  run: "org.cloudknot.run",
  /** The item's index. */
  index: "org.cloudknot.index",
  /** The attempt. */
  attempt: "org.cloudknot.attempt",
} as const;

/** What Batch says of a container the kernel killed for memory (and so does this target). */
const OOM_REASON = "OutOfMemoryError: Container killed due to memory usage";
/** How often a follower looks at a run another process drives, in milliseconds. */
const FOLLOW_MS = 200;

/** Options for a {@linkcode DockerTarget}. */
export interface DockerTargetOptions {
  /** The knot's name. */
  knot: string;
  /** The knot's directory; its runs go under `runs/<runId>`. */
  root: string;
  /** The knot's image, as built locally. */
  image: string;
  /** Containers at once. */
  concurrency: number;
  /** Attempts per item. */
  attempts: number;
  /** Seconds an attempt may run (`CLOUDKNOT_TIMEOUT`). */
  timeout?: number;
  /** Each container's memory limit, MiB, with no swap. */
  memory?: number;
  /** Each container's CPUs. */
  vcpus?: number;
  /** The containers' network. @default {"bridge"} */
  network?: string;
  /** The docker driver. */
  docker: Docker;
}

/** A docker run's manifest: the job contract's, plus what its containers get. */
export interface DockerRunManifest extends RunManifest {
  /** The image, limits and network every attempt of the run gets. */
  container: {
    image: string;
    network: string;
    memory?: number;
    vcpus?: number;
    timeout?: number;
  };
}

/** One item to drive: its next attempt, and the container of that attempt when one exists. */
interface Work {
  index: number;
  attempt: number;
  container?: string;
}

/** A run being driven or followed in this process. */
interface RunState {
  manifest: DockerRunManifest;
  dir: string;
  store: LocalStore;
  control: RunControl;
  /** Stops starting attempts (a cancel). */
  stop: AbortController;
  /** The attempts under way in this process, when it drives the run. */
  driving?: Promise<void>;
}

/**
 * Runs a knot's items as containers on the local Docker engine.
 *
 * @example Usage
 * ```ts ignore
 * import { DockerTarget } from "./docker_target.ts";
 *
 * const target = new DockerTarget({ knot: "k", root, image: "cloudknot/k-docker:local", concurrency: 2, attempts: 3, docker: new Docker() });
 * const run = await target.map({ items, starmap: false, env: {} });
 * ```
 */
export class DockerTarget implements Target {
  /** Which target this is. */
  readonly kind = "docker" as const;
  #o: DockerTargetOptions;

  /**
   * Makes a docker target.
   *
   * @param options The knot, its image and the containers' limits.
   */
  constructor(options: DockerTargetOptions) {
    this.#o = options;
  }

  #runDir(runId: string): string {
    return join(this.#o.root, "runs", runId);
  }

  /**
   * Starts a run: writes its payload to a private directory, then starts
   * its containers, at most `concurrency` at once. Resolves once the run is
   * written.
   */
  async map<T>(request: MapRequest): Promise<MapRun<T>> {
    const o = this.#o;
    const items = await requestItems(request.items);
    const runId = newRunId();
    const info = { knot: o.knot, runId, target: "docker" as const, attempts: o.attempts };
    if (items.length === 0) {
      return MapRun.create<T>({ ...info, total: 0 }, { jobId: (i) => `${runId}:${i}` }).run;
    }
    const manifest: DockerRunManifest = {
      version: 1,
      runId,
      knot: o.knot,
      count: items.length,
      starmap: request.starmap,
      createdAt: Date.now(),
      attempts: o.attempts,
      env: { ...request.env },
      container: {
        image: o.image,
        network: o.network ?? "bridge",
        ...(o.memory !== undefined ? { memory: o.memory } : {}),
        ...(o.vcpus !== undefined ? { vcpus: o.vcpus } : {}),
        ...(o.timeout !== undefined ? { timeout: o.timeout } : {}),
      },
      ...(request.groups !== undefined ? { groups: request.groups } : {}),
      ...(request.retryOf !== undefined ? { retryOf: request.retryOf } : {}),
    };
    await ensurePrivateDir(join(o.root, "runs"));
    const dir = this.#runDir(runId);
    await ensurePrivateDir(dir);
    const lock = takeLock(dir)!;
    const store = new LocalStore(dir);
    await writePayload(store, items, manifest);
    const state = this.#open<T>(dir, store, manifest);
    const abort = () => state.run.cancel(String(request.signal?.reason ?? "The run was cancelled"));
    request.signal?.addEventListener("abort", abort, { once: true });
    if (request.signal?.aborted) abort();
    const work = Array.from({ length: items.length }, (_, index) => ({ index, attempt: 1 }));
    state.control.track(
      this.#drive(state, work).finally(() => {
        request.signal?.removeEventListener("abort", abort);
        lock.close();
      }),
    );
    return state.run;
  }

  /** Makes the handle of a run, with this target's hooks. */
  #open<T>(
    dir: string,
    store: LocalStore,
    manifest: DockerRunManifest,
  ): RunState & { run: MapRun<T> } {
    const stop = new AbortController();
    const { run, control } = MapRun.create<T>({
      knot: manifest.knot,
      runId: manifest.runId,
      target: "docker",
      total: manifest.count,
      attempts: manifest.attempts,
      ...(manifest.retryOf !== undefined ? { retryOf: manifest.retryOf } : {}),
    }, {
      ...this.#hooks(dir, store, manifest),
      jobId: (index) => `${manifest.runId}:${index}`,
      startedAt: manifest.createdAt,
      onCancel: async () => {
        stop.abort();
        await this.#kill({ [CONTAINER_LABELS.run]: manifest.runId });
        await state.driving;
      },
      saveCancelled: async (records) => {
        for (const record of records) await saveRecord(store, record);
      },
      logs: (index, attempt) => this.#logs(dir, manifest.runId, index, attempt),
    });
    const state: RunState & { run: MapRun<T> } = { manifest, dir, store, control, stop, run };
    return state;
  }

  /** Runs each item's attempts until its final record, `concurrency` containers at once. */
  #drive(state: RunState, work: Work[]): Promise<void> {
    state.driving = forEachPooled(
      work,
      this.#o.concurrency,
      (w) => this.#item(state, w),
      { signal: state.stop.signal },
    ).then(() => {});
    return state.driving;
  }

  /** Runs one item's attempts, from `w.attempt` (adopting `w.container`), until its final record. */
  async #item(state: RunState, w: Work): Promise<void> {
    const { manifest, control, stop } = state;
    const jobId = `${manifest.runId}:${w.index}`;
    let attempt = w.attempt;
    let container = w.container;
    try {
      while (!stop.signal.aborted) {
        control.started(w.index, attempt, jobId);
        const record = await this.#attempt(state, w.index, attempt, container);
        if (record === undefined || stop.signal.aborted) return;
        const final = record.status === "ok" || record.kind === "cancelled" ||
          attempt >= manifest.attempts;
        if (final) return control.settle(record);
        control.retrying(record as ErrorRecord);
        attempt++;
        container = undefined;
      }
    } catch (e) {
      // Docker or the run's directory failed under the item: it ends with that error.
      control.settle(failureRecord(
        { index: w.index, attempt, jobId, kind: "infrastructure" },
        errorToRecord(e),
      ));
    }
  }

  /**
   * Runs one attempt in a container (or waits for the one already running)
   * and returns its record: the one the job wrote, or, when it wrote none,
   * the failure Batch would report, which is saved to the run's store.
   * `undefined` when the run was cancelled meanwhile.
   */
  async #attempt(
    state: RunState,
    index: number,
    attempt: number,
    running?: string,
  ): Promise<JobRecord | undefined> {
    const { manifest, dir, store } = state;
    const docker = this.#o.docker;
    const name = running ?? containerName(manifest.runId, index, attempt);
    const jobId = `${manifest.runId}:${index}`;
    if (running === undefined) {
      const limits = resourcesOf(manifest, index);
      try {
        await docker.run(manifest.container.image, {
          detach: true,
          rm: false,
          // The container's id is all docker says here; the job's output goes to its log file.
          logger: () => {},
          name,
          labels: {
            [CONTAINER_LABELS.knot]: this.#o.root,
            [CONTAINER_LABELS.run]: manifest.runId,
            [CONTAINER_LABELS.index]: String(index),
            [CONTAINER_LABELS.attempt]: String(attempt),
          },
          mounts: [{ type: "bind", source: dir, target: dir }],
          network: manifest.container.network,
          ...(hostUser() !== undefined ? { user: hostUser() } : {}),
          ...(limits.memory !== undefined
            ? { memory: limits.memory, memorySwap: limits.memory }
            : {}),
          ...(limits.vcpus !== undefined ? { cpus: limits.vcpus } : {}),
          env: {
            ...manifest.env,
            // The map's variables, which the job entry lets the function's worker read.
            CLOUDKNOT_ENV_NAMES: Object.keys(manifest.env ?? {}).join(","),
            AWS_BATCH_JOB_ARRAY_INDEX: String(index),
            AWS_BATCH_JOB_ATTEMPT: String(attempt),
            AWS_BATCH_JOB_ID: jobId,
            ...(limits.timeout !== undefined ? { CLOUDKNOT_TIMEOUT: String(limits.timeout) } : {}),
          },
          // The child command of a Batch array job whose first item is 0.
          command: jobCommand({
            run: pathToFileURL(dir).href,
            offset: 0,
            starmap: manifest.starmap,
          }),
        });
      } catch (e) {
        if (!/already in use/.test(String(e))) {
          // The container could not start: as Batch's CannotStartContainerError.
          await docker.removeContainer(name, { force: true, missingOk: true }).catch(() => {});
          if (state.stop.signal.aborted) return undefined;
          const record = failureRecord(
            { index, attempt, jobId, kind: "infrastructure" },
            {
              name: "JobFailedError",
              message: `Docker container ${name} attempt ${attempt} could not start: ${
                (e as Error).message
              }`,
            },
          );
          record.statusReason = `CannotStartContainerError: ${(e as Error).message}`;
          await saveRecord(store, record);
          return record;
        }
        // Another process started this attempt: wait for it as for our own.
      }
      // A cancel that listed the running containers before this one started.
      if (state.stop.signal.aborted) await docker.command(["kill", name]).catch(() => {});
    }
    const exitCode = await this.#wait(name);
    const inspected = await docker.inspectContainer(name).catch(() => undefined);
    const logFile = await this.#keepLog(dir, name, index, attempt);
    if (state.stop.signal.aborted) {
      await docker.removeContainer(name, { force: true, missingOk: true }).catch(() => {});
      return undefined;
    }
    const oom = inspected?.State.OOMKilled === true;
    const code = inspected?.State.ExitCode ?? exitCode;
    const limits = resourcesOf(manifest, index);
    // What DescribeJobs says of the attempt, so its details and errors are Batch's.
    const job = {
      jobId: name,
      jobName: name,
      jobQueue: "docker",
      jobDefinition: manifest.container.image,
      status: "FAILED",
      ...(limits.memory !== undefined
        ? { container: { resourceRequirements: [{ type: "MEMORY", value: `${limits.memory}` }] } }
        : {}),
      attempts: [
        ...Array.from({ length: attempt - 1 }, () => ({})),
        {
          container: {
            ...(code !== undefined && !Number.isNaN(code) ? { exitCode: code } : {}),
            ...(oom ? { reason: OOM_REASON } : {}),
            logStreamName: logFile,
          },
          statusReason: "Essential container in task exited",
          ...(epoch(inspected?.State.StartedAt) !== undefined
            ? { startedAt: epoch(inspected?.State.StartedAt)! }
            : {}),
          stoppedAt: epoch(inspected?.State.FinishedAt) ?? Date.now(),
        },
      ],
    } as JobDetail;
    const written = await findRecord(store, index, attempt);
    let record: JobRecord;
    if (written !== undefined) {
      record = withBatchDetails(written.record, job);
      // Kept with the record, as Batch keeps them for DescribeJobs: the container goes.
      // (A segment holds other items' records too: it is left as the job wrote it.)
      if (record !== written.record && written.key !== undefined) {
        await store.put(written.key, encodeRecord(record).bytes);
      }
    } else {
      record = {
        ...batchFailureRecord(job, { index, attempt, runner: "Docker container" }),
        jobId,
      };
      await saveRecord(store, record);
    }
    await docker.removeContainer(name, { force: true, missingOk: true });
    return record;
  }

  /**
   * Waits for a container to exit, however long its attempt runs, and
   * returns its exit code; `undefined` when it is gone (a cancel, a clobber,
   * or another process finished it).
   */
  async #wait(name: string): Promise<number | undefined> {
    for (;;) {
      try {
        // Each wait is one docker call under the driver's time limit; an attempt may run longer.
        const { stdout } = await this.#o.docker.command(["wait", name]);
        return Number(stdout.trim());
      } catch (e) {
        if (!(e instanceof CommandTimeoutError)) return undefined;
      }
    }
  }

  /**
   * Keeps a container's output as its attempt's log file (once: a file
   * already there stays) and returns the file's path.
   */
  async #keepLog(dir: string, name: string, index: number, attempt: number): Promise<string> {
    const logFile = join(dir, "logs", `${index}-${attempt}.log`);
    if (await Deno.stat(logFile).then(() => true, () => false)) return logFile;
    const output = await this.#o.docker.command(["logs", name]).catch(() => undefined);
    if (output !== undefined) {
      await Deno.mkdir(join(dir, "logs"), { recursive: true, mode: 0o700 });
      await Deno.writeTextFile(logFile, output.stdout + output.stderr, { mode: 0o600 });
    }
    return logFile;
  }

  /** Kills the containers with these labels (of this knot). */
  async #kill(labels: Record<string, string>): Promise<void> {
    const ids = await this.#containers(labels, { running: true });
    if (ids.length > 0) {
      await this.#o.docker.command(["kill", ...ids.map((c) => c.name)]).catch(() => {});
    }
  }

  /** This knot's containers with these labels: name, item and attempt. */
  async #containers(
    labels: Record<string, string>,
    options: { running?: boolean } = {},
  ): Promise<{ name: string; index: number; attempt: number }[]> {
    const args = ["ps", "--no-trunc", ...(options.running ? [] : ["--all"])];
    for (
      const [key, value] of Object.entries({ [CONTAINER_LABELS.knot]: this.#o.root, ...labels })
    ) {
      args.push("--filter", `label=${key}=${value}`);
    }
    args.push(
      "--format",
      `{{.Names}}\t{{.Label "${CONTAINER_LABELS.index}"}}\t{{.Label "${CONTAINER_LABELS.attempt}"}}`,
    );
    const { stdout } = await this.#o.docker.command(args);
    return stdout.split("\n").filter((l) => l.trim() !== "").map((line) => {
      const [name, index, attempt] = line.split("\t");
      return { name: name!, index: Number(index), attempt: Number(attempt) };
    });
  }

  /**
   * Re-opens an earlier run, from any process. While the process that
   * drives it lives, it is followed through its records; once that process
   * is gone, this one drives it: it waits for the containers still running
   * and runs each unfinished item's next attempt. `signal` stops following;
   * with `finish: false` the run is only read and followed, never driven,
   * for commands that only look.
   */
  async collect<T>(
    runId: string,
    options: { signal?: AbortSignal; finish?: boolean } = {},
  ): Promise<MapRun<T>> {
    const run = await this.#collectOne<T>(runId, options);
    return await withEarlierResults(run, (id) => this.collect<T>(id, options));
  }

  async #collectOne<T>(
    runId: string,
    options: { signal?: AbortSignal; finish?: boolean },
  ): Promise<MapRun<T>> {
    const dir = this.#runDir(runId);
    const store = new LocalStore(dir);
    const manifest = await readManifest(store).catch(() => undefined) as
      | DockerRunManifest
      | undefined;
    if (manifest === undefined) {
      throw new CloudknotInputError(
        `Knot ${this.#o.knot} has no docker run ${runId}: list its runs with knot.runs()`,
        { field: "runId" },
      );
    }
    const state = this.#open<T>(dir, store, manifest);
    const { run, control } = state;
    const seen = new Set<string>();
    /** The last attempt recorded of each item that has not ended. */
    const tried = new Map<number, number>();
    const read = async () => {
      for await (const key of listRecords(store)) {
        if (seen.has(key.key)) continue;
        const records = await readRecords(store, key);
        if (records.length === 0) continue;
        seen.add(key.key);
        for (const record of records) settle(record);
      }
    };
    const settle = (record: JobRecord) => {
      const final = record.status === "ok" || record.kind === "cancelled" ||
        record.attempt >= manifest.attempts;
      if (final) {
        tried.delete(record.index);
        control.settle(record);
      } else if (!control.isSettled(record.index)) {
        tried.set(record.index, Math.max(tried.get(record.index) ?? 0, record.attempt));
        control.retrying(record as ErrorRecord);
      }
    };
    await read();
    const signal = options.signal;
    const work = (async () => {
      while (!run.finished && !signal?.aborted) {
        const lock = options.finish === false ? undefined : takeLock(dir);
        if (lock === undefined) {
          await sleep(FOLLOW_MS, signal).catch(() => {});
          await read();
          continue;
        }
        try {
          await read();
          const containers = await this.#containers({ [CONTAINER_LABELS.run]: runId });
          const items: Work[] = [];
          const adopted = new Set<string>();
          for (let index = 0; index < manifest.count; index++) {
            if (control.isSettled(index)) continue;
            const next = (tried.get(index) ?? 0) + 1;
            const own = containers.filter((c) => c.index === index && c.attempt >= next)
              .sort((a, b) => b.attempt - a.attempt)[0];
            if (own !== undefined) adopted.add(own.name);
            items.push(
              own ? { index, attempt: own.attempt, container: own.name } : {
                index,
                attempt: next,
              },
            );
          }
          // The containers of attempts already recorded: their output is kept, then they go.
          for (const c of containers.filter((c) => !adopted.has(c.name))) {
            await this.#keepLog(dir, c.name, c.index, c.attempt);
            await this.#o.docker.removeContainer(c.name, { force: true, missingOk: true });
          }
          await this.#drive(state, items);
        } finally {
          lock.close();
        }
        return;
      }
    })();
    control.track(work);
    return run;
  }

  /** The knot's runs that still have their data, oldest first. */
  runs(): Promise<DockerRunManifest[]> {
    return readRunManifests(
      join(this.#o.root, "runs"),
      (dir) =>
        readManifest(new LocalStore(dir)).then((m) => m as DockerRunManifest, () => undefined),
    );
  }

  /** What `map(request)` would write and run, with nothing done; `itemSeconds` adds an estimate. */
  async plan(request: MapRequest, options: { itemSeconds?: number } = {}): Promise<Plan> {
    const o = this.#o;
    const items = await requestItems(request.items);
    const count = items.length;
    const run = join(o.root, "runs", "<run id>");
    return new Plan({
      title: `Map ${count} items on knot ${o.knot} (docker)`,
      steps: [
        {
          action: "write",
          kind: "file",
          name: join(run, RUN_KEYS.inputs),
          details: { bytes: items.reduce((n, b) => n + b.byteLength, 0) },
        },
        {
          action: "write",
          kind: "file",
          name: join(run, RUN_KEYS.index),
          details: { bytes: count * INDEX_ENTRY_BYTES },
        },
        {
          action: "run",
          kind: "containers",
          name: o.image,
          details: {
            items: count,
            "at once": Math.min(o.concurrency, count),
            attempts: o.attempts,
            ...(o.memory !== undefined ? { "memory MiB": o.memory } : {}),
            ...(o.vcpus !== undefined ? { vcpus: o.vcpus } : {}),
            ...(o.timeout !== undefined ? { timeout: o.timeout } : {}),
          },
        },
      ],
      ...(options.itemSeconds !== undefined && count > 0
        ? { estimate: await this.estimate(count, { itemSeconds: options.itemSeconds }) }
        : {}),
    });
  }

  /** An estimate of a run on this machine: its duration on `concurrency` containers, its CPU-hours. */
  estimate(count: number, options: { itemSeconds: number }): Promise<Estimate> {
    return Promise.resolve(
      estimateRun({
        target: "local",
        count,
        itemSeconds: options.itemSeconds,
        concurrency: this.#o.concurrency,
      }),
    );
  }

  /** What a run's handle asks its target: its attempts' usage, and a retry. */
  #hooks(
    dir: string,
    store: LocalStore,
    manifest: DockerRunManifest,
  ): Pick<MapRunOptions, "usage" | "resubmit"> {
    return {
      // CPU-seconds on this machine, as the local target counts them.
      usage: async () => {
        const records: JobRecord[] = [];
        for await (const key of listRecords(store)) {
          records.push(...await readRecords(store, key));
        }
        return localRunUsage(
          records,
          manifest,
          manifest.container.memory !== undefined ? { memory: manifest.container.memory } : {},
        );
      },
      resubmit: async (request) =>
        this.map(await resubmitRequest(new LocalStore(dir), manifest, request)),
    };
  }

  /** One attempt's output: its log file, or the running container's output so far. */
  async *#logs(dir: string, runId: string, index: number, attempt: number): AsyncGenerator<string> {
    let text: string;
    try {
      text = await Deno.readTextFile(join(dir, "logs", `${index}-${attempt}.log`));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      const { stdout, stderr } = await this.#o.docker.command([
        "logs",
        containerName(runId, index, attempt),
      ]).catch(() => ({ stdout: "", stderr: "" }));
      text = stdout + stderr;
    }
    const lines = text.split("\n");
    if (lines.at(-1) === "") lines.pop();
    yield* lines;
  }

  /**
   * A docker knot's jobs are containers that exist only while they run: this
   * rejects, saying to use its runs instead.
   */
  jobIds(): Promise<never> {
    return Promise.reject(
      new CloudknotInputError(
        `Knot ${this.#o.knot} runs on the local Docker engine, where each attempt is a ` +
          `container removed once its output is kept, not an AWS Batch job: list its runs with ` +
          `knot.runs(), collect one with knot.collect(runId), and read an item's output with ` +
          `run.logs(i)`,
      ),
    );
  }

  /** As {@linkcode DockerTarget.jobIds}: this rejects, saying to use the knot's runs. */
  jobs(): Promise<never> {
    return this.jobIds();
  }

  /** A docker knot has no AWS Batch jobs: this rejects, saying to map one item instead. */
  submit(): Promise<never> {
    return Promise.reject(
      new CloudknotInputError(
        `Knot ${this.#o.knot} runs on the local Docker engine, where there are no AWS Batch ` +
          `jobs to submit: run one item with const run = await knot.map([input]) and await ` +
          `run.item(0)`,
      ),
    );
  }

  /** A docker knot has no AWS Batch jobs: this rejects, saying to print a run instead. */
  viewJobs(): Promise<never> {
    return Promise.reject(
      new CloudknotInputError(
        `Knot ${this.#o.knot} runs on the local Docker engine: print a run (console.log(run)) ` +
          `to see its items, one container per attempt`,
      ),
    );
  }

  /** Removes the knot's containers, its image and its directory (its record and runs). */
  async clobber(): Promise<void> {
    const docker = this.#o.docker;
    const containers = await this.#containers({});
    await docker.removeContainer(containers.map((c) => c.name), { force: true, missingOk: true });
    await docker.removeImage(this.#o.image, { force: true, missingOk: true });
    await Deno.remove(this.#o.root, { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
}

/** A container's name: the run, the item and the attempt, so an attempt starts at most once. */
function containerName(runId: string, index: number, attempt: number): string {
  return `cloudknot-${runId}-${index}-${attempt}`;
}

/** The memory, CPUs and timeout of an item: its group's (a retry's), else the run's. */
function resourcesOf(
  manifest: DockerRunManifest,
  index: number,
): { memory?: number; vcpus?: number; timeout?: number } {
  const own = manifest.groups?.find((g) => index >= g.offset && index < g.offset + g.size)
    ?.resources;
  const { memory, vcpus, timeout } = { ...manifest.container, ...own };
  return {
    ...(memory !== undefined ? { memory } : {}),
    ...(vcpus !== undefined ? { vcpus } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
  };
}

/** This user, so what the job writes in the bind-mounted run directory is the user's. */
function hostUser(): string | undefined {
  const uid = Deno.uid();
  const gid = Deno.gid();
  return uid === null || gid === null ? undefined : `${uid}:${gid}`;
}

/** The run's lock, held by whoever drives it; `undefined` when another process holds it. */
function takeLock(dir: string): Deno.FsFile | undefined {
  const file = Deno.openSync(join(dir, "lock"), {
    read: true,
    write: true,
    create: true,
    mode: 0o600,
  });
  if (file.tryLockSync(true)) return file;
  file.close();
  return undefined;
}

/**
 * The record one attempt of one item wrote, if it wrote one, and its key
 * when it has one of its own (not a segment's).
 */
async function findRecord(
  store: LocalStore,
  index: number,
  attempt: number,
): Promise<{ key?: string; record: JobRecord } | undefined> {
  for await (const key of listRecords(store)) {
    if (key.attempt !== attempt || !mayHoldItems(key, index, index + 1)) continue;
    const record = (await readRecords(store, key)).find((r) => r.index === index);
    if (record !== undefined) {
      return key.segment === undefined ? { key: key.key, record } : { record };
    }
  }
  return undefined;
}

/** Saves a record the target made, at the key a job would have written it. */
async function saveRecord(store: LocalStore, record: JobRecord): Promise<void> {
  await store.put(
    RUN_KEYS.stampedRecord(Date.now(), record.index, record.attempt),
    encodeRecord(record).bytes,
  );
}

/** Docker's time, in epoch milliseconds; `undefined` for its zero time. */
function epoch(time: string | undefined): number | undefined {
  if (time === undefined || time.startsWith("0001-")) return undefined;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms;
}
