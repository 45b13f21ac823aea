/**
 * The catalogue of AWS knots: each knot's record `[knot <name>]` in the
 * cloudknot config file (its one reader and its one writer), the runs it
 * remembers and its jobs in `[batch-jobs <profile> <region>]`.
 *
 * The record holds the names and ARNs of what the knot is made of; a key
 * the writer always writes but an older or hand-edited record lacks reads
 * as the writer's default (see {@linkcode AwsKnotRecord}). Reading a knot's
 * runs needs only its record, its bucket and Batch, so it works from any
 * machine with the config file and credentials.
 *
 * @module
 */
import { type ArtifactSources, rememberSourceRoots } from "../../job/artifact_sources.ts";
import { readRuntimeProtocol } from "../../job/runtime_protocol.ts";
import type { ShippedCount } from "../../job/shipped_files.ts";
import {
  CannotCreateResourceError,
  CloudknotError,
  CloudknotInputError,
} from "../../util/errors.ts";
import { jobsSection, knotRunIds, recordName, recordSection } from "../../state/sections.ts";
import type { StateFile } from "../../state/state_file.ts";
import type { AwsTargetOptions } from "./aws_target.ts";
import { runtimeCheck } from "./batch/runtime_check.ts";
import { NO_SSE_SETTING } from "../../resources/settings.ts";
import { originalRecord, OriginalResourceError } from "../../resources/original.ts";
import { requireRecordRegion } from "../../resources/record_region.ts";
import {
  CannotDeleteResourceError,
  ResourceClobberedError,
  ResourceDoesNotExistError,
} from "../../resources/errors.ts";
import { knotBeingMade } from "../../resources/_pars_users.ts";

/** How many runs a knot's record remembers. */
const RUNS_KEPT = 100;

/** The fields of a record that name a resource, and their keys. */
const RESOURCE_KEYS = {
  pars: "pars",
  dockerImage: "docker-image",
  dockerRepo: "docker-repo",
  imageUri: "image-uri",
  computeEnvironment: "compute-environment",
  jobQueue: "job-queue",
  jobDefinition: "job-definition",
  bucket: "bucket",
  prefix: "prefix",
} as const;

/** A field of a record that names a resource (empty when the record lacks it). */
export type AwsKnotResourceField = keyof typeof RESOURCE_KEYS;

/** Every text field and its key, in the order the writer writes them; a missing one reads as "". */
const TEXT_KEYS = { region: "region", profile: "profile", ...RESOURCE_KEYS } as const;

/** An AWS knot as its `[knot <name>]` record has it. */
export interface AwsKnotRecord {
  /** The name. */
  name: string;
  /** The region. */
  region: string;
  /** The profile it was made with. */
  profile: string;
  /** The Pars' name. */
  pars: string;
  /** The image's name. */
  dockerImage: string;
  /** The ECR repository's name. */
  dockerRepo: string;
  /** The image, by digest. */
  imageUri: string;
  /** The compute environment's ARN. */
  computeEnvironment: string;
  /** The job queue's ARN. */
  jobQueue: string;
  /** The job definition's ARN. */
  jobDefinition: string;
  /** The job definition's name. @default {"<name>-ck-jd"} */
  jobDefinitionName: string;
  /** The launch template's id, when the knot has one. */
  launchTemplate?: string;
  /**
   * The ARN of its own job role; `undefined` for a knot made before knots
   * had their own, whose jobs use its Pars' job role.
   */
  jobRole?: string;
  /** The bucket of its job data. */
  bucket: string;
  /**
   * Its objects' encryption; `undefined` for none asked (the bucket's
   * default), written `None` as the Python original writes it. @default {"AES256"}
   */
  sse: "AES256" | "aws:kms" | undefined;
  /** The key prefix of its job data. */
  prefix: string;
  /** Attempts per item. @default {3} */
  retries: number;
  /** The compute type. @default {"EC2"} */
  compute: string;
  /**
   * Every tag the knot pushed to its repository, first its own (an update
   * adds one per new function, and older runs' job definition revisions run
   * on the images of the others), so that its clobber removes them all.
   * @default {[name in lower case]}
   */
  imageTags: string[];
  /**
   * The hash of the function its job definition runs (key `function-hash`);
   * absent in records of earlier versions, whose image's record has it.
   */
  functionHash?: string;
  /**
   * How many data files that function ships beside itself, and their bytes
   * (key `files`: `<count> <bytes>`); absent when it ships none.
   */
  files?: ShippedCount;
  /**
   * The job definition revision the knot ran before its first update, and
   * when that update began (key `updated-from`: `<arn> <ISO time>`): the
   * revision a run of an earlier version made before then retries on once
   * AWS Batch no longer describes its jobs (its manifest names no revision).
   * Absent for a knot never updated, whose revision runs its one function.
   */
  updatedFrom?: { jobDefinition: string; at: number };
  /**
   * The runtime protocol of the job runtime in the image its job definition
   * runs (key `runtime-protocol`; `job/runtime_protocol.ts`), as the revision's
   * `cloudknot:runtime` tag says; absent in records of knots made before
   * runtime protocols, whose image runs an older runtime.
   */
  runtime?: number;
  /** The run ids the record remembers, oldest first. */
  runs: string[];
  /**
   * When a clobber of the knot began (key `clobber-started`), in ms since
   * the epoch: the record of a knot whose clobber has not finished (it
   * stopped part-way, or still runs). A knot made again drops it.
   */
  clobberStartedAt?: number;
  /**
   * Whether that clobber still runs: a live process holds its mark
   * ({@linkcode clobberingAwsKnot}). Set by {@linkcode readAwsKnot} and
   * {@linkcode readAwsKnots} with `clobberStartedAt`; not written.
   */
  clobberRunning?: boolean;
  /**
   * Where its module's sources were when it was bundled (keys `source-key`,
   * `source-src`, `source-deno-dir`), so its runs' stack frames name the
   * files in any process; absent for `func` and in records of earlier versions.
   */
  sources?: ArtifactSources;
}

