/**
 * AWS IAM (awsQuery, API 2010-05-08): roles, instance profiles and policies.
 * IAM returns policy documents URL-encoded; this client decodes them.
 *
 * @module
 */
import { callQuery, type QueryServiceInfo } from "../protocols/query.ts";
import { paginate, type Paginator } from "../core/paginate.ts";
import type { AwsHttpClient, CallOptions, OperationInfo } from "../core/request.ts";

/** An IAM tag. */
export interface IamTag {
  /** The key. */
  Key: string;
  /** The value. */
  Value: string;
}

/** An IAM role. */
export interface Role {
  /** The path. */
  Path: string;
  /** The name. */
  RoleName: string;
  /** The role id. */
  RoleId: string;
  /** The ARN. */
  Arn: string;
  /** Created. */
  CreateDate: Date;
  /** The trust policy, decoded JSON text. */
  AssumeRolePolicyDocument?: string;
  /** The description. */
  Description?: string;
  /** The maximum session length in seconds. */
  MaxSessionDuration?: number;
  /** The permissions boundary. */
  PermissionsBoundary?: { PermissionsBoundaryType?: string; PermissionsBoundaryArn?: string };
  /** Tags. */
  Tags?: IamTag[];
  /** When the role was last used. */
  RoleLastUsed?: { LastUsedDate?: Date; Region?: string };
}

/** An instance profile. */
export interface InstanceProfile {
  /** The path. */
  Path: string;
  /** The name. */
  InstanceProfileName: string;
  /** The id. */
  InstanceProfileId: string;
  /** The ARN. */
  Arn: string;
  /** Created. */
  CreateDate: Date;
  /** Its roles (at most one). */
  Roles: Role[];
  /** Tags. */
  Tags?: IamTag[];
}

/** An attached managed policy. */
export interface AttachedPolicy {
  /** The name. */
  PolicyName?: string;
  /** The ARN. */
  PolicyArn?: string;
}

/** A managed policy. */
export interface ManagedPolicy {
  /** The name. */
  PolicyName?: string;
  /** The id. */
  PolicyId?: string;
  /** The ARN. */
  Arn?: string;
  /** The path. */
  Path?: string;
  /** The default version id. */
  DefaultVersionId?: string;
  /** How many entities it is attached to. */
  AttachmentCount?: number;
  /** How many entities use it as a permissions boundary. */
  PermissionsBoundaryUsageCount?: number;
  /** Whether it can be attached. */
  IsAttachable?: boolean;
  /** The description. */
  Description?: string;
  /** Created. */
  CreateDate?: Date;
  /** Updated. */
  UpdateDate?: Date;
  /** Tags. */
  Tags?: IamTag[];
}

/** CreateRole input. */
export interface CreateRoleRequest {
  /** The path, `/` by default. */
  Path?: string;
  /** The name. */
  RoleName: string;
  /** The trust policy JSON. */
  AssumeRolePolicyDocument: string;
  /** The description. */
  Description?: string;
  /** The maximum session length in seconds. */
  MaxSessionDuration?: number;
  /** A permissions boundary ARN. */
  PermissionsBoundary?: string;
  /** Tags. */
  Tags?: IamTag[];
}

/** CreateRole output. */
export interface CreateRoleResponse {
  /** The role. */
  Role: Role;
}

/** GetRole input. */
export interface GetRoleRequest {
  /** The name. */
  RoleName: string;
}

/** GetRole output. */
export interface GetRoleResponse {
  /** The role. */
  Role: Role;
}

/** Input naming a role. */
export interface RoleNameRequest {
  /** The role's name. */
  RoleName: string;
}

/** TagRole input. */
export interface TagRoleRequest {
  /** The role's name. */
  RoleName: string;
  /** Tags to add. */
  Tags: IamTag[];
}

/** ListRoleTags input. */
export interface ListRoleTagsRequest {
  /** The role's name. */
  RoleName: string;
  /** The marker of the next page. */
  Marker?: string;
  /** Page size. */
  MaxItems?: number;
}

/** ListRoleTags output. */
export interface ListRoleTagsResponse {
  /** The tags. */
  Tags: IamTag[];
  /** Whether more pages follow. */
  IsTruncated?: boolean;
  /** The marker of the next page. */
  Marker?: string;
}

/** AttachRolePolicy and DetachRolePolicy input. */
export interface RolePolicyArnRequest {
  /** The role's name. */
  RoleName: string;
  /** The managed policy ARN. */
  PolicyArn: string;
}

