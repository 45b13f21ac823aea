/**
 * Opening a knot on the docker target: its image built on this machine with
 * `DockerImage` (no repository, no push, no AWS request), and its record in
 * the local knots directory, `<dir>/<name>/knot.json`, next to the image's
 * build directory (`image/`), the image's record (`image.ini`, not the
 * cloudknot config file) and its runs (`runs/<runId>/`).
 *
 * @module
 */
import { join } from "node:path";
import { Docker } from "../../docker/docker.ts";
import type { ArtifactSources } from "../../job/artifact_sources.ts";
import { artifactOf } from "../../job/artifact_of.ts";
import type { FunctionArtifact, FunctionKind } from "../../job/function_artifact.ts";
import type { Permissions } from "../../job/permissions.ts";
import {
  otherRuntimeWords,
  readRuntimeProtocol,
  RUNTIME_PROTOCOL,
  RUNTIME_PROTOCOL_LABEL,
} from "../../job/runtime_protocol.ts";
import { DockerImage } from "../../image/docker_image.ts";
import { StateFile } from "../../state/state_file.ts";
import { LocalStore } from "../../store/local.ts";
import { checkKnotsDir, dockerImageName } from "../../store/local_knots.ts";
import { defined } from "../../util/defined.ts";
import { CloudknotError, CloudknotInputError } from "../../util/errors.ts";
import {
  clobberedArtifact,
  localKnotsDir,
  readLocalKnotRecord,
  saveLocalKnotRecord,
} from "../local/catalog.ts";
import type { OpenedKnot } from "../target.ts";
import { keptOptions, type LocalKnotSpec } from "../local/local_knot.ts";
import {
  checkKeptResources,
  DEFAULT_RETRIES,
  defaultConcurrency,
  knotLimits,
} from "../machine_resources.ts";
import { DockerTarget, type DockerTargetOptions } from "./docker_target.ts";
import {
  CLOBBERING_FILE,
  type DockerKnotOptions,
  type DockerKnotRecord,
  unfinishedDockerKnot,
} from "./catalog.ts";
import { pathExists } from "../../util/read_text.ts";
import { CREATING_KNOT, holdingKnot, knotBusyNotice } from "../../store/knot_lock.ts";
import { refuseMissingNetwork } from "./knot_options.ts";

/** The tag of a docker knot's image. */
const TAG = "local";

/**
 * What a docker knot is made from: its function (as a local knot's), its
 * containers' limits, its build. Of the limits and the network, one absent
 * is the knot's own (its record's, see {@linkcode DockerKnotOptions}), else
 * its default.
 */
export interface DockerKnotSpec extends
  Pick<
    LocalKnotSpec,
    | "name"
    | "func"
    | "module"
    | "exportName"
    | "files"
    | "dir"
    | "permissions"
    | "concurrency"
    | "attempts"
    | "timeout"
    | "memory"
  >,
  Pick<DockerTargetOptions, "vcpus" | "network"> {
  /** The image's base image. */
  baseImage?: string;
  /** Build without Docker's layer cache. */
  noImageCache?: boolean;
  /** The docker driver. @default {"new Docker()"} */
  docker?: Docker;
  /** cloudknot's own directory (the runtime bundle cache). */
  cloudknotDir?: string;
  /** Where build notices and the target's warnings go. */
  warn?: (message: string) => void;
}

/**
 * The image a docker knot of this name in this knots directory runs: the one
 * its record names, else (a new knot) `cloudknot/<name>-docker-<id>:local`,
 * where `<id>` is the short id of the knot's directory (`knotDirId`).
 * Docker has one set of image names for every user and project of this
 * machine: a name of the knot's own means that a knot of the same name in
 * another knots directory (another `HOME`, another `dir`) neither runs this
 * knot's image nor removes it when it is clobbered.
 *
 * @example Usage
 * ```ts ignore
 * import { dockerKnotImage } from "./docker_knot.ts";
 *
 * console.log(await dockerKnotImage({ name: "squares" })); // "cloudknot/squares-docker-…:local"
 * ```
 *
 * @param spec The knot's name and its knots directory.
 * @returns The image's local reference.
 */
export async function dockerKnotImage(spec: Pick<DockerKnotSpec, "name" | "dir">): Promise<string> {
  const root = join(localKnotsDir({ dir: spec.dir }), spec.name);
  const saved: { target: string; image?: string } | undefined = await readLocalKnotRecord(
    new LocalStore(root),
  );
  return imageFor(root, saved);
}

