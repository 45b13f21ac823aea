/**
 * Garbage collection: finds the AWS resources this config file made (tagged
 * `ManagedBy=cloudknot` and with its owner id) that no section of the config
 * file refers to any more, and deletes them in dependency order. The original had no such
 * thing (its issues #136 and #144); resources whose records were lost stayed
 * and cost money; nor did the image tags of gone knots in the repository
 * knots share (`_image_tags.ts`), nor the untagged images a moved tag left
 * (`_untagged_images.ts`). It also finds the run folders on this machine that a
 * `map()` killed while it wrote their inputs left without a manifest, once
 * no live process writes them (`_run_leftovers.ts`), the artifact folders
 * a local knot's create killed while it copied its shipped files left half
 * made, once no live process makes them (`_artifact_leftovers.ts`), and the
 * containers and images of docker knots whose folder is gone, which a run's
 * driver killed as its knot was clobbered left (`_docker_leftovers.ts`).
 *
 * A resource is kept when any value of the config file names it (its id,
 * name or ARN), when its `cloudknot:knot` tag names a knot the file records
 * in this region, or when its `cloudknot:pars` tag names a Pars the file
 * records (for IAM, in any region; for the network, in this region). A knot
 * or Pars that a live process is making with this config file
 * (`StateFile.whileMaking`) counts as recorded, in every region, until it is. The
 * default VPC and its subnets, default security groups, main route tables,
 * the default ECR repository and the buckets themselves are never garbage.
 *
 * It judges only what this config file made. Each config file has an owner
 * id (`owner` in `[aws]`, `owner.ts`), and everything a Pars or a knot makes
 * is tagged `cloudknot:owner=<id>`; each run's manifest in S3 records it.
 * A resource whose owner tag names another id (another config file on the
 * same account: a colleague's, another machine's) is never garbage, nor is
 * the job data of a knot with a run of another owner. A resource without an
 * owner tag (made before owner tags, or by the Python original), and job data
 * with a run that names no owner, is left out unless `untagged` is true;
 * `onSkip` hears of each one left out so.
 *
 * @module
 */
import { basename } from "node:path";
import { AwsError } from "../aws/core/error.ts";
import type { AwsSession } from "../aws/session.ts";
import type { Ec2, Filter } from "../aws/services/ec2.ts";
import { CloudknotError, CloudknotInputError } from "../util/errors.ts";
import { defined } from "../util/defined.ts";
import type { StateFile } from "../state/state_file.ts";
import { parseSection, recordSection } from "../state/sections.ts";
import {
  getEcrRepo,
  resolveS3Params,
  sessionFromSettings,
  type SettingsOptions,
  settingsState,
} from "./settings.ts";
import { SETTINGS_SESSION_OPTION_KEYS, settingsOf } from "./settings_keys.ts";
import { validateOptionKeys } from "../util/validate.ts";
import { deleteBatchEnvironment, type WaitOptions } from "../targets/aws/batch/environment.ts";
import { JOB_DATA_PREFIX } from "./bucket.ts";
import { parseParsRecord } from "./pars.ts";
import {
  deleteInstanceProfile,
  deleteRole,
  getInstanceProfile,
  getRole,
  KNOT_ROLE_SUFFIX,
  KNOT_TAG_KEY,
  MANAGED_BY_TAG,
  PARS_TAG_KEY,
  ROLE_SPECS,
} from "./_iam_roles.ts";
import { isAwsCode } from "./_ledger.ts";
import { ownerTag, readOwner, runOwners } from "./owner.ts";
import { commonPrefixes } from "./_s3_prefixes.ts";
import { deleteInternetGateway, deleteRouteTable, deleteWhenReleased } from "./_network.ts";
import { findRunLeftovers, removeRunLeftover } from "./_run_leftovers.ts";
import { findArtifactLeftovers, removeArtifactLeftover } from "./_artifact_leftovers.ts";
import {
  type DockerLeftover,
  findDockerLeftovers,
  removeDockerLeftover,
} from "./_docker_leftovers.ts";
import {
  findHoldLeftovers,
  removeHoldFileLeftover,
  removeHoldLeftover,
} from "./_hold_leftovers.ts";
import { findSubmitMarksLeft, removeSubmitMarkLeft, type SubmitMarkLeft } from "./_submit_marks.ts";
import {
  findLooseImageTags,
  imageTagReason,
  type LooseImageTag,
  readImages,
} from "./_image_tags.ts";
import { findLooseImages, type LooseImage, looseImageReason } from "./_untagged_images.ts";
import { Docker } from "../docker/docker.ts";
import { formatBytes } from "../cost/format.ts";
import { pathExists } from "../util/read_text.ts";

// The knot tag key, where the resources this module judges are tagged (`_iam_roles.ts`).
export { KNOT_TAG_KEY };

/** The kinds of garbage on this machine, deleted without AWS, in the order they are deleted. */
const LOCAL_GARBAGE_KINDS = [
  "run-folder",
  "artifact-folder",
  "hold-tag",
  "hold-file",
  "submit-mark",
  "docker-container",
  "docker-image",
] as const;

/** The kinds of garbage, in the order they are deleted. */
export const GARBAGE_KINDS = [
  "job-queue",
  "compute-environment",
  "job-definition",
  "launch-template",
  "instance-profile",
  "role",
  "security-group",
  "route-table",
  "internet-gateway",
  "subnet",
  "vpc",
  "image-tag",
  "image",
  "repository",
  "job-data",
  ...LOCAL_GARBAGE_KINDS,
] as const;

/** A kind of garbage. */
export type GarbageKind = typeof GARBAGE_KINDS[number];

/** One resource nothing refers to. */
export interface GarbageItem {
  /** What it is. */
  kind: GarbageKind;
  /**
   * Its id or name; for job data, `s3://<bucket>/<prefix>`; for a run
   * folder, its path; for a hold tag, the image reference; for a hold
   * file, the image reference of the tag it held (the reason names the file);
   * for a submission mark, its name (`submitting-run <knot> <run>`; the
   * reason names the file); for an image tag, `<repository>:<tag>`; for an untagged image,
   * `<repository>@<digest>`; for a docker container, its name; for a
   * docker image, its id (`sha256:…`).
   */
  id: string;
  /**
   * For a docker container or image, the folder of its knot (which is gone):
   * {@linkcode deleteGarbage} keeps it when a knot is there again.
   */
  dir?: string;
  /** Its ARN, when it has one. */
  arn?: string;
  /**
   * For an image tag, the digest of the image it named when it was found:
   * {@linkcode deleteGarbage} keeps a tag that names another image since
   * (pushed again). For an untagged image, its digest: {@linkcode deleteGarbage}
   * keeps it when it has gained a tag since.
   */
  digest?: string;
  /** The record its tags say it belonged to, such as `pars lab` or `knot squares`. */
  owner?: string;
  /** Why it is garbage. */
  reason: string;
}

