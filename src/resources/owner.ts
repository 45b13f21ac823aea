/**
 * The owner id of a config file: a random id kept as `owner` in `[aws]`,
 * written once, the first time something is made that carries it, and kept
 * by every later write. Everything a Pars or a knot makes on AWS is tagged
 * `cloudknot:owner=<id>`, and each run's manifest in S3 records it, so that
 * `gc` judges only what its own config file made, never another config
 * file's resources on the same account (see `gc.ts`). The Python original's
 * files have no owner until this library makes something with them; its
 * resources have no owner tag.
 *
 * @module
 */
import type { AwsSession } from "../aws/session.ts";
import { MANIFEST_METADATA_KEY, readManifest, RUN_KEYS, type RunManifest } from "../job/payload.ts";
import type { StateFile } from "../state/state_file.ts";
import { AWS_SECTION } from "../state/sections.ts";
import { CloudknotInputError } from "../util/errors.ts";
import { commonPrefixes } from "./_s3_prefixes.ts";
import { JOB_DATA_PREFIX } from "./bucket.ts";

/** The tag key that names the config file (its owner id) a resource was made with. */
export const OWNER_TAG_KEY = "cloudknot:owner";

/** The key of `[aws]` that holds the config file's owner id. */
export const OWNER_KEY = "owner";

/**
 * The config file's owner id, made (a random UUID) and written to `[aws]` if
 * the file has none yet; an id already there is kept, also when another
 * process writes one at the same moment.
 *
 * @example Usage
 * ```ts
 * import { configOwner } from "@cloudknot/cloudknot/resources";
 * import { StateFile } from "@cloudknot/cloudknot/state";
 *
 * const dir = await Deno.makeTempDir();
 * const state = new StateFile({ path: `${dir}/cloudknot` });
 * const owner = await configOwner(state);
 * console.log(owner === await configOwner(state)); // true
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param state The config file.
 * @returns Its owner id.
 */
export async function configOwner(state: StateFile): Promise<string> {
  const known = await readOwner(state);
  if (known !== undefined) return known;
  let owner = "";
  await state.update((doc) => {
    const aws = doc.get(AWS_SECTION) ?? new Map<string, string>();
    owner = aws.get(OWNER_KEY)?.trim() || crypto.randomUUID();
    aws.set(OWNER_KEY, owner);
    doc.set(AWS_SECTION, aws);
  });
  return owner;
}

/**
 * The config file's owner id, or `undefined` when it has none; it only reads.
 *
 * @example Usage
 * ```ts
 * import { readOwner } from "@cloudknot/cloudknot/resources";
 * import { StateFile } from "@cloudknot/cloudknot/state";
 *
 * const dir = await Deno.makeTempDir();
 * console.log(await readOwner(new StateFile({ path: `${dir}/cloudknot` }))); // undefined
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param state The config file.
 * @returns Its owner id, if it has one.
 */
export async function readOwner(state: StateFile): Promise<string | undefined> {
  return (await state.get(AWS_SECTION, OWNER_KEY))?.trim() || undefined;
}

/**
 * The owner id each run under a knot's prefix names in its manifest
 * (`runs/<id>/run.json`, or the index's metadata when that is missing),
 * `undefined` for a run that names none; it stops at the first run that
 * names another owner than `ours`. It only reads.
 *
 * @example Usage
 * ```ts ignore
 * import { runOwners } from "@cloudknot/cloudknot/resources";
 *
 * console.log(await runOwners(session, "my-bucket", "cloudknot/squares/", undefined));
 * ```
 *
 * @param session The AWS session.
 * @param bucket The bucket of the job data.
 * @param prefix The knot's prefix, ending in `/`.
 * @param ours The config file's owner id, if it has one.
 * @returns The owners its runs name.
 */
