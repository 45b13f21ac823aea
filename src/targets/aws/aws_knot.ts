/**
 * Opening a knot on AWS Batch: its image pushed to ECR, its Pars, bucket,
 * compute environment, job queue and job definition created or adopted, and
 * its record in the cloudknot config file (`[knot <name>]`, through
 * `catalog.ts`). Also the knot's target, whose clobber deletes it all in the
 * order AWS requires.
 *
 * @module
 */
import type { AwsSession } from "../../aws/session.ts";
import { regionEnvironment } from "./batch/command.ts";
import {
  cloudknotStopReason,
  describeJobs,
  stopJob,
  unfinishedJobIds,
  waitForJobsToEnd,
} from "./batch/jobs.ts";
import { forEachPooled } from "../../util/pooled.ts";
import { shippedCount } from "../../job/shipped_files.ts";
import { waitingAdvice } from "./batch/stuck.ts";
import { CloudknotError, CloudknotInputError } from "../../util/errors.ts";
import {
  type BatchPlacement,
  deleteBatchEnvironment,
  ensureComputeEnvironment,
  ensureJobQueue,
  ensureLaunchTemplate,
  jobDefinitionRequest,
  registerJobDefinition,
} from "./batch/environment.ts";
import { checkJobDefinitionBytes, refuseFullAccount } from "./batch/quotas.ts";
import { arnPartition, JOB_DATA_PREFIX } from "../../resources/bucket.ts";
import {
  deleteRole,
  ensureKnotRole,
  getRole,
  isOurs,
  knotRoleName,
  MANAGED_BY_TAG,
  PARS_TAG_KEY,
} from "../../resources/_iam_roles.ts";
import { isAwsCode, Ledger } from "../../resources/_ledger.ts";
import { KNOT_TAG_KEY } from "../../resources/gc.ts";
import {
  configOwner,
  type KnotBatchFound,
  OWNER_TAG_KEY,
  readOwner,
  refuseOtherOwnersKnot,
} from "../../resources/owner.ts";
import { checkJobFits } from "./batch/instance_types.ts";
import { DockerImage } from "../../image/docker_image.ts";
import { DockerRepo } from "../../image/docker_repo.ts";
import {
  BucketDeleteDeniedError,
  ProfileMismatchError,
  ResourceDoesNotExistError,
} from "../../resources/errors.ts";
import {
  defaultParsName,
  Pars,
  parseParsRecord,
  type ParsGone,
  type ParsRecord,
} from "../../resources/pars.ts";
import { makingWithPars } from "../../resources/_pars_users.ts";
import { completeSurvey, judgeParsOwners, readBehind } from "../../resources/_pars_survey.ts";
import { resolveParsPolicies } from "../../resources/pars_options.ts";
import {
  getEcrRepo,
  resolveS3Params,
  sessionFromSettings,
  setS3Params,
} from "../../resources/settings.ts";
import { recordSection } from "../../state/sections.ts";
import { artifactOf } from "../../job/artifact_of.ts";
import type { FunctionArtifact } from "../../job/function_artifact.ts";
import { StateFile } from "../../state/state_file.ts";
import { deletePrefix } from "../../store/store.ts";
import type { MapRequest, OpenedKnot, SubmitRequest, Target } from "../target.ts";
import type { MapRun } from "../../run/map_run.ts";
import type { BatchJob } from "./batch/batch_job.ts";
import type { Plan } from "../../plan/plan.ts";
import { AwsTarget, type AwsTargetOptions } from "./aws_target.ts";
import { forgetKnotSubmitMarks, waitForSubmissions } from "./submit_mark.ts";
import {
  type AwsKnotRecord,
  awsTargetOptions,
  batchName,
  clobberingAwsKnot,
  forgetAwsKnotRuns,
  knotBeingClobbered,
  knotClobberedWhy,
  markAwsKnotClobbering,
  parsUsers,
  readAwsKnot,
  readAwsKnots,
  refuseMapWhileClobbered,
  refuseWhileKnotClobbered,
  removeAwsKnot,
  repositoryUser,
  requireRegion,
  requireResources,
  writeAwsKnot,
} from "./catalog.ts";
import {
  type AwsKnotSpec,
  type CheckedAwsKnot,
  ownCompute,
  SHAPING,
  validateAwsKnotOptions,
} from "./knot_options.ts";

import { validatePermissions } from "../../job/permissions.ts";
import {
  type AdoptedBatch,
  FUNCTION_KEYS,
  ignoredOptions,
  knotOwnOptions,
  splitUpdates,
  UPDATED_OPTIONS,
} from "./adopted_options.ts";
import { defaultBaseImage } from "../../image/build_context.ts";
import { defined } from "../../util/defined.ts";
import {
  otherRuntimeWords,
  readRuntimeProtocol,
  RUNTIME_PROTOCOL,
  RUNTIME_PROTOCOL_LABEL,
  RUNTIME_PROTOCOL_TAG,
} from "../../job/runtime_protocol.ts";
import { Docker } from "../../docker/docker.ts";
import { definitionRuntime, REBUILT_FROM_TAG, runtimeCheck } from "./batch/runtime_check.ts";
import type { JobDefinition } from "../../aws/services/batch.ts";

export type { AwsKnotOptions, AwsKnotSpec } from "./knot_options.ts";

/** The AWS resources of a knot. */
export interface AwsKnotResources {
  /** The region. */
  region: string;
  /** The profile. */
  profile: string;
  /**
   * The Pars (roles, network); `undefined` for a knot adopted while the Pars
   * it uses is gone (its record, or some of its resources), which reads its
   * runs but runs nothing until `Knot.create` with its function heals it.
   */
  pars: Pars | undefined;
  /** The image. */
  image: DockerImage;
  /** The ECR repository. */
  repo: DockerRepo;
  /** The pushed image by digest. */
  imageUri: string;
  /** The compute environment's ARN. */
  computeEnvironment: string;
  /** The job queue's ARN. */
  jobQueue: string;
  /** The job definition's ARN. */
  jobDefinition: string;
  /** The bucket of the job data. */
  bucket: string;
  /** The key prefix of the knot's job data. */
  prefix: string;
  /**
   * The role of the knot's jobs: the knot's own (`<pars>.<knot>-job`), or,
   * for a knot made before knots had their own, the Pars' job role.
   */
  jobRole: string;
  /**
   * Whether `Knot.create` found the knot made already and adopted it as it
   * is (made before, or by another process while this one waited for it);
   * `false` when this call made it, made again what was gone of it, or
   * updated it.
   */
  adopted: boolean;
  /**
   * Whether `Knot.create` updated the knot: it was whole, and was given
   * another function, or other options of its job definition (`memory`,
   * `permissions`, …), so a new revision of its job definition was
   * registered (with a new image, for another function). Runs made before
   * keep their revision, and so their function.
   */
  updated: boolean;
}

/** The name of the Pars a knot gets when it has policies of its own. */
export function ownParsName(knot: string): string {
  if (knot.length <= 40) return `${knot}-pars`;
  let hash = 0;
  for (const c of knot) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  return `${knot.slice(0, 34).replace(/-+$/, "")}-${(hash % 0xffff).toString(16)}-pars`;
}

/**
 * The name of the Pars a new knot uses (the one `create` passes to
 * `Pars.create`), and the name of the knot's job role made from it, checked
 * before anything is made. Only the default Pars' name needs AWS: STS
 * GetCallerIdentity, which changes nothing.
 *
 * @example Usage
 * ```ts ignore
 * const { pars, role } = await knotParsName(spec, checked, session);
 * ```
 *
 * @param spec The knot's name and options.
 * @param checked The options after their checks.
 * @param session The AWS session, to read the caller for the default Pars' name.
 * @returns The Pars' name and the knot's job role's name.
 * @throws {CloudknotInputError} When the role's name would be longer than IAM's 64 characters.
 */
export async function knotParsName(
  spec: AwsKnotSpec,
  checked: CheckedAwsKnot,
  session: AwsSession,
): Promise<{ pars: string; role: string }> {
  const pars = typeof spec.pars === "object"
    ? spec.pars.name
    : checked.parsPolicies !== undefined
    ? ownParsName(spec.name)
    : checked.parsName ?? defaultParsName((await session.sts.getCallerIdentity()).Arn);
  return { pars, role: knotRoleName(pars, spec.name) };
}

/**
 * Refuses the Pars a new knot would make or adopt by name when another config
 * file on the account made it ({@linkcode judgeParsOwners}), naming the
 * knot's option that chooses another: `pars`, or, for a knot's own Pars
 * (`parsPolicies`), its name. A Pars passed as an object is the caller's
 * choice and is not looked at. A heal makes the Pars again under its
 * record's name, so its refusal says to clobber the knot and create it with
 * another instead; it takes what opening the knot read of its Pars partly
 * gone, and reads only the rest. It only reads, before the knot's image is
 * built; the Pars is read again when it is made, after the build, so what it
 * makes or adopts is what exists then.
 *
 * @example Usage
 * ```ts ignore
 * const { pars } = await knotParsName(spec, checked, session);
 * await refuseOtherOwnersKnotPars(spec, checked, session, state, pars);
 * ```
 *
 * @param spec The knot's name and options.
 * @param checked The options after their checks.
 * @param session The AWS session.
 * @param state The config file the knot would be recorded in.
 * @param pars The Pars' name.
 * @param heal What a heal found gone of the knot, which is healed with the Pars its record names (and what is gone of that Pars, as `Pars.find` found it); a new knot has none.
 * @throws {CloudknotInputError} When another config file made the Pars (field `pars`, or `name` for a knot's own Pars).
 */
export async function refuseOtherOwnersKnotPars(
  spec: AwsKnotSpec,
  checked: CheckedAwsKnot,
  session: AwsSession,
  state: StateFile,
  pars: string,
  heal?: { pars?: ParsGone },
): Promise<void> {
  if (typeof spec.pars === "object") return;
  const own = checked.parsPolicies !== undefined;
  const again = `knot ${spec.name} heals only with its Pars ${pars}, as its record says: clobber ` +
    `the knot with (await Knot.create({ name: "${spec.name}", target: "aws" })).clobber() (its ` +
    `runs go with it) and create it again`;
  // Before the build; read again when the Pars is made, after it.
  const seen = await completeSurvey(session, pars, readBehind(heal?.pars));
  await judgeParsOwners(
    state,
    pars,
    seen,
    heal
      ? {
        field: own ? "name" : "pars",
        choose: own
          ? `${again} under another name (its Pars is named after it), as ` +
            `Knot.create({ name: "NAME", func, parsPolicies })`
          : `${again} with a Pars of another name, as ` +
            `Knot.create({ name: "${spec.name}", func, pars: "NAME" })`,
      }
      : own
      ? {}
      : {
        call: 'Knot.create({ pars: "NAME" })',
        isDefault: checked.parsName === undefined,
        field: "pars",
      },
  );
}

/**
 * Creates a knot on AWS, or adopts the knot of that name from the config
 * file. Every option is checked before any AWS call.
 *
 * @example Usage
 * ```ts ignore
 * import { openAwsKnot } from "./aws_knot.ts";
 *
 * const { target } = await openAwsKnot({ name: "k", func: (x: number) => x, compute: "FARGATE" });
 * console.log(target.resources.jobQueue);
 * ```
 *
 * @param spec The name, the function and the options.
 * @param packaged `packaged` is the spec's function, packaged already by the caller (the
 *   command line's `functionChange` of the knot it adopts), so it is not packaged again.
 *   @default {"packaged here from the spec"}
 * @returns The knot's artifact, and its target with its resources.
 */
