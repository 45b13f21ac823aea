/**
 * What the local knots directory says of a docker knot, read without opening
 * it (the twin of `../local/catalog.ts` and `../aws/catalog.ts`): its record,
 * its runs and whether a clobber of it stopped part-way. Listing and showing
 * knots read it without loading `DockerImage` (which opening a knot loads),
 * and the docker target loads only when a run is read or collected.
 *
 * @module
 */
import { join } from "node:path";
import { Docker } from "../../docker/docker.ts";
import type { ArtifactSources } from "../../job/artifact_sources.ts";
import type { FunctionKind } from "../../job/function_artifact.ts";
import type { Permissions } from "../../job/permissions.ts";
import {
  CLOBBERING_KNOT,
  CREATING_KNOT,
  holdingKnot,
  KNOT_LOCK_FILE,
  knotBusyNotice,
  knotLockHeld,
  type KnotLockHolder,
  REMOVING_LEFTOVERS,
} from "../../store/knot_lock.ts";
import { CLOBBERING_FILE, clobberMarkTarget, dockerImageName } from "../../store/local_knots.ts";
import { pathExists } from "../../util/read_text.ts";
import type { LocalKnotOptions } from "../local/catalog.ts";
import { knotLimits } from "../machine_resources.ts";
import type { DockerTarget, RunContainer } from "./docker_target.ts";

/** The mark a knot's clobber leaves until it is done (`store/local_knots.ts`). */
export { CLOBBERING_FILE };

/** What a docker knot's `knot.json` holds. */
export interface DockerKnotRecord {
  /** The knot's name. */
  name: string;
  /** Always `"docker"`. */
  target: "docker";
  /**
   * The image the containers run, `cloudknot/<name>-docker-<id of the knot's directory>:local`
   * (knots made before images were named after their directory: `cloudknot/<name>-docker:local`).
   */
  image: string;
  /** The function's SHA-256, in hex. */
  hash: string;
  /** How the function was shipped. */
  kind: FunctionKind;
  /** The function's name. */
  functionName: string;
  /** When the knot was created, in epoch milliseconds. */
  createdAt: number;
  /** When the knot was last created or adopted, in epoch milliseconds. */
  updatedAt: number;
  /** Where a module's sources were when it was bundled (as a local knot's record keeps them). */
  sources?: ArtifactSources;
  /** What the function may do in its containers (records made before permissions: the default). */
  permissions?: Permissions;
  /**
   * The options of `Knot.create` the knot keeps, as last given (absent when none was, and in
   * records of earlier versions: their defaults).
   */
  options?: DockerKnotOptions;
}

/**
 * The options of `Knot.create` a docker knot keeps in its record, each as it
 * was last given: a local knot's ({@linkcode LocalKnotOptions}), and of its
 * own options those that are its containers', as an AWS knot's job
 * definition and Pars hold them: `vcpus` (each container's CPUs, the job
 * definition's vCPUs on AWS) and `network` (what the function reaches, as a
 * knot's Pars' network on AWS). The others are not the knot's: `baseImage`
 * shapes its image, whose build directory keeps it; `noImageCache` is one
 * build's; `docker`, `cloudknotDir` and `warn` are the calling process's.
 */
export interface DockerKnotOptions extends LocalKnotOptions {
  /** Each container's CPUs. */
  vcpus?: number;
  /** The containers' Docker network. */
  network?: string;
}

/** A docker knot's runs, read without adopting the knot (see {@linkcode dockerRuns}). */
export interface DockerRunsReader extends Pick<DockerTarget, "runs" | "collect" | "isLive"> {
  /**
   * The containers of each of the knot's runs that run now, by run id (runs
   * with none are left out), from one `docker ps` over the knot's
   * containers: a run whose process is gone may still have containers that
   * run its items, which a `collect()` takes over. A reading of several runs
   * gives it to each `collect()` (its `running`), so Docker is asked once.
   */
  runningContainers(): Promise<ReadonlyMap<string, RunContainer[]>>;
}

/**
 * Access to a docker knot's runs without adopting (or building) the knot:
 * list them, collect one (finishing it unless `finish: false`), and count
 * the containers of each that run now. The docker target's module loads at
 * the first call but the last's.
 *
 * @example Usage
 * ```ts ignore
 * import { dockerRuns } from "./catalog.ts";
 *
 * const runs = dockerRuns({ root: "/home/me/.cloudknot/local/squares", record });
 * console.log((await runs.runs()).length);
 * ```
 *
 * @param knot The knot's directory and record.
 * @param docker The docker driver. @default {"new Docker()"}
 * @returns Its runs' reader.
 */
