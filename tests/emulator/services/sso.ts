/**
 * Emulated IAM Identity Center, as far as credentials go: the portal's
 * GetRoleCredentials and SSO OIDC's CreateToken (refresh grant), both
 * unsigned (their models' `authtype: none`). {@linkcode SsoService.login}
 * stands for `aws sso login`: it issues an access token (and, for an
 * sso-session login, a registered client and a refresh token) for the
 * permission sets (account and role) a user is assigned.
 *
 * Behaviour, each from the AWS documentation or users' reports:
 *
 * - GetRoleCredentials with a token the portal does not know, or one that
 *   has expired, is `UnauthorizedException` 401 "Session token not found or
 *   invalid" (GetRoleCredentials, Portal API reference; aws/aws-cli#7340,
 *   fwdcloudsec/granted#715).
 * - A role the user is not assigned in that account (or a misspelt
 *   `sso_role_name`) is `ForbiddenException` 403 "No access"
 *   (aws/aws-sam-cli#2129, aws/aws-cli#6316).
 * - The credentials last the permission set's session duration (1 hour by
 *   default, "Set session duration", IAM Identity Center user guide);
 *   `expiration` is epoch milliseconds (the model's `long`).
 * - CreateToken with the refresh grant returns a new access token and
 *   `expiresIn` seconds; a refresh token or client that is not valid is
 *   `InvalidGrantException` / `InvalidClientException` 400 (CreateToken,
 *   OIDC API reference).
 *
 * @module
 */
import type { CredentialStore } from "../credentials.ts";
import { randomHex } from "../credentials.ts";
import { ServiceError } from "../errors.ts";
import type { ModeledService, OperationHandler } from "../service.ts";

/** A permission set assignment: a role in an account. */
export interface SsoAssignment {
  /** The account id. */
  accountId: string;
  /** The permission set's role name, such as `Developer`. */
  roleName: string;
}

/** Options of {@linkcode SsoService.login}. */
export interface SsoLoginOptions {
  /** The user, the role session's name. @default {"ada"} */
  user?: string;
  /** What the user may assume. */
  assignments: SsoAssignment[];
  /** Seconds the access token lasts. @default {28800} */
  tokenSeconds?: number;
  /** Seconds a refreshed access token lasts. @default {tokenSeconds} */
  refreshedSeconds?: number;
  /** Seconds role credentials last (the permission set's session duration). @default {3600} */
  sessionSeconds?: number;
  /** An sso-session login: a registered client and a refresh token too. @default {true} */
  refreshable?: boolean;
}

/** What `aws sso login` caches, for a test to write to `~/.aws/sso/cache`. */
export interface SsoCachedToken {
  /** The access token. */
  accessToken: string;
  /** When it expires (ISO 8601). */
  expiresAt: string;
  /** The refresh token (refreshable logins). */
  refreshToken?: string;
  /** The OIDC client's id (refreshable logins). */
  clientId?: string;
  /** The OIDC client's secret (refreshable logins). */
  clientSecret?: string;
  /** The client's expiry (refreshable logins). */
  registrationExpiresAt?: string;
  /** The SSO region. */
  region: string;
  /** The start URL. */
  startUrl: string;
}

interface Login {
  user: string;
  assignments: SsoAssignment[];
  sessionSeconds: number;
  tokenSeconds: number;
  refreshedSeconds: number;
  client?: { id: string; secret: string };
}

interface AccessToken {
  login: Login;
  expiresAt: number;
}

/**
 * The IAM Identity Center of one emulator.
 *
 * @example Usage
 * ```ts ignore
 * const token = emu.sso.login({ assignments: [{ accountId: emu.accountId, roleName: "Developer" }] });
 * ```
 */
export class SsoService {
  /** The portal: GetRoleCredentials. */
  readonly portal: ModeledService;
  /** SSO OIDC: CreateToken. */
  readonly oidc: ModeledService;
  /** How many times each operation was answered with credentials or a token. */
  readonly issued: { roleCredentials: number; tokens: number } = { roleCredentials: 0, tokens: 0 };
  #tokens = new Map<string, AccessToken>();
  #refresh = new Map<string, Login>();
  /** The role each permission set has in each account, as `account/set`: provisioned once. */
  #roles = new Map<string, string>();
  #region: string;

