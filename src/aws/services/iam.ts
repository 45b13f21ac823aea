/**
 * AWS IAM (awsQuery, API 2010-05-08): roles, instance profiles and policies.
 * IAM returns policy documents URL-encoded; this client decodes them.
 *
 * @module
 */
import { queryProtocol, type QueryServiceInfo, shapeHints } from "../protocols/query.ts";
import generated from "./iam.generated.json" with { type: "json" };
import { defineService, type ServiceClient, type ServiceDefinition } from "../protocols/client.ts";

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

/** GetAccountSummary output. */
export interface GetAccountSummaryResponse {
  /**
   * IAM's use and quotas in the account, by name: `Roles`, `RolesQuota`,
   * `AttachedPoliciesPerRoleQuota`, …
   */
  SummaryMap?: Record<string, number>;
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

/** IAM's protocol constants and shape hints (generated from its model). */
export const IAM_QUERY: QueryServiceInfo = {
  version: "2010-05-08",
  hints: {
    ...shapeHints(generated.hints),
    // IAM returns policy documents URL-encoded; its model does not say so.
    urlEncoded: new Set(["AssumeRolePolicyDocument", "PolicyDocument"]),
  },
};

/** The AWS IAM API: each operation's input and output. */
export type IamApi = {
  CreateRole: [CreateRoleRequest, CreateRoleResponse];
  GetRole: [GetRoleRequest, GetRoleResponse];
  DeleteRole: [RoleNameRequest, void];
  TagRole: [TagRoleRequest, void];
  ListRoleTags: [ListRoleTagsRequest, ListRoleTagsResponse, "Tags"];
  AttachRolePolicy: [RolePolicyArnRequest, void];
  DetachRolePolicy: [RolePolicyArnRequest, void];
  ListAttachedRolePolicies: [
    ListAttachedRolePoliciesRequest,
    ListAttachedRolePoliciesResponse,
    "AttachedPolicies",
  ];
  PutRolePolicy: [PutRolePolicyRequest, void];
  GetRolePolicy: [RolePolicyNameRequest, GetRolePolicyResponse];
  DeleteRolePolicy: [RolePolicyNameRequest, void];
  ListRolePolicies: [ListRolePoliciesRequest, ListRolePoliciesResponse, "PolicyNames"];
  CreateInstanceProfile: [CreateInstanceProfileRequest, InstanceProfileResponse];
  GetInstanceProfile: [InstanceProfileNameRequest, InstanceProfileResponse];
  DeleteInstanceProfile: [InstanceProfileNameRequest, void];
  AddRoleToInstanceProfile: [InstanceProfileRoleRequest, void];
  RemoveRoleFromInstanceProfile: [InstanceProfileRoleRequest, void];
  ListInstanceProfilesForRole: [
    ListInstanceProfilesForRoleRequest,
    ListInstanceProfilesForRoleResponse,
    "InstanceProfiles",
  ];
  TagInstanceProfile: [TagInstanceProfileRequest, void];
  GetPolicy: [GetPolicyRequest, GetPolicyResponse];
  GetAccountSummary: [Record<string, never>, GetAccountSummaryResponse];
  ListPolicies: [ListPoliciesRequest, ListPoliciesResponse, "Policies"];
  ListRoles: [ListRolesRequest, ListRolesResponse, "Roles"];
};

/**
 * AWS IAM as data: its protocol, operations and paginators (the wire metadata
 * generated from its model).
 */
export const IAM_SERVICE: ServiceDefinition<IamApi> = defineService(
  queryProtocol(IAM_QUERY),
  generated,
  ["CreateRole", "CreateInstanceProfile", "AddRoleToInstanceProfile"],
);

/**
 * The IAM client (global endpoint, signed for us-east-1): a method per
 * operation of {@linkcode IamApi} (`GetRole` → `getRole`) and an iterator
 * over every page's items per paginator (`listRolesAll`). Get one from
 * {@linkcode AwsSession.iam}. Policy documents come back decoded.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 *
 * const aws = await AwsSession.create();
 * const { Role } = await aws.iam.getRole({ RoleName: "ecsInstanceRole" });
 * console.log(Role?.Arn);
 * ```
 */
export type Iam = ServiceClient<IamApi>;