/**
 * The name of a Batch resource from its ARN (`…:job-queue/<name>`), as a
 * knot's record holds its compute environment and job queue.
 *
 * @example Usage
 * ```ts
 * import { batchName } from "./catalog.ts";
 *
 * console.log(batchName("arn:aws:batch:us-east-1:123456789012:job-queue/sq-ck-jq")); // "sq-ck-jq"
 * ```
 *
 * @param arn The ARN.
 * @returns The name.
 */
export function batchName(arn: string): string {
  return arn.slice(arn.lastIndexOf("/") + 1);
}

/** Options for {@linkcode readAwsKnot}. */
export interface ReadAwsKnotOptions {
  /**
   * Refuse a `[knot <name>]` of another kind (such as the Python
   * cloudknot's) instead of reading it as no AWS knot. @default {false}
   */
  strict?: boolean;
}

function sseOf(stored: string | undefined): "AES256" | "aws:kms" | undefined {
  if (stored === NO_SSE_SETTING) return undefined;
  return stored === "aws:kms" ? "aws:kms" : "AES256";
}

function parse(name: string, keys: Map<string, string>): AwsKnotRecord {
  const text = Object.fromEntries(
    Object.entries(TEXT_KEYS).map(([field, key]) => [field, keys.get(key) ?? ""]),
  ) as Record<keyof typeof TEXT_KEYS, string>;
  const launchTemplate = keys.get("launch-template");
  const jobRole = keys.get("job-role");
  const functionHash = keys.get("function-hash");
  const [count, bytes] = (keys.get("files") ?? "").split(" ").map(Number);
  const files = Number.isInteger(count) && Number.isInteger(bytes) && count! > 0
    ? { count: count!, bytes: bytes! }
    : undefined;
  const runtime = readRuntimeProtocol(keys.get("runtime-protocol"));
  const [fromDefinition, fromTime] = (keys.get("updated-from") ?? "").split(" ");
  const updatedAt = Date.parse(fromTime ?? "");
  const updatedFrom = fromDefinition && !Number.isNaN(updatedAt)
    ? { jobDefinition: fromDefinition, at: updatedAt }
    : undefined;
  const [key, src, deno_dir] = ["source-key", "source-src", "source-deno-dir"].map((k) =>
    keys.get(k)
  );
  const sources = key && src && deno_dir ? { key, src, deno_dir } : undefined;
  const clobberStartedAt = Date.parse(keys.get("clobber-started") ?? "");
  // Reading the record remembers, for this process, where its module's sources are.
  if (sources !== undefined) rememberSourceRoots(sources.key, sources);
  return {
    name,
    ...text,
    jobDefinitionName: keys.get("job-definition-name") ?? `${name}-ck-jd`,
    ...(launchTemplate ? { launchTemplate } : {}),
    ...(jobRole ? { jobRole } : {}),
    sse: sseOf(keys.get("sse")),
    // The default of validateComputeOptions, which the writer writes.
    retries: Number(keys.get("retries")) || 3,
    compute: keys.get("compute") || "EC2",
    imageTags: (keys.get("image-tags") ?? name.toLowerCase()).split(" "),
    runs: knotRunIds(keys),
    ...(functionHash ? { functionHash } : {}),
    ...(files !== undefined ? { files } : {}),
    ...(updatedFrom !== undefined ? { updatedFrom } : {}),
    ...(runtime !== undefined ? { runtime } : {}),
    ...(sources !== undefined ? { sources } : {}),
    ...(Number.isNaN(clobberStartedAt) ? {} : { clobberStartedAt }),
  };
}

