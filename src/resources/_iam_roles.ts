/**
 * Internal: the IAM roles and instance profile of a Pars, as data, and the
 * calls that make, adopt and delete them.
 *
 * @module
 */
import type { Iam, IamTag, InstanceProfile, Role } from "../aws/services/iam.ts";
import { JOB_DATA_PREFIX } from "./bucket.ts";
import { CloudknotInputError } from "../util/errors.ts";
import { ResourceConflictError, UnknownPolicyError } from "./errors.ts";
import { OWNER_TAG_KEY, ownerTag } from "./owner.ts";
import {
  adoptOrCreate,
  CREATE_ATTEMPTS,
  type Found,
  ignoreGone,
  isAwsCode,
  type Ledger,
} from "./_ledger.ts";

/** The tag every resource cloudknot makes carries. */
export const MANAGED_BY_TAG = { Key: "ManagedBy", Value: "cloudknot" } as const;
/** The tag key that names the Pars a resource belongs to. */
export const PARS_TAG_KEY = "cloudknot:pars";
/** The tag key that names the knot a resource belongs to. */
export const KNOT_TAG_KEY = "cloudknot:knot";

/**
 * The config keys of a Pars' role ARNs (and its instance profile's), by the
 * `ParsRecord` field: the one list for the record's reader and writer and
 * for `prune`.
 */
export const ROLE_KEYS = {
  batchServiceRole: "batch-service-role",
  ecsInstanceRole: "ecs-instance-role",
  ecsInstanceProfile: "ecs-instance-profile",
  spotFleetRole: "spot-fleet-role",
  taskExecutionRole: "task-execution-role",
  jobRole: "job-role",
} as const;
/** A `ParsRecord` field that holds a role's (or the instance profile's) ARN. */
export type RoleField = keyof typeof ROLE_KEYS;

/** The state key of each role, and how the role is made. */
export interface RoleSpec {
  /** The key in `[pars <name>]`, e.g. `batch-service-role`. */
  key: string;
  /** Appended to the Pars name to make the role name. */
  suffix: string;
  /** The service principal the role trusts. */
  service: string;
  /** AWS managed policies, as paths under `arn:<partition>:iam::aws:policy/`. */
  managed: string[];
  /** What the role is for. */
  description: string;
}

/**
 * The roles of a Pars (the Batch service role only with `customServiceRole`).
 * Role names are at most 64 characters, so `suffix` is at most 19.
 */
export const ROLE_SPECS: readonly RoleSpec[] = [
  {
    key: "batch-service-role",
    suffix: "-batch-service-role",
    service: "batch.amazonaws.com",
    managed: ["service-role/AWSBatchServiceRole"],
    description: "AWS Batch service role (instead of the service-linked role)",
  },
  {
    key: "ecs-instance-role",
    suffix: "-ecs-instance-role",
    service: "ec2.amazonaws.com",
    managed: ["service-role/AmazonEC2ContainerServiceforEC2Role"],
    description: "ECS container instance role of EC2 compute environments",
  },
  {
    key: "spot-fleet-role",
    suffix: "-spot-fleet-role",
    service: "spotfleet.amazonaws.com",
    managed: ["service-role/AmazonEC2SpotFleetTaggingRole"],
    description: "Spot Fleet role of SPOT compute environments",
  },
  {
    key: "task-execution-role",
    suffix: "-task-exec-role",
    service: "ecs-tasks.amazonaws.com",
    managed: ["service-role/AmazonECSTaskExecutionRolePolicy"],
    description: "Task execution role of Fargate jobs (image pulls, logs)",
  },
  {
    key: "job-role",
    suffix: "-job-role",
    service: "ecs-tasks.amazonaws.com",
    managed: [],
    description:
      "Role of the jobs themselves: the bucket's cloudknot/ prefix and the Pars' policies",
  },
];

/** The inline policy of the job role that grants the bucket prefix. */
export const JOB_BUCKET_POLICY_NAME = "cloudknot-job-data";

/**
 * The trust policy of a role assumed by a service.
 */
export function trustPolicy(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Principal: { Service: service },
      Action: "sts:AssumeRole",
    }],
  });
}

/**
 * The job role's inline policy: objects under `cloudknot/` of the bucket,
 * and listing only that prefix.
 */
export function jobBucketPolicy(bucket: string, partition: string): string {
  return prefixPolicy("CloudknotJobData", { bucket, partition, prefix: JOB_DATA_PREFIX }, [
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
  ]);
}

/**
 * A policy that allows `actions` on the objects under a prefix of a bucket,
 * and ListBucket only with an `s3:prefix` under it.
 */
