/**
 * The build context of a cloudknot image: the directory `docker build` is
 * given. It holds four files, all written by cloudknot:
 *
 * - `function.js`: the function artifact (its source, or its module graph
 *   bundled with npm packages), so nothing is fetched at build or run time;
 * - `runtime.js`: the job entry point bundled into one file;
 * - `Dockerfile`: `FROM <baseImage>`, a check that `deno` runs, the runtime,
 *   `USER 1000` and the entry point, then the function as the last layer;
 * - `.dockerignore`: everything else in the directory stays out of the build.
 *
 * The directory may hold other files: they never reach Docker, and a file
 * cloudknot did not write is replaced only when the caller allows it.
 *
 * @module
 */
import { join } from "node:path";
import type { FunctionArtifact, FunctionKind } from "../job/function_artifact.ts";
import { bundleRuntime } from "../job/runtime_bundle.ts";
import { sha256Hex } from "../util/sha256.ts";
import { BuildContextConflictError } from "./errors.ts";

/** The files cloudknot writes into a build directory. */
export const GENERATED_FILES: readonly string[] = Object.freeze([
  "Dockerfile",
  ".dockerignore",
  "runtime.js",
  "function.js",
]);

/** Where the entry point is inside the image. */
const APP = "/app";

const DOCKERIGNORE = "# Written by cloudknot: only these files go into the build.\n*\n" +
  "!runtime.js\n!function.js\n";

/**
 * The default base image: the official Deno image of the running Deno
 * version, `denoland/deno:<version>`.
 *
 * @example Usage
 * ```ts
 * import { defaultBaseImage } from "@cloudknot/cloudknot/image";
 *
 * console.log(defaultBaseImage()); // e.g. "denoland/deno:2.9.6"
 * ```
 *
 * @param env Reads an environment variable (default: `Deno.env.get`).
 * @returns `$CLOUDKNOT_BASE_IMAGE` when set (a mirror, or an image of your
 *   own with deno in it), else the official Deno image of this Deno version.
 */
export function defaultBaseImage(
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): string {
  return env("CLOUDKNOT_BASE_IMAGE")?.trim() || `denoland/deno:${Deno.version.deno}`;
}

/**
 * The Dockerfile of a cloudknot image. The function is the last instruction,
 * so a changed function rebuilds only that layer and nothing after it. It
 * needs nothing from the base image but `deno` on `PATH`: no shell, no
 * `useradd` (the user is numeric).
 *
 * @example Usage
 * ```ts
 * import { dockerfileFor } from "@cloudknot/cloudknot/image";
 *
 * const dockerfile = dockerfileFor("denoland/deno:2.9.6", "square");
 * console.log(dockerfile.split("\n")[1]); // "FROM denoland/deno:2.9.6"
 * ```
 *
 * @param baseImage The base image.
 * @param name The image's name, kept in the `org.cloudknot.image` label.
 * @returns The Dockerfile's text.
 */
export function dockerfileFor(baseImage: string, name: string): string {
  return [
    "# Written by cloudknot: the job entry point and the function, on a base image with deno.",
    `FROM ${baseImage}`,
    `RUN ["deno", "--version"]`,
    "ENV DENO_DIR=/tmp/deno_dir DENO_NO_UPDATE_CHECK=1",
    `WORKDIR ${APP}`,
    `COPY --chown=1000:1000 runtime.js ${APP}/runtime.js`,
    "USER 1000",
    `ENTRYPOINT ["deno", "run", "-A", "--no-prompt", "${APP}/runtime.js"]`,
    `LABEL org.cloudknot.image="${name}"`,
    `COPY --chown=1000:1000 function.js ${APP}/function.js`,
    "",
  ].join("\n");
}

/**
 * The `function.js` of a build directory, or `undefined` when there is none.
 *
 * @example Usage
 * ```ts ignore
 * console.log(await readFunctionFile("/home/me/.cloudknot/images/square") !== undefined);
 * ```
 *
 * @param buildPath The build directory.
 * @returns Its text.
 */
export function readFunctionFile(buildPath: string): Promise<string | undefined> {
  return readText(join(buildPath, "function.js"));
}

