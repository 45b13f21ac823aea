/**
 * Where the knots of this machine (the local and docker targets) keep their
 * records and runs, and the files a run's driver holds locked: what the
 * targets that write there and `gc`, which cleans up after them, share.
 *
 * @module
 */
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { CloudknotInputError } from "../util/errors.ts";
import { sha256Hex } from "../util/sha256.ts";

/** Reads an environment variable; `undefined` when it is not set. */
export type EnvLookup = (name: string) => string | undefined;

/**
 * The mark a local or docker knot's clobber writes in the knot's folder
 * before it removes anything, and removes after its record: a knot whose
 * folder has it is one whose clobber was stopped part-way (killed), which
 * opening it finishes (`targets/local/local_knot.ts`,
 * `targets/docker/docker_knot.ts`).
 *
 * @example Usage
 * ```ts ignore
 * const unfinished = await pathExists(join(root, CLOBBERING_FILE));
 * ```
 */
export const CLOBBERING_FILE = "clobbering";

/**
 * Writes the clobber's mark ({@linkcode CLOBBERING_FILE}) in the knot's
 * folder `root`, naming the knot's target, so that what a clobber killed at
 * the very end leaves (the mark alone) is told apart: a local knot's is
 * never taken for a docker knot's ({@linkcode clobberMarkTarget}).
 *
 * @example Usage
 * ```ts ignore
 * await markClobber("/home/me/.cloudknot/local/squares", "local");
 * ```
 *
 * @param root The knot's folder.
 * @param target The knot's target.
 * @throws {Deno.errors.NotFound} When the folder is gone.
 */
export async function markClobber(root: string, target: "local" | "docker"): Promise<void> {
  const file = join(root, CLOBBERING_FILE);
  try {
    await Deno.writeTextFile(file, target, { mode: 0o600 });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw e;
    // A full disk takes no byte but may take an empty file (an inode), the mark of earlier
    // versions: a clobber, which frees space, is not refused for its mark's one word.
    await Deno.writeTextFile(file, "", { mode: 0o600 }).catch(() => Promise.reject(e));
  }
}

/**
 * The target of the knot whose clobber's mark is in the folder `root`, as
 * {@linkcode markClobber} wrote it: `"docker"` also for a mark of an earlier
 * version (empty, which only a docker knot's folder without its record was
 * read as); `undefined` when there is no mark.
 *
 * @example Usage
 * ```ts ignore
 * if (await clobberMarkTarget(root) === "local") console.log("a local knot's clobber stopped");
 * ```
 *
 * @param root The knot's folder.
 * @returns The target, or `undefined`.
 */
export async function clobberMarkTarget(root: string): Promise<"local" | "docker" | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(root, CLOBBERING_FILE));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  return text.trim() === "local" ? "local" : "docker";
}

/**
 * The files of a run's folder that the process driving the run holds an
 * exclusive lock on (released by the system when it dies) from before it
 * writes the run's inputs: `records` (the local target's run log) and
 * `lock` (the docker target's).
 */
export const RUN_LOCK_FILES = { local: "records", docker: "lock" } as const;

/**
 * The labels of a docker knot's containers: what its clobber finds them by,
 * and `gc` the containers of a knot whose folder is gone.
 *
 * @example Usage
 * ```ts
 * import { DOCKER_CONTAINER_LABELS } from "./local_knots.ts";
 *
 * console.log(DOCKER_CONTAINER_LABELS.knot); // "org.cloudknot.knot-dir"
 * ```
 */
export const DOCKER_CONTAINER_LABELS = {
  /** The knot's directory (absolute): it tells knots of the same name apart, and their knots directories. */
  knot: "org.cloudknot.knot-dir",
  /** The run's id. */
  run: "org.cloudknot.run",
  /** The first item of the container's slice. */
  index: "org.cloudknot.index",
  /** The attempt. */
  attempt: "org.cloudknot.attempt",
} as const;

/** The label of every image cloudknot builds, whose value is the image's name (`build_context.ts`). */
export const IMAGE_NAME_LABEL = "org.cloudknot.image";

/**
 * Makes the folder, in a local knot's `artifacts/`, that an artifact shipping
 * files is made in before it is renamed to `artifacts/<hash>/`:
 * `.<hash>.tmp-` then random characters, private to its owner. The caller
 * holds an exclusive lock on the folder itself (released by the system when
 * it dies) until it has renamed it, then closes `held`: so a folder of this
 * name that no process holds is one a killed process left, which gc removes.
 *
 * @example Usage
 * ```ts ignore
 * import { startMakingArtifact } from "./local_knots.ts";
 *
 * const { dir, held } = await startMakingArtifact("/home/me/.cloudknot/local/k/artifacts", hash);
 * try {
 *   await Deno.writeTextFile(`${dir}/function.js`, source);
 *   await Deno.rename(dir, `/home/me/.cloudknot/local/k/artifacts/${hash}`);
 * } finally {
 *   held.close();
 * }
 * ```
 *
 * @param artifacts The knot's `artifacts/` folder; made when missing.
 * @param hash The artifact's hash.
 * @returns The folder, and its open handle that holds its lock.
 */
export async function startMakingArtifact(
  artifacts: string,
  hash: string,
): Promise<{ dir: string; held: Deno.FsFile }> {
  await Deno.mkdir(artifacts, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: artifacts, prefix: `.${hash}.tmp-` });
  const held = await Deno.open(dir, { read: true });
  try {
    await held.lock(true);
  } catch (e) {
    held.close();
    throw e;
  }
  return { dir, held };
}

/**
 * Matches the name of a folder {@linkcode startMakingArtifact} makes for an
 * artifact's SHA-256 hash.
 *
 * @example Usage
 * ```ts
 * import { MAKING_ARTIFACT } from "./local_knots.ts";
 *
 * console.log(MAKING_ARTIFACT.test(`.${"a".repeat(64)}.tmp-x1y2`)); // true
 * ```
 */
