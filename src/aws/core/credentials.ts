/**
 * The credential chain: explicit credentials, the environment, the shared
 * files (static keys, `role_arn` through STS AssumeRole, web identity,
 * `credential_process`, IAM Identity Center (SSO)), web identity from the
 * environment, ECS container credentials, then EC2 IMDSv2, in the order of
 * the AWS SDK for JavaScript v3's default chain. Resolved lazily and cached
 * until five minutes before they expire (`renewal.ts`).
 *
 * @module
 */
import { AwsConfigError } from "./error.ts";
import {
  isTrueSetting,
  type ProfileSettings,
  profileSettings,
  type SharedConfigFiles,
} from "./profile.ts";
import { fromSso, type GetRoleCredentialsFn, isSsoProfile, type RefreshSsoTokenFn } from "./sso.ts";
import {
  type CredentialProvider,
  type Credentials,
  type CredentialsInput,
  type EnvLookup,
  makeCredentials,
  type ReadTextFile,
  type RunProcess,
  type WriteTextFile,
} from "./types.ts";
import {
  type AssumeRoleWithWebIdentityFn,
  fromWebIdentity,
  webIdentityFromEnv,
} from "./web_identity.ts";

/** Assumes a role with the given source credentials (an STS AssumeRole call). */
export type AssumeRoleFn = (
  source: Credentials,
  params: {
    RoleArn: string;
    RoleSessionName: string;
    ExternalId?: string;
    DurationSeconds?: number;
  },
) => Promise<CredentialsInput>;

/** Options of {@linkcode defaultCredentialChain}. */
export interface CredentialChainOptions {
  /** Explicit credentials or a provider; when given, nothing else is tried. */
  credentials?: CredentialsInput | CredentialProvider;
  /** Whether the profile was chosen explicitly (then environment keys are skipped). */
  explicitProfile?: boolean;
  /** The selected profile's name. */
  profile: string;
  /** The parsed shared files. */
  files: SharedConfigFiles;
  /** Environment lookup. */
  env: EnvLookup;
  /** File reader (container, web identity and SSO token files). */
  readTextFile: ReadTextFile;
  /** Writes a refreshed SSO token back to its cache file. */
  writeTextFile: WriteTextFile;
  /** The home directory, for `~/.aws/sso/cache`. */
  homeDir: string;
  /** The fetch used for container and instance metadata. */
  fetch: typeof fetch;
  /** Runs `credential_process` commands. */
  runProcess: RunProcess;
  /**
   * How long a `credential_process` may run, in milliseconds; else
   * `CLOUDKNOT_CREDENTIAL_PROCESS_TIMEOUT` (seconds).
   *
   * @default {60000}
   */
  credentialProcessTimeoutMs?: number;
  /** The clock. */
  now: () => number;
  /** Performs STS AssumeRole for `role_arn` profiles. */
  assumeRole: AssumeRoleFn;
  /** Performs the unsigned STS AssumeRoleWithWebIdentity. */
  assumeRoleWithWebIdentity: AssumeRoleWithWebIdentityFn;
  /** The SSO portal's GetRoleCredentials in a region. */
  getRoleCredentials: GetRoleCredentialsFn;
  /** SSO OIDC's CreateToken in a region, to refresh an sso-session token. */
  refreshSsoToken: RefreshSsoTokenFn;
}

function configError(message: string, cause?: unknown): AwsConfigError {
  return new AwsConfigError(message, { setting: "credentials", ...(cause ? { cause } : {}) });
}

/**
 * Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
 *
 * @param env Environment lookup.
 * @returns The credentials, or `undefined` when neither key is set.
 * @throws {AwsConfigError} When only one of the two keys is set.
 */
export function fromEnv(env: EnvLookup): CredentialsInput | undefined {
  const id = env("AWS_ACCESS_KEY_ID");
  const secret = env("AWS_SECRET_ACCESS_KEY");
  if (!id && !secret) return undefined;
  if (!id || !secret) {
    const [set, unset] = id
      ? ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
      : ["AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"];
    throw configError(`${set} is set but ${unset} is not; set both or neither`);
  }
  const token = env("AWS_SESSION_TOKEN");
  const expiration = env("AWS_CREDENTIAL_EXPIRATION");
  return {
    accessKeyId: id,
    secretAccessKey: secret,
    ...(token ? { sessionToken: token } : {}),
    ...(expiration ? { expiration: new Date(expiration) } : {}),
  };
}