/** Options of {@linkcode findGarbage} and {@linkcode deleteGarbage}. */
export interface GcOptions extends SettingsOptions {
  /**
   * Also count as garbage what has no `cloudknot:owner` tag (made before
   * owner tags, or by the Python original, perhaps with another config file)
   * the job data of runs that name no owner, and the image tags and untagged
   * images no job definition of this config file runs. Without it they are left out, and
   * `onSkip` hears of each. @default {false}
   */
  untagged?: boolean;
  /**
   * Called by {@linkcode findGarbage} with each resource it left out because
   * it has no owner tag (without `untagged`). @default {undefined}
   */
  onSkip?: (item: GarbageItem) => void;
  /** The AWS session (default: one made from the settings). */
  session?: AwsSession;
  /** How to wait for Batch resources to be deleted. */
  wait?: WaitOptions;
  /** Called before each deletion (progress). */
  onDelete?: (item: GarbageItem) => void;
  /**
   * Where waits are reported, such as for a subnet that a compute
   * environment deleted a moment ago still holds, and that Docker was
   * skipped (not installed, not running) when looking for this machine's
   * garbage. @default {console.warn}
   */
  warn?: (message: string) => void;
  /**
   * Called, besides the notice through `warn`, when Docker could not be asked
   * (not installed, not running) while looking for this machine's garbage,
   * with why: what Docker holds was not looked at, which a caller tells from
   * "nothing left" by it. @default {undefined}
   */
  onDockerSkipped?: (why: string) => void;
  /**
   * Whether the session's region is the home one: IAM (global) and the
   * settings' bucket are looked at too. {@linkcode findGarbageInRegions}
   * looks at them once, in the session's region. @default {true}
   */
  home?: boolean;
  /**
   * The directory of the local and docker knots, whose run folders a killed
   * `map()` left, and whose gone docker knots' containers and images, are
   * looked at with the home region.
   * @default {"$CLOUDKNOT_LOCAL_DIR, else ~/.cloudknot/local"}
   */
  localDir?: string;
  /**
   * The Docker driver that looks for and removes the hold tags a killed
   * build left (only asked when such a build's mark is found), and the
   * containers and images of docker knots whose folder is gone.
   * @default {"docker on the PATH, quiet"}
   */
  docker?: Docker;
}

const GC_OPTION_KEYS: Readonly<Record<keyof GcOptions, true>> = {
  ...SETTINGS_SESSION_OPTION_KEYS,
  untagged: true,
  onSkip: true,
  wait: true,
  onDelete: true,
  warn: true,
  onDockerSkipped: true,
  home: true,
  localDir: true,
  docker: true,
};

/** The options of {@linkcode findLocalGarbage}. */
type LocalGcOptions = NonNullable<Parameters<typeof findLocalGarbage>[0]>;

const LOCAL_GC_OPTION_KEYS: Readonly<Record<keyof LocalGcOptions, true>> = {
  localDir: true,
  env: true,
  state: true,
  homeDir: true,
  docker: true,
  warn: true,
  onDockerSkipped: true,
};

/** One region's leftovers, as {@linkcode findGarbageInRegions} finds them. */
export interface RegionGarbage {
  /** The region. */
  region: string;
  /** A session in that region, for {@linkcode deleteGarbage}. */
  session: AwsSession;
  /** What it found there. */
  items: GarbageItem[];
  /** What it left out there for want of an owner tag (without `untagged`). */
  skipped: GarbageItem[];
}

/** What {@linkcode deleteGarbage} did. */
export interface GcResult {
  /** What was deleted. */
  deleted: GarbageItem[];
  /**
   * What was gone already when it came to be deleted (another gc, a clobber
   * or someone else deleted it since it was found): not counted as deleted.
   */
  gone: GarbageItem[];
  /** What could not be deleted, with the error's message. */
  failed: { item: GarbageItem; error: string }[];
}

type Tags = Record<string, string>;

/** What the config file refers to. */
interface References {
  /** Every value and key of the file, split on whitespace and commas. */
  tokens: Set<string>;
  /** Knot names, with their region when recorded. */
  knots: Map<string, { region?: string; bucket?: string; prefix?: string }>;
  /** Pars names, with their region. */
  pars: Map<string, { region?: string; bucket?: string }>;
  /** Job definition names named by an ARN in the file. */
  jobDefinitions: Set<string>;
  /** The config file's owner id, if it has one. */
  owner: string | undefined;
}

async function readReferences(state: StateFile): Promise<References> {
  const refs: References = {
    tokens: new Set(),
    knots: new Map(),
    pars: new Map(),
    jobDefinitions: new Set(),
    owner: await readOwner(state),
  };
  for (const [section, keys] of await state.read()) {
    for (const [key, value] of keys) {
      refs.tokens.add(key);
      for (const token of value.split(/[\s,]+/)) {
        if (token === "") continue;
        refs.tokens.add(token);
        // `kind:id`, as in a Pars' `created` list.
        const owned = /^[a-z-]+:([^:]+)$/.exec(token);
        if (owned) refs.tokens.add(owned[1]!);
        const def = /:job-definition\/([^:/]+)(?::\d+)?$/.exec(token);
        if (def) refs.jobDefinitions.add(def[1]!);
      }
    }
    const value = (key: string) => keys.get(key) || undefined;
    const region = value("region");
    const parsed = parseSection(section);
    if (parsed?.kind === "knot") {
      refs.knots.set(
        parsed.name,
        defined({ region, bucket: value("bucket"), prefix: value("prefix") }),
      );
    } else if (parsed?.kind === "pars") {
      const record = parseParsRecord(parsed.name, keys);
      refs.pars.set(
        parsed.name,
        defined({ region: record.region || undefined, bucket: record.bucket || undefined }),
      );
    }
  }
  // A knot or Pars another process is making has no record yet: what it made so far stays.
  for (const section of await state.making()) {
    const parsed = parseSection(section);
    if (parsed?.kind === "knot" && !refs.knots.has(parsed.name)) refs.knots.set(parsed.name, {});
    if (parsed?.kind === "pars" && !refs.pars.has(parsed.name)) refs.pars.set(parsed.name, {});
  }
  return refs;
}