function prefixPolicy(
  sid: string,
  where: { bucket: string; partition: string; prefix: string },
  actions: string[],
): string {
  const { bucket, partition, prefix } = where;
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: sid,
        Effect: "Allow",
        Action: actions,
        Resource: `arn:${partition}:s3:::${bucket}/${prefix}*`,
      },
      {
        Sid: sid.replace(/^Cloudknot/, "CloudknotList"),
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: `arn:${partition}:s3:::${bucket}`,
        Condition: { StringLike: { "s3:prefix": [`${prefix}*`] } },
      },
    ],
  });
}

/** The longest role name IAM accepts. */
export const ROLE_NAME_MAX = 64;

/**
 * The end of a knot's job role name, `<pars>.<knot>-job`. Knot and Pars
 * names hold no dots, so the name is one knot's of one Pars and no other's.
 */
export const KNOT_ROLE_SUFFIX = "-job";

/**
 * How a knot's job role is made. It holds only what the knot's jobs do: no
 * managed policy of its own. Pulling the image and writing the job's logs are
 * not the job role's: on Fargate they are the task execution role's
 * (AmazonECSTaskExecutionRolePolicy: ECR pulls and CloudWatch Logs), on EC2
 * the container instance role's (AmazonEC2ContainerServiceforEC2Role, which
 * the ECS agent uses to pull and to send the awslogs driver's logs); see
 * "Amazon ECS task IAM role" and "Amazon ECS task execution IAM role" in
 * the ECS developer guide. The Pars's job role never had them either.
 */
export const KNOT_ROLE_SPEC: RoleSpec = {
  key: "job-role",
  suffix: KNOT_ROLE_SUFFIX,
  service: "ecs-tasks.amazonaws.com",
  managed: [],
  description: "Role of one knot's jobs: its own prefix of the bucket and the Pars' policies",
};

/**
 * The name of a knot's job role, `<pars>.<knot>-job`, checked against IAM's
 * 64-character limit.
 *
 * @throws {CloudknotInputError} When the name would be longer than 64 characters.
 */
export function knotRoleName(pars: string, knot: string): string {
  const name = `${pars}.${knot}${KNOT_ROLE_SUFFIX}`;
  if (name.length > ROLE_NAME_MAX) {
    const room = ROLE_NAME_MAX - 1 - KNOT_ROLE_SUFFIX.length;
    throw new CloudknotInputError(
      `Knot "${knot}" of Pars "${pars}" would get the job role ${name}, longer than IAM's ` +
        `${ROLE_NAME_MAX} characters: the knot's and the Pars' names together may have at most ` +
        `${room} characters (they have ${
          pars.length + knot.length
        }); choose a shorter knot name, ` +
        `or a shorter Pars name with the pars option of Knot.create`,
      { field: "name" },
    );
  }
  return name;
}

/**
 * A knot's job role's inline policy: exactly what `runtime.js`
 * (`src/job/main.ts`) does in the S3 store (`src/store/s3.ts`), on the
 * knot's own prefix only. Reading its item is GetObject (ranged); writing
 * its record is PutObject, or a multipart upload for a record above 16 MiB,
 * which S3 authorizes as `s3:PutObject` (CreateMultipartUpload, UploadPart,
 * CompleteMultipartUpload) and `s3:AbortMultipartUpload` when a part fails;
 * listing a run's records is ListBucket, allowed only with an `s3:prefix`
 * under the knot's. Object ARNs are `arn:<partition>:s3:::<bucket>/<key>`
 * and the bucket's `arn:<partition>:s3:::<bucket>` ("Actions, resources,
 * and condition keys for Amazon S3", Service Authorization Reference). A job
 * never deletes, so there is no `s3:DeleteObject`.
 */
export function knotJobPolicy(bucket: string, partition: string, prefix: string): string {
  return prefixPolicy("CloudknotKnotData", { bucket, partition, prefix }, [
    "s3:GetObject",
    "s3:PutObject",
    "s3:AbortMultipartUpload",
  ]);
}

/** What {@linkcode ensureKnotRole} needs. */
export interface EnsureKnotRoleInput {
  /** The Pars' name. */
  pars: string;
  /** The knot's name. */
  knot: string;
  /** The bucket of the knot's data. */
  bucket: string;
  /** The knot's key prefix, ending in `/`. */
  prefix: string;
  /** The partition of the ARNs, such as `aws`. */
  partition: string;
  /** The Pars' policy ARNs, which the knot's jobs keep. */
  policyArns: string[];
  /** Tags for a new role. */
  tags: IamTag[];
  /** Where to record what this call made. */
  ledger: Ledger;
}

