/**
 * {@linkcode Pars}, the "persistent AWS resource set" of the original: the
 * IAM roles and the network a knot's compute environment runs in, made
 * directly through IAM and EC2 (no CloudFormation), recorded in
 * `[pars <name>]` of the config file, adopted by name, and clobbered in
 * dependency order.
 *
 * @module
 */
import { Plan, type PlanStep } from "../plan/plan.ts";
import type { AwsSession } from "../aws/session.ts";
import { AwsConfigError } from "../aws/core/error.ts";
import type { IamTag, Role } from "../aws/services/iam.ts";
import type { SecurityGroup, Vpc } from "../aws/services/ec2.ts";
import { CloudknotInputError } from "../util/errors.ts";
import { validateOptionKeys, validateOptionType } from "../util/validate.ts";
import { SETTINGS_SESSION_OPTION_KEYS, settingsOf } from "./settings_keys.ts";
import type { StateFile } from "../state/state_file.ts";
import type { IniDocument } from "../util/ini.ts";
import { recordName, recordSection } from "../state/sections.ts";
import {
  getS3Params,
  sessionFromSettings,
  type SettingsOptions,
  type SettingsSessionOptions,
  settingsState,
} from "./settings.ts";
import {
  type InstanceTenancy,
  PARS_NAME_MAX,
  type ParsOptions,
  validateParsOptions,
  type ValidParsOptions,
} from "./pars_options.ts";
import { arnPartition, defaultBucketName } from "./bucket.ts";
import {
  CannotDeleteResourceError,
  ProfileMismatchError,
  ResourceClobberedError,
  ResourceDoesNotExistError,
} from "./errors.ts";
import {
  checkOurs,
  deleteInstanceProfile,
  deleteRole,
  ensureInstanceProfile,
  ensureRole,
  getInstanceProfile,
  getRole,
  isOurs,
  JOB_BUCKET_POLICY_NAME,
  jobBucketPolicy,
  MANAGED_BY_TAG,
  PARS_TAG_KEY,
  resolvePolicies,
  ROLE_KEYS,
  ROLE_SPECS,
  type RoleField,
  stripRole,
} from "./_iam_roles.ts";
import { Ledger } from "./_ledger.ts";
import {
  checkRecordedPars,
  completeSurvey,
  judgeParsOwners,
  keepRead,
  NOTHING_READ,
  type ParsNaming,
  type ParsRead,
  type ParsSurvey,
  roleName,
  surveyPars,
} from "./_pars_survey.ts";
import { originalRecord, OriginalResourceError } from "./original.ts";
import { configOwner, OWNER_TAG_KEY, ownerTag, readOwner } from "./owner.ts";
import { requireRecordRegion } from "./record_region.ts";
import {
  DEFAULT_IPV4_CIDR,
  deleteInternetGateway,
  deleteRouteTable,
  deleteWhenReleased,
  ensureNewVpc,
  ensureSecurityGroup,
  findDefaultVpc,
  parsVpcOf,
} from "./_network.ts";
import { showSummary } from "../util/summary.ts";
import {
  clobberingPars,
  knotsMakingWithPars,
  parsBeingClobbered,
  refuseWhileClobbering,
} from "./_pars_users.ts";

/** Options of {@linkcode Pars.clobber}. */
export interface ParsClobberOptions {
  /** Clobber even while knots in the config file still use this Pars. @default {false} */
  force?: boolean;
  /**
   * The first wait, in ms, before deleting a network resource again that a
   * compute environment deleted a moment ago still holds (EC2's
   * `DependencyViolation`); the waits double up to 30 s. @default {2000}
   */
  pollMs?: number;
  /** How long to go on trying to delete a network resource still in use, in ms. @default {900000} */
  timeoutMs?: number;
  /** Where waits are reported. @default {console.warn} */
  warn?: (message: string) => void;
  /**
   * The knot whose clobber deletes this Pars with it (`knot.clobber({ pars: true })`): its
   * record, which that clobber removes only once the Pars is gone (so that one stopped
   * part-way still says so, and clobbering the knot again finishes both), is not a knot that
   * uses the Pars. @default {undefined}
   */
  forKnot?: string;
}

const PARS_CLOBBER_OPTION_KEYS: Readonly<Record<keyof ParsClobberOptions, true>> = {
  force: true,
  pollMs: true,
  timeoutMs: true,
  warn: true,
  forKnot: true,
};

/** The keys of {@linkcode Pars.find}: the Pars' name, and where it is. */
const PARS_FIND_OPTION_KEYS: Readonly<Record<keyof SettingsSessionOptions | "name", true>> = {
  ...SETTINGS_SESSION_OPTION_KEYS,
  name: true,
};

/** The keys of {@linkcode Pars.remake}. */
const PARS_REMAKE_OPTION_KEYS: Readonly<
  Record<keyof typeof PARS_FIND_OPTION_KEYS | "warn", true>
> = {
  ...PARS_FIND_OPTION_KEYS,
  warn: true,
};

/** The keys of the static {@linkcode Pars.clobber}: those of `find` and the clobber's. */
const PARS_STATIC_CLOBBER_OPTION_KEYS: Readonly<
  Record<keyof typeof PARS_FIND_OPTION_KEYS | keyof ParsClobberOptions, true>
> = {
  ...PARS_FIND_OPTION_KEYS,
  ...PARS_CLOBBER_OPTION_KEYS,
};

/** Checks the clobber's options before anything is deleted: known keys, and `force` a boolean. */
function validateParsClobberOptions(
  options: ParsClobberOptions,
  known: Readonly<Record<string, true>>,
  where: string,
): void {
  validateOptionKeys(options, known, where);
  validateOptionType(options, "force", "boolean");
}

/**
 * What {@linkcode Pars.clobber} did with each resource the Pars' record says
 * it made (its {@linkcode Pars.created} list), as `kind:id`.
 */
export interface ParsClobbered {
  /** What it deleted, in the order the Pars made them. */
  deleted: string[];
  /**
   * What was gone already: deleted by a clobber that stopped part-way (a
   * killed process), or outside cloudknot.
   */
  gone: string[];
  /**
   * What it kept: a resource of that name exists again, but its tags say
   * another Pars or another config file made it (`cloudknot:pars`,
   * `cloudknot:owner`).
   */
  kept: string[];
}

/**
 * A `[pars <name>]` record of the config file, as {@linkcode parseParsRecord}
 * reads it: what a {@linkcode Pars} is made from, and what `pars list` shows.
 */
export interface ParsRecord {
  /** The name. */
  name: string;
  /** The region. */
  region: string;
  /** The profile it was made with. */
  profile: string;
  /** The Batch service role's ARN, or `""` for AWS Batch's service-linked role. */
  batchServiceRole: string;
  /** The ECS instance role's ARN. */
  ecsInstanceRole: string;
  /** The ECS instance profile's ARN. */
  ecsInstanceProfile: string;
  /** The spot fleet role's ARN. */
  spotFleetRole: string;
  /** The Fargate task-execution role's ARN. */
  taskExecutionRole: string;
  /** The job role's ARN. */
  jobRole: string;
  /** The VPC id. */
  vpc: string;
  /** The subnet ids. */
  subnets: string[];
  /** The security group id. */
  securityGroup: string;
  /** The bucket the job role may use. */
  bucket: string;
  /** The extra policy ARNs of the job role. */
  policies: string[];
  /**
   * Whether the VPC is the account's default VPC. A record without
   * `use-default-vpc` (an older or hand-edited one, or the Python
   * original's, which never writes it) uses the default VPC unless its
   * `created` lists a VPC of its own.
   */
  useDefaultVpc: boolean;
  /** The new VPC's block, for a Pars with a VPC of its own. */
  ipv4Cidr?: string;
  /** The new VPC's instance tenancy, for a Pars with a VPC of its own. */
  instanceTenancy?: InstanceTenancy;
  /** What the Pars made and clobber deletes, as `kind:id`, oldest first. */
  created: string[];
}

