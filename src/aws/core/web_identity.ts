/**
 * Web identity credentials: an OpenID Connect token from a file (GitHub
 * Actions, EKS service accounts) traded for a role's credentials with STS
 * AssumeRoleWithWebIdentity, which is not signed. From the environment
 * (`AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`, `AWS_ROLE_SESSION_NAME`)
 * or a profile (`web_identity_token_file`, `role_arn`,
 * `role_session_name`), as the AWS SDK for JavaScript v3 reads them
 * (`@aws-sdk/credential-provider-web-identity`).
 *
 * @module
 */
import { AwsConfigError } from "./error.ts";
import type { CredentialsInput, EnvLookup, ReadTextFile } from "./types.ts";

/** Trades a web identity token for a role's credentials (an unsigned STS call). */
export type AssumeRoleWithWebIdentityFn = (params: {
  RoleArn: string;
  RoleSessionName: string;
  WebIdentityToken: string;
}) => Promise<CredentialsInput>;

/** Where a web identity token comes from and the role it is for. */
export interface WebIdentitySource {
  /** The token file. */
  tokenFile: string;
  /** The role's ARN. */
  roleArn: string;
  /** The session name, when one is set. */
  sessionName?: string;
  /** Where these settings came from, for messages: `the environment` or `profile x`. */
  origin: string;
}

/** Options of {@linkcode fromWebIdentity}. */
export interface FromWebIdentityOptions {
  /** Reads the token file. */
  readTextFile: ReadTextFile;
  /** Calls STS. */
  assumeRoleWithWebIdentity: AssumeRoleWithWebIdentityFn;
  /** The clock, for the default session name. */
  now: () => number;
}

/**
 * The web identity settings of the environment: `AWS_WEB_IDENTITY_TOKEN_FILE`
 * and `AWS_ROLE_ARN` (both, or it is not configured, as the SDK skips it),
 * and `AWS_ROLE_SESSION_NAME`.
 *
 * @param env Environment lookup.
 * @returns The settings, or `undefined` when either variable is unset.
 */
export function webIdentityFromEnv(env: EnvLookup): WebIdentitySource | undefined {
  const tokenFile = env("AWS_WEB_IDENTITY_TOKEN_FILE");
  const roleArn = env("AWS_ROLE_ARN");
  if (!tokenFile || !roleArn) return undefined;
  const sessionName = env("AWS_ROLE_SESSION_NAME");
  return {
    tokenFile,
    roleArn,
    ...(sessionName ? { sessionName } : {}),
    origin: "AWS_WEB_IDENTITY_TOKEN_FILE",
  };
}

/**
 * Reads the token file (again on every call: EKS and GitHub Actions renew
 * it) and assumes the role with it. The session name defaults to
 * `cloudknot-<epoch ms>` (the SDK's is `aws-sdk-js-session-<epoch ms>`).
 *
 * @param source The token file, role and session name.
 * @param options The file reader, the STS call and the clock.
 * @returns The role's temporary credentials.
 * @throws {AwsConfigError} When the token file is missing or empty.
 */
export async function fromWebIdentity(
  source: WebIdentitySource,
  options: FromWebIdentityOptions,
): Promise<CredentialsInput> {
  const text = await options.readTextFile(source.tokenFile);
  // A JWT has no white space; a trailing newline some tools write is dropped.
  const token = text?.trim();
  if (!token) {
    throw new AwsConfigError(
      `The web identity token file ${source.tokenFile} (from ${source.origin}) ` +
        `${text === undefined ? "does not exist" : "is empty"}; check that the identity ` +
        `provider wrote it (on GitHub Actions, give the job "permissions: id-token: write")`,
      { setting: "credentials" },
    );
  }
  return await options.assumeRoleWithWebIdentity({
    RoleArn: source.roleArn,
    RoleSessionName: source.sessionName ?? `cloudknot-${options.now()}`,
    WebIdentityToken: token,
  });
}
