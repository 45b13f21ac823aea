/**
 * What exists on AWS of a Pars, read once per heal: the check of a recorded
 * Pars ({@linkcode checkRecordedPars}, what `Pars.find` and `prune` read)
 * keeps the roles and instance profile it read by name, and the survey a
 * heal judges and makes from ({@linkcode completeSurvey}) reads only what
 * that check did not. The survey behind a `ParsGone` that `Pars.find`
 * returned stays with it ({@linkcode readBehind}), so a knot's heal judges
 * its Pars' owners without reading its roles again.
 *
 * @module
 */
import type { AwsSession } from "../aws/session.ts";
import type { InstanceProfile, Role } from "../aws/services/iam.ts";
import type { SecurityGroup, Vpc } from "../aws/services/ec2.ts";
import type { StateFile } from "../state/state_file.ts";
import { getInstanceProfile, getRole, PARS_TAG_KEY, ROLE_SPECS } from "./_iam_roles.ts";
import { ownerTag, refuseOtherOwners } from "./owner.ts";
import type { ParsGone, ParsRecord } from "./pars.ts";

/** How the caller names another Pars, for `refuseOtherOwnersPars`. */
export interface ParsNaming {
  /**
   * The library call that passes another Pars name, with `NAME` for it, as
   * `Pars.create({ name: "NAME" })`; without it, the Pars is named after its
   * knot (a knot's own Pars), so another knot name is what to choose.
   */
  call?: string;
  /** Whether the name is the default one, made from the caller's IAM identity. @default {false} */
  isDefault?: boolean;
  /** The field of the error: the option that names the Pars. @default {"name"} */
  field?: string;
  /**
   * What to do instead, after a colon, when the caller cannot choose another
   * Pars name (a heal, which makes the Pars again under its record's name);
   * it replaces the advice `call` and `isDefault` give.
   */
  choose?: string;
}

/**
 * What exists on AWS by the names and tags a Pars of that name has, read once
 * by {@linkcode surveyPars}: `refuseOtherOwnersPars` judges their owners from
 * it, and `Pars.create` and `Pars.remake` adopt or make from it, so each is
 * read once per call.
 */
export interface ParsSurvey {
  /** Each of its five roles by its key (`job-role`, …), or `undefined` where there is none. */
  readonly roles: ReadonlyMap<string, Role | undefined>;
  /** Its instance profile, if any. */
  readonly profile: InstanceProfile | undefined;
  /** The VPCs tagged with its name. */
  readonly vpcs: readonly Vpc[];
  /** The security groups named `<name>-sg`, in any VPC. */
  readonly groups: readonly SecurityGroup[];
}

/**
 * What a check of a recorded Pars read by name: each role and instance
 * profile by its name (`undefined` where there is none), and the security
 * groups of the Pars' group name, when it read them.
 */
export interface ParsRead {
  /** The roles read, by name. */
  readonly roles: ReadonlyMap<string, Role | undefined>;
  /** The instance profiles read, by name. */
  readonly profiles: ReadonlyMap<string, InstanceProfile | undefined>;
  /** The security groups named `<name>-sg`, in any VPC, when read. */
  readonly groups?: readonly SecurityGroup[];
}

/** Nothing read yet: {@linkcode completeSurvey} reads it all. */
export const NOTHING_READ: ParsRead = { roles: new Map(), profiles: new Map() };

/** The last part of an ARN: a role's or an instance profile's name. */
export function roleName(arn: string): string {
  return arn.split("/").pop()!;
}

/**
 * What of a recorded Pars no longer exists on AWS (its roles, instance
 * profile, VPC, subnets and security group, as their ARNs or ids, or a few
 * words for what the record does not name), and what was read to find out.
 * The security group is looked for among the groups of the Pars' group name
 * (`<name>-sg`, the name it was made with: a group's name never changes), so
 * a heal's survey needs not read them again. AWS is only read.
 *
 * @example Usage
 * ```ts ignore
 * const { missing } = await checkRecordedPars(session, record);
 * ```
 *
 * @param session The AWS session of the Pars' region.
 * @param record The Pars' record.
 * @returns What is gone (empty when the Pars is whole), and what was read.
 */