/** ListAttachedRolePolicies input. */
export interface ListAttachedRolePoliciesRequest {
  /** The role's name. */
  RoleName: string;
  /** A path prefix. */
  PathPrefix?: string;
  /** The marker of the next page. */
  Marker?: string;
  /** Page size. */
  MaxItems?: number;
}

/** ListAttachedRolePolicies output. */
export interface ListAttachedRolePoliciesResponse {
  /** The policies. */
  AttachedPolicies?: AttachedPolicy[];
  /** Whether more pages follow. */
  IsTruncated?: boolean;
  /** The marker of the next page. */
  Marker?: string;
}

/** PutRolePolicy input. */
export interface PutRolePolicyRequest {
  /** The role's name. */
  RoleName: string;
  /** The inline policy's name. */
  PolicyName: string;
  /** The policy JSON. */
  PolicyDocument: string;
}

/** GetRolePolicy and DeleteRolePolicy input. */
export interface RolePolicyNameRequest {
  /** The role's name. */
  RoleName: string;
  /** The inline policy's name. */
  PolicyName: string;
}

/** GetRolePolicy output. */
export interface GetRolePolicyResponse {
  /** The role's name. */
  RoleName: string;
  /** The policy's name. */
  PolicyName: string;
  /** The policy JSON, decoded. */
  PolicyDocument: string;
}

/** ListRolePolicies input. */
export interface ListRolePoliciesRequest {
  /** The role's name. */
  RoleName: string;
  /** The marker of the next page. */
  Marker?: string;
  /** Page size. */
  MaxItems?: number;
}

/** ListRolePolicies output. */
export interface ListRolePoliciesResponse {
  /** The inline policy names. */
  PolicyNames: string[];
  /** Whether more pages follow. */
  IsTruncated?: boolean;
  /** The marker of the next page. */
  Marker?: string;
}

/** CreateInstanceProfile input. */
export interface CreateInstanceProfileRequest {
  /** The name. */
  InstanceProfileName: string;
  /** The path. */
  Path?: string;
  /** Tags. */
  Tags?: IamTag[];
}

/** CreateInstanceProfile and GetInstanceProfile output. */
export interface InstanceProfileResponse {
  /** The instance profile. */
  InstanceProfile: InstanceProfile;
}

/** Input naming an instance profile. */
export interface InstanceProfileNameRequest {
  /** The instance profile's name. */
  InstanceProfileName: string;
}

/** AddRoleToInstanceProfile and RemoveRoleFromInstanceProfile input. */
export interface InstanceProfileRoleRequest {
  /** The instance profile's name. */
  InstanceProfileName: string;
  /** The role's name. */
  RoleName: string;
}

/** ListInstanceProfilesForRole input. */
export interface ListInstanceProfilesForRoleRequest {
  /** The role's name. */
  RoleName: string;
  /** The marker of the next page. */
  Marker?: string;
  /** Page size. */
  MaxItems?: number;
}

/** ListInstanceProfilesForRole output. */
export interface ListInstanceProfilesForRoleResponse {
  /** The instance profiles. */
  InstanceProfiles: InstanceProfile[];
  /** Whether more pages follow. */
  IsTruncated?: boolean;
  /** The marker of the next page. */
  Marker?: string;
}

/** TagInstanceProfile input. */
export interface TagInstanceProfileRequest {
  /** The instance profile's name. */
  InstanceProfileName: string;
  /** Tags to add. */
  Tags: IamTag[];
}

/** GetPolicy input. */
export interface GetPolicyRequest {
  /** The policy ARN. */
  PolicyArn: string;
}

/** GetPolicy output. */
export interface GetPolicyResponse {
  /** The policy. */
  Policy?: ManagedPolicy;
}

/** ListPolicies input. */
export interface ListPoliciesRequest {
  /** `All`, `AWS` or `Local`. */
  Scope?: string;
  /** Only attached policies. */
  OnlyAttached?: boolean;
  /** A path prefix. */
  PathPrefix?: string;
  /** `PermissionsPolicy` or `PermissionsBoundary`. */
  PolicyUsageFilter?: string;
  /** The marker of the next page. */
  Marker?: string;
  /** Page size. */
  MaxItems?: number;
}

/** ListPolicies output. */
export interface ListPoliciesResponse {
  /** The policies. */
  Policies?: ManagedPolicy[];
  /** Whether more pages follow. */
  IsTruncated?: boolean;
  /** The marker of the next page. */
  Marker?: string;
}

/** ListRoles input. */
export interface ListRolesRequest {
  /** A path prefix. */
  PathPrefix?: string;
  /** The marker of the next page. */
  Marker?: string;
  /** Page size. */
  MaxItems?: number;
}