/**
 * Makes a knot's job role (or adopts the one of its name, when cloudknot
 * made it for this Pars), attaches the Pars' policies and puts the policy
 * of {@linkcode knotJobPolicy}.
 */
export async function ensureKnotRole(iam: Iam, input: EnsureKnotRoleInput): Promise<Found<Role>> {
  const name = knotRoleName(input.pars, input.knot);
  // The knot's role another config file's knot of the same name made (at the
  // same moment, or the checks before would have refused) stays that knot's:
  // found here, or when both made it at once and this call's create met it.
  const taken = (theirs: string, ours: string) =>
    `The IAM role ${name} is the job role of knot ${input.knot} made with another cloudknot ` +
    `config file (its tag ${OWNER_TAG_KEY} is ${theirs}, not ${ours}); choose another knot ` +
    `name, or use that knot with the config file that made it`;
  const existing = await getRole(iam, name);
  if (existing) checkOurs("IAM role", name, existing.Tags, input.pars, input.tags, taken);
  return await ensureRole(iam, {
    name,
    pars: input.pars,
    spec: KNOT_ROLE_SPEC,
    policyArns: input.policyArns,
    inline: [
      JOB_BUCKET_POLICY_NAME,
      knotJobPolicy(input.bucket, input.partition, input.prefix),
    ],
    tags: input.tags,
    existing,
    ledger: input.ledger,
    taken,
  });
}

/**
 * Whether tags mark a resource as made by cloudknot for this Pars.
 */
export function isOurs(
  tags: { Key?: string; Value?: string }[] | undefined,
  pars: string,
): boolean {
  const has = (k: string, v: string) => (tags ?? []).some((t) => t.Key === k && t.Value === v);
  return has(MANAGED_BY_TAG.Key, MANAGED_BY_TAG.Value) && has(PARS_TAG_KEY, pars);
}

/**
 * The role, or `undefined` when there is none by that name.
 */
export async function getRole(iam: Iam, name: string): Promise<Role | undefined> {
  try {
    return (await iam.getRole({ RoleName: name })).Role;
  } catch (e) {
    if (isAwsCode(e, "NoSuchEntity")) return undefined;
    throw e;
  }
}

/**
 * The instance profile, or `undefined` when there is none by that name.
 */
export async function getInstanceProfile(
  iam: Iam,
  name: string,
): Promise<InstanceProfile | undefined> {
  try {
    return (await iam.getInstanceProfile({ InstanceProfileName: name })).InstanceProfile;
  } catch (e) {
    if (isAwsCode(e, "NoSuchEntity")) return undefined;
    throw e;
  }
}

/**
 * Throws when a role or instance profile of the wanted name exists but was
 * not made by cloudknot for this Pars, or, given `mine` (the tags this call
 * would have made it with), when its `cloudknot:owner` tag names another
 * config file: a Pars of that name another config file made at the same
 * moment, past the owner check before anything was made (or, with `taken`,
 * what it says: a knot's own role another config file's knot made).
 */
export function checkOurs(
  kind: string,
  id: string,
  tags: { Key?: string; Value?: string }[] | undefined,
  pars: string,
  mine?: { Key?: string; Value?: string }[],
  taken?: (theirs: string, ours: string) => string,
): void {
  if (!isOurs(tags, pars)) {
    throw new ResourceConflictError(
      `The ${kind} ${id} exists but was not made by cloudknot for Pars "${pars}" (it lacks the ` +
        `tags ManagedBy=cloudknot and ${PARS_TAG_KEY}=${pars}); choose another Pars name, or ` +
        `delete or rename the ${kind}`,
      { resource: id },
    );
  }
  const [theirs, ours] = [ownerTag(tags), ownerTag(mine)];
  if (theirs !== undefined && ours !== undefined && theirs !== ours) {
    throw new ResourceConflictError(
      taken?.(theirs, ours) ??
        `The ${kind} ${id} of Pars "${pars}" was just made with another cloudknot config file ` +
          `(its tag ${OWNER_TAG_KEY} is ${theirs}, not ${ours}), which made that Pars at the ` +
          `same moment; what this call made of it is undone: choose another Pars name, or use ` +
          `that Pars with the config file that made it`,
      { resource: id },
    );
  }
}

const POLICY_ARN_RE = /^arn:[^:]+:iam::(aws|\d{12}):policy\/.+$/;
const POLICY_NAME_RE = /^[\w+=,.@-]{1,128}$/;

/**
 * Checks the shape of `policies` (no AWS call): a string or an array of
 * policy ARNs or names, given in `option`. Duplicates are dropped.
 */
