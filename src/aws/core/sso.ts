/**
 * IAM Identity Center (SSO) credentials, read the way the AWS SDK for
 * JavaScript v3 reads them (`@aws-sdk/credential-provider-sso` and
 * `@aws-sdk/token-providers`):
 *
 * - a profile with `sso_session` takes `sso_start_url` and `sso_region` from
 *   its `[sso-session x]` section, and its token from
 *   `~/.aws/sso/cache/<sha1 of the session name>.json`; a token within five
 *   minutes of expiring is refreshed with SSO OIDC CreateToken (the
 *   `refreshToken` `aws sso login` cached), at most once every 30 seconds,
 *   and written back;
 * - a legacy profile (`sso_start_url` and `sso_region` in the profile) reads
 *   `~/.aws/sso/cache/<sha1 of the start URL>.json` and is not refreshed;
 * - the token buys the role's credentials with the portal's
 *   GetRoleCredentials, again whenever they expire.
 *
 * An expired token is an error that says to run `aws sso login`.
 *
 * @module
 */
import { join } from "../../util/path.ts";
import { AwsConfigError } from "./error.ts";
import type { ProfileSettings, SharedConfigFiles } from "./profile.ts";
import type { CredentialsInput, ReadTextFile, WriteTextFile } from "./types.ts";

/** A token as `aws sso login` caches it. */
export interface SsoToken {
  /** The access token. */
  accessToken?: string;
  /** When it expires (ISO 8601). */
  expiresAt?: string;
  /** The refresh token (sso-session logins). */
  refreshToken?: string;
  /** The OIDC client's id. */
  clientId?: string;
  /** The OIDC client's secret. */
  clientSecret?: string;
  /** Other fields are kept as they are. */
  [key: string]: unknown;
}

/** Buys a role's credentials with an access token (the portal's unsigned GetRoleCredentials). */
export type GetRoleCredentialsFn = (params: {
  region: string;
  accountId: string;
  roleName: string;
  accessToken: string;
}) => Promise<CredentialsInput>;

/** Refreshes an access token (SSO OIDC's unsigned CreateToken with the refresh token). */
export type RefreshSsoTokenFn = (params: {
  region: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}) => Promise<{ accessToken: string; expiresIn: number; refreshToken?: string }>;

/** Options of {@linkcode fromSso}. */
export interface FromSsoOptions {
  /** The parsed shared files (for `[sso-session x]`). */
  files: SharedConfigFiles;
  /** The home directory (for `~/.aws/sso/cache`). */
  homeDir: string;
  /** Reads the token file. */
  readTextFile: ReadTextFile;
  /** Writes a refreshed token back. */
  writeTextFile: WriteTextFile;
  /** The clock. */
  now: () => number;
  /** The portal's GetRoleCredentials. */
  getRoleCredentials: GetRoleCredentialsFn;
  /** SSO OIDC's CreateToken. */
  refreshToken: RefreshSsoTokenFn;
}

/** A token this close to expiring is refreshed (the SDK's `EXPIRE_WINDOW_MS`). */
const EXPIRE_WINDOW_MS = 5 * 60 * 1000;
/** At most one refresh attempt per token this often (the SDK's 30 seconds). */
const REFRESH_EVERY_MS = 30 * 1000;
/** When each token file was last refreshed (or tried), as the SDK keeps it per process. */
const lastRefresh = new Map<string, number>();

const SSO_KEYS = ["sso_session", "sso_start_url", "sso_account_id", "sso_region", "sso_role_name"];

/**
 * Whether a profile is an SSO profile: any of `sso_session`,
 * `sso_start_url`, `sso_account_id`, `sso_region`, `sso_role_name` (the
 * SDK's `isSsoProfile`).
 *
 * @param settings The profile's settings.
 * @returns Whether it is one.
 */
export function isSsoProfile(settings: ProfileSettings): boolean {
  return SSO_KEYS.some((k) => settings.has(k));
}