/** ListRoles output. */
export interface ListRolesResponse {
  /** The roles. */
  Roles: Role[];
  /** Whether more pages follow. */
  IsTruncated?: boolean;
  /** The marker of the next page. */
  Marker?: string;
}

/** IAM's protocol constants and shape hints. */
export const IAM_QUERY: QueryServiceInfo = {
  version: "2010-05-08",
  hints: {
    memberName: "member",
    lists: new Set([
      "Roles",
      "Tags",
      "AttachedPolicies",
      "PolicyNames",
      "InstanceProfiles",
      "Policies",
    ]),
    numbers: new Set(["MaxSessionDuration", "AttachmentCount", "PermissionsBoundaryUsageCount"]),
    booleans: new Set(["IsTruncated", "IsAttachable"]),
    timestamps: new Set(["CreateDate", "UpdateDate", "LastUsedDate"]),
    urlEncoded: new Set(["AssumeRolePolicyDocument", "PolicyDocument"]),
  },
};

/** The IAM operations as data. */
export const IAM_OPERATIONS = {
  CreateRole: { name: "CreateRole", idempotent: false },
  GetRole: { name: "GetRole", idempotent: true },
  DeleteRole: { name: "DeleteRole", idempotent: true },
  TagRole: { name: "TagRole", idempotent: true },
  ListRoleTags: { name: "ListRoleTags", idempotent: true },
  AttachRolePolicy: { name: "AttachRolePolicy", idempotent: true },
  DetachRolePolicy: { name: "DetachRolePolicy", idempotent: true },
  ListAttachedRolePolicies: { name: "ListAttachedRolePolicies", idempotent: true },
  PutRolePolicy: { name: "PutRolePolicy", idempotent: true },
  GetRolePolicy: { name: "GetRolePolicy", idempotent: true },
  DeleteRolePolicy: { name: "DeleteRolePolicy", idempotent: true },
  ListRolePolicies: { name: "ListRolePolicies", idempotent: true },
  CreateInstanceProfile: { name: "CreateInstanceProfile", idempotent: false },
  GetInstanceProfile: { name: "GetInstanceProfile", idempotent: true },
  DeleteInstanceProfile: { name: "DeleteInstanceProfile", idempotent: true },
  AddRoleToInstanceProfile: { name: "AddRoleToInstanceProfile", idempotent: false },
  RemoveRoleFromInstanceProfile: { name: "RemoveRoleFromInstanceProfile", idempotent: true },
  ListInstanceProfilesForRole: { name: "ListInstanceProfilesForRole", idempotent: true },
  TagInstanceProfile: { name: "TagInstanceProfile", idempotent: true },
  GetPolicy: { name: "GetPolicy", idempotent: true },
  ListPolicies: { name: "ListPolicies", idempotent: true },
  ListRoles: { name: "ListRoles", idempotent: true },
} as const satisfies Record<string, OperationInfo>;

/** The IAM paginators as data. */
export const IAM_PAGINATORS = {
  ListRoleTags: {
    inputToken: "Marker",
    outputToken: "Marker",
    items: "Tags",
    moreResults: "IsTruncated",
  },
  ListAttachedRolePolicies: {
    inputToken: "Marker",
    outputToken: "Marker",
    items: "AttachedPolicies",
    moreResults: "IsTruncated",
  },
  ListRolePolicies: {
    inputToken: "Marker",
    outputToken: "Marker",
    items: "PolicyNames",
    moreResults: "IsTruncated",
  },
  ListInstanceProfilesForRole: {
    inputToken: "Marker",
    outputToken: "Marker",
    items: "InstanceProfiles",
    moreResults: "IsTruncated",
  },
  ListPolicies: {
    inputToken: "Marker",
    outputToken: "Marker",
    items: "Policies",
    moreResults: "IsTruncated",
  },
  ListRoles: {
    inputToken: "Marker",
    outputToken: "Marker",
    items: "Roles",
    moreResults: "IsTruncated",
  },
} as const satisfies Record<string, Paginator>;

/**
 * The IAM client (global endpoint, signed for us-east-1). Get one from
 * {@linkcode AwsSession.iam}. Policy documents come back decoded.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot";
 *
 * const aws = await AwsSession.create();
 * const { Role } = await aws.iam.getRole({ RoleName: "ecsInstanceRole" });
 * console.log(Role?.Arn);
 * ```
 */
export class Iam {
  #client: AwsHttpClient;

  /**
   * Makes a client on top of a signed HTTP client.
   *
   * @param client The service's HTTP client.
   */
  constructor(client: AwsHttpClient) {
    this.#client = client;
  }