export async function openAwsKnot(
  spec: AwsKnotSpec,
  packaged: { packaged?: PackagedFunction } = {},
): Promise<OpenedKnot<AwsKnotTarget>> {
  // Checked against the compute type of the knot of that name, when it exists; a knot made
  // anew is checked against the default's (openOnce).
  validateAwsKnotOptions(spec, await ownCompute(spec));
  const state = spec.state ?? new StateFile();
  const session = spec.session ?? await sessionFromSettings({ state });
  // A heal that finds the knot's record changed once it holds the mark (another process
  // healed the knot, or clobbered it, since it was read) opens the knot again.
  while (true) {
    const opened = await openOnce(spec, session, state, packaged.packaged);
    if (opened !== OPEN_AGAIN) return opened;
  }
}

/**
 * What a heal gives back when the knot's record changed between the reads it
 * would heal from and the moment it held the mark of the knot's Pars.
 */
const OPEN_AGAIN = Symbol("open again");

async function openOnce(
  spec: AwsKnotSpec,
  session: AwsSession,
  state: StateFile,
  packaged?: PackagedFunction,
): Promise<OpenedKnot<AwsKnotTarget> | typeof OPEN_AGAIN> {
  const saved = await readAwsKnot(state, spec.name, { strict: true });
  // Neither adopted nor made again while another process deletes it.
  if (saved?.clobberRunning) throw knotBeingClobbered(state, spec.name, "open");
  if (saved !== undefined) return await adopt(spec, saved, session, state, packaged);
  // Marked as being made until its record is written: gc keeps what it made
  // so far, and another process making it too waits, then adopts it.
  return await state.whileMaking(recordSection("knot", spec.name), async () => {
    const made = await readAwsKnot(state, spec.name, { strict: true });
    if (made !== undefined) return await adopt(spec, made, session, state, packaged);
    const checked = validateAwsKnotOptions(spec);
    // Its record does not name its Pars yet: this mark does, so Pars.clobber refuses meanwhile.
    const { pars } = await knotParsName(spec, checked, session);
    // A Pars recorded with another profile is refused before the image is built; another
    // Pars is the pars option, not another name of the knot.
    const parsRecord = typeof spec.pars === "object"
      ? undefined
      : await state.section(recordSection("pars", pars));
    const parsProfile = parsRecord && parseParsRecord(pars, parsRecord).profile;
    if (parsProfile !== undefined && !session.sameProfile(parsProfile)) {
      throw new ProfileMismatchError(
        "Pars",
        pars,
        { resourceProfile: parsProfile, currentProfile: session.profile },
        'pass another Pars with Knot.create({ pars: "NAME" })',
      );
    }
    return await makingWithPars(
      state,
      pars,
      spec.name,
      () => create(spec, checked, session, state),
    );
  }, () =>
    (spec.warn ?? console.warn)(
      `cloudknot: knot ${spec.name} is being made by another process with this config file ` +
        `(${state.path}); waiting for it to finish, then this one uses it`,
    ));
}

/**
 * What a create that heals a knot keeps of its record: the names of its
 * resources, its bucket and Pars, and what is gone of its Pars.
 */
interface Heal {
  record: AwsKnotRecord;
  missing: { pars?: ParsGone };
  /**
   * When the knot is whole and this create updates it: whether with another
   * function, or its own on this version's job runtime (a new image, pushed
   * under a tag of its own), or with the same image and other options; and
   * the runtime protocol of the knot's image, which the same image keeps;
   * and, for its own function and options on this version's runtime, the
   * revision it rebuilds (`REBUILT_FROM_TAG`), whose runs' retries run on
   * the new one.
   */
  update?: { newFunction: boolean; runtime: number | undefined; rebuiltFrom?: string };
}

/** Whether an update with the same function runs the knot's own image again, with its runtime. */
function reusesImage(heal: Heal | undefined): boolean {
  return heal?.update !== undefined && !heal.update.newFunction;
}

/** The Pars a create uses: a heal keeps its record's, unless given one. */
async function createdParsName(
  spec: AwsKnotSpec,
  checked: CheckedAwsKnot,
  session: AwsSession,
  saved: AwsKnotRecord | undefined,
): Promise<string> {
  return saved !== undefined && typeof spec.pars !== "object"
    ? saved.pars
    : (await knotParsName(spec, checked, session)).pars;
}

/** The names of the resources a heal makes again: those its record gives. */
function healNames(saved: AwsKnotRecord, checked: CheckedAwsKnot): CheckedAwsKnot["names"] {
  return {
    computeEnvironment: batchName(saved.computeEnvironment),
    jobQueue: batchName(saved.jobQueue),
    jobDefinition: saved.jobDefinitionName,
    launchTemplate: saved.launchTemplate ?? checked.names.launchTemplate,
  };
}

/**
 * Refuses, with read-only requests, what a create (or a heal, or an update)
 * would refuse before it makes anything: the job on the instance types, the
 * Pars' policies, a config file the record cannot be written to, a knot or a
 * Pars of this name another config file made, and AWS Batch's quotas. The
 * create runs it first; the dry runs of a create and of a heal run it alone,
 * so that they refuse what the create and the heal would. Returns what the
 * create goes on with: the names it makes things under, the Pars', the
 * bucket's and the repository's names, and the runtime its job definition
 * names.
 *
 * @example Usage
 * ```ts ignore
 * const { parsName, bucket } = await refuseCreate(spec, checked, session, state);
 * ```
 *
 * @param spec The knot's name and options, as given.
 * @param checked The options after their checks.
 * @param session The AWS session.
 * @param state The config file the knot's record goes to.
 * @param heal What a heal or an update keeps of the knot, and what it found gone.
 * @returns The names the create goes on with.
 * @throws {CloudknotInputError} As the create would throw it.
 * @throws {BatchQuotaError} When the account has no room for what the create makes.
 */
export async function refuseCreate(
  spec: AwsKnotSpec,
  checked: CheckedAwsKnot,
  session: AwsSession,
  state: StateFile,
  heal?: Heal,
): Promise<{
  names: CheckedAwsKnot["names"];
  runtime: number | undefined;
  parsName: string;
  bucket: string;
  sse: AwsKnotRecord["sse"];
  repoName: string;
}> {
  const { name } = spec;
  const saved = heal?.record;
  // A heal makes the knot again under the names its record gives.
  const names = saved === undefined ? checked.names : healNames(saved, checked);
  const reuse = reusesImage(heal);
  const runtime = reuse ? heal!.update!.runtime : RUNTIME_PROTOCOL;
  // What only reads AWS: the Pars' name (and with it the job role's), the
  // instance types, the policies, the bucket's and the repository's names.
  // A heal keeps the record's Pars, bucket and repository, so the knot's
  // runs stay where its record says they are.
  const parsName = await createdParsName(spec, checked, session, saved);
  await checkJobFits(session, checked.compute);
  if (checked.parsPolicies !== undefined) {
    const policies = await resolveParsPolicies(session, checked.parsPolicies, "parsPolicies");
    const kept = typeof spec.pars !== "object" ? heal?.missing.pars?.record : undefined;
    if (kept !== undefined) refuseOtherParsPolicies(name, kept, policies, checked.parsPolicies);
  }
  // A config file the knot's record cannot be written to is refused before anything is made.
  await state.assertWritable();
  const { bucket, sse } = saved ?? await resolveS3Params({ session, state });
  const repoName = saved?.dockerRepo ?? checked.repoName ?? await getEcrRepo({ state });
  // A knot of this name another config file made would be shared, and deleted with this one.
  const found = await refuseOtherOwnersKnot(session, state, {
    knot: name,
    computeEnvironment: names.computeEnvironment,
    jobQueue: names.jobQueue,
    bucket,
  });
  await refuseForeignKnotResources(spec, session, found, names, parsName);
  // An update with a new function pushes it under a tag of its own, which no repository holds.
  if (!reuse && !heal?.update?.newFunction) {
    await refuseImmutableTags(spec, session, repoName, pushedTags(spec, checked));
  }
  await refuseOtherOwnersKnotPars(spec, checked, session, state, parsName, heal?.missing);
  await refuseOverBatchQuotas(spec, checked, session, state, {
    parsName,
    repoName,
    names,
    runtime,
    ...defined({ imageUri: reuse ? saved!.imageUri : undefined, heal }),
  });
  return { names, runtime, parsName, bucket, sse, repoName };
}

/**
 * Refuses, with read-only requests, a compute environment, job queue or job
 * role of the names this knot would make that was not made for it (a
 * compute environment or queue without the tags `ManagedBy=cloudknot` and
 * `cloudknot:knot=<knot>`; a role without `ManagedBy=cloudknot` and
 * `cloudknot:pars=<pars>`): the create would stop at it only after it had
 * made the Pars, and the knot's clobber would delete it.
 */
async function refuseForeignKnotResources(
  spec: AwsKnotSpec,
  session: AwsSession,
  found: KnotBatchFound,
  names: CheckedAwsKnot["names"],
  pars: string,
): Promise<void> {
  const knot = spec.name;
  const foreign = (what: string, tags: Record<string, string> | undefined, option?: string) => {
    const tag = tags?.ManagedBy !== "cloudknot"
      ? "ManagedBy"
      : tags[KNOT_TAG_KEY] !== knot
      ? KNOT_TAG_KEY
      : undefined;
    if (tag === undefined) return;
    throw new CloudknotInputError(
      `The ${what} exists and was not made for knot ${knot} (its tag ${tag} is ` +
        `${JSON.stringify(tags?.[tag] ?? null)}, not ` +
        `${JSON.stringify(tag === "ManagedBy" ? "cloudknot" : knot)}): choose another ` +
        (option !== undefined ? option : "knot name") + `, so that it is left alone`,
      { field: option ?? "name" },
    );
  };
  if (found.computeEnvironment !== undefined) {
    foreign(
      `compute environment ${names.computeEnvironment}`,
      found.computeEnvironment.tags,
      spec.computeEnvironmentName !== undefined ? "computeEnvironmentName" : undefined,
    );
  }
  if (found.jobQueue !== undefined) {
    foreign(
      `job queue ${names.jobQueue}`,
      found.jobQueue.tags,
      spec.jobQueueName !== undefined ? "jobQueueName" : undefined,
    );
  }
  const role = knotRoleName(pars, knot);
  const existing = await getRole(session.iam, role);
  if (existing !== undefined && !isOurs(existing.Tags, pars)) {
    throw new CloudknotInputError(
      `The IAM role ${role}, the job role knot ${knot} of Pars ${pars} would make, exists and ` +
        `was not made by cloudknot (it lacks the tags ManagedBy=cloudknot and ` +
        `${PARS_TAG_KEY}=${pars}): choose another knot name, or delete or rename the role`,
      { field: "name" },
    );
  }
}

/**
 * The tags a create pushes the knot's image under: a built `dockerImage`'s latest tag,
 * else the knot's `imageTags` (the create builds the image with them).
 */
function pushedTags(spec: AwsKnotSpec, checked: CheckedAwsKnot): string[] {
  const latest = spec.dockerImage?.images.at(-1);
  return latest !== undefined ? [latest.slice(latest.lastIndexOf(":") + 1)] : checked.imageTags;
}

/**
 * Refuses, with read-only requests, a push ECR would refuse after the create had made the knot's
 * job role and its bucket settings: a repository of `IMMUTABLE` tags that holds one of the tags
 * the knot's image would be pushed under (ECR's `ImageTagAlreadyExistsException`).
 */
