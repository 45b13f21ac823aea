/**
 * The containers and images of docker knots whose folder is gone: a knot's
 * clobber removes its containers, its images and its folder, but a container
 * a process driving one of its runs started as the clobber ran, and that
 * process was killed before it removed it, stays on Docker with the image it
 * uses, and nothing will ever remove them: no knot is left to clobber.
 *
 * Whose they are is read from Docker, not guessed. Each container of a docker
 * knot is labelled with the knot's folder (`org.cloudknot.knot-dir`, an
 * absolute path), so its knots directory is the folder's parent: only the
 * containers of the knots directory looked at are judged, never another's
 * (another `HOME`, another `dir`), and only those whose knot's folder is not
 * there. A knot's image is named after its folder
 * (`<name in lower case>-docker-<id of the folder>`, its `org.cloudknot.image`
 * label): an image is judged only when a folder of that knots directory gives
 * that name (its name in lower case, or that of a container's knot), that
 * folder is not there, its tags are all its knot's, and no container but such
 * leftovers uses it. An image of a gone knot whose name has capital letters
 * is found by trying each spelling of its name (up to 10 letters), whose
 * folder's id the image's name holds. An image of a knot made before images
 * were named after their folder (`<name>-docker`) is never judged: nothing in
 * it says which knots directory (nor which `HOME`) its knot was in.
 *
 * A knot being created has its folder from before it builds anything, so its
 * containers and images are never judged. Each removal is done holding the
 * lock of the knot's folder, made for that time (`whileKnotGone`): a create
 * of the knot meanwhile waits, and a knot there again keeps them.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import type { Docker } from "../docker/docker.ts";
import type { DockerImageInfo } from "../docker/types.ts";
import {
  DockerDaemonNotRunningError,
  DockerError,
  DockerNotInstalledError,
} from "../docker/errors.ts";
import {
  DOCKER_CONTAINER_LABELS,
  dockerImageName,
  type EnvLookup,
  IMAGE_NAME_LABEL,
  localKnotsDir,
} from "../store/local_knots.ts";
import { whileKnotGone } from "../store/knot_lock.ts";
import { CommandTimeoutError } from "../util/command_limit.ts";
import { CloudknotError } from "../util/errors.ts";
import { pathExists } from "../util/read_text.ts";

/** A container or an image of a docker knot whose folder is gone. */
export interface DockerLeftover {
  /** What it is. */
  kind: "container" | "image";
  /** The container's name, or the image's id (`sha256:…`). */
  id: string;
  /** The knot's folder, which is gone. */
  dir: string;
  /** The run of a container. */
  run?: string;
  /** Whether a container still runs. */
  running?: boolean;
  /** The tags of an image (none when it is untagged). */
  tags?: string[];
}

/** What {@linkcode findDockerLeftovers} found, or why it could not look. */
export interface DockerLeftovers {
  /** The leftovers, containers first. */
  found: DockerLeftover[];
  /** Why Docker was not looked at (not installed, not running), when it was not. */
  skipped?: string;
}

/** Where to look: the knots directory and the environment. */
export interface DockerLeftoverOptions {
  /** The directory of the local and docker knots. @default {"$CLOUDKNOT_LOCAL_DIR, else ~/.cloudknot/local"} */
  dir?: string;
  /** Reads `CLOUDKNOT_LOCAL_DIR`. @default {Deno.env.get} */
  env?: EnvLookup;
}

/** The name an image of a docker knot has: `<name in lower case>-docker-<id of its folder>`. */
const KNOT_IMAGE = /^([a-z0-9._-]+)-docker-[0-9a-f]{16}$/;

/**
 * The letters of a knot's name in lower case up to which gc tries each of its
 * spellings in capitals: an image's name keeps the knot's name in lower case
 * and the id of its folder's path, which has the name as spelt, so a gone
 * knot named with capitals is found by trying them (2^letters ids, 1,024 at
 * most). A longer name with capitals is judged only by a container of its
 * knot left beside the image.
 */
const CASE_LETTERS = 10;

/** The spellings of a name in lower case with any of its letters in capitals (itself alone past {@linkcode CASE_LETTERS} letters). */
function caseVariants(lower: string): string[] {
  const letters = [...lower].flatMap((c, i) => /[a-z]/.test(c) ? [i] : []);
  if (letters.length === 0 || letters.length > CASE_LETTERS) return [lower];
  const variants: string[] = [];
  for (let mask = 0; mask < 1 << letters.length; mask++) {
    const chars = [...lower];
    letters.forEach((at, bit) => {
      if (mask & (1 << bit)) chars[at] = chars[at]!.toUpperCase();
    });
    variants.push(chars.join(""));
  }
  return variants;
}