  /**
   * CreateRole (not idempotent).
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  createRole(input: CreateRoleRequest, options?: CallOptions): Promise<CreateRoleResponse> {
    return callQuery(this.#client, IAM_QUERY, IAM_OPERATIONS.CreateRole, input, options);
  }

  /**
   * GetRole.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  getRole(input: GetRoleRequest, options?: CallOptions): Promise<GetRoleResponse> {
    return callQuery(this.#client, IAM_QUERY, IAM_OPERATIONS.GetRole, input, options);
  }

  /**
   * DeleteRole.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns Nothing.
   */
  async deleteRole(input: RoleNameRequest, options?: CallOptions): Promise<void> {
    await callQuery(this.#client, IAM_QUERY, IAM_OPERATIONS.DeleteRole, input, options);
  }

  /**
   * TagRole.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns Nothing.
   */
  async tagRole(input: TagRoleRequest, options?: CallOptions): Promise<void> {
    await callQuery(this.#client, IAM_QUERY, IAM_OPERATIONS.TagRole, input, options);
  }

  /**
   * ListRoleTags.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  listRoleTags(input: ListRoleTagsRequest, options?: CallOptions): Promise<ListRoleTagsResponse> {
    return callQuery(this.#client, IAM_QUERY, IAM_OPERATIONS.ListRoleTags, input, options);
  }

  /**
   * Every item of ListRoleTags, across pages.
   *
   * @param input The request.
   * @returns The items.
   */
  listRoleTagsAll(input: ListRoleTagsRequest): AsyncGenerator<IamTag> {
    return paginate((i) => this.listRoleTags(i), input, IAM_PAGINATORS.ListRoleTags);
  }

  /**
   * AttachRolePolicy.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns Nothing.
   */
  async attachRolePolicy(input: RolePolicyArnRequest, options?: CallOptions): Promise<void> {
    await callQuery(this.#client, IAM_QUERY, IAM_OPERATIONS.AttachRolePolicy, input, options);
  }

  /**
   * DetachRolePolicy.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns Nothing.
   */
  async detachRolePolicy(input: RolePolicyArnRequest, options?: CallOptions): Promise<void> {
    await callQuery(this.#client, IAM_QUERY, IAM_OPERATIONS.DetachRolePolicy, input, options);
  }

  /**
   * ListAttachedRolePolicies.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  listAttachedRolePolicies(
    input: ListAttachedRolePoliciesRequest,
    options?: CallOptions,
  ): Promise<ListAttachedRolePoliciesResponse> {
    return callQuery(
      this.#client,
      IAM_QUERY,
      IAM_OPERATIONS.ListAttachedRolePolicies,
      input,
      options,
    );
  }

  /**
   * Every item of ListAttachedRolePolicies, across pages.
   *
   * @param input The request.
   * @returns The items.
   */
  listAttachedRolePoliciesAll(
    input: ListAttachedRolePoliciesRequest,
  ): AsyncGenerator<AttachedPolicy> {
    return paginate(
      (i) => this.listAttachedRolePolicies(i),
      input,
      IAM_PAGINATORS.ListAttachedRolePolicies,
    );
  }

  /**
   * PutRolePolicy.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns Nothing.
   */
  async putRolePolicy(input: PutRolePolicyRequest, options?: CallOptions): Promise<void> {
    await callQuery(this.#client, IAM_QUERY, IAM_OPERATIONS.PutRolePolicy, input, options);
  }

  /**
   * GetRolePolicy.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  getRolePolicy(
    input: RolePolicyNameRequest,
    options?: CallOptions,
  ): Promise<GetRolePolicyResponse> {
    return callQuery(this.#client, IAM_QUERY, IAM_OPERATIONS.GetRolePolicy, input, options);
  }

  /**
   * DeleteRolePolicy.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns Nothing.
   */
  async deleteRolePolicy(input: RolePolicyNameRequest, options?: CallOptions): Promise<void> {
    await callQuery(this.#client, IAM_QUERY, IAM_OPERATIONS.DeleteRolePolicy, input, options);
  }

  /**
   * ListRolePolicies.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  listRolePolicies(
    input: ListRolePoliciesRequest,
    options?: CallOptions,
  ): Promise<ListRolePoliciesResponse> {
    return callQuery(this.#client, IAM_QUERY, IAM_OPERATIONS.ListRolePolicies, input, options);
  }

  /**
   * Every item of ListRolePolicies, across pages.
   *
   * @param input The request.
   * @returns The items.
   */
  listRolePoliciesAll(input: ListRolePoliciesRequest): AsyncGenerator<string> {
    return paginate((i) => this.listRolePolicies(i), input, IAM_PAGINATORS.ListRolePolicies);
  }

  /**
   * CreateInstanceProfile (not idempotent).
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  createInstanceProfile(
    input: CreateInstanceProfileRequest,
    options?: CallOptions,
  ): Promise<InstanceProfileResponse> {
    return callQuery(this.#client, IAM_QUERY, IAM_OPERATIONS.CreateInstanceProfile, input, options);
  }

  /**
   * GetInstanceProfile.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  getInstanceProfile(
    input: InstanceProfileNameRequest,
    options?: CallOptions,
  ): Promise<InstanceProfileResponse> {
    return callQuery(this.#client, IAM_QUERY, IAM_OPERATIONS.GetInstanceProfile, input, options);
  }

  /**
   * DeleteInstanceProfile.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns Nothing.
   */
  async deleteInstanceProfile(
    input: InstanceProfileNameRequest,
    options?: CallOptions,
  ): Promise<void> {
    await callQuery(this.#client, IAM_QUERY, IAM_OPERATIONS.DeleteInstanceProfile, input, options);
  }

  /**
   * AddRoleToInstanceProfile (not idempotent).
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns Nothing.
   */
  async addRoleToInstanceProfile(
    input: InstanceProfileRoleRequest,
    options?: CallOptions,
  ): Promise<void> {
    await callQuery(
      this.#client,
      IAM_QUERY,
      IAM_OPERATIONS.AddRoleToInstanceProfile,
      input,
      options,
    );
  }

  /**
   * RemoveRoleFromInstanceProfile.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns Nothing.
   */
  async removeRoleFromInstanceProfile(
    input: InstanceProfileRoleRequest,
    options?: CallOptions,
  ): Promise<void> {
    await callQuery(
      this.#client,
      IAM_QUERY,
      IAM_OPERATIONS.RemoveRoleFromInstanceProfile,
      input,
      options,
    );
  }

  /**
   * ListInstanceProfilesForRole.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  listInstanceProfilesForRole(
    input: ListInstanceProfilesForRoleRequest,
    options?: CallOptions,
  ): Promise<ListInstanceProfilesForRoleResponse> {
    return callQuery(
      this.#client,
      IAM_QUERY,
      IAM_OPERATIONS.ListInstanceProfilesForRole,
      input,
      options,
    );
  }

  /**
   * Every item of ListInstanceProfilesForRole, across pages.
   *
   * @param input The request.
   * @returns The items.
   */
  listInstanceProfilesForRoleAll(
    input: ListInstanceProfilesForRoleRequest,
  ): AsyncGenerator<InstanceProfile> {
    return paginate(
      (i) => this.listInstanceProfilesForRole(i),
      input,
      IAM_PAGINATORS.ListInstanceProfilesForRole,
    );
  }

  /**
   * TagInstanceProfile.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns Nothing.
   */
  async tagInstanceProfile(input: TagInstanceProfileRequest, options?: CallOptions): Promise<void> {
    await callQuery(this.#client, IAM_QUERY, IAM_OPERATIONS.TagInstanceProfile, input, options);
  }

  /**
   * GetPolicy.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  getPolicy(input: GetPolicyRequest, options?: CallOptions): Promise<GetPolicyResponse> {
    return callQuery(this.#client, IAM_QUERY, IAM_OPERATIONS.GetPolicy, input, options);
  }

  /**
   * ListPolicies.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  listPolicies(input: ListPoliciesRequest, options?: CallOptions): Promise<ListPoliciesResponse> {
    return callQuery(this.#client, IAM_QUERY, IAM_OPERATIONS.ListPolicies, input, options);
  }

  /**
   * Every item of ListPolicies, across pages.
   *
   * @param input The request.
   * @returns The items.
   */
  listPoliciesAll(input: ListPoliciesRequest): AsyncGenerator<ManagedPolicy> {
    return paginate((i) => this.listPolicies(i), input, IAM_PAGINATORS.ListPolicies);
  }

  /**
   * ListRoles.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  listRoles(input: ListRolesRequest, options?: CallOptions): Promise<ListRolesResponse> {
    return callQuery(this.#client, IAM_QUERY, IAM_OPERATIONS.ListRoles, input, options);
  }

  /**
   * Every item of ListRoles, across pages.
   *
   * @param input The request.
   * @returns The items.
   */
  listRolesAll(input: ListRolesRequest): AsyncGenerator<Role> {
    return paginate((i) => this.listRoles(i), input, IAM_PAGINATORS.ListRoles);
  }
}