export function dockerRuns(
  knot: { root: string; record: DockerKnotRecord },
  docker: Docker = new Docker(),
): DockerRunsReader {
  let opened: Promise<DockerTarget> | undefined;
  const target = () =>
    opened ??= import("./docker_target.ts").then(({ DockerTarget }) =>
      new DockerTarget({
        knot: knot.record.name,
        root: knot.root,
        image: knot.record.image,
        // Finishing a run another process left, or retrying one, runs the knot's containers at
        // once (its attempts and limits are the run's own).
        concurrency: knotLimits(knot.record.options).concurrency,
        attempts: 1,
        docker,
      })
    );
  return {
    runs: async () => await (await target()).runs(),
    collect: async (runId, options) => await (await target()).collect(runId, options),
    isLive: async (runId) => await (await target()).isLive(runId),
    // Running ones only: a container created but never started runs nothing until a
    // collect() starts it.
    runningContainers: async () => await (await target()).runningContainers(),
  };
}

/** How a docker knot's clobber stands, in the words of an AWS knot's record. */
export interface DockerClobberState {
  /** When the clobber began (its mark was written), in epoch milliseconds. */
  clobberStartedAt: number;
  /** Whether a process holds the knot's lock now (clobbering it still); `false`: it stopped part-way. */
  clobberRunning: boolean;
}

/**
 * Whether the clobber of the docker knot in `root` has not finished: its mark
 * ({@linkcode CLOBBERING_FILE}) is there, and since when; a process holding
 * the knot's lock is clobbering it still (or finishing that clobber), else it
 * was stopped part-way, and `cloudknot knot clobber` (adopting the knot) or
 * a create of it finishes it. `undefined` when there is no such mark.
 *
 * @example Usage
 * ```ts ignore
 * const state = await dockerClobberState("/home/me/.cloudknot/local/squares");
 * if (state?.clobberRunning === false) console.log("clobber unfinished");
 * ```
 *
 * @param root The knot's folder.
 * @returns When its clobber began and whether it still runs, or `undefined`.
 */
export async function dockerClobberState(root: string): Promise<DockerClobberState | undefined> {
  const clobberStartedAt = await clobberMarkedAt(root);
  if (clobberStartedAt === undefined) return undefined;
  return { clobberStartedAt, clobberRunning: await knotLockHeld(root) !== undefined };
}

/** When the clobber whose mark is in the folder `root` began; `undefined` without a mark. */
async function clobberMarkedAt(root: string): Promise<number | undefined> {
  const mark = await Deno.lstat(join(root, CLOBBERING_FILE)).catch((e) => {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  });
  return mark === undefined ? undefined : (mark.mtime ?? new Date()).getTime();
}

/** A docker knot's folder without the knot's record (see {@linkcode unfinishedDockerKnot}). */
export interface UnfinishedDockerKnot {
  /** The knot's folder. */
  root: string;
  /** A process holds the knot's lock now (see `activity`). */
  running: boolean;
  /**
   * What the process holding the knot's lock does, when `running`, as it
   * wrote it (its holder's `doing`): `"creating"` the knot, `"clobbering"` it
   * (a clobber that removed its record already, or that removes what a
   * stopped create left), or `"other"` (it adopts the knot, builds its image
   * for a map, or has not said).
   */
  activity?: "creating" | "clobbering" | "other";
  /** Who holds it, when it said. */
  holder?: KnotLockHolder;
  /**
   * When a clobber of the knot began, in epoch milliseconds, while its mark
   * ({@linkcode CLOBBERING_FILE}) is there: a clobber that removed the knot's
   * record and had not finished (stopped part-way when not `running`).
   */
  clobberStartedAt?: number;
  /**
   * `"local"` when the folder is what a local knot's clobber killed at the
   * very end left (its mark alone, which names its target): no docker knot,
   * and what finishes that clobber asks nothing of Docker.
   */
  target?: "local";
}

