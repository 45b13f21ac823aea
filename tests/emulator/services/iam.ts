/**
 * Emulated IAM: roles, instance profiles, managed and inline policies, tags.
 *
 * @module
 */
import { randomId } from "../credentials.ts";
import { ServiceError } from "../errors.ts";
import type { CallContext, ModeledService, OperationHandler } from "../service.ts";

/** A tag. */
export interface Tag {
  /** The key. */
  Key: string;
  /** The value. */
  Value: string;
}

/** An IAM role as the emulator holds it. */
export interface IamRole {
  /** The path. */
  Path: string;
  /** The name. */
  RoleName: string;
  /** The id. */
  RoleId: string;
  /** The ARN. */
  Arn: string;
  /** When it was created. */
  CreateDate: Date;
  /** The trust policy, as sent (not encoded). */
  AssumeRolePolicyDocument: string;
  /** The description. */
  Description?: string;
  /** Max session seconds. */
  MaxSessionDuration: number;
  /** Tags. */
  Tags: Tag[];
  /** Attached managed policy ARNs. */
  attached: Set<string>;
  /** Inline policies by name (documents not encoded). */
  inline: Map<string, string>;
  /**
   * When (epoch ms) IAM last changed what other services see of the role, for
   * eventual consistency: `trust` by CreateRole and UpdateAssumeRolePolicy,
   * `permissions` by CreateRole, AttachRolePolicy and PutRolePolicy.
   */
  changedAt: { trust: number; permissions: number };
}

/** An instance profile. */
export interface IamInstanceProfile {
  /** The path. */
  Path: string;
  /** The name. */
  InstanceProfileName: string;
  /** The id. */
  InstanceProfileId: string;
  /** The ARN. */
  Arn: string;
  /** When it was created. */
  CreateDate: Date;
  /** Role names (at most one). */
  roles: string[];
  /** Tags. */
  Tags: Tag[];
  /** When (epoch ms) it was created or got its role, for eventual consistency. */
  changedAt: number;
}

/** A managed policy. */
export interface IamPolicy {
  /** The name. */
  PolicyName: string;
  /** The id. */
  PolicyId: string;
  /** The ARN. */
  Arn: string;
  /** The path. */
  Path: string;
  /** The default version. */
  DefaultVersionId: string;
  /** When it was created. */
  CreateDate: Date;
  /** When it was updated. */
  UpdateDate: Date;
  /** The description. */
  Description?: string;
  /** The document (not encoded). */
  document: string;
  /** An AWS managed policy. */
  builtin: boolean;
  /** Tags. */
  Tags: Tag[];
}

const NAME = /^[\w+=,.@-]{1,64}$/;
/**
 * The AWS managed policies the project attaches. The S3 ones carry their
 * published documents ("AWS managed policy reference": AmazonS3FullAccess,
 * AmazonS3ReadOnlyAccess), since S3 evaluates a role's policies; the others
 * are empty, as nothing in the emulator evaluates them.
 */
const AWS_MANAGED: [string, string, object[]?][] = [
  ["/service-role/", "AWSBatchServiceRole"],
  ["/service-role/", "AmazonEC2ContainerServiceforEC2Role"],
  ["/service-role/", "AmazonEC2SpotFleetTaggingRole"],
  ["/service-role/", "AmazonECSTaskExecutionRolePolicy"],
  ["/aws-service-role/", "BatchServiceRolePolicy"],
  ["/", "AmazonS3FullAccess", [{
    Effect: "Allow",
    Action: ["s3:*", "s3-object-lambda:*"],
    Resource: "*",
  }]],
  ["/", "AmazonS3ReadOnlyAccess", [{
    Effect: "Allow",
    Action: [
      "s3:Get*",
      "s3:List*",
      "s3:Describe*",
      "s3-object-lambda:Get*",
      "s3-object-lambda:List*",
    ],
    Resource: "*",
  }]],
  ["/", "AmazonEC2ContainerRegistryReadOnly"],
  ["/", "CloudWatchLogsFullAccess"],
];

