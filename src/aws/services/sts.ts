/**
 * AWS STS (awsQuery, API 2011-06-15): who am I, and AssumeRole.
 *
 * @module
 */
import { callQuery, type QueryServiceInfo } from "../protocols/query.ts";
import type { AwsHttpClient, CallOptions, OperationInfo } from "../core/request.ts";

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

/** STS's protocol constants and shape hints. */
export const STS_QUERY: QueryServiceInfo = {
  version: "2011-06-15",
  hints: {
    memberName: "member",
    numbers: new Set(["PackedPolicySize"]),
    timestamps: new Set(["Expiration"]),
  },
};

/** The STS operations as data. */
export const STS_OPERATIONS = {
  GetCallerIdentity: { name: "GetCallerIdentity", idempotent: true },
  AssumeRole: { name: "AssumeRole", idempotent: true },
} as const satisfies Record<string, OperationInfo>;

/**
 * The AWS STS client. Get one from {@linkcode AwsSession.sts}.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot";
 *
 * const aws = await AwsSession.create();
 * console.log((await aws.sts.getCallerIdentity()).Account);
 * ```
 */
export class Sts {
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
   * GetCallerIdentity.
   *
   * @param input The (empty) request.
   * @param options Per-call options.
   * @returns The response.
   */
  getCallerIdentity(
    input: Record<string, never> = {},
    options?: CallOptions,
  ): Promise<GetCallerIdentityResponse> {
    return callQuery(this.#client, STS_QUERY, STS_OPERATIONS.GetCallerIdentity, input, options);
  }

  /**
   * AssumeRole.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  assumeRole(input: AssumeRoleRequest, options?: CallOptions): Promise<AssumeRoleResponse> {
    return callQuery(this.#client, STS_QUERY, STS_OPERATIONS.AssumeRole, input, options);
  }
}