/**
 * Whether the folder `root` holds a docker knot that was never finished: its
 * lock's file ({@linkcode KNOT_LOCK_FILE}), which a create makes first, but
 * no record (`knot.json`), which it writes last. A create killed (or failed: its build, say) in between
 * leaves it so (its build directory and image perhaps made). So does a
 * clobber killed once it removed the record, which leaves its mark
 * ({@linkcode CLOBBERING_FILE}, the last of the folder it removes, after the
 * lock's file): `clobberStartedAt` says so. A create of the knot again makes
 * it anew in that folder (finishing such a clobber first);
 * {@linkcode clobberUnfinishedDockerKnot} removes what it left. `running`
 * when a process holds the knot's lock now, and its `activity` what that
 * process said it does: a create under way, or a clobber (which removes the
 * record before the folder); `undefined` for a knot's folder, a folder of no
 * docker knot, or one a process removing a gone knot's leftovers holds for
 * that time. A local knot's clobber killed once it removed the knot's record
 * leaves the mark alone, which names its target: said so (`target:
 * "local"`), never as a docker knot.
 *
 * @example Usage
 * ```ts ignore
 * const unfinished = await unfinishedDockerKnot("/home/me/.cloudknot/local/squares");
 * if (unfinished?.running === false) console.log("a create of it was stopped");
 * if (unfinished?.activity === "clobbering") console.log("being clobbered");
 * ```
 *
 * @param root The knot's folder.
 * @returns What is there, or `undefined`.
 */
export async function unfinishedDockerKnot(
  root: string,
): Promise<UnfinishedDockerKnot | undefined> {
  if (await recorded(root)) return undefined;
  const clobberStartedAt = await clobberMarkedAt(root);
  if (
    clobberStartedAt === undefined &&
    !await pathExists(join(root, KNOT_LOCK_FILE), { followLinks: false })
  ) {
    return undefined;
  }
  const clobbering = clobberStartedAt === undefined ? {} : { clobberStartedAt };
  // A local knot's clobber: it holds no lock, and nothing of it is Docker's.
  if (clobberStartedAt !== undefined && await clobberMarkTarget(root) === "local") {
    return { root, running: false, ...clobbering, target: "local" };
  }
  const held = await knotLockHeld(root);
  if (held === undefined) return { root, running: false, ...clobbering };
  const doing = held.holder?.doing;
  if (doing === REMOVING_LEFTOVERS) return undefined;
  const activity = doing === CREATING_KNOT
    ? "creating"
    : doing === CLOBBERING_KNOT
    ? "clobbering"
    : "other";
  return {
    root,
    running: true,
    activity,
    ...(held.holder ? { holder: held.holder } : {}),
    ...clobbering,
  };
}

/** Whether the folder `root` holds a docker knot's record (`knot.json`). */
function recorded(root: string): Promise<boolean> {
  return pathExists(join(root, "knot.json"), { followLinks: false });
}

/**
 * Removes what a docker knot that was never finished
 * ({@linkcode unfinishedDockerKnot}) left, as its clobber removes a knot: its
 * containers, its image (named after its folder) and its folder, holding the
 * knot's lock (a create of it meanwhile finishes first). Holding it, it looks
 * again: when the folder holds the knot's record by then (a create of the
 * knot started and finished since the caller looked, while its user was
 * asked to confirm, say, or while this waited for the lock), it removes
 * nothing and resolves to `false`, as that knot is a knot now, whose own
 * clobber is what removes it.
 *
 * @example Usage
 * ```ts ignore
 * if (!await clobberUnfinishedDockerKnot({ name: "squares", root }, new Docker(), console.warn)) {
 *   console.warn("a create of squares finished meanwhile: nothing was removed");
 * }
 * ```
 *
 * @param knot The knot's name and folder.
 * @param docker The docker driver.
 * @param warn Where the notice that it waits for another process goes.
 * @returns Whether it removed what was left; `false` when the knot was recorded meanwhile.
 */
export async function clobberUnfinishedDockerKnot(
  knot: { name: string; root: string },
  docker: Docker,
  warn: (message: string) => void,
): Promise<boolean> {
  const { DockerTarget } = await import("./docker_target.ts");
  const target = new DockerTarget({
    knot: knot.name,
    root: knot.root,
    image: `cloudknot/${await dockerImageName(knot.root)}:local`,
    concurrency: 1,
    attempts: 1,
    docker,
    warn,
  });
  return await holdingKnot(knot.root, async () => {
    if (await recorded(knot.root)) return false;
    await DockerTarget.clobberHeld(target);
    return true;
  }, {
    make: false,
    doing: CLOBBERING_KNOT,
    onWait: (holder) =>
      warn(
        knotBusyNotice(
          knot.name,
          knot.root,
          "removes what a stopped create of it left, unless the knot is recorded by then",
          holder,
        ),
      ),
  });
}
