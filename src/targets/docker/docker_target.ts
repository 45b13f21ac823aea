/**
 * The docker target: runs a knot's image on the local Docker engine with the
 * job contract of AWS Batch, so what will run on Batch can be tried here
 * first. A run is cut into slices as on AWS (`itemsPerJob`), and each
 * attempt of each slice is one container, started with the command and
 * environment a Batch array child of that slice gets (`batch/command.ts`):
 * `--run file://<run directory> --offset N [--slice S --end E --concurrency
 * C]`, `AWS_BATCH_JOB_ARRAY_INDEX`, `AWS_BATCH_JOB_ATTEMPT`,
 * `AWS_BATCH_JOB_ID`, `CLOUDKNOT_TIMEOUT` and the knot's
 * `CLOUDKNOT_PERMISSIONS`. The run's directory (private, under the knot's)
 * holds the payload in the layout a job reads on Batch, and is bind-mounted
 * at the same path, so the job writes its stamped records there as it would
 * to S3. A failed slice is retried as Batch retries a child: its next
 * attempt skips the items already recorded as succeeded.
 *
 * The containers are the run's state: they are labelled with the knot, the
 * run and the slice, and each one's output is kept as its attempt's log file
 * before it is removed. A run outlives its process: another process's
 * `collect()` takes the run's lock once it is free, waits for the containers
 * still running, starts the ones created but never started, records what
 * those that ended meanwhile left unrecorded, and runs each unfinished
 * slice's next attempt.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { JobDetail } from "../../aws/services/batch.ts";
import type { Estimate } from "../../cost/estimate.ts";
import type { Docker } from "../../docker/docker.ts";
import { DockerCommandError } from "../../docker/errors.ts";
import { localRunUsage } from "../local/run_usage.ts";
import { FollowedRunning } from "../local/running_file.ts";
import { isDiskRefusal } from "../local/errors.ts";
import { checkContainerEnv } from "../../job/container_env.ts";
import {
  listRecords,
  readManifest,
  RUN_KEYS,
  type RunManifest,
  writeManifest,
} from "../../job/payload.ts";
import { DEFAULT_PERMISSIONS, type Permissions, permissionsText } from "../../job/permissions.ts";
import {
  CLOBBERING_KNOT,
  holdingKnot,
  KNOT_LOCK_FILE,
  knotBusyNotice,
  whileKnotGone,
} from "../../store/knot_lock.ts";
import type { RunningAttempt } from "../../job/pool.ts";
import { itemLine } from "../../job/item_log.ts";
import { KNOT_ENV, RUN_ID_ENV } from "../../job/retry_advice.ts";
import { NO_COLOR_ENV } from "../../job/no_color.ts";
import { mayHoldItems, readRecords } from "../../job/record_segment.ts";
import {
  encodeRecord,
  type ErrorRecord,
  failsEveryAttempt,
  failureRecord,
  type JobRecord,
} from "../../job/record.ts";
import {
  MapRun,
  type MapRunOptions,
  type RunControl,
  type Unconfirmed,
} from "../../run/map_run.ts";
import type { Plan } from "../../plan/plan.ts";
import { LocalStore } from "../../store/local.ts";
import { ensurePrivateDir } from "../../store/private_dir.ts";
import { DOCKER_CONTAINER_LABELS, markClobber, RUN_LOCK_FILES } from "../../store/local_knots.ts";
import { CloudknotError, CloudknotInputError } from "../../util/errors.ts";
import { errorToRecord } from "../../job/error_record.ts";
import { CommandTimeoutError } from "../../util/command_limit.ts";
import { pathExists } from "../../util/read_text.ts";
import { writeTextAtomically } from "../../util/write_text.ts";
import { defined } from "../../util/defined.ts";
import { forEachPooled } from "../../util/pooled.ts";
import { sleep } from "../../util/sleep.ts";
import { jobCommand } from "../aws/batch/command.ts";
import { batchFailureRecord, withBatchDetails, withLogOutOfMemory } from "../aws/batch/failure.ts";
import { childCount, childItems } from "../aws/batch/slices.ts";
import { type GroupedJob, planGroups } from "../aws/groups.ts";
import { sliceRun } from "../../job/slicing.ts";
import { type CollectOptions, collectWhole, latestRetry, resubmitRequest } from "../resubmit.ts";
import { KNOT_CLOBBERED_ERROR, retryAdvice } from "../../job/retry_advice.ts";
import {
  type CancelReason,
  CLOBBERED_WHILE_RUNNING,
  isRunName,
  readRunManifests,
  requestCancel,
  requestedCancel,
  settleCancelled,
} from "../run_manifests.ts";
import type { ItemResources } from "../../run/retry.ts";
import { checkMachineResources } from "../machine_resources.ts";
import { type MapRequest, newRunId, type Target } from "../target.ts";
import { firstChunk, writeInputs } from "./run_inputs.ts";
import { refuseMissingNetwork } from "./knot_options.ts";
import { CLOBBERING_FILE } from "./catalog.ts";
import { thenSentence } from "../../util/sentence.ts";
import { itemsInWords, retryWaitWarning } from "../../util/item_words.ts";

/** The labels of a docker knot's containers (`store/local_knots.ts`). */
export const CONTAINER_LABELS: typeof DOCKER_CONTAINER_LABELS = DOCKER_CONTAINER_LABELS;

/** What Batch says of a container the kernel killed for memory (and so does this target). */
const OOM_REASON = "OutOfMemoryError: Container killed due to memory usage";
/** How often a follower looks at a run another process drives, in milliseconds. */
const FOLLOW_MS = 200;
/** The least time between two looks at a run's containers by a handle that follows it, in ms. */
const PS_EVERY_MS = 1000;
/** The lines at the end of a crashed slice's log read for V8's out-of-memory line. */
const LOG_TAIL_LINES = 50;
/** The folder of a run's directory that keeps what each attempt's container ended with. */
const ATTEMPT_DETAILS = "containers";

/** The record of a knot (`local/catalog.ts`), which a clobber removes after the rest. */
const KNOT_RECORD_FILE = "knot.json";

/** Options for a {@linkcode DockerTarget}. */
export interface DockerTargetOptions {
  /** The knot's name. */
  knot: string;
  /** The knot's directory; its runs go under `runs/<runId>`. */
  root: string;
  /** The knot's image, as built locally. */
  image: string;
  /**
   * The id of the image the knot was opened with, which its maps run while
   * Docker has it, even once another process has created the knot again with
   * another function and so moved `image` to that function's image. Without
   * it (or once Docker has it no more), and in a retry, a map runs the knot's
   * image now (`knotImage`, else `image`).
   */
  imageId?: string;
  /** Containers at once. */
  concurrency: number;
  /** Attempts per item. */
  attempts: number;
  /** Seconds an attempt may run (`CLOUDKNOT_TIMEOUT`). */
  timeout?: number;
  /** Each container's memory limit, MiB, with no swap. */
  memory?: number;
  /** Each container's CPUs, and so the items in flight in it (at least 1). */
  vcpus?: number;
  /** The containers' network. @default {"bridge"} */
  network?: string;
  /** What the function may do in its container (`job/permissions.ts`). @default {{ net: true }} */
  permissions?: Permissions;
  /** The docker driver. */
  docker: Docker;
  /**
   * The id of the knot's image now, for a retry and for a map whose own
   * image (`imageId`) is gone from Docker: the one `image` names, or built
   * again from the knot's build directory. For a map (`retry: false`) it
   * rejects when the knot has had another function since it was opened.
   * Without it, such a map runs the image `image` names, or rejects saying to
   * open the knot again.
   */
  knotImage?: (options: { retry: boolean }) => Promise<string>;
  /**
   * Where the target's warnings go (a retry that waits for a cancelled run's
   * containers still running). @default {console.warn}
   */
  warn?: (message: string) => void;
}

/** A docker run's manifest: the job contract's, plus what its containers get. */
export interface DockerRunManifest extends RunManifest {
  /** The image, limits, network and permissions every attempt of the run gets. */
  container: {
    /** The knot's image, by name. */
    image: string;
    /**
     * The image's id when the run started, which its containers run, so the
     * whole run runs one function even when the knot is created again with
     * another (runs recorded before: the image's name).
     */
    imageId?: string;
    network: string;
    /** Items in flight in one container (runs recorded before slices: 1). */
    concurrency?: number;
    /** The function's permissions (runs recorded before permissions: the default). */
    permissions?: Permissions;
    memory?: number;
    vcpus?: number;
    timeout?: number;
  };
}

/** How a docker run is collected: {@linkcode CollectOptions}, and a listing shared by several. */
export interface DockerCollectOptions extends CollectOptions {
  /**
   * The knot's containers that run now, by run id
   * ({@linkcode DockerTarget.runningContainers}), listed once for the runs
   * read together (`cloudknot knot show`): the run's first look takes its
   * own from there instead of asking Docker; later looks ask Docker.
   * Called only when no process drives the run. @default {undefined}
   */
  running?: () => Promise<ReadonlyMap<string, RunContainer[]>>;
}

/** One slice of a run: the items one Batch array child (or single job) runs. */
interface Child {
  /** Its job, as AWS would submit it (`aws/groups.ts`). */
  job: GroupedJob;
  /** Its array index in the job. */
  k: number;
  /** Its first item. */
  from: number;
  /** One past its last item. */
  to: number;
  /** Its job id, `<runId>:<k>` for the run's first array job. */
  jobId: string;
}