/**
 * How long a `credential_process` may run by default: 60 s. The JS SDK and
 * botocore wait for ever, so one hung helper (a login waiting for a browser,
 * an unreachable identity provider) hangs every command; the Go SDK v2
 * stops it after one minute (`processcreds.DefaultTimeout`), long enough for
 * a helper that makes a few network calls.
 */
const CREDENTIAL_PROCESS_TIMEOUT_MS = 60_000;

/** The variable that sets the `credential_process` timeout, in seconds. */
const TIMEOUT_VARIABLE = "CLOUDKNOT_CREDENTIAL_PROCESS_TIMEOUT";

/** How long a stopped `credential_process` gets to exit before we stop waiting for it. */
const STOP_GRACE_MS = 1000;

/** Options of {@linkcode fromProcess}. */
export interface FromProcessOptions {
  /** Runs the command. */
  runProcess: RunProcess;
  /** The child's environment. */
  env: Record<string, string>;
  /** The clock. */
  now: () => number;
  /** How long the command may run before it is stopped, in milliseconds. */
  timeoutMs: number;
}

/**
 * The `credential_process` timeout: the option, else
 * `CLOUDKNOT_CREDENTIAL_PROCESS_TIMEOUT` in seconds, else 60 s.
 */
function processTimeoutMs(options: FromProfileOptions): number {
  if (options.credentialProcessTimeoutMs !== undefined) {
    const ms = options.credentialProcessTimeoutMs;
    if (!(ms > 0) || !Number.isFinite(ms)) {
      throw configError(
        `The credentialProcessTimeoutMs option is ${ms}; pass a positive number of milliseconds`,
      );
    }
    return ms;
  }
  const text = options.env(TIMEOUT_VARIABLE);
  if (text === undefined || text.trim() === "") return CREDENTIAL_PROCESS_TIMEOUT_MS;
  const seconds = Number(text);
  if (!(seconds > 0) || !Number.isFinite(seconds)) {
    throw configError(
      `${TIMEOUT_VARIABLE} is "${text}"; set it to a positive number of seconds, or unset it for 60`,
    );
  }
  return seconds * 1000;
}

/**
 * Runs a profile's `credential_process` with `sh -c` and validates its JSON
 * (`Version: 1`, `AccessKeyId`, `SecretAccessKey`, optional `SessionToken`
 * and `Expiration`), with the AWS SDK's wording for bad output.
 *
 * @param profile The profile's name, for messages.
 * @param command The command line.
 * @param options How to run it.
 * @returns The credentials.
 * @throws {AwsConfigError} When the command fails or prints something unusable.
 */
export async function fromProcess(
  profile: string,
  command: string,
  options: FromProcessOptions,
): Promise<CredentialsInput> {
  const { timeoutMs } = options;
  const stop = new AbortController();
  const timers: ReturnType<typeof setTimeout>[] = [];
  const after = (ms: number) =>
    new Promise<"late">((resolve) => timers.push(setTimeout(() => resolve("late"), ms)));
  let result;
  try {
    const run = options.runProcess(command, { env: options.env, signal: stop.signal });
    const first = await Promise.race([run, after(timeoutMs)]);
    if (first === "late") {
      stop.abort();
      // Let the runner reap it, but do not hang on one that ignores the signal.
      await Promise.race([run.catch(() => {}), after(STOP_GRACE_MS)]);
      throw configError(
        `Profile ${profile} credential_process \`${command}\` did not finish within ` +
          `${
            timeoutMs / 1000
          } s and was stopped; run it by hand to see whether it hangs or waits ` +
          `for input (a login or an MFA code), or allow it longer with ${TIMEOUT_VARIABLE}=<seconds> ` +
          `(or the credentialProcessTimeoutMs session option)`,
      );
    }
    result = first;
  } catch (cause) {
    if (cause instanceof AwsConfigError) throw cause;
    throw configError(
      `Profile ${profile} credential_process could not be run (${
        String(cause)
      }); check the command and allow running sh`,
      cause,
    );
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
  if (result.code !== 0) {
    const tail = result.stderr.trim().split("\n").slice(-5).join("\n");
    throw configError(
      `Profile ${profile} credential_process exited with code ${result.code}${
        tail ? `: ${tail}` : ""
      }; run it by hand to see why`,
    );
  }
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(result.stdout.trim());
  } catch (cause) {
    throw configError(
      `Profile ${profile} credential_process returned invalid JSON; make it print the JSON document the AWS CLI documents`,
      cause,
    );
  }
  if (data === null || typeof data !== "object" || data.Version !== 1) {
    throw configError(
      `Profile ${profile} credential_process did not return Version 1; make it print {"Version": 1, "AccessKeyId": ..., "SecretAccessKey": ...}`,
    );
  }
  if (typeof data.AccessKeyId !== "string" || typeof data.SecretAccessKey !== "string") {
    throw configError(
      `Profile ${profile} credential_process returned invalid credentials; it must print AccessKeyId and SecretAccessKey`,
    );
  }
  let expiration: Date | undefined;
  if (data.Expiration) {
    expiration = new Date(String(data.Expiration));
    if (Number.isNaN(expiration.getTime()) || expiration.getTime() < options.now()) {
      throw configError(
        `Profile ${profile} credential_process returned expired credentials; refresh the session the helper uses (for example aws sso login)`,
      );
    }
  }
  return {
    accessKeyId: data.AccessKeyId,
    secretAccessKey: data.SecretAccessKey,
    ...(typeof data.SessionToken === "string" && data.SessionToken
      ? { sessionToken: data.SessionToken }
      : {}),
    ...(expiration ? { expiration } : {}),
  };
}

