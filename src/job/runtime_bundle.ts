/**
 * The job entry point (`main.ts`) bundled into one JavaScript file,
 * `runtime.js`, that a container runs with no network: `deno bundle` inlines
 * every module and npm package it imports. Beside it, the entry point of the
 * job's worker processes (`worker_main.ts`) bundled alone, `worker.js`: a
 * worker loads a quarter of the runtime's code and none of Deno's Node layer,
 * so it starts about as fast as an empty `deno run`.
 *
 * The bundle is deterministic (the same sources give the same bytes, so the
 * image layer that holds it is reused) and cached by content: the key is the
 * hash of every local source file of the entry's module graph, the versions
 * of its remote and npm modules, its deno.json and the deno version.
 *
 * @module
 */
import { homedir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { denoLimit } from "../util/command_limit.ts";
import { type DenoOutput, lastLines, runDeno } from "../util/run_deno.ts";
import { CloudknotError } from "../util/errors.ts";
import { sha256Hex } from "../util/sha256.ts";
import { writeTextAtomically } from "../util/write_text.ts";

/** The bundled job entry point. */
export interface RuntimeBundle {
  /** The JavaScript source: one ES module with no imports but `node:` built-ins. */
  source: string;
  /**
   * The job's worker entry point (`worker_main.ts`) bundled alone, which
   * `runtime.js` runs as `worker.js` beside it (`main.ts`): one ES module with
   * no imports. Only with the default `entry`: another entry gets no worker
   * bundle.
   */
  worker?: string;
  /** The SHA-256 of `source`, in hex. */
  hash: string;
  /** The cache key it was found or stored under. */
  key: string;
}

/** Options of {@linkcode bundleRuntime}. */
export interface BundleRuntimeOptions {
  /**
   * The entry module.
   *
   * @default {"the job entry point, src/job/main.ts"}
   */
  entry?: string | URL;
  /**
   * Where bundles are cached, one file per key; `false` disables the disk
   * cache (bundles are still reused within this process).
   *
   * @default {"~/.cloudknot/cache/runtime"}
   */
  cacheDir?: string | false;
  /**
   * The deno binary that bundles.
   *
   * @default {Deno.execPath()}
   */
  deno?: string;
  /**
   * How long each deno command (bundle, info) may run before it is killed,
   * in milliseconds; else `CLOUDKNOT_DENO_TIMEOUT` (seconds).
   *
   * @default {600000}
   */
  timeoutMs?: number;
}

/**
 * The job entry point could not be bundled.
 *
 * @example Usage
 * ```ts
 * import { RuntimeBundleError } from "@cloudknot/cloudknot/job";
 *
 * const e = new RuntimeBundleError("Cannot bundle the job entry point ./main.ts: ...", { entry: "./main.ts" });
 * console.log(e.entry); // "./main.ts"
 * ```
 */
export class RuntimeBundleError extends CloudknotError {
  /** The entry module. */
  readonly entry: string;

  /**
   * Makes the error.
   *
   * @param message What failed and what to do.
   * @param options `entry` names the entry module; `cause` chains an error.
   */
  constructor(message: string, options: ErrorOptions & { entry: string }) {
    super(message, options);
    this.entry = options.entry;
  }
}

/**
 * How `deno bundle` is run. Minified, since the bundle is shipped in every
 * image and read by every job (half its bytes are indentation and long local
 * names otherwise), with names kept so that the job's frames in a stack trace
 * still name their functions and every class keeps its `name`.
 */
const BUNDLE_FLAGS = ["--quiet", "--platform", "deno", "--minify", "--keep-names"];

const memory = new Map<string, RuntimeBundle>();

/**
 * Bundles the job entry point into one file, or returns the cached bundle of
 * the same sources.
 *
 * @example Usage
 * ```ts
 * import { bundleRuntime } from "@cloudknot/cloudknot/job";
 *
 * const runtime = await bundleRuntime({ cacheDir: false });
 * console.log(runtime.source.includes("jobMain"), runtime.hash.length); // true 64
 * ```
 *
 * @param options The entry module, the cache directory and the deno binary.
 * @returns The bundle's source and hash.
 */
export async function bundleRuntime(options: BundleRuntimeOptions = {}): Promise<RuntimeBundle> {
  const worker = options.entry === undefined ? WORKER_ENTRY : undefined;
  const entry = options.entry === undefined
    ? new URL("./main.ts", import.meta.url)
    : options.entry instanceof URL
    ? options.entry
    : new URL(options.entry, `file://${Deno.cwd().replace(/\/?$/, "/")}`);
  const deno = options.deno ?? Deno.execPath();
  const timeoutMs = options.timeoutMs;
  const cacheDir = options.cacheDir === undefined
    ? join(homedir(), ".cloudknot", "cache", "runtime")
    : options.cacheDir;
  const root = entry.protocol === "file:"
    ? await projectRoot(dirname(fileURLToPath(entry)))
    : cacheDir === false
    ? Deno.cwd()
    : cacheDir;
  if (cacheDir !== false) await Deno.mkdir(cacheDir, { recursive: true });

  const key = await cacheKey(entry, root, deno, timeoutMs);
  const known = memory.get(key);
  if (known !== undefined) return known;
  const cached = cacheDir === false ? undefined : join(cacheDir, `${key}.js`);
  const cachedWorker = cacheDir === false ? undefined : join(cacheDir, `${key}.worker.js`);
  if (cached !== undefined) {
    const source = await Deno.readTextFile(cached).catch(() => undefined);
    const workerSource = worker === undefined
      ? undefined
      : await Deno.readTextFile(cachedWorker!).catch(() => undefined);
    if (source !== undefined && (worker === undefined || workerSource !== undefined)) {
      return remember({ source, hash: await sha256Hex(source), key, worker: workerSource });
    }
  }

  const tmp = await Deno.makeTempDir({ prefix: "cloudknot-runtime-" });
  try {
    // Each entry in a run of its own: bundled together, the worker's
    // `import.meta.main` would hold in runtime.js too.
    const bundle = async (url: URL, out: string) => {
      const result = await run(
        deno,
        ["bundle", ...BUNDLE_FLAGS, "--output", out, url.href],
        root,
        timeoutMs,
      );
      if (result.code !== 0) {
        throw new RuntimeBundleError(
          `Cannot bundle the job entry point ${url.href} with deno bundle (exit code ${result.code}); ` +
            `check that \`deno bundle ${url.href}\` works from ${root}:\n${
              lastLines(result.stderr)
            }`,
          { entry: url.href },
        );
      }
      return await Deno.readTextFile(out);
    };
    // One after the other: two `deno bundle`s started together with an empty
    // DENO_DIR (a new user's first image) both install esbuild's binary into
    // it, and one can fail ("failed to copy esbuild binary"). A miss of the
    // cache is rare, and the second bundle is then the faster one.
    const source = await bundle(entry, join(tmp, "runtime.js"));
    const workerSource = worker === undefined
      ? undefined
      : await bundle(worker, join(tmp, "worker.js"));
    // The worker's file first: the runtime's marks the entry cached.
    if (cached !== undefined) {
      if (workerSource !== undefined) await writeTextAtomically(cachedWorker!, workerSource);
      await writeTextAtomically(cached, source);
    }
    return remember({ source, hash: await sha256Hex(source), key, worker: workerSource });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** The job's worker entry point, bundled beside the default entry. */
const WORKER_ENTRY = new URL("./worker_main.ts", import.meta.url);

function remember(bundle: RuntimeBundle): RuntimeBundle {
  memory.set(bundle.key, bundle);
  return bundle;
}

/**
 * The key of a bundle: the module graph as `deno info` sees it, with the
 * content hash of every local file, so an edit anywhere in the graph (or a
 * new version of a dependency) makes a new bundle.
 */
async function cacheKey(
  entry: URL,
  root: string,
  deno: string,
  timeoutMs: number | undefined,
): Promise<string> {
  const result = await run(deno, ["info", "--json", entry.href], root, timeoutMs);
  let graph: {
    modules?: { specifier?: string; local?: string; error?: string }[];
    npmPackages?: Record<string, unknown>;
  };
  try {
    if (result.code !== 0) throw new Error(lastLines(result.stderr));
    graph = JSON.parse(result.stdout);
  } catch (cause) {
    throw new RuntimeBundleError(
      `Cannot read the module graph of the job entry point ${entry.href} (deno info exit code ` +
        `${result.code}); check that \`deno info ${entry.href}\` works from ${root}:\n${
          lastLines(result.stderr)
        }`,
      { entry: entry.href, cause },
    );
  }
  const parts: string[] = [
    `deno ${deno === Deno.execPath() ? Deno.version.deno : await Deno.realPath(deno)}`,
    `entry ${portable(entry, root)}`,
    `flags ${BUNDLE_FLAGS.join(" ")}`,
  ];
  for (const config of ["deno.json", "deno.jsonc"]) {
    const text = await Deno.readTextFile(join(root, config)).catch(() => undefined);
    if (text !== undefined) parts.push(`${config} ${await sha256Hex(text)}`);
  }
  for (const module of graph.modules ?? []) {
    const specifier = module.specifier ?? "";
    if (module.error !== undefined) {
      throw new RuntimeBundleError(
        `The job entry point ${entry.href} imports ${specifier}, which cannot be loaded: ${module.error}`,
        { entry: entry.href },
      );
    }
    if (specifier.startsWith("file:") && module.local !== undefined) {
      parts.push(
        `file ${portable(new URL(specifier), root)} ${await sha256Hex(
          await Deno.readFile(module.local),
        )}`,
      );
    } else {
      parts.push(`module ${specifier}`);
    }
  }
  for (const npm of Object.keys(graph.npmPackages ?? {})) parts.push(`npm ${npm}`);
  parts.sort();
  return (await sha256Hex(parts.join("\n"))).slice(0, 32);
}

/** A file URL relative to the project root, so that checkouts share keys. */
function portable(url: URL, root: string): string {
  return url.protocol === "file:" ? relative(root, fileURLToPath(url)) : url.href;
}

/** The nearest directory holding a deno.json, where `deno bundle` finds its import map. */
async function projectRoot(start: string): Promise<string> {
  for (let dir = start;; dir = dirname(dir)) {
    for (const config of ["deno.json", "deno.jsonc"]) {
      if (await Deno.stat(join(dir, config)).then(() => true, () => false)) return dir;
    }
    if (dirname(dir) === dir) return start;
  }
}

/** Runs deno for the bundle; a binary that cannot start is a RuntimeBundleError. */
function run(
  deno: string,
  args: string[],
  cwd: string,
  timeoutMs: number | undefined,
): Promise<DenoOutput> {
  return runDeno(deno, args, {
    cwd,
    limit: denoLimit([args[0]!, args.at(-1)!], timeoutMs),
    cannotRun: (cause) =>
      new RuntimeBundleError(
        `Cannot run ${deno} to bundle the job entry point: pass the path of a deno binary as the deno option`,
        { entry: args.at(-1) ?? "", cause },
      ),
  });
}