/**
 * What {@linkcode Pars.find} found of a Pars that is gone: its record in the
 * config file (a Pars clobbered with `force`, or a record removed by hand),
 * or some of its roles, instance profile or network (deleted outside
 * cloudknot).
 */
export interface ParsGone {
  /** The Pars' name. */
  name: string;
  /** The Pars' record, when the config file still has it. */
  record?: ParsRecord;
  /** `pars <name>` when its record is gone, otherwise the ARNs or ids of what is gone. */
  missing: string[];
}

/**
 * The default Pars name made from the STS caller ARN: its last part (a user
 * name, or an assumed role's session name), with every character the name
 * rules forbid turned into a hyphen, then `-default`, at most 45 characters.
 *
 * @example Usage
 * ```ts
 * import { defaultParsName } from "@cloudknot/cloudknot/resources";
 *
 * console.log(defaultParsName("arn:aws:sts::123456789012:assumed-role/Admin/jane.doe@example.com"));
 * // "jane-doe-example-com-default"
 * ```
 *
 * @param callerArn The caller's ARN.
 * @returns A valid Pars name.
 */
export function defaultParsName(callerArn: string | undefined): string {
  const last = callerArn?.split(":").pop()?.split("/").pop() ?? "";
  let base = last.replace(/[^a-zA-Z0-9-]+/g, "-").replace(/-+/g, "-").replace(/^[^a-zA-Z]+/, "");
  base = base.slice(0, PARS_NAME_MAX - "-default".length).replace(/-+$/, "");
  return `${base || "cloudknot"}-default`;
}

/** The key of a Pars' record that says when its clobber began. */
const CLOBBER_STARTED = "clobber-started";

function split(value: string | undefined, sep: RegExp): string[] {
  return (value ?? "").split(sep).map((s) => s.trim()).filter((s) => s);
}

/**
 * Reads a `[pars <name>]` section of the config file: the one reader of the
 * record, for {@linkcode Pars} and for `pars list`.
 *
 * @example Usage
 * ```ts
 * import { parseParsRecord } from "@cloudknot/cloudknot/resources";
 *
 * const keys = new Map([["vpc", "vpc-1"], ["created", "vpc:vpc-1 subnet:subnet-1"]]);
 * console.log(parseParsRecord("lab", keys).useDefaultVpc); // false: it made its own VPC
 * ```
 *
 * @param name The Pars' name.
 * @param keys The section's keys.
 * @returns The record.
 */
export function parseParsRecord(name: string, keys: Map<string, string>): ParsRecord {
  const get = (k: string) => keys.get(k) ?? "";
  const created = split(keys.get("created"), /\s+/);
  const stored = keys.get("use-default-vpc");
  const tenancy = keys.get("instance-tenancy");
  return {
    name,
    region: get("region"),
    profile: get("profile"),
    batchServiceRole: get(ROLE_KEYS.batchServiceRole),
    ecsInstanceRole: get(ROLE_KEYS.ecsInstanceRole),
    ecsInstanceProfile: get(ROLE_KEYS.ecsInstanceProfile),
    spotFleetRole: get(ROLE_KEYS.spotFleetRole),
    taskExecutionRole: get(ROLE_KEYS.taskExecutionRole),
    jobRole: get(ROLE_KEYS.jobRole),
    vpc: get("vpc"),
    subnets: split(keys.get("subnets"), /,/),
    securityGroup: get("security-group"),
    bucket: get("bucket"),
    policies: split(keys.get("policies"), /,/),
    useDefaultVpc: stored === undefined
      ? !created.some((o) => o.startsWith("vpc:"))
      : stored.toLowerCase() === "true",
    ...(keys.get("ipv4-cidr") ? { ipv4Cidr: get("ipv4-cidr") } : {}),
    ...(tenancy === "default" || tenancy === "dedicated" ? { instanceTenancy: tenancy } : {}),
    created,
  };
}

function toSection(r: ParsRecord): Map<string, string> {
  const keys = new Map<string, string>([
    ["region", r.region],
    ["profile", r.profile],
    ...Object.entries(ROLE_KEYS).map((
      [field, key],
    ): [string, string] => [key, r[field as RoleField]]),
    ["vpc", r.vpc],
    ["subnets", r.subnets.join(",")],
    ["security-group", r.securityGroup],
    ["bucket", r.bucket],
    ["policies", r.policies.join(",")],
    ["use-default-vpc", String(r.useDefaultVpc)],
  ]);
  if (r.ipv4Cidr) keys.set("ipv4-cidr", r.ipv4Cidr);
  if (r.instanceTenancy) keys.set("instance-tenancy", r.instanceTenancy);
  keys.set("created", r.created.join(" "));
  return keys;
}

/** The knots of a config file, by the Pars each uses, in the file's order. */
function knotsByPars(doc: IniDocument): Map<string, string[]> {
  const users = new Map<string, string[]>();
  for (const [section, keys] of doc) {
    const knot = recordName("knot", section);
    const pars = keys.get("pars");
    if (knot !== undefined && pars) users.set(pars, [...users.get(pars) ?? [], knot]);
  }
  return users;
}

/** A `[pars <name>]` record with what else the config file says of it. */
export interface ParsListing extends ParsRecord {
  /** The knots of the config file that use it, sorted. */
  knots: string[];
  /** The CloudFormation stack of a Pars the Python cloudknot made; `null` for one made here. */
  stack: string | null;
  /** The role ARNs the record has, by config key (`batch-service-role`, `job-role`, …). */
  roles: Record<string, string>;
  /**
   * When a clobber of the Pars began (key `clobber-started`), in ms since the
   * epoch: the record of a Pars whose clobber has not finished (it stopped
   * part-way, or still runs). A Pars made again drops it.
   */
  clobberStartedAt?: number;
  /** Whether that clobber still runs (a live process holds its mark); with `clobberStartedAt` only. */
  clobberRunning?: boolean;
}

/**
 * Reads every `[pars <name>]` of the config file (the Python original's
 * too), each with the knots that use it.
 *
 * @example Usage
 * ```ts ignore
 * import { readParsRecords } from "@cloudknot/cloudknot/resources";
 * import { StateFile } from "@cloudknot/cloudknot/state";
 *
 * for (const pars of await readParsRecords(new StateFile())) console.log(pars.name, pars.knots);
 * ```
 *
 * @param state The config file.
 * @returns The records, sorted by name.
 */