/** One slice to drive: its next attempt, and the container of that attempt when one exists. */
interface Work {
  child: Child;
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
  /**
   * Stops this process driving the run as a killed driver stops (the signal
   * of a reading that took the run over): it starts no container more, nor
   * waits for those that run, which go on for whoever drives the run next.
   */
  letGo?: AbortSignal;
  /** Cancels the run (its handle's `cancel`). */
  cancel(reason: CancelReason): Promise<void>;
  /** The attempts under way in this process, when it drives the run. */
  driving?: Promise<void>;
  /**
   * For a handle that follows the run: waits until no process drives it,
   * reading its records meanwhile (`collect()`); with `containers`, also
   * until no container of the run runs an item without an end, so that what
   * such a container records is the item's end here too.
   */
  followed?: (containers: boolean) => Promise<void>;
  /** The run was cancelled by another handle (its `cancel` file), not by this one. */
  cancelledElsewhere?: boolean;
  /**
   * This handle's cancel, from its start until its cancellations are saved:
   * a handle that drives the run lets go of the run's lock only then, so that
   * a process that takes the run over reads them instead of cancelling the
   * run again (and killing the containers this cancel left to end their items).
   */
  cancelling?: PromiseWithResolvers<void>;
  /** This handle holds the run's lock: it drives the run, or did until its cancel. */
  locked?: boolean;
  /** The run's slices, in item order. */
  children: Child[];
  /** Ends this process's waits for the containers a cancel could not kill. */
  giveUp: AbortController;
  /** The containers this process waits for now, by name, with their slices. */
  waiting: Map<string, Child>;
  /**
   * The containers a cancel could not kill, left running (they may still
   * record results), by name, with their slices.
   */
  unkilled: Map<string, Child>;
  /**
   * The containers whose output, or what they ended with, the disk refused to
   * keep in the run (full): left on Docker, holding the only copy of their
   * output until a process that takes the run over keeps it and removes them.
   */
  kept: Map<string, Child>;
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
   * Starts a run: writes its payload to a private directory, cuts it into
   * slices as AWS Batch children, then starts a container per slice, at
   * most `concurrency` at once. Resolves once the run is written.
   */
  map<T>(request: MapRequest): Promise<MapRun<T>> {
    return this.#map(request, {
      attempts: this.#o.attempts,
      permissions: this.#o.permissions ?? { ...DEFAULT_PERMISSIONS },
    });
  }

  /**
   * Starts a run with these attempts per item, whose function has these
   * permissions; with `resources` (a retry's: its run's), those containers'
   * limits instead of the knot's (a key given as `undefined` is no limit).
   */
  async #map<T>(
    request: MapRequest,
    run: {
      attempts: number;
      permissions: Permissions;
      resources?: Pick<DockerTargetOptions, "memory" | "vcpus" | "timeout">;
    },
  ): Promise<MapRun<T>> {
    // A signal aborted already: nothing is read or made (as fetch() does).
    request.signal?.throwIfAborted();
    checkContainerEnv(request.env);
    const { permissions } = run;
    const o = { ...this.#o, attempts: run.attempts, ...run.resources };
    const runId = newRunId();
    const info = { knot: o.knot, runId, target: "docker" as const, attempts: o.attempts };
    const chunks = await firstChunk(request.items, request.signal);
    if (chunks === undefined) {
      return MapRun.create<T>({ ...info, total: 0 }, { jobId: () => runId }).run;
    }
    // A network removed since the knot was opened: refused before anything is built or made.
    await refuseMissingNetwork(o.docker, o.network, o.knot);
    const imageId = await this.#ensureImage(request.retryOf !== undefined);
    await ensurePrivateDir(join(o.root, "runs"));
    const dir = this.#runDir(runId);
    await ensurePrivateDir(dir);
    const lock = takeLock(dir)!;
    // Its directory is made once: a clobber removes it for good.
    const store = new RunStore(dir);
    let manifest: DockerRunManifest;
    try {
      // The inputs go to disk as they are read; the manifest, last, makes the run one to read.
      const count = await writeInputs(dir, chunks);
      const slicing = dockerSlicing(o, count, request.itemsPerJob ?? "auto");
      manifest = {
        version: 1,
        runId,
        knot: o.knot,
        count,
        starmap: request.starmap,
        createdAt: Date.now(),
        attempts: o.attempts,
        env: { ...request.env },
        ...(slicing.slice > 1 ? { itemsPerJob: slicing.slice } : {}),
        container: {
          image: o.image,
          ...(imageId !== undefined ? { imageId } : {}),
          network: o.network ?? "bridge",
          concurrency: slicing.concurrency,
          permissions,
          ...defined({ memory: o.memory, vcpus: o.vcpus, timeout: o.timeout }),
        },
        ...(request.groups !== undefined ? { groups: request.groups } : {}),
        ...(request.retryOf !== undefined ? { retryOf: request.retryOf } : {}),
      };
      await writeManifest(store, manifest);
    } catch (e) {
      // Nothing ran: no part of the run is kept.
      lock.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw diskError(e, `write the inputs of docker run ${runId}`, dir, "map them again") ?? e;
    }
    const state = this.#open<T>(dir, store, manifest);
    const abort = () => state.run.cancel(String(request.signal?.reason ?? "The run was cancelled"));
    request.signal?.addEventListener("abort", abort, { once: true });
    if (request.signal?.aborted) abort();
    const work = state.children.map((child) => ({ child, attempt: 1 }));
    state.locked = true;
    state.control.track(
      this.#drive(state, work).then(() => cancelSaved(state)).finally(() => {
        request.signal?.removeEventListener("abort", abort);
        state.locked = false;
        lock.close();
      }),
    );
    return state.run;
  }

  /**
   * Makes sure the knot's image is on this engine before a run is written: one
   * removed since the knot was opened is built again (its containers never pull
   * it from a registry, where a name like it may be someone else's image).
   * Returns the image's id, which the run's containers run: for a map, the
   * image this handle opened while Docker has it, as a local knot's map runs
   * its handle's function even once another process created the knot again
   * with another function (which moved the image's name), and once Docker has
   * it no more, the knot's image only while the knot still has that function;
   * for a retry, the knot's image of then, whichever handle retries, as on the
   * local target.
   */
  async #ensureImage(retry: boolean): Promise<string | undefined> {
    const { docker, image, knot, knotImage, imageId } = this.#o;
    const own = imageId !== undefined && !retry ? await docker.inspectImage(imageId) : undefined;
    if (own !== undefined) return own.Id;
    if (knotImage !== undefined) return await knotImage({ retry });
    const found = await docker.inspectImage(image);
    if (found !== undefined) return found.Id;
    throw new CloudknotError(
      `The image ${image} of docker knot ${knot} is gone from Docker (removed since the knot ` +
        `was opened): ${imageGoneAdvice(knot)}`,
    );
  }

  /** Makes the handle of a run, with this target's hooks. */
  #open<T>(
    dir: string,
    store: LocalStore,
    manifest: DockerRunManifest,
  ): RunState & { run: MapRun<T> } {
    const stop = new AbortController();
    const children = runChildren(manifest);
    const { run, control } = MapRun.create<T>({
      knot: manifest.knot,
      runId: manifest.runId,
      target: "docker",
      total: manifest.count,
      attempts: manifest.attempts,
      ...(manifest.retryOf !== undefined ? { retryOf: manifest.retryOf } : {}),
    }, {
      ...this.#hooks(dir, store, manifest),
      jobId: (index) => childAt(children, index).jobId,
      startedAt: manifest.createdAt,
      onCancel: async (reason) => {
        const cancelling = state.cancelling = Promise.withResolvers<void>();
        // A cancel that fails saves nothing: the lock goes all the same.
        try {
          return await cancelRun(reason);
        } catch (e) {
          cancelling.resolve();
          throw e;
        }
      },
      saveCancelled: async (records) => {
        try {
          for (const record of records) await saveRecord(store, record);
        } finally {
          state.cancelling?.resolve();
        }
      },
      logs: (index, attempt) =>
        this.#logs(dir, manifest.runId, childAt(children, index), index, attempt),
    });
    /** Stops the run's work, and returns what is not known of the items it leaves. */
    const cancelRun = async (reason: string) => {
      stop.abort();
      // Before the kill: a process driving the run cancels it too.
      requestCancel(dir, reason);
      const failed = await this.#kill({ [CONTAINER_LABELS.run]: manifest.runId });
      // A handle that follows a run another handle cancelled waits for the containers no kill
      // stopped, as it follows the run, and reads how their items end, as later readers do.
      const waitOut = state.cancelledElsewhere === true && state.followed !== undefined;
      if (failed !== undefined && !waitOut) {
        // Containers docker could not kill may run on: the waits for them end, and their
        // items are called cancelled without knowing how they end (`#unconfirmed`).
        for (const [name, child] of state.waiting) state.unkilled.set(name, child);
        state.giveUp.abort(failed);
      }
      await state.driving;
      // A run another process drives: that process cancels it too, and keeps what its jobs
      // recorded before they were killed; those records are read here before the items
      // without one are called cancelled, so every handle and later reader agree.
      await state.followed?.(waitOut);
      // A run no process drives (its driver was killed): the containers the kill stopped go here.
      if (!state.locked) await this.#tidy(dir, manifest.runId);
      return this.#unconfirmed(state, reason, failed);
    };
    const state: RunState & { run: MapRun<T> } = {
      manifest,
      dir,
      store,
      control,
      stop,
      cancel: (reason) => run.cancel(reason),
      run,
      children,
      giveUp: new AbortController(),
      waiting: new Map(),
      unkilled: new Map(),
      kept: new Map(),
    };
    return state;
  }

  /** Runs each slice's attempts until its items' final records, `concurrency` containers at once. */
  #drive(state: RunState, work: Work[]): Promise<void> {
    state.driving = forEachPooled(
      work,
      this.#o.concurrency,
      (w) => this.#child(state, w),
      { signal: stopsDriving(state) },
    ).then(async () => {
      // Clobbered while it ran: each slice removed its container, and the image they ran goes.
      // (What cannot be removed now is `cloudknot gc`'s to find.)
      if (!await pathExists(state.dir)) {
        await this.#removeClobberedImage(state.manifest).catch(() => {});
      }
      if (state.kept.size > 0) {
        const { runId, knot } = state.manifest;
        const names = [...state.kept.keys()];
        const one = names.length === 1;
        (this.#o.warn ?? console.warn)(
          `cloudknot: docker run ${runId} of knot ${knot} could not keep the output of its ` +
            `docker container${one ? "" : "s"} ${names.join(", ")} in ${state.dir} (its disk ` +
            `is full): Docker keeps ${one ? "it" : "them"}, with the only copy of it. Once ` +
            `there is room, ${keptAdvice(runId, knot)}: either keeps that output in the run ` +
            `and removes ${one ? "the container" : "the containers"}`,
        );
      }
    });
    return state.driving;
  }

  /**
   * Runs one slice's attempts, from `w.attempt` (adopting `w.container`), as
   * Batch retries a failed child: each attempt runs the items of the slice
   * that have no result yet, until every item has its final record.
   */
  async #child(state: RunState, w: Work): Promise<void> {
    const { manifest, control } = state;
    const { child } = w;
    const open = () => range(child).filter((i) => !control.isSettled(i));
    let attempt = w.attempt;
    let container = w.container;
    const driving = stopsDriving(state);
    try {
      while (!driving.aborted && open().length > 0) {
        if (cancelledElsewhere(state)) return;
        for (const index of open()) control.started(index, attempt, child.jobId);
        const ended = await this.#attempt(state, child, attempt, container);
        if (ended === undefined) return;
        // Batch retries a child that failed while it has attempts left; one that exited 0 is done.
        // The records an attempt kept are its items' ends also when a cancel came meanwhile: the
        // cancel ends only the items without one, as every later reader of the run sees it.
        const final = ended.exitCode === 0 || attempt >= manifest.attempts;
        for (const record of ended.records) {
          if (control.isSettled(record.index)) continue;
          if (
            final || record.status === "ok" || record.kind === "cancelled" ||
            failsEveryAttempt(record.kind, record.error)
          ) {
            control.settle(record);
          } else control.retrying(record as ErrorRecord);
        }
        if (driving.aborted) return;
        attempt++;
        container = undefined;
      }
    } catch (e) {
      // Docker or the run's directory failed under the slice: its open items end with that error,
      // but for what the attempt recorded before, which stands (a success on disk is the item's
      // end, as every later reader finds it).
      const recorded = await attemptRecords(state.store, child.from, child.to, attempt).catch(
        () => new Map<number, JobRecord>(),
      );
      for (const record of recorded.values()) {
        if (!control.isSettled(record.index) && record.status === "ok") control.settle(record);
      }
      const kept = [...state.kept].filter(([, c]) => c === child).map(([name]) => name);
      const { runId, knot } = manifest;
      const error = goneError(e, state.dir) ?? diskError(
        e,
        `keep the files of docker run ${runId}`,
        state.dir,
        kept.length === 0
          ? `run its failed items again with ${retryAdvice(knot, runId)}`
          : `${keptAdvice(runId, knot)}: either first keeps in the run the output of its ` +
            `docker container${kept.length === 1 ? "" : "s"} ${kept.join(", ")}, which Docker ` +
            `keeps until then with the only copy of it, and removes ${
              kept.length === 1 ? "the container" : "them"
            }`,
      ) ?? e;
      for (const index of open()) {
        control.settle(failureRecord(
          { index, attempt, jobId: child.jobId, kind: "infrastructure" },
          errorToRecord(error),
        ));
      }
    }
  }

  /**
   * Removes the image a run of a clobbered knot ran, once the knot's clobber
   * has ended and while no knot is in its folder: a container this run
   * started after the clobber listed the knot's containers used it when the
   * clobber removed the knot's images, so Docker only untagged it then. Kept
   * while another container uses it (another process's), or when the knot is
   * there again.
   */
  async #removeClobberedImage(manifest: DockerRunManifest): Promise<void> {
    const { root, docker } = this.#o;
    // The clobber holds the knot's lock until it has removed the knot's folder.
    await holdingKnot(root, () => Promise.resolve(), { make: false, onWait: () => {} });
    await whileKnotGone(root, async () => {
      const image = manifest.container.imageId ?? manifest.container.image;
      await docker.removeImage(image, { missingOk: true }).catch(() => {});
    });
  }

  /**
   * Runs one attempt of a slice in a container (or adopts the one another
   * process made for it: started if it never was, else waited for) and
   * returns its exit code and the records of the slice's open items
   * (`#ended`); when the run was cancelled meanwhile, the records the job
   * wrote before it was killed, without an exit code. `undefined` when it
   * never ran, or when this process let go of the run (`RunState.letGo`)
   * before it ended.
   */
  async #attempt(
    state: RunState,
    child: Child,
    attempt: number,
    running?: string,
  ): Promise<{ exitCode?: number; records: JobRecord[] } | undefined> {
    const { manifest, dir, store, control } = state;
    const docker = this.#o.docker;
    const name = running ?? containerName(manifest.runId, child.from, attempt);
    const open = range(child).filter((i) => !control.isSettled(i));
    const limits = resourcesOf(manifest, child.from);
    /** The container could not start: as Batch's CannotStartContainerError, a failed attempt. */
    const cannotStart = async (e: unknown) => {
      await docker.removeContainer(name, { force: true, missingOk: true }).catch(() => {});
      // A clobber from another handle asks to cancel the run before it removes the image.
      if (state.stop.signal.aborted || cancelledElsewhere(state)) return undefined;
      // What docker said, as Batch's status reason says why a container could not start.
      const said = dockerSaid(e);
      const gone = /No such image/i.test(said);
      const records = open.map((index) => {
        const record = failureRecord(
          { index, attempt, jobId: child.jobId, kind: "infrastructure" },
          {
            name: "JobFailedError",
            message: `Docker container ${name} attempt ${attempt} could not start` +
              (gone
                ? `: its image ${manifest.container.image} is gone from Docker (removed while ` +
                  `the run ran): ${imageGoneAdvice(manifest.knot)}`
                : ""),
          },
        );
        record.statusReason = `CannotStartContainerError: ${said}`;
        return record;
      });
      for (const record of records) await saveRecord(store, record);
      return { records };
    };
    let adopted = running !== undefined;
    // Let go of: what runs is left for whoever drives the run next, and nothing starts.
    if (state.letGo?.aborted) return undefined;
    if (!adopted) {
      try {
        // The image the run started with, by id: the knot's name may be another function's now.
        await docker.run(manifest.container.imageId ?? manifest.container.image, {
          detach: true,
          rm: false,
          // Only this engine's image: a registry's of the same name would be someone else's.
          pull: "never",
          // The container's id is all docker says here; the job's output goes to its log file.
          logger: () => {},
          name,
          labels: {
            [CONTAINER_LABELS.knot]: this.#o.root,
            [CONTAINER_LABELS.run]: manifest.runId,
            [CONTAINER_LABELS.index]: String(child.from),
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
            // Deno's own messages reach the log without colour codes, unless the map's env says
            // otherwise.
            ...NO_COLOR_ENV,
            ...manifest.env,
            // The map's variables, which the job entry lets the function's worker read.
            CLOUDKNOT_ENV_NAMES: Object.keys(manifest.env ?? {}).join(","),
            // What the function may do, as a Batch job definition says it (job/main.ts).
            CLOUDKNOT_PERMISSIONS: JSON.stringify(
              manifest.container.permissions ?? DEFAULT_PERMISSIONS,
            ),
            ...(child.job.array ? { AWS_BATCH_JOB_ARRAY_INDEX: String(child.k) } : {}),
            AWS_BATCH_JOB_ATTEMPT: String(attempt),
            AWS_BATCH_JOB_ID: child.jobId,
            // Named in what an item's error says to do (job/main.ts).
            [KNOT_ENV]: manifest.knot,
            [RUN_ID_ENV]: manifest.runId,
            ...(limits.timeout !== undefined ? { CLOUDKNOT_TIMEOUT: String(limits.timeout) } : {}),
          },
          command: childCommand(manifest, child, dir),
        });
      } catch (e) {
        if (!/already in use/.test(String(e))) return await cannotStart(e);
        // Another process made this attempt's container: it is adopted as one listed.
        adopted = true;
      }
    }
    try {
      if (adopted) {
        // `docker run` creates a container, then starts it: a driver killed in between (or whose
        // start failed) leaves one docker reports as created, never started. Its attempt never
        // ran, so it runs now; `docker wait` would end at once with exit code 0 and no record.
        const made = await docker.inspectContainer(name).catch(() => undefined);
        if (made?.State.Status === "created") {
          try {
            await docker.command(["start", name]);
          } catch (e) {
            return await cannotStart(e);
          }
        }
      }
      /**
       * A container a cancel could not kill, left running: the records its job
       * wrote so far are its items' ends; the items without one are the
       * cancel's, which does not know how they end (`#unconfirmed`).
       */
      const leftRunning = async () => {
        state.unkilled.set(name, child);
        const written = await attemptRecords(store, child.from, child.to, attempt);
        return { records: open.flatMap((index) => written.get(index) ?? []) };
      };
      // A clobber that listed the knot's containers before this one was made, and removed the
      // run's directory since (its cancel request with it): the container goes (below).
      if (!await pathExists(dir)) throw new Deno.errors.NotFound(`No run directory ${dir}`);
      // A cancel that listed the running containers before this one started.
      if (state.stop.signal.aborted || cancelledElsewhere(state)) {
        const killed = await docker.command(["kill", name]).then(() => true, () => false);
        if (!killed && await this.#runs(name)) return await leftRunning();
      }
      state.waiting.set(name, child);
      const exitCode = await this.#wait(
        name,
        state.letGo ? AbortSignal.any([state.giveUp.signal, state.letGo]) : state.giveUp.signal,
      ).finally(() => state.waiting.delete(name));
      if (exitCode === undefined && state.giveUp.signal.aborted && await this.#runs(name)) {
        return await leftRunning();
      }
      // Let go of while it runs: it goes on, as a killed driver leaves it.
      if (exitCode === undefined && state.letGo?.aborted) return undefined;
      if (state.stop.signal.aborted || cancelledElsewhere(state)) {
        await this.#keepLog(dir, name, child.from, attempt);
        await docker.removeContainer(name, { force: true, missingOk: true }).catch(() => {});
        // Cancelled: the records the job wrote before it was killed are kept as its items' ends
        // (a success is one); no exit code, so a failure is final only on the last attempt.
        const written = await attemptRecords(store, child.from, child.to, attempt);
        return { records: open.flatMap((index) => written.get(index) ?? []) };
      }
      const { code, records } = await this.#ended(state, child, attempt, name, exitCode, open);
      await docker.removeContainer(name, { force: true, missingOk: true });
      return { ...(code !== undefined ? { exitCode: code } : {}), records };
    } catch (e) {
      // The run's directory is gone (its knot was clobbered, maybe after it listed the knot's
      // containers, without this one): nothing of the attempt can be kept, and nothing else
      // removes its container now.
      if (!await pathExists(dir)) {
        await docker.removeContainer(name, { force: true, missingOk: true }).catch(() => {});
      } else if (isDiskRefusal(e) && await docker.inspectContainer(name).catch(() => true)) {
        // Its output, or what it ended with, could not be kept: it stays, for a later reader.
        state.kept.set(name, child);
      }
      throw e;
    }
  }

  /**
   * What the container of one attempt of a slice ended with, as DescribeJobs
   * says of a Batch attempt (so its details and errors are Batch's), and the
   * records of the items it ran (`open`): the ones the job wrote, with the
   * container's exit code, status reason and log as Batch adds them, and for
   * each item it left without a record, the failure Batch would report
   * (`batch/failure.ts`), saved to the run's store. Its output is kept as the
   * attempt's log file, and the description is saved last, beside the run's
   * records, where every process reading the run finds it (the container
   * goes, and the job's records are never rewritten): a process killed
   * before that leaves the container, and the next one to drive the run
   * does this again, without saving a record twice.
   */
  async #ended(
    state: Pick<RunState, "manifest" | "dir" | "store">,
    child: Child,
    attempt: number,
    name: string,
    exitCode: number | undefined,
    open: readonly number[],
  ): Promise<{ code?: number; records: JobRecord[] }> {
    const { manifest, dir, store } = state;
    const inspected = await this.#o.docker.inspectContainer(name).catch(() => undefined);
    const logFile = await this.#keepLog(dir, name, child.from, attempt);
    const memory = resourcesOf(manifest, child.from).memory;
    const oom = inspected?.State.OOMKilled === true;
    const found = inspected?.State.ExitCode ?? exitCode;
    const code = found !== undefined && !Number.isNaN(found) ? found : undefined;
    const job = {
      jobId: name,
      jobName: name,
      jobQueue: "docker",
      jobDefinition: manifest.container.image,
      status: "FAILED",
      ...(memory !== undefined
        ? { container: { resourceRequirements: [{ type: "MEMORY", value: `${memory}` }] } }
        : {}),
      attempts: [
        ...Array.from({ length: attempt - 1 }, () => ({})),
        {
          container: {
            ...(code !== undefined ? { exitCode: code } : {}),
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
    const written = await attemptRecords(store, child.from, child.to, attempt);
    let tail: Promise<string[]> | undefined;
    const records: JobRecord[] = [];
    for (const index of open) {
      const own = written.get(index);
      if (own !== undefined) {
        records.push(withBatchDetails(own, job));
        continue;
      }
      // The slice's log is read once, for V8's out-of-memory line, as on AWS.
      tail ??= logTail(logFile);
      const made = batchFailureRecord(job, { index, attempt, runner: "Docker container" });
      const record = { ...withLogOutOfMemory(made, job, await tail), jobId: child.jobId };
      await saveRecord(store, record);
      records.push(record);
    }
    await saveAttemptDetail(store, child.from, attempt, job);
    return { ...(code !== undefined ? { code } : {}), records };
  }

  /**
   * Waits for a container to exit, however long its attempt runs, and
   * returns its exit code; `undefined` when it is gone (a cancel, a clobber,
   * or another process finished it), or when `signal` aborts.
   */
  async #wait(name: string, signal?: AbortSignal): Promise<number | undefined> {
    while (!signal?.aborted) {
      try {
        // Each wait is one docker call under the driver's time limit; an attempt may run longer.
        const { stdout } = await this.#o.docker.command(["wait", name], signal ? { signal } : {});
        return Number(stdout.trim());
      } catch (e) {
        if (!(e instanceof CommandTimeoutError)) return undefined;
      }
    }
    return undefined;
  }

  /** Whether a container still runs, as far as docker says (a failed look says it may). */
  async #runs(name: string): Promise<boolean> {
    return await this.#o.docker.inspectContainer(name).then(
      (c) => c !== undefined && c.State.Status !== "exited" && c.State.Status !== "dead",
      () => true,
    );
  }

  /**
   * Keeps a container's output as its slice attempt's log file (once: a
   * file already there stays) and returns the file's path.
   */
  async #keepLog(dir: string, name: string, from: number, attempt: number): Promise<string> {
    const logFile = join(dir, "logs", `${from}-${attempt}.log`);
    if (await Deno.stat(logFile).then(() => true, () => false)) return logFile;
    const output = await this.#o.docker.command(["logs", name]).catch(() => undefined);
    if (output !== undefined) {
      // Not made recursively: a removed run's directory is not made again.
      await Deno.mkdir(join(dir, "logs"), { mode: 0o700 }).catch((e) => {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      });
      // Whole or not at all: a log cut short by a full disk would stand for the container's
      // output once the container is gone.
      await writeTextAtomically(logFile, output.stdout + output.stderr, { mode: 0o600 });
    }
    return logFile;
  }

  /**
   * Kills the running containers with these labels (of this knot); what
   * docker said when it could not list or kill them, else `undefined`.
   */
  async #kill(labels: Record<string, string>): Promise<unknown> {
    let ids: RunContainer[];
    try {
      ids = await this.#containers(labels, { running: true });
    } catch (e) {
      return e;
    }
    if (ids.length === 0) return undefined;
    try {
      await this.#o.docker.command(["kill", ...ids.map((c) => c.name)]);
      return undefined;
    } catch (e) {
      // One that ended meanwhile fails the kill too: the kill failed only if one still runs.
      const still = await this.#containers(labels, { running: true }).catch(() => undefined);
      return still?.length === 0 ? undefined : e;
    }
  }

  /**
   * After a cancel, the items of the containers it could not kill that have
   * no record yet: the handle calls them cancelled without knowing how they
   * end (the container may still record a result), so it warns once, naming
   * them, and each one's error says so and how to read its end.
   */
  #unconfirmed(state: RunState, reason: string, failed: unknown): Unconfirmed | undefined {
    const { manifest, control } = state;
    const containerOf = new Map<number, string>();
    for (const [name, child] of state.unkilled) {
      for (const index of range(child)) if (!control.isSettled(index)) containerOf.set(index, name);
    }
    if (containerOf.size === 0) return undefined;
    const { runId, knot } = manifest;
    const names = [...new Set(containerOf.values())];
    const items = [...containerOf.keys()].sort((a, b) => a - b);
    const one = items.length === 1;
    const readAgain = `collect the run again (knot.collect("${runId}") of knot ${knot})`;
    const said = failed === undefined ? "" : `: ${dockerSaid(failed)}`;
    (this.#o.warn ?? console.warn)(
      `${itemsInWords(items)} of run ${runId} of knot ${knot} ${one ? "is" : "are"} called ` +
        `cancelled without knowing how ${one ? "it" : "they"} ended: docker could not kill ${
          names.length === 1 ? "its docker container" : "their docker containers"
        } (${names.join(", ")})${said}, which may still record a result as ${
          names.length === 1 ? "it runs" : "they run"
        }; to read how ${one ? "it" : "they"} ended once stopped, ${readAgain} (run.retry() ` +
        `waits for ${names.length === 1 ? "it" : "them"})`,
    );
    return (index) => {
      const name = containerOf.get(index);
      return name === undefined ? undefined : `${reason}; docker could not kill its docker ` +
        `container ${name}, so whether the item ended before it stopped is not known: once ` +
        `the container has stopped, ${readAgain} to read how it ended`;
    };
  }

  /** This knot's containers with these labels: name, first item of its slice, and attempt. */
  async #containers(
    labels: Record<string, string>,
    options: { running?: boolean } = {},
  ): Promise<RunContainer[]> {
    const args = ["ps", "--no-trunc", ...(options.running ? [] : ["--all"])];
    for (
      const [key, value] of Object.entries({ [CONTAINER_LABELS.knot]: this.#o.root, ...labels })
    ) {
      args.push("--filter", `label=${key}=${value}`);
    }
    args.push(
      "--format",
      `{{.Names}}\t{{.Label "${CONTAINER_LABELS.index}"}}\t{{.Label "${CONTAINER_LABELS.attempt}"}}\t{{.State}}\t{{.CreatedAt}}\t{{.Label "${CONTAINER_LABELS.run}"}}`,
    );
    const { stdout } = await this.#o.docker.command(args);
    return stdout.split("\n").filter((l) => l.trim() !== "").map((line) => {
      const [name, index, attempt, state, created, runId] = line.split("\t");
      // A container just made is about to run (the driver of the run starts one no one started):
      // only one that exited has ended.
      const running = state !== "exited" && state !== "dead";
      const createdAt = dockerTime(created ?? "");
      return {
        name: name!,
        runId: runId ?? "",
        index: Number(index),
        attempt: Number(attempt),
        running,
        ...(createdAt !== undefined ? { createdAt } : {}),
      };
    });
  }

  /**
   * Re-opens an earlier run, from any process. While the process that
   * drives it lives, it is followed through its records; once that process
   * is gone, this one drives it: it waits for the containers still running,
   * starts those created but never started, gives the items of those that
   * ended meanwhile without a record Batch's failure, and runs each
   * unfinished slice's next attempt (docs/docker.md lists each state). `signal` stops following,
   * and driving as a killed driver stops (no container starts; those that run go on);
   * with `finish: false` the run is only read and followed, never driven,
   * for commands that only look.
   */
  collect<T>(runId: string, options: DockerCollectOptions = {}): Promise<MapRun<T>> {
    // A retry's handle covers the whole input, with the run it retries.
    return collectWhole(runId, (id) => this.#collectOne<T>(id, options));
  }

  async #collectOne<T>(runId: string, options: DockerCollectOptions): Promise<MapRun<T>> {
    const dir = this.#runDir(runId);
    const store = new RunStore(dir);
    // A run id is a name in the knot's runs, never a path to another knot's.
    const manifest = !isRunName(runId)
      ? undefined
      : await readManifest(store).catch(() => undefined) as
        | DockerRunManifest
        | undefined;
    if (manifest === undefined) {
      throw new CloudknotInputError(
        `Knot ${this.#o.knot} has no docker run ${runId}: list its runs with knot.runs()`,
        { field: "runId" },
      );
    }
    const state = this.#open<T>(dir, store, manifest);
    const { run, control, children } = state;
    /** The record keys read whole, and the items read so far of the others. */
    const done = new Set<string>();
    const partial = new Map<string, Set<number>>();
    /** The last attempt of each slice (by its first item) that recorded anything. */
    const tried = new Map<number, number>();
    /** The last attempt of each slice that recorded a failure: it ended, and failed. */
    const failed = new Map<number, number>();
    /**
     * What each attempt's container ended with, by `<first item>-<attempt>`,
     * once saved: it is saved once and never changes, so a slice's many error
     * records, and every later pass, read it once.
     */
    const details = new Map<string, JobDetail>();
    const detailOf = async (from: number, attempt: number): Promise<JobDetail | undefined> => {
      const id = `${from}-${attempt}`;
      const known = details.get(id);
      if (known !== undefined) return known;
      const detail = await readAttemptDetail(store, from, attempt);
      if (detail !== undefined) details.set(id, detail);
      return detail;
    };
    /**
     * The cancellations read whose items have no other end yet, by item:
     * a cancel that could not kill a container writes one before that
     * container's job records its item's end, which is the item's end. Each
     * waits until no container of its slice runs (`settleCancellations`).
     */
    const cancellations = new Map<number, JobRecord>();
    /** Whether a cancellation read waits for a container that may still end its item. */
    const holding = () => [...cancellations.keys()].some((i) => !control.isSettled(i));
    /**
     * Settles the cancellations read whose slice has no container among
     * `running` (listed before the reading that found them: a container
     * that stopped had written its records), or every one (`"all"`).
     */
    const settleCancellations = (running: readonly RunContainer[] | "all") => {
      const runs = new Set(
        running === "all" ? [] : runningItems(running, children, control).map((a) => a.index),
      );
      for (const [index, record] of cancellations) {
        if (runs.has(index)) continue;
        if (!control.isSettled(index)) control.settle(record);
        cancellations.delete(index);
      }
    };
    /**
     * Reads the new records. An error the job wrote gets its container's
     * details (`#ended`); until they are saved it waits, unless its attempt
     * is not in `waiting` (every attempt when omitted): its container is gone.
     * `running`, the run's containers that ran before this reading, settles
     * the cancellations of the items none of them runs.
     */
    const read = async (waiting?: ReadonlySet<string>, running?: readonly RunContainer[]) => {
      for await (const key of listRecords(store)) {
        if (done.has(key.key)) continue;
        const handled = partial.get(key.key) ?? new Set<number>();
        let complete = true;
        for (let record of await readRecords(store, key)) {
          if (handled.has(record.index)) continue;
          const from = childAt(children, record.index).from;
          tried.set(from, Math.max(tried.get(from) ?? 0, record.attempt));
          if (awaitsDetail(record)) {
            const detail = await detailOf(from, record.attempt);
            if (detail !== undefined) record = withBatchDetails(record, detail);
            else if (waiting === undefined || waiting.has(`${from}-${record.attempt}`)) {
              complete = false;
              continue;
            }
          }
          handled.add(record.index);
          if (record.status === "error") {
            failed.set(from, Math.max(failed.get(from) ?? 0, record.attempt));
          }
          if (record.status === "error" && record.kind === "cancelled") {
            if (!cancellations.has(record.index)) cancellations.set(record.index, record);
            continue;
          }
          const final = record.status === "ok" || record.attempt >= manifest.attempts;
          if (final) control.settle(record);
          else if (!control.isSettled(record.index)) control.retrying(record as ErrorRecord);
        }
        if (complete) {
          done.add(key.key);
          partial.delete(key.key);
        } else partial.set(key.key, handled);
      }
      if (running !== undefined) settleCancellations(running);
    };
    const listRunning = () =>
      this.#containers({ [CONTAINER_LABELS.run]: runId }, { running: true });
    state.followed = async (containers) => {
      let undriven: RunContainer[] | undefined;
      // This handle's own cancel of the run it drove: it holds the lock until its cancellations
      // are saved, and no other process drives the run meanwhile.
      const undrivenNow = () => state.locked ? listRunning() : this.#undriven(runId);
      while (!run.finished && (undriven = await undrivenNow()) === undefined) {
        await sleep(FOLLOW_MS);
        await read(new Set());
      }
      await read(new Set(), undriven);
      // Until the containers no kill stopped have ended: what they record ends their items.
      while (containers && !run.finished && !options.signal?.aborted) {
        const running = await listRunning().catch(() => undefined);
        if (running !== undefined) {
          await read(new Set(), running);
          if (runningItems(running, children, control).length === 0) break;
        }
        await sleep(FOLLOW_MS);
      }
      // This handle's cancel ends what is left; the cancellations read are the ends of their items.
      settleCancellations("all");
    };
    /**
     * The items the run's containers run now, shown on this handle while it
     * does not drive the run: a container that runs, whichever process
     * started it (one whose driver was killed too), runs its slice's items
     * without a record, as the driver shows them. Looked at with each look at
     * the run when no process drives it (that look lists the containers
     * anyway), otherwise at most once a second.
     */
    const followed = new FollowedRunning(control);
    let psAt = -Infinity;
    const listed = () => {
      psAt = performance.now();
      return listRunning().catch(() => undefined);
    };
    const look = async (undriven: RunContainer[] | undefined) => {
      // The cancellations read wait for a list made before the reading (at most once a second).
      let running = undriven;
      if (running === undefined && holding() && performance.now() - psAt >= PS_EVERY_MS) {
        running = await listed();
      }
      await read(undriven && attemptsOf(undriven), running);
      if (running === undefined) {
        if (performance.now() - psAt < PS_EVERY_MS) return;
        running = await listed();
        if (running === undefined) return;
      }
      followed.show(runningItems(running, children, control));
    };
    // Before the handle is returned: its counts and view show what runs now.
    await look(await this.#undriven(runId, options.running));
    // A run that ended while no process drove it: its ended containers go before it is returned.
    if (run.finished && options.finish !== false) {
      await this.#tidy(dir, runId);
      return run;
    }
    const signal = options.signal;
    /**
     * The run's directory went while it was followed (its knot was clobbered): its items not
     * ended end cancelled, saying so, since no record of them is left.
     */
    const gone = async (e?: unknown): Promise<boolean> => {
      if ((e !== undefined && !(e instanceof Deno.errors.NotFound)) || await pathExists(dir)) {
        return false;
      }
      settleCancelled(control, runId, tried, clobberedReason(this.#o.knot));
      return true;
    };
    const work = (async () => {
      while (!run.finished && !signal?.aborted) {
        // A container a cancel could not kill may still end an item read as cancelled: the run is
        // followed until it stops, never driven meanwhile.
        let lock: Deno.FsFile | undefined;
        try {
          lock = options.finish === false || holding() ? undefined : takeLock(dir);
          if (lock === undefined) {
            await sleep(FOLLOW_MS, signal).catch(() => {});
            if (signal?.aborted) break;
            await look(await this.#undriven(runId));
            continue;
          }
        } catch (e) {
          if (await gone(e)) break;
          throw e;
        }
        state.locked = true;
        // Its signal lets go of the run as a killed driver does: what runs goes on, nothing
        // starts, and the next reading of the run takes it over.
        if (signal !== undefined) state.letGo = signal;
        try {
          // Driven here from now on: its containers' items are shown as this process runs them.
          followed.show([]);
          await read();
          const containers = await this.#containers({ [CONTAINER_LABELS.run]: runId });
          // A container that ended while no process drove the run: what it ended with is saved,
          // and the items it ran and left without a record get Batch's failure, as its driver
          // would have given them (they are not silently run again).
          for (const c of containers.filter((c) => !c.running)) {
            if (await detailOf(c.index, c.attempt) !== undefined) continue;
            const child = childAt(children, c.index);
            // An item read as cancelled has its record (settled below, its container stopped).
            const open = range(child).filter((i) => !control.isSettled(i) && !cancellations.has(i));
            await this.#ended(state, child, c.attempt, c.name, undefined, open);
          }
          // The errors of attempts whose container still runs wait for it; the others are read.
          const running = containers.filter((c) => c.running);
          await read(attemptsOf(running), running);
          if (holding()) continue;
          const slices: Work[] = [];
          const adopted = new Set<string>();
          for (const child of children) {
            if (range(child).every((i) => control.isSettled(i))) continue;
            // A slice whose items succeeded so far may still run: its container is adopted.
            const own = containers.filter((c) =>
              c.index === child.from && c.attempt > (failed.get(child.from) ?? 0)
            ).sort((a, b) =>
              b.attempt - a.attempt
            )[0];
            if (own !== undefined) adopted.add(own.name);
            // Without one, the next attempt skips what was recorded as succeeded.
            slices.push(
              own
                ? { child, attempt: own.attempt, container: own.name }
                : { child, attempt: (tried.get(child.from) ?? 0) + 1 },
            );
          }
          // The containers of attempts already recorded: their output is kept, then they go.
          for (const c of containers.filter((c) => !adopted.has(c.name))) {
            await this.#keepLog(dir, c.name, c.index, c.attempt);
            await this.#o.docker.removeContainer(c.name, { force: true, missingOk: true });
          }
          await this.#drive(state, slices);
          await cancelSaved(state);
        } finally {
          state.locked = false;
          lock.close();
        }
        return;
      }
      // Followed to its end while no process drove it: its ended containers go here.
      if (run.finished && options.finish !== false) await this.#tidy(dir, runId);
    })();
    // Taking the run over failed (a write the disk refused, Docker failing): its items not ended
    // end on this handle with what happened, never left waiting, nor the failure unhandled; a
    // follow its signal stopped stays unfinished.
    control.track(work.catch((e) => {
      if (signal?.aborted) return;
      const error = diskError(
        e,
        `finish docker run ${runId}`,
        dir,
        `collect the run again (knot.collect("${runId}") of knot ${this.#o.knot})`,
      ) ?? e;
      control.settleAll((index) =>
        failureRecord(
          { index, attempt: (tried.get(index) ?? 0) + 1, jobId: "", kind: "infrastructure" },
          errorToRecord(error),
        )
      );
    }));
    return run;
  }

  /**
   * Keeps the output of a run's ended containers in its directory and removes
   * them, as its driver does, when no process drives the run (its driver was
   * killed, and the run was then cancelled from another process, or ended
   * before anyone read it): otherwise they stay on Docker, holding the only
   * copy of their logs. Containers that still run are left to whoever drives
   * or follows the run.
   */
  async #tidy(dir: string, runId: string): Promise<void> {
    // The run's directory is gone with its knot's clobber, which removes the containers itself.
    const lock = await pathExists(dir) ? takeLock(dir) : undefined;
    if (lock === undefined) return;
    try {
      const containers = await this.#containers({ [CONTAINER_LABELS.run]: runId });
      for (const c of containers.filter((c) => !c.running)) {
        await this.#keepLog(dir, c.name, c.index, c.attempt);
        await this.#o.docker.removeContainer(c.name, { force: true, missingOk: true });
      }
    } finally {
      lock.close();
    }
  }

  /**
   * The containers of a run that still run, when no process drives the run:
   * no one saves what its other containers ended with, so a reader need not
   * wait for their attempts. `undefined` while a process drives it.
   */
  async #undriven(
    runId: string,
    listing?: () => Promise<ReadonlyMap<string, RunContainer[]>>,
  ): Promise<RunContainer[] | undefined> {
    if (await this.isLive(runId)) return undefined;
    if (listing !== undefined) return (await listing()).get(runId) ?? [];
    return await this.#containers({ [CONTAINER_LABELS.run]: runId }, { running: true });
  }

  /**
   * The knot's containers that run now, by run id (runs with none left out),
   * from one `docker ps`: for reading several of its runs at once
   * (`collect`'s `running`) and telling what of each still runs.
   *
   * @example Usage
   * ```ts ignore
   * const running = await target.runningContainers();
   * console.log(running.get(runId)?.length ?? 0);
   * ```
   */
  async runningContainers(): Promise<Map<string, RunContainer[]>> {
    return Map.groupBy(await this.#containers({}, { running: true }), (c) => c.runId);
  }

  /** The knot's image and folder, and what each container runs with. */
  summary(): [string, string | undefined][] {
    const o = this.#o;
    return [
      ["image", o.image],
      ["folder", o.root],
      // Named as the options that set them.
      ["concurrency", `${o.concurrency} container${o.concurrency === 1 ? "" : "s"} at once`],
      ["retries", String(o.attempts)],
      ["timeout", o.timeout === undefined ? undefined : `${o.timeout} s`],
      ["memory", o.memory === undefined ? undefined : `${o.memory} MiB`],
      ["vcpus", o.vcpus === undefined ? undefined : String(o.vcpus)],
      ["network", o.network],
      ["permissions", permissionsText(o.permissions ?? DEFAULT_PERMISSIONS)],
    ];
  }

  /**
   * Whether a process drives the run now (this one or another: it holds the run's lock). A run
   * not finished that none drives lost its process: a `collect()` finishes it.
   */
  isLive(runId: string): Promise<boolean> {
    const lock = takeLock(this.#runDir(runId));
    lock?.close();
    return Promise.resolve(lock === undefined);
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
    const { planMachineMap } = await import("../machine_plan.ts");
    return await planMachineMap(request, {
      kind: "docker",
      knot: o.knot,
      root: o.root,
      concurrency: this.#itemsAtOnce(),
      run: (count) => {
        const { slice, concurrency } = dockerSlicing(o, count, request.itemsPerJob ?? "auto");
        const containers = Math.ceil(count / slice);
        return {
          action: "run",
          kind: "containers",
          name: o.image,
          details: {
            items: count,
            containers,
            "items per container": slice,
            "items in flight per container": concurrency,
            "at once": Math.min(o.concurrency, containers),
            attempts: o.attempts,
            ...(o.memory !== undefined ? { "memory MiB": o.memory } : {}),
            ...(o.vcpus !== undefined ? { vcpus: o.vcpus } : {}),
            ...(o.timeout !== undefined ? { timeout: o.timeout } : {}),
          },
        };
      },
    }, options);
  }

  /**
   * An estimate of a run on this machine: its duration on `concurrency`
   * containers of as many items in flight as each has CPUs, its CPU-hours.
   */
  async estimate(count: number, options: { itemSeconds: number }): Promise<Estimate> {
    const { estimateMachineRun } = await import("../machine_plan.ts");
    return await estimateMachineRun(count, options.itemSeconds, this.#itemsAtOnce(), "docker");
  }

  /** How many items run at once: `concurrency` containers, each with as many as it has CPUs. */
  #itemsAtOnce(): number {
    return this.#o.concurrency * itemsInFlight(this.#o.vcpus);
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
    checkMachineResources("docker", resources);
  }

  /** What a run's handle asks its target: its attempts' usage, and a retry. */
  #hooks(
    dir: string,
    store: LocalStore,
    manifest: DockerRunManifest,
  ): Pick<MapRunOptions, "usage" | "resubmit" | "retriedBy" | "reread" | "checkResources"> {
    return {
      checkResources: (resources) => this.checkResources(resources),
      // CPU-seconds on this machine, as the local target counts them.
      usage: async () => {
        const records = await allRecords(store);
        const usage = localRunUsage(
          records,
          manifest,
          manifest.container.memory !== undefined ? { memory: manifest.container.memory } : {},
        );
        return { ...usage, target: "docker" };
      },
      retriedBy: (signal) => latestRetry(this, manifest.runId, signal),
      resubmit: async (request) =>
        // A retry runs with the attempts, permissions and limits its run had (unless it gives
        // others),
        // from whichever process retries it (`cloudknot retry` opens the knot with the default
        // retries).
        this.#map(await resubmitRequest(new LocalStore(dir), manifest, request), {
          attempts: manifest.attempts,
          permissions: request.permissions ?? manifest.container.permissions ??
            { ...DEFAULT_PERMISSIONS },
          // And its containers' limits, for the items the retry gives none of their own.
          resources: {
            memory: manifest.container.memory,
            vcpus: manifest.container.vcpus,
            timeout: manifest.container.timeout,
          },
        }),
      reread: (signal) => this.#reread(store, manifest, signal),
    };
  }

  /**
   * A run read again for its retry (`collect`), once the run's containers
   * that still run have ended: after a cancel that did not see them stop (its
   * `docker kill` failed or missed them), they may still record results its
   * handle called cancelled. While some do, it warns once, naming the items
   * they run, and waits for them; the signal stops the wait (rejecting with
   * its reason), and the containers go on.
   */
  async #reread(
    store: LocalStore,
    manifest: DockerRunManifest,
    signal?: AbortSignal,
  ): Promise<MapRun<unknown>> {
    const { runId } = manifest;
    const labels = { [CONTAINER_LABELS.run]: runId };
    let running = await this.#containers(labels, { running: true });
    if (running.length > 0) {
      const left = await unendedItems(store, manifest, running);
      if (left.length > 0) {
        const one = left.length === 1;
        const single = running.length === 1;
        (this.#o.warn ?? console.warn)(
          retryWaitWarning(
            left,
            { runId, knot: this.#o.knot },
            `${one ? "its docker container" : "their docker containers"} (${
              running.map((c) => c.name).join(", ")
            }) still run${single ? "s" : ""}`,
            single ? "it" : "them",
            "containers",
          ),
        );
      }
      while (running.length > 0) {
        await sleep(FOLLOW_MS, signal);
        signal?.throwIfAborted();
        running = await this.#containers(labels, { running: true });
      }
    }
    return await this.collect(runId, signal ? { signal } : {});
  }

  /**
   * One attempt of one item's output: of its slice's log file (or the running
   * container's output so far), the lines tagged with the item
   * (`job/item_log.ts`), as on AWS.
   */
  async *#logs(
    dir: string,
    runId: string,
    child: Child,
    index: number,
    attempt: number,
  ): AsyncGenerator<string> {
    let text: string;
    try {
      text = await Deno.readTextFile(join(dir, "logs", `${child.from}-${attempt}.log`));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      const { stdout, stderr } = await this.#o.docker.command([
        "logs",
        containerName(runId, child.from, attempt),
      ]).catch(() => ({ stdout: "", stderr: "" }));
      text = stdout + stderr;
    }
    const lines = text.split("\n");
    if (lines.at(-1) === "") lines.pop();
    // The job tags its items' lines when its slice has more than one (job/main.ts).
    const shared = child.to - child.from > 1;
    for (const line of lines) {
      const own = itemLine(line, index, shared);
      if (own !== undefined) yield own;
    }
  }

  /**
   * A docker knot's jobs are containers that exist only while they run: this
   * rejects, saying to use its runs instead.
   */
  jobIds(): Promise<never> {
    return Promise.reject(
      new CloudknotInputError(
        `Knot ${this.#o.knot} runs on the local Docker engine, where each attempt of a slice of ` +
          `items is a container removed once its output is kept, not an AWS Batch job: list its runs with ` +
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
          `to see its items, one container per attempt of a slice`,
      ),
    );
  }

  /**
   * Removes the knot's containers, its images (of each function it had) and
   * its directory (its record and runs), holding the knot's lock: a create of
   * the knot in another process, or the build of its image again, finishes
   * first (with a notice that this waits), never half-way through.
   */
  async clobber(): Promise<void> {
    await holdingKnot(this.#o.root, () => this.#clobber(), {
      make: false,
      doing: CLOBBERING_KNOT,
      onWait: (holder) =>
        (this.#o.warn ?? console.warn)(
          knotBusyNotice(this.#o.knot, this.#o.root, CLOBBERING_KNOT, holder),
        ),
    });
  }

  /**
   * Removes the knot as {@linkcode DockerTarget.clobber} does, the caller
   * holding the knot's lock already: for what finds a clobber that stopped
   * part-way (its mark, {@linkcode CLOBBERING_FILE}) while it holds the lock,
   * and for the clobber of what a stopped create left, which looks first,
   * holding it, that no create recorded the knot meanwhile.
   *
   * @example Usage
   * ```ts ignore
   * await holdingKnot(root, () => DockerTarget.clobberHeld(target), { make: false, onWait });
   * ```
   *
   * @param target The knot's target.
   * @param options `keepFolder`: leave the knot's folder (empty but for its lock's file), for a
   *   create that makes the knot in it anew.
   */
  static async clobberHeld(
    target: DockerTarget,
    options: { keepFolder?: boolean } = {},
  ): Promise<void> {
    await target.#clobber(options);
  }

  /** See {@linkcode DockerTarget.clobber}. */
  async #clobber(options: { keepFolder?: boolean } = {}): Promise<void> {
    const docker = this.#o.docker;
    const root = this.#o.root;
    // Its mark, before anything is removed: a clobber killed part-way leaves the knot's record
    // with it, so that the knot, adopted again, is not built again (from a build directory
    // perhaps half removed) but clobbered, and `cloudknot knot clobber` again finishes it.
    await markClobber(root, "docker").catch((e) => {
      // A knot whose folder is gone: its containers and images are removed all the same.
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
    // A process driving one of its runs is asked to cancel it first, so that its items end
    // saying why, not as attempts whose containers were killed and whose image is gone.
    for (
      const entry of await Array.fromAsync(Deno.readDir(join(this.#o.root, "runs"))).catch(() => [])
    ) {
      if (entry.isDirectory && isRunName(entry.name)) {
        requestCancel(this.#runDir(entry.name), clobberedReason(this.#o.knot));
      }
    }
    const containers = await this.#containers({});
    await docker.removeContainer(containers.map((c) => c.name), { force: true, missingOk: true });
    await docker.removeImage(this.#o.image, { force: true, missingOk: true });
    // The images of the knot's earlier functions, untagged when it was created again with
    // another one (its runs ran them by id), are the knot's too: their label is the image's
    // name, which has its knot directory's id (`docker_knot.ts`), so no other knot's image has
    // it (but a knot made before images were named so shares its name with every knot of its
    // name made before).
    const label = this.#o.image.replace(/:[^:/]*$/, "").split("/").pop();
    const { stdout } = await docker.command([
      "images",
      "--quiet",
      "--no-trunc",
      "--filter",
      "dangling=true",
      "--filter",
      `label=org.cloudknot.image=${label}`,
    ]);
    const earlier = stdout.split("\n").filter((id) => id.trim() !== "");
    if (earlier.length > 0) await docker.removeImage(earlier, { missingOk: true }).catch(() => {});
    // A process driving one of its runs may write into it meanwhile (until it
    // finds a directory gone): the removal is tried again. The record goes after the rest, and
    // the mark after the record, so a clobber killed on the way leaves the knot to clobber again:
    // with its record, or without it, a folder that still holds the mark (`unfinishedDockerKnot`
    // calls it a clobber stopped part-way). So the mark is the last of the folder to go, after
    // the lock's file (this process holds its lock until it ends), and the folder goes empty.
    // A create that comes in between finds no lock's file and makes one: the folder is its own.
    const last = new Set([KNOT_RECORD_FILE, CLOBBERING_FILE, KNOT_LOCK_FILE]);
    const gone = (e: unknown) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    };
    let lockGone = false;
    for (let tries = 1;; tries++) {
      try {
        // A create of the knot that came once the lock's file was gone made it anew, and took
        // it: what is in the folder now is that create's.
        if (lockGone && await pathExists(join(root, KNOT_LOCK_FILE), { followLinks: false })) {
          return;
        }
        for (const entry of await Array.fromAsync(Deno.readDir(root))) {
          if (last.has(entry.name)) continue;
          await Deno.remove(join(root, entry.name), { recursive: true }).catch(gone);
        }
        await Deno.remove(join(root, KNOT_RECORD_FILE)).catch(gone);
        if (!options.keepFolder) {
          await Deno.remove(join(root, KNOT_LOCK_FILE)).catch(gone);
          lockGone = true;
        }
        await Deno.remove(join(root, CLOBBERING_FILE)).catch(gone);
        if (!options.keepFolder) await Deno.remove(root);
        return;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return;
        if (tries >= 5) throw e;
        await sleep(FOLLOW_MS);
      }
    }
  }
}

/**
 * A container's name: the run, the first item of its slice and the attempt,
 * so an attempt of a slice starts at most once.
 */
function containerName(runId: string, from: number, attempt: number): string {
  return `cloudknot-${runId}-${from}-${attempt}`;
}

/**
 * Items in flight in one container: its CPUs (the knot's `vcpus`, at least
 * one), as a Batch child runs as many as its job has vCPUs; 1 without
 * `vcpus`, as for a Batch job of the default 1 vCPU.
 */
function itemsInFlight(vcpus: number | undefined): number {
  return Math.max(1, Math.floor(vcpus ?? 1));
}

/**
 * How a run on this machine is sliced: `itemsPerJob` as given, or `"auto"`,
 * which sizes the run as AWS does for a compute environment of `concurrency`
 * containers: at most 2 × `concurrency` slices, so every container slot
 * stays busy while each container runs several items.
 */
function dockerSlicing(
  o: { concurrency: number; vcpus?: number },
  count: number,
  itemsPerJob: number | "auto",
): { slice: number; concurrency: number } {
  const vcpus = itemsInFlight(o.vcpus);
  if (count <= 1 || itemsPerJob === 1) return { slice: 1, concurrency: vcpus };
  return sliceRun({ vcpus, maxVcpus: o.concurrency * vcpus }, count, itemsPerJob);
}

/** The slices of a run, in item order, as the jobs and array children AWS would submit. */
function runChildren(manifest: DockerRunManifest): Child[] {
  const jobs = planGroups(manifest.count, manifest.groups ?? [], {
    slice: manifest.itemsPerJob ?? 1,
  });
  return jobs.flatMap((job, n) => {
    const parent = n === 0 ? manifest.runId : `${manifest.runId}-${n}`;
    return Array.from({ length: childCount(job) }, (_, k) => {
      const [from, to] = childItems(job, k);
      return { job, k, from, to, jobId: job.array ? `${parent}:${k}` : parent };
    });
  });
}

/**
 * What docker said when a command failed: its last error line, without the
 * command line its error also holds.
 */
function dockerSaid(e: unknown): string {
  return e instanceof DockerCommandError
    ? (e.tail.findLast((line) => /error/i.test(line)) ?? e.tail.at(-1) ?? e.message).trim()
    : e instanceof Error
    ? e.message
    : String(e);
}

/** The slice that runs an item. */
function childAt(children: readonly Child[], index: number): Child {
  let lo = 0;
  let hi = children.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (children[mid]!.from <= index) lo = mid;
    else hi = mid - 1;
  }
  return children[lo]!;
}

/** The items of a slice. */
function range(child: Child): number[] {
  return Array.from({ length: child.to - child.from }, (_, i) => child.from + i);
}

/** One of a run's containers, as `docker ps` lists it. */
export interface RunContainer {
  name: string;
  /** The run it runs. */
  runId: string;
  /** The first item of its slice. */
  index: number;
  attempt: number;
  /** It has not exited. */
  running: boolean;
  /** When it was made, in epoch milliseconds, when docker says. */
  createdAt?: number;
}

/**
 * The items of the slices these running containers run that have no record
 * ending them: no success, and no failure of the container's attempt or a
 * later one but a cancellation (which a handle writes without knowing how
 * the item ends).
 */
async function unendedItems(
  store: LocalStore,
  manifest: DockerRunManifest,
  containers: readonly RunContainer[],
): Promise<number[]> {
  const children = runChildren(manifest);
  const records = await allRecords(store);
  const items = new Set<number>();
  for (const c of containers) {
    if (!Number.isSafeInteger(c.index) || !Number.isSafeInteger(c.attempt)) continue;
    const child = childAt(children, c.index);
    if (child.from !== c.index) continue;
    for (const index of range(child)) {
      const ended = records.some((r) =>
        r.index === index &&
        (r.status === "ok" || (r.attempt >= c.attempt && r.kind !== "cancelled"))
      );
      if (!ended) items.add(index);
    }
  }
  return [...items].sort((a, b) => a - b);
}

/** The attempts of these containers, as `<first item>-<attempt>`. */
function attemptsOf(containers: readonly RunContainer[]): Set<string> {
  return new Set(containers.map((c) => `${c.index}-${c.attempt}`));
}

/**
 * The items these containers run: each running container's slice's items
 * without a record that ends them, at its attempt, from when it was made.
 */
function runningItems(
  containers: readonly RunContainer[],
  children: readonly Child[],
  control: RunControl,
): RunningAttempt[] {
  const items = new Map<number, RunningAttempt>();
  const now = Date.now();
  for (const c of containers) {
    if (!c.running || !Number.isSafeInteger(c.index) || !Number.isSafeInteger(c.attempt)) continue;
    const child = childAt(children, c.index);
    if (child.from !== c.index) continue;
    for (const index of range(child)) {
      if (control.isSettled(index) || (items.get(index)?.attempt ?? 0) >= c.attempt) continue;
      items.set(index, { index, attempt: c.attempt, startedAt: c.createdAt ?? now });
    }
  }
  return [...items.values()];
}

/** Epoch milliseconds of a time `docker ps` prints (`2026-12-04 21:15:20 +0000 UTC`). */
function dockerTime(text: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) ([+-]\d{2})(\d{2})/.exec(text);
  if (m === null) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2]}${m[3]}:${m[4]}`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A slice's command: a Batch array child's (or single job's) of that slice. */
function childCommand(manifest: DockerRunManifest, child: Child, dir: string): string[] {
  const { job } = child;
  const slice = job.slice ?? 1;
  return jobCommand({
    run: pathToFileURL(dir).href,
    starmap: manifest.starmap,
    ...(job.array ? { offset: job.offset } : { index: job.offset }),
    ...(slice > 1
      ? {
        slice,
        end: job.offset + job.size,
        concurrency: job.resources?.vcpus !== undefined
          ? itemsInFlight(job.resources.vcpus)
          : manifest.container.concurrency ?? 1,
      }
      : {}),
  });
}

/** The last lines of a slice attempt's log file; none when it cannot be read. */
async function logTail(file: string): Promise<string[]> {
  const text = await Deno.readTextFile(file).catch(() => "");
  return text.split("\n").slice(-LOG_TAIL_LINES);
}

/** The memory, CPUs and timeout of an item: its group's (a retry's), else the run's. */
function resourcesOf(
  manifest: DockerRunManifest,
  index: number,
): { memory?: number; vcpus?: number; timeout?: number } {
  const own = manifest.groups?.find((g) => index >= g.offset && index < g.offset + g.size)
    ?.resources;
  const { memory, vcpus, timeout } = { ...manifest.container, ...own };
  return defined({ memory, vcpus, timeout });
}

/** This user, so what the job writes in the bind-mounted run directory is the user's. */
function hostUser(): string | undefined {
  const uid = Deno.uid();
  const gid = Deno.gid();
  return uid === null || gid === null ? undefined : `${uid}:${gid}`;
}

/**
 * A run's store, whose directory is made once: when it is gone (its knot was
 * clobbered), writes fail with `Deno.errors.NotFound` instead of making it
 * again, as a `LocalStore` makes its root on a write.
 */
class RunStore extends LocalStore {
  override async put(key: string, body: Uint8Array | string): Promise<void> {
    const path = join(this.root, key);
    // Not made recursively: a removed root is not made again.
    await Deno.mkdir(dirname(path), { mode: 0o700 }).catch((e) => {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    });
    const tmp = `${path}.tmp-${Deno.pid}-${++runStoreWrites}`;
    await Deno.writeFile(tmp, typeof body === "string" ? new TextEncoder().encode(body) : body, {
      mode: 0o600,
    });
    await Deno.rename(tmp, path);
  }
}

let runStoreWrites = 0;

/**
 * What to do when a knot's image is gone from Docker, in a library user's words (the command
 * line's `inCliWords` gives its own).
 *
 * @param knot The knot's name.
 * @returns The advice.
 */
export function imageGoneAdvice(knot: string): string {
  return `open the knot again (Knot.create({ name: "${knot}", target: "docker" })), then run the ` +
    `items with run.retry(), which builds its image again from its build directory (or ` +
    `cloudknot retry ${knot}, which does both)`;
}

/**
 * Why the runs of a knot clobbered while they ran were cancelled: the error their items end with
 * (`KnotClobberedError`, with what to do), in every process that reads them.
 *
 * @param knot The knot's name.
 * @returns The reason, as `run.cancel()` takes it.
 */
export function clobberedReason(knot: string): { name: string; message: string } {
  return {
    name: KNOT_CLOBBERED_ERROR,
    message: `The run stopped because its knot ${CLOBBERED_WHILE_RUNNING}: create the knot ` +
      `again (Knot.create({ name: "${knot}", target: "docker", func })) and map the inputs again`,
  };
}

/** The run's directory is gone (its knot was clobbered): what `e` says then; else `undefined`. */
function goneError(e: unknown, dir: string): Error | undefined {
  if (!(e instanceof Deno.errors.NotFound)) return undefined;
  try {
    Deno.statSync(dir);
    return undefined;
  } catch {
    return new CloudknotError(
      `The run's directory ${dir} is gone (or was removed): its knot ${CLOBBERED_WHILE_RUNNING}; ` +
        `map the inputs again`,
      { cause: e },
    );
  }
}

