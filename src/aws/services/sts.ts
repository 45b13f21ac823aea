/**
 * AWS STS (awsQuery, API 2011-06-15): who am I, AssumeRole, and
 * AssumeRoleWithWebIdentity (unsigned).
 *
 * @module
 */
import { queryProtocol, type QueryServiceInfo, shapeHints } from "../protocols/query.ts";
import generated from "./sts.generated.json" with { type: "json" };
import { defineService, type ServiceClient, type ServiceDefinition } from "../protocols/client.ts";

/** GetCallerIdentity output. */
export interface GetCallerIdentityResponse {
  /** The caller's unique id. */
  UserId?: string;
  /** The account id. */
  Account?: string;
  /** The caller's ARN. */
  Arn?: string;
}

/** An STS session tag. */
export interface StsTag {
  /** The key. */
  Key: string;
  /** The value. */
  Value: string;
}

/** AssumeRole input. */
export interface AssumeRoleRequest {
  /** The role ARN. */
  RoleArn: string;
  /** The session name. */
  RoleSessionName: string;
  /** Managed policies to scope the session. */
  PolicyArns?: { arn?: string }[];
  /** An inline session policy. */
  Policy?: string;
  /** The session length in seconds. */
  DurationSeconds?: number;
  /** Session tags. */
  Tags?: StsTag[];
  /** Tags that pass to later role chaining. */
  TransitiveTagKeys?: string[];
  /** The external id the role's trust policy requires. */
  ExternalId?: string;
  /** The MFA device serial. */
  SerialNumber?: string;
  /** The MFA code. */
  TokenCode?: string;
  /** The source identity. */
  SourceIdentity?: string;
}

/** Temporary credentials as STS returns them. */
export interface StsCredentials {
  /** The access key id. */
  AccessKeyId: string;
  /** The secret access key. */
  SecretAccessKey: string;
  /** The session token. */
  SessionToken: string;
  /** When they expire. */
  Expiration: Date;
}

/** AssumeRole output. */
export interface AssumeRoleResponse {
  /** The credentials. */
  Credentials?: StsCredentials;
  /** The assumed role's ids. */
  AssumedRoleUser?: { AssumedRoleId: string; Arn: string };
  /** How full the packed policy is. */
  PackedPolicySize?: number;
  /** The source identity. */
  SourceIdentity?: string;
}

/** AssumeRoleWithWebIdentity input. */
export interface AssumeRoleWithWebIdentityRequest {
  /** The role ARN. */
  RoleArn: string;
  /** The session name. */
  RoleSessionName: string;
  /** The OpenID Connect token (a JWT) of the identity provider. */
  WebIdentityToken: string;
  /** The OAuth 2.0 provider (only for OAuth access tokens, not OIDC ID tokens). */
  ProviderId?: string;
  /** Managed policies to scope the session. */
  PolicyArns?: { arn?: string }[];
  /** An inline session policy. */
  Policy?: string;
  /** The session length in seconds. */
  DurationSeconds?: number;
}

/** AssumeRoleWithWebIdentity output. */
export interface AssumeRoleWithWebIdentityResponse {
  /** The credentials. */
  Credentials?: StsCredentials;
  /** The token's subject. */
  SubjectFromWebIdentityToken?: string;
  /** The assumed role's ids. */
  AssumedRoleUser?: { AssumedRoleId: string; Arn: string };
  /** How full the packed policy is. */
  PackedPolicySize?: number;
  /** The token's issuer. */
  Provider?: string;
  /** The token's audience. */
  Audience?: string;
  /** The source identity. */
  SourceIdentity?: string;
}

/** STS's protocol constants and shape hints (generated from its model). */
export const STS_QUERY: QueryServiceInfo = {
  version: "2011-06-15",
  hints: shapeHints(generated.hints),
};

/** The AWS STS API: each operation's input and output. */
export type StsApi = {
  GetCallerIdentity: [Record<string, never>, GetCallerIdentityResponse];
  AssumeRole: [AssumeRoleRequest, AssumeRoleResponse];
  AssumeRoleWithWebIdentity: [AssumeRoleWithWebIdentityRequest, AssumeRoleWithWebIdentityResponse];
};

/** AWS STS as data: its protocol and operations (the wire metadata generated from its model). */
export const STS_SERVICE: ServiceDefinition<StsApi> = defineService(queryProtocol(STS_QUERY), {
  wire: {
    ...generated.wire,
    // Unsigned: the token is the proof, and the model's auth is smithy.api#noAuth
    // (the aws-sdk v2 model the generator reads does not say so).
    AssumeRoleWithWebIdentity: { unsigned: true },
  },
});

/**
 * The AWS STS client: a method per operation of {@linkcode StsApi}
 * (`GetCallerIdentity` → `getCallerIdentity`). Get one from
 * {@linkcode AwsSession.sts}.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 *
 * const aws = await AwsSession.create();
 * console.log((await aws.sts.getCallerIdentity()).Account);
 * ```
 */
export type Sts = ServiceClient<StsApi>;