  /**
   * Makes the service.
   *
   * @param store The credential store role credentials are issued into.
   * @param region The emulator's region (the SSO region).
   */
  constructor(store: CredentialStore, region: string) {
    this.#region = region;
    const getRoleCredentials: OperationHandler = (p) => {
      const token = this.#tokens.get(p.accessToken);
      if (!token || token.expiresAt <= Date.now()) {
        throw new ServiceError("UnauthorizedException", "Session token not found or invalid", 401);
      }
      const { login } = token;
      if (
        !login.assignments.some((a) => a.accountId === p.accountId && a.roleName === p.roleName)
      ) {
        throw new ServiceError("ForbiddenException", "No access", 403);
      }
      // IAM Identity Center provisions one role per permission set and account, named
      // `AWSReservedSSO_<set>_<suffix>` with a suffix fixed when it is provisioned: every
      // session of that set has the same role ARN ("Referencing permission sets in resource
      // policies", IAM Identity Center User Guide), which policies name.
      const key = `${p.accountId}/${p.roleName}`;
      let role = this.#roles.get(key);
      if (role === undefined) {
        role = `arn:aws:iam::${p.accountId}:role/aws-reserved/sso.amazonaws.com/` +
          `AWSReservedSSO_${p.roleName}_${randomHex(16)}`;
        this.#roles.set(key, role);
      }
      const creds = store.issueForRole(role, login.user, login.sessionSeconds);
      this.issued.roleCredentials++;
      return {
        roleCredentials: {
          accessKeyId: creds.accessKeyId,
          secretAccessKey: creds.secretAccessKey,
          sessionToken: creds.sessionToken,
          expiration: creds.expiration!.getTime(),
        },
      };
    };
    this.portal = { operations: { GetRoleCredentials: getRoleCredentials } };
    const createToken: OperationHandler = (p) => {
      if (p.grantType !== "refresh_token") {
        throw new ServiceError("UnsupportedGrantTypeException", "Unsupported grant type", 400);
      }
      const login = this.#refresh.get(p.refreshToken ?? "");
      if (!login?.client || login.client.id !== p.clientId) {
        throw new ServiceError("InvalidGrantException", "Invalid refresh token provided", 400);
      }
      if (login.client.secret !== p.clientSecret) {
        throw new ServiceError("InvalidClientException", "Invalid client provided", 400);
      }
      const accessToken = this.#issue(login, login.refreshedSeconds);
      this.issued.tokens++;
      return { accessToken, tokenType: "Bearer", expiresIn: login.refreshedSeconds };
    };
    this.oidc = { operations: { CreateToken: createToken } };
  }

  #issue(login: Login, seconds = login.tokenSeconds): string {
    const accessToken = `aoa${randomHex(40)}`;
    this.#tokens.set(accessToken, { login, expiresAt: Date.now() + seconds * 1000 });
    return accessToken;
  }

  /**
   * Signs a user in, as `aws sso login` does, and returns what it caches.
   *
   * @param options The user, assignments and durations.
   * @param startUrl The start URL the token is for.
   * @returns The token to write to the cache.
   */
  login(options: SsoLoginOptions, startUrl = "https://emulator.awsapps.com/start"): SsoCachedToken {
    const login: Login = {
      user: options.user ?? "ada",
      assignments: options.assignments,
      sessionSeconds: options.sessionSeconds ?? 3600,
      tokenSeconds: options.tokenSeconds ?? 8 * 3600,
      refreshedSeconds: options.refreshedSeconds ?? options.tokenSeconds ?? 8 * 3600,
    };
    const refreshable = options.refreshable ?? true;
    if (refreshable) login.client = { id: `client-${randomHex(12)}`, secret: randomHex(32) };
    const accessToken = this.#issue(login);
    const token: SsoCachedToken = {
      accessToken,
      expiresAt: new Date(Date.now() + login.tokenSeconds * 1000).toISOString()
        .replace(/\.\d+Z$/, "Z"),
      region: this.#region,
      startUrl,
    };
    if (login.client) {
      const refreshToken = `aor${randomHex(40)}`;
      this.#refresh.set(refreshToken, login);
      Object.assign(token, {
        refreshToken,
        clientId: login.client.id,
        clientSecret: login.client.secret,
        registrationExpiresAt: new Date(Date.now() + 90 * 86400_000).toISOString(),
      });
    }
    return token;
  }

  /**
   * Ends an access token's validity now, as the portal does when the
   * session times out or is revoked.
   *
   * @param accessToken The token.
   */
  expire(accessToken: string): void {
    const t = this.#tokens.get(accessToken);
    if (t) t.expiresAt = 0;
  }
}