/** The image of the knot in `root`, whose record (if any) is `saved`: see {@linkcode dockerKnotImage}. */
async function imageFor(root: string, saved?: { image?: string }): Promise<string> {
  // A knot is adopted by the image its record names, so a knot made before keeps its image.
  if (saved?.image !== undefined && /^cloudknot\/[a-z0-9._-]+:local$/.test(saved.image)) {
    return saved.image;
  }
  return `cloudknot/${await dockerImageName(root)}:${TAG}`;
}

/**
 * Creates a docker knot, or adopts the one of that name: builds its image
 * locally when a function is given (Docker's layer cache makes an unchanged
 * one quick), when the image is gone, or when its `org.cloudknot.runtime`
 * label says it runs the job runtime of another cloudknot version (with a
 * warning), and writes its record.
 *
 * @example Usage
 * ```ts ignore
 * import { openDockerKnot } from "./docker_knot.ts";
 *
 * const { target } = await openDockerKnot({ name: "k", func: (x: number) => x, concurrency: 2, attempts: 3 });
 * ```
 *
 * @param spec The name, the function, the containers' limits and the build's options.
 * @returns The knot's artifact and target.
 */
export async function openDockerKnot(spec: DockerKnotSpec): Promise<OpenedKnot<DockerTarget>> {
  const knots = localKnotsDir({ dir: spec.dir });
  await checkKnotsDir(knots, "the dir option or CLOUDKNOT_LOCAL_DIR");
  const root = join(knots, spec.name);
  const store = new LocalStore(root);
  const fresh = spec.func !== undefined || spec.module !== undefined;
  // Checked before the knot's folder is made: a knot that cannot be opened leaves none.
  const saved = await savedRecord(store, spec, fresh);
  // Kept from another machine (or from this one before it changed): refused before anything.
  if (saved?.options !== undefined) {
    checkKeptResources("docker", spec.name, saved.options, {
      ...keptOptions(spec),
      ...defined({ vcpus: spec.vcpus }),
    });
  }
  // The network given. The knot's own, when none is, is checked as a run starts (DockerTarget's
  // map): a knot whose network was removed still opens, so that its runs can be read and taken
  // over (their containers that cannot start fail as Batch's do).
  await refuseMissingNetwork(spec.docker ?? new Docker(), spec.network, spec.name);
  // The function is packaged (its files checked) before the knot's folder is made: one that
  // is refused leaves no folder behind.
  const given = await artifactOf(spec, defined({ warn: spec.warn }));
  // Its build folder is written, built, and its record written, holding the knot's lock: a
  // second process opening the knot meanwhile waits, then builds its own function (or adopts
  // the knot) in turn, so neither builds the other's function under its own record.
  // An adoption does not make again the folder of a knot clobbered meanwhile.
  return await holdingKnot(root, () => openHeld(spec, { root, store, fresh, given }), {
    make: fresh,
    doing: fresh ? CREATING_KNOT : "adopts it",
    onWait: (holder) =>
      (spec.warn ?? console.warn)(
        knotBusyNotice(
          spec.name,
          root,
          fresh ? "creates it with its own function" : "adopts it",
          holder,
        ),
      ),
  });
}

/** What a docker knot's `knot.json` holds, as read back (records of every version). */
interface SavedRecord {
  target: string;
  createdAt: number;
  hash: string;
  image?: string;
  functionName?: string;
  sources?: ArtifactSources;
  permissions?: Permissions;
  options?: DockerKnotOptions;
}

/**
 * The knot's record, checked: a knot of another target is refused, and so is
 * adopting (no function given) a knot that does not exist.
 */
async function savedRecord(
  store: LocalStore,
  spec: DockerKnotSpec,
  fresh: boolean,
): Promise<SavedRecord | undefined> {
  // Reading the record remembers where the sources of its module are.
  const saved: SavedRecord | undefined = await readLocalKnotRecord(store);
  if (saved !== undefined && saved.target !== "docker") {
    throw new CloudknotInputError(
      `The knot named "${spec.name}" in ${store.root} runs on the ${
        saved.target ?? "local"
      } target, not on docker: choose another name, or clobber that knot first`,
      { field: "name" },
    );
  }
  if (!fresh && saved === undefined) {
    // A create of it killed (or failed) before it recorded the knot left its folder: said so.
    const unfinished = await unfinishedDockerKnot(store.root);
    throw new CloudknotInputError(
      unfinished === undefined
        ? `There is no docker knot named "${spec.name}" to adopt: pass func, or module and ` +
          `exportName, to create it`
        : unfinished.activity === "clobbering"
        ? `Docker knot "${spec.name}" is being clobbered by another process now (in ` +
          `${store.root}): there is no knot to adopt. Pass func, or module and exportName, to ` +
          `create it anew (the create waits for that clobber to finish)`
        : !unfinished.running && unfinished.clobberStartedAt !== undefined
        ? `${unfinished.target === "local" ? "Local" : "Docker"} knot "${spec.name}" was being ` +
          `clobbered, and that clobber stopped part-way ` +
          `(it was killed, or failed) after it removed the knot's record, in ${store.root}: ` +
          `there is no knot to adopt. Pass func, or module and exportName, to create it anew ` +
          `(the create finishes that clobber first)`
        : `Docker knot "${spec.name}" was never finished: a create of it ${
          unfinished.running ? "runs in another process now" : "stopped (it was killed, or failed)"
        } before it recorded the knot, in ${store.root}. Pass func, or module and exportName, ` +
          `to create it there anew (then knot.clobber() removes it, if it is not wanted)`,
      { field: "func" },
    );
  }
  return saved;
}