/** Options of {@linkcode fromContainer}. */
export interface FromContainerOptions {
  /** Environment lookup. */
  env: EnvLookup;
  /** File reader for `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`. */
  readTextFile: ReadTextFile;
  /** The fetch to use. */
  fetch: typeof fetch;
}

const ECS_HOST = "169.254.170.2";
const ALLOWED_HTTP_HOSTS = new Set([
  ECS_HOST,
  "169.254.170.23",
  "[fd00:ec2::23]",
  "localhost",
  "[::1]",
]);

function isLoopback(hostname: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * Fetches ECS/Batch container credentials from
 * `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on 169.254.170.2) or
 * `AWS_CONTAINER_CREDENTIALS_FULL_URI`, sending the authorization token from
 * `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
 *
 * @param options Environment, file reader and fetch.
 * @returns The credentials, or `undefined` when neither URI variable is set.
 * @throws {AwsConfigError} When the URI is not allowed or the endpoint fails.
 */
export async function fromContainer(
  options: FromContainerOptions,
): Promise<CredentialsInput | undefined> {
  const { env } = options;
  const relative = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  const full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  let url: URL;
  if (relative) {
    url = new URL(relative, `http://${ECS_HOST}`);
  } else if (full) {
    try {
      url = new URL(full);
    } catch (cause) {
      throw configError(
        `AWS_CONTAINER_CREDENTIALS_FULL_URI "${full}" is not a URL; fix or unset it`,
        cause,
      );
    }
    const allowed = url.protocol === "https:" ||
      (url.protocol === "http:" &&
        (isLoopback(url.hostname) || ALLOWED_HTTP_HOSTS.has(url.hostname)));
    if (!allowed) {
      throw configError(
        `AWS_CONTAINER_CREDENTIALS_FULL_URI "${full}" must use https, or http on a loopback or ECS/EKS address; fix or unset it`,
      );
    }
  } else {
    return undefined;
  }
  const headers: Record<string, string> = {};
  const tokenFile = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  if (tokenFile) {
    const token = await options.readTextFile(tokenFile);
    if (token === undefined) {
      throw configError(
        `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE names ${tokenFile}, which does not exist; fix or unset it`,
      );
    }
    headers.Authorization = token.trim();
  } else if (env("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
    headers.Authorization = env("AWS_CONTAINER_AUTHORIZATION_TOKEN")!;
  }
  const body = await getJson(options.fetch, url, { headers }, 2000, "container");
  return parseMetadataCredentials(body, "container credentials endpoint");
}

async function getJson(
  fetchFn: typeof fetch,
  url: URL,
  init: RequestInit,
  timeoutMs: number,
  what: string,
): Promise<unknown> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const res = await fetchFn(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
      const text = await res.text();
      if (!res.ok) {
        lastError = new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
        if (res.status < 500) break;
        continue;
      }
      return JSON.parse(text);
    } catch (error) {
      lastError = error;
    }
  }
  throw configError(
    `Could not get ${what} credentials from ${url.origin}${url.pathname} (${
      String(lastError)
    }); check the endpoint or unset its variables`,
    lastError,
  );
}