export async function readParsRecords(state: StateFile): Promise<ParsListing[]> {
  const doc = await state.read();
  const users = knotsByPars(doc);
  const clobbering = await parsBeingClobbered(state);
  const out: ParsListing[] = [];
  for (const [section, keys] of doc) {
    const name = recordName("pars", section);
    if (name === undefined) continue;
    const record = parseParsRecord(name, keys);
    const clobberStartedAt = Date.parse(keys.get(CLOBBER_STARTED) ?? "");
    out.push({
      ...(Number.isNaN(clobberStartedAt)
        ? {}
        : { clobberStartedAt, clobberRunning: clobbering.has(name) }),
      ...record,
      knots: [...users.get(name) ?? []].sort(),
      stack: originalRecord("pars", name, keys)?.stackName ?? null,
      roles: Object.fromEntries(
        Object.entries(ROLE_KEYS).flatMap(([field, key]) => {
          const arn = record[field as RoleField];
          return arn ? [[key, arn]] : [];
        }),
      ),
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The persistent AWS resources a knot runs with: an ECS instance role with
 * its instance profile, a spot fleet role, a Fargate
 * task-execution role, a job role limited to the bucket's `cloudknot/` prefix
 * (plus the user's `policies`), a VPC with subnets (the default VPC, or one
 * of its own), and a security group with no inbound rules. Its compute
 * environments use AWS Batch's service-linked role, unless it has a Batch
 * service role of its own (`customServiceRole`).
 *
 * Everything cloudknot makes is tagged `ManagedBy=cloudknot`,
 * `cloudknot:pars=<name>` and `cloudknot:owner=<the config file's owner id>`
 * (what `gc` judges by); only resources with these tags are adopted or
 * deleted, so the default VPC and resources of the same name made by someone
 * else are never touched, and a Pars of a name another config file on the
 * account made (its owner tag) is refused.
 *
 * `console.log` and a Jupyter notebook show it as a short summary: its name,
 * region, network, bucket and roles.
 *
 * @example Usage
 * ```ts ignore
 * import { Pars } from "@cloudknot/cloudknot";
 *
 * const pars = await Pars.create({ name: "lab", policies: ["AmazonS3ReadOnlyAccess"] });
 * console.log(pars.jobRole, pars.subnets, pars.securityGroup);
 * const again = await Pars.create({ name: "lab" }); // adopts it from the config file
 * await again.clobber();
 * ```
 */
export class Pars {
  /** The name. */
  readonly name: string;
  /** The region the resources live in. */
  readonly region: string;
  /** The AWS profile they were made with. */
  readonly profile: string;
  /**
   * The ARN of the Pars' own Batch service role, or `""` when its compute
   * environments use AWS Batch's service-linked role (the default).
   */
  readonly batchServiceRole: string;
  /** The ECS instance role's ARN. */
  readonly ecsInstanceRole: string;
  /** The ECS instance profile's ARN (for EC2 and SPOT compute environments). */
  readonly ecsInstanceProfile: string;
  /** The spot fleet role's ARN. */
  readonly spotFleetRole: string;
  /** The Fargate task-execution role's ARN. */
  readonly taskExecutionRole: string;
  /** The job role's ARN. */
  readonly jobRole: string;
  /** The VPC id. */
  readonly vpc: string;
  /** The subnet ids. */
  readonly subnets: readonly string[];
  /** The security group id. */
  readonly securityGroup: string;
  /** The bucket the job role may use under `cloudknot/`. */
  readonly bucket: string;
  /** The extra policy ARNs attached to the job role. */
  readonly policies: readonly string[];
  /** Whether the network is the account's default VPC. */
  readonly useDefaultVpc: boolean;
  #owned: string[];
  #session: AwsSession;
  #state: StateFile;
  #clobbered = false;

  private constructor(record: ParsRecord, session: AwsSession, state: StateFile) {
    this.name = record.name;
    this.region = record.region;
    this.profile = record.profile;
    this.batchServiceRole = record.batchServiceRole;
    this.ecsInstanceRole = record.ecsInstanceRole;
    this.ecsInstanceProfile = record.ecsInstanceProfile;
    this.spotFleetRole = record.spotFleetRole;
    this.taskExecutionRole = record.taskExecutionRole;
    this.jobRole = record.jobRole;
    this.vpc = record.vpc;
    this.subnets = Object.freeze([...record.subnets]);
    this.securityGroup = record.securityGroup;
    this.bucket = record.bucket;
    this.policies = Object.freeze([...record.policies]);
    this.useDefaultVpc = record.useDefaultVpc;
    this.#owned = [...record.created];
    this.#session = session;
    this.#state = state;
  }

  /**
   * Makes the Pars, or adopts it when the config file has `[pars <name>]`.
   *
   * Every option is checked before any AWS call. Making adopts what exists
   * with cloudknot's tags and makes the rest; if a step fails, what this
   * call made is deleted again, newest first, and the error is rethrown.
   * Adopting checks that the region and profile are the current ones, that
   * every explicitly passed option matches the stored one, and that the
   * resources still exist. A Pars partly gone (deleted outside cloudknot, or
   * a clobber that stopped part-way) is made whole again in this call, as
   * {@linkcode Pars.remake} does: what is missing is made as its record says
   * (bucket, policies, network, service role), and the record is kept and
   * written again; the config file is checked to be writable, and what
   * exists to be no other config file's, before anything is made.
   *
   * @example Usage
   * ```ts ignore
   * import { Pars } from "@cloudknot/cloudknot";
   *
   * const pars = await Pars.create({ name: "lab", useDefaultVpc: false, ipv4Cidr: "10.1.0.0/16" });
   * ```
   *
   * @param options The name, policies, network, tags, session and config file.
   * @returns The Pars.
   * @throws {CloudknotInputError} For a bad option, an unknown policy, an option that differs from the stored Pars, or a Pars of that name another config file on the account made (field `name`).
   * @throws {RegionMismatchError} When the stored Pars is in another region.
   * @throws {CloudknotError} When its record has no region.
   * @throws {ProfileMismatchError} When the stored Pars was made with another profile.
   * @throws {OriginalResourceError} When the stored Pars is the Python cloudknot's (a CloudFormation stack).
   * @throws {ResourceConflictError} When a resource of the wanted name exists but is not cloudknot's.
   * @throws {NoDefaultVpcError} When the default VPC is asked for and there is none.
   * @throws {CannotCreateResourceError} While another process clobbers the Pars.
   */
  static async create(options: ParsOptions = {}): Promise<Pars> {
    const input = validateParsOptions(options);
    const state = settingsState(options);
    const settings: SettingsOptions = { ...settingsOf(options), state };
    const session = options.session ?? await sessionFromSettings(settings);
    let name = input.name;
    let caller;
    if (name === undefined) {
      caller = await session.sts.getCallerIdentity();
      name = defaultParsName(caller.Arn);
    }
    // A Pars another call is clobbering is neither adopted nor made meanwhile.
    await refuseWhileClobbering(state, name, "it was not opened, and nothing was changed");
    const stored = await state.section(recordSection("pars", name));
    const original = stored && originalRecord("pars", name, stored);
    if (original) throw new OriginalResourceError(original);
    if (stored) return await Pars.#adopt(parseParsRecord(name, stored), input, session, state);
    caller ??= await session.sts.getCallerIdentity();
    let bucket = input.bucket ?? (await getS3Params(settings)).bucket;
    if (bucket === undefined) {
      if (!caller.Account) {
        throw new AwsConfigError(
          `STS GetCallerIdentity returned no account id, so the default bucket name cannot be ` +
            `made; pass bucket, or set one with setS3Params({ bucket: "..." })`,
          { setting: "credentials" },
        );
      }
      bucket = defaultBucketName(caller.Account, session.region);
    }
    // A config file the record cannot be written to is refused before anything is made.
    await state.assertWritable();
    // Another config file's Pars of this name is neither adopted nor made again.
    // What exists of it is read once: judged here, adopted or made by #make.
    const seen = await refuseOtherOwnersPars(session, state, name, {
      call: 'Pars.create({ name: "NAME" })',
      isDefault: input.name === undefined,
    });
    // Marked as being made until its record is written: gc keeps what it made
    // so far, and another process making it too waits, then adopts it.
    const made = name;
    let waited = false;
    return await state.whileMaking(recordSection("pars", made), async () => {
      const now = await state.section(recordSection("pars", made));
      // Its mark is held: a heal of what is gone of it makes it without taking the mark again.
      if (now) return await Pars.#adopt(parseParsRecord(made, now), input, session, state, true);
      // Another process that made it and failed has undone what it made since the read.
      const fresh = waited ? await surveyPars(session, made) : seen;
      return await Pars.#make(
        made,
        input,
        { bucket, callerArn: caller.Arn },
        session,
        state,
        fresh,
      );
    }, () => {
      waited = true;
      console.warn(
        `cloudknot: Pars ${made} is being made by another process with this config file ` +
          `(${state.path}); waiting for it to finish, then this one uses it`,
      );
    });
  }

  /**
   * Reads the Pars of that name and changes nothing: the Pars when its
   * record is in the config file and its resources exist, otherwise what is
   * gone. Where {@linkcode Pars.create} would make a Pars whose record is
   * gone, and make again what is gone of one whose record is there, this
   * only reads; a knot that uses the Pars is opened this way.
   *
   * @example Usage
   * ```ts ignore
   * import { Pars } from "@cloudknot/cloudknot";
   *
   * const found = await Pars.find({ name: "lab" });
   * if (!(found instanceof Pars)) console.log(`Pars lab is gone: ${found.missing.join(", ")}`);
   * ```
   *
   * @param options The Pars' name, and the session and config file.
   * @returns The Pars, or what is gone of it.
   * @throws {RegionMismatchError} When the stored Pars is in another region.
   * @throws {ProfileMismatchError} When the stored Pars was made with another profile.
   * @throws {OriginalResourceError} When the stored Pars is the Python cloudknot's.
   */
  static async find(
    options: SettingsOptions & { name: string; session?: AwsSession },
  ): Promise<Pars | ParsGone> {
    validateOptionKeys(options, PARS_FIND_OPTION_KEYS, "Pars.find()");
    const state = settingsState(options);
    const session = options.session ?? await sessionFromSettings({ ...settingsOf(options), state });
    const { name } = options;
    const section = recordSection("pars", name);
    const stored = await state.section(section);
    if (stored === undefined) return { name, missing: [section] };
    const record = storedHere(name, stored, session, state.path);
    const { missing, read } = await checkRecordedPars(session, record);
    // What was read stays with what is gone: a knot's heal judges the Pars from it.
    return missing.length > 0
      ? keepRead({ name, record, missing }, read)
      : new Pars(record, session, state);
  }

  /**
   * Makes again a Pars whose record is in the config file but some of whose
   * resources are gone (deleted outside cloudknot, or by a clobber with
   * `force` that stopped part-way), as its record says: the same name,
   * bucket, policies, network and service role. What still exists with
   * cloudknot's tags is adopted, the rest is made, and the record is
   * written again, as {@linkcode Pars.create} of a recorded Pars partly gone
   * does; this takes only the name, so it needs no options to agree with
   * the record, and a knot that uses the Pars heals it this way. When
   * another config file made a Pars of that name since, it refuses before
   * changing anything, saying to clobber this file's record of it. Two heals
   * of one Pars with one config file (two knots that use it, healed at once)
   * take turns, as two creates do: the second says so through `warn`, waits,
   * then reads the Pars again and adopts what the first made, or makes what
   * is still gone.
   *
   * @example Usage
   * ```ts ignore
   * import { Pars } from "@cloudknot/cloudknot";
   *
   * const pars = await Pars.remake({ name: "lab" });
   * ```
   *
   * @param options The Pars' name, the session and config file, and where to say that it
   *   waits for another process healing the Pars (default: `console.warn`).
   * @returns The Pars, whole.
   * @throws {ResourceDoesNotExistError} When the config file has no record of the Pars (also
   *   when another process clobbered it while this one waited).
   * @throws {RegionMismatchError} When the stored Pars is in another region.
   * @throws {ProfileMismatchError} When the stored Pars was made with another profile.
   * @throws {OriginalResourceError} When the stored Pars is the Python cloudknot's.
   * @throws {CloudknotInputError} When another config file made a Pars of that name since.
   */
  static async remake(
    options: SettingsOptions & {
      name: string;
      session?: AwsSession;
      warn?: (message: string) => void;
    },
  ): Promise<Pars> {
    validateOptionKeys(options, PARS_REMAKE_OPTION_KEYS, "Pars.remake()");
    const { name } = options;
    const { state, session, record } = await Pars.#stored(
      options,
      `: create it with Pars.create({ name: "${name}" })`,
    );
    return await Pars.#heal(record, {}, session, state, NOTHING_READ, options.warn);
  }

  /**
   * What {@linkcode Pars.create} would do with these options, found out with
   * read-only requests: each role, the instance profile, the VPC, subnets
   * and security group, created or adopted, and the record. Nothing is
   * changed. Every option is checked first, as `create` does.
   *
   * @example Usage
   * ```ts ignore
   * import { Pars } from "@cloudknot/cloudknot";
   *
   * const plan = await Pars.plan({ name: "lab" });
   * console.log(String(plan));
   * ```
   *
   * @param options The same options as `create`.
   * @returns The plan.
   * @throws {CloudknotInputError} As `create` does, also for a Pars of that name another config file on the account made.
   */
  static async plan(options: ParsOptions = {}): Promise<Plan> {
    const input = validateParsOptions(options);
    const state = settingsState(options);
    const session = options.session ?? await sessionFromSettings({ ...settingsOf(options), state });
    const name = input.name ?? defaultParsName((await session.sts.getCallerIdentity()).Arn);
    const title = `Pars ${name} in ${session.region}`;
    const stored = await state.section(recordSection("pars", name));
    if (stored) {
      const record = parseParsRecord(name, stored);
      return new Plan({
        title,
        steps: [{
          action: "adopt",
          kind: "Pars",
          name,
          details: {
            "job role": record.jobRole,
            vpc: record.vpc,
            "security group": record.securityGroup,
          },
        }],
      });
    }
    const seen = await refuseOtherOwnersPars(session, state, name, {
      call: 'Pars.create({ name: "NAME" })',
      isDefault: input.name === undefined,
    });
    const found = await survey(name, input, session, seen);
    const steps: PlanStep[] = found.specs.map((spec) => ({
      action: found.roles.get(spec.key) ? "adopt" : "create",
      kind: "IAM role",
      name: name + spec.suffix,
      details: { for: spec.description },
    }));
    steps.push({
      action: found.profile ? "adopt" : "create",
      kind: "IAM instance profile",
      name: found.profileName,
    });
    steps.push(
      found.defaultNetwork
        ? {
          action: "adopt",
          kind: "VPC",
          name: found.defaultNetwork.vpc,
          details: { default: true, subnets: found.defaultNetwork.subnets },
        }
        : {
          action: found.ownVpc ? "adopt" : "create",
          kind: "VPC",
          name: found.ownVpc?.VpcId ?? `${name} (new)`,
          details: { cidr: found.cidr, tenancy: found.tenancy, subnets: 2 },
        },
    );
    steps.push({
      action: found.group ? "adopt" : "create",
      kind: "security group",
      name: found.group?.GroupId ?? found.groupName,
    });
    steps.push({ action: "write", kind: "config record", name: recordSection("pars", name) });
    return new Plan({ title, steps });
  }

  /**
   * Makes again what is gone of a recorded Pars, as its record says (name,
   * bucket, policies, network, service role), adopting what still exists,
   * and writes its record again. The config file is checked to be writable,
   * and the Pars' resources not another config file's, before anything is
   * made; the record is never removed. What exists is surveyed once, taking
   * what was `read` of it already.
   *
   * Marked as the Pars being made, the mark `Pars.create` holds: another
   * heal of it with this config file (a knot sharing it, healed at once)
   * waits, then reads the record and the Pars' resources again and adopts
   * what this one made instead of making it again (a VPC of its own has no
   * unique name, so it would be made twice). A call that holds the mark
   * already (`Pars.create`, once it waited) passes `marked`.
   */
  static async #heal(
    record: ParsRecord,
    tags: Record<string, string>,
    session: AwsSession,
    state: StateFile,
    read: ParsRead,
    warn: ((message: string) => void) | undefined,
    marked = false,
  ): Promise<Pars> {
    if (marked) return await Pars.#healNow(record, tags, session, state, read);
    const { name } = record;
    const section = recordSection("pars", name);
    let waited = false;
    return await state.whileMaking(section, async () => {
      if (!waited) return await Pars.#healNow(record, tags, session, state, read);
      // What the other process left: read again, only now.
      const now = await state.section(section);
      if (now === undefined) {
        throw new ResourceDoesNotExistError(
          `Pars "${name}" was clobbered by another process with this config file ` +
            `(${state.path}) while this one waited to make it again, and nothing was changed: ` +
            `create it again with Pars.create({ name: "${name}" })`,
          { missing: [section] },
        );
      }
      const again = storedHere(name, now, session, state.path);
      const checked = await checkRecordedPars(session, again);
      if (checked.missing.length === 0) return new Pars(again, session, state);
      return await Pars.#healNow(again, tags, session, state, checked.read);
    }, () => {
      waited = true;
      (warn ?? console.warn)(
        `cloudknot: Pars ${name} is being made again by another process with this config ` +
          `file (${state.path}); waiting for it to finish, then this one looks at it again`,
      );
    });
  }

  /** {@linkcode Pars.#heal}, once it holds the Pars' mark. */
  static async #healNow(
    record: ParsRecord,
    tags: Record<string, string>,
    session: AwsSession,
    state: StateFile,
    read: ParsRead,
  ): Promise<Pars> {
    const { name } = record;
    const input: ValidParsOptions = {
      name,
      tags,
      policies: [...record.policies],
      useDefaultVpc: record.useDefaultVpc,
      customServiceRole: record.batchServiceRole !== "",
      ...(record.ipv4Cidr !== undefined ? { ipv4Cidr: record.ipv4Cidr } : {}),
      ...(record.instanceTenancy !== undefined ? { instanceTenancy: record.instanceTenancy } : {}),
    };
    await state.assertWritable();
    // The record names the Pars: it is made again under that name or not at all.
    const seen = await completeSurvey(session, name, read);
    await judgeParsOwners(state, name, seen, {
      choose: `Pars ${name} is made again only under its name, as its record in ${state.path} ` +
        `says: clobber this file's record of it with Pars.clobber({ name: "${name}" }) (what ` +
        `the other file made is kept; clobber the knots that use it first) and make a Pars of ` +
        `another name, as Pars.create({ name: "NAME" })`,
    });
    const caller = await session.sts.getCallerIdentity();
    return await Pars.#make(
      name,
      input,
      { bucket: record.bucket, callerArn: caller.Arn },
      session,
      state,
      seen,
    );
  }

  static async #adopt(
    record: ParsRecord,
    input: ValidParsOptions,
    session: AwsSession,
    state: StateFile,
    marked = false,
  ): Promise<Pars> {
    checkHere(record, session, state.path);
    checkSame(record, input);

    // Partly gone (deleted outside cloudknot, or a clobber that stopped part-way): made whole.
    const { missing, read } = await checkRecordedPars(session, record);
    if (missing.length > 0) {
      return await Pars.#heal(record, input.tags, session, state, read, undefined, marked);
    }
    return new Pars(record, session, state);
  }

  static async #make(
    name: string,
    input: ValidParsOptions,
    context: { bucket: string; callerArn: string | undefined },
    session: AwsSession,
    state: StateFile,
    seen: ParsSurvey,
  ): Promise<Pars> {
    const { iam, ec2 } = session;
    const partition = arnPartition(context.callerArn);
    // Everything that only reads: policies, the network; the roles as the refusal read them.
    const surveyed = await survey(name, input, session, seen);
    const { specs, roles, profile, group } = surveyed;
    const iamTags: IamTag[] = [
      MANAGED_BY_TAG,
      { Key: PARS_TAG_KEY, Value: name },
      { Key: OWNER_TAG_KEY, Value: await configOwner(state) },
      ...(context.callerArn ? [{ Key: "Owner", Value: context.callerArn }] : []),
      ...Object.entries(input.tags).map(([Key, Value]) => ({ Key, Value })),
    ];

    // Make what is missing; undo it all if a step fails.
    const ledger = new Ledger();
    const owned: string[] = [];
    try {
      const arns: Record<string, string> = {};
      for (const spec of specs) {
        const isJob = spec.key === "job-role";
        const found = await ensureRole(iam, {
          name: name + spec.suffix,
          pars: name,
          spec,
          policyArns: [
            ...spec.managed.map((p) => `arn:${partition}:iam::aws:policy/${p}`),
            ...(isJob ? surveyed.policyArns : []),
          ],
          ...(isJob
            ? {
              inline: [
                JOB_BUCKET_POLICY_NAME,
                jobBucketPolicy(context.bucket, partition),
              ] as [string, string],
            }
            : {}),
          tags: iamTags,
          existing: roles.get(spec.key),
          ledger,
        });
        arns[spec.key] = found.value.Arn;
        owned.push(`role:${found.value.RoleName}`);
      }
      const instanceProfile = await ensureInstanceProfile(iam, {
        name: surveyed.profileName,
        role: name + "-ecs-instance-role",
        pars: name,
        tags: iamTags,
        existing: profile,
        ledger,
      });
      owned.push(`instance-profile:${surveyed.profileName}`);

      let vpc: string;
      let subnets: string[];
      if (surveyed.defaultNetwork) {
        ({ vpc, subnets } = surveyed.defaultNetwork);
      } else {
        const made = await ensureNewVpc(ec2, session.region, {
          pars: name,
          cidr: surveyed.cidr,
          tenancy: surveyed.tenancy,
          existing: surveyed.ownVpc,
          tags: iamTags,
          ledger,
        });
        ({ vpc, subnets } = made);
        owned.push(...made.owned);
      }
      const sg = await ensureSecurityGroup(ec2, {
        pars: name,
        vpc,
        name: surveyed.groupName,
        existing: group,
        tags: iamTags,
        ledger,
      });
      owned.push(`security-group:${sg.value}`);

      const record: ParsRecord = {
        name,
        region: session.region,
        profile: session.profile,
        batchServiceRole: arns["batch-service-role"] ?? "",
        ecsInstanceRole: arns["ecs-instance-role"]!,
        ecsInstanceProfile: instanceProfile.value.Arn,
        spotFleetRole: arns["spot-fleet-role"]!,
        taskExecutionRole: arns["task-execution-role"]!,
        jobRole: arns["job-role"]!,
        vpc,
        subnets,
        securityGroup: sg.value,
        bucket: context.bucket,
        policies: surveyed.policyArns,
        useDefaultVpc: surveyed.useDefaultVpc,
        ...(surveyed.useDefaultVpc
          ? {}
          : { ipv4Cidr: surveyed.cidr, instanceTenancy: surveyed.tenancy }),
        created: owned,
      };
      await state.update((doc) => {
        doc.set(recordSection("pars", name), toSection(record));
      });
      return new Pars(record, session, state);
    } catch (error) {
      const failed = await ledger.rollback();
      if (failed.length > 0) {
        console.warn(
          `cloudknot: Pars "${name}" failed and these could not be deleted again; delete them ` +
            `by hand: ${failed.join("; ")}`,
        );
      }
      throw error;
    }
  }

  /**
   * Whether {@linkcode Pars.clobber} has run.
   *
   * @example Usage
   * ```ts ignore
   * await pars.clobber();
   * console.log(pars.clobbered); // true
   * ```
   *
   * @returns `true` once clobbered.
   */
  get clobbered(): boolean {
    return this.#clobbered;
  }

  /**
   * The `[pars <name>]` section name of this Pars.
   *
   * @example Usage
   * ```ts ignore
   * console.log(pars.parsName); // "pars lab"
   * ```
   *
   * @returns The section name.
   */
  get parsName(): string {
    return recordSection("pars", this.name);
  }

  /**
   * What this Pars made and will delete on clobber, as `kind:id` (roles,
   * instance profile, security group, and a VPC of its own with its
   * subnets, gateway and route table; never the default VPC).
   *
   * @example Usage
   * ```ts ignore
   * console.log(pars.created); // ["role:lab-batch-service-role", …, "security-group:sg-…"]
   * ```
   *
   * @returns The resources, in the order they were made.
   */
  get created(): readonly string[] {
    return [...this.#owned];
  }

  static {
    showSummary(Pars, (pars) => [`Pars ${pars.name}${pars.#clobbered ? " (clobbered)" : ""}`, [
      ["region", pars.region],
      ["profile", pars.profile],
      ["VPC", `${pars.vpc}${pars.useDefaultVpc ? " (default)" : ""}`],
      ["subnets", pars.subnets.join(", ")],
      ["security group", pars.securityGroup],
      ["bucket", pars.bucket],
      ["job role", pars.jobRole],
      ["policies", pars.policies.length > 0 ? pars.policies.join(", ") : undefined],
    ]]);
  }

  /**
   * Clobbers the Pars of that name from its record in the config file,
   * whether its resources are all there or partly gone: what a clobber
   * killed part-way (or a hand outside cloudknot) left of it is deleted, as
   * {@linkcode Pars.prototype.clobber} says, and its record removed. Where
   * {@linkcode Pars.create} would make again what is gone of a Pars partly
   * gone, this finishes the clobber. Nothing is
   * made.
   *
   * @example Usage
   * ```ts ignore
   * import { Pars } from "@cloudknot/cloudknot";
   *
   * const { deleted, gone } = await Pars.clobber({ name: "lab" });
   * console.log(`deleted ${deleted.length}; ${gone.length} were gone already`);
   * ```
   *
   * @param options The Pars' name, the session and config file, and the clobber's options.
   * @returns What was deleted, what was gone already and what was kept.
   * @throws {ResourceDoesNotExistError} When the config file has no record of the Pars.
   * @throws {RegionMismatchError} When the stored Pars is in another region.
   * @throws {ProfileMismatchError} When the stored Pars was made with another profile.
   * @throws {OriginalResourceError} When the stored Pars is the Python cloudknot's.
   * @throws {CannotDeleteResourceError} As {@linkcode Pars.prototype.clobber}.
   */
  static async clobber(
    options: SettingsOptions & ParsClobberOptions & { name: string; session?: AwsSession },
  ): Promise<ParsClobbered> {
    validateParsClobberOptions(options, PARS_STATIC_CLOBBER_OPTION_KEYS, "Pars.clobber()");
    const { state, session, record } = await Pars.#stored(
      options,
      ", so there is nothing to clobber; findGarbage() lists what it may have left",
    );
    return await new Pars(record, session, state).#clobberChecked(options);
  }

  /**
   * The config file, session and record of the Pars `options.name`, read
   * and checked to be of this region and profile.
   *
   * @param ending What the error says after "has no record of Pars …" when there is none.
   * @throws {ResourceDoesNotExistError} When the config file has no record of the Pars.
   */
  static async #stored(
    options: SettingsOptions & { name: string; session?: AwsSession },
    ending: string,
  ): Promise<{ state: StateFile; session: AwsSession; record: ParsRecord }> {
    const state = settingsState(options);
    const session = options.session ?? await sessionFromSettings({ ...settingsOf(options), state });
    const section = recordSection("pars", options.name);
    const stored = await state.section(section);
    if (stored === undefined) {
      throw new ResourceDoesNotExistError(
        `The config file ${state.path} has no record of Pars "${options.name}"${ending}`,
        { missing: [section] },
      );
    }
    return { state, session, record: storedHere(options.name, stored, session, state.path) };
  }

  /**
   * Deletes what this Pars made, in dependency order: role policies, the
   * role's instance profile membership, the instance profile, the roles, the
   * security group, then (for a VPC of its own) route table associations and
   * route table, internet gateway, subnets and VPC. Then removes
   * `[pars <name>]` from the config file. A second call does nothing.
   *
   * Each resource of its `created` list is looked up first. What is gone
   * already (a clobber that stopped part-way, or a hand outside cloudknot) is
   * passed by, and said through `warn`. A resource of that name that exists
   * again but whose tags say another Pars or another config file made it
   * (`cloudknot:pars`, `cloudknot:owner`; one without an owner tag counts as
   * this file's) is kept, and said through `warn`. A network resource that a
   * compute environment deleted a moment ago still holds is deleted again
   * with backoff until AWS releases it (for up to `timeoutMs`), with a
   * warning.
   *
   * @example Usage
   * ```ts ignore
   * const { deleted, gone } = await pars.clobber({ force: true });
   * ```
   *
   * @param options `force` clobbers even while knots use this Pars; how to wait for the network.
   * @returns What was deleted, what was gone already and what was kept (all empty on a second call).
   * @throws {CannotDeleteResourceError} While a `[knot *]` section names this Pars, unless
   *   forced, or when a network resource is still in use after `timeoutMs`.
   */
  async clobber(options: ParsClobberOptions = {}): Promise<ParsClobbered> {
    validateParsClobberOptions(options, PARS_CLOBBER_OPTION_KEYS, "pars.clobber()");
    return await this.#clobberChecked(options);
  }

  async #clobberChecked(options: ParsClobberOptions): Promise<ParsClobbered> {
    if (this.#clobbered) return { deleted: [], gone: [], kept: [] };
    // Marked while it runs, from before it looks for knots being made: a
    // knot create that starts meanwhile sees the mark and refuses (_pars_users.ts).
    return await clobberingPars(
      this.#state,
      this.name,
      () => this.#clobber(options),
      () =>
        (options.warn ?? console.warn)(
          `cloudknot: Pars ${this.name} is being clobbered by another process with this ` +
            `config file (${this.#state.path}); waiting for it to finish`,
        ),
    );
  }

  async #clobber(options: ParsClobberOptions): Promise<ParsClobbered> {
    // A knot being made has no record yet, and would be left half made with
    // roles and network deleted under it, so even `force` refuses: its maker
    // cannot be told how to heal. Refusing at once, rather than waiting for it
    // (an image build and a compute environment can take many minutes), leaves
    // the choice to the user, and the knot, once made, is refused below anyway.
    const being = await knotsMakingWithPars(this.#state, this.name);
    if (being.length > 0) {
      throw new CannotDeleteResourceError(
        `Pars "${this.name}" is used by knot ${being.join(", ")}, which another process is ` +
          `making with this config file (${this.#state.path}); wait until it is made, ` +
          `then clobber the knot first, or pass { force: true } to clobber the Pars once it is ` +
          `made (force does not reach a knot being made)`,
        { users: being.map((k) => recordSection("knot", k)) },
      );
    }
    const doc = await this.#state.read();
    const knots = (knotsByPars(doc).get(this.name) ?? []).filter((k) => k !== options.forKnot);
    if (knots.length > 0 && !options.force) {
      throw new CannotDeleteResourceError(
        `Pars "${this.name}" is used by knot(s) ${knots.join(", ")}; clobber them first, or ` +
          `pass { force: true } to delete it anyway`,
        { users: knots.map((k) => recordSection("knot", k)) },
      );
    }
    // Forced: each knot keeps its record and runs, and is told how to heal.
    for (const knot of knots) {
      (options.warn ?? console.warn)(
        `cloudknot: Pars ${this.name} is clobbered while knot ${knot} uses it, so knot ${knot}'s ` +
          `job queue and compute environment, which hold the Pars' network, are deleted, and ` +
          `knot ${knot} now uses a Pars that is gone: its runs can still be read; to run it again, ` +
          `Knot.create({ name: "${knot}", func }) (or module and exportName) and the knot's ` +
          `options make Pars ${this.name} again and keep its runs; to be done with it, clobber ` +
          `the knot: that deletes what is left of it`,
      );
    }
    const wait = {
      ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      onWait: options.warn ?? console.warn,
    };
    // Noted in the record before anything is deleted, so that `pars list` tells a Pars whose
    // clobber stopped part-way (the record goes once the clobber ends).
    await this.#state.update((doc) => {
      doc.get(recordSection("pars", this.name))?.set(CLOBBER_STARTED, new Date().toISOString());
    });
    // Forced: a knot's compute environment holds the Pars' security group and
    // subnets while its instances live, so EC2 would refuse to delete them
    // (until the timeout, with the roles already gone and the record kept).
    // Its job queue and compute environment go first: without the Pars' roles
    // they cannot run anything anyway, and the knot keeps its record and job
    // data, so its runs stay readable and Knot.create with its function makes
    // them again with the Pars. Refusing instead would leave only clobbering
    // the knots, which forgets their runs.
    for (const knot of knots) {
      const keys = doc.get(recordSection("knot", knot));
      if (keys?.get("target") !== "aws") continue; // the Python original's: CloudFormation's
      // Batch's code loads with the first clobber that needs it, not with Pars.
      const { deleteBatchEnvironment } = await import("../targets/aws/batch/environment.ts");
      await deleteBatchEnvironment(this.#session, {
        ...(keys.get("job-queue") ? { jobQueue: keys.get("job-queue") } : {}),
        ...(keys.get("compute-environment")
          ? { computeEnvironment: keys.get("compute-environment") }
          : {}),
      }, wait);
    }
    const warn = options.warn ?? console.warn;
    const found = await sortOwned(
      this.#session,
      this.name,
      this.#owned,
      await readOwner(this.#state),
    );
    // All gone with the record: another clobber (a process or handle this one waited for) ended it.
    const endedElsewhere = found.deleted.length === 0 && found.kept.length === 0 &&
      !doc.has(recordSection("pars", this.name));
    if (found.gone.length > 0 && !endedElsewhere) {
      warn(
        `cloudknot: Pars ${this.name} was partly gone already (${found.gone.join(", ")}): a ` +
          `clobber that stopped part-way, or deleted outside cloudknot; deleting the rest`,
      );
    }
    if (found.kept.length > 0) {
      warn(
        `cloudknot: Pars ${this.name}'s record names ${found.kept.join(", ")}, which now ` +
          `${found.kept.length === 1 ? "belongs" : "belong"} to another Pars or another config ` +
          `file (its cloudknot:pars or cloudknot:owner tag says so); kept`,
      );
    }
    const { iam, ec2 } = this.#session;
    const of = (kind: string) =>
      found.deleted.filter((o) => o.startsWith(`${kind}:`)).map((o) => o.slice(kind.length + 1));
    const roles = of("role");
    for (const role of roles) await stripRole(iam, role);
    for (const profile of of("instance-profile")) await deleteInstanceProfile(iam, profile);
    for (const role of roles) await deleteRole(iam, role);
    for (const id of of("security-group")) {
      await deleteWhenReleased(
        `security group ${id}`,
        () => ec2.deleteSecurityGroup({ GroupId: id }),
        wait,
      );
    }
    for (const id of of("route-table")) await deleteRouteTable(ec2, id);
    for (const id of of("internet-gateway")) await deleteInternetGateway(ec2, id, wait);
    for (const id of of("subnet")) {
      await deleteWhenReleased(`subnet ${id}`, () => ec2.deleteSubnet({ SubnetId: id }), wait);
    }
    for (const id of of("vpc")) {
      await deleteWhenReleased(`VPC ${id}`, () => ec2.deleteVpc({ VpcId: id }), wait);
    }
    await this.#state.remove(recordSection("pars", this.name));
    this.#clobbered = true;
    return found;
  }

  /**
   * Throws when this Pars was clobbered; for code that is about to use it.
   *
   * @example Usage
   * ```ts ignore
   * pars.assertNotClobbered();
   * ```
   *
   * @throws {ResourceClobberedError} When clobbered.
   */
  assertNotClobbered(): void {
    if (this.#clobbered) {
      throw new ResourceClobberedError(
        `Pars "${this.name}" was clobbered; create it again with Pars.create({ name: "${this.name}" })`,
      );
    }
  }

  /**
   * A plain description, for logs and JSON.
   *
   * @example Usage
   * ```ts ignore
   * console.log(JSON.stringify(pars));
   * ```
   *
   * @returns The properties.
   */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      region: this.region,
      profile: this.profile,
      batchServiceRole: this.batchServiceRole,
      ecsInstanceRole: this.ecsInstanceRole,
      ecsInstanceProfile: this.ecsInstanceProfile,
      spotFleetRole: this.spotFleetRole,
      taskExecutionRole: this.taskExecutionRole,
      jobRole: this.jobRole,
      vpc: this.vpc,
      subnets: [...this.subnets],
      securityGroup: this.securityGroup,
      bucket: this.bucket,
      policies: [...this.policies],
      useDefaultVpc: this.useDefaultVpc,
      created: this.created,
      clobbered: this.#clobbered,
    };
  }
}

