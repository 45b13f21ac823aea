/**
 * The names a module artifact's source map gives its files, and the way back
 * from them to the files on this machine.
 *
 * A module's artifact carries an inline source map, so that wherever it runs
 * Deno maps its stack frames to the modules it was bundled from. If the map
 * named those modules by their absolute URLs, the artifact (and so its hash,
 * and the image that holds it) would change whenever the project moved or was
 * cloned elsewhere, or the Deno cache lived somewhere else. So the map names
 * them by where they are relative to two roots, behind a key that is the hash
 * of the bundled code:
 *
 * - `cloudknot:<key>/src/<path>`: the user's modules, relative to the folder
 *   that holds them all;
 * - `cloudknot:<key>/deno_dir/<path>`: npm packages and remote modules,
 *   relative to the Deno cache (`DENO_DIR`);
 * - `cloudknot:<key>/entry/<name>`: the entry module cloudknot wrote to bundle
 *   the export, which exists only while bundling.
 *
 * Deno leaves a URL of a scheme it does not know as it is, so a remote stack
 * names `cloudknot:3f2a…/src/jobs.ts:12:9`. The artifact says where the roots
 * were when it was made ({@linkcode ArtifactSources}); a knot keeps that with
 * its record, and every process that opens the knot or its runs from the
 * record remembers it ({@linkcode rememberSourceRoots}), so
 * {@linkcode resolveArtifactFrames} turns such a frame back into the file's
 * URL on this machine in any process, not only the one that made the artifact.
 *
 * @module
 */

/** The URL scheme of a module artifact's sources. */
const SCHEME = "cloudknot:";

/** Where the roots of a module artifact's sources are on this machine, as directory URLs (ending in `/`). */
export interface SourceRoots {
  /** The folder that holds every module of the user's that the artifact bundles. */
  src: string;
  /** The Deno cache the packages were read from. */
  deno_dir: string;
}

/**
 * Where a module artifact's sources were on the machine that made it: its key
 * and its roots, as a knot's record keeps them. They are not part of the
 * artifact's code, so they do not change its hash.
 */
export interface ArtifactSources extends SourceRoots {
  /** The artifact's key: the first 12 hex digits of its code's SHA-256. */
  key: string;
}

/** The roots of every module artifact made or opened from a record in this process, by key. */
const known = new Map<string, SourceRoots>();

/**
 * The name of a source in a module artifact's map.
 *
 * @example Usage
 * ```ts
 * import { artifactSourceName } from "@cloudknot/cloudknot/job";
 *
 * console.log(artifactSourceName("0123456789ab", "src", "jobs.ts")); // "cloudknot:0123456789ab/src/jobs.ts"
 * ```
 *
 * @param key The artifact's key: the first 12 hex digits of its code's SHA-256.
 * @param root Which root the path is relative to.
 * @param path The path, as a relative URL.
 * @returns The name.
 */
export function artifactSourceName(
  key: string,
  root: keyof SourceRoots | "entry",
  path: string,
): string {
  return `${SCHEME}${key}/${root}/${path}`;
}

/**
 * Remembers, for this process, where the sources of the artifact of `key`
 * are, so its stack frames can be resolved back to them.
 *
 * @example Usage
 * ```ts
 * import { rememberSourceRoots, resolveArtifactFrames } from "@cloudknot/cloudknot/job";
 *
 * rememberSourceRoots("0123456789ab", { src: "file:///home/me/jobs/", deno_dir: "file:///home/me/.cache/deno/" });
 * console.log(resolveArtifactFrames("at f (cloudknot:0123456789ab/src/sim.ts:3:9)"));
 * // "at f (file:///home/me/jobs/sim.ts:3:9)"
 * ```
 *
 * @param key The artifact's key.
 * @param roots Where its roots are.
 */
export function rememberSourceRoots(key: string, roots: SourceRoots): void {
  known.set(key, { src: roots.src, deno_dir: roots.deno_dir });
}

/**
 * A stack with each frame of a module artifact made in this process, or whose
 * knot or runs this process opened from a record that keeps the artifact's
 * roots, named by the file's URL on this machine. Frames of other artifacts
 * (such as a knot recorded by an earlier version) keep their portable names,
 * which still give the path under the module's folder and the line.
 *
 * @example Usage
 * ```ts
 * import { resolveArtifactFrames } from "@cloudknot/cloudknot/job";
 *
 * console.log(resolveArtifactFrames("at f (cloudknot:ffffffffffff/src/sim.ts:3:9)"));
 * // "at f (cloudknot:ffffffffffff/src/sim.ts:3:9)": not made here
 * ```
 *
 * @param stack A stack, as `Error.stack` gives it.
 * @returns The stack with the frames resolved.
 */
export function resolveArtifactFrames(stack: string): string {
  if (!stack.includes(SCHEME)) return stack;
  return stack.replace(
    /cloudknot:([0-9a-f]{12})\/(src|deno_dir)\/([^\s()]+?)(?=:\d+:\d+)/g,
    (frame, key: string, root: keyof SourceRoots, path: string) => {
      const roots = known.get(key);
      return roots === undefined ? frame : new URL(path, roots[root]).href;
    },
  );
}
