/**
 * IAM Identity Center (SSO), as the credential chain needs it (restJson1,
 * API 2019-06-10, both unsigned: the tokens are the proof): the portal's
 * GetRoleCredentials trades the access token that `aws sso login` cached
 * for a role's temporary credentials, and SSO OIDC's CreateToken trades the
 * cached refresh token for a new access token.
 *
 * @module
 */
import { REST_JSON, type RestJsonOperation } from "../protocols/json.ts";
import { defineService, type ServiceClient, type ServiceDefinition } from "../protocols/client.ts";
import ssoGenerated from "./sso.generated.json" with { type: "json" };
import oidcGenerated from "./sso_oidc.generated.json" with { type: "json" };

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

/** The SSO portal as data (generated from its model; `authtype: none`: unsigned). */
export const SSO_SERVICE: ServiceDefinition<SsoApi, RestJsonOperation> = defineService(
  REST_JSON,
  ssoGenerated,
);

/**
 * The SSO portal client. The credential chain uses it for SSO profiles.
 *
 * @example Usage
 * ```ts ignore
 * const sso = createClient(http, SSO_SERVICE);
 * const { roleCredentials } = await sso.getRoleCredentials({ roleName: "Dev", accountId: "123456789012", accessToken });
 * ```
 */
export type Sso = ServiceClient<SsoApi>;

/** CreateToken input (the refresh grant). */
export interface CreateTokenRequest {
  /** The registered OIDC client's id. */
  clientId: string;
  /** The registered OIDC client's secret. */
  clientSecret: string;
  /** `refresh_token`. */
  grantType: string;
  /** The refresh token. */
  refreshToken?: string;
  /** Other grants' fields. */
  deviceCode?: string;
  /** Other grants' fields. */
  code?: string;
  /** Other grants' fields. */
  redirectUri?: string;
  /** Scopes. */
  scope?: string[];
  /** PKCE verifier. */
  codeVerifier?: string;
}

/** CreateToken output. */
export interface CreateTokenResponse {
  /** The new access token. */
  accessToken?: string;
  /** `Bearer`. */
  tokenType?: string;
  /** Seconds until it expires. */
  expiresIn?: number;
  /** The new refresh token, when the old one was rotated. */
  refreshToken?: string;
  /** An OIDC ID token. */
  idToken?: string;
}

/** The SSO OIDC API the credential chain uses. */
export type SsoOidcApi = {
  CreateToken: [CreateTokenRequest, CreateTokenResponse];
};

/** SSO OIDC as data (generated from its model; `authtype: none`: unsigned). */
export const SSO_OIDC_SERVICE: ServiceDefinition<SsoOidcApi, RestJsonOperation> = defineService(
  REST_JSON,
  oidcGenerated,
  ["CreateToken"],
);