export const MAKING_ARTIFACT: RegExp = /^\.[0-9a-f]{64}\.tmp-/;

function denoEnv(name: string): string | undefined {
  return Deno.env.get(name);
}

/**
 * The directory of the local knots, as an absolute path: `dir` when given,
 * else `$CLOUDKNOT_LOCAL_DIR`, else `~/.cloudknot/local`. Given `env`, `~` is
 * its `HOME` when it has one (the command line's environment, which a program
 * running a command line may give it: `runCommandLine(args, { io })`), else
 * this process's home directory.
 *
 * @example Usage
 * ```ts
 * import { localKnotsDir } from "./local_knots.ts";
 *
 * console.log(localKnotsDir({ env: () => "/data/knots" })); // "/data/knots"
 * const env = (name: string) => name === "HOME" ? "/home/me" : undefined;
 * console.log(localKnotsDir({ env })); // "/home/me/.cloudknot/local"
 * ```
 *
 * @param options `dir` wins; `env` reads `CLOUDKNOT_LOCAL_DIR`, then `HOME`.
 * @returns The directory.
 */
export function localKnotsDir(options: { dir?: string; env?: EnvLookup } = {}): string {
  return resolve(
    options.dir ?? (options.env ?? denoEnv)("CLOUDKNOT_LOCAL_DIR") ??
      // Without an env of its own, the process's home, as before (no HOME read from Deno.env).
      join(options.env?.("HOME") || homedir(), ".cloudknot", "local"),
  );
}

/**
 * Refuses a knots directory that cannot be one: its nearest existing ancestor (itself, when it
 * exists) is a file, not a directory. Checked before a knot there is read or made, so the error
 * names the option that gave it, not the path Deno failed on.
 *
 * @example Usage
 * ```ts ignore
 * import { checkKnotsDir, localKnotsDir } from "./local_knots.ts";
 *
 * await checkKnotsDir(localKnotsDir({ dir: "/tmp/notes.txt" }), "the dir option");
 * // CloudknotInputError: The knots directory /tmp/notes.txt cannot be made: /tmp/notes.txt is a file …
 * ```
 *
 * @param dir The knots directory, absolute.
 * @param how What gave it, for the error (`the dir option or CLOUDKNOT_LOCAL_DIR`).
 * @throws {CloudknotInputError} When a file is in its place, or in its path's.
 */
export async function checkKnotsDir(dir: string, how: string): Promise<void> {
  for (let path = dir;; path = dirname(path)) {
    const info = await Deno.stat(path).catch((e) => {
      // Under a file: its ancestors say which.
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
        return undefined;
      }
      throw e;
    });
    if (info?.isDirectory) return;
    if (info !== undefined) {
      throw new CloudknotInputError(
        `The knots directory ${dir} cannot be ${path === dir ? "used" : "made"}: ${path} is a ` +
          `file, not a directory. Choose another directory (${how})`,
        { field: "dir" },
      );
    }
    if (dirname(path) === path) return;
  }
}

/**
 * Where a local knot keeps its runs: its own directory (on persistent disk,
 * so runs outlive a restart), or `$CLOUDKNOT_LOCAL_RUNS/<id>` when that
 * variable names another directory (`<id>` is derived from the knot's
 * directory, so knots never share one). Runs go under `runs/<runId>/`.
 *
 * @example Usage
 * ```ts
 * import { localRunsRoot } from "./local_knots.ts";
 *
 * console.log(await localRunsRoot("/home/me/.cloudknot/local/squares", { env: () => undefined }));
 * // "/home/me/.cloudknot/local/squares"
 * ```
 *
 * @param root The knot's directory.
 * @param options `env` reads `CLOUDKNOT_LOCAL_RUNS`.
 * @returns The directory under which its runs go.
 */
export async function localRunsRoot(
  root: string,
  options: { env?: EnvLookup } = {},
): Promise<string> {
  const chosen = (options.env ?? denoEnv)("CLOUDKNOT_LOCAL_RUNS");
  if (!chosen) return root;
  return join(resolve(chosen), await knotDirId(root));
}

/**
 * A short id of a knot's directory (16 hex digits of its SHA-256): what names
 * the things of a knot that live outside its directory, in a place every knots
 * directory of this machine shares (its runs under `$CLOUDKNOT_LOCAL_RUNS`, a
 * docker knot's image on the Docker engine), so knots of one name in two
 * knots directories never share them.
 *
 * @example Usage
 * ```ts
 * import { knotDirId } from "./local_knots.ts";
 *
 * console.log((await knotDirId("/home/me/.cloudknot/local/squares")).length); // 16
 * ```
 *
 * @param root The knot's directory, as an absolute path.
 * @returns The id.
 */
export async function knotDirId(root: string): Promise<string> {
  return (await sha256Hex(root)).slice(0, 16);
}

/**
 * The name of the image of the docker knot in the folder `root` (its
 * `org.cloudknot.image` label, and its reference without `cloudknot/` and
 * the tag): `<name in lower case>-docker-<knotDirId(root)>`. Knots made before
 * images were named so have `<name>-docker`.
 *
 * @example Usage
 * ```ts
 * import { dockerImageName } from "./local_knots.ts";
 *
 * console.log(await dockerImageName("/home/me/.cloudknot/local/Squares")); // "squares-docker-…"
 * ```
 *
 * @param root The knot's folder, as an absolute path.
 * @returns The image's name.
 */
export async function dockerImageName(root: string): Promise<string> {
  return `${basename(root).toLowerCase()}-docker-${await knotDirId(root)}`;
}