/** Opens the knot, holding its lock (`store/knot_lock.ts`). */
async function openHeld(
  spec: DockerKnotSpec,
  held: { root: string; store: LocalStore; fresh: boolean; given: FunctionArtifact | undefined },
): Promise<OpenedKnot<DockerTarget>> {
  const { root, store, fresh, given } = held;
  const docker = spec.docker ?? new Docker();
  const finished = await finishClobber(spec, { root, store, fresh, docker });
  if (finished !== undefined) return finished;
  // Read again: another process may have created the knot, or clobbered it, since.
  const saved = await savedRecord(store, spec, fresh);
  const ref = await imageFor(root, saved);
  const image = await DockerImage.create({
    name: ref.slice("cloudknot/".length, -`:${TAG}`.length),
    ...(spec.func !== undefined ? { func: spec.func } : {}),
    ...(spec.module !== undefined ? { module: spec.module } : {}),
    ...(spec.exportName !== undefined ? { exportName: spec.exportName } : {}),
    ...(spec.files !== undefined ? { files: [...spec.files] } : {}),
    ...(spec.baseImage !== undefined ? { baseImage: spec.baseImage } : {}),
    ...(spec.cloudknotDir !== undefined ? { cloudknotDir: spec.cloudknotDir } : {}),
    ...(spec.warn !== undefined ? { warn: spec.warn } : {}),
    dir: join(root, "image"),
    overwrite: true,
    docker,
    // The image's record stays with the knot, out of the cloudknot config file.
    state: new StateFile({ path: join(root, "image.ini"), env: () => undefined }),
  }, defined({ artifact: given }));
  // Built without `hold` (which an AWS knot's create uses): a hold keeps a build whose local
  // tags other builds of the same name may take until push() tags it for its repository. This
  // image is never pushed, its name is its knot directory's alone (so only this knot, created
  // again, retags it, as it means to), and each run runs the image by the id it had when the
  // run started, while the clobber of this knot alone removes its earlier images: a hold tag
  // would protect nothing, and would stay on the image with nothing to release it.
  const build = () =>
    image.build({
      tags: [TAG],
      ...(spec.noImageCache ? { noCache: true } : {}),
      ...(spec.warn !== undefined ? { warn: spec.warn } : {}),
    });
  const found = fresh ? undefined : await docker.inspectImage(ref);
  // An image built by another cloudknot version runs its job runtime, whose protocol this
  // version's runs may not speak: built again from its build directory with this one's.
  const runtime = readRuntimeProtocol(found?.Config?.Labels?.[RUNTIME_PROTOCOL_LABEL]);
  if (found !== undefined && runtime !== RUNTIME_PROTOCOL) {
    (spec.warn ?? console.warn)(
      `cloudknot: docker knot ${spec.name}'s image ${ref} ran ${otherRuntimeWords(runtime)}: ` +
        `it is built again from its build ` +
        `directory with this version's; its runs are kept, and their retries run on it`,
    );
  }
  // The id of the image this knot's maps run, which another process creating the knot again
  // with another function may take the image's name from.
  // A knot opened by name whose image is gone from Docker builds it at its next map or retry
  // (`knotImage`), not here: a clobber, a reader, never build what they do not run.
  const imageId = found !== undefined && runtime === RUNTIME_PROTOCOL
    ? found.Id
    : fresh || found !== undefined
    ? (await build()).imageId
    : undefined;
  const built: FunctionArtifact = image.artifact!;
  // An image restored from its build directory keeps the record's function name (the build
  // directory knows only the image's) and sources when its function is the same.
  const same = saved?.hash === built.hash;
  const sources = built.sources ?? (same ? saved?.sources : undefined);
  const artifact: FunctionArtifact = {
    ...built,
    ...(!fresh && same && saved?.functionName !== undefined ? { name: saved.functionName } : {}),
    ...(sources !== undefined ? { sources } : {}),
  };
  // Adopting a knot keeps its permissions and its options unless others are given, as on the
  // local target; written at once, as this process holds the knot's lock.
  const record = await saveLocalKnotRecord<DockerKnotRecord>(
    store,
    { name: spec.name, target: "docker", image: ref },
    {
      artifact,
      saved,
      permissions: spec.permissions,
      options: { ...keptOptions(spec), ...defined({ vcpus: spec.vcpus, network: spec.network }) },
    },
  );
  const target = new DockerTarget({
    knot: spec.name,
    root,
    image: ref,
    imageId,
    ...knotLimits(record.options),
    docker,
    // The knot's image now, for a retry, and for a map whose own image was removed from Docker
    // since: read, or built again from the build directory, holding the knot's lock, so never
    // from a build directory another process is writing, and for a map only while the knot's
    // function is still this handle's (its build directory holds another's once the knot is
    // created again).
    knotImage: ({ retry }) =>
      knotImageNow(spec, { root, store, ref, docker, build, hash: artifact.hash, retry }),
    ...defined({ network: record.options?.network }),
    permissions: record.permissions!,
    ...(spec.warn !== undefined ? { warn: spec.warn } : {}),
  });
  return { artifact, target };
}

