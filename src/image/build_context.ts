/**
 * The build context of a cloudknot image: the directory `docker build` is
 * given. It holds four files, all written by cloudknot, and a folder when the
 * function imports packages:
 *
 * - `function.js`: the function artifact (its source, or its module graph
 *   bundled with npm packages);
 * - `deno_dir/`: the packages and modules the function imports, fetched on
 *   this machine (`dependencies.ts`), so nothing is fetched while a job runs;
 * - `runtime.js`: the job entry point bundled into one file;
 * - `worker.js`: the entry point of the job's worker processes, bundled
 *   alone (it loads a quarter of the runtime's code);
 * - `files/`: the data files shipped beside the function (its module's
 *   `files` option), copied into the image at their paths beside
 *   `/app/function.js`, in the layer just before the function's;
 * - `Dockerfile`: `FROM <baseImage>`, a check that `deno` runs, the runtime,
 *   `USER 1000`, a load of the runtime that fills Deno's code cache, the
 *   entry point (`--cached-only`), the labels of the image's name and of its
 *   runtime's protocol (`org.cloudknot.runtime`, `job/runtime_protocol.ts`),
 *   then the packages and the function as the last layers;
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
import { RUNTIME_PROTOCOL, RUNTIME_PROTOCOL_LABEL } from "../job/runtime_protocol.ts";
import { readTextIfExists } from "../util/read_text.ts";
import { sha256Hex } from "../util/sha256.ts";
import { writeTextAtomically } from "../util/write_text.ts";
import {
  copyShippedFiles,
  hashWithFiles,
  type ShippedFiles,
  shippedFilesIn,
} from "../job/shipped_files.ts";
import { cacheDependencies, mayImportPackages } from "./dependencies.ts";
import { BuildContextConflictError } from "./errors.ts";

/** The files (and the folder of packages) cloudknot writes into a build directory. */
export const GENERATED_FILES: readonly string[] = Object.freeze([
  "Dockerfile",
  ".dockerignore",
  "runtime.js",
  "worker.js",
  "function.js",
  "deno_dir",
  "files",
]);

/** The build context's folder of the data files shipped beside the function. */
const FILES = "files";

/** The build context's folder of fetched packages and modules. */
const DEPENDENCIES = "deno_dir";

/** Where the entry point is inside the image. */
const APP = "/app";

/** The image's Deno cache: the fetched packages, and whatever Deno keeps while a job runs. */
const DENO_DIR = "/tmp/deno_dir";

/**
 * The flags of the image's entry point: `deno run` with these, then the
 * runtime's path (and, for a job, its arguments).
 */
const ENTRY_FLAGS = ["run", "-A", "--no-prompt", "--cached-only"] as const;

/**
 * What the image's build loads once, besides the runtime: the Deno APIs that
 * Deno loads only when first used, and that a job uses. First, the global
 * `setImmediate` a worker and the pool wait a turn with (it loads Deno's
 * Node timers on first use; the runtime imports no `node:` module itself);
 * then the process API the job starts its workers with
 * (`Deno.Command`, made and never spawned), and what its S3 reads use
 * (`fetch` with its requests, responses, bodies and streams, fetched from a
 * `data:` URL, so nothing leaves the machine).
 */
const WARM_FIRST = "await new Promise((turn) => setImmediate(turn));";
const WARM_LAZY = "new Deno.Command('deno'); await (await fetch('data:,')).arrayBuffer();";

/**
 * The command that fills Deno's V8 code cache for a runtime at `runtimeUrl`
 * and its workers' `worker.js` beside it, without running a job: `deno run`,
 * with the entry point's flags, of a one-line module that imports both
 * (neither starts anything when it is not the main module) and touches the
 * Deno APIs a job loads lazily. An image runs it once, at build time, as the
 * user the jobs run as, so a container's first job finds the runtime, its
 * workers' code and what they load compiled in the image's `DENO_DIR`; only
 * `function.js` is compiled when the job runs. (`deno cache` fills no code
 * cache: it only fetches.)
 *
 * @example Usage
 * ```ts
 * import { warmCodeCacheCommand } from "@cloudknot/cloudknot/image";
 *
 * const args = warmCodeCacheCommand("file:///app/runtime.js");
 * console.log(args[0], args.at(-1)!.startsWith("data:text/javascript,")); // "run" true
 * ```
 *
 * @param runtimeUrl The file URL of `runtime.js`, as the entry point names it.
 * @returns The arguments of `deno`.
 */
export function warmCodeCacheCommand(runtimeUrl: string): string[] {
  // The name the runtime looks for its workers' entry under (main.ts).
  const workerUrl = new URL("worker.js", runtimeUrl).href;
  return [
    ...ENTRY_FLAGS,
    `data:text/javascript,${WARM_FIRST} await import('${runtimeUrl}'); ` +
    `await import('${workerUrl}'); ${WARM_LAZY}`,
  ];
}