function parseMetadataCredentials(body: unknown, what: string): CredentialsInput {
  const data = body as Record<string, unknown> | null;
  if (
    !data || typeof data.AccessKeyId !== "string" || typeof data.SecretAccessKey !== "string"
  ) {
    throw configError(
      `The ${what} returned no AccessKeyId and SecretAccessKey; check the endpoint`,
    );
  }
  return {
    accessKeyId: data.AccessKeyId,
    secretAccessKey: data.SecretAccessKey,
    ...(typeof data.Token === "string" && data.Token ? { sessionToken: data.Token } : {}),
    ...(data.Expiration ? { expiration: new Date(String(data.Expiration)) } : {}),
  };
}

/** Options of {@linkcode fromInstanceMetadata}. */
export interface FromInstanceMetadataOptions {
  /** Environment lookup (`AWS_EC2_METADATA_DISABLED`, `AWS_EC2_METADATA_SERVICE_ENDPOINT`). */
  env: EnvLookup;
  /** The fetch to use. */
  fetch: typeof fetch;
}

/**
 * Fetches EC2 instance-role credentials with IMDSv2, unless
 * `AWS_EC2_METADATA_DISABLED=true`.
 *
 * @param options Environment and fetch.
 * @returns The credentials, or `undefined` when disabled or unreachable.
 */
export async function fromInstanceMetadata(
  options: FromInstanceMetadataOptions,
): Promise<CredentialsInput | undefined> {
  if (isTrueSetting(options.env("AWS_EC2_METADATA_DISABLED"))) return undefined;
  const base = (options.env("AWS_EC2_METADATA_SERVICE_ENDPOINT") || "http://169.254.169.254")
    .replace(/\/+$/, "");
  const timeout = () => AbortSignal.timeout(1000);
  let token: string;
  try {
    const res = await options.fetch(`${base}/latest/api/token`, {
      method: "PUT",
      headers: { "x-aws-ec2-metadata-token-ttl-seconds": "21600" },
      signal: timeout(),
    });
    token = await res.text();
    if (!res.ok) return undefined;
  } catch {
    return undefined;
  }
  const headers = { "x-aws-ec2-metadata-token": token };
  const path = `${base}/latest/meta-data/iam/security-credentials/`;
  try {
    const list = await options.fetch(path, { headers, signal: timeout() });
    const names = await list.text();
    if (!list.ok) return undefined;
    const role = names.split("\n").map((s) => s.trim()).find((s) => s);
    if (!role) return undefined;
    const res = await options.fetch(path + encodeURIComponent(role), {
      headers,
      signal: timeout(),
    });
    const text = await res.text();
    if (!res.ok) return undefined;
    return parseMetadataCredentials(JSON.parse(text), "instance metadata service");
  } catch (error) {
    if (error instanceof AwsConfigError) throw error;
    return undefined;
  }
}

/** What resolving a profile's credentials needs. */
export type FromProfileOptions = Omit<CredentialChainOptions, "credentials" | "explicitProfile">;

/** The keys read from the shared files themselves, and the credentials the chain made of them. */
const FILE_KEYS = new WeakSet<object>();

/**
 * Whether the chain's credentials are a profile's keys from the shared files
 * (`aws_access_key_id`, …), which a user renews by rewriting the file, not
 * credentials a source obtained (a role, `credential_process`, SSO).
 *
 * @param credentials What the chain returned.
 * @returns `true` for the shared files' keys.
 */
export function fromSharedFileKeys(credentials: Credentials): boolean {
  return FILE_KEYS.has(credentials);
}

/**
 * Credentials the chain gives again for as long as the program runs: keys
 * from the environment, and credentials given in code as a value, or by a
 * function that returned no expiration (cached for the program's life).
 */
const FIXED = new WeakSet<object>();

/**
 * Whether the chain can give no other credentials than these while the
 * program runs, whatever happens outside it: keys from the environment
 * (`AWS_ACCESS_KEY_ID`, …: a program keeps the environment it started
 * with, and they come before the shared files), and credentials given in
 * code that it never asks for again. When AWS refuses them, only a new
 * program with new ones helps.
 *
 * @example Usage
 * ```ts ignore
 * fixedForProgram(await chain()); // true for environment keys
 * ```
 *
 * @param credentials What the chain returned.
 * @returns `true` for credentials that cannot be renewed in this program.
 */
export function fixedForProgram(credentials: Credentials): boolean {
  return FIXED.has(credentials);
}

