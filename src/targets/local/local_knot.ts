/**
 * Opening a knot on the local target: its function artifact and record in
 * the local knots directory, its runs in the runs directory.
 *
 * @module
 */
import { join } from "node:path";
import { copyShippedFiles } from "../../job/shipped_files.ts";
import { FUNCTION_FILE } from "../../job/function_folder.ts";
import { CloudknotError, CloudknotInputError } from "../../util/errors.ts";
import { isDiskRefusal } from "./errors.ts";
import { defined } from "../../util/defined.ts";
import type { FunctionArtifact } from "../../job/function_artifact.ts";
import { artifactOf } from "../../job/artifact_of.ts";
import { DEFAULT_PERMISSIONS, type Permissions } from "../../job/permissions.ts";
import { LocalStore } from "../../store/local.ts";
import { ensurePrivateDir } from "../../store/private_dir.ts";
import {
  checkKnotsDir,
  CLOBBERING_FILE,
  type EnvLookup,
  startMakingArtifact,
} from "../../store/local_knots.ts";
import {
  clobberedArtifact,
  type LocalKnotOptions,
  type LocalKnotRecord,
  localKnotsDir,
  localRunsRoot,
  readLocalKnotRecord,
  recordedArtifact,
  saveLocalKnotRecord,
} from "./catalog.ts";
import { LocalTarget } from "./local_target.ts";
import { pathExists } from "../../util/read_text.ts";
import type { OpenedKnot } from "../target.ts";
import {
  checkKeptResources,
  DEFAULT_RETRIES,
  defaultConcurrency,
  knotLimits,
} from "../machine_resources.ts";
import { holdingKnot } from "../../store/knot_lock.ts";

/** What a local knot is made from. */
export interface LocalKnotSpec {
  /** The knot's name. */
  name: string;
  /** A self-contained function. */
  // deno-lint-ignore no-explicit-any
  func?: (...args: any[]) => unknown;
  /** A module whose export is the function. */
  module?: string | URL;
  /** The export of `module`. */
  exportName?: string;
  /** Data files and folders to ship beside the function, relative to `module`'s folder. */
  files?: readonly string[];
  /** The local knots directory. */
  dir?: string;
  /**
   * Worker processes; the knot's own when absent (its record's, else
   * {@linkcode defaultConcurrency}), as for `attempts`, `timeout` and `memory`.
   */
  concurrency?: number;
  /** Attempts per item (`retries`); the knot's own when absent, else {@linkcode DEFAULT_RETRIES}. */
  attempts?: number;
  /** Seconds per attempt; the knot's own when absent, else none. */
  timeout?: number;
  /** Each worker's V8 heap limit, MiB; the knot's own when absent, else V8's. */
  memory?: number;
  /** What the function may do (validated); adopting keeps the stored ones when absent. */
  permissions?: Permissions;
  /** Where warnings go, such as a module's code that reaches files beside it. @default {console.warn} */
  warn?: (message: string) => void;
  /**
   * Reads `CLOUDKNOT_LOCAL_RUNS`, and without `dir` `CLOUDKNOT_LOCAL_DIR` and
   * `HOME` (the command line's environment). @default {Deno.env.get}
   */
  env?: EnvLookup;
}

/**
 * Creates a local knot, or adopts the one of that name; a function passed
 * again replaces the stored one (nothing costly hangs on it locally).
 *
 * @example Usage
 * ```ts ignore
 * import { openLocalKnot } from "./local_knot.ts";
 *
 * const { target } = await openLocalKnot({ name: "k", func: (x: number) => x, concurrency: 2, attempts: 1 });
 * ```
 *
 * @param spec The name, the function and the limits.
 * @returns The knot's artifact and target.
 */