async function refuseImmutableTags(
  spec: AwsKnotSpec,
  session: AwsSession,
  repo: string,
  tags: string[],
): Promise<void> {
  let found;
  try {
    found = (await session.ecr.describeRepositories({ repositoryNames: [repo] }))
      .repositories?.find((r) => r.repositoryName === repo);
  } catch (e) {
    if (isAwsCode(e, "RepositoryNotFoundException")) return;
    throw e;
  }
  if (found?.imageTagMutability !== "IMMUTABLE") return;
  const held: string[] = [];
  for (const imageTag of tags) {
    try {
      await session.ecr.describeImages({ repositoryName: repo, imageIds: [{ imageTag }] });
      held.push(imageTag);
    } catch (e) {
      if (!isAwsCode(e, "ImageNotFoundException")) throw e;
    }
  }
  if (held.length === 0) return;
  const other = spec.dockerImage !== undefined
    ? "build the dockerImage under another tag"
    : spec.imageTags !== undefined
    ? "give other imageTags"
    : "choose another knot name (its image's tag)";
  throw new CloudknotInputError(
    `The ECR repository ${repo} has immutable tags and already holds ` +
      `${held.map((t) => `${repo}:${t}`).join(", ")}, which this knot's image would be ` +
      `pushed under, and ECR refuses to overwrite it: choose another repoName, or ${other}, ` +
      `or delete that image from ${repo} if nothing uses it`,
    { field: "repoName" },
  );
}