function encodePolicy(doc: string): string {
  return encodeURIComponent(doc);
}

function checkPolicyJson(doc: string): void {
  try {
    const v = JSON.parse(doc);
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error();
  } catch {
    throw new ServiceError("MalformedPolicyDocument", "This policy contains invalid Json", 400);
  }
}

function checkName(kind: string, name: string): void {
  if (!NAME.test(name)) {
    throw new ServiceError(
      "ValidationError",
      `1 validation error detected: Value '${name}' at '${kind}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`,
      400,
    );
  }
}

function checkPath(path: string): void {
  if (!/^\/([\x21-\x7e]*\/)?$/.test(path)) {
    throw new ServiceError(
      "ValidationError",
      "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.",
      400,
    );
  }
}

function page<T>(items: T[], marker: string | undefined, max: number | undefined) {
  const start = marker ? Number(marker.replace(/^emu-/, "")) || 0 : 0;
  const n = max ?? 100;
  const slice = items.slice(start, start + n);
  const more = start + n < items.length;
  return { slice, IsTruncated: more, Marker: more ? `emu-${start + n}` : undefined };
}

function mergeTags(existing: Tag[], add: Tag[]): Tag[] {
  const m = new Map(existing.map((t) => [t.Key, t.Value]));
  for (const t of add) m.set(t.Key, t.Value);
  if (m.size > 50) {
    throw new ServiceError("LimitExceeded", "Cannot exceed quota for TagsPerRole: 50", 409);
  }
  return [...m].map(([Key, Value]) => ({ Key, Value }));
}

/**
 * The IAM state of one emulator.
 *
 * @example Usage
 * ```ts ignore
 * emu.iam.roles.get("my-role");
 * ```
 */
export class IamService implements ModeledService {
  /** Roles by name. */
  readonly roles: Map<string, IamRole> = new Map();
  /** Instance profiles by name. */
  readonly instanceProfiles: Map<string, IamInstanceProfile> = new Map();
  /** Managed policies by ARN (AWS managed ones included). */
  readonly policies: Map<string, IamPolicy> = new Map();
  /**
   * The account's quota of managed policies attached to one role ("Managed
   * policies per role", L-0DA4ABF3: 10 unless AWS raised it, at most 20).
   * AttachRolePolicy beyond it answers 409 `LimitExceeded`; GetAccountSummary
   * reports it as `AttachedPoliciesPerRoleQuota`.
   */
  policiesPerRole: number;
  /** Handlers by operation. */
  readonly operations: Record<string, OperationHandler>;
  #account: string;