export async function openLocalKnot(spec: LocalKnotSpec): Promise<OpenedKnot<LocalTarget>> {
  const knots = localKnotsDir(defined({ dir: spec.dir, env: spec.env }));
  await checkKnotsDir(knots, "the dir option or CLOUDKNOT_LOCAL_DIR");
  const root = join(knots, spec.name);
  const runsRoot = await localRunsRoot(root, defined({ env: spec.env }));
  // The workers are allowed to read the function and the runs' inputs by
  // path, in a flag that cannot name a path with a comma: refused before
  // anything is made.
  for (
    const [dir, how] of [[root, "the dir option or CLOUDKNOT_LOCAL_DIR"], [
      runsRoot,
      "CLOUDKNOT_LOCAL_RUNS",
    ]] as const
  ) {
    if (dir.includes(",")) {
      throw new CloudknotInputError(
        `The directory ${dir} holds a comma, which Deno's --allow-read flag (how the knot's ` +
          `workers may read its function and its runs' inputs) cannot name: choose a directory ` +
          `without commas (${how})`,
        { field: "dir" },
      );
    }
  }
  const store = new LocalStore(root);
  // A damaged record is replaced when the knot is made again with its function.
  let saved = await readLocalKnotRecord(store).catch((e) => {
    if (e?.cause instanceof SyntaxError && (spec.func ?? spec.module) !== undefined) {
      return undefined;
    }
    throw e;
  });
  if (saved !== undefined && saved.target !== "local") {
    throw new CloudknotInputError(
      `The knot named "${spec.name}" in ${root} runs on the ${saved.target} target, not ` +
        `locally: pass target: "${saved.target}", choose another name, or clobber that knot first`,
      { field: "name" },
    );
  }
  const unfinished = await finishClobber(spec, root, runsRoot, saved);
  if (unfinished) return unfinished;
  // Its clobber finished: the knot is made anew.
  if (unfinished === false) saved = undefined;
  // Kept from another machine (or from this one before it changed): refused before anything.
  if (saved?.options !== undefined) {
    checkKeptResources("local", spec.name, saved.options, keptOptions(spec));
  }
  if (saved !== undefined) await ensurePrivateDir(root);
  const given = await artifactOf(spec, defined({ warn: spec.warn }));
  let artifact: FunctionArtifact;
  if (given !== undefined) artifact = given;
  else if (saved !== undefined) artifact = await recordedFunction(root, saved);
  else {
    throw new CloudknotInputError(
      `There is no local knot named "${spec.name}" to adopt: pass func, or module and exportName, to create it`,
      { field: "func" },
    );
  }
  // The knot's directory is made (or checked) only once its function is known.
  await ensurePrivateDir(root);
  // An adopted knot keeps the artifact its record names, in either layout.
  const artifactKey = spec.func === undefined && spec.module === undefined && saved !== undefined
    ? saved.artifact
    : await saveArtifact(root, store, artifact).catch((e) => {
      if (!isDiskRefusal(e)) throw e;
      throw new CloudknotError(
        `Cannot save the function of local knot ${spec.name} in ${root}: ${e.message}. Free ` +
          `space on that disk, or pass the knot a dir on another disk (the dir option or ` +
          `CLOUDKNOT_LOCAL_DIR), then create the knot again`,
        { cause: e },
      );
    });
  const record = await saveLocalKnotRecord<LocalKnotRecord>(
    store,
    { name: spec.name, target: "local", artifact: artifactKey },
    {
      artifact,
      saved,
      permissions: spec.permissions,
      options: keptOptions(spec),
      functionOfRecord: given === undefined,
      // An adoption's write is held (a moment, so the notice is short), so two processes that
      // adopt the knot with other options keep both. A new knot's is not: its folder would keep a
      // lock file without a record if the create were killed between the two, which is how
      // `knot list` tells an unfinished docker knot.
      ...(saved !== undefined
        ? {
          holding: (write: () => Promise<LocalKnotRecord>) =>
            holdingKnot(root, write, {
              make: false,
              doing: "writes its record",
              onWait: (holder) =>
                (spec.warn ?? console.warn)(
                  `cloudknot: another process${
                    holder === undefined ? "" : ` (${holder.pid})`
                  } is writing the record of local knot ${spec.name} (in ${root}); waiting for ` +
                    `it, then this one writes its own`,
                ),
            }),
        }
        : {}),
    },
  );
  // Another process created the knot again with another function while this one adopted it:
  // the knot's function is that one now, which this handle runs.
  if (record.artifact !== artifactKey || record.hash !== artifact.hash) {
    artifact = await recordedFunction(root, record);
  }
  const { concurrency, attempts, timeout, memory } = knotLimits(record.options);
  if (runsRoot !== root) await ensurePrivateDir(runsRoot);
  const target = new LocalTarget({
    knot: spec.name,
    root,
    runsRoot,
    artifact: record.artifact,
    knotArtifact: () => recordedArtifact(root, record.artifact),
    concurrency,
    attempts,
    permissions: record.permissions!,
    ...defined({ timeout, memory, warn: spec.warn }),
  });
  return { artifact, target };
}