/**
 * The function already in a build directory, as an artifact of the kind the
 * config file recorded, or `undefined` when its `function.js` is gone.
 *
 * @example Usage
 * ```ts ignore
 * const artifact = await artifactInContext("/home/me/.cloudknot/images/square", "func", "square");
 * console.log(artifact?.hash);
 * ```
 *
 * @param buildPath The build directory.
 * @param kind How the function was shipped.
 * @param name The image's name, which names the artifact.
 * @returns The artifact.
 */
export async function artifactInContext(
  buildPath: string,
  kind: FunctionKind,
  name: string,
): Promise<FunctionArtifact | undefined> {
  const source = await readFunctionFile(buildPath);
  return source === undefined ? undefined : { kind, source, hash: await sha256Hex(source), name };
}

/** What {@linkcode writeBuildContext} writes, and where. */
export interface BuildContextSpec {
  /** The build directory; made (with its parents) when missing. */
  buildPath: string;
  /** The image's name, for the Dockerfile's label. */
  name: string;
  /** The base image. */
  baseImage: string;
  /** The function; without one, `function.js` is left as it is. */
  artifact: FunctionArtifact | undefined;
  /** Where the runtime bundle is cached. */
  runtimeCacheDir: string;
  /** The files cloudknot wrote there before: they are replaced without asking. */
  generated: readonly string[];
  /** Replace files that cloudknot did not write. @default {false} */
  overwrite?: boolean;
}

/** What {@linkcode writeBuildContext} did. */
export interface BuildContextResult {
  /** Every file cloudknot has written there, before or now, in {@linkcode GENERATED_FILES} order. */
  generated: string[];
  /** Whether it made the build directory. */
  createdDir: boolean;
}

/**
 * Writes the build context: every file is checked before any is written, so
 * a file cloudknot did not write (and that differs) stops it with nothing
 * changed, unless `overwrite`. A file that is already right is not touched.
 *
 * @example Usage
 * ```ts ignore
 * const { generated } = await writeBuildContext({
 *   buildPath: "/home/me/.cloudknot/images/square",
 *   name: "square",
 *   baseImage: defaultBaseImage(),
 *   artifact,
 *   runtimeCacheDir: "/home/me/.cloudknot/cache/runtime",
 *   generated: [],
 * });
 * ```
 *
 * @param spec The directory, the image and the files cloudknot wrote before.
 * @returns The files cloudknot has written there and whether it made the directory.
 * @throws {BuildContextConflictError} When a file cloudknot did not write is in the way.
 */
export async function writeBuildContext(spec: BuildContextSpec): Promise<BuildContextResult> {
  const { buildPath } = spec;
  const runtime = await bundleRuntime({ cacheDir: spec.runtimeCacheDir });
  const wanted = new Map<string, string>([
    ["Dockerfile", dockerfileFor(spec.baseImage, spec.name)],
    [".dockerignore", DOCKERIGNORE],
    ["runtime.js", runtime.source],
  ]);
  if (spec.artifact !== undefined) wanted.set("function.js", spec.artifact.source);

  const existing = new Map<string, string | undefined>();
  const conflicts: string[] = [];
  for (const [file, text] of wanted) {
    const current = await readText(join(buildPath, file));
    existing.set(file, current);
    if (current !== undefined && current !== text && !spec.generated.includes(file)) {
      conflicts.push(file);
    }
  }
  if (conflicts.length > 0 && !spec.overwrite) {
    throw new BuildContextConflictError(buildPath, conflicts);
  }

  let createdDir = false;
  try {
    await Deno.mkdir(buildPath);
    createdDir = true;
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      await Deno.mkdir(buildPath, { recursive: true });
      createdDir = true;
    }
  }
  const generated = new Set(spec.generated);
  for (const [file, text] of wanted) {
    if (existing.get(file) !== text) {
      await writeAtomic(join(buildPath, file), text);
      generated.add(file);
    }
  }
  return { generated: GENERATED_FILES.filter((f) => generated.has(f)), createdDir };
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.IsADirectory) {
      return undefined;
    }
    throw e;
  }
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}