/**
 * A write to a run's directory that the disk refused (full, over quota,
 * read-only), as an error that says so and what to do; `undefined` for any
 * other error.
 */
function diskError(e: unknown, what: string, dir: string, then: string): Error | undefined {
  if (!isDiskRefusal(e)) return undefined;
  const error = new CloudknotError(
    thenSentence(
      `Cannot ${what} in ${dir}: ${e.message}`,
      `Free space on that disk (the results already there stay readable), or pass the knot a ` +
        `dir on another disk (the dir option or CLOUDKNOT_LOCAL_DIR); then ${then}`,
    ),
    { cause: e },
  );
  error.name = "RunStoreError";
  return error;
}

/**
 * What keeps in the run the output of containers left on Docker because the
 * disk refused it, and removes them, once there is room: a reader that takes
 * the run over, as a retry does first.
 */
function keptAdvice(runId: string, knot: string): string {
  return `collect the run again (knot.collect("${runId}") of knot ${knot}) or retry it with ` +
    retryAdvice(knot, runId);
}

/** What stops a drive from starting attempts: a cancel, or letting go of the run. */
function stopsDriving(state: RunState): AbortSignal {
  return state.letGo ? AbortSignal.any([state.stop.signal, state.letGo]) : state.stop.signal;
}

/**
 * Whether another handle cancelled the run (`requestCancel`): if so, this one
 * cancels it too, with the same reason, and stops driving it.
 */