/**
 * Reads the record of the AWS knot of a name.
 *
 * @example Usage
 * ```ts
 * import { StateFile } from "@cloudknot/cloudknot/state";
 * import { readAwsKnot } from "./catalog.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const state = new StateFile({ path: `${dir}/cloudknot` });
 * console.log(await readAwsKnot(state, "squares")); // undefined
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param state The config file.
 * @param name The knot's name.
 * @param options `strict` refuses a `[knot <name>]` of another kind.
 * @returns The record, or `undefined` when there is no AWS knot of that name.
 * @throws {OriginalResourceError} With `strict`, when `[knot <name>]` is the Python cloudknot's.
 * @throws {CloudknotInputError} With `strict`, when `[knot <name>]` is not an AWS knot's.
 */
export async function readAwsKnot(
  state: StateFile,
  name: string,
  options: ReadAwsKnotOptions = {},
): Promise<AwsKnotRecord | undefined> {
  const [record] = await withClobberRunning(state, async () => {
    const keys = await state.section(recordSection("knot", name));
    if (keys === undefined) return [];
    if (keys.get("target") !== "aws") {
      if (!options.strict) return [];
      const original = originalRecord("knot", name, keys);
      if (original !== undefined) throw new OriginalResourceError(original);
      throw new CloudknotInputError(
        `The config file's knot "${name}" is not an AWS knot; choose another name`,
      );
    }
    return [parse(name, keys)];
  });
  return record;
}

/**
 * Why a knot's clobber stops its jobs, and how to run their items again, as
 * a reader of their runs reads it (after `cloudknot: ` in their status
 * reason, or for the jobs Batch terminated with its own when the clobber
 * deleted their queue). The command line says it with its own commands.
 *
 * @example Usage
 * ```ts ignore
 * import { knotClobberedWhy } from "./catalog.ts";
 *
 * console.log(knotClobberedWhy("squares"));
 * // "Knot squares was clobbered: to run these items again, create the knot with
 * // Knot.create({ name: "squares", func }) (or module and exportName) and map them again"
 * ```
 *
 * @param name The knot's name.
 * @returns Why.
 */
export function knotClobberedWhy(name: string): string {
  return `Knot ${name} was clobbered: to run these items again, create the knot with ` +
    `Knot.create({ name: "${name}", func }) (or module and exportName) and map them again`;
}

/** The first word of the mark of a knot being clobbered; no record has this kind, so `gc` passes it by. */
const CLOBBERING = "clobbering-knot";

/**
 * Runs `body`, which clobbers knot `name`, holding the mark that it does so
 * ({@linkcode StateFile.whileMaking}, an OS lock its process's exit frees):
 * while it is held, {@linkcode readAwsKnot} tells a clobber that still runs
 * from one that stopped part-way. A second clobber of the knot while one
 * runs refuses at once, before it changes anything (a reader looking at the
 * mark meanwhile is waited out, not taken for a clobber): the knot it opened is being
 * deleted under it, and what is left once the first ends is only known then.
 *
 * @example Usage
 * ```ts ignore
 * import { clobberingAwsKnot } from "./catalog.ts";
 *
 * await clobberingAwsKnot(state, "squares", async () => {});
 * ```
 *
 * @param state The config file.
 * @param name The knot's name.
 * @param body Clobbers it.
 * @returns What `body` returns.
 * @throws {CannotDeleteResourceError} While another process clobbers the knot.
 */