type Tags = { Key?: string; Value?: string }[] | undefined;

/**
 * Sorts a Pars' `created` list (`kind:id`) by what each is on AWS now: there
 * and the Pars' own (to delete), gone, or there again but another Pars' or
 * another config file's (kept, by its `cloudknot:pars` and `cloudknot:owner`
 * tags; no owner tag is this file's, as for `gc`). It only reads.
 */
async function sortOwned(
  session: AwsSession,
  pars: string,
  owned: readonly string[],
  owner: string | undefined,
): Promise<ParsClobbered> {
  const { iam, ec2 } = session;
  const ids = (kind: string) =>
    owned.filter((o) => o.startsWith(`${kind}:`)).map((o) => o.slice(kind.length + 1));
  const filter = (name: string, kind: string) => ({
    Filters: [{ Name: name, Values: ids(kind) }],
  });
  const any = (kind: string) => ids(kind).length > 0;
  // One read per kind of network piece; IAM reads one by one.
  const tags = new Map<string, Tags>();
  for (const id of ids("role")) {
    const role = await getRole(iam, id);
    if (role) tags.set(`role:${id}`, role.Tags ?? []);
  }
  for (const id of ids("instance-profile")) {
    const profile = await getInstanceProfile(iam, id);
    if (profile) tags.set(`instance-profile:${id}`, profile.Tags ?? []);
  }
  if (any("security-group")) {
    const { SecurityGroups } = await ec2.describeSecurityGroups(
      filter("group-id", "security-group"),
    );
    for (const g of SecurityGroups ?? []) tags.set(`security-group:${g.GroupId}`, g.Tags ?? []);
  }
  if (any("route-table")) {
    const { RouteTables } = await ec2.describeRouteTables(filter("route-table-id", "route-table"));
    for (const t of RouteTables ?? []) tags.set(`route-table:${t.RouteTableId}`, t.Tags ?? []);
  }
  if (any("internet-gateway")) {
    const { InternetGateways } = await ec2.describeInternetGateways(
      filter("internet-gateway-id", "internet-gateway"),
    );
    for (const g of InternetGateways ?? []) {
      tags.set(`internet-gateway:${g.InternetGatewayId}`, g.Tags ?? []);
    }
  }
  if (any("subnet")) {
    const { Subnets } = await ec2.describeSubnets(filter("subnet-id", "subnet"));
    for (const n of Subnets ?? []) tags.set(`subnet:${n.SubnetId}`, n.Tags ?? []);
  }
  if (any("vpc")) {
    const { Vpcs } = await ec2.describeVpcs(filter("vpc-id", "vpc"));
    for (const v of Vpcs ?? []) tags.set(`vpc:${v.VpcId}`, v.Tags ?? []);
  }
  const out: ParsClobbered = { deleted: [], gone: [], kept: [] };
  for (const o of owned) {
    const found = tags.get(o);
    if (found === undefined) out.gone.push(o);
    else {
      const tag = ownerTag(found);
      const ours = isOurs(found, pars) && (tag === undefined || tag === owner);
      (ours ? out.deleted : out.kept).push(o);
    }
  }
  return out;
}