function tagMap(tags: { Key?: string; Value?: string }[] | undefined): Tags {
  const out: Tags = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? "";
  return out;
}

function managed(tags: Tags): boolean {
  return tags[MANAGED_BY_TAG.Key] === MANAGED_BY_TAG.Value;
}

/**
 * Why a managed resource is garbage, or `undefined` when something refers to
 * it. `region` is the resource's region; IAM resources have none.
 */
function judge(refs: References, tags: Tags, ids: string[], region?: string): string | undefined {
  if (ids.some((id) => refs.tokens.has(id))) return undefined;
  // A resource tagged with its knot or Pars lives while that record does, in its region.
  for (
    const [what, name, records] of [
      ["knot", tags[KNOT_TAG_KEY], refs.knots],
      ["Pars", tags[PARS_TAG_KEY], refs.pars],
    ] as const
  ) {
    if (name === undefined) continue;
    const found = records.get(name);
    if (found && (region === undefined || found.region === undefined || found.region === region)) {
      return undefined;
    }
    return found
      ? `${what} ${name} is recorded in region ${found.region}`
      : `${what} ${name} is gone`;
  }
  return "no record in the config file names it";
}

/** Why a resource is garbage, and whether it has no owner tag. */
type Verdict = { reason: string; untagged: boolean } | undefined;

/**
 * {@linkcode judge}, for this config file's resources only: one another
 * config file made is kept.
 */
function verdict(refs: References, tags: Tags, ids: string[], region?: string): Verdict {
  const owner = ownerTag(tags);
  if (owner !== undefined && owner !== refs.owner) return undefined;
  const reason = judge(refs, tags, ids, region);
  return reason === undefined ? undefined : { reason, untagged: owner === undefined };
}

function ownerOf(tags: Tags): string | undefined {
  if (tags[KNOT_TAG_KEY] !== undefined) return recordSection("knot", tags[KNOT_TAG_KEY]);
  if (tags[PARS_TAG_KEY] !== undefined) return recordSection("pars", tags[PARS_TAG_KEY]);
  return undefined;
}

function item(
  kind: GarbageKind,
  id: string,
  reason: string,
  extra: { arn?: string | undefined; tags?: Tags } = {},
): GarbageItem {
  const owner = extra.tags ? ownerOf(extra.tags) : undefined;
  return {
    kind,
    id,
    ...defined({ arn: extra.arn, owner }),
    reason,
  };
}

const GONE_STATUS = new Set(["DELETING", "DELETED"]);
const MANAGED_FILTER: Filter[] = [{
  Name: `tag:${MANAGED_BY_TAG.Key}`,
  Values: [MANAGED_BY_TAG.Value],
}];

async function openState(options: GcOptions): Promise<{ state: StateFile; session: AwsSession }> {
  const state = settingsState(options);
  const session = options.session ?? await sessionFromSettings({ ...settingsOf(options), state });
  return { state, session };
}

/**
 * {@linkcode findGarbage} in every region the account has enabled (EC2
 * DescribeRegions), the session's region first: IAM, which is global, and
 * the settings' bucket are looked at there only. It only reads.
 *
 * @example Usage
 * ```ts ignore
 * import { deleteGarbage, findGarbageInRegions } from "@cloudknot/cloudknot/resources";
 *
 * for (const { region, session, items } of await findGarbageInRegions()) {
 *   console.log(region, items.length);
 *   await deleteGarbage(items, { session });
 * }
 * ```
 *
 * @param options The session (its region is the home one) and the settings sources.
 * @returns Each region's garbage, in the order looked at.
 */
export async function findGarbageInRegions(options: GcOptions = {}): Promise<RegionGarbage[]> {
  validateOptionKeys(options, GC_OPTION_KEYS, "findGarbageInRegions()");
  const { state, session } = await openState(options);
  const { Regions } = await session.ec2.describeRegions({});
  const enabled = (Regions ?? []).map((r) => r.RegionName).filter((r): r is string => !!r).sort();
  const out: RegionGarbage[] = [];
  for (const region of [session.region, ...enabled.filter((r) => r !== session.region)]) {
    const here = await session.inRegion(region);
    const skipped: GarbageItem[] = [];
    const items = await findGarbage({
      ...options,
      state,
      session: here,
      home: region === session.region,
      onSkip: (g) => {
        skipped.push(g);
        options.onSkip?.(g);
      },
    });
    out.push({ region, session: here, items, skipped });
  }
  return out;
}

/**
 * Finds the resources this config file made (tagged `cloudknot:owner` with
 * its owner id; with `untagged`, also those with no owner tag) that no
 * record of the config file refers to: Batch job queues, compute environments and job definitions,
 * launch templates, IAM roles and instance profiles, security groups and
 * the pieces of a VPC of its own (route tables, internet gateways, subnets,
 * the VPC), ECR repositories, the image tags of knots no longer recorded in
 * the repositories the config file uses (`_image_tags.ts`; a tag no job
 * definition of this config file runs counts as untagged), the untagged images a
 * heal or re-create left there when it moved a knot's tag that only
 * deregistered revisions and gone knots ran (`_untagged_images.ts`; one no job
 * definition runs counts as untagged), and the job data of knots no longer recorded
 * (`cloudknot/<knot>/` in the buckets the config file names) whose runs all
 * name this config file. Another config file's resources are never garbage.
 * In the home region it also finds this machine's run folders a killed
 * `map()` left and the other garbage of this machine ({@linkcode findLocalGarbage}). It only reads.
 *
 * @example Usage
 * ```ts ignore
 * import { findGarbage } from "@cloudknot/cloudknot/resources";
 *
 * for (const g of await findGarbage()) console.log(g.kind, g.id, g.reason);
 * ```
 *
 * @param options The session and the settings sources.
 * @returns The garbage, in the order {@linkcode deleteGarbage} deletes it.
 */