function staticKeys(name: string, settings: ProfileSettings): CredentialsInput | undefined {
  const id = settings.get("aws_access_key_id");
  const secret = settings.get("aws_secret_access_key");
  if (!id && !secret) return undefined;
  if (!id || !secret) {
    throw configError(
      `Profile ${name} has ${id ? "aws_access_key_id" : "aws_secret_access_key"} but not ${
        id ? "aws_secret_access_key" : "aws_access_key_id"
      }; set both`,
    );
  }
  const token = settings.get("aws_session_token");
  const keys = {
    accessKeyId: id,
    secretAccessKey: secret,
    ...(token ? { sessionToken: token } : {}),
  };
  FILE_KEYS.add(keys);
  return keys;
}

/**
 * Resolves credentials from a profile of the shared files, in the order of
 * the SDK's `resolveProfileData`: `role_arn` with `source_profile` or
 * `credential_source`; static keys; `web_identity_token_file` with
 * `role_arn`; `credential_process`; IAM Identity Center (`sso_session`, or
 * the legacy `sso_start_url`).
 *
 * @param name The profile's name.
 * @param options Files and side effects.
 * @param visited The profiles whose `source_profile` led here.
 * @returns The credentials, or `undefined` when the profile has no credential settings.
 * @throws {AwsConfigError} When the profile's settings are unusable.
 */
async function resolveProfileCredentials(
  name: string,
  options: FromProfileOptions,
  visited: string[],
): Promise<CredentialsInput | undefined> {
  const settings = profileSettings(options.files, name);
  if (!settings) {
    if (visited.length === 0) return undefined;
    throw configError(
      `Profile ${
        visited.at(-1)
      } names source_profile ${name}, which is not in ${options.files.paths.config} or ${options.files.paths.credentials}; add it or fix source_profile`,
    );
  }
  if (visited.length > 0) {
    const keys = staticKeys(name, settings);
    if (keys) return keys;
  }
  const roleArn = settings.get("role_arn");
  const webIdentityFile = settings.get("web_identity_token_file");
  const assumes = settings.has("source_profile") || settings.has("credential_source");
  if (roleArn && (assumes || !webIdentityFile)) {
    if (settings.get("mfa_serial")) {
      throw configError(
        `Profile ${name} needs an MFA code (mfa_serial), which cloudknot cannot prompt for; use credential_process or export credentials with aws configure export-credentials`,
      );
    }
    const source = await roleSourceCredentials(name, settings, options, visited);
    const sessionName = settings.get("role_session_name") || `cloudknot-${options.now()}`;
    const externalId = settings.get("external_id");
    const duration = settings.get("duration_seconds");
    const assumed = await options.assumeRole(makeCredentials(source, `profile ${name} source`), {
      RoleArn: roleArn,
      RoleSessionName: sessionName,
      ...(externalId ? { ExternalId: externalId } : {}),
      ...(duration ? { DurationSeconds: Number(duration) } : {}),
    });
    return assumed;
  }
  const keys = staticKeys(name, settings);
  if (keys) return keys;
  if (webIdentityFile) {
    if (!roleArn) {
      throw configError(
        `Profile ${name} has web_identity_token_file but no role_arn; add the role to assume`,
      );
    }
    const sessionName = settings.get("role_session_name");
    return await fromWebIdentity({
      tokenFile: webIdentityFile,
      roleArn,
      ...(sessionName ? { sessionName } : {}),
      origin: `profile ${name}`,
    }, options);
  }
  const command = settings.get("credential_process");
  if (command) {
    return await fromProcess(name, command, {
      runProcess: options.runProcess,
      env: processEnv(options.env),
      now: options.now,
      timeoutMs: processTimeoutMs(options),
    });
  }
  if (isSsoProfile(settings)) {
    return await fromSso(name, settings, {
      ...options,
      refreshToken: options.refreshSsoToken,
    });
  }
  return undefined;
}