/**
 * A stored Pars' record, once it is known to be cloudknot's own (not the
 * Python original's) and of the session's region and profile.
 */
function storedHere(
  name: string,
  stored: Map<string, string>,
  session: AwsSession,
  file: string,
): ParsRecord {
  const original = originalRecord("pars", name, stored);
  if (original) throw new OriginalResourceError(original);
  const record = parseParsRecord(name, stored);
  checkHere(record, session, file);
  return record;
}

/** Refuses a stored Pars of another region or profile than the session's. */
function checkHere(record: ParsRecord, session: AwsSession, file: string): void {
  const { name } = record;
  requireRecordRegion({ kind: "pars", name, region: record.region }, session.region, file);
  if (!session.sameProfile(record.profile)) {
    throw new ProfileMismatchError("Pars", name, {
      resourceProfile: record.profile,
      currentProfile: session.profile,
    });
  }
}

/**
 * What of a Pars no longer exists on AWS: its roles, instance profile, VPC,
 * subnets and security group, as their ARNs or ids (or a few words for what
 * the record does not name). AWS is only read.
 *
 * @example Usage
 * ```ts ignore
 * import { missingParsResources, parseParsRecord } from "@cloudknot/cloudknot/resources";
 *
 * const missing = await missingParsResources(session, parseParsRecord("lab", keys));
 * if (missing.length > 0) console.log(`Pars lab is gone: ${missing.join(", ")}`);
 * ```
 *
 * @param session The AWS session of the Pars' region.
 * @param record The Pars' record.
 * @returns What is gone; empty when the Pars is whole.
 */
