/**
 * The catalogue of local knots: where they live, their records, and read-only
 * access to their runs, without adopting (and so rewriting) a knot.
 *
 * A local knot is a private directory `<dir>/<name>/` holding `knot.json`
 * (its record), `artifacts/<hash>.js` (its packaged functions) and
 * `runs.log` (the ids of its runs). Its runs live in
 * {@linkcode localRunsRoot} under `runs/<runId>/` (`run_dir.ts`).
 *
 * @module
 */
import { join } from "node:path";
import { CloudknotError, CloudknotInputError } from "../../util/errors.ts";
import { type ArtifactSources, rememberSourceRoots } from "../../job/artifact_sources.ts";
import type { FunctionArtifact, FunctionKind } from "../../job/function_artifact.ts";
import type { RunManifest } from "../../job/payload.ts";
import { DEFAULT_PERMISSIONS, type Permissions } from "../../job/permissions.ts";
import { type ShippedCount, shippedCount } from "../../job/shipped_files.ts";
import { LocalStore } from "../../store/local.ts";
import { checkPrivateDirs } from "../../store/private_dir.ts";
import { type EnvLookup, localKnotsDir, localRunsRoot } from "../../store/local_knots.ts";
import { validateKnotName } from "../../util/validate.ts";
import { type DamagedRun, LocalTarget } from "./local_target.ts";
import { thenSentence } from "../../util/sentence.ts";
import { KnotClobberedWhileOpeningError, runsRootAdvice } from "./errors.ts";
import { type KeptLimits, knotLimits } from "../machine_resources.ts";

export type { EnvLookup };
export { localKnotsDir, localRunsRoot };

/** What a local knot's `knot.json` holds. */
export interface LocalKnotRecord {
  /** The knot's name. */
  name: string;
  /** Always `"local"`. */
  target: "local";
  /**
   * The artifact's key in the knot's directory: `artifacts/<hash>.js`, or
   * `artifacts/<hash>/function.js` with the files it ships beside it.
   */
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
  /** What the function may do (absent in records of earlier versions: the default). */
  permissions?: Permissions;
  /**
   * The options of `Knot.create` the knot keeps, as last given (absent when none was, and in
   * records of earlier versions: their defaults).
   */
  options?: LocalKnotOptions;
  /**
   * Where a module's sources were when it was bundled, so its runs' stack
   * frames name the files in any process (absent for `func`, and in records
   * of earlier versions: frames keep their `cloudknot:` names).
   */
  sources?: ArtifactSources;
  /** How many data files the function ships beside it, and their bytes (absent when none). */
  files?: ShippedCount;
}

/**
 * The options of `Knot.create` a local knot keeps in its record, each as it
 * was last given (when the knot was created, or adopted with another value):
 * an adoption by name without one runs with the knot's own, as an AWS knot's
 * job definition keeps them. One never given is left out, and runs with its
 * default.
 */
export type LocalKnotOptions = Omit<KeptLimits, "vcpus">;

/** What every record of the local knots directory says of its knot, a local knot's and a docker knot's alike. */
export type KnotRecordFields = Pick<
  LocalKnotRecord,
  | "hash"
  | "kind"
  | "functionName"
  | "createdAt"
  | "updatedAt"
  | "permissions"
  | "options"
  | "sources"
  | "files"
>;

/**
 * Makes a knot's record and writes it to its directory's store (a local or
 * a docker knot's): the target's own fields, then what every record of the
 * local knots directory says of its knot ({@linkcode KnotRecordFields}): its
 * function, when it was made and updated, what the function may do and the
 * options it keeps ({@linkcode LocalKnotOptions}). Adopting a knot keeps
 * when it was created, its permissions unless new ones are given, and each
 * of its options unless another value is given; adopting one that did not
 * change (but for `updatedAt`) writes nothing, so its runs stay readable on
 * a full disk. A record that changes is written holding the knot's lock
 * (`options.holding`), read again under it, so two processes adopting the
 * knot at once with other options take turns and the record keeps both.
 *
 * @example Usage
 * ```ts ignore
 * import { saveLocalKnotRecord } from "./catalog.ts";
 *
 * const record = await saveLocalKnotRecord<LocalKnotRecord>(
 *   new LocalStore(root),
 *   { name, target: "local", artifact: key },
 *   { artifact, saved },
 * );
 * ```
 *
 * @param store The store rooted at the knot's directory.
 * @param own The fields of the target's record before the shared ones.
 * @param options `artifact`, the knot's function, packaged; `saved`, the
 *   knot's record before, when it is adopted; `permissions`, those given now
 *   (default: the saved ones, else the default); `options`, the options of
 *   `Knot.create` given now that the knot keeps (default: none given);
 *   `holding`, runs a write of the record holding the knot's lock (default:
 *   written at once, as by a caller that holds it already);
 *   `functionOfRecord`, no function was given (an adoption by name): the
 *   record read again under the lock keeps its function (`artifact` is the
 *   one read before), and its target's own fields (default: `false`).
 * @returns The knot's record, as saved: its function may be another than
 *   `artifact` with `functionOfRecord`.
 * @throws {KnotClobberedWhileOpeningError} With `holding`, when the record
 *   is gone under the lock: the knot was clobbered meanwhile.
 */