export async function clobberingAwsKnot<T>(
  state: StateFile,
  name: string,
  body: () => Promise<T>,
): Promise<T> {
  // Refused at once when another clobber holds the mark; a reader looking at the marks is
  // waited out (StateFile.whileMaking tells the two apart).
  const busy = new Error("busy");
  try {
    return await state.whileMaking(`${CLOBBERING} ${name}`, async () => {
      // This mark is held before looking: a heal or update that takes its own mark later
      // sees it and refuses ({@linkcode refuseWhileKnotClobbered}); one that took it first is
      // seen here, and this clobber refuses before it changes anything, or it would delete
      // what that one writes and remove the record that names what it made.
      if (await knotBeingMade(state, name)) throw knotBeingMadeMeanwhile(state, name);
      return await body();
    }, () => {
      throw busy;
    });
  } catch (e) {
    if (e === busy) throw knotBeingClobbered(state, name);
    throw e;
  }
}

/**
 * The refusal of a clobber of knot `name` that starts while another process
 * with this config file heals or updates it (`Knot.create` holding its mark).
 */
function knotBeingMadeMeanwhile(state: StateFile, name: string): CannotDeleteResourceError {
  return new CannotDeleteResourceError(
    `Knot ${name} is being updated or made again by another process with this config file ` +
      `(${state.path}), so this clobber changed nothing: clobbering it now would leave what ` +
      `that process makes with no record. Once it ends, clobber the knot again`,
    { users: [] },
  );
}

/**
 * Refuses while another process clobbers knot `name` with this config file
 * ({@linkcode clobberingAwsKnot}): a heal or update of the knot calls it once
 * it holds its own mark (`makingWithPars`), before it makes anything, so that
 * of a clobber and a heal or update that overlap, one always sees the other
 * and refuses.
 *
 * @example Usage
 * ```ts ignore
 * import { refuseWhileKnotClobbered } from "./catalog.ts";
 *
 * await refuseWhileKnotClobbered(state, "squares");
 * ```
 *
 * @param state The config file.
 * @param name The knot's name.
 * @throws {CannotCreateResourceError} While another process clobbers the knot.
 */
export async function refuseWhileKnotClobbered(state: StateFile, name: string): Promise<void> {
  if ((await state.making()).includes(`${CLOBBERING} ${name}`)) {
    throw knotBeingClobbered(state, name, "open");
  }
}

/**
 * Refuses a map (or a retry, or a submit) of knot `name` once its clobber
 * has begun: while another process (or knot handle) clobbers it (it holds
 * the clobber's mark, {@linkcode clobberingAwsKnot}, even before its record
 * notes the start), or after a clobber that stopped part-way (its record
 * still says `clobber-started`). Its queue is being deleted, or is gone:
 * jobs submitted into it would be killed, and the inputs uploaded for them
 * would outlive a clobber that already deleted the knot's job data. A map
 * calls it before it uploads anything, and again once it holds its
 * submission mark, before it writes the run's index (a clobber that starts
 * meanwhile waits for a map that holds its mark: `submissionsUnderWay`).
 * A knot whose record is gone is not refused here.
 *
 * @example Usage
 * ```ts ignore
 * import { refuseMapWhileClobbered } from "./catalog.ts";
 *
 * await refuseMapWhileClobbered(state, "squares");
 * ```
 *
 * @param state The config file.
 * @param name The knot's name.
 * @throws {ResourceClobberedError} When the knot's clobber has begun; nothing was written.
 */
export async function refuseMapWhileClobbered(state: StateFile, name: string): Promise<void> {
  const { record, marked } = await clobberLook(state, name);
  if (record === undefined || (record.clobberStartedAt === undefined && !marked)) return;
  const running = marked || record.clobberRunning === true;
  const at = record.clobberStartedAt === undefined
    ? undefined
    : new Date(record.clobberStartedAt).toISOString();
  const began = at === undefined ? "" : ` (it began at ${at})`;
  const create = `create the knot with Knot.create({ name: "${name}", func }) (or module and ` +
    `exportName)`;
  throw new ResourceClobberedError(
    running
      ? `Knot ${name} is being clobbered by another process or knot handle with this config ` +
        `file (${state.path})${began}, so nothing was uploaded or submitted: its job queue is ` +
        `being deleted, with any job sent to it. Once that clobber ends, ${create} and map ` +
        `again`
      : `Knot ${name} is being deleted: a clobber of it began${
        at === undefined ? "" : ` at ${at}`
      } and stopped part-way, so ` +
        `nothing was uploaded or submitted. Finish it with (await Knot.create({ name: ` +
        `"${name}", target: "aws" })).clobber(), then ${create} and map again`,
  );
}

/** The knot's record, and whether a clobber of it holds its mark in the config file now. */
async function clobberLook(
  state: StateFile,
  name: string,
): Promise<{ record: AwsKnotRecord | undefined; marked: boolean }> {
  const record = await readAwsKnot(state, name);
  const marked = (await state.making()).includes(`${CLOBBERING} ${name}`);
  return { record, marked };
}