export async function missingParsResources(
  session: AwsSession,
  record: ParsRecord,
): Promise<string[]> {
  return (await checkRecordedPars(session, record)).missing;
}

export { type ParsNaming, type ParsSurvey, surveyPars } from "./_pars_survey.ts";

/**
 * Refuses a Pars whose roles, instance profile, VPC or security group (by
 * the names and tags a Pars of that name has) another config file on the
 * same account made (their `cloudknot:owner` tag is not this config file's):
 * adopted, they would be shared, and either file's clobber of the Pars would
 * delete the roles and network under the other's knots. What has no owner
 * tag (made before owner tags, or by the Python original) is not refused.
 * It only reads, through {@linkcode surveyPars}.
 *
 * @example Usage
 * ```ts ignore
 * import { refuseOtherOwnersPars } from "@cloudknot/cloudknot/resources";
 *
 * const found = await refuseOtherOwnersPars(session, state, "lab", {
 *   call: 'Pars.create({ name: "NAME" })',
 * });
 * ```
 *
 * @param session The AWS session.
 * @param state The config file the Pars would be recorded in.
 * @param name The Pars' name.
 * @param naming How the caller names another Pars, for the message.
 * @returns What exists of the Pars, judged, for the caller to adopt or make from without reading it again.
 * @throws {CloudknotInputError} When another config file made any of them.
 */
