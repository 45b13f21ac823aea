/**
 * The catalogue of local knots: where they live, their records, and read-only
 * access to their runs, without adopting (and so rewriting) a knot.
 *
 * A local knot is a directory `<dir>/<name>/` holding `knot.json` (its
 * record) and `artifacts/<hash>.js` (its packaged function). Its runs live in
 * {@linkcode localRunsRoot} under `runs/<runId>/`.
 *
 * @module
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { CloudknotError, CloudknotInputError } from "../../util/errors.ts";
import { sha256Hex } from "../../util/sha256.ts";
import type { FunctionKind } from "../../job/function_artifact.ts";
import type { RunManifest } from "../../job/payload.ts";
import { LocalStore } from "../../store/local.ts";
import { validateKnotName } from "../../util/validate.ts";
import { LocalTarget } from "./local_target.ts";

/** Reads an environment variable; `undefined` when it is not set. */
export type EnvLookup = (name: string) => string | undefined;

/** What a local knot's `knot.json` holds. */
export interface LocalKnotRecord {
  /** The knot's name. */
  name: string;
  /** Always `"local"`. */
  target: "local";
  /** The artifact's key in the knot's directory, `artifacts/<hash>.js`. */
  artifact: string;
  /** The artifact's SHA-256, in hex. */
  hash: string;
  /** How the function was shipped. */
  kind: FunctionKind;
  /** The function's name. */
  functionName: string;
  /** When the knot was created, in epoch milliseconds. */
  createdAt: number;
  /** When the knot was last created or adopted, in epoch milliseconds. */
  updatedAt: number;
}

/** A local knot found on disk. */
export interface LocalKnotInfo {
  /** Its record. */
  record: LocalKnotRecord;
  /** Its directory. */
  root: string;
  /** The directory of its runs. */
  runsRoot: string;
}

/** Options for the catalogue functions. */
export interface LocalCatalogOptions {
  /** The directory of the local knots (default: {@linkcode localKnotsDir}). */
  dir?: string;
  /** Reads environment variables (default: `Deno.env.get`). */
  env?: EnvLookup;
}

function denoEnv(name: string): string | undefined {
  return Deno.env.get(name);
}

/**
 * The directory of the local knots, as an absolute path: `dir` when given,
 * else `$CLOUDKNOT_LOCAL_DIR`, else `~/.cloudknot/local`.
 *
 * @example Usage
 * ```ts
 * import { localKnotsDir } from "./catalog.ts";
 *
 * console.log(localKnotsDir({ env: () => "/data/knots" })); // "/data/knots"
 * ```
 *
 * @param options `dir` wins; `env` reads `CLOUDKNOT_LOCAL_DIR`.
 * @returns The directory.
 */
export function localKnotsDir(options: LocalCatalogOptions = {}): string {
  return resolve(
    options.dir ?? (options.env ?? denoEnv)("CLOUDKNOT_LOCAL_DIR") ??
      join(homedir(), ".cloudknot", "local"),
  );
}

/**
 * Where a local knot keeps its runs. Runs write a small file per item, so on
 * Linux they go to shared memory (`/dev/shm`), where creating a file costs a
 * few microseconds instead of up to hundreds on a disk; a run's data lasts
 * until the knot is clobbered or the machine restarts. `CLOUDKNOT_LOCAL_RUNS`
 * chooses another directory; elsewhere, runs stay in the knot's directory.
 * Deno opens `/dev` only with `--allow-all`, so with narrower permissions
 * set `CLOUDKNOT_LOCAL_RUNS`.
 *
 * @example Usage
 * ```ts ignore
 * import { localRunsRoot } from "./catalog.ts";
 *
 * console.log(await localRunsRoot("/home/me/.cloudknot/local/squares"));
 * ```
 *
 * @param root The knot's directory.
 * @param options `env` reads `CLOUDKNOT_LOCAL_RUNS`.
 * @returns The directory of its runs.
 */
export async function localRunsRoot(
  root: string,
  options: { env?: EnvLookup } = {},
): Promise<string> {
  const id = (await sha256Hex(root)).slice(0, 16);
  const chosen = (options.env ?? denoEnv)("CLOUDKNOT_LOCAL_RUNS");
  if (chosen) return join(chosen, id);
  if (Deno.build.os !== "linux") return root;
  try {
    const shm = await Deno.stat("/dev/shm");
    if (!shm.isDirectory) return root;
    const base = join("/dev/shm", `cloudknot-${Deno.uid() ?? "user"}`);
    await Deno.mkdir(base, { recursive: true, mode: 0o700 });
    return join(base, id);
  } catch (e) {
    // Without the permission the runs must not quietly move elsewhere: another
    // process, with it, would look for them in /dev/shm.
    if (e instanceof Deno.errors.NotCapable) {
      throw new CloudknotError(
        "Local runs go to /dev/shm, which Deno opens only with --allow-all: run with -A, " +
          "or set CLOUDKNOT_LOCAL_RUNS to a directory for the runs",
        { cause: e },
      );
    }
    return root;
  }
}