/**
 * Where `aws sso login` caches a token: `~/.aws/sso/cache/<sha1 hex of the
 * id>.json`, the id being the sso-session's name, or a legacy profile's
 * start URL.
 *
 * @example Usage
 * ```ts
 * import { ssoTokenPath } from "./sso.ts";
 *
 * console.log(await ssoTokenPath("/home/me", "corp")); // "/home/me/.aws/sso/cache/<40 hex digits>.json"
 * ```
 *
 * @param homeDir The home directory.
 * @param id The session name or start URL.
 * @returns The path.
 */
export async function ssoTokenPath(homeDir: string, id: string): Promise<string> {
  // sha1 because that is the cache's file name, not for security. WebCrypto
  // rather than node:crypto: a job's runtime.js holds this module, and loading
  // node:crypto's polyfill adds tens of milliseconds to every job's start.
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", new TextEncoder().encode(id)));
  const name = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  return join(homeDir, ".aws", "sso", "cache", `${name}.json`);
}

function ssoError(message: string, cause?: unknown): AwsConfigError {
  return new AwsConfigError(message, { setting: "credentials", ...(cause ? { cause } : {}) });
}

/**
 * Resolves an SSO profile's credentials: its settings (with its
 * sso-session's), its cached token (refreshed when near its end), then the
 * role's credentials from the portal.
 *
 * @param name The profile's name.
 * @param settings Its settings.
 * @param options Files, clock and the two portal calls.
 * @returns The role's temporary credentials.
 * @throws {AwsConfigError} For incomplete settings, a missing or expired token (run `aws sso login`), or a refusal by the portal.
 */