export async function findGarbage(options: GcOptions = {}): Promise<GarbageItem[]> {
  validateOptionKeys(options, GC_OPTION_KEYS, "findGarbage()");
  const { state, session } = await openState(options);
  const refs = await readReferences(state);
  const region = session.region;
  const found: GarbageItem[] = [];
  const { batch, ec2, iam, ecr } = session;
  const untagged = options.untagged ?? false;
  /**
   * Whether a resource stays: kept, or left out for want of an owner tag;
   * otherwise it goes to `into` as garbage.
   */
  const stays = (v: Verdict, garbage: (reason: string) => GarbageItem, into = found) => {
    if (v === undefined) return true;
    const g = garbage(v.reason);
    if (v.untagged && !untagged) {
      options.onSkip?.(g);
      return true;
    }
    into.push(g);
    return false;
  };

  // Batch: queues first, so a compute environment a kept queue uses is kept.
  const keptEnvironments = new Set<string>();
  const queues = await Array.fromAsync(batch.describeJobQueuesAll({}));
  for (const q of queues) {
    if (GONE_STATUS.has(q.status ?? "")) continue;
    const tags = q.tags ?? {};
    const v = managed(tags)
      ? verdict(refs, tags, [q.jobQueueArn, q.jobQueueName], region)
      : undefined;
    if (stays(v, (why) => item("job-queue", q.jobQueueName, why, { arn: q.jobQueueArn, tags }))) {
      for (const o of q.computeEnvironmentOrder ?? []) keptEnvironments.add(o.computeEnvironment);
    }
  }
  const keptTemplates = new Set<string>();
  for await (const ce of batch.describeComputeEnvironmentsAll({})) {
    if (GONE_STATUS.has(ce.status ?? "")) continue;
    const tags = ce.tags ?? {};
    const ids = [ce.computeEnvironmentArn, ce.computeEnvironmentName];
    const v = managed(tags) && !ids.some((id) => keptEnvironments.has(id))
      ? verdict(refs, tags, ids, region)
      : undefined;
    const template = ce.computeResources?.launchTemplate;
    const garbage = (why: string) =>
      item("compute-environment", ce.computeEnvironmentName, why, {
        arn: ce.computeEnvironmentArn,
        tags,
      });
    if (stays(v, garbage)) {
      for (const t of [template?.launchTemplateName, template?.launchTemplateId]) {
        if (t) keptTemplates.add(t);
      }
    }
  }
  // Listed apart from the listing of every revision whose images the image garbage below reads
  // (`ImageReading.uses`), on purpose. That one is made only when an image needs an owner (a
  // loose tag or untagged image), after ECR is read; this one always. Folded into one listing of
  // every revision, a gc with no such image (most) would read every deregistered revision too, a
  // page per 100 where this reads the ACTIVE ones; folded only when that listing is made, it
  // would save this listing's pages alone, and need ECR read (after the repositories are judged)
  // before the job definitions are, with the order items are deleted in kept. Not every gc would
  // make fewer requests, so the two stay apart.
  const definitions = new Map<string, { arn: string; tags: Tags; referenced: boolean }>();
  for await (const def of batch.describeJobDefinitionsAll({ status: "ACTIVE" })) {
    const tags = def.tags ?? {};
    if (!managed(tags)) continue;
    const name = def.jobDefinitionName;
    const referenced = refs.jobDefinitions.has(name) ||
      verdict(refs, tags, [def.jobDefinitionArn, name], region) === undefined;
    const seen = definitions.get(name);
    definitions.set(name, {
      arn: def.jobDefinitionArn,
      tags,
      referenced: referenced || (seen?.referenced ?? false),
    });
  }
  for (const [name, def] of definitions) {
    if (def.referenced) continue;
    stays(
      verdict(refs, def.tags, [def.arn], region),
      (why) => item("job-definition", name, why, { arn: def.arn, tags: def.tags }),
    );
  }
  for await (const t of ec2.describeLaunchTemplatesAll({ Filters: MANAGED_FILTER })) {
    const tags = tagMap(t.Tags);
    const ids = [t.LaunchTemplateName ?? "", t.LaunchTemplateId ?? ""].filter((s) => s !== "");
    if (!managed(tags) || ids.some((id) => keptTemplates.has(id))) continue;
    stays(
      verdict(refs, tags, ids, region),
      (why) => item("launch-template", ids[0]!, why, { tags }),
    );
  }

  // IAM (global): the roles of a Pars and of its knots, and the Pars' instance profiles.
  const home = options.home ?? true;
  const suffixes = [...ROLE_SPECS.map((s) => s.suffix), KNOT_ROLE_SUFFIX];
  const garbageParsNames = new Set<string>();
  const roles: GarbageItem[] = [];
  for await (const role of home ? iam.listRolesAll({}) : []) {
    if (!suffixes.some((s) => role.RoleName.endsWith(s)) && !role.Path?.startsWith("/cloudknot/")) {
      continue;
    }
    let tags: Tags;
    try {
      tags = tagMap(await Array.fromAsync(iam.listRoleTagsAll({ RoleName: role.RoleName })));
    } catch (e) {
      if (isAwsCode(e, "NoSuchEntity")) continue;
      throw e;
    }
    if (!managed(tags)) continue;
    const v = verdict(refs, tags, [role.Arn, role.RoleName]);
    if (stays(v, (why) => item("role", role.RoleName, why, { arn: role.Arn, tags }), roles)) {
      continue;
    }
    if (tags[PARS_TAG_KEY] !== undefined && tags[KNOT_TAG_KEY] === undefined) {
      garbageParsNames.add(tags[PARS_TAG_KEY]);
    }
  }
  const profiles = new Set<string>();
  for (const role of roles) {
    if (role.id.endsWith("-ecs-instance-role")) profiles.add(role.id);
  }
  for (const pars of garbageParsNames) profiles.add(`${pars}-ecs-instance-role`);
  for (const name of [...profiles].sort()) {
    const profile = await getInstanceProfile(iam, name);
    if (!profile) continue;
    const tags = tagMap(profile.Tags);
    if (!managed(tags)) continue;
    stays(
      verdict(refs, tags, [profile.Arn, name]),
      (why) => item("instance-profile", name, why, { arn: profile.Arn, tags }),
    );
  }
  found.push(...roles);

  // EC2 network pieces.
  for await (const g of ec2.describeSecurityGroupsAll({ Filters: MANAGED_FILTER })) {
    const tags = tagMap(g.Tags);
    if (!g.GroupId || g.GroupName === "default" || !managed(tags)) continue;
    const id = g.GroupId;
    stays(verdict(refs, tags, [id], region), (why) => item("security-group", id, why, { tags }));
  }
  for await (const t of ec2.describeRouteTablesAll({ Filters: MANAGED_FILTER })) {
    const tags = tagMap(t.Tags);
    if (!t.RouteTableId || !managed(tags)) continue;
    if ((t.Associations ?? []).some((a) => a.Main)) continue; // goes with its VPC
    const id = t.RouteTableId;
    stays(verdict(refs, tags, [id], region), (why) => item("route-table", id, why, { tags }));
  }
  for await (const g of ec2.describeInternetGatewaysAll({ Filters: MANAGED_FILTER })) {
    const tags = tagMap(g.Tags);
    if (!g.InternetGatewayId || !managed(tags)) continue;
    const id = g.InternetGatewayId;
    stays(verdict(refs, tags, [id], region), (why) => item("internet-gateway", id, why, { tags }));
  }
  for await (const s of ec2.describeSubnetsAll({ Filters: MANAGED_FILTER })) {
    const tags = tagMap(s.Tags);
    if (!s.SubnetId || s.DefaultForAz || !managed(tags)) continue;
    const id = s.SubnetId;
    stays(verdict(refs, tags, [id], region), (why) => item("subnet", id, why, { tags }));
  }
  for await (const v of ec2.describeVpcsAll({ Filters: MANAGED_FILTER })) {
    const tags = tagMap(v.Tags);
    if (!v.VpcId || v.IsDefault || !managed(tags)) continue;
    const id = v.VpcId;
    stays(verdict(refs, tags, [id], region), (why) => item("vpc", id, why, { tags }));
  }

  // ECR repositories (never the default one).
  const defaultRepo = await getEcrRepo({ ...settingsOf(options), state });
  const goneRepos = new Set<string>();
  for await (const repo of ecr.describeRepositoriesAll({})) {
    const name = repo.repositoryName;
    if (!name || name === defaultRepo || !repo.repositoryArn) continue;
    const tags = tagMap(
      (await ecr.listTagsForResource({ resourceArn: repo.repositoryArn })).tags,
    );
    if (!managed(tags)) continue;
    const arn = repo.repositoryArn;
    const v = verdict(refs, tags, [name, arn, repo.repositoryUri ?? ""], region);
    if (!stays(v, (why) => item("repository", name, why, { arn, tags }))) goneRepos.add(name);
  }

  // The tags of gone knots in the repositories it uses (those deleted whole aside), and below
  // the untagged images there, judged from one reading of their images and job definitions.
  const images = await readImages(session, state, defaultRepo, goneRepos);
  const goingTags = new Map<string, LooseImageTag[]>();
  for (const loose of await findLooseImageTags(images)) {
    const kept = stays(
      { reason: imageTagReason(loose), untagged: !loose.owned },
      (reason) => ({
        kind: "image-tag",
        id: `${loose.repository}:${loose.tag}`,
        digest: loose.digest,
        owner: recordSection("knot", loose.knot),
        reason,
      }),
    );
    const key = `${loose.repository}@${loose.digest}`;
    if (!kept) goingTags.set(key, [...goingTags.get(key) ?? [], loose]);
  }
  // The images whose every tag goes: an image index's parts go after it.
  const going = new Map<string, LooseImage>();
  for (const [key, [first, ...rest]] of goingTags) {
    if (first === undefined || 1 + rest.length < first.imageTags.length) continue;
    const { repository, digest, knot, owned, knotRecorded } = first;
    going.set(key, { repository, digest, knot, owned, knotRecorded });
  }
  // The untagged images a moved tag left that only deregistered revisions and gone knots ran.
  for (const loose of await findLooseImages(session, images, going)) {
    stays(
      { reason: looseImageReason(loose), untagged: !loose.owned },
      (reason) => ({
        kind: "image",
        id: `${loose.repository}@${loose.digest}`,
        digest: loose.digest,
        ...(loose.knot !== undefined ? { owner: recordSection("knot", loose.knot) } : {}),
        reason,
      }),
    );
  }

  // Job data of knots the config file no longer records.
  const buckets = new Set<string>();
  const settingsBucket = !home
    ? undefined
    : await resolveS3Params({ ...settingsOf(options), state, session })
      .then(
        (p) => p.bucket,
        () => undefined,
      );
  if (settingsBucket) buckets.add(settingsBucket);
  for (const p of refs.pars.values()) if (p.bucket && p.region === region) buckets.add(p.bucket);
  for (const k of refs.knots.values()) if (k.bucket && k.region === region) buckets.add(k.bucket);
  for (const bucket of [...buckets].sort()) {
    for (const prefix of await knotPrefixes(session, bucket)) {
      const name = prefix.slice(JOB_DATA_PREFIX.length).replace(/\/$/, "");
      const bare = prefix.replace(/\/$/, "");
      const kept = [...refs.knots].some(([knot, k]) =>
        (k.bucket === undefined || k.bucket === bucket) &&
        (k.prefix !== undefined ? k.prefix.replace(/\/$/, "") === bare : knot === name)
      );
      if (kept) continue;
      // Its runs' manifests say whose it is: kept if any run is another config file's.
      const owners = await runOwners(session, bucket, prefix, refs.owner);
      if ([...owners].some((o) => o !== undefined && o !== refs.owner)) continue;
      const mine = owners.size > 0 && refs.owner !== undefined && !owners.has(undefined);
      stays({ reason: `knot ${name} is gone`, untagged: !mine }, (reason) => ({
        kind: "job-data",
        id: `s3://${bucket}/${prefix}`,
        owner: recordSection("knot", name),
        reason,
      }));
    }
  }
  if (home) found.push(...await localGarbage(options));
  return found.sort((a, b) => GARBAGE_KINDS.indexOf(a.kind) - GARBAGE_KINDS.indexOf(b.kind));
}