/**
 * Reads a local knot's record from its directory's store.
 *
 * @example Usage
 * ```ts ignore
 * import { readLocalKnotRecord } from "./catalog.ts";
 *
 * const record = await readLocalKnotRecord(new LocalStore(root));
 * ```
 *
 * @param store The store rooted at the knot's directory.
 * @returns The record, or `undefined` when there is none.
 */
export async function readLocalKnotRecord(
  store: LocalStore,
): Promise<LocalKnotRecord | undefined> {
  const bytes = await store.get("knot.json");
  return bytes === undefined ? undefined : JSON.parse(new TextDecoder().decode(bytes));
}

/**
 * Lists the local knots, sorted by name.
 *
 * @example Usage
 * ```ts ignore
 * import { listLocalKnots } from "./catalog.ts";
 *
 * for (const knot of await listLocalKnots()) console.log(knot.record.name);
 * ```
 *
 * @param options Where the knots live.
 * @returns Every knot with a record.
 */
export async function listLocalKnots(options: LocalCatalogOptions = {}): Promise<LocalKnotInfo[]> {
  const dir = localKnotsDir(options);
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) names.push(entry.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const knots: LocalKnotInfo[] = [];
  for (const name of names.sort()) {
    const root = join(dir, name);
    const record = await readLocalKnotRecord(new LocalStore(root));
    if (record === undefined) continue;
    knots.push({ record, root, runsRoot: await localRunsRoot(root, options) });
  }
  return knots;
}

/**
 * Finds one local knot by name, without adopting it.
 *
 * @example Usage
 * ```ts ignore
 * import { findLocalKnot } from "./catalog.ts";
 *
 * const knot = await findLocalKnot("squares");
 * console.log(knot.record.functionName);
 * ```
 *
 * @param name The knot's name.
 * @param options Where the knots live.
 * @returns The knot.
 * @throws {CloudknotInputError} When there is no such knot.
 */
export async function findLocalKnot(
  name: string,
  options: LocalCatalogOptions = {},
): Promise<LocalKnotInfo> {
  validateKnotName(name);
  const dir = localKnotsDir(options);
  const root = join(dir, name);
  const record = await readLocalKnotRecord(new LocalStore(root));
  if (record === undefined) {
    throw new CloudknotInputError(
      `There is no local knot named "${name}" in ${dir}: list the knots with \`knot list\``,
      { field: "name" },
    );
  }
  return { record, root, runsRoot: await localRunsRoot(root, options) };
}

/**
 * Read-only access to a local knot's runs: list them and re-open one to
 * collect its results. Nothing is written.
 *
 * @example Usage
 * ```ts ignore
 * import { findLocalKnot, localRuns } from "./catalog.ts";
 *
 * const runs = localRuns(await findLocalKnot("squares"));
 * const [latest] = (await runs.runs()).slice(-1);
 * const run = await runs.collect(latest.runId);
 * ```
 *
 * @param knot The knot.
 * @returns Its runs' reader.
 */
export function localRuns(
  knot: LocalKnotInfo,
): Pick<LocalTarget, "runs" | "collect" | "plan"> {
  return new LocalTarget({
    knot: knot.record.name,
    store: new LocalStore(knot.runsRoot),
    functionUrl: pathToFileURL(join(knot.root, knot.record.artifact)).href,
    concurrency: 1,
    attempts: 1,
    dirs: [knot.root, knot.runsRoot],
  });
}

/**
 * Picks a run of a knot: the given id, or the latest run.
 *
 * @example Usage
 * ```ts ignore
 * import { pickRun } from "./catalog.ts";
 *
 * const manifest = pickRun("squares", await runs.runs());
 * ```
 *
 * @param knot The knot's name, for messages.
 * @param runs The knot's runs, oldest first.
 * @param runId The run's id; the latest run when omitted.
 * @returns The run's manifest.
 * @throws {CloudknotInputError} When there is no such run.
 */
export function pickRun(knot: string, runs: RunManifest[], runId?: string): RunManifest {
  if (runId === undefined) {
    const latest = runs.at(-1);
    if (latest === undefined) {
      throw new CloudknotInputError(`Knot ${knot} has no runs yet: map some inputs first`, {
        field: "runId",
      });
    }
    return latest;
  }
  const found = runs.find((run) => run.runId === runId);
  if (found !== undefined) return found;
  const prefixed = runs.filter((run) => run.runId.startsWith(runId));
  if (prefixed.length === 1) return prefixed[0]!;
  throw new CloudknotInputError(
    prefixed.length > 1
      ? `Run id "${runId}" matches ${prefixed.length} runs of knot ${knot}: give more of the id`
      : `Knot ${knot} has no run "${runId}": list its runs with \`knot show ${knot}\``,
    { field: "runId" },
  );
}