/**
 * Whether a clobber of knot `name` has begun with this config file (it runs
 * now, or stopped part-way), by the rule {@linkcode refuseMapWhileClobbered}
 * refuses a map with: a reader that found a run's jobs by name then writes
 * nothing under the knot's prefix, which the clobber deletes (an object
 * written after would be left behind).
 *
 * @example Usage
 * ```ts ignore
 * import { clobberHasBegun } from "./catalog.ts";
 *
 * if (!await clobberHasBegun(state, "squares")) await writeManifest(store, manifest);
 * ```
 *
 * @param state The config file.
 * @param name The knot's name.
 * @returns Whether it has begun; `false` for a knot whose record is gone.
 */
export async function clobberHasBegun(state: StateFile, name: string): Promise<boolean> {
  const { record, marked } = await clobberLook(state, name);
  return record !== undefined && (record.clobberStartedAt !== undefined || marked);
}

/**
 * The refusal of a clobber of knot `name`, or of opening it (`Knot.create`,
 * which would adopt or make again what is being deleted), while another
 * process clobbers it ({@linkcode clobberingAwsKnot}), for a caller that sees
 * it first in the knot's record (`clobberRunning`).
 *
 * @example Usage
 * ```ts ignore
 * import { knotBeingClobbered } from "./catalog.ts";
 *
 * if (record.clobberRunning) throw knotBeingClobbered(state, record.name);
 * ```
 *
 * @param state The config file.
 * @param name The knot's name.
 * @param refused What was refused: a clobber, or opening the knot.
 * @returns The error, saying what to do.
 */
export function knotBeingClobbered(
  state: StateFile,
  name: string,
  refused: "clobber" | "open" = "clobber",
): CannotDeleteResourceError | CannotCreateResourceError {
  const clobbering = `Knot ${name} is being clobbered by another process with this config file ` +
    `(${state.path}), so `;
  if (refused === "open") {
    return new CannotCreateResourceError(
      clobbering + `it was not opened, and nothing was changed. Once that clobber ends, ` +
        `create the knot with Knot.create({ name: "${name}", func }) (or module and exportName)`,
    );
  }
  return new CannotDeleteResourceError(
    clobbering + `this clobber changed nothing. Wait for that one to end: ` +
      `\`knot show ${name}\` says while it runs, and once it has stopped part-way, ` +
      `clobbering the knot again finishes it`,
    { users: [] },
  );
}

/**
 * Reads records, and sets `clobberRunning` on those whose clobber has not
 * finished. The records are read again after the marks are looked at, until
 * both reads agree: a clobber holds its mark from before it notes its start
 * until after it removes the record, so a note that is there before and
 * after the mark was seen free belongs to a clobber that ended.
 */
async function withClobberRunning(
  state: StateFile,
  read: () => Promise<AwsKnotRecord[]>,
): Promise<AwsKnotRecord[]> {
  const started = (records: AwsKnotRecord[]) =>
    JSON.stringify(records.map((r) => [r.name, r.clobberStartedAt]));
  let records = await read();
  for (let tries = 0; records.some((r) => r.clobberStartedAt !== undefined); tries++) {
    const running = new Set(await state.making());
    const again = await read();
    const settled = started(again) === started(records) || tries === 2;
    records = again;
    if (!settled) continue;
    for (const record of records) {
      if (record.clobberStartedAt === undefined) continue;
      record.clobberRunning = running.has(`${CLOBBERING} ${record.name}`);
    }
    break;
  }
  return records;
}

/**
 * Checks that a record names the resources a knot is adopted from.
 *
 * @example Usage
 * ```ts ignore
 * import { requireResources } from "./catalog.ts";
 *
 * requireResources(record, ["jobQueue", "computeEnvironment"]);
 * ```
 *
 * @param record The record.
 * @param fields The fields to check (default: every one that names a resource).
 * @throws {CloudknotError} Naming the first key the record lacks.
 */
export function requireResources(
  record: AwsKnotRecord,
  fields: AwsKnotResourceField[] = Object.keys(RESOURCE_KEYS) as AwsKnotResourceField[],
): void {
  const [missing] = lackingResources(record, fields);
  if (missing !== undefined) {
    throw new CloudknotError(
      `The config file's [knot ${record.name}] has no "${missing}": clobber the knot and ` +
        `create it again`,
    );
  }
}