export async function checkRecordedPars(
  session: AwsSession,
  record: ParsRecord,
): Promise<{ missing: string[]; read: ParsRead }> {
  const { iam, ec2 } = session;
  const missing: string[] = [];
  const roles = new Map<string, Role | undefined>();
  for (
    const arn of [
      ...(record.batchServiceRole ? [record.batchServiceRole] : []),
      record.ecsInstanceRole,
      record.spotFleetRole,
      record.taskExecutionRole,
      record.jobRole,
    ]
  ) {
    if (!arn) missing.push("a role");
    else {
      const role = await getRole(iam, roleName(arn));
      roles.set(roleName(arn), role);
      if (!role) missing.push(arn);
    }
  }
  const profiles = new Map<string, InstanceProfile | undefined>();
  const profileName = roleName(record.ecsInstanceProfile);
  const profile = await getInstanceProfile(iam, profileName);
  profiles.set(profileName, profile);
  if (!profile) missing.push(record.ecsInstanceProfile || "the instance profile");
  if (!record.vpc) missing.push("the VPC");
  else {
    const { Vpcs } = await ec2.describeVpcs({
      Filters: [{ Name: "vpc-id", Values: [record.vpc] }],
    });
    if (!Vpcs?.length) missing.push(record.vpc);
  }
  if (record.subnets.length === 0) missing.push("the subnets");
  else {
    const { Subnets } = await ec2.describeSubnets({
      Filters: [{ Name: "subnet-id", Values: record.subnets }],
    });
    for (const id of record.subnets) {
      if (!Subnets?.some((s) => s.SubnetId === id)) missing.push(id);
    }
  }
  const groups = await groupsNamed(session, record.name);
  if (!record.securityGroup) missing.push("the security group");
  else if (!groups.some((g) => g.GroupId === record.securityGroup)) {
    missing.push(record.securityGroup);
  }
  return { missing, read: { roles, profiles, groups } };
}

/** The security groups named `<name>-sg`, in any VPC. */
async function groupsNamed(session: AwsSession, name: string): Promise<SecurityGroup[]> {
  const { SecurityGroups } = await session.ec2.describeSecurityGroups({
    Filters: [{ Name: "group-name", Values: [`${name}-sg`] }],
  });
  return SecurityGroups ?? [];
}

/**
 * Reads what exists of the Pars of that name: its roles, its instance
 * profile, the VPCs tagged with its name and the security groups of its
 * group's name. It only reads; nothing is judged.
 *
 * @example Usage
 * ```ts ignore
 * import { surveyPars } from "@cloudknot/cloudknot/resources";
 *
 * const found = await surveyPars(session, "lab");
 * console.log(found.profile ? "lab has an instance profile" : "lab has none");
 * ```
 *
 * @param session The AWS session.
 * @param name The Pars' name.
 * @returns What exists of it.
 */
export async function surveyPars(session: AwsSession, name: string): Promise<ParsSurvey> {
  return await completeSurvey(session, name, NOTHING_READ);
}

/**
 * What {@linkcode surveyPars} reads of the Pars of that name, taking from
 * `read` what was read already (by a check of its record a moment ago) and
 * reading the rest.
 *
 * @example Usage
 * ```ts ignore
 * const { read } = await checkRecordedPars(session, record);
 * const seen = await completeSurvey(session, record.name, read);
 * ```
 *
 * @param session The AWS session.
 * @param name The Pars' name.
 * @param read What was read already.
 * @returns What exists of it.
 */
export async function completeSurvey(
  session: AwsSession,
  name: string,
  read: ParsRead,
): Promise<ParsSurvey> {
  const { iam, ec2 } = session;
  const byName = async <T>(
    known: ReadonlyMap<string, T | undefined>,
    key: string,
    get: () => Promise<T | undefined>,
  ) => known.has(key) ? known.get(key) : await get();
  const roles = new Map<string, Role | undefined>();
  for (const spec of ROLE_SPECS) {
    const role = name + spec.suffix;
    roles.set(spec.key, await byName(read.roles, role, () => getRole(iam, role)));
  }
  const profileName = name + "-ecs-instance-role";
  const profile = await byName(
    read.profiles,
    profileName,
    () => getInstanceProfile(iam, profileName),
  );
  const [{ Vpcs }, groups] = await Promise.all([
    ec2.describeVpcs({ Filters: [{ Name: `tag:${PARS_TAG_KEY}`, Values: [name] }] }),
    read.groups ?? groupsNamed(session, name),
  ]);
  return { roles, profile, vpcs: Vpcs ?? [], groups };
}