async function roleSourceCredentials(
  name: string,
  settings: ProfileSettings,
  options: FromProfileOptions,
  visited: string[],
): Promise<CredentialsInput> {
  const sourceProfile = settings.get("source_profile");
  const credentialSource = settings.get("credential_source");
  if (sourceProfile && credentialSource) {
    throw configError(`Profile ${name} has both source_profile and credential_source; keep one`);
  }
  if (sourceProfile) {
    const chain = [...visited, name];
    if (chain.includes(sourceProfile) && sourceProfile !== name) {
      throw configError(
        `Profiles ${
          [...chain, sourceProfile].join(" -> ")
        } form a source_profile loop; break the loop`,
      );
    }
    const found = sourceProfile === name
      ? staticKeys(name, settings)
      : await resolveProfileCredentials(sourceProfile, options, chain);
    if (!found) {
      throw configError(
        `Profile ${sourceProfile} (the source_profile of ${name}) has no credentials; add keys or credential_process to it`,
      );
    }
    return found;
  }
  let found: CredentialsInput | undefined;
  switch (credentialSource) {
    case "Environment":
      found = fromEnv(options.env);
      break;
    case "EcsContainer":
      found = await fromContainer(options);
      break;
    case "Ec2InstanceMetadata":
      found = await fromInstanceMetadata(options);
      break;
    default:
      throw configError(
        credentialSource
          ? `Profile ${name} has credential_source ${credentialSource}; use Environment, EcsContainer or Ec2InstanceMetadata`
          : `Profile ${name} has role_arn but neither source_profile nor credential_source; add one`,
      );
  }
  if (!found) {
    throw configError(
      `Profile ${name}'s credential_source ${credentialSource} found no credentials; set them up`,
    );
  }
  return found;
}

function processEnv(env: EnvLookup): Record<string, string> {
  // The child sees the real environment when the lookup is Deno.env.get;
  // with an injected lookup only the variables a helper commonly needs.
  const out: Record<string, string> = {};
  for (
    const name of [
      "PATH",
      "HOME",
      "USER",
      "AWS_PROFILE",
      "AWS_CONFIG_FILE",
      "AWS_SHARED_CREDENTIALS_FILE",
      "TMPDIR",
      "LANG",
    ]
  ) {
    const value = env(name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/**
 * Builds the default chain: explicit credentials; the environment (skipped
 * when the profile was chosen explicitly); the profile; web identity from
 * the environment (`AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN`);
 * container credentials; instance metadata.
 *
 * @param options Where to look and the side effects to use.
 * @returns A provider that runs the chain once per call (`renewal.ts` caches it).
 */
export function defaultCredentialChain(
  options: CredentialChainOptions,
): () => Promise<Credentials> {
  return async () => {
    const explicit = options.credentials;
    if (explicit !== undefined) {
      const value = typeof explicit === "function" ? await explicit() : explicit;
      if (!value?.accessKeyId || !value.secretAccessKey) {
        throw configError(
          "The credentials option has no accessKeyId or secretAccessKey; pass both",
        );
      }
      const credentials = makeCredentials(value, "explicit");
      // A function with an expiration is asked again before it; otherwise these stay.
      if (typeof explicit !== "function" || value.expiration === undefined) {
        FIXED.add(credentials);
      }
      return credentials;
    }
    if (!options.explicitProfile) {
      const env = fromEnv(options.env);
      if (env) {
        const credentials = makeCredentials(env, "env");
        FIXED.add(credentials);
        return credentials;
      }
    }
    const profile = await resolveProfileCredentials(options.profile, options, []);
    if (profile) {
      const credentials = makeCredentials(profile, `profile ${options.profile}`);
      if (FILE_KEYS.has(profile)) FILE_KEYS.add(credentials);
      return credentials;
    }
    const webIdentity = webIdentityFromEnv(options.env);
    if (webIdentity) {
      return makeCredentials(await fromWebIdentity(webIdentity, options), "web identity");
    }
    const container = await fromContainer(options);
    if (container) return makeCredentials(container, "container");
    const imds = await fromInstanceMetadata(options);
    if (imds) return makeCredentials(imds, "instance metadata");
    const skipped = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"].filter((n) => options.env(n));
    // Environment keys are skipped (not absent) when a profile was named.
    const environment = skipped.length === 0
      ? "not in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set)"
      : `${skipped.join(" and ")} ${skipped.length > 1 ? "are" : "is"} set but not used ` +
        `because profile "${options.profile}" was named, and a named profile's credentials come first`;
    throw configError(
      `No AWS credentials found: ${environment}; none in profile "${options.profile}" ` +
        `of ${options.files.paths.credentials} or ${options.files.paths.config}, ` +
        `no web identity (AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN), no container credentials, ` +
        `and ${
          isTrueSetting(options.env("AWS_EC2_METADATA_DISABLED"))
            ? "instance metadata is disabled"
            : "no instance metadata"
        }; ${
          skipped.length === 0
            ? "run aws configure or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            : `add credentials to the profile (aws configure --profile ${options.profile}), ` +
              "or name no profile so that the environment keys are used"
        }`,
    );
  };
}
