/**
 * The IAM Identity Center (SSO) portal (restJson1, API 2019-06-10):
 * GetRoleCredentials trades the access token that `aws sso login` cached
 * for a role's temporary credentials. Unsigned: the token is the proof.
 *
 * @module
 */
import { REST_JSON, type RestJsonOperation } from "../protocols/json.ts";
import { operations, type ServiceClient, type ServiceDefinition } from "../protocols/client.ts";

/** GetRoleCredentials input. */
export interface GetRoleCredentialsRequest {
  /** The permission set's role name. */
  roleName: string;
  /** The account id. */
  accountId: string;
  /** The access token from the SSO token cache. */
  accessToken: string;
}

/** GetRoleCredentials output. */
export interface GetRoleCredentialsResponse {
  /** The credentials. */
  roleCredentials?: {
    /** The access key id. */
    accessKeyId?: string;
    /** The secret access key. */
    secretAccessKey?: string;
    /** The session token. */
    sessionToken?: string;
    /** When they expire, in epoch milliseconds. */
    expiration?: number;
  };
}

/** The SSO portal API: each operation's input and output. */
export type SsoApi = {
  GetRoleCredentials: [GetRoleCredentialsRequest, GetRoleCredentialsResponse];
};

/** The SSO portal operations as data (the model's `authtype: none`: unsigned). */
export const SSO_OPERATIONS: { readonly [K in keyof SsoApi]: RestJsonOperation } = operations({
  GetRoleCredentials: {
    idempotent: true,
    unsigned: true,
    method: "GET",
    path: "/federation/credentials",
    query: { roleName: "role_name", accountId: "account_id" },
    headers: { accessToken: "x-amz-sso_bearer_token" },
  },
});

/** The SSO portal as data. */
export const SSO_SERVICE: ServiceDefinition<SsoApi, Record<never, never>, RestJsonOperation> = {
  protocol: REST_JSON,
  operations: SSO_OPERATIONS,
  paginators: {},
};

/**
 * The SSO portal client. The credential chain uses it for SSO profiles.
 *
 * @example Usage
 * ```ts ignore
 * const sso = createClient(http, SSO_SERVICE);
 * const { roleCredentials } = await sso.getRoleCredentials({ roleName: "Dev", accountId: "123456789012", accessToken });
 * ```
 */
export type Sso = ServiceClient<SsoApi, Record<never, never>>;