/**
 * Refuses a Pars whose roles, instance profile, VPC or security group, as
 * `seen` found them, another config file on the same account made (their
 * `cloudknot:owner` tag is not this config file's). What has no owner tag
 * is not refused. It reads only the config file.
 *
 * @example Usage
 * ```ts ignore
 * await judgeParsOwners(state, "lab", await surveyPars(session, "lab"));
 * ```
 *
 * @param state The config file the Pars would be recorded in.
 * @param name The Pars' name.
 * @param seen What exists of it.
 * @param naming How the caller names another Pars, for the message.
 * @throws {CloudknotInputError} When another config file made any of them.
 */
export async function judgeParsOwners(
  state: StateFile,
  name: string,
  seen: ParsSurvey,
  naming: ParsNaming = {},
): Promise<void> {
  const found: { what: string; owner: string | undefined }[] = [];
  const roles = new Map<string | undefined, string[]>();
  for (const role of seen.roles.values()) {
    if (role) {
      roles.set(ownerTag(role.Tags), [...roles.get(ownerTag(role.Tags)) ?? [], role.RoleName]);
    }
  }
  for (const [owner, names] of roles) {
    found.push({ what: `IAM role${names.length > 1 ? "s" : ""} ${names.join(", ")}`, owner });
  }
  if (seen.profile) {
    found.push({
      what: `IAM instance profile ${seen.profile.InstanceProfileName}`,
      owner: ownerTag(seen.profile.Tags),
    });
  }
  for (const v of seen.vpcs) found.push({ what: `VPC ${v.VpcId}`, owner: ownerTag(v.Tags) });
  // Only a group tagged as this Pars' is judged: one of that name but not cloudknot's is
  // refused as a conflict when the Pars is made.
  const ofPars = (g: SecurityGroup) =>
    g.Tags?.some((t) => t.Key === PARS_TAG_KEY && t.Value === name) ?? false;
  for (const g of seen.groups.filter(ofPars)) {
    found.push({ what: `security group ${g.GroupId} (${g.GroupName})`, owner: ownerTag(g.Tags) });
  }
  const { call, isDefault = false, field = "name", choose } = naming;
  await refuseOtherOwners(state, {
    kind: "Pars",
    name,
    found,
    harm: "A Pars of that name made with this file would adopt them, and clobbering either " +
      "Pars would delete the roles and network the other's knots run with",
    choose: choose ??
      (call === undefined
        ? `choose another knot name (its Pars, ${name}, is named after it)`
        : isDefault
        ? `pass a Pars name of this file's own, as ${call} (${name} is the default Pars name, ` +
          `made from your IAM identity, so every config file of yours shares it)`
        : `choose another Pars name, as ${call}`),
    field,
  });
}

/** What `Pars.find` read of each Pars it found gone, by what it returned. */
const behind = new WeakMap<ParsGone, ParsRead>();

/**
 * Keeps what `Pars.find` read of a Pars it found gone with what it returns,
 * for {@linkcode readBehind}.
 *
 * @example Usage
 * ```ts ignore
 * return keepRead({ name, record, missing }, read);
 * ```
 */
export function keepRead(gone: ParsGone, read: ParsRead): ParsGone {
  behind.set(gone, read);
  return gone;
}

/**
 * What `Pars.find` read to find that Pars gone, or {@linkcode NOTHING_READ}
 * for a Pars whose record was gone (nothing was read) or found another way:
 * a knot's heal completes its survey from it, reading each role once.
 *
 * @example Usage
 * ```ts ignore
 * const seen = await completeSurvey(session, gone.name, readBehind(gone));
 * ```
 */
export function readBehind(gone: ParsGone | undefined): ParsRead {
  return (gone && behind.get(gone)) ?? NOTHING_READ;
}