/** The function the record of the knot in `root` names, read from its artifact. */
async function recordedFunction(root: string, record: LocalKnotRecord): Promise<FunctionArtifact> {
  return {
    kind: record.kind,
    source: await Deno.readTextFile(join(root, record.artifact)),
    hash: record.hash,
    name: record.functionName,
    ...(record.sources !== undefined ? { sources: record.sources } : {}),
  };
}

/**
 * The options given that a local knot keeps in its record (`concurrency`,
 * `retries`, `timeout`, `memory`), and that a docker knot keeps among its
 * own: those a `Knot.create` of the knot by name runs with when it does not
 * give them, as an AWS knot's job definition keeps them.
 *
 * @example Usage
 * ```ts
 * import { keptOptions } from "./local_knot.ts";
 *
 * console.log(keptOptions({ concurrency: 2, attempts: 1 })); // { concurrency: 2, retries: 1 }
 * ```
 *
 * @param spec The knot's options, as given.
 * @returns Those given of the ones it keeps, as its record names them.
 */
export function keptOptions(
  spec: Pick<LocalKnotSpec, "concurrency" | "attempts" | "timeout" | "memory">,
): LocalKnotOptions {
  return defined({
    concurrency: spec.concurrency,
    retries: spec.attempts,
    timeout: spec.timeout,
    memory: spec.memory,
  });
}

/**
 * Finishes the clobber of the knot that was stopped part-way (killed), which
 * left its mark ({@linkcode CLOBBERING_FILE}), with a notice: what is
 * left of it is removed, never adopted, and its runs never become a new
 * knot's of its name. Adopting it then gives a handle of the clobbered knot
 * (whose clobber is done, and whose map says to create it again); creating
 * it goes on (`false`). `undefined` when there is no such mark.
 */
async function finishClobber(
  spec: LocalKnotSpec,
  root: string,
  runsRoot: string,
  saved: LocalKnotRecord | undefined,
): Promise<OpenedKnot<LocalTarget> | false | undefined> {
  if (!await pathExists(join(root, CLOBBERING_FILE), { followLinks: false })) {
    return undefined;
  }
  const target = new LocalTarget({
    knot: spec.name,
    root,
    runsRoot,
    artifact: "",
    permissions: { ...DEFAULT_PERMISSIONS },
    concurrency: defaultConcurrency(),
    attempts: DEFAULT_RETRIES,
  });
  await target.clobber();
  const creating = (spec.func ?? spec.module) !== undefined;
  (spec.warn ?? console.warn)(
    `cloudknot: the clobber of local knot ${spec.name} (in ${root}) was stopped part-way ` +
      `before; it is finished now (its runs and record removed)` +
      (creating ? `, and the knot is created anew` : ""),
  );
  if (creating) return false;
  return { artifact: clobberedArtifact(saved, spec.name), target };
}

/**
 * Writes a knot's artifact into its directory unless it is there: a function
 * alone as `artifacts/<hash>.js`; one that ships files in a folder of its own,
 * `artifacts/<hash>/function.js` with the files at their paths beside it,
 * made whole in a folder of its own name and renamed into place, so a crash
 * or a full disk never leaves half of it under its name; the half-made
 * folder a killed process leaves, which it held locked, gc removes.
 */
async function saveArtifact(
  root: string,
  store: LocalStore,
  artifact: FunctionArtifact,
): Promise<string> {
  if (artifact.files === undefined) {
    const key = `artifacts/${artifact.hash}.js`;
    if ((await store.get(key)) === undefined) await store.put(key, artifact.source);
    return key;
  }
  const key = `artifacts/${artifact.hash}/${FUNCTION_FILE}`;
  const folder = join(root, "artifacts", artifact.hash);
  if (await Deno.stat(folder).then(() => true, () => false)) return key;
  // Held until it is renamed: gc removes such a folder only when no process holds it.
  const { dir: making, held } = await startMakingArtifact(join(root, "artifacts"), artifact.hash);
  try {
    await copyShippedFiles(artifact.files, making);
    await Deno.writeTextFile(join(making, FUNCTION_FILE), artifact.source);
    // Readable by the workers as the rest of the knot's directory is.
    await Deno.chmod(making, 0o700);
    await Deno.rename(making, folder);
  } catch (e) {
    await Deno.remove(making, { recursive: true }).catch(() => {});
    // Another process made it first: theirs is the same.
    if (await Deno.stat(join(folder, FUNCTION_FILE)).then(() => true, () => false)) return key;
    throw e;
  } finally {
    held.close();
  }
  return key;
}