function cancelledElsewhere(state: RunState): boolean {
  if (state.stop.signal.aborted) return true;
  const reason = requestedCancel(state.dir);
  if (reason === undefined) return false;
  state.stop.abort();
  state.cancelledElsewhere = true;
  void state.cancel(reason);
  return true;
}

/**
 * Waits, after a drive ended, for the cancellations of the handle's cancel
 * (if one started) to be saved: the drive's lock goes only then.
 */
async function cancelSaved(state: RunState): Promise<void> {
  if (state.stop.signal.aborted) await state.cancelling?.promise;
}

/** The run's lock, held by whoever drives it; `undefined` when another process holds it. */
function takeLock(dir: string): Deno.FsFile | undefined {
  const file = Deno.openSync(join(dir, RUN_LOCK_FILES.docker), {
    read: true,
    write: true,
    create: true,
    mode: 0o600,
  });
  if (file.tryLockSync(true)) return file;
  file.close();
  return undefined;
}

// The run's records are read here only: the records a job wrote, by key.

/** Every record of the run, in the order they were written. */
async function allRecords(store: LocalStore): Promise<JobRecord[]> {
  const out: JobRecord[] = [];
  for await (const key of listRecords(store)) out.push(...await readRecords(store, key));
  return out;
}

/** The records one attempt of a slice wrote, by item: items `from` to `to − 1`. */
async function attemptRecords(
  store: LocalStore,
  from: number,
  to: number,
  attempt: number,
): Promise<Map<number, JobRecord>> {
  const out = new Map<number, JobRecord>();
  for await (const key of listRecords(store)) {
    if (key.attempt !== attempt || !mayHoldItems(key, from, to)) continue;
    for (const record of await readRecords(store, key)) {
      if (record.index >= from && record.index < to) out.set(record.index, record);
    }
  }
  return out;
}