export async function fromSso(
  name: string,
  settings: ProfileSettings,
  options: FromSsoOptions,
): Promise<CredentialsInput> {
  const login = `run aws sso login --profile ${name}`;
  const sessionName = settings.get("sso_session");
  let startUrl = settings.get("sso_start_url");
  let region = settings.get("sso_region");
  if (sessionName) {
    const session = options.files.ssoSessions.get(sessionName);
    const file = options.files.paths.config;
    if (!session) {
      throw ssoError(
        `Profile ${name} names sso_session ${sessionName}, which is not a [sso-session ` +
          `${sessionName}] section of ${file}; add it (aws configure sso-session) or fix sso_session`,
      );
    }
    for (const key of ["sso_start_url", "sso_region"]) {
      if (!session.get(key)) {
        throw ssoError(
          `[sso-session ${sessionName}] of ${file} has no ${key}; set sso_start_url and sso_region ` +
            `there (aws configure sso-session)`,
        );
      }
    }
    for (const [key, value] of [["sso_region", region], ["sso_start_url", startUrl]]) {
      if (value && value !== session.get(key!)) {
        throw ssoError(
          `Profile ${name} sets ${key} ${value} but its sso-session ${sessionName} says ` +
            `${session.get(key!)}; remove ${key} from the profile`,
        );
      }
    }
    startUrl = session.get("sso_start_url");
    region = session.get("sso_region");
  }
  const accountId = settings.get("sso_account_id");
  const roleName = settings.get("sso_role_name");
  const missing = (
    [["sso_start_url", startUrl], ["sso_account_id", accountId], ["sso_region", region], [
      "sso_role_name",
      roleName,
    ]] as const
  ).filter(([, v]) => !v).map(([k]) => k);
  if (missing.length > 0) {
    throw ssoError(
      `Profile ${name} is an SSO profile without ${missing.join(", ")}; it needs sso_account_id ` +
        `and sso_role_name, with sso_session (or sso_start_url and sso_region): ` +
        `aws configure sso --profile ${name} sets them`,
    );
  }
  const accessToken = sessionName
    ? await sessionToken(name, sessionName, region!, login, options)
    : await legacyToken(name, startUrl!, login, options);
  let credentials: CredentialsInput;
  try {
    credentials = await options.getRoleCredentials({
      region: region!,
      accountId: accountId!,
      roleName: roleName!,
      accessToken,
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "UnauthorizedException") {
      throw ssoError(
        `The SSO portal refused the cached token of profile ${name} (it was revoked or has ` +
          `expired): ${login}`,
        e,
      );
    }
    if (code === "ForbiddenException" || code === "ResourceNotFoundException") {
      throw ssoError(
        `The SSO portal gives profile ${name} no access to role ${roleName} in account ` +
          `${accountId}: check sso_account_id and sso_role_name, or ask for that permission set`,
        e,
      );
    }
    throw e;
  }
  if (!credentials.accessKeyId || !credentials.secretAccessKey || !credentials.sessionToken) {
    throw ssoError(
      `The SSO portal returned incomplete credentials for profile ${name}; try again, or ${login}`,
    );
  }
  return credentials;
}

/** The token `aws sso login` cached for a session name or start URL, and where. */
async function cachedToken(
  id: string,
  options: FromSsoOptions,
): Promise<{ path: string; token?: SsoToken }> {
  const path = await ssoTokenPath(options.homeDir, id);
  const text = await options.readTextFile(path);
  if (text === undefined) return { path };
  try {
    const token = JSON.parse(text);
    return token !== null && typeof token === "object" ? { path, token } : { path };
  } catch {
    return { path };
  }
}

function expiresAt(token: SsoToken): number {
  return new Date(String(token.expiresAt)).getTime();
}

/** A legacy profile's token: read, never refreshed (the SDK's `getSSOTokenFromFile`). */
async function legacyToken(
  name: string,
  startUrl: string,
  login: string,
  options: FromSsoOptions,
): Promise<string> {
  const { path, token } = await cachedToken(startUrl, options);
  if (!token?.accessToken || !token.expiresAt) {
    throw ssoError(`There is no usable SSO token for profile ${name} (${path}): ${login}`);
  }
  if (!(expiresAt(token) > options.now())) {
    throw ssoError(`The SSO session of profile ${name} expired at ${token.expiresAt}: ${login}`);
  }
  return token.accessToken;
}

/** An sso-session profile's token, refreshed near its end (the SDK's `fromSso` token provider). */
async function sessionToken(
  name: string,
  sessionName: string,
  region: string,
  login: string,
  options: FromSsoOptions,
): Promise<string> {
  const { path, token } = await cachedToken(sessionName, options);
  if (token === undefined) {
    throw ssoError(`There is no SSO token for profile ${name} (${path}): ${login}`);
  }
  if (!token.accessToken || !token.expiresAt) {
    throw ssoError(`The SSO token of profile ${name} (${path}) is incomplete: ${login}`);
  }
  const now = options.now();
  const expires = expiresAt(token);
  const expired = () =>
    ssoError(`The SSO session of profile ${name} expired at ${token.expiresAt}: ${login}`);
  if (expires - now > EXPIRE_WINDOW_MS) return token.accessToken;
  if (now - (lastRefresh.get(path) ?? -Infinity) < REFRESH_EVERY_MS) {
    if (!(expires > now)) throw expired();
    return token.accessToken;
  }
  const { clientId, clientSecret, refreshToken } = token;
  if (!clientId || !clientSecret || !refreshToken) {
    // The SDK asks for a login here too: there is nothing to refresh with.
    throw ssoError(
      `The SSO token of profile ${name} ${
        expires > now ? "expires soon" : `expired at ${token.expiresAt}`
      } and cannot be refreshed: ${login}`,
    );
  }
  lastRefresh.set(path, now);
  try {
    const fresh = await options.refreshToken({ region, clientId, clientSecret, refreshToken });
    if (!fresh.accessToken || !(fresh.expiresIn > 0)) throw new Error("no token in the answer");
    // The SDK writes the answer's refreshToken, dropping the old one when
    // the answer has none; so do we, so both tools leave the same file.
    const { refreshToken: _, ...rest } = token;
    const next: SsoToken = {
      ...rest,
      accessToken: fresh.accessToken,
      expiresAt: new Date(options.now() + fresh.expiresIn * 1000).toISOString(),
      ...(fresh.refreshToken ? { refreshToken: fresh.refreshToken } : {}),
    };
    // As the SDK does: a token that cannot be written is still used.
    await options.writeTextFile(path, JSON.stringify(next, null, 2)).catch(() => {});
    return fresh.accessToken;
  } catch {
    if (!(expires > now)) throw expired();
    return token.accessToken;
  }
}