async function create(
  spec: AwsKnotSpec,
  checked: CheckedAwsKnot,
  session: AwsSession,
  state: StateFile,
  heal?: Heal,
  packaged?: PackagedFunction,
): Promise<OpenedKnot<AwsKnotTarget>> {
  const { name } = spec;
  const { compute } = checked;
  const saved = heal?.record;
  const reuse = reusesImage(heal);
  if (!reuse) requireFunction(spec);
  if (spec.dockerImage !== undefined && spec.dockerImage.artifact === undefined) {
    throw new CloudknotInputError(
      `Image ${spec.dockerImage.name} holds no function: create it with func, or module and exportName`,
      { field: "dockerImage" },
    );
  }
  const { names, runtime, parsName, bucket, sse, repoName } = await refuseCreate(
    spec,
    checked,
    session,
    state,
    heal,
  );
  const settings = { session, state };
  const wait = {
    ...(spec.pollInterval !== undefined ? { pollMs: spec.pollInterval } : {}),
    onWait: spec.warn ?? console.warn,
  };
  const made: {
    image?: DockerImage;
    held?: DockerImage;
    batch?: boolean;
    jobDefinition?: string;
    computeEnvironment?: string;
    jobQueue?: string;
    launchTemplate?: string;
    jobRole?: { name: string; arn: string };
  } = {};
  const ledger = new Ledger();
  try {
    // The function and its image first, on this machine only: a function that
    // cannot be shipped, or an image that does not build, is refused before
    // anything exists on AWS.
    let image = spec.dockerImage;
    if (reuse) {
      image = await DockerImage.create({
        name: saved!.dockerImage,
        state,
        session,
        ...defined({ docker: spec.docker, cloudknotDir: spec.cloudknotDir }),
      });
    } else if (image === undefined) {
      const imageName = saved?.dockerImage ?? name.toLowerCase();
      const known = await state.section(recordSection("docker-image", imageName)) !== undefined;
      // Packaged once: by the comparison of an update, whose warnings are given now that an
      // image is built of it, else here.
      const warn = spec.warn ?? console.warn;
      packaged?.warnings.forEach((m) => warn(m));
      const artifact = packaged?.artifact ??
        await artifactOf(spec, defined({ warn: spec.warn, deno: spec.deno }));
      image = await DockerImage.create({
        name: imageName,
        ...defined({
          func: spec.func,
          module: spec.module,
          exportName: spec.exportName,
          files: spec.files,
          baseImage: spec.baseImage,
          docker: spec.docker,
          cloudknotDir: spec.cloudknotDir,
          warn: spec.warn,
        }),
        state,
        session,
      }, defined({ artifact }));
      if (!known) made.image = image;
    }
    // An update pushes the new function under a tag of its own: the images of the runs made
    // before keep theirs, for their retries (their job definition revisions name them).
    const pushTags = heal?.update?.newFunction
      ? [updateImageTag(name, image.artifact!.hash)]
      : checked.imageTags;
    if (!reuse && (image.images.length === 0 || spec.dockerImage === undefined)) {
      // Held until pushed: another config file's create of this knot name on this
      // machine shares its local tags, and its undo may remove them meanwhile.
      await image.build({
        tags: pushTags,
        hold: true,
        noCache: spec.noImageCache ?? false,
        ...(spec.warn !== undefined ? { warn: spec.warn } : {}),
      });
      made.held = image;
    } else if (!reuse) {
      // A dockerImage built already is pushed as it is, with the job runtime it was built with.
      await refuseOtherRuntimeImage(image, spec.docker ?? new Docker());
    }
    // The record names the new tag before it is pushed, and still the knot's image and job
    // definition: stopped in between, the knot runs its old function, and its clobber removes
    // the tag too.
    const imageTags = saved === undefined
      ? checked.imageTags
      : [...new Set([...saved.imageTags, ...reuse ? [] : pushTags])];
    // Runs of earlier versions name no revision: those made before the knot's first update
    // keep the revision it ran then, for their retries once Batch forgets their jobs.
    const updatedFrom = heal?.update !== undefined
      ? saved!.updatedFrom ?? { jobDefinition: saved!.jobDefinition, at: Date.now() }
      : saved?.updatedFrom;
    if (heal?.update?.newFunction) {
      await writeAwsKnot(state, { ...saved!, imageTags, ...defined({ updatedFrom }) });
    }
    // AWS from here on. The Pars reads its policies and roles before it makes anything.
    const owner = await configOwner(state);
    const tags = knotTags(spec, owner);
    // A Pars whose record stays but whose resources are gone is made again as its record says.
    const pars = typeof spec.pars === "object"
      ? spec.pars
      : heal?.missing.pars?.record !== undefined
      ? await Pars.remake({ ...settings, name: parsName, ...defined({ warn: spec.warn }) })
      : await Pars.create({
        ...settings,
        bucket,
        name: parsName,
        ...(checked.parsPolicies !== undefined ? { policies: checked.parsPolicies } : {}),
      });
    // The knot's own job role: its jobs reach only the knot's prefix of the
    // bucket, not the other knots' data. IAM is eventually consistent, so it
    // is made before the image is pushed and the compute environment is made
    // and waited on (ensureComputeEnvironment's IAM wait), which gives IAM
    // time to show it to ECS before the first job assumes it; a job that
    // starts sooner fails to start and Batch retries it (docs/aws.md).
    const prefix = `${JOB_DATA_PREFIX}${name}`;
    const knotRole = await ensureKnotRole(session.iam, {
      pars: pars.name,
      knot: name,
      bucket,
      prefix: `${prefix}/`,
      partition: arnPartition(pars.jobRole),
      policyArns: [...pars.policies],
      tags: [
        MANAGED_BY_TAG,
        { Key: PARS_TAG_KEY, Value: pars.name },
        { Key: KNOT_TAG_KEY, Value: name },
        { Key: OWNER_TAG_KEY, Value: owner },
        ...Object.entries(spec.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
      ],
      ledger,
    });
    const jobRole = knotRole.value.Arn;
    if (knotRole.created) made.jobRole = { name: knotRole.value.RoleName, arn: jobRole };
    if (saved === undefined) await setS3Params({ bucket, sse }, settings);
    // A repository this knot makes is its config file's, with the knot's tags, in the request
    // that makes it (never without them, whenever the create stops); one adopted keeps its own.
    const repo = await DockerRepo.create({ name: repoName, session, state }, {
      tags: { ...spec.tags, [OWNER_TAG_KEY]: owner },
    });
    const { imageUri } = reuse ? { imageUri: saved!.imageUri } : await image.push({ repo });
    const placement: BatchPlacement = {
      batchServiceRole: pars.batchServiceRole,
      ecsInstanceProfile: pars.ecsInstanceProfile,
      spotFleetRole: pars.spotFleetRole,
      taskExecutionRole: pars.taskExecutionRole,
      jobRole,
      subnets: [...pars.subnets],
      securityGroup: pars.securityGroup,
    };
    made.batch = true;
    // A create or heal that fails deletes only the launch template, compute environment and
    // queue it made itself: never what the knot still had, nor what another process made
    // meanwhile (a create or heal of this knot with a copy of this config file, on another
    // machine, or what a killed create left) and this one adopted.
    let created = false;
    let launchTemplate: string | undefined;
    if (compute.volumeSize !== undefined) {
      launchTemplate = await ensureLaunchTemplate(session, {
        name: names.launchTemplate,
        volumeSize: compute.volumeSize,
        tags,
      }, { onCreated: () => created = true });
      // A heal leaves the launch template its record names when it fails.
      if (created && heal === undefined) made.launchTemplate = launchTemplate;
    }
    created = false;
    const computeEnvironment = await ensureComputeEnvironment(session, {
      name: names.computeEnvironment,
      compute,
      placement,
      tags,
      ...(launchTemplate !== undefined ? { launchTemplate } : {}),
    }, { ...wait, onCreated: () => created = true });
    if (created) made.computeEnvironment = computeEnvironment;
    created = false;
    const jobQueue = await ensureJobQueue(session, {
      name: names.jobQueue,
      priority: compute.priority,
      computeEnvironment,
      jobStateTimeLimitActions: compute.jobStateTimeLimitActions,
      tags,
    }, { ...wait, onCreated: () => created = true });
    if (created) made.jobQueue = jobQueue;
    const definition = await registerJobDefinition(session, {
      name: names.jobDefinition,
      image: imageUri,
      compute,
      placement,
      environment: definitionEnvironment(spec, session.region),
      tags: definitionTags(tags, runtime, heal),
    });
    made.jobDefinition = definition.arn;
    const artifact = image.artifact;
    if (artifact === undefined) throw lostFunctionFiles(name, image.name);
    const resources: AwsKnotResources = {
      region: session.region,
      profile: session.profile,
      pars,
      image,
      repo,
      imageUri,
      computeEnvironment,
      jobQueue,
      jobDefinition: definition.arn,
      bucket,
      prefix,
      jobRole,
      adopted: false,
      updated: heal?.update !== undefined,
    };
    // A heal without a volume size keeps the launch template its record names (its clobber
    // deletes it).
    const template = launchTemplate ?? saved?.launchTemplate;
    const record: AwsKnotRecord = {
      name,
      region: resources.region,
      profile: resources.profile,
      pars: pars.name,
      dockerImage: image.name,
      dockerRepo: repo.name,
      imageUri,
      computeEnvironment: resources.computeEnvironment,
      jobQueue: resources.jobQueue,
      jobDefinition: resources.jobDefinition,
      jobDefinitionName: names.jobDefinition,
      ...(template !== undefined ? { launchTemplate: template } : {}),
      jobRole,
      bucket,
      sse,
      prefix: resources.prefix,
      retries: compute.retries,
      compute: compute.compute,
      imageTags,
      ...defined({ updatedFrom, runtime }),
      runs: saved?.runs ?? [],
      ...(reuse
        ? defined({
          functionHash: saved!.functionHash,
          files: saved!.files,
          sources: saved!.sources,
        })
        : {
          functionHash: artifact.hash,
          ...defined({
            files: artifact.files && shippedCount(artifact.files.files),
            sources: artifact.sources,
          }),
        }),
    };
    await writeAwsKnot(state, record);
    return {
      artifact: reuse && record.sources !== undefined
        ? { ...artifact, sources: record.sources }
        : artifact,
      target: new AwsKnotTarget(
        targetOptions(record, session, state, spec, runtime),
        record,
        resources,
      ),
    };
  } catch (e) {
    // Undo what this call made: its Batch resources, and the image's record,
    // files and local images. The Pars, bucket and repository stay for reuse.
    if (made.batch) {
      await deleteBatchEnvironment(session, {
        ...(made.jobQueue !== undefined ? { jobQueue: made.jobQueue } : {}),
        ...(made.computeEnvironment !== undefined
          ? { computeEnvironment: made.computeEnvironment }
          : {}),
        ...(made.launchTemplate !== undefined ? { launchTemplate: made.launchTemplate } : {}),
      }, wait).catch(() => {});
    }
    // A create deregisters only the revision it registered: the name's others may be another
    // create's of this knot (with a copy of the config file), which runs on them. One whose
    // answer was lost stays, unused (gc finds it); a heal keeps the knot's revisions.
    if (heal === undefined && made.jobDefinition !== undefined) {
      await session.batch.deregisterJobDefinition({ jobDefinition: made.jobDefinition })
        .catch(() => {});
    }
    // The knot's job role this call made stays when another create of the knot (one with a copy of
    // this config file, which adopted it) has registered a job definition on it since: that
    // knot's jobs assume it.
    if (made.jobRole !== undefined) {
      const user = await jobRoleUser(session, name, names.jobDefinition, made.jobRole.arn, made);
      if (user !== undefined && ledger.forget(`IAM role ${made.jobRole.name}`)) {
        (spec.warn ?? console.warn)(
          `cloudknot: the IAM role ${made.jobRole.name} that this Knot.create of knot ${name} made ` +
            `stays although the create failed: ${user}`,
        );
      }
    }
    await ledger.rollback();
    // Only the local tags that still name this call's build: another config
    // file's create of this knot name may have built under them since.
    await made.image?.clobber({ ownBuildOnly: true }).catch(() => {});
    await made.held?.release().catch(() => {});
    throw e;
  }
}

/**
 * Refuses a knot that AWS Batch's fixed quotas would refuse once other
 * resources are made, before anything is: its job definition past 24 KiB
 * (weighed with what is not known until its image is pushed and its Pars
 * made at its longest), and a compute environment or job queue the account
 * has no room for. A create and its dry run refuse alike.
 *
 * @example Usage
 * ```ts ignore
 * await refuseOverBatchQuotas(spec, checked, session, state, { parsName, repoName, names, runtime });
 * ```
 *
 * @param spec The knot's name and options.
 * @param checked The options after their checks.
 * @param session The AWS session.
 * @param state The config file.
 * @param knot The knot's Pars and repository, the names of its Batch resources, the runtime
 *   protocol of its image, the image's URI when it keeps its own, and what a heal keeps.
 * @throws {CloudknotInputError} When the job definition would pass 24 KiB.
 * @throws {BatchQuotaError} When the account has 50 compute environments or job queues.
 */
async function refuseOverBatchQuotas(
  spec: AwsKnotSpec,
  checked: CheckedAwsKnot,
  session: AwsSession,
  state: StateFile,
  knot: {
    parsName: string;
    repoName: string;
    names: CheckedAwsKnot["names"];
    runtime: number | undefined;
    imageUri?: string;
    heal?: Heal;
  },
): Promise<void> {
  const { names } = knot;
  checkJobDefinitionBytes(jobDefinitionRequest({
    name: names.jobDefinition,
    image: knot.imageUri ?? longestImageUri(session.region, knot.repoName),
    compute: checked.compute,
    placement: {
      jobRole: longestRoleArn(knotRoleName(knot.parsName, spec.name)),
      taskExecutionRole: typeof spec.pars === "object"
        ? spec.pars.taskExecutionRole
        : await recordedExecutionRole(state, knot.parsName) || longestRoleArn(),
    },
    environment: definitionEnvironment(spec, session.region),
    tags: definitionTags(
      knotTags(spec, await readOwner(state) ?? crypto.randomUUID()),
      knot.runtime,
      knot.heal,
    ),
  }));
  await refuseFullAccount(session, {
    computeEnvironment: names.computeEnvironment,
    jobQueue: names.jobQueue,
  });
}

/** The tags of everything a knot makes: the user's, and whose it is. */
function knotTags(spec: AwsKnotSpec, owner: string): Record<string, string> {
  return {
    ...spec.tags,
    ManagedBy: "cloudknot",
    [KNOT_TAG_KEY]: spec.name,
    [OWNER_TAG_KEY]: owner,
  };
}

/** The variables a knot's job definition gives every job. */
function definitionEnvironment(spec: AwsKnotSpec, region: string): Record<string, string> {
  return {
    CLOUDKNOT_KNOT: spec.name,
    ...regionEnvironment(region),
    // What the function may do in its container (job/main.ts); default network only.
    ...(spec.permissions !== undefined
      ? { CLOUDKNOT_PERMISSIONS: JSON.stringify(validatePermissions(spec.permissions)) }
      : {}),
  };
}

/**
 * A knot's job definition's tags: the knot's, the runtime protocol of its
 * image (this version's, built now, or the knot's own) and the revision it
 * was rebuilt from.
 */
function definitionTags(
  tags: Record<string, string>,
  runtime: number | undefined,
  heal: Heal | undefined,
): Record<string, string> {
  return {
    ...tags,
    ...(runtime !== undefined ? { [RUNTIME_PROTOCOL_TAG]: String(runtime) } : {}),
    ...(heal?.update?.rebuiltFrom !== undefined
      ? { [REBUILT_FROM_TAG]: heal.update.rebuiltFrom }
      : {}),
  };
}

/**
 * The longest ARN a role of this name may have as cloudknot makes it (no
 * path), in the longest partition's name; a role of any name at IAM's
 * longest (64 characters) without one.
 */
function longestRoleArn(name = "r".repeat(64)): string {
  return `arn:aws-iso-b:iam::123456789012:role/${name}`;
}

/**
 * The longest URI by digest that the knot's image may have once pushed to
 * its repository (an ECR registry's host in the region, with the longest
 * domain, `amazonaws.com.cn`).
 */
function longestImageUri(region: string, repo: string): string {
  return `123456789012.dkr.ecr.${region}.amazonaws.com.cn/${repo}@sha256:${"0".repeat(64)}`;
}

/** The task execution role's ARN the Pars of that name has recorded, if it is recorded. */
async function recordedExecutionRole(state: StateFile, pars: string): Promise<string | undefined> {
  const record = await state.section(recordSection("pars", pars));
  return record === undefined ? undefined : parseParsRecord(pars, record).taskExecutionRole;
}

/**
 * Why a failed create keeps the knot's job role it made, if it must: an
 * active revision of the knot's job definition that this call did not
 * register runs its jobs with the role (another create of the knot, with a
 * copy of the config file, adopted it), or the revisions could not be read,
 * in which case the role stays too (a role costs nothing, and `cloudknot gc`
 * lists it). `undefined` when no one else uses it.
 */
async function jobRoleUser(
  session: AwsSession,
  knot: string,
  jobDefinitionName: string,
  roleArn: string,
  made: { jobDefinition?: string },
): Promise<string | undefined> {
  try {
    for await (
      const d of session.batch.describeJobDefinitionsAll({ jobDefinitionName, status: "ACTIVE" })
    ) {
      if (d.jobDefinitionArn === made.jobDefinition) continue;
      if (d.containerProperties?.jobRoleArn === roleArn) {
        return `job definition ${d.jobDefinitionArn}, which this create did not register (another ` +
          `create of the knot's, one with a copy of this config file), runs its jobs with it`;
      }
    }
    return undefined;
  } catch (e) {
    return `whether another create of the knot uses it could not be read ` +
      `(DescribeJobDefinitions: ${e instanceof Error ? e.message : String(e)}); ` +
      `gc lists it (findGarbage(), or \`cloudknot gc\`) while this config file has no knot ${knot}`;
  }
}

/**
 * Whether a spec gives a function to make the knot from.
 *
 * @example Usage
 * ```ts ignore
 * if (!hasFunction(spec)) console.log("adopted as it is");
 * ```
 *
 * @param spec The knot's name and options.
 * @returns Whether it has `func`, `module` or `dockerImage`.
 */
export function hasFunction(spec: AwsKnotSpec): boolean {
  return spec.func !== undefined || spec.module !== undefined || spec.dockerImage !== undefined;
}

/**
 * Refuses to heal a knot with policies other than its Pars': a Pars whose
 * record stays is made again as the record says, so other policies would be
 * silently ignored (as `Pars.create` refuses them for a Pars that exists).
 */
function refuseOtherParsPolicies(
  name: string,
  record: ParsRecord,
  arns: readonly string[],
  given: readonly string[],
): void {
  const same = arns.length === record.policies.length &&
    arns.every((arn) => record.policies.includes(arn));
  if (same) return;
  throw new CloudknotInputError(
    `Knot ${name} heals with its Pars ${record.name} as the Pars' record says, with policies ` +
      `${JSON.stringify(record.policies)}, but parsPolicies ${JSON.stringify(given)} was ` +
      `passed; leave parsPolicies out to heal it, or clobber the knot with its Pars and create ` +
      `it again to change them`,
    { field: "parsPolicies" },
  );
}

/** Refuses to create a knot that is not recorded and has no function to make it from. */
export function requireFunction(spec: AwsKnotSpec): void {
  if (!hasFunction(spec)) {
    throw new CloudknotInputError(
      `There is no AWS knot named "${spec.name}" to adopt: pass func, module and exportName, or dockerImage to create it`,
      { field: "func" },
    );
  }
}

/**
 * The options of a knot's target; `runtime` is the runtime protocol of the
 * knot's own revision, as it was read or registered, so its maps ask AWS
 * nothing more for it (a retry on another revision reads that one's).
 */
function targetOptions(
  record: AwsKnotRecord,
  session: AwsSession,
  state: StateFile,
  options: { pollInterval?: number; warn?: (message: string) => void },
  runtime: number | undefined,
): AwsTargetOptions {
  const warn = options.warn ?? console.warn;
  return awsTargetOptions(record, {
    session,
    state,
    warn,
    checkRevision: runtimeCheck(
      session.batch,
      record.name,
      new Map([[record.jobDefinition, runtime]]),
    ),
    ...(options.pollInterval !== undefined ? { pollIntervalMs: options.pollInterval } : {}),
    ...waitWarnings(record, warn),
  });
}

/**
 * What a knot's target tells `warn` of its runs' jobs that wait in RUNNABLE:
 * stuck for a reason AWS Batch gives (with what to do), or for long with no
 * reason. A command line that reads a knot's runs gives the same, in its words.
 *
 * @example Usage
 * ```ts ignore
 * new AwsTarget(awsTargetOptions(record, { session, state, ...waitWarnings(record, warn) }));
 * ```
 *
 * @param record The knot's record.
 * @param warn Where the warnings go.
 * @returns `onStuck` and `onWaiting` for the target's options.
 */
export function waitWarnings(
  record: AwsKnotRecord,
  warn: (message: string) => void,
): Pick<AwsTargetOptions, "onStuck" | "onWaiting"> {
  return {
    onStuck: (runId, notice) =>
      warn(
        `cloudknot: run ${runId} of knot ${record.name} is stuck: AWS Batch cannot start job ` +
          `${notice.jobId} (${notice.statusReason}). What to do: ${notice.advice}.`,
      ),
    onWaiting: (runId, notice) =>
      warn(
        `cloudknot: the ${notice.jobs} job${notice.jobs === 1 ? "" : "s"} of run ${runId} of ` +
          `knot ${record.name} have waited in RUNNABLE for ${
            Math.round(notice.waitedMs / 60_000)
          } minutes and AWS Batch gives no reason: ${waitingAdvice(record.compute, record.name)}.`,
      ),
  };
}

/**
 * The function a spec gives, packaged, with the warnings its packaging held
 * back (a module's code that reaches files beside it): they are given when
 * an image is built of it, and not when the knot is adopted as it is.
 */
export interface PackagedFunction {
  /** The function given, packaged. */
  artifact: FunctionArtifact;
  /** What its packaging would have warned, in order. */
  warnings: string[];
}

/**
 * Packages the function a spec gives (`func`, or `module` and `exportName`,
 * with the spec's `deno`), holding its warnings back; `undefined` when it
 * gives none.
 */
async function packageHeld(
  spec: Pick<AwsKnotSpec, "func" | "module" | "exportName" | "files" | "deno">,
): Promise<PackagedFunction | undefined> {
  const warnings: string[] = [];
  const artifact = await artifactOf(spec, {
    warn: (m) => warnings.push(m),
    ...defined({ deno: spec.deno }),
  });
  return artifact === undefined ? undefined : { artifact, warnings };
}

/**
 * Whether the function a spec gives (`func`, or `module` and `exportName`)
 * is the one the knot's job definition runs: `"none"` when it gives none,
 * `"same"`, `"runtime"` when it is the same but the knot's record says its
 * image runs the job runtime of another cloudknot version (another runtime
 * protocol, or none: a knot made before runtime protocols), so the knot is
 * updated with its image rebuilt, or `"other"` (also when the knot's record
 * and its image's know no function to compare with). The function is
 * packaged here, once, so one that cannot be bundled (a bad import) is
 * refused before anything changes, and the image built of it next (an
 * update's) takes it as it is, with the warnings held back. Reads only the
 * config file: the adoption, its dry run and `cloudknot map` ask it.
 *
 * @example Usage
 * ```ts ignore
 * const { change } = await functionChange(spec, record, state);
 * if (change !== "same") console.log("updated");
 * ```
 *
 * @param spec The options given.
 * @param record The knot's record.
 * @param state The config file.
 * @param given The spec's function, packaged already by an earlier `functionChange` of the
 *   same spec (the command line's, then `Knot.create`'s): not packaged again.
 * @returns Whether the function given is the knot's own, and the function
 *   given, packaged (absent when none is given).
 */
export async function functionChange(
  spec: Pick<AwsKnotSpec, "func" | "module" | "exportName" | "files" | "deno">,
  record: AwsKnotRecord,
  state: StateFile,
  given?: PackagedFunction,
): Promise<{ change: "none" | "same" | "runtime" | "other"; packaged?: PackagedFunction }> {
  if (spec.func === undefined && spec.module === undefined) return { change: "none" };
  // A record of an earlier version names no function: its image's record does.
  const made = record.functionHash ??
    await state.get(recordSection("docker-image", record.dockerImage), "function-hash");
  const packaged = given ?? (await packageHeld(spec))!;
  if (packaged.artifact.hash !== made) return { change: "other", packaged };
  return { change: record.runtime === RUNTIME_PROTOCOL ? "same" : "runtime", packaged };
}

/**
 * The tag an update pushes a knot's new function under: the knot's name,
 * the function's hash and the time, so it names no image pushed before
 * (whose runs' job definition revisions still run on them).
 */
function updateImageTag(knot: string, hash: string): string {
  return `${knot.toLowerCase().slice(0, 96)}-${hash.slice(0, 12)}-${Date.now().toString(36)}`;
}

/**
 * Refuses a `dockerImage` built already by another cloudknot version (its
 * `org.cloudknot.runtime` label names another runtime protocol, or none),
 * before anything is pushed: its jobs would run that version's job runtime.
 */
async function refuseOtherRuntimeImage(image: DockerImage, docker: Docker): Promise<void> {
  const latest = image.images.at(-1)!;
  const found = await docker.inspectImage(latest);
  // An image gone from this machine is refused by its push, in its own words.
  if (found === undefined) return;
  const protocol = readRuntimeProtocol(found.Config?.Labels?.[RUNTIME_PROTOCOL_LABEL]);
  if (protocol === RUNTIME_PROTOCOL) return;
  throw new CloudknotInputError(
    `Image ${image.name} (${latest}) runs ${otherRuntimeWords(protocol)}, whose jobs would ` +
      `fail or misread their ` +
      `items: build it again with this version, image.build({ tags }), or pass func (or module ` +
      `and exportName) instead of dockerImage; nothing was pushed`,
    { field: "dockerImage" },
  );
}

/** The error of a knot whose image's build files lost its function. */
function lostFunctionFiles(knot: string, image: string): CloudknotError {
  return new CloudknotError(
    `Knot ${knot}'s image ${image} lost its function files: clobber the knot and create it again`,
  );
}

/**
 * The options a heal makes a knot again with: what the record (and its job
 * definition) gives, unless given again (the compute type, the attempts, the
 * function's permissions), and the policies of a Pars whose record is gone too.
 */
async function healingSpec(
  spec: AwsKnotSpec,
  session: AwsSession,
  record: AwsKnotRecord,
  batch: AdoptedBatch,
  parsGone: ParsGone | undefined,
): Promise<AwsKnotSpec> {
  return {
    ...await withOwnOptions(spec, session, record, batch),
    ...(spec.parsPolicies === undefined && parsGone !== undefined && !parsGone.record
      ? await recordedParsPolicies(session, record)
      : {}),
  };
}

/**
 * Refuses the heal of a knot (its function given again, with what of it is
 * gone) that its heal would refuse before it makes anything: a job no
 * instance type of its compute environment can hold, `parsPolicies` other than
 * those of the Pars record it makes again, a config file its record cannot be
 * written to, a knot or Pars of its names that another config file made, its
 * job definition past AWS Batch's 24 KiB, an account with no room for its
 * compute environment or queue. The heal's dry run checks with it, as the
 * create's dry run checks a new knot, with read-only requests: the same
 * options, names and checks the heal uses (`refuseCreate` with a `Heal`).
 *
 * @example Usage
 * ```ts ignore
 * await refuseHeal(spec, record, { batch, parsGone }, session, state);
 * ```
 *
 * @param spec The knot's name, function and options, as given.
 * @param record The knot's record.
 * @param found What the heal reads of the knot: its Batch resources and its Pars if gone.
 * @param session The AWS session.
 * @param state The config file.
 * @throws {CloudknotInputError} As the heal would throw it.
 * @throws {BatchQuotaError} When the account has no room for what the heal makes.
 */
export async function refuseHeal(
  spec: AwsKnotSpec,
  record: AwsKnotRecord,
  found: { batch: AdoptedBatch; parsGone: ParsGone | undefined },
  session: AwsSession,
  state: StateFile,
): Promise<void> {
  const healing = await healingSpec(spec, session, record, found.batch, found.parsGone);
  // A heal without an update builds the function on this version's runtime.
  await refuseCreate(healing, validateAwsKnotOptions(healing), session, state, {
    record,
    missing: found.parsGone !== undefined ? { pars: found.parsGone } : {},
  });
}

/**
 * The options given that a knot keeps its own values of where they are left
 * out ({@linkcode knotOwnOptions}), read when a heal or an update registers
 * a new revision of its job definition. A heal given another compute type
 * keeps only its attempts: the job definition's vCPUs and memory were the
 * other type's.
 */
async function withOwnOptions(
  spec: AwsKnotSpec,
  session: AwsSession,
  record: AwsKnotRecord,
  batch: AdoptedBatch,
): Promise<AwsKnotSpec> {
  const own: Partial<AwsKnotSpec> = spec.compute === undefined || spec.compute === record.compute
    ? await knotOwnOptions(session, record, batch)
    : { retries: record.retries };
  const kept = Object.entries(own).filter(([key]) => spec[key as keyof AwsKnotSpec] === undefined);
  return { ...spec, ...Object.fromEntries(kept) };
}

async function adopt(
  spec: AwsKnotSpec,
  record: AwsKnotRecord,
  session: AwsSession,
  state: StateFile,
  given?: PackagedFunction,
): Promise<OpenedKnot<AwsKnotTarget> | typeof OPEN_AGAIN> {
  const { name, region, profile, jobQueue, computeEnvironment } = record;
  requireRegion(record, session.region, state.path);
  if (!session.sameProfile(profile)) {
    throw new ProfileMismatchError("Knot", name, {
      resourceProfile: profile,
      currentProfile: session.profile,
    });
  }
  requireResources(record, ["jobQueue", "computeEnvironment"]);
  const [{ missing, disabled, ...batch }, found] = await Promise.all([
    batchResourceStates(session, record),
    Pars.find({ session, state, name: record.pars }),
  ]);
  const parsGone = found instanceof Pars ? undefined : found;
  // Deleted outside cloudknot, or its Pars clobbered with force: the record
  // stays, with its runs. Given the function again, the knot is made again
  // under the record's names (and what is DISABLED is enabled); without it,
  // the knot reads its runs and refuses to run anything, and nothing is made.
  const broken = missing.length > 0 || disabled.length > 0 || parsGone !== undefined;
  if (broken && hasFunction(spec)) {
    // What the record (and its job definition) gives is kept unless given
    // again: the compute type, the attempts, the function's permissions,
    // and the policies of a Pars whose record is gone too.
    const healing = await healingSpec(spec, session, record, batch, parsGone);
    // Marked as made with its Pars, as a new knot is: a clobber of the Pars
    // refuses meanwhile, and this heal refuses while one runs. Another heal of
    // the knot holds it too: this one waits for it.
    const parsName = typeof spec.pars === "object" ? spec.pars.name : record.pars;
    return await makingWithPars(
      state,
      parsName,
      name,
      async () => {
        // Every heal that ends writes the knot's record (a new job definition revision at
        // least), and a clobber removes it or notes that it began: a record that changed since
        // the reads above (another process healed the knot while this one waited for the mark,
        // or just before it took it) means what they found gone may be there now, and the knot
        // is opened again, from what is there now, instead of healed again from them. A heal
        // that failed undid what it made and wrote nothing, so what was read still holds.
        const now = await readAwsKnot(state, name, { strict: true });
        if (JSON.stringify(now) !== JSON.stringify(record)) return OPEN_AGAIN;
        // A clobber that took its mark before this heal took its own, and has not noted its
        // start in the record yet: nothing is made again under it.
        await refuseWhileKnotClobbered(state, name);
        // Of the function the caller packaged already, if it did (bundled once).
        return await create(healing, validateAwsKnotOptions(healing), session, state, {
          record,
          missing: parsGone !== undefined ? { pars: parsGone } : {},
        }, given);
      },
      () =>
        (spec.warn ?? console.warn)(
          `cloudknot: knot ${name} is being made again by another process with this config ` +
            `file (${state.path}); waiting for it to finish, then this one looks at the knot again`,
        ),
    );
  }
  // Another function (bundled here: one that does not bundle is refused) or other options of
  // its job definition update a knot that is whole; the other options differing from the
  // knot's own are ignored (the same options given again, by another process's create of
  // the knot, which this one waited for, change nothing).
  const { change, packaged } = await functionChange(spec, record, state, given);
  // The runtime protocol of the image the knot's revision runs, as the revision's tag says.
  const runtime = definitionRuntime(batch.jobDefinition);
  const rebuild = staleRuntime(change, batch.jobDefinition);
  requireResources(record);
  const baseImage =
    await state.get(recordSection("docker-image", record.dockerImage), "base-image") ||
    defaultBaseImage();
  const differ = await ignoredOptions(session, spec, record, batch, {
    baseImage,
    sameFunction: change === "same" || change === "runtime",
  });
  const newFunction = change === "other";
  const { updates, ignored } = splitUpdates(differ, { whole: !broken, newFunction });
  // Said once it is so: an update refused changes nothing, and says so itself.
  const sayIgnored = (how: string) => {
    if (ignored.length === 0) return;
    (spec.warn ?? console.warn)(
      `cloudknot: knot ${name} exists, so it was ${how} and these options were ignored: ` +
        `${ignored.join(", ")}; clobber the knot or choose another name to change them`,
    );
  };
  if (!broken && (newFunction || rebuild || updates.length > 0)) {
    const updated = await update(spec, record, session, state, {
      batch,
      newFunction: newFunction || rebuild,
      options: updates,
      runtime: {
        protocol: imageRuntime(change, record, batch.jobDefinition),
        rebuild: rebuild && !newFunction,
      },
    }, packaged);
    // Opened again (another process changed it meanwhile): that opening says it.
    if (updated !== OPEN_AGAIN) sayIgnored("updated");
    return updated;
  }
  sayIgnored("adopted as it is");
  const pars = found instanceof Pars ? found : undefined;
  const [image, repo] = await Promise.all([
    DockerImage.create({
      name: record.dockerImage,
      state,
      session,
      ...(spec.docker ? { docker: spec.docker } : {}),
      ...(spec.cloudknotDir !== undefined ? { cloudknotDir: spec.cloudknotDir } : {}),
    }),
    DockerRepo.create({ name: record.dockerRepo, session, state }),
  ]);
  if (image.artifact === undefined) throw lostFunctionFiles(name, image.name);
  const resources: AwsKnotResources = {
    region,
    profile,
    pars,
    image,
    repo,
    imageUri: record.imageUri,
    computeEnvironment,
    jobQueue,
    jobDefinition: record.jobDefinition,
    bucket: record.bucket,
    prefix: record.prefix,
    jobRole: record.jobRole ?? pars?.jobRole ?? "",
    adopted: true,
    updated: false,
  };
  return {
    artifact: record.sources !== undefined
      ? { ...image.artifact, sources: record.sources }
      : image.artifact,
    // Its maps are refused while its image runs another version's job runtime.
    target: new AwsKnotTarget(
      targetOptions(record, session, state, spec, runtime),
      record,
      resources,
      {
        missing,
        disabled,
        ...(parsGone !== undefined ? { pars: parsGone } : {}),
      },
    ),
  };
}

/** What {@linkcode updateOptions} is told of an update. */
export interface UpdateChange {
  /** The knot's compute environment and job queue, as described. */
  batch: AdoptedBatch;
  /**
   * Whether the function given is another than the knot's, or the same, to
   * be built into a new image (`runtime`).
   */
  newFunction: boolean;
  /**
   * The runtime protocol of the job runtime the knot's image runs
   * (`undefined` for one from before runtime protocols), which an update of
   * other options alone keeps with the image, and whether the update builds
   * the image again for it: the function given is the knot's own, but the
   * runtime is another cloudknot version's. @default {"this version's, not rebuilt"}
   */
  runtime?: { protocol: number | undefined; rebuild: boolean };
  /** The options given that differ from the knot's own and update it (its function's aside). */
  options: (keyof AwsKnotSpec)[];
}

/**
 * The options an update of a knot registers its new job definition revision
 * with, checked: those given that update it (the function, when another),
 * the knot's own values of the others ({@linkcode knotOwnOptions}), and the
 * options that shape no resource (session, config file, warn…). AWS is only
 * read; the update and its dry run both ask it.
 *
 * @example Usage
 * ```ts ignore
 * const { checked } = await updateOptions(spec, record, session, { batch, newFunction: true, options: [] });
 * ```
 *
 * @param spec The options given.
 * @param record The knot's record.
 * @param session The AWS session of the knot's region.
 * @param change The knot's Batch resources as described, and what the update changes.
 * @returns The update's options, and them checked.
 * @throws {CloudknotInputError} When they do not go together, naming the knot's own values
 *   used, before anything changes.
 */
export async function updateOptions(
  spec: AwsKnotSpec,
  record: AwsKnotRecord,
  session: AwsSession,
  change: UpdateChange,
): Promise<{ updating: AwsKnotSpec; checked: CheckedAwsKnot }> {
  const { name } = record;
  // Only what an update changes is taken from the options given; the rest is the knot's own.
  const given = Object.entries(spec).filter(([key]) =>
    !SHAPING.includes(key as keyof AwsKnotSpec) ||
    change.options.includes(key as keyof AwsKnotSpec) ||
    (change.newFunction && FUNCTION_KEYS.includes(key as keyof AwsKnotSpec))
  );
  const updating = await withOwnOptions(
    { ...Object.fromEntries(given), name } as AwsKnotSpec,
    session,
    record,
    change.batch,
  );
  try {
    return { updating, checked: validateAwsKnotOptions(updating) };
  } catch (e) {
    if (!(e instanceof CloudknotInputError)) throw e;
    // Say which values were the knot's own, not given: the caller may not know them.
    const own = (Object.keys(updating) as (keyof AwsKnotSpec)[]).filter((key) =>
      SHAPING.includes(key) && !given.some(([k]) => k === key) && !FUNCTION_KEYS.includes(key)
    );
    const list = (keys: (keyof AwsKnotSpec)[]) =>
      keys.map((key) => `${key} ${JSON.stringify(updating[key])}`).join(", ");
    // Those no update changes (its compute environment's and queue's) cannot be given instead.
    const updatable = own.filter((key) => UPDATED_OPTIONS.includes(key));
    const fixed = own.filter((key) => !UPDATED_OPTIONS.includes(key));
    const kept = [
      ...(updatable.length > 0
        ? [
          `keeps its own ${
            list(updatable)
          } where they are not given: give them with the update too`,
        ]
        : []),
      ...(fixed.length > 0
        ? [
          `keeps its own ${list(fixed)} where they are not given, which no update changes: ` +
          `clobber the knot, or choose another name, to change them`,
        ]
        : []),
    ];
    throw new CloudknotInputError(
      `${e.message.replace(/\.?$/, "")}${
        kept.length > 0 ? ` (knot ${name} ${kept.join("; and it ")})` : ""
      }; nothing was changed`,
      { ...(e.field !== undefined ? { field: e.field } : {}), cause: e },
    );
  }
}

/**
 * Whether a knot given its own function runs an image of another cloudknot
 * version's job runtime, as its record (`functionChange`'s `"runtime"`) or
 * its job definition revision's tag says: its create (and the dry run of it)
 * rebuilds the image with this version's.
 *
 * @example Usage
 * ```ts ignore
 * const { change } = await functionChange(spec, record, state);
 * if (staleRuntime(change, batch.jobDefinition)) rebuild();
 * ```
 *
 * @param change What `functionChange` says of the function given.
 * @param revision The knot's job definition revision, as described.
 * @returns Whether its image is rebuilt.
 */
export function staleRuntime(
  change: "none" | "same" | "other" | "runtime",
  revision: Pick<JobDefinition, "tags"> | undefined,
): boolean {
  return change === "runtime" ||
    (change === "same" && definitionRuntime(revision) !== RUNTIME_PROTOCOL);
}

/**
 * The runtime protocol of the job runtime a knot's image runs, which an
 * update of other options alone keeps with the image: as its record says
 * when it names another version's (`functionChange`'s `"runtime"`), else as
 * its job definition revision's tag says.
 *
 * @example Usage
 * ```ts ignore
 * const { change } = await functionChange(spec, record, state);
 * const protocol = imageRuntime(change, record, batch.jobDefinition);
 * ```
 *
 * @param change What `functionChange` says of the function given.
 * @param record The knot's record.
 * @param revision The knot's job definition revision, as described.
 * @returns The protocol, or `undefined` for a runtime from before runtime protocols.
 */
export function imageRuntime(
  change: "none" | "same" | "other" | "runtime",
  record: AwsKnotRecord,
  revision: Pick<JobDefinition, "tags"> | undefined,
): number | undefined {
  return change === "runtime" ? record.runtime : definitionRuntime(revision);
}

/**
 * Updates a knot that is whole: registers a new revision of its job
 * definition, with the new function's image (built and pushed under a tag of
 * its own) or the knot's own, and the options given where they differ from
 * the knot's own; everything else stays as it is (its compute environment,
 * queue, Pars, bucket and runs). Every option is checked, with the knot's own
 * values of those not given, before anything changes. Marked as made with
 * its Pars, as a heal is: another update or heal of the knot waits for this
 * one, then opens the knot again from its new record.
 */
async function update(
  spec: AwsKnotSpec,
  record: AwsKnotRecord,
  session: AwsSession,
  state: StateFile,
  change: UpdateChange,
  packaged?: PackagedFunction,
): Promise<OpenedKnot<AwsKnotTarget> | typeof OPEN_AGAIN> {
  const { name } = record;
  const warn = spec.warn ?? console.warn;
  const { updating, checked } = await updateOptions(spec, record, session, change);
  return await makingWithPars(
    state,
    record.pars,
    name,
    async () => {
      // Another process updated (or healed, or clobbered) the knot while this one waited: it
      // is opened again from its new record.
      const now = await readAwsKnot(state, name, { strict: true });
      if (JSON.stringify(now) !== JSON.stringify(record)) return OPEN_AGAIN;
      // Nor is a clobber that holds its mark and has not noted its start yet.
      await refuseWhileKnotClobbered(state, name);
      const opened = await create(updating, checked, session, state, {
        record,
        missing: {},
        update: {
          newFunction: change.newFunction,
          runtime: change.runtime === undefined ? RUNTIME_PROTOCOL : change.runtime.protocol,
          // Its own function and options on this version's runtime: the old revision's runs
          // retry on the new one, which runs what it ran.
          ...(change.runtime?.rebuild && change.options.length === 0
            ? { rebuiltFrom: record.jobDefinition }
            : {}),
        },
      }, packaged);
      const { artifact, target } = opened;
      const revision = target.resources.jobDefinition.slice(
        target.resources.jobDefinition.lastIndexOf(":") + 1,
      );
      const runs = change.newFunction
        ? `${artifact.kind} ${artifact.name} (${artifact.hash.slice(0, 12)})`
        : "its function";
      const options = change.options.map((key) => `${key} ${JSON.stringify(updating[key])}`);
      const on = `(job definition revision ${revision})`;
      warn(
        change.runtime?.rebuild
          ? `cloudknot: knot ${name} was updated: its image ran ` +
            `${
              otherRuntimeWords(change.runtime.protocol)
            }, so it was rebuilt with this version's, ` +
            `and the knot now runs its function on it${
              options.length > 0 ? ` with ${options.join(", ")}` : ""
            } ${on}; ${
              options.length > 0
                ? "runs made before keep their own revision, and their retries are refused: " +
                  "map their failed items again"
                : "the retries of runs made before run on it"
            }`
          : `cloudknot: knot ${name} now runs ${runs}${
            options.length > 0 ? ` with ${options.join(", ")}` : ""
          } ${on}; runs made before keep their own function and options, and so do their ` +
            `retries`,
      );
      return opened;
    },
    () =>
      warn(
        `cloudknot: knot ${name} is being updated or made again by another process with this ` +
          `config file (${state.path}); waiting for it to finish, then this one looks at the ` +
          `knot again`,
      ),
  );
}

/**
 * The managed policies of a knot's own job role, which are its Pars'
 * (`ensureKnotRole` attaches them): what a Pars made again for a knot keeps
 * when the Pars' record is gone. AWS is only read.
 */
async function recordedParsPolicies(
  session: AwsSession,
  record: AwsKnotRecord,
): Promise<{ parsPolicies?: string[] }> {
  const role = record.jobRole?.split("/").pop();
  if (role === undefined || role !== knotRoleName(record.pars, record.name)) return {};
  try {
    const policies: string[] = [];
    for await (
      const p of session.iam.listAttachedRolePoliciesAll({ RoleName: role })
    ) {
      if (p.PolicyArn) policies.push(p.PolicyArn);
    }
    return policies.length > 0 ? { parsPolicies: policies } : {};
  } catch (e) {
    if (isAwsCode(e, "NoSuchEntity")) return {};
    throw e;
  }
}

/**
 * What is gone of the Pars a knot uses, or `undefined` when it is whole;
 * the config file and AWS are only read ({@linkcode Pars.find}).
 *
 * @example Usage
 * ```ts ignore
 * const pars = await missingPars(session, state, record);
 * if (pars !== undefined) throw knotResourcesGone(record, [], pars);
 * ```
 *
 * @param session The AWS session of the knot's region.
 * @param state The config file.
 * @param record The knot's record.
 * @returns What is gone of its Pars.
 */
export async function missingPars(
  session: AwsSession,
  state: StateFile,
  record: AwsKnotRecord,
): Promise<ParsGone | undefined> {
  const found = await Pars.find({ session, state, name: record.pars });
  return found instanceof Pars ? undefined : found;
}

/**
 * The ARNs of a knot's compute environment, job queue and own job role
 * that no longer exist (deleted outside cloudknot), in that order; AWS is
 * only read.
 *
 * @example Usage
 * ```ts ignore
 * const missing = await missingBatchResources(session, record);
 * if (missing.length > 0) throw knotResourcesGone(record, missing);
 * ```
 *
 * @param session The AWS session of the knot's region.
 * @param record The knot's record.
 * @returns The ARNs not found (or found DELETED).
 */
export async function missingBatchResources(
  session: AwsSession,
  record: AwsKnotRecord,
): Promise<string[]> {
  return (await batchResourceStates(session, record)).missing;
}

/**
 * What of a knot's compute environment, job queue and own job role is gone
 * ({@linkcode missingBatchResources}), and which of its compute environment
 * and job queue are DISABLED, and so run nothing (a clobber that stopped
 * part-way after disabling them, or a hand). AWS is only read.
 *
 * @example Usage
 * ```ts ignore
 * const { missing, disabled } = await batchResourceStates(session, record);
 * ```
 *
 * @param session The AWS session of the knot's region.
 * @param record The knot's record.
 * @returns The ARNs gone, the ARNs disabled, and the compute environment and job queue as
 *   described.
 */
export async function batchResourceStates(
  session: AwsSession,
  record: AwsKnotRecord,
): Promise<{ missing: string[]; disabled: string[] } & AdoptedBatch> {
  const { computeEnvironment, jobQueue } = record;
  // The knot's own job role (a knot made before knots had their own uses the Pars').
  const ownRole = record.jobRole?.split("/").pop() === knotRoleName(record.pars, record.name)
    ? record.jobRole
    : undefined;
  const [ce, queue, role, definition] = await Promise.all([
    session.batch.describeComputeEnvironments({ computeEnvironments: [computeEnvironment] })
      .then((r) => r.computeEnvironments?.[0]),
    session.batch.describeJobQueues({ jobQueues: [jobQueue] }).then((r) => r.jobQueues?.[0]),
    ownRole === undefined ? undefined : getRole(session.iam, ownRole.split("/").pop()!),
    // A revision deregistered outside cloudknot is described INACTIVE, and Batch refuses
    // every SubmitJob naming it: it counts as gone, and a heal registers a new one.
    record.jobDefinition === ""
      ? undefined
      : session.batch.describeJobDefinitions({ jobDefinitions: [record.jobDefinition] })
        .then((r) => r.jobDefinitions?.[0]),
  ]);
  const gone = (r: { status?: string } | undefined) => r === undefined || r.status === "DELETED";
  const off = (r: { status?: string; state?: string } | undefined) =>
    !gone(r) && r?.state === "DISABLED";
  return {
    missing: [
      ...(gone(ce) ? [computeEnvironment] : []),
      ...(gone(queue) ? [jobQueue] : []),
      ...(ownRole !== undefined && role === undefined ? [ownRole] : []),
      ...(record.jobDefinition !== "" && definition?.status !== "ACTIVE"
        ? [record.jobDefinition]
        : []),
    ],
    disabled: [...(off(ce) ? [computeEnvironment] : []), ...(off(queue) ? [jobQueue] : [])],
    ...(ce !== undefined ? { computeEnvironment: ce } : {}),
    ...(queue !== undefined ? { jobQueue: queue } : {}),
    ...(definition !== undefined ? { jobDefinition: definition } : {}),
  };
}

/**
 * The error of a knot that cannot run anything because its compute
 * environment or job queue is gone: says which, that its runs are kept, and
 * that `Knot.create` with the function makes them again.
 *
 * @example Usage
 * ```ts ignore
 * throw knotResourcesGone(record, [record.jobQueue]);
 * ```
 *
 * @param record The knot's record.
 * @param missing The ARNs that are gone, from {@linkcode missingBatchResources}.
 * @param pars What is gone of the knot's Pars, from {@linkcode missingPars}.
 * @param disabled The ARNs of its DISABLED compute environment and queue, from
 *   {@linkcode batchResourceStates}.
 * @returns The error.
 */
export function knotResourcesGone(
  record: AwsKnotRecord,
  missing: readonly string[],
  pars?: ParsGone,
  disabled: readonly string[] = [],
): ResourceDoesNotExistError {
  const { name, computeEnvironment, jobRole, jobDefinition } = record;
  const kind = (arn: string) => arn === computeEnvironment ? "compute environment" : "job queue";
  const what = missing.filter((arn) => arn !== jobDefinition).map((arn) =>
    `${
      arn === computeEnvironment
        ? "compute environment"
        : arn === jobRole
        ? "job role"
        : "job queue"
    } ${arn}`
  );
  const gone = [
    ...(pars === undefined ? [] : [
      `the Pars ${pars.name} it uses is gone: ${
        pars.record === undefined
          ? `the config file has no [pars ${pars.name}] record any more (removed when the Pars ` +
            `was clobbered with { force: true }, or by hand)`
          : `its ${pars.missing.join(", ")} no longer ${
            pars.missing.length === 1 ? "exists" : "exist"
          } (deleted outside cloudknot, or when the Pars was clobbered with { force: true })`
      }`,
    ]),
    ...(what.length === 0 ? [] : [
      `its ${what.join(" and its ")} no longer ${
        what.length === 1 ? "exists" : "exist"
      } (deleted outside cloudknot, by a clobber that stopped part-way, or by a forced ` +
      `clobber of the knot's Pars)`,
    ]),
    ...(missing.includes(jobDefinition)
      ? [
        `its job definition ${jobDefinition} is not ACTIVE (deregistered outside cloudknot), ` +
        `so AWS Batch refuses its jobs`,
      ]
      : []),
    ...(disabled.length === 0 ? [] : [
      `its ${disabled.map((arn) => `${kind(arn)} ${arn}`).join(" and its ")} ${
        disabled.length === 1 ? "is" : "are"
      } DISABLED (by a clobber that stopped part-way, or by hand), so no job would start`,
    ]),
  ];
  const heals = pars === undefined
    ? ""
    : `, and makes Pars ${pars.name} again under its name${
      pars.record === undefined ? "" : " as its record says"
    }`;
  return new ResourceDoesNotExistError(
    `Knot ${name} cannot run anything: ${gone.join("; and ")}. Its runs are kept ` +
      `and can still be read. To run again, make what is missing again ` +
      `${disabled.length > 0 ? "(and enable what is disabled) " : ""}with ` +
      `Knot.create({ name: "${name}", func }) (or module and exportName) and the knot's ` +
      `options: it keeps the knot's names and runs${heals}. To be done with it, clobber the ` +
      `knot: that deletes what is left of it`,
    { missing: [...pars?.missing ?? [], ...missing] },
  );
}

/**
 * How long a knot's clobber waits for the jobs it stopped to end before it
 * deletes their queue: a container gets SIGTERM, then SIGKILL after ECS's
 * stop timeout (30 s by default).
 */
const CLOBBER_STOP_WAIT_MS = 150_000;

/** What an AWS knot's clobber deletes besides the knot's own Batch resources and data. */
export interface AwsClobberOptions {
  /**
   * Also delete the knot's Pars (refused while another knot uses it); one
   * partly gone is finished from its record, as `Pars.clobber({ name })` does.
   * @default {false}
   */
  pars?: boolean;
  /**
   * Also delete the repository; in the default repository, or one another knot uses, only the
   * knot's tags go. @default {false}
   */
  repo?: boolean;
  /** Also delete the local image and its build files. @default {false} */
  image?: boolean;
  /** Keep the knot's job data in S3. @default {false} */
  keepData?: boolean;
  /**
   * Also delete the bucket, when no other knot in the config file uses it
   * and it is empty once the knot's data is gone. @default {false}
   */
  bucket?: boolean;
}

/**
 * The target of a knot opened on AWS: the runs of {@linkcode AwsTarget},
 * the resources the knot is made of, and its clobber.
 *
 * @example Usage
 * ```ts ignore
 * import { openAwsKnot } from "./aws_knot.ts";
 *
 * const { target } = await openAwsKnot({ name: "k", func: (x: number) => x });
 * await target.clobber({ repo: true, image: true });
 * ```
 */
export class AwsKnotTarget extends AwsTarget implements Target<AwsClobberOptions> {
  /** The knot's resources. */
  readonly resources: AwsKnotResources;

  /** The knot's region, image, job queue, job definition and where its results are. */
  summary(): [string, string | undefined][] {
    const r = this.resources;
    return [
      ["region", r.region],
      ["image", r.imageUri],
      ["job queue", r.jobQueue],
      ["job definition", r.jobDefinition],
      ["results", `s3://${r.bucket}/${r.prefix}`],
    ];
  }
  /**
   * The ARNs of the knot's compute environment, job queue and own job role
   * that no longer exist (deleted outside cloudknot); empty when the knot is whole. While
   * any is missing, the knot's runs can be read but `map`, `submit` and
   * `retry` are refused.
   */
  readonly missing: readonly string[];
  /**
   * What is gone of the knot's Pars (its record, or some of its resources),
   * or `undefined` when it is whole; while it is gone, as while `missing`
   * is not empty, the knot's runs can be read but nothing runs.
   */
  readonly parsGone: ParsGone | undefined;
  #options: AwsTargetOptions;
  #record: AwsKnotRecord;
  /** Its DISABLED compute environment and job queue (runs nothing until a create enables them). */
  #disabled: readonly string[];

  /**
   * Makes the target of an opened knot.
   *
   * @param options The target's options, from the knot's record.
   * @param record The knot's record.
   * @param resources The knot's resources.
   * @param state `missing`: the knot's resources found gone when it was adopted; `pars`: what
   *   is gone of its Pars. @default {{ missing: [] }}
   */
  constructor(
    options: AwsTargetOptions,
    record: AwsKnotRecord,
    resources: AwsKnotResources,
    state: { missing?: readonly string[]; disabled?: readonly string[]; pars?: ParsGone } = {},
  ) {
    super(options);
    this.#options = options;
    this.#record = record;
    this.resources = resources;
    this.missing = state.missing ?? [];
    this.#disabled = state.disabled ?? [];
    this.parsGone = state.pars;
  }

  /**
   * Refuses to run anything while the knot's compute environment or job
   * queue is gone: says which, and that `Knot.create` with the function
   * makes it again and keeps the knot's runs; once the knot's record is
   * gone from the config file (clobbered by another process); and once its
   * clobber has begun (`refuseMapWhileClobbered`), before anything is uploaded.
   */
  async #requireWhole(): Promise<void> {
    if (this.missing.length > 0 || this.#disabled.length > 0 || this.parsGone !== undefined) {
      throw knotResourcesGone(this.#record, this.missing, this.parsGone, this.#disabled);
    }
    // Another process (or knot handle) may have clobbered it since it was opened.
    const { state } = this.#options;
    if (await readAwsKnot(state, this.#record.name) === undefined) {
      const { name } = this.#record;
      throw new ResourceDoesNotExistError(
        `Knot ${name} was clobbered: its record is no longer in the config file ${state.path} ` +
          `(another process or knot handle clobbered it), and nothing was submitted. To run it ` +
          `again, make it again with Knot.create({ name: "${name}", func }) (or module and ` +
          `exportName) and the knot's options`,
        { missing: [this.#record.jobQueue] },
      );
    }
    // Its clobber has begun (another process or knot handle): nothing is uploaded into a knot
    // being deleted. Checked again once the map holds its submission mark (`AwsTarget`).
    await refuseMapWhileClobbered(state, this.#record.name);
  }

  /**
   * Submits a run, as {@linkcode AwsTarget.map} does, once the knot is whole.
   *
   * @param request The encoded items and the map options.
   * @returns The run's handle.
   * @throws {ResourceDoesNotExistError} When the knot's compute environment or job queue is gone.
   * @throws {RuntimeMismatchError} When the revision it would run on (the knot's, or a retried
   *   run's) runs another cloudknot version's job runtime, before anything is uploaded.
   */
  override async map<T>(request: MapRequest): Promise<MapRun<T>> {
    await this.#requireWhole();
    return await super.map(request);
  }

  /**
   * Submits one item, as {@linkcode AwsTarget.submit} does, once the knot is whole.
   *
   * @param request The encoded item, starmap and environment.
   * @returns The job.
   * @throws {ResourceDoesNotExistError} When the knot's compute environment or job queue is gone.
   */
  override async submit(request: SubmitRequest): Promise<BatchJob> {
    await this.#requireWhole();
    return await super.submit(request);
  }

  /**
   * What `map(request)` would do, as {@linkcode AwsTarget.plan} says, once the knot is whole.
   *
   * @param request The encoded items and the map options.
   * @param options `itemSeconds` adds an estimate.
   * @returns The plan.
   * @throws {ResourceDoesNotExistError} When the knot's compute environment or job queue is gone.
   * @throws {RuntimeMismatchError} When the knot's image runs another cloudknot version's job runtime.
   */
  override async plan(
    request: MapRequest,
    options: { itemSeconds?: number } = {},
  ): Promise<Plan> {
    await this.#requireWhole();
    return await super.plan(request, options);
  }

  /**
   * Deletes the knot's AWS resources, in this order: it waits for the maps
   * another process with this config file is submitting to the knot (saying
   * so, `warn`), while maps that start meanwhile refuse; its record notes that
   * its clobber has begun; its unfinished jobs are
   * stopped, with a reason that every reader of their runs reads as a
   * cancellation by the clobber, and waited on (at most 150 s); its queue is disabled and deleted; its compute environment is
   * disabled and deleted (and waited on); its job definitions are
   * deregistered; its record forgets its runs and their job data is deleted
   * from S3; the repository, the Pars and the local image
   * when asked; its record is removed; then the bucket when asked. A
   * clobber stopped part-way (a kill, a lost connection), the Pars' part
   * included, is finished by clobbering the knot again.
   *
   * @param options What else to delete.
   * @throws {BucketDeleteDeniedError} With `bucket: true`, when everything
   *   else is deleted but S3 refuses these credentials `s3:DeleteBucket`.
   * @throws {CannotDeleteResourceError} While another process clobbers the
   *   knot, before anything changes.
   */
  async clobber(options: AwsClobberOptions = {}): Promise<void> {
    // Marked while it runs, so `knot show` tells it from a clobber that stopped part-way.
    await clobberingAwsKnot(this.#options.state, this.#record.name, () => this.#clobber(options));
  }

  async #clobber(options: AwsClobberOptions): Promise<void> {
    const { session, state, pollIntervalMs } = this.#options;
    const r = this.resources;
    const { name } = this.#record;
    const batch = session.batch;
    const warn = this.#options.warn ?? console.warn;
    // A map with this config file that holds its submission mark has passed its last look for a
    // clobber: it submits into the queue, and writes into the job data, that this clobber would
    // delete. It is waited for, and its jobs are then stopped with the others; a map that takes
    // its mark from now on sees this clobber's and refuses, having submitted nothing.
    await waitForSubmissions(state, name, {
      ...(pollIntervalMs !== undefined ? { pollMs: pollIntervalMs } : {}),
      onWait: (runs) =>
        warn(
          `cloudknot: knot ${name} is not clobbered yet: another process with this config file ` +
            `(${state.path}) is submitting the jobs of its run${runs.length === 1 ? "" : "s"} ` +
            `${runs.join(", ")}; waiting for it to finish, then its jobs are stopped with the ` +
            `knot's others`,
        ),
    });
    // Noted before anything changes: a clobber stopped part-way reads as such (`knot show`).
    await markAwsKnotClobbering(state, name);
    // A queue deleted outside cloudknot has no jobs left to stop.
    const live = this.missing.includes(r.jobQueue) ? [] : await unfinishedJobIds(batch, r.jobQueue);
    // Stopped with a reason a reader of the run recognises (another process's results() reads
    // the items as cancelled by the clobber), and waited on: deleting the queue terminates those
    // still stopping again, with a reason of AWS's own (a reader still reads them as cancelled
    // by the clobber, from the record's note that it began).
    const reason = cloudknotStopReason(knotClobberedWhy(name));
    const stopping = [...(await describeJobs(batch, live)).values()];
    const errors = await forEachPooled(stopping, 10, (job) => stopJob(batch, job, reason));
    if (errors.length > 0) throw errors[0];
    const stopWaitMs = this.#options.clobberStopWaitMs ?? CLOBBER_STOP_WAIT_MS;
    const left = await waitForJobsToEnd(batch, live, {
      ...(pollIntervalMs !== undefined ? { pollMs: pollIntervalMs } : {}),
      timeoutMs: stopWaitMs,
    });
    if (left.length > 0) {
      warn(
        `cloudknot: ${left.length} job(s) of knot ${name} still stopping after ` +
          `${stopWaitMs / 1000} s; deleting its queue terminates them`,
      );
    }
    const poll = pollIntervalMs !== undefined ? { pollMs: pollIntervalMs } : {};
    const wait = { ...poll, onWait: warn };
    await deleteBatchEnvironment(session, {
      jobQueue: r.jobQueue,
      computeEnvironment: r.computeEnvironment,
      jobDefinitions: [this.#record.jobDefinitionName],
      ...(this.#record.launchTemplate ? { launchTemplate: this.#record.launchTemplate } : {}),
    }, wait);
    // The knot's own job role, once no job definition names it; a knot made
    // before knots had their own uses the Pars' role, which stays (even
    // when the Pars is gone: its clobber, or gc, deletes it).
    const role = this.#record.jobRole?.split("/").pop();
    if (role !== undefined && role === knotRoleName(this.#record.pars, name)) {
      await deleteRole(session.iam, role);
    }
    if (!options.keepData) {
      // Forgotten first: once some of it is deleted, the record counts no run whose data is gone.
      await forgetAwsKnotRuns(state, name);
      await deletePrefix(this.store, "");
    }
    // What the repository lost, for the bucket's error.
    let repoClobbered: string | undefined;
    if (options.repo) {
      const isDefault = r.repo.name === await getEcrRepo({ state });
      // Another knot's jobs pull their image from a repository they share: keep it for them.
      const user = isDefault ? undefined : await repositoryUser(state, name, r.repo.name);
      // A repository the knot adopted may hold others' images: keep them.
      const foreign = isDefault || user !== undefined
        ? []
        : await foreignImageTags(r.repo, this.#record.imageTags);
      const keptFor = user !== undefined
        ? `knot ${user} still uses it`
        : foreign.length > 0
        ? `it holds images that are not knot ${name}'s (tags ${listTags(foreign)})`
        : undefined;
      if (keptFor !== undefined) {
        warn(
          `cloudknot: repository ${r.repo.name} was kept, with only knot ${name}'s image tags ` +
            `removed: ${keptFor}`,
        );
      }
      if (isDefault || keptFor !== undefined) {
        for (const tag of this.#record.imageTags) await r.repo.removeImage(tag);
        repoClobbered = `image tags in repository ${r.repo.name}`;
      } else {
        await r.repo.clobber();
        repoClobbered = `repository ${r.repo.name}`;
      }
    }
    // Another knot's jobs run with a Pars they share: keep it for them, as a shared repository.
    const users = options.pars ? await parsUsers(state, name, this.#record.pars) : [];
    const parsKept = users.length > 0;
    // The knot's record stays until its Pars is gone too: a clobber stopped while it deletes the
    // Pars still reads as this knot's clobber stopped part-way, which clobbering it again with
    // the Pars finishes (the record is no user of the Pars for this clobber). Its local image
    // goes after the Pars, just before the record: the knot is opened again from both.
    const forKnot = name;
    if (parsKept) {
      warn(
        `cloudknot: Pars ${this.#record.pars} was kept: knot ${users.join(", ")} still ` +
          `use${users.length === 1 ? "s" : ""} it; clobber ` +
          `${users.length === 1 ? "that knot" : "those knots"} first, then ` +
          `Pars.clobber({ name: "${this.#record.pars}" })`,
      );
    } else if (options.pars && r.pars !== undefined) {
      await r.pars.clobber({ ...poll, warn, forKnot });
    } else if (options.pars && this.parsGone?.record !== undefined) {
      // Partly gone (a Pars clobber killed part-way, or roles deleted by hand): finished from its record.
      await Pars.clobber({ session, state, name: this.#record.pars, ...poll, warn, forKnot });
    } else if (options.pars) {
      warn(`cloudknot: Pars ${this.#record.pars} of knot ${name} was gone already`);
    }
    if (options.image) await r.image.clobber();
    await removeAwsKnot(state, name, this.#options);
    // The marks its killed maps left: no run of it is read after.
    await forgetKnotSubmitMarks(state, name);
    if (options.bucket) {
      const also = [
        ...(options.pars && !parsKept && (r.pars ?? this.parsGone?.record) !== undefined
          ? [`Pars ${this.#record.pars}`]
          : []),
        ...(repoClobbered !== undefined ? [repoClobbered] : []),
        ...(options.image ? [`local image ${r.image.name}`] : []),
      ];
      await deleteBucketIfUnused(session, state, r.bucket, {
        knot: name,
        also,
        partition: arnPartition(r.jobRole),
      });
    }
  }
}

/**
 * Deletes the bucket when no knot uses it and it is empty. S3's AccessDenied
 * (credentials without `s3:DeleteBucket`, which docs/iam.md's policy leaves
 * out) becomes a {@linkcode BucketDeleteDeniedError} saying what was done.
 */
async function deleteBucketIfUnused(
  session: AwsSession,
  state: StateFile,
  bucket: string,
  clobbered: { knot: string; also: string[]; partition: string },
): Promise<void> {
  const user = (await readAwsKnots(state)).find((knot) => knot.bucket === bucket);
  if (user !== undefined) {
    console.warn(`cloudknot: bucket ${bucket} was kept: knot ${user.name} still uses it`);
    return;
  }
  const page = await session.s3.listObjectsV2({ Bucket: bucket, MaxKeys: 1 });
  if ((page.KeyCount ?? page.Contents?.length ?? 0) > 0) {
    console.warn(`cloudknot: bucket ${bucket} was kept: it still holds objects`);
    return;
  }
  try {
    await session.s3.deleteBucket({ Bucket: bucket });
  } catch (e) {
    if (isAwsCode(e, "AccessDenied")) {
      throw new BucketDeleteDeniedError(bucket, { ...clobbered, cause: e });
    }
    throw e;
  }
}

/** The tags of a repository's images that are not among `own` (a knot's), in ECR's order. */
async function foreignImageTags(repo: DockerRepo, own: readonly string[]): Promise<string[]> {
  const images = repo.session.ecr.listImagesAll({
    repositoryName: repo.name,
    filter: { tagStatus: "TAGGED" },
  });
  const tags = (await Array.fromAsync(images)).map((image) => image.imageTag ?? "");
  return [...new Set(tags)].filter((tag) => tag !== "" && !own.includes(tag));
}

/** Up to five tags, and how many more. */
function listTags(tags: readonly string[]): string {
  const shown = tags.slice(0, 5).join(", ");
  return tags.length > 5 ? `${shown} and ${tags.length - 5} more` : shown;
}