export async function saveLocalKnotRecord<R extends KnotRecordFields>(
  store: LocalStore,
  own: Omit<R, keyof KnotRecordFields>,
  options: {
    artifact: FunctionArtifact;
    saved: SavedKnotRecord<R> | undefined;
    permissions?: Permissions | undefined;
    options?: NonNullable<R["options"]>;
    holding?: (write: () => Promise<R>) => Promise<R>;
    functionOfRecord?: boolean;
  },
): Promise<R> {
  const made = knotRecord<R>(own, options, options.saved);
  if (made.unchanged) return made.record;
  const write = async (record: R) => {
    await store.put("knot.json", JSON.stringify(record, null, 2));
    return record;
  };
  if (options.holding === undefined) return await write(made.record);
  return await options.holding(async () => {
    // Another process may have changed the record since it was read: theirs is kept too.
    const saved = await readLocalKnotRecord(store).catch(() => options.saved) as
      | (SavedKnotRecord<R> & Partial<R>)
      | undefined;
    // Clobbered meanwhile: its folder is not made again, without the artifact it held.
    if (saved === undefined) {
      throw new KnotClobberedWhileOpeningError((own as { name?: string }).name ?? "", store.root);
    }
    // An adoption that gives no function keeps the knot's, as it is now: another process may
    // have created the knot again with another function since.
    const again = options.functionOfRecord
      ? knotRecord<R>(recordOwn(own, saved), { ...options, artifact: recordFunction(saved) }, saved)
      : knotRecord<R>(own, options, saved);
    return again.unchanged ? again.record : await write(again.record);
  });
}

/** The target's own fields of `own`, each as the record `now` has it (when it has it). */
function recordOwn<R extends KnotRecordFields>(
  own: Omit<R, keyof KnotRecordFields>,
  now: Partial<R>,
): Omit<R, keyof KnotRecordFields> {
  const fields = own as Record<string, unknown>;
  const kept = now as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(fields).map((key) => [key, kept[key] ?? fields[key]]),
  ) as Omit<R, keyof KnotRecordFields>;
}

/** The function a record names, as {@linkcode knotRecord} reads a packaged one's fields. */
function recordFunction(record: Partial<KnotRecordFields>): FunctionArtifact {
  return {
    kind: record.kind!,
    hash: record.hash!,
    name: record.functionName!,
    source: "",
    ...(record.sources !== undefined ? { sources: record.sources } : {}),
  };
}

/** What {@linkcode saveLocalKnotRecord} reads of a knot's record before. */
type SavedKnotRecord<R extends KnotRecordFields> = {
  createdAt: number;
  permissions?: Permissions;
  hash?: string;
  files?: ShippedCount;
  options?: R["options"];
};