  /**
   * Makes IAM with the AWS managed policies the project attaches.
   *
   * @param account The account id.
   * @param options `policiesPerRole` sets the account's quota (default 10).
   */
  constructor(account: string, options: { policiesPerRole?: number } = {}) {
    this.#account = account;
    this.policiesPerRole = options.policiesPerRole ?? 10;
    const created = new Date("2015-04-09T15:03:43Z");
    for (const [path, name, statements] of AWS_MANAGED) {
      const arn = `arn:aws:iam::aws:policy${path}${name}`;
      this.policies.set(arn, {
        PolicyName: name,
        PolicyId: `ANPA${randomId(17)}`,
        Arn: arn,
        Path: path,
        DefaultVersionId: "v1",
        CreateDate: created,
        UpdateDate: created,
        document: JSON.stringify({ Version: "2012-10-17", Statement: statements ?? [] }),
        builtin: true,
        Tags: [],
      });
    }
    this.operations = {
      CreateRole: (p) => this.#createRole(p),
      GetRole: (p) => ({ Role: this.#roleOut(this.role(p.RoleName)) }),
      DeleteRole: (p) => this.#deleteRole(p),
      TagRole: (p) => {
        const r = this.role(p.RoleName);
        r.Tags = mergeTags(r.Tags, p.Tags);
        return {};
      },
      UntagRole: (p) => {
        const r = this.role(p.RoleName);
        r.Tags = r.Tags.filter((t) => !p.TagKeys.includes(t.Key));
        return {};
      },
      ListRoleTags: (p) => {
        const r = this.role(p.RoleName);
        const { slice, IsTruncated, Marker } = page(r.Tags, p.Marker, p.MaxItems);
        return { Tags: slice, IsTruncated, Marker };
      },
      ListRoles: (p) => {
        const all = [...this.roles.values()].filter((r) => r.Path.startsWith(p.PathPrefix ?? "/"));
        const { slice, IsTruncated, Marker } = page(all, p.Marker, p.MaxItems);
        return { Roles: slice.map((r) => this.#roleOut(r, false)), IsTruncated, Marker };
      },
      UpdateAssumeRolePolicy: (p) => {
        const r = this.role(p.RoleName);
        checkPolicyJson(p.PolicyDocument);
        r.AssumeRolePolicyDocument = p.PolicyDocument;
        r.changedAt.trust = Date.now();
        return {};
      },
      AttachRolePolicy: (p) => {
        const r = this.role(p.RoleName);
        const pol = this.policies.get(p.PolicyArn);
        if (!pol) {
          throw new ServiceError(
            "NoSuchEntity",
            `Policy ${p.PolicyArn} does not exist or is not attachable.`,
            404,
          );
        }
        if (!r.attached.has(p.PolicyArn) && r.attached.size >= this.policiesPerRole) {
          // IAM's words, as users report them.
          throw new ServiceError(
            "LimitExceeded",
            `Cannot exceed quota for PoliciesPerRole: ${this.policiesPerRole}`,
            409,
          );
        }
        r.attached.add(p.PolicyArn);
        r.changedAt.permissions = Date.now();
        return {};
      },
      DetachRolePolicy: (p) => {
        const r = this.role(p.RoleName);
        if (!r.attached.delete(p.PolicyArn)) {
          throw new ServiceError("NoSuchEntity", `Policy ${p.PolicyArn} was not found.`, 404);
        }
        return {};
      },
      ListAttachedRolePolicies: (p) => {
        const r = this.role(p.RoleName);
        const all = [...r.attached].map((arn) => ({
          PolicyName: this.policies.get(arn)?.PolicyName ?? arn.split("/").pop(),
          PolicyArn: arn,
        })).filter((x) =>
          this.policies.get(x.PolicyArn)?.Path.startsWith(p.PathPrefix ?? "/") ?? true
        );
        const { slice, IsTruncated, Marker } = page(all, p.Marker, p.MaxItems);
        return { AttachedPolicies: slice, IsTruncated, Marker };
      },
      PutRolePolicy: (p) => {
        const r = this.role(p.RoleName);
        checkName("policyName", p.PolicyName);
        checkPolicyJson(p.PolicyDocument);
        r.inline.set(p.PolicyName, p.PolicyDocument);
        r.changedAt.permissions = Date.now();
        return {};
      },
      GetRolePolicy: (p) => {
        const r = this.role(p.RoleName);
        const doc = r.inline.get(p.PolicyName);
        if (doc === undefined) {
          throw new ServiceError(
            "NoSuchEntity",
            `The role policy with name ${p.PolicyName} cannot be found.`,
            404,
          );
        }
        return {
          RoleName: r.RoleName,
          PolicyName: p.PolicyName,
          PolicyDocument: encodePolicy(doc),
        };
      },
      DeleteRolePolicy: (p) => {
        const r = this.role(p.RoleName);
        if (!r.inline.delete(p.PolicyName)) {
          throw new ServiceError(
            "NoSuchEntity",
            `The role policy with name ${p.PolicyName} cannot be found.`,
            404,
          );
        }
        return {};
      },
      ListRolePolicies: (p) => {
        const r = this.role(p.RoleName);
        const { slice, IsTruncated, Marker } = page([...r.inline.keys()], p.Marker, p.MaxItems);
        return { PolicyNames: slice, IsTruncated, Marker };
      },
      CreateInstanceProfile: (p) => this.#createInstanceProfile(p),
      GetInstanceProfile: (p) => ({
        InstanceProfile: this.#profileOut(this.profile(p.InstanceProfileName)),
      }),
      DeleteInstanceProfile: (p) => {
        const ip = this.profile(p.InstanceProfileName);
        if (ip.roles.length > 0) {
          throw new ServiceError(
            "DeleteConflict",
            "Cannot delete entity, must remove roles from instance profile first.",
            409,
          );
        }
        this.instanceProfiles.delete(ip.InstanceProfileName);
        return {};
      },
      AddRoleToInstanceProfile: (p) => {
        const ip = this.profile(p.InstanceProfileName);
        const r = this.role(p.RoleName);
        if (ip.roles.includes(r.RoleName) || ip.roles.length >= 1) {
          throw new ServiceError(
            "LimitExceeded",
            "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
            409,
          );
        }
        ip.roles.push(r.RoleName);
        ip.changedAt = Date.now();
        return {};
      },
      RemoveRoleFromInstanceProfile: (p) => {
        const ip = this.profile(p.InstanceProfileName);
        this.role(p.RoleName);
        if (!ip.roles.includes(p.RoleName)) {
          throw new ServiceError(
            "NoSuchEntity",
            `The role with name ${p.RoleName} cannot be found in instance profile ${ip.InstanceProfileName}.`,
            404,
          );
        }
        ip.roles = ip.roles.filter((n) => n !== p.RoleName);
        return {};
      },
      ListInstanceProfiles: (p) => {
        const all = [...this.instanceProfiles.values()].filter((i) =>
          i.Path.startsWith(p.PathPrefix ?? "/")
        );
        const { slice, IsTruncated, Marker } = page(all, p.Marker, p.MaxItems);
        return { InstanceProfiles: slice.map((i) => this.#profileOut(i)), IsTruncated, Marker };
      },
      ListInstanceProfilesForRole: (p) => {
        const r = this.role(p.RoleName);
        const all = [...this.instanceProfiles.values()].filter((i) => i.roles.includes(r.RoleName));
        const { slice, IsTruncated, Marker } = page(all, p.Marker, p.MaxItems);
        return { InstanceProfiles: slice.map((i) => this.#profileOut(i)), IsTruncated, Marker };
      },
      TagInstanceProfile: (p) => {
        const ip = this.profile(p.InstanceProfileName);
        ip.Tags = mergeTags(ip.Tags, p.Tags);
        return {};
      },
      ListInstanceProfileTags: (p) => {
        const ip = this.profile(p.InstanceProfileName);
        return { Tags: ip.Tags, IsTruncated: false };
      },
      CreatePolicy: (p) => this.#createPolicy(p),
      GetPolicy: (p) => ({ Policy: this.#policyOut(this.policy(p.PolicyArn)) }),
      // The entities IAM holds and the quotas it applies (AWS's defaults but
      // the policies per role, which an account can have raised).
      GetAccountSummary: () => ({
        SummaryMap: {
          Roles: this.roles.size,
          RolesQuota: 1000,
          InstanceProfiles: this.instanceProfiles.size,
          InstanceProfilesQuota: 1000,
          Policies: [...this.policies.values()].filter((p) => !p.builtin).length,
          PoliciesQuota: 1500,
          AttachedPoliciesPerRoleQuota: this.policiesPerRole,
          AttachedPoliciesPerUserQuota: 10,
          AttachedPoliciesPerGroupQuota: 10,
          PolicySizeQuota: 6144,
          RolePolicySizeQuota: 10240,
          AssumeRolePolicySizeQuota: 2048,
          VersionsPerPolicyQuota: 5,
        },
      }),
      GetPolicyVersion: (p) => {
        const pol = this.policy(p.PolicyArn);
        if (p.VersionId !== pol.DefaultVersionId) {
          throw new ServiceError(
            "NoSuchEntity",
            `Policy ${p.PolicyArn} version ${p.VersionId} does not exist or is not attachable.`,
            404,
          );
        }
        return {
          PolicyVersion: {
            Document: encodePolicy(pol.document),
            VersionId: pol.DefaultVersionId,
            IsDefaultVersion: true,
            CreateDate: pol.CreateDate,
          },
        };
      },
      DeletePolicy: (p) => {
        const pol = this.policy(p.PolicyArn);
        if (pol.builtin) {
          throw new ServiceError("AccessDenied", "Cannot delete an AWS managed policy", 403);
        }
        if (this.#attachmentCount(pol.Arn) > 0) {
          throw new ServiceError(
            "DeleteConflict",
            "Cannot delete a policy attached to entities.",
            409,
          );
        }
        this.policies.delete(pol.Arn);
        return {};
      },
      ListPolicies: (p) => {
        const scope = p.Scope ?? "All";
        const all = [...this.policies.values()].filter((x) =>
          (scope === "All" || (scope === "AWS") === x.builtin) &&
          x.Path.startsWith(p.PathPrefix ?? "/") &&
          (!p.OnlyAttached || this.#attachmentCount(x.Arn) > 0)
        );
        const { slice, IsTruncated, Marker } = page(all, p.Marker, p.MaxItems);
        return { Policies: slice.map((x) => this.#policyOut(x)), IsTruncated, Marker };
      },
      GetUser: (p, ctx: CallContext) => {
        if (p.UserName === undefined && ctx.principal.kind !== "user") {
          throw new ServiceError(
            "ValidationError",
            "Must specify userName when calling with non-User credentials",
            400,
          );
        }
        const name = p.UserName ?? ctx.principal.arn.split("/").pop();
        if (name !== "emulator") {
          throw new ServiceError(
            "NoSuchEntity",
            `The user with name ${name} cannot be found.`,
            404,
          );
        }
        return {
          User: {
            Path: "/",
            UserName: "emulator",
            UserId: ctx.principal.userId,
            Arn: ctx.principal.arn,
            CreateDate: new Date("2020-01-01T00:00:00Z"),
          },
        };
      },
    };
  }

  /**
   * A role by name, or NoSuchEntity.
   *
   * @param name The role name.
   */
  role(name: string): IamRole {
    const r = this.roles.get(name);
    if (!r) {
      throw new ServiceError("NoSuchEntity", `The role with name ${name} cannot be found.`, 404);
    }
    return r;
  }

  /**
   * An instance profile by name, or NoSuchEntity.
   *
   * @param name The instance profile name.
   */
  profile(name: string): IamInstanceProfile {
    const ip = this.instanceProfiles.get(name);
    if (!ip) {
      throw new ServiceError("NoSuchEntity", `Instance Profile ${name} cannot be found.`, 404);
    }
    return ip;
  }

  /**
   * A managed policy by ARN, or NoSuchEntity.
   *
   * @param arn The policy ARN.
   */
  policy(arn: string): IamPolicy {
    const p = this.policies.get(arn);
    if (!p) throw new ServiceError("NoSuchEntity", `Policy ${arn} was not found.`, 404);
    return p;
  }

  /**
   * The policy documents of a role: its inline policies and the managed
   * policies attached to it (for other services' authorization). None for a
   * role that does not exist.
   *
   * @param roleName The role's name.
   */
  policyDocuments(roleName: string): string[] {
    const r = this.roles.get(roleName);
    if (!r) return [];
    return [
      ...r.inline.values(),
      ...[...r.attached].flatMap((arn) => {
        const p = this.policies.get(arn);
        return p ? [p.document] : [];
      }),
    ];
  }

  /**
   * Finds a role by name or ARN (for other services' checks).
   *
   * @param nameOrArn A role name or ARN.
   */
  findRole(nameOrArn: string): IamRole | undefined {
    if (nameOrArn.startsWith("arn:")) {
      return [...this.roles.values()].find((r) => r.Arn === nameOrArn);
    }
    return this.roles.get(nameOrArn);
  }

  /**
   * The service-linked role a service makes for itself the first time an
   * account needs it (AWS Batch's `AWSServiceRoleForBatch` when a managed
   * compute environment names no service role:
   * https://docs.aws.amazon.com/batch/latest/userguide/using-service-linked-roles.html),
   * at `/aws-service-role/<service>/`, trusting the service, with its
   * managed policy. Made once; its ARN.
   *
   * @param service The service principal, e.g. `batch.amazonaws.com`.
   * @param name The role's name, e.g. `AWSServiceRoleForBatch`.
   * @param policy The managed policy's name, e.g. `BatchServiceRolePolicy`.
   */
  ensureServiceLinkedRole(service: string, name: string, policy: string): string {
    const existing = this.roles.get(name);
    if (existing) return existing.Arn;
    const path = `/aws-service-role/${service}/`;
    const role: IamRole = {
      Path: path,
      RoleName: name,
      RoleId: `AROA${randomId(17)}`,
      Arn: `arn:aws:iam::${this.#account}:role${path}${name}`,
      CreateDate: new Date(Math.floor(Date.now() / 1000) * 1000),
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
      }),
      MaxSessionDuration: 3600,
      Tags: [],
      attached: new Set([`arn:aws:iam::aws:policy/aws-service-role/${policy}`]),
      inline: new Map(),
      changedAt: { trust: Date.now(), permissions: Date.now() },
    };
    this.roles.set(name, role);
    return role.Arn;
  }

  /**
   * Finds an instance profile by name or ARN (for Batch's checks).
   *
   * @param nameOrArn A profile name or ARN.
   */
  findInstanceProfile(nameOrArn: string): IamInstanceProfile | undefined {
    if (nameOrArn.startsWith("arn:")) {
      return [...this.instanceProfiles.values()].find((r) => r.Arn === nameOrArn);
    }
    return this.instanceProfiles.get(nameOrArn);
  }

  #attachmentCount(arn: string): number {
    return [...this.roles.values()].filter((r) => r.attached.has(arn)).length;
  }

  // deno-lint-ignore no-explicit-any
  #createRole(p: any): unknown {
    checkName("roleName", p.RoleName);
    const path = p.Path ?? "/";
    checkPath(path);
    checkPolicyJson(p.AssumeRolePolicyDocument);
    if (this.roles.has(p.RoleName)) {
      throw new ServiceError(
        "EntityAlreadyExists",
        `Role with name ${p.RoleName} already exists.`,
        409,
      );
    }
    const max = p.MaxSessionDuration ?? 3600;
    if (max < 3600 || max > 43200) {
      throw new ServiceError(
        "ValidationError",
        `1 validation error detected: Value '${max}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200`,
        400,
      );
    }
    const role: IamRole = {
      Path: path,
      RoleName: p.RoleName,
      RoleId: `AROA${randomId(17)}`,
      Arn: `arn:aws:iam::${this.#account}:role${path}${p.RoleName}`,
      CreateDate: new Date(Math.floor(Date.now() / 1000) * 1000),
      AssumeRolePolicyDocument: p.AssumeRolePolicyDocument,
      Description: p.Description,
      MaxSessionDuration: max,
      Tags: mergeTags([], p.Tags ?? []),
      attached: new Set(),
      inline: new Map(),
      changedAt: { trust: Date.now(), permissions: Date.now() },
    };
    this.roles.set(role.RoleName, role);
    return { Role: this.#roleOut(role) };
  }

  // deno-lint-ignore no-explicit-any
  #deleteRole(p: any): unknown {
    const r = this.role(p.RoleName);
    if (r.attached.size > 0) {
      throw new ServiceError(
        "DeleteConflict",
        "Cannot delete entity, must detach all policies first.",
        409,
      );
    }
    if (r.inline.size > 0) {
      throw new ServiceError(
        "DeleteConflict",
        "Cannot delete entity, must delete policies first.",
        409,
      );
    }
    if ([...this.instanceProfiles.values()].some((i) => i.roles.includes(r.RoleName))) {
      throw new ServiceError(
        "DeleteConflict",
        "Cannot delete entity, must remove roles from instance profile first.",
        409,
      );
    }
    this.roles.delete(r.RoleName);
    return {};
  }

  // deno-lint-ignore no-explicit-any
  #createInstanceProfile(p: any): unknown {
    checkName("instanceProfileName", p.InstanceProfileName);
    const path = p.Path ?? "/";
    checkPath(path);
    if (this.instanceProfiles.has(p.InstanceProfileName)) {
      throw new ServiceError(
        "EntityAlreadyExists",
        `Instance Profile ${p.InstanceProfileName} already exists.`,
        409,
      );
    }
    const ip: IamInstanceProfile = {
      Path: path,
      InstanceProfileName: p.InstanceProfileName,
      InstanceProfileId: `AIPA${randomId(17)}`,
      Arn: `arn:aws:iam::${this.#account}:instance-profile${path}${p.InstanceProfileName}`,
      CreateDate: new Date(Math.floor(Date.now() / 1000) * 1000),
      roles: [],
      Tags: mergeTags([], p.Tags ?? []),
      changedAt: Date.now(),
    };
    this.instanceProfiles.set(ip.InstanceProfileName, ip);
    return { InstanceProfile: this.#profileOut(ip) };
  }

  // deno-lint-ignore no-explicit-any
  #createPolicy(p: any): unknown {
    checkName("policyName", p.PolicyName);
    const path = p.Path ?? "/";
    checkPath(path);
    checkPolicyJson(p.PolicyDocument);
    const arn = `arn:aws:iam::${this.#account}:policy${path}${p.PolicyName}`;
    if (this.policies.has(arn)) {
      throw new ServiceError(
        "EntityAlreadyExists",
        `A policy called ${p.PolicyName} already exists. Duplicate names are not allowed.`,
        409,
      );
    }
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const pol: IamPolicy = {
      PolicyName: p.PolicyName,
      PolicyId: `ANPA${randomId(17)}`,
      Arn: arn,
      Path: path,
      DefaultVersionId: "v1",
      CreateDate: now,
      UpdateDate: now,
      Description: p.Description,
      document: p.PolicyDocument,
      builtin: false,
      Tags: p.Tags ?? [],
    };
    this.policies.set(arn, pol);
    return { Policy: this.#policyOut(pol) };
  }

  #roleOut(r: IamRole, full = true): Record<string, unknown> {
    return {
      Path: r.Path,
      RoleName: r.RoleName,
      RoleId: r.RoleId,
      Arn: r.Arn,
      CreateDate: r.CreateDate,
      AssumeRolePolicyDocument: encodePolicy(r.AssumeRolePolicyDocument),
      Description: r.Description,
      MaxSessionDuration: r.MaxSessionDuration,
      Tags: full && r.Tags.length > 0 ? r.Tags : undefined,
    };
  }

  #profileOut(ip: IamInstanceProfile): Record<string, unknown> {
    return {
      Path: ip.Path,
      InstanceProfileName: ip.InstanceProfileName,
      InstanceProfileId: ip.InstanceProfileId,
      Arn: ip.Arn,
      CreateDate: ip.CreateDate,
      Roles: ip.roles.map((n) => this.roles.get(n)).filter((r) => r).map((r) =>
        this.#roleOut(r!, false)
      ),
      Tags: ip.Tags.length > 0 ? ip.Tags : undefined,
    };
  }

  #policyOut(p: IamPolicy): Record<string, unknown> {
    return {
      PolicyName: p.PolicyName,
      PolicyId: p.PolicyId,
      Arn: p.Arn,
      Path: p.Path,
      DefaultVersionId: p.DefaultVersionId,
      AttachmentCount: this.#attachmentCount(p.Arn),
      PermissionsBoundaryUsageCount: 0,
      IsAttachable: true,
      Description: p.Description,
      CreateDate: p.CreateDate,
      UpdateDate: p.UpdateDate,
    };
  }
}