export async function refuseOtherOwnersPars(
  session: AwsSession,
  state: StateFile,
  name: string,
  naming: ParsNaming = {},
): Promise<ParsSurvey> {
  const seen = await surveyPars(session, name);
  await judgeParsOwners(state, name, seen, naming);
  return seen;
}

/**
 * Everything about a new Pars from what {@linkcode surveyPars} read: its
 * policies, the roles, instance profile, network and security group that
 * exist already (each checked to be this Pars' own).
 */
async function survey(
  name: string,
  input: ValidParsOptions,
  session: AwsSession,
  seen: ParsSurvey,
) {
  const { iam, ec2 } = session;
  const useDefaultVpc = input.useDefaultVpc ?? true;
  const cidr = input.ipv4Cidr ?? DEFAULT_IPV4_CIDR;
  const tenancy = input.instanceTenancy ?? "default";
  const policyArns = await resolvePolicies(iam, input.policies ?? []);
  // A Batch service role only when asked: compute environments use Batch's service-linked role.
  const specs = ROLE_SPECS.filter((spec) =>
    input.customServiceRole || spec.key !== "batch-service-role"
  );
  const roles = new Map<string, Role | undefined>();
  for (const spec of specs) {
    const role = seen.roles.get(spec.key);
    if (role) checkOurs("IAM role", role.RoleName, role.Tags, name);
    roles.set(spec.key, role);
  }
  const profileName = name + "-ecs-instance-role";
  const profile = seen.profile;
  if (profile) checkOurs("IAM instance profile", profileName, profile.Tags, name);
  let defaultNetwork: { vpc: string; subnets: string[] } | undefined;
  let ownVpc: Vpc | undefined;
  if (useDefaultVpc) defaultNetwork = await findDefaultVpc(ec2, session.region);
  // The VPCs tagged with its name were read with its roles.
  else ownVpc = parsVpcOf(seen.vpcs, name, { cidr, tenancy });
  const knownVpc = defaultNetwork?.vpc ?? ownVpc?.VpcId;
  const groupName = `${name}-sg`;
  let group: SecurityGroup | undefined;
  if (knownVpc) {
    group = seen.groups.find((g) => g.VpcId === knownVpc);
    if (group) checkOurs("security group", `${group.GroupId} (${groupName})`, group.Tags, name);
  }
  return {
    useDefaultVpc,
    cidr,
    tenancy,
    policyArns,
    specs,
    roles,
    profileName,
    profile,
    defaultNetwork,
    ownVpc,
    groupName,
    group,
  };
}