function dockerignore(dependencies: boolean, files: boolean): string {
  return "# Written by cloudknot: only these files go into the build.\n*\n" +
    `!runtime.js\n!worker.js\n!function.js\n${dependencies ? `!${DEPENDENCIES}\n` : ""}` +
    (files ? `!${FILES}\n` : "");
}

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
 * so a changed function rebuilds only that layer and nothing after it. Before
 * it, a `RUN` loads the runtime once ({@linkcode warmCodeCacheCommand}) so the
 * image's `DENO_DIR` holds its V8 code cache and a container starts warm. It
 * needs nothing from the base image but `deno` on `PATH`: no shell, no
 * `useradd` (the user is numeric). The job runs with `--cached-only`: what
 * the function imports is in the image (`dependencies`), and nothing is
 * downloaded while it runs.
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
 * @param options `dependencies`: the build context has a `deno_dir` of
 *   fetched packages for the image's Deno cache. @default {false}
 *   `files`: it has a `files/` folder of data files, copied beside the
 *   function in the layer before its own. @default {false}
 * @returns The Dockerfile's text.
 */
export function dockerfileFor(
  baseImage: string,
  name: string,
  options: { dependencies?: boolean; files?: boolean } = {},
): string {
  return [
    "# Written by cloudknot: the job entry point and the function, on a base image with deno.",
    `FROM ${baseImage}`,
    `RUN ["deno", "--version"]`,
    `ENV DENO_DIR=${DENO_DIR} DENO_NO_UPDATE_CHECK=1 CLOUDKNOT_CACHED_ONLY=1`,
    `WORKDIR ${APP}`,
    `COPY --chown=1000:1000 runtime.js worker.js ${APP}/`,
    "USER 1000",
    `RUN ${execForm(["deno", ...warmCodeCacheCommand(`file://${APP}/runtime.js`)])}`,
    `ENTRYPOINT ${execForm(["deno", ...ENTRY_FLAGS, `${APP}/runtime.js`])}`,
    `LABEL org.cloudknot.image="${name}"`,
    // The runtime's protocol, which a client of another version reads before it runs the image.
    `LABEL ${RUNTIME_PROTOCOL_LABEL}="${RUNTIME_PROTOCOL}"`,
    ...(options.dependencies ? [`COPY --chown=1000:1000 ${DEPENDENCIES} ${DENO_DIR}`] : []),
    // Owned by the jobs' user, so a file private to its owner here is readable there.
    ...(options.files ? [`COPY --chown=1000:1000 ${FILES}/ ${APP}/`] : []),
    `COPY --chown=1000:1000 function.js ${APP}/function.js`,
    "",
  ].join("\n");
}