/** The key of what the container of one attempt of a slice (by its first item) ended with. */
function attemptDetailKey(from: number, attempt: number): string {
  return `${ATTEMPT_DETAILS}/${from}-${attempt}.json`;
}

/**
 * Saves what the container of one attempt of a slice ended with (its exit
 * code, reason and log file, as DescribeJobs says of a Batch attempt), so
 * every process reading the run gives the job's error records of that
 * attempt the same details (`withBatchDetails`).
 */
async function saveAttemptDetail(
  store: LocalStore,
  from: number,
  attempt: number,
  job: JobDetail,
): Promise<void> {
  await store.put(attemptDetailKey(from, attempt), JSON.stringify(job));
}

/** What the container of one attempt of a slice ended with; `undefined` until it ended. */
async function readAttemptDetail(
  store: LocalStore,
  from: number,
  attempt: number,
): Promise<JobDetail | undefined> {
  const bytes = await store.get(attemptDetailKey(from, attempt));
  return bytes === undefined ? undefined : JSON.parse(new TextDecoder().decode(bytes));
}

/**
 * Whether a record still lacks its container's details: an error the job
 * wrote (the target's own records, and Batch's, carry a status reason; a
 * cancellation has no container to describe).
 */
function awaitsDetail(record: JobRecord): record is ErrorRecord {
  return record.status === "error" && record.statusReason === undefined &&
    record.kind !== "cancelled";
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