/**
 * Finishes the clobber of the knot that was stopped part-way (killed), which
 * left its mark ({@linkcode CLOBBERING_FILE}) with the knot's record: the
 * knot is not built again from a build directory the clobber may have half
 * removed (where it said there was "no image to restore"), but removed, with
 * a notice. Adopting it then gives a handle of the clobbered knot (whose
 * clobber is done, and whose map says to create it again); creating it goes
 * on in the emptied folder. `undefined` when there is no such mark, or the
 * knot is created.
 */
async function finishClobber(
  spec: DockerKnotSpec,
  held: { root: string; store: LocalStore; fresh: boolean; docker: Docker },
): Promise<OpenedKnot<DockerTarget> | undefined> {
  const { root, store, fresh, docker } = held;
  if (!await pathExists(join(root, CLOBBERING_FILE), { followLinks: false })) return undefined;
  const left: (SavedRecord & { kind?: FunctionKind }) | undefined = await readLocalKnotRecord(
    store,
  ).catch(() => undefined);
  const target = new DockerTarget({
    knot: spec.name,
    root,
    image: await imageFor(root, left),
    concurrency: defaultConcurrency(),
    attempts: DEFAULT_RETRIES,
    docker,
    ...(spec.warn !== undefined ? { warn: spec.warn } : {}),
  });
  await DockerTarget.clobberHeld(target, { keepFolder: fresh });
  (spec.warn ?? console.warn)(
    `cloudknot: the clobber of docker knot ${spec.name} (in ${root}) was stopped part-way ` +
      `before; it is finished now (its containers, images, runs and record removed)` +
      (fresh ? `, and the knot is created anew` : ""),
  );
  if (fresh) return undefined;
  // No knot is left to adopt: said as for any knot that is not there.
  if (left === undefined) await savedRecord(store, spec, false);
  return { artifact: clobberedArtifact(left, spec.name), target };
}

/** See `knotImage` in {@linkcode openDockerKnot}. */
async function knotImageNow(
  spec: DockerKnotSpec,
  knot: {
    root: string;
    store: LocalStore;
    ref: string;
    docker: Docker;
    build: () => Promise<{ imageId: string }>;
    hash: string;
    retry: boolean;
  },
): Promise<string> {
  const { name } = spec;
  const clobbered = () =>
    new CloudknotError(
      `Docker knot ${name} was clobbered since this handle opened it, its image with it: create ` +
        `it again (Knot.create({ name: "${name}", target: "docker", func })) and map the items ` +
        `again`,
    );
  // A clobbered knot's folder is not made again to wait in: its record is gone.
  return await holdingKnot(knot.root, async () => {
    const now: { hash: string; functionName?: string } | undefined = await readLocalKnotRecord(
      knot.store,
    );
    if (now === undefined) throw clobbered();
    if (!knot.retry && now.hash !== knot.hash) {
      throw new CloudknotError(
        `The image this handle of docker knot ${name} opened is gone from Docker, and another ` +
          `process has created the knot again since with another function (${
            now.functionName ?? now.hash
          }): create the knot again with this function (Knot.create({ name: "${name}", ` +
          `target: "docker", func })) to map it, or open it by name (Knot.create({ name: ` +
          `"${name}", target: "docker" })) to map its function now`,
      );
    }
    return (await knot.docker.inspectImage(knot.ref))?.Id ?? (await knot.build()).imageId;
  }, {
    make: false,
    doing: "reads its image, or builds it again, for a map",
    onWait: (holder) =>
      (spec.warn ?? console.warn)(
        knotBusyNotice(name, knot.root, knot.retry ? "retries the run" : "maps", holder),
      ),
  });
}