/**
 * Finds the run folders of this machine's local and docker knots (in
 * `localDir`) that a `map()` killed while it wrote their inputs left without
 * a manifest (`run.json`), so that nothing can read them: those whose
 * writer is gone; the folders a local knot's create killed while it copied
 * the files its function ships left half made in the knot's `artifacts/`
 * (`artifact-folder`, `.<hash>.tmp-…`), none that a live process is making
 * (`_artifact_leftovers.ts`); and the hold tags (`cloudknot/<name>:hold-<uuid>`) that a
 * build with `hold: true` with this config file left on the Docker daemon
 * when it was killed before it pushed the image, or the empty file of such a
 * hold's mark (`hold-file`) when it was killed once it had removed the tag;
 * and the containers (`docker-container`) and images (`docker-image`) of the
 * docker knots of `localDir` whose folder is gone (`_docker_leftovers.ts`:
 * an image only when all its tags are its knot's and no other container uses
 * it). A folder a live process is writing, a tag a live process holds, or
 * a container or image of a knot whose folder is there (or of another knots
 * directory) is never garbage. When Docker cannot be asked (not installed, its
 * daemon down), it says so through `warn` (and `onDockerSkipped`) and finds the rest. It only reads,
 * and asks nothing of AWS. {@linkcode findGarbage} includes them.
 *
 * @example Usage
 * ```ts ignore
 * import { deleteGarbage, findLocalGarbage } from "@cloudknot/cloudknot/resources";
 *
 * await deleteGarbage(await findLocalGarbage());
 * ```
 *
 * @param options The knots directory and the environment.
 * @returns This machine's garbage, in the order {@linkcode deleteGarbage} deletes it.
 */