/** The record {@linkcode saveLocalKnotRecord} saves, and whether it is `saved`'s (but for `updatedAt`). */
function knotRecord<R extends KnotRecordFields>(
  own: Omit<R, keyof KnotRecordFields>,
  options: {
    artifact: FunctionArtifact;
    permissions?: Permissions | undefined;
    options?: NonNullable<R["options"]>;
  },
  saved: SavedKnotRecord<R> | undefined,
): { record: R; unchanged: boolean } {
  const { artifact } = options;
  const now = Date.now();
  const kept = { ...saved?.options, ...options.options };
  const shared: KnotRecordFields = {
    hash: artifact.hash,
    kind: artifact.kind,
    functionName: artifact.name,
    createdAt: saved?.createdAt ?? now,
    updatedAt: now,
    permissions: options.permissions ?? saved?.permissions ?? { ...DEFAULT_PERMISSIONS },
    ...(Object.keys(kept).length > 0 ? { options: kept } : {}),
    ...(artifact.sources !== undefined ? { sources: artifact.sources } : {}),
    // An adopted knot's artifact, read back, keeps the count its record has.
    ...(artifact.files !== undefined
      ? { files: shippedCount(artifact.files.files) }
      : saved?.hash === artifact.hash && saved.files !== undefined
      ? { files: saved.files }
      : {}),
  };
  const record = { ...own, ...shared } as R;
  const unchanged = saved !== undefined &&
    JSON.stringify({ ...saved, updatedAt: now }) === JSON.stringify(record);
  return { record, unchanged };
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

/**
 * Reads a local knot's record from its directory's store (a local or a
 * docker knot's), and remembers, for this process, where its module's
 * sources are, so the stack frames of its runs' errors name the files.
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
  if (bytes === undefined) return undefined;
  let record: LocalKnotRecord;
  try {
    record = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new CloudknotError(
      thenSentence(
        `The record of the knot in ${store.root} (knot.json) is damaged: ${(e as Error).message}`,
        `Create the knot again with its function (Knot.create with func or module, or ` +
          `cloudknot knot create), which writes a new record and keeps its runs`,
      ),
      { cause: e },
    );
  }
  if (record.sources !== undefined) rememberSourceRoots(record.sources.key, record.sources);
  return record;
}

/**
 * The artifact a local knot's record names now: what a retry of its runs
 * runs, the knot's function of then.
 *
 * @example Usage
 * ```ts ignore
 * import { recordedArtifact } from "./catalog.ts";
 *
 * console.log(await recordedArtifact("/home/me/.cloudknot/local/squares", "artifacts/1f2e.js"));
 * ```
 *
 * @param root The knot's directory.
 * @param fallback The artifact when the knot has no local record (it was clobbered, or a knot
 * of another target has its name now).
 * @returns The artifact's key in the knot's directory.
 */
export async function recordedArtifact(root: string, fallback: string): Promise<string> {
  const record = await readLocalKnotRecord(new LocalStore(root));
  return record?.target === "local" ? record.artifact : fallback;
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
 * @param damaged Gets each knot whose record is damaged, by name, with the error that says so.
 * @param unrecorded Gets the name of each folder without a record (a docker knot's create
 *   stopped before it wrote it, say), which is not listed.
 * @returns Every knot with a record.
 */
export async function listLocalKnots(
  options: LocalCatalogOptions = {},
  damaged?: Map<string, Error>,
  unrecorded?: string[],
): Promise<LocalKnotInfo[]> {
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
    // A knot whose record is damaged is left out (adopting it says why), and told to `damaged`.
    const record = await readLocalKnotRecord(new LocalStore(root)).catch((e) => {
      if (!(e?.cause instanceof SyntaxError)) throw e;
      damaged?.set(name, e);
      return undefined;
    });
    if (record === undefined) {
      if (!damaged?.has(name)) unrecorded?.push(name);
      continue;
    }
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
  // Nothing is read from a directory that is not private, as the knot's opening refuses it.
  await checkPrivateDirs([root]);
  const record = await readLocalKnotRecord(new LocalStore(root));
  if (record === undefined) {
    throw new CloudknotInputError(
      `There is no local knot named "${name}" in ${dir}: list the knots with \`knot list\``,
      { field: "name" },
    );
  }
  const runsRoot = await localRunsRoot(root, options);
  await checkPrivateDirs([runsRoot, join(runsRoot, "runs")]);
  return { record, root, runsRoot };
}

/**
 * Access to a local knot's runs without adopting the knot: list them and
 * re-open one to collect its results. A run whose process died is finished
 * (its items without a final record run again); nothing else is written.
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
): Pick<
  LocalTarget,
  "runs" | "collect" | "isLive" | "goneRuns" | "damagedRuns" | "runsElsewhere" | "plan"
> {
  return new LocalTarget({
    knot: knot.record.name,
    root: knot.root,
    runsRoot: knot.runsRoot,
    artifact: knot.record.artifact,
    knotArtifact: () => recordedArtifact(knot.root, knot.record.artifact),
    // Finishing a run another process left, or retrying one, runs the knot's workers (its
    // attempts and limits are the run's own).
    concurrency: knotLimits(knot.record.options).concurrency,
    attempts: 1,
    permissions: knot.record.permissions ?? { ...DEFAULT_PERMISSIONS },
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
 * @param gone The ids of the knot's runs whose data is gone, to say so.
 * @param elsewhere The knot's runs made under another runs directory than
 *   this process's (`LocalTarget.runsElsewhere`), and the knot's directory, to
 *   say where they are.
 * @param damaged The knot's runs whose manifest is damaged
 *   (`LocalTarget.damagedRuns`), each with the error that says so and when it
 *   was made at the latest: such a run is never taken for gone, and when it
 *   may be the latest (not made before the latest run read, as far as its
 *   folder's birth time, or else its id's second, tells), no earlier run is
 *   picked in its place.
 * @returns The run's manifest.
 * @throws {CloudknotInputError} When there is no such run.
 * @throws {CloudknotError} When the run (or the latest) has a damaged manifest.
 */
export function pickRun(
  knot: string,
  runs: RunManifest[],
  runId?: string,
  gone: string[] = [],
  elsewhere?: { knotRoot: string; runs: Map<string, string> },
  damaged: Map<string, DamagedRun> = new Map(),
): RunManifest {
  const unreadable = (id: string, latest: boolean) =>
    new CloudknotError(
      `${latest ? `The latest run of knot ${knot} is ${id}` : `Run ${id} of knot ${knot}`}: ` +
        damaged.get(id)!.error.message.replace(/^The /, "the ") +
        (latest
          ? `. To read an earlier run instead, give its id: \`knot show ${knot}\` lists them`
          : ""),
      { cause: damaged.get(id)!.error },
    );
  const there = (id: string, what: string) => {
    const root = elsewhere?.runs.get(id);
    return root === undefined ? undefined : runsRootAdvice(elsewhere!.knotRoot, root, what);
  };
  if (runId === undefined) {
    const latest = runs.at(-1);
    // A damaged run that may be the latest is not passed over for an earlier run.
    const newest = [...damaged].filter(([id, run]) =>
      latest === undefined || !madeBefore(id, run, latest)
    ).map(([id]) => id).sort().at(-1);
    if (newest !== undefined) throw unreadable(newest, true);
    const away = [...(elsewhere?.runs.keys() ?? [])];
    if (latest === undefined && away.length > 0) {
      throw new CloudknotInputError(
        `Knot ${knot} has no runs where this process looks: its latest run, ${away.at(-1)}, is ` +
          there(away.at(-1)!, "it"),
        { field: "runId" },
      );
    }
    if (latest === undefined) {
      throw new CloudknotInputError(
        gone.length > 0
          ? `Knot ${knot} has no run data left: the data of its ${gone.length} run${
            gone.length === 1 ? "" : "s"
          } (the latest ${
            gone.at(-1)
          }) is gone, deleted or cleared at restart; map the inputs again`
          : `Knot ${knot} has no runs yet: map some inputs first`,
        { field: "runId" },
      );
    }
    return latest;
  }
  const away = there(runId, "it");
  if (away !== undefined) {
    throw new CloudknotInputError(`Run ${runId} of knot ${knot} is ${away}`, { field: "runId" });
  }
  if (gone.includes(runId)) {
    throw new CloudknotInputError(
      `The data of run ${runId} of knot ${knot} is gone (deleted, or cleared at restart): ` +
        `map its inputs again`,
      { field: "runId" },
    );
  }
  if (damaged.has(runId)) throw unreadable(runId, false);
  const found = runs.find((run) => run.runId === runId);
  if (found !== undefined) return found;
  const prefixed = runs.filter((run) => run.runId.startsWith(runId));
  const damagedPrefixed = [...damaged.keys()].filter((id) => id.startsWith(runId));
  if (prefixed.length === 1 && damagedPrefixed.length === 0) return prefixed[0]!;
  if (prefixed.length === 0 && damagedPrefixed.length === 1) {
    throw unreadable(damagedPrefixed[0]!, false);
  }
  throw new CloudknotInputError(
    prefixed.length + damagedPrefixed.length > 1
      ? `Run id "${runId}" matches ${
        prefixed.length + damagedPrefixed.length
      } runs of knot ${knot}: give more of the id`
      : `Knot ${knot} has no run "${runId}": list its runs with \`knot show ${knot}\``,
    { field: "runId" },
  );
}

/**
 * How far behind the time it reads a file system's timestamp may be: Linux
 * stamps files with its coarse clock, up to a tick behind (10 ms at the
 * lowest tick rate).
 */
const FILE_CLOCK_LAG_MS = 10;

/**
 * Whether a damaged run was provably made before `latest`: its folder was
 * born before `latest` was made (less the file clock's lag, since a run's
 * `createdAt` is read before its folder is made), or, where the file system
 * keeps no birth time, its id's second (with which a run id begins) is an
 * earlier one.
 */
function madeBefore(id: string, run: DamagedRun, latest: RunManifest): boolean {
  const stamp = (id: string) => id.split("-")[0]!;
  return stamp(id) < stamp(latest.runId) ||
    (run.madeBy !== undefined && run.madeBy + FILE_CLOCK_LAG_MS < latest.createdAt);
}

/**
 * The artifact of the handle a knot gets when opening it finished its
 * killed clobber: no function is left, only what its record (if any) said
 * of it, for the handle's name and view.
 *
 * @example Usage
 * ```ts
 * import { clobberedArtifact } from "./catalog.ts";
 *
 * console.log(clobberedArtifact(undefined, "squares").name); // "squares"
 * ```
 *
 * @param saved The knot's record as it was read, if any.
 * @param name The knot's name.
 * @returns The artifact, with no source.
 */
export function clobberedArtifact(
  saved: { kind?: FunctionKind; hash?: string; functionName?: string } | undefined,
  name: string,
): FunctionArtifact {
  return {
    kind: saved?.kind ?? "func",
    source: "",
    hash: saved?.hash ?? "",
    name: saved?.functionName ?? name,
  };
}