/**
 * The keys naming a resource that a record lacks (a config file edited by
 * hand): such a knot cannot be opened, so its clobber forgets its record and
 * leaves its resources to `gc`, which finds them once no record names the knot.
 *
 * @example Usage
 * ```ts ignore
 * import { lackingResources } from "./catalog.ts";
 *
 * console.log(lackingResources(record)); // ["job-queue"]
 * ```
 *
 * @param record The record.
 * @param fields The fields to check (default: every one that names a resource).
 * @returns The config keys it lacks, in the order the writer writes them.
 */
export function lackingResources(
  record: AwsKnotRecord,
  fields: AwsKnotResourceField[] = Object.keys(RESOURCE_KEYS) as AwsKnotResourceField[],
): string[] {
  return fields.filter((field) => record[field] === "").map((field) => RESOURCE_KEYS[field]);
}

/**
 * Checks that a knot's record is in the session's region (see
 * {@linkcode requireRecordRegion}).
 *
 * @example Usage
 * ```ts ignore
 * import { requireRegion } from "./catalog.ts";
 *
 * requireRegion(record, session.region, state.path);
 * ```
 *
 * @param record The record.
 * @param current The session's region.
 * @param file The config file's path.
 * @throws {CloudknotError} When the record has no region.
 * @throws {RegionMismatchError} When the record is in another region.
 */
export function requireRegion(record: AwsKnotRecord, current: string, file: string): void {
  requireRecordRegion({ kind: "knot", name: record.name, region: record.region }, current, file);
}

/**
 * Another knot of the config file whose jobs pull their image from this
 * repository: a knot's clobber keeps a repository such a knot uses.
 *
 * @example Usage
 * ```ts ignore
 * import { repositoryUser } from "./catalog.ts";
 *
 * console.log(await repositoryUser(state, "squares", "lab-images"));
 * ```
 *
 * @param state The config file.
 * @param knot The knot being clobbered.
 * @param repository The repository's name.
 * @returns The other knot's name, or `undefined` when no other knot uses it.
 */
export async function repositoryUser(
  state: StateFile,
  knot: string,
  repository: string,
): Promise<string | undefined> {
  return (await readAwsKnots(state)).find((k) => k.name !== knot && k.dockerRepo === repository)
    ?.name;
}

/**
 * The other knots of the config file whose jobs run with this Pars: a
 * knot's clobber with its Pars keeps a Pars such a knot uses.
 *
 * @example Usage
 * ```ts ignore
 * import { parsUsers } from "./catalog.ts";
 *
 * console.log(await parsUsers(state, "squares", "lab")); // ["cubes"]
 * ```
 *
 * @param state The config file.
 * @param knot The knot being clobbered.
 * @param pars The Pars' name.
 * @returns The other knots' names, in the config file's order.
 */
export async function parsUsers(state: StateFile, knot: string, pars: string): Promise<string[]> {
  return (await readAwsKnots(state)).filter((k) => k.name !== knot && k.pars === pars)
    .map((k) => k.name);
}

/**
 * Every AWS knot of the config file.
 *
 * @example Usage
 * ```ts ignore
 * import { readAwsKnots } from "./catalog.ts";
 *
 * for (const knot of await readAwsKnots(state)) console.log(knot.name, knot.region);
 * ```
 *
 * @param state The config file.
 * @returns The records, sorted by name.
 */