/** A Dockerfile instruction's arguments in exec form (a JSON array): no shell runs them. */
function execForm(args: readonly string[]): string {
  return `[${args.map((a) => JSON.stringify(a)).join(", ")}]`;
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
  return readTextIfExists(join(buildPath, "function.js"));
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
 * @param options `files`: cloudknot wrote the directory's `files/` folder,
 *   the data files shipped with the function. @default {false}
 * @returns The artifact.
 */
export async function artifactInContext(
  buildPath: string,
  kind: FunctionKind,
  name: string,
  options: { files?: boolean } = {},
): Promise<FunctionArtifact | undefined> {
  const source = await readFunctionFile(buildPath);
  if (source === undefined) return undefined;
  const files = options.files ? await shippedFilesIn(join(buildPath, FILES)) : undefined;
  const hash = await sha256Hex(source);
  return files === undefined
    ? { kind, source, hash, name }
    : { kind, source, hash: await hashWithFiles(hash, files.files), name, files };
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
  /** The deno binary that fetches what the function imports. @default {Deno.execPath()} */
  deno?: string;
}

/** What {@linkcode writeBuildContext} did. */
export interface BuildContextResult {
  /** Every file cloudknot has written there, before or now, in {@linkcode GENERATED_FILES} order. */
  generated: string[];
  /** Whether it made the build directory. */
  createdDir: boolean;
}

/**
 * Writes the build context: every file is checked, and what the function
 * imports is fetched, before any is written, so a file cloudknot did not
 * write (and that differs), or a package that cannot be fetched, stops it
 * with nothing changed, unless `overwrite`. A file that is already right is
 * not touched, and packages are fetched again only for a new function.
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
 * @throws {DependencyError} When what the function imports cannot be fetched.
 */
export async function writeBuildContext(spec: BuildContextSpec): Promise<BuildContextResult> {
  const { buildPath } = spec;
  const runtime = await bundleRuntime({ cacheDir: spec.runtimeCacheDir });
  const depsPath = join(buildPath, DEPENDENCIES);
  const ownDeps = spec.generated.includes(DEPENDENCIES);
  const hasDeps = await isDirectory(depsPath);
  const oldFunction = await readFunctionFile(buildPath);
  // What the function imports: kept, fetched again (a new function), or none.
  let deps: "keep" | "fetch" | "none";
  if (spec.artifact === undefined) deps = ownDeps && hasDeps ? "keep" : "none";
  else if (!mayImportPackages(spec.artifact.source)) deps = "none";
  else if (ownDeps && hasDeps && oldFunction === spec.artifact.source) deps = "keep";
  else deps = "fetch";

  const conflicts: string[] = [];
  if (hasDeps && !ownDeps && deps === "fetch") conflicts.push(DEPENDENCIES);
  // The data files: replaced when the function's differ, removed when it has none.
  const filesPath = join(buildPath, FILES);
  const ownFiles = spec.generated.includes(FILES);
  const oldFiles = await shippedFilesIn(filesPath);
  const newFiles = spec.artifact === undefined
    ? ownFiles ? oldFiles : undefined
    : spec.artifact.files;
  const shipping = newFiles !== undefined && newFiles.files.length > 0;
  const sameFiles = shipping && JSON.stringify(oldFiles?.files) === JSON.stringify(newFiles.files);
  if (shipping && !sameFiles && oldFiles !== undefined && !ownFiles) conflicts.push(FILES);
  let staging: string | undefined;
  if (deps === "fetch" && (conflicts.length === 0 || spec.overwrite)) {
    staging = await Deno.makeTempDir({ prefix: "cloudknot-deno-dir-" });
    try {
      if (!(await cacheDependencies(spec.artifact!.source, staging, spec))) deps = "none";
    } catch (e) {
      await Deno.remove(staging, { recursive: true });
      throw e;
    }
  }
  try {
    const dependencies = deps !== "none";
    const files = shipping;
    const wanted = new Map<string, string>([
      ["Dockerfile", dockerfileFor(spec.baseImage, spec.name, { dependencies, files })],
      [".dockerignore", dockerignore(dependencies, files)],
      ["runtime.js", runtime.source],
      ["worker.js", runtime.worker!],
    ]);
    if (spec.artifact !== undefined) wanted.set("function.js", spec.artifact.source);

    const existing = new Map<string, string | undefined>();
    for (const [file, text] of wanted) {
      const current = file === "function.js"
        ? oldFunction
        : await readTextIfExists(join(buildPath, file));
      existing.set(file, current);
      if (current !== undefined && current !== text && !spec.generated.includes(file)) {
        conflicts.push(file);
      }
    }
    if (conflicts.length > 0 && !spec.overwrite) {
      throw new BuildContextConflictError(buildPath, conflicts);
    }
    return await writeFiles(spec, wanted, existing, { deps, staging }, {
      files: !shipping ? "none" : sameFiles ? "keep" : newFiles,
    });
  } finally {
    if (staging !== undefined) await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
}

/** Writes what {@linkcode writeBuildContext} checked. */
async function writeFiles(
  spec: BuildContextSpec,
  wanted: Map<string, string>,
  existing: Map<string, string | undefined>,
  dependencies: { deps: "keep" | "fetch" | "none"; staging: string | undefined },
  data: { files: ShippedFiles | "keep" | "none" },
): Promise<BuildContextResult> {
  const { buildPath } = spec;

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
  const depsPath = join(buildPath, DEPENDENCIES);
  if (dependencies.deps === "fetch" && dependencies.staging !== undefined) {
    // The packages go in before the Dockerfile that copies them.
    const next = `${depsPath}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
    // node:fs's recursive copy, loaded when used: its import costs a process about 0.05 s.
    const { cp } = await import("node:fs/promises");
    await cp(dependencies.staging, next, { recursive: true });
    await Deno.remove(depsPath, { recursive: true }).catch(() => {});
    await Deno.rename(next, depsPath);
    generated.add(DEPENDENCIES);
  }
  const filesPath = join(buildPath, FILES);
  if (data.files === "keep") generated.add(FILES);
  else if (data.files === "none") {
    // A folder of that name cloudknot did not write is left alone: the build never sees it.
    if (generated.has(FILES)) {
      await Deno.remove(filesPath, { recursive: true }).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
    }
    generated.delete(FILES);
  } else {
    // The files go in before the Dockerfile that copies them, whole under their name, copied
    // by the file system a file at a time (never read into memory).
    const next = `${filesPath}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
    try {
      await copyShippedFiles(data.files, next);
      await Deno.remove(filesPath, { recursive: true }).catch(() => {});
      await Deno.rename(next, filesPath);
    } catch (e) {
      await Deno.remove(next, { recursive: true }).catch(() => {});
      throw e;
    }
    generated.add(FILES);
  }
  for (const [file, text] of wanted) {
    if (existing.get(file) !== text) {
      await writeTextAtomically(join(buildPath, file), text);
      generated.add(file);
    }
  }
  if (dependencies.deps === "none" && generated.has(DEPENDENCIES)) {
    await Deno.remove(depsPath, { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
    generated.delete(DEPENDENCIES);
  }
  return { generated: GENERATED_FILES.filter((f) => generated.has(f)), createdDir };
}

async function isDirectory(path: string): Promise<boolean> {
  return await Deno.stat(path).then((s) => s.isDirectory, () => false);
}