export async function runOwners(
  session: AwsSession,
  bucket: string,
  prefix: string,
  ours: string | undefined,
): Promise<Set<string | undefined>> {
  const owners = new Set<string | undefined>();
  // The S3 store loads with its first use: a program that only reads the owner does not load it.
  const { S3Store } = await import("../store/s3.ts");
  const store = new S3Store({ session, bucket, prefix: prefix.replace(/\/$/, "") });
  for (const run of await commonPrefixes(session, bucket, `${prefix}runs/`)) {
    const at = store.at(run.slice(prefix.length).replace(/\/$/, ""));
    let manifest: RunManifest | undefined;
    try {
      manifest = await readManifest(at) ??
        JSON.parse((await at.head(RUN_KEYS.index))?.metadata[MANIFEST_METADATA_KEY] ?? "null") ??
        undefined;
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
    }
    owners.add(manifest?.owner);
    if (manifest?.owner !== undefined && manifest.owner !== ours) break;
  }
  return owners;
}

/** What a new knot's name would make or use on AWS. */
export interface KnotNames {
  /** The knot's name. */
  knot: string;
  /** Its compute environment's name. */
  computeEnvironment: string;
  /** Its job queue's name. */
  jobQueue: string;
  /** The bucket of its job data, which is under `cloudknot/<knot>/` in it. */
  bucket: string;
}

/** Tags as AWS gives them: IAM's and EC2's list, or Batch's map. */
export type AwsTags = { Key?: string; Value?: string }[] | Record<string, string> | undefined;

/**
 * The owner id a resource's `cloudknot:owner` tag names, `undefined` when it
 * has none.
 *
 * @example Usage
 * ```ts
 * import { ownerTag } from "@cloudknot/cloudknot/resources";
 *
 * console.log(ownerTag([{ Key: "cloudknot:owner", Value: "1234" }])); // "1234"
 * console.log(ownerTag({ "cloudknot:owner": "1234" })); // "1234"
 * ```
 *
 * @param tags Its tags, as a list or a map.
 * @returns The owner id.
 */
export function ownerTag(tags: AwsTags): string | undefined {
  if (tags === undefined) return undefined;
  if (Array.isArray(tags)) return tags.find((t) => t.Key === OWNER_TAG_KEY)?.Value;
  return tags[OWNER_TAG_KEY];
}

/** What a new knot or Pars would share with another config file's, for {@linkcode refuseOtherOwners}. */
export interface Shared {
  /** What it is, capitalised, as `Knot`. */
  kind: string;
  /** Its name. */
  name: string;
  /** Each resource of that name that exists, and the owner id its tag or its runs name. */
  found: { what: string; owner: string | undefined }[];
  /** What sharing them would do, as one sentence without its full stop. */
  harm: string;
  /** How to choose another name, after a colon. */
  choose: string;
  /** The field of the error. */
  field: string;
}

/**
 * Refuses what another config file on the account made: throws when any of
 * `found` names an owner id that is not this config file's (what names none
 * is not refused). It only reads.
 *
 * @example Usage
 * ```ts
 * import { refuseOtherOwners } from "@cloudknot/cloudknot/resources";
 * import { StateFile } from "@cloudknot/cloudknot/state";
 *
 * const dir = await Deno.makeTempDir();
 * const state = new StateFile({ path: `${dir}/cloudknot` });
 * await refuseOtherOwners(state, {
 *   kind: "Pars",
 *   name: "lab",
 *   found: [{ what: "IAM role lab-job-role", owner: undefined }],
 *   harm: "A Pars of that name made with this file would share them",
 *   choose: "choose another Pars name",
 *   field: "name",
 * }); // no owner tag: not refused
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param state The config file.
 * @param shared What would be shared.
 * @throws {CloudknotInputError} When another config file made any of it.
 */