export async function readAwsKnots(state: StateFile): Promise<AwsKnotRecord[]> {
  return await withClobberRunning(state, async () => {
    const out: AwsKnotRecord[] = [];
    for (const [section, keys] of await state.read()) {
      const name = recordName("knot", section);
      if (name !== undefined && keys.get("target") === "aws") out.push(parse(name, keys));
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  });
}

/**
 * Writes a knot's record; the runs it remembers are kept.
 *
 * @example Usage
 * ```ts ignore
 * import { writeAwsKnot } from "./catalog.ts";
 *
 * await writeAwsKnot(state, record);
 * ```
 *
 * @param state The config file.
 * @param record The record (its `runs` are not written: {@linkcode recordAwsRun} adds them).
 */
export async function writeAwsKnot(state: StateFile, record: AwsKnotRecord): Promise<void> {
  await state.setMany(recordSection("knot", record.name), {
    target: "aws",
    ...Object.fromEntries(
      Object.entries(TEXT_KEYS).map((
        [field, key],
      ) => [key, record[field as keyof typeof TEXT_KEYS]]),
    ),
    "job-definition-name": record.jobDefinitionName,
    "launch-template": record.launchTemplate,
    "job-role": record.jobRole,
    sse: record.sse ?? NO_SSE_SETTING,
    retries: String(record.retries),
    compute: record.compute,
    "image-tags": record.imageTags.join(" "),
    "function-hash": record.functionHash,
    files: record.files && `${record.files.count} ${record.files.bytes}`,
    "updated-from": record.updatedFrom &&
      `${record.updatedFrom.jobDefinition} ${new Date(record.updatedFrom.at).toISOString()}`,
    "runtime-protocol": record.runtime === undefined ? undefined : String(record.runtime),
    "source-key": record.sources?.key,
    "source-src": record.sources?.src,
    "source-deno-dir": record.sources?.deno_dir,
    // A knot made again is whole, whatever a clobber left undone.
    "clobber-started": undefined,
  });
}

/**
 * Notes in a knot's record that its clobber has begun, before the clobber
 * changes anything, so that `knot show` and `knot list` tell a knot whose
 * clobber stopped part-way. A record that is gone is left gone.
 *
 * @example Usage
 * ```ts ignore
 * import { markAwsKnotClobbering } from "./catalog.ts";
 *
 * await markAwsKnotClobbering(state, "squares");
 * ```
 *
 * @param state The config file.
 * @param name The knot's name.
 */
export async function markAwsKnotClobbering(state: StateFile, name: string): Promise<void> {
  await state.update((doc) => {
    doc.get(recordSection("knot", name))?.set("clobber-started", new Date().toISOString());
  });
}

/**
 * Forgets the runs a knot's record remembers, as its clobber is about to
 * delete their data: the record counts no run whose data may be gone. A
 * record that is gone is left gone.
 *
 * @example Usage
 * ```ts ignore
 * import { forgetAwsKnotRuns } from "./catalog.ts";
 *
 * await forgetAwsKnotRuns(state, "squares");
 * ```
 *
 * @param state The config file.
 * @param name The knot's name.
 */
export async function forgetAwsKnotRuns(state: StateFile, name: string): Promise<void> {
  await state.update((doc) => {
    doc.get(recordSection("knot", name))?.delete("runs");
  });
}

/** A knot and the account and region of its jobs. */
export interface KnotJobs {
  /** The knot's name. */
  knot: string;
  /** The AWS profile of `[batch-jobs <profile> <region>]`. */
  profile: string;
  /** The region of `[batch-jobs <profile> <region>]`. */
  region: string;
}

/**
 * Removes a knot's record and, with `jobs`, its jobs' entries in
 * `[batch-jobs <profile> <region>]`, in one update.
 *
 * @example Usage
 * ```ts ignore
 * import { removeAwsKnot } from "./catalog.ts";
 *
 * await removeAwsKnot(state, "squares", { knot: "squares", profile: "default", region: "eu-west-1" });
 * ```
 *
 * @param state The config file.
 * @param name The knot's name.
 * @param jobs Where its jobs are listed, to forget them too.
 */
export async function removeAwsKnot(
  state: StateFile,
  name: string,
  jobs?: KnotJobs,
): Promise<void> {
  await state.update((doc) => {
    doc.delete(recordSection("knot", name));
    if (jobs === undefined) return;
    const section = jobsSection(jobs.profile, jobs.region);
    const entries = doc.get(section);
    for (const [id, jobName] of entries ?? []) {
      if (isKnotJob(jobs.knot, jobName)) entries!.delete(id);
    }
    if (entries?.size === 0) doc.delete(section);
  });
}

/**
 * The runs a knot's record remembers, oldest first.
 *
 * @example Usage
 * ```ts ignore
 * import { recordedRuns } from "./catalog.ts";
 *
 * console.log(await recordedRuns(state, "squares"));
 * ```
 *
 * @param state The config file.
 * @param name The knot's name.
 * @returns The run ids.
 */
export async function recordedRuns(state: StateFile, name: string): Promise<string[]> {
  const keys = await state.section(recordSection("knot", name));
  return parse(name, keys ?? new Map()).runs;
}

/**
 * Records a run in its knot's record and its jobs in `[batch-jobs <profile>
 * <region>]`, in one update. The record keeps the newest 100 runs; the
 * jobs of older runs are forgotten.
 *
 * @example Usage
 * ```ts ignore
 * import { recordAwsRun } from "./catalog.ts";
 *
 * await recordAwsRun(state, { knot: "squares", profile, region }, runId, jobs);
 * ```
 *
 * @param state The config file.
 * @param where The knot, and the account and region of its jobs.
 * @param runId The run's id.
 * @param jobs The run's jobs.
 * @throws {ResourceDoesNotExistError} When the knot's record is gone (clobbered meanwhile);
 *   nothing is written.
 */
export async function recordAwsRun(
  state: StateFile,
  where: KnotJobs,
  runId: string,
  jobs: readonly { jobId: string; jobName: string }[],
): Promise<void> {
  await state.update((doc) => {
    const record = recordSection("knot", where.knot);
    const keys = doc.get(record);
    // Gone since the map began: clobbered by another process, which deletes
    // its job queue and the jobs in it. A record made again with only `runs`
    // would be a knot nothing can run nor clobber whole, so the run is refused
    // (and its caller stops its jobs) rather than recorded.
    if (keys === undefined) throw clobberedWhileSubmitting(state, where.knot);
    const runs = parse(where.knot, keys).runs;
    runs.push(runId);
    const dropped = runs.splice(0, Math.max(0, runs.length - RUNS_KEPT));
    keys.set("runs", runs.join(" "));
    doc.set(record, keys);
    const section = jobsSection(where.profile, where.region);
    const entries = doc.get(section) ?? new Map<string, string>();
    for (const old of dropped) {
      for (const [id, name] of entries) {
        if (name.startsWith(`${where.knot}-${old}-`)) entries.delete(id);
      }
    }
    for (const job of jobs) entries.set(job.jobId.toLowerCase(), job.jobName);
    doc.set(section, entries);
  });
}

/** The error of a run whose knot's record was removed while its jobs were submitted. */
function clobberedWhileSubmitting(state: StateFile, name: string): ResourceDoesNotExistError {
  return new ResourceDoesNotExistError(
    `Knot ${name} was clobbered while this map submitted its jobs: its record is no longer in ` +
      `the config file ${state.path} (another process or knot handle clobbered it), so this ` +
      `run is not recorded and its jobs are stopped. To run it again, make it again with ` +
      `Knot.create({ name: "${name}", func }) (or module and exportName) and the knot's options`,
    { missing: [recordSection("knot", name)] },
  );
}

/**
 * The ids of a knot's jobs in `[batch-jobs <profile> <region>]`.
 *
 * @example Usage
 * ```ts ignore
 * import { knotJobIds } from "./catalog.ts";
 *
 * console.log(await knotJobIds(state, { knot: "squares", profile, region }));
 * ```
 *
 * @param state The config file.
 * @param where The knot, and the account and region of its jobs.
 * @returns The job ids.
 */
export async function knotJobIds(state: StateFile, where: KnotJobs): Promise<string[]> {
  const entries = await state.section(jobsSection(where.profile, where.region));
  return [...entries ?? []].filter(([, jobName]) => isKnotJob(where.knot, jobName))
    .map(([id]) => id);
}

/** Whether a job name is one of a knot's: `<knot>-<runId>-<n>`. */
function isKnotJob(knot: string, jobName: string): boolean {
  return new RegExp(`^${knot}-\\d{8}T\\d{6}Z-[0-9a-f]{6}-\\d+$`).test(jobName);
}

/**
 * The options of an `AwsTarget` for the knot of a record: with a session
 * and the config file, read access to its runs (and `map`, which first
 * checks the runtime protocol of the revision it submits to,
 * `batch/runtime_check.ts`).
 *
 * @example Usage
 * ```ts ignore
 * import { AwsTarget } from "./aws_target.ts";
 * import { awsTargetOptions } from "./catalog.ts";
 *
 * const target = new AwsTarget(awsTargetOptions(record, { session, state }));
 * console.log(await target.runs());
 * ```
 *
 * @param record The knot's record.
 * @param options The session, the config file and any other target options.
 * @returns The target's options.
 */
export function awsTargetOptions(
  record: AwsKnotRecord,
  options: Pick<AwsTargetOptions, "session" | "state"> & Partial<AwsTargetOptions>,
): AwsTargetOptions {
  return {
    knot: record.name,
    bucket: record.bucket,
    prefix: record.prefix,
    sse: record.sse,
    jobQueue: record.jobQueue,
    jobDefinition: record.jobDefinition,
    ...(record.updatedFrom !== undefined ? { updatedFrom: record.updatedFrom } : {}),
    attempts: record.retries,
    profile: record.profile,
    region: record.region,
    // A revision whose image runs another version's job runtime runs nothing.
    checkRevision: runtimeCheck(options.session.batch, record.name),
    ...options,
  };
}