export async function findLocalGarbage(
  options: Pick<
    GcOptions,
    "localDir" | "env" | "state" | "homeDir" | "docker" | "warn" | "onDockerSkipped"
  > = {},
): Promise<GarbageItem[]> {
  validateOptionKeys(options, LOCAL_GC_OPTION_KEYS, "findLocalGarbage()");
  return await localGarbage(options);
}

async function localGarbage(options: LocalGcOptions): Promise<GarbageItem[]> {
  const where = defined({ dir: options.localDir, env: options.env });
  const docker = options.docker ?? quietDocker();
  const leftovers = await findRunLeftovers(where);
  const artifacts = await findArtifactLeftovers(where);
  const containers = await findDockerLeftovers(docker, where);
  // A killed build's hold is judged by whether Docker has its tag: not while Docker cannot say.
  const holds = containers.skipped === undefined
    ? await findHoldLeftovers(settingsState(options), docker)
    : [];
  if (containers.skipped !== undefined) {
    options.onDockerSkipped?.(containers.skipped);
    (options.warn ?? console.warn)(
      `gc skipped Docker: ${containers.skipped}, so it did not look for the ` +
        `containers and images of docker knots whose folder is gone, nor for the image tags ` +
        `that builds killed before their push left; look again once Docker answers`,
    );
  }
  return [
    ...leftovers.map((left): GarbageItem => ({
      kind: "run-folder",
      id: left.dir,
      owner: recordSection("knot", left.knot),
      reason: `a map ended while it wrote its inputs: ${
        formatBytes(left.bytes)
      } no run can read (no run.json)`,
    })),
    ...artifacts.map((left): GarbageItem => ({
      kind: "artifact-folder",
      id: left.dir,
      owner: recordSection("knot", left.knot),
      reason: "a knot create was killed while it copied the files its function ships: a " +
        "half-made artifact nothing reads",
    })),
    ...holds.map(({ ref, tag, file }): GarbageItem => ({
      kind: tag ? "hold-tag" : "hold-file",
      id: ref,
      owner: recordSection("docker-image", ref.slice(ref.indexOf("/") + 1, ref.indexOf(":"))),
      reason: tag
        ? "the build that holds it was killed before it pushed the image"
        : `the empty mark file ${file} that a build killed once it had removed this tag left ` +
          "(the tag is gone: no Docker object)",
    })),
    ...(await findSubmitMarksLeft(settingsState(options))).map(submitMarkGarbage),
    ...containers.found.map(dockerGarbage),
  ];
}

/** A submission mark a killed map left (`_submit_marks.ts`), as garbage. */
function submitMarkGarbage(left: SubmitMarkLeft): GarbageItem {
  return {
    kind: "submit-mark",
    id: left.name,
    owner: recordSection("knot", left.knot),
    reason: `the mark file ${left.file} that a map killed while it submitted run ` +
      `${left.runId} of knot ${left.knot} left: the run's submission window is over, so no ` +
      "reader needs it (not an AWS resource)",
  };
}

/** A container or image of a docker knot whose folder is gone, as garbage. */
function dockerGarbage(left: DockerLeftover): GarbageItem {
  const knot = basename(left.dir);
  const gone = `docker knot ${knot} is gone (no folder ${left.dir})`;
  const tags = left.tags ?? [];
  return {
    kind: left.kind === "container" ? "docker-container" : "docker-image",
    id: left.id,
    dir: left.dir,
    owner: recordSection("knot", knot),
    reason: left.kind === "container"
      ? `${gone}: a container of its run ${left.run ?? "?"}${
        left.running ? ", still running," : ""
      } that nothing else removes`
      : `${gone}: ${
        tags.length > 0
          ? `its image ${tags.join(", ")}`
          : "an untagged image of one of its functions"
      }, which no other container uses`,
  };
}

function quietDocker(): Docker {
  return new Docker({ logger: () => {} });
}

/** The `cloudknot/<knot>/` prefixes of a bucket; none when the bucket is missing. */
function knotPrefixes(session: AwsSession, bucket: string): Promise<string[]> {
  return commonPrefixes(session, bucket, JOB_DATA_PREFIX);
}

/**
 * Deletes garbage that {@linkcode findGarbage} found, in dependency order
 * (queues, compute environments, job definitions, launch templates, instance
 * profiles, roles, security groups, route tables, internet gateways,
 * subnets, VPCs, image tags, untagged images, repositories, job data, run folders, hold tags,
 * hold files, docker containers, docker images). A piece already gone when it comes to it is listed in `gone`,
 * not counted as deleted; a piece that cannot be deleted is reported and the
 * rest go on. An image tag is removed alone (the image goes only when no other
 * tag names it), and kept, as failed, when it names another image than when
 * it was found; an untagged image is deleted by its digest once read again,
 * and kept, as failed, when it has gained a tag since. A run folder a process took up since it was found is
 * kept, and reported as failed; a hold tag is removed with `docker rmi` of
 * that tag alone (an image another tag names stays). A docker container or
 * image is removed holding the lock of its knot's folder (made for that time),
 * and kept, as failed, when a knot is in that folder again (or a process
 * creates one there now), or, for an image, when it is in use or tagged for
 * another since. Run folders, hold tags and docker leftovers need no AWS session.
 *
 * @example Usage
 * ```ts ignore
 * import { deleteGarbage, findGarbage } from "@cloudknot/cloudknot/resources";
 *
 * const { deleted, failed } = await deleteGarbage(await findGarbage());
 * console.log(deleted.length, failed);
 * ```
 *
 * @param items What to delete.
 * @param options The session, how to wait, and a progress callback.
 * @returns What was deleted and what failed.
 */