export async function refuseOtherOwners(state: StateFile, shared: Shared): Promise<void> {
  const ours = await readOwner(state);
  const foreign = shared.found.filter((f) => f.owner !== undefined && f.owner !== ours);
  if (foreign.length === 0) return;
  const theirs = foreign[0]!.owner;
  const noun = shared.kind === "Pars" ? "Pars" : shared.kind.toLowerCase();
  throw new CloudknotInputError(
    `${shared.kind} ${shared.name} exists on this AWS account, made with another cloudknot ` +
      `config file (owner ${theirs}, not ${ours ?? "this file, which has none yet"}; ` +
      `${state.path}): ${list(foreign.map((f) => `its ${f.what}`))}. ${shared.harm}: ` +
      `${shared.choose}, or use that ${noun} with the config file that made it ` +
      `(CLOUDKNOT_CONFIG_FILE). If that file is lost and the ${noun} was yours, make this file ` +
      `its owner: set owner = ${theirs} in [aws] of ${state.path}`,
    { field: shared.field },
  );
}

/** `a`, `a and b`, `a, b and c`. */
function list(items: string[]): string {
  return items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/**
 * Refuses to make a knot whose compute environment, job queue or job data
 * another config file on the same account made (their `cloudknot:owner` tag,
 * or the owner its runs' manifests name, is not this config file's): the new
 * knot would share them, its runs would sit beside the other knot's, and its
 * clobber would delete the other knot and its results. The job data looked
 * at is the knot's, `cloudknot/<knot>/` in `bucket`. What has no owner (made
 * before owner tags, or by the Python original) is not refused. It only
 * reads.
 *
 * @example Usage
 * ```ts ignore
 * import { refuseOtherOwnersKnot } from "@cloudknot/cloudknot/resources";
 *
 * await refuseOtherOwnersKnot(session, state, {
 *   knot: "squares",
 *   computeEnvironment: "squares-ck-ce",
 *   jobQueue: "squares-ck-jq",
 *   bucket: "my-bucket",
 * });
 * ```
 *
 * @param session The AWS session.
 * @param state The config file the knot would be recorded in.
 * @param names What the knot would make or use.
 * @returns The compute environment and job queue of those names, where they exist.
 * @throws {CloudknotInputError} When another config file made any of them (field `name`).
 */
export async function refuseOtherOwnersKnot(
  session: AwsSession,
  state: StateFile,
  names: KnotNames,
): Promise<KnotBatchFound> {
  const ours = await readOwner(state);
  const [ce, queue] = await Promise.all([
    session.batch.describeComputeEnvironments({ computeEnvironments: [names.computeEnvironment] })
      .then((r) => r.computeEnvironments?.[0]),
    session.batch.describeJobQueues({ jobQueues: [names.jobQueue] }).then((r) => r.jobQueues?.[0]),
  ]);
  const prefix = `${JOB_DATA_PREFIX}${names.knot}/`;
  const runs = [...await runOwners(session, names.bucket, prefix, ours)]
    .find((owner) => owner !== undefined && owner !== ours);
  await refuseOtherOwners(state, {
    kind: "Knot",
    name: names.knot,
    found: [
      { what: `compute environment ${names.computeEnvironment}`, owner: ownerTag(ce?.tags) },
      { what: `job queue ${names.jobQueue}`, owner: ownerTag(queue?.tags) },
      { what: `job data s3://${names.bucket}/${prefix}`, owner: runs },
    ],
    harm: "A knot of that name made with this file would share them, and deleting it would " +
      "delete that knot and its results",
    choose: "choose another knot name",
    field: "name",
  });
  return { computeEnvironment: ce, jobQueue: queue };
}

/** The compute environment and job queue of a knot's names, as Batch describes them, if they exist. */
export interface KnotBatchFound {
  /** The compute environment. */
  computeEnvironment?: { computeEnvironmentArn?: string; tags?: Record<string, string> };
  /** The job queue. */
  jobQueue?: {
    tags?: Record<string, string>;
    computeEnvironmentOrder?: { computeEnvironment: string }[];
  };
}