export function normalizePolicies(policies: unknown, option = "policies"): string[] {
  const list = policies === undefined ? [] : typeof policies === "string" ? [policies] : policies;
  if (!Array.isArray(list)) {
    throw new UnknownPolicyError(String(policies), option);
  }
  const out: string[] = [];
  for (const p of list) {
    if (typeof p !== "string" || !(POLICY_ARN_RE.test(p) || POLICY_NAME_RE.test(p))) {
      throw new UnknownPolicyError(String(p), option);
    }
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

/**
 * IAM's default quota of managed policies per role. Every account allows at
 * least this many, so only more policies make the account's quota worth
 * reading.
 */
const DEFAULT_POLICIES_PER_ROLE = 10;

/**
 * Resolves policy names and ARNs to ARNs: ARNs through GetPolicy, names
 * through ListPolicies, first among the account's own policies, then among
 * the AWS managed ones; and checks that a role may have that many managed
 * policies (IAM's quota, from GetAccountSummary, read only for more than 10).
 * Read-only, so a Pars or knot that asks for more is refused before anything
 * is made, where AttachRolePolicy would fail after its roles were.
 *
 * @param iam The IAM client.
 * @param policies Policy names or ARNs, deduplicated.
 * @param option The option that gave them, as the error names it.
 * @returns Their ARNs.
 */
export async function resolvePolicies(
  iam: Iam,
  policies: string[],
  option = "policies",
): Promise<string[]> {
  if (policies.length > DEFAULT_POLICIES_PER_ROLE) {
    const { SummaryMap } = await iam.getAccountSummary({});
    const quota = SummaryMap?.AttachedPoliciesPerRoleQuota ?? DEFAULT_POLICIES_PER_ROLE;
    if (policies.length > quota) {
      throw new CloudknotInputError(
        `${option} has ${policies.length} IAM policies, but IAM lets a role in this account ` +
          `have at most ${quota} managed policies (the quota "Managed policies per role"): give ` +
          `at most ${quota}, for example by putting the permissions of several into one policy ` +
          `of your own, or ask AWS to raise the quota in the Service Quotas console (IAM)`,
        { field: option },
      );
    }
  }
  const resolved = new Map<string, string>();
  const names = new Set<string>();
  for (const p of policies) {
    if (!p.startsWith("arn:")) {
      names.add(p);
      continue;
    }
    try {
      const { Policy } = await iam.getPolicy({ PolicyArn: p });
      resolved.set(p, Policy?.Arn ?? p);
    } catch (e) {
      if (isAwsCode(e, "NoSuchEntity", "InvalidInput")) throw new UnknownPolicyError(p, option);
      throw e;
    }
  }
  for (const scope of ["Local", "AWS"]) {
    if ([...names].every((n) => resolved.has(n))) break;
    for await (const policy of iam.listPoliciesAll({ Scope: scope, MaxItems: 1000 })) {
      const name = policy.PolicyName;
      if (name && names.has(name) && !resolved.has(name) && policy.Arn) {
        resolved.set(name, policy.Arn);
      }
    }
  }
  return policies.map((p) => {
    const arn = resolved.get(p);
    if (arn === undefined) throw new UnknownPolicyError(p, option);
    return arn;
  });
}

/** What {@linkcode ensureRole} needs. */
export interface EnsureRoleInput {
  /** The role's name. */
  name: string;
  /** The Pars name, for tags and ownership checks. */
  pars: string;
  /** How the role is made. */
  spec: RoleSpec;
  /** Managed policy ARNs to attach. */
  policyArns: string[];
  /** An inline policy to put, `[name, document]`. */
  inline?: [string, string];
  /** Tags for a new role. */
  tags: IamTag[];
  /** The role as discovery found it. */
  existing: Role | undefined;
  /** Where to record what this call made. */
  ledger: Ledger;
  /**
   * What a role another config file made says, when it is not a Pars' role
   * (a knot's own job role); a Pars' role says the Pars was made at the same moment.
   */
  taken?: (theirs: string, ours: string) => string;
}

/**
 * Makes a role (or adopts the one discovery found), attaches its policies and
 * puts its inline policy. A role made here is recorded in the ledger.
 */
export async function ensureRole(iam: Iam, input: EnsureRoleInput): Promise<Found<Role>> {
  const { name, pars, spec } = input;
  const found = await adoptOrCreate(
    input.existing,
    async () =>
      (await iam.createRole({
        RoleName: name,
        AssumeRolePolicyDocument: trustPolicy(spec.service),
        Description: `cloudknot Pars ${pars}: ${spec.description}`,
        Tags: input.tags,
      })).Role,
    async () => {
      const role = await getRole(iam, name);
      if (role) checkOurs("IAM role", name, role.Tags, pars, input.tags, input.taken);
      return role;
    },
    ["EntityAlreadyExists"],
    { ledger: input.ledger, what: () => `IAM role ${name}`, undo: () => deleteRole(iam, name) },
  );
  for (const arn of input.policyArns) {
    await iam.attachRolePolicy({ RoleName: name, PolicyArn: arn });
  }
  if (input.inline) {
    await iam.putRolePolicy({
      RoleName: name,
      PolicyName: input.inline[0],
      PolicyDocument: input.inline[1],
    });
  }
  return found;
}

/**
 * Makes the instance profile (or adopts the existing one) and puts the role
 * in it.
 */
export async function ensureInstanceProfile(
  iam: Iam,
  input: {
    name: string;
    role: string;
    pars: string;
    tags: IamTag[];
    existing: InstanceProfile | undefined;
    ledger: Ledger;
  },
): Promise<Found<InstanceProfile>> {
  const { name, role, pars } = input;
  const found = await adoptOrCreate(
    input.existing,
    async () =>
      (await iam.createInstanceProfile({ InstanceProfileName: name, Tags: input.tags }))
        .InstanceProfile,
    async () => {
      const profile = await getInstanceProfile(iam, name);
      if (profile) checkOurs("IAM instance profile", name, profile.Tags, pars, input.tags);
      return profile;
    },
    ["EntityAlreadyExists"],
    {
      ledger: input.ledger,
      what: () => `IAM instance profile ${name}`,
      undo: () => deleteInstanceProfile(iam, name),
    },
  );
  const roles = (found.value.Roles ?? []).map((r) => r.RoleName);
  if (!roles.includes(role)) {
    if (roles.length > 0) {
      throw new ResourceConflictError(
        `The IAM instance profile ${name} holds role ${roles[0]} instead of ${role}; clobber ` +
          `Pars "${pars}" and create it again`,
        { resource: name },
      );
    }
    // A profile holds one role: adding it again after an unknown outcome cannot add two.
    for (let attempt = 1;; attempt++) {
      try {
        await iam.addRoleToInstanceProfile({ InstanceProfileName: name, RoleName: role });
        break;
      } catch (e) {
        // A lost answer or a server error: look before failing.
        const now = isAwsCode(e, "OutcomeUnknown", "LimitExceeded")
          ? await getInstanceProfile(iam, name)
          : undefined;
        if (now?.Roles?.some((r) => r.RoleName === role)) break;
        if (!isAwsCode(e, "OutcomeUnknown") || attempt >= CREATE_ATTEMPTS) throw e;
      }
    }
  }
  return found;
}

/**
 * Detaches a role's managed policies and deletes its inline ones. A role
 * already gone is fine.
 */
export async function stripRole(iam: Iam, name: string): Promise<void> {
  try {
    for await (const p of iam.listAttachedRolePoliciesAll({ RoleName: name })) {
      if (p.PolicyArn) {
        await ignoreGone(() => iam.detachRolePolicy({ RoleName: name, PolicyArn: p.PolicyArn! }));
      }
    }
    for await (const policy of iam.listRolePoliciesAll({ RoleName: name })) {
      await ignoreGone(() => iam.deleteRolePolicy({ RoleName: name, PolicyName: policy }));
    }
  } catch (e) {
    if (!isAwsCode(e, "NoSuchEntity")) throw e;
  }
}

/**
 * Deletes a role with everything that holds on to it: attached and inline
 * policies and instance profile memberships. A role already gone is fine.
 */
export async function deleteRole(iam: Iam, name: string): Promise<void> {
  try {
    await stripRole(iam, name);
    for await (const ip of iam.listInstanceProfilesForRoleAll({ RoleName: name })) {
      await ignoreGone(() =>
        iam.removeRoleFromInstanceProfile({
          InstanceProfileName: ip.InstanceProfileName,
          RoleName: name,
        })
      );
    }
  } catch (e) {
    if (isAwsCode(e, "NoSuchEntity")) return;
    throw e;
  }
  await ignoreGone(() => iam.deleteRole({ RoleName: name }));
}

/**
 * Deletes an instance profile after taking its roles out. One already gone
 * is fine.
 */
export async function deleteInstanceProfile(iam: Iam, name: string): Promise<void> {
  const profile = await getInstanceProfile(iam, name);
  if (!profile) return;
  for (const role of profile.Roles ?? []) {
    await ignoreGone(() =>
      iam.removeRoleFromInstanceProfile({ InstanceProfileName: name, RoleName: role.RoleName })
    );
  }
  await ignoreGone(() => iam.deleteInstanceProfile({ InstanceProfileName: name }));
}