export async function deleteGarbage(
  items: readonly GarbageItem[],
  options: GcOptions = {},
): Promise<GcResult> {
  validateOptionKeys(options, GC_OPTION_KEYS, "deleteGarbage()");
  // Only AWS's garbage needs a session: run folders are deleted without one.
  let session: Promise<AwsSession> | undefined;
  const aws = () => session ??= openState(options).then((o) => o.session);
  const result: GcResult = { deleted: [], gone: [], failed: [] };
  const ordered = [...items].sort((a, b) =>
    GARBAGE_KINDS.indexOf(a.kind) - GARBAGE_KINDS.indexOf(b.kind)
  );
  for (const garbage of ordered) {
    options.onDelete?.(garbage);
    try {
      const there = LOCAL_KINDS.has(garbage.kind)
        ? await deleteLocal(garbage, options)
        : await deleteOne(await aws(), garbage, {
          ...options.wait,
          onWait: options.warn ?? console.warn,
        });
      (there ? result.deleted : result.gone).push(garbage);
    } catch (e) {
      result.failed.push({ item: garbage, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return result;
}

/** The kinds of garbage on this machine, deleted without AWS. */
const LOCAL_KINDS: ReadonlySet<GarbageKind> = new Set(LOCAL_GARBAGE_KINDS);

/** Deletes a piece of this machine's garbage; `false` when it was gone already. */
async function deleteLocal(g: GarbageItem, options: GcOptions): Promise<boolean> {
  const state = settingsState(options);
  if (g.kind === "run-folder") {
    if (!await pathExists(g.id)) return false;
    await removeRunLeftover(g.id, g.owner?.replace(/^knot /, ""));
    return true;
  }
  if (g.kind === "artifact-folder") {
    if (!await pathExists(g.id, { followLinks: false })) return false;
    await removeArtifactLeftover(g.id);
    return true;
  }
  if (g.kind === "submit-mark") {
    if (!await pathExists(await state.holdFile(g.id))) return false;
    await removeSubmitMarkLeft(state, g.id);
    return true;
  }
  if (g.kind === "hold-file") {
    if (!await pathExists(await state.holdFile(g.id))) return false;
    await removeHoldFileLeftover(state, g.id);
    return true;
  }
  const docker = options.docker ?? quietDocker();
  if (g.kind === "docker-container" || g.kind === "docker-image") {
    if (g.dir === undefined) {
      throw new CloudknotInputError(
        `gc cannot delete the ${g.kind} ${g.id} without the folder of its knot (dir)`,
        { field: "dir" },
      );
    }
    const kind = g.kind === "docker-container" ? "container" : "image";
    return await removeDockerLeftover(docker, { kind, id: g.id, dir: g.dir });
  }
  const there = await docker.inspectImage(g.id) !== undefined;
  await removeHoldLeftover(state, docker, g.id);
  return there;
}

/** How each kind of EC2 garbage is described by its id: the filter, and the call. */
const EC2_LOOKUPS: Record<
  "security-group" | "route-table" | "internet-gateway" | "subnet" | "vpc",
  [filter: string, describe: (ec2: Ec2, Filters: Filter[]) => Promise<unknown[] | undefined>]
> = {
  "security-group": [
    "group-id",
    async (ec2, Filters) => (await ec2.describeSecurityGroups({ Filters })).SecurityGroups,
  ],
  "route-table": [
    "route-table-id",
    async (ec2, Filters) => (await ec2.describeRouteTables({ Filters })).RouteTables,
  ],
  "internet-gateway": [
    "internet-gateway-id",
    async (ec2, Filters) => (await ec2.describeInternetGateways({ Filters })).InternetGateways,
  ],
  subnet: ["subnet-id", async (ec2, Filters) => (await ec2.describeSubnets({ Filters })).Subnets],
  vpc: ["vpc-id", async (ec2, Filters) => (await ec2.describeVpcs({ Filters })).Vpcs],
};

/**
 * Whether a piece of AWS garbage whose delete helper takes "already gone"
 * quietly is still there, so that it is counted apart.
 */
async function stillThere(session: AwsSession, g: GarbageItem): Promise<boolean> {
  const { batch, ec2, iam } = session;
  switch (g.kind) {
    case "job-queue": {
      const { jobQueues } = await batch.describeJobQueues({ jobQueues: [g.arn ?? g.id] });
      return (jobQueues ?? []).some((q) => q.status !== "DELETED");
    }
    case "compute-environment": {
      const { computeEnvironments } = await batch.describeComputeEnvironments({
        computeEnvironments: [g.arn ?? g.id],
      });
      return (computeEnvironments ?? []).some((c) => c.status !== "DELETED");
    }
    case "job-definition": {
      const { jobDefinitions } = await batch.describeJobDefinitions({
        jobDefinitionName: g.id,
        status: "ACTIVE",
      });
      return (jobDefinitions ?? []).length > 0;
    }
    case "launch-template":
      try {
        await ec2.describeLaunchTemplates({ LaunchTemplateNames: [g.id] });
        return true;
      } catch (e) {
        if (e instanceof AwsError && /NotFound/.test(e.code)) return false;
        throw e;
      }
    case "instance-profile":
      return await getInstanceProfile(iam, g.id) !== undefined;
    case "role":
      return await getRole(iam, g.id) !== undefined;
    case "security-group":
    case "route-table":
    case "internet-gateway":
    case "subnet":
    case "vpc": {
      const [filter, describe] = EC2_LOOKUPS[g.kind];
      return ((await describe(ec2, [{ Name: filter, Values: [g.id] }])) ?? []).length > 0;
    }
    default:
      return true;
  }
}

/** Deletes a piece of AWS garbage; `false` when it was gone already. */
async function deleteOne(session: AwsSession, g: GarbageItem, wait: WaitOptions): Promise<boolean> {
  const { ec2, iam } = session;
  if (!await stillThere(session, g)) return false;
  switch (g.kind) {
    case "job-queue":
      await deleteBatchEnvironment(session, { jobQueue: g.arn ?? g.id }, wait);
      return true;
    case "compute-environment":
      await deleteBatchEnvironment(session, { computeEnvironment: g.arn ?? g.id }, wait);
      return true;
    case "job-definition":
      await deleteBatchEnvironment(session, { jobDefinitions: [g.id] }, wait);
      return true;
    case "launch-template":
      await deleteBatchEnvironment(session, { launchTemplate: g.id }, wait);
      return true;
    case "instance-profile":
      await deleteInstanceProfile(iam, g.id);
      return true;
    case "role":
      await deleteRole(iam, g.id);
      return true;
    case "security-group":
      await deleteWhenReleased(
        `security group ${g.id}`,
        () => ec2.deleteSecurityGroup({ GroupId: g.id }),
        wait,
      );
      return true;
    case "route-table":
      await deleteRouteTable(ec2, g.id);
      return true;
    case "internet-gateway":
      await deleteInternetGateway(ec2, g.id, wait);
      return true;
    case "subnet":
      await deleteWhenReleased(
        `subnet ${g.id}`,
        () => ec2.deleteSubnet({ SubnetId: g.id }),
        wait,
      );
      return true;
    case "vpc":
      await deleteWhenReleased(`VPC ${g.id}`, () => ec2.deleteVpc({ VpcId: g.id }), wait);
      return true;
    case "image-tag":
      return await deleteImageTag(session, g);
    case "image":
      return await deleteUntaggedImage(session, g);
    case "repository":
      try {
        await session.ecr.deleteRepository({ repositoryName: g.id, force: true });
        return true;
      } catch (e) {
        if (!(e instanceof AwsError && e.code === "RepositoryNotFoundException")) throw e;
        return false;
      }
    case "job-data": {
      const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(g.id);
      if (!match) throw new CloudknotInputError(`Not an S3 location: ${g.id}`, { field: "id" });
      const [, bucket, prefix] = match as unknown as [string, string, string];
      const keys: string[] = [];
      try {
        for await (const o of session.s3.listObjectsV2All({ Bucket: bucket, Prefix: prefix })) {
          if (o.Key) keys.push(o.Key);
        }
      } catch (e) {
        if (isAwsCode(e, "NoSuchBucket")) return false;
        throw e;
      }
      if (keys.length === 0) return false;
      const { Errors } = await session.s3.deleteKeys(bucket, keys);
      if (Errors?.length) {
        throw new CloudknotError(
          `S3 did not delete ${Errors.length} of ${keys.length} objects under ${g.id} ` +
            `(${Errors[0]!.Key}: ${Errors[0]!.Code}); run gc again`,
        );
      }
      return true;
    }
    default:
      throw new CloudknotInputError(`gc cannot delete a ${g.kind} with AWS`, { field: "kind" });
  }
}

/**
 * Removes one tag from its repository (the image goes only when no other tag
 * names it, as ECR does), and only while it names the image it named when
 * found; `false` when the tag (or its repository) was gone already.
 */
async function deleteImageTag(session: AwsSession, g: GarbageItem): Promise<boolean> {
  const colon = g.id.lastIndexOf(":");
  const [repositoryName, imageTag] = [g.id.slice(0, colon), g.id.slice(colon + 1)];
  return await deleteOneImage(
    session,
    repositoryName,
    { imageTag, ...defined({ imageDigest: g.digest }) },
    `tag ${g.id}`,
    {
      ImageTagDoesNotMatchDigest: `The tag ${g.id} was kept: it names another image than when ` +
        `gc looked (pushed again since); look again (findGarbage(), or cloudknot gc) to judge it anew`,
    },
  );
}

/**
 * Deletes an untagged image by its digest, once it has read it again and it
 * is still untagged: ECR deletes an image with every tag it has by digest, so
 * an image tagged since gc looked (pushed again) is kept, as failed; `false`
 * when the image (or its repository) was gone already.
 */
async function deleteUntaggedImage(session: AwsSession, g: GarbageItem): Promise<boolean> {
  const at = g.id.lastIndexOf("@");
  const [repositoryName, imageDigest] = [g.id.slice(0, at), g.id.slice(at + 1)];
  let tags: string[];
  try {
    const { imageDetails } = await session.ecr.describeImages({
      repositoryName,
      imageIds: [{ imageDigest }],
    });
    tags = imageDetails?.[0]?.imageTags ?? [];
  } catch (e) {
    if (isAwsCode(e, "RepositoryNotFoundException", "ImageNotFoundException")) return false;
    throw e;
  }
  if (tags.length > 0) {
    throw new CloudknotError(
      `The image ${g.id} was kept: it has gained the tag${tags.length === 1 ? "" : "s"} ` +
        `${tags.join(", ")} since gc looked (pushed again); look again (findGarbage(), or ` +
        `cloudknot gc) to judge it anew`,
    );
  }
  return await deleteOneImage(session, repositoryName, { imageDigest }, `image ${g.id}`, {
    ImageReferencedByManifestList: `The image ${g.id} was kept: a multi-platform image ` +
      `(manifest list) of the repository names it, and ECR deletes it with that image only; ` +
      `delete that image first if it is garbage`,
  });
}

/**
 * Deletes one image id (a tag, a digest) of a repository with ECR's
 * BatchDeleteImage: `true` when it went, `false` when it (or its repository)
 * was gone already; a failure whose code `known` names throws that message,
 * any other says what ECR said.
 */
async function deleteOneImage(
  session: AwsSession,
  repositoryName: string,
  imageId: { imageTag?: string; imageDigest?: string },
  what: string,
  known: Record<string, string>,
): Promise<boolean> {
  let failure;
  try {
    failure = (await session.ecr.batchDeleteImage({ repositoryName, imageIds: [imageId] }))
      .failures?.[0];
  } catch (e) {
    if (isAwsCode(e, "RepositoryNotFoundException")) return false;
    throw e;
  }
  if (failure === undefined) return true;
  if (failure.failureCode === "ImageNotFound") return false;
  const message = known[failure.failureCode ?? ""];
  if (message !== undefined) throw new CloudknotError(message);
  throw new CloudknotError(
    `ECR could not remove ${what}: ${failure.failureCode}: ` +
      `${
        failure.failureReason ?? "no reason given"
      }; look again (findGarbage(), or cloudknot gc) ` +
      "and delete what is left",
  );
}