/** Whether anything is at a path, a link counting as itself. */
function exists(path: string): Promise<boolean> {
  return pathExists(path, { followLinks: false });
}

/** The lines of a command's output. */
function lines(text: string): string[] {
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
}

/** Why Docker could not be asked, in a sentence's words; `undefined` for any other error. */
function unreachable(e: unknown): string | undefined {
  if (e instanceof DockerNotInstalledError) return `Docker is not installed (no "${e.binary}")`;
  if (e instanceof DockerDaemonNotRunningError) {
    return e.problem === "permission-denied"
      ? `this user may not use the Docker daemon (${e.detail.trim()})`
      : `the Docker daemon is not running (${e.detail.trim()})`;
  }
  if (e instanceof CommandTimeoutError) return `Docker did not answer (${e.message})`;
  if (e instanceof DockerError) return `Docker failed (${e.message})`;
  return undefined;
}

/** The names of the containers that use an image (or an image made from it). */
async function usersOf(docker: Docker, id: string): Promise<string[]> {
  const { stdout } = await docker.command([
    "ps",
    "--all",
    "--no-trunc",
    "--filter",
    `ancestor=${id}`,
    "--format",
    "{{.Names}}",
  ]);
  return lines(stdout);
}

/** Whether every tag of an image is its knot's own (`cloudknot/<name>:<tag>`). */
function ownTags(tags: readonly string[], name: string): boolean {
  return tags.every((t) => t.startsWith(`cloudknot/${name}:`));
}

/**
 * The containers and images of the docker knots of a knots directory whose
 * folder is gone. It only reads. When Docker cannot be asked (not installed,
 * not running), it finds nothing and says why in `skipped`.
 *
 * @example Usage
 * ```ts ignore
 * import { findDockerLeftovers } from "./_docker_leftovers.ts";
 *
 * const { found, skipped } = await findDockerLeftovers(new Docker(), { dir: "/data/knots" });
 * ```
 *
 * @param docker The Docker driver.
 * @param options Where the knots are.
 * @returns The leftovers, containers first, or why Docker was skipped.
 */
export async function findDockerLeftovers(
  docker: Docker,
  options: DockerLeftoverOptions = {},
): Promise<DockerLeftovers> {
  try {
    return { found: await find(docker, localKnotsDir(options)) };
  } catch (e) {
    const why = unreachable(e);
    if (why === undefined) throw e;
    return { found: [], skipped: why };
  }
}

/** The ids of the images cloudknot built (labelled with their name), as Docker lists them now. */
async function labelledImages(docker: Docker): Promise<string[]> {
  const { stdout } = await docker.command([
    "image",
    "ls",
    "--quiet",
    "--no-trunc",
    "--filter",
    `label=${IMAGE_NAME_LABEL}`,
  ]);
  return [...new Set(lines(stdout))];
}

/** How many times a batched inspect is asked again of the images still listed. */
const INSPECT_TRIES = 3;

/**
 * What Docker reports of these images, asked in one `docker image inspect`: a
 * process per image made every look of gc cost seconds on a daemon with many
 * knots' images. When one of them is gone since it was listed (the command
 * then fails, as Docker answers for none), the images still listed are asked
 * again in one inspect; only when images keep vanishing (other processes
 * removing them all the while) is each asked alone, a gone one left out.
 */
async function inspectImages(docker: Docker, ids: string[]): Promise<DockerImageInfo[]> {
  for (let tries = 0; ids.length > 0 && tries < INSPECT_TRIES; tries++) {
    try {
      return JSON.parse((await docker.command(["image", "inspect", ...ids])).stdout);
    } catch (e) {
      if (
        e instanceof DockerNotInstalledError || e instanceof DockerDaemonNotRunningError ||
        e instanceof CommandTimeoutError
      ) throw e;
      const listed = new Set(await labelledImages(docker));
      ids = ids.filter((id) => listed.has(id));
    }
  }
  const found: DockerImageInfo[] = [];
  for (const id of ids) {
    const info = await docker.inspectImage(id);
    if (info !== undefined) found.push(info);
  }
  return found;
}