/** Every explicitly passed option must match the stored Pars. */
function checkSame(record: ParsRecord, input: ValidParsOptions): void {
  const differ = (field: string, stored: string, given: string) =>
    new CloudknotInputError(
      `Pars "${record.name}" exists with ${field} ${stored}, but ${given} was passed; leave ` +
        `${field} out to adopt it, or clobber it first to change it`,
      { field },
    );
  if (
    input.customServiceRole !== undefined &&
    input.customServiceRole !== (record.batchServiceRole !== "")
  ) {
    throw differ(
      "customServiceRole",
      String(record.batchServiceRole !== ""),
      String(input.customServiceRole),
    );
  }
  if (input.useDefaultVpc !== undefined && input.useDefaultVpc !== record.useDefaultVpc) {
    throw differ("useDefaultVpc", String(record.useDefaultVpc), String(input.useDefaultVpc));
  }
  if (input.ipv4Cidr !== undefined && input.ipv4Cidr !== record.ipv4Cidr) {
    throw differ("ipv4Cidr", record.ipv4Cidr ?? "(none)", input.ipv4Cidr);
  }
  if (input.instanceTenancy !== undefined && input.instanceTenancy !== record.instanceTenancy) {
    throw differ(
      "instanceTenancy",
      record.instanceTenancy ?? "(none)",
      input.instanceTenancy,
    );
  }
  if (input.bucket !== undefined && input.bucket !== record.bucket) {
    throw differ("bucket", record.bucket, input.bucket);
  }
  if (input.policies !== undefined) {
    const matches = (p: string) =>
      record.policies.some((arn) => arn === p || (!p.startsWith("arn:") && roleName(arn) === p));
    const same = input.policies.length === record.policies.length && input.policies.every(matches);
    if (!same) {
      throw differ(
        "policies",
        JSON.stringify(record.policies),
        JSON.stringify(input.policies),
      );
    }
  }
}