async function find(docker: Docker, knots: string): Promise<DockerLeftover[]> {
  const labels = DOCKER_CONTAINER_LABELS;
  const { stdout } = await docker.command([
    "ps",
    "--all",
    "--no-trunc",
    "--filter",
    `label=${labels.knot}`,
    "--format",
    `{{.Names}}\t{{.Label "${labels.knot}"}}\t{{.Label "${labels.run}"}}\t{{.State}}`,
  ]);
  const containers: DockerLeftover[] = [];
  /** The folders of this knots directory that its containers name, there or not. */
  const roots = new Set<string>();
  for (const line of lines(stdout)) {
    const [name, root, run, state] = line.split("\t");
    if (name === undefined || root === undefined || dirname(root) !== knots) continue;
    roots.add(root);
    if (await exists(root)) continue;
    containers.push({
      kind: "container",
      id: name,
      dir: root,
      ...(run ? { run } : {}),
      running: state !== "exited" && state !== "dead" && state !== "created",
    });
  }
  const leftContainers = new Set(containers.map((c) => c.id));
  const named = new Map<string, Promise<Map<string, string>>>();
  /** The image names of the folders of each spelling of a name in lower case, to the folder. */
  const spellings = (lower: string) => {
    let found = named.get(lower);
    if (found === undefined) {
      found = Promise.all(
        caseVariants(lower).map(async (spelt) => {
          const root = join(knots, spelt);
          return [await dockerImageName(root), root] as const;
        }),
      ).then((pairs) => new Map(pairs));
      named.set(lower, found);
    }
    return found;
  };
  const images: DockerLeftover[] = [];
  for (const info of await inspectImages(docker, await labelledImages(docker))) {
    const name = info.Config?.Labels?.[IMAGE_NAME_LABEL] ?? "";
    const lower = KNOT_IMAGE.exec(name)?.[1];
    if (lower === undefined) continue;
    // The folders that would give the image its name: the knot's name in lower case, or a
    // container's knot of another case.
    let root: string | undefined;
    for (const candidate of new Set([join(knots, lower), ...roots])) {
      if (basename(candidate).toLowerCase() !== lower) continue;
      if (await dockerImageName(candidate) === name) root = candidate;
    }
    // Else a gone knot whose name has capitals: each spelling's folder is tried, once per name.
    root ??= (await spellings(lower)).get(name);
    if (root === undefined || await exists(root)) continue;
    const tags = info.RepoTags ?? [];
    if (!ownTags(tags, name)) continue;
    if ((await usersOf(docker, info.Id)).some((c) => !leftContainers.has(c))) continue;
    images.push({ kind: "image", id: info.Id, dir: root, tags });
  }
  return [...containers, ...images];
}

/**
 * Removes a container or an image {@linkcode findDockerLeftovers} found,
 * holding the lock of its knot's folder (made for that time), so a knot
 * created there meanwhile keeps it: an image only while its tags are all its
 * knot's and no container uses it.
 *
 * @example Usage
 * ```ts ignore
 * import { removeDockerLeftover } from "./_docker_leftovers.ts";
 *
 * await removeDockerLeftover(new Docker(), { kind: "container", id: "cloudknot-…-0-1", dir });
 * ```
 *
 * @param docker The Docker driver.
 * @param left What to remove, and its knot's folder.
 * @returns Whether it was there; `false` when it was gone already.
 * @throws {CloudknotError} When its knot's folder is there again, or the image is in use or
 *   tagged for another since.
 */
export async function removeDockerLeftover(
  docker: Docker,
  left: Pick<DockerLeftover, "kind" | "id" | "dir">,
): Promise<boolean> {
  let there = false;
  const kept = (why: string) =>
    new CloudknotError(`The docker ${left.kind} ${left.id} was kept: ${why}`);
  const ran = await whileKnotGone(left.dir, async () => {
    if (left.kind === "container") {
      const info = await docker.inspectContainer(left.id);
      if (info === undefined) return;
      if (info.Config?.Labels?.[DOCKER_CONTAINER_LABELS.knot] !== left.dir) {
        throw kept(`it is not a container of the knot in ${left.dir}`);
      }
      there = true;
      await docker.removeContainer(left.id, { force: true, missingOk: true });
      return;
    }
    const info = await docker.inspectImage(left.id);
    if (info === undefined) return;
    const name = await dockerImageName(left.dir);
    if (info.Config?.Labels?.[IMAGE_NAME_LABEL] !== name) {
      throw kept(`it is not an image of the knot in ${left.dir}`);
    }
    const tags = info.RepoTags ?? [];
    if (!ownTags(tags, name)) throw kept(`it is tagged ${tags.join(", ")} now`);
    const users = await usersOf(docker, info.Id);
    if (users.length > 0) throw kept(`the container ${users.join(", ")} uses it`);
    there = true;
    // Its tags, then the image (gone with its last tag, unless an image is made from it).
    await docker.removeImage([...tags, info.Id], { missingOk: true });
    if (await docker.inspectImage(info.Id) !== undefined) {
      throw kept("Docker kept it after its tags were removed (an image is made from it)");
    }
  });
  if (!ran) {
    throw kept(
      `a knot is in ${left.dir} again (or a process is creating one there now), so it is ` +
        `that knot's`,
    );
  }
  return there;
}
