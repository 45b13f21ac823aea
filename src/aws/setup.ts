/**
 * What every AWS client of one identity shares, resolved once: the profile,
 * the region, each service's endpoint and the credential chain. An
 * {@linkcode AwsSession} builds a client per service on it; a job's S3 store
 * builds only its S3 client, so a job loads no other service.
 *
 * @module
 */
import { defaultCredentialChain, fixedForProgram, fromSharedFileKeys } from "./core/credentials.ts";
import { type ResolvedEndpoint, resolveEndpoint, SERVICES } from "./core/endpoints.ts";
import { AwsConfigError, AwsError } from "./core/error.ts";
import {
  FROM_ENV_PROFILE,
  isTrueSetting,
  parseSharedConfigFiles,
  readSharedConfigTexts,
  resolveProfile,
  type SharedConfigFiles,
} from "./core/profile.ts";
import { type RenewableCredentials, renewableCredentials } from "./core/renewal.ts";
import { resolveRegion } from "./core/region.ts";
import { AwsHttpClient, type ClockState } from "./core/request.ts";
import type { RetryOptions } from "./core/retry.ts";
import { createClient } from "./protocols/client.ts";
import { STS_SERVICE, type StsCredentials } from "./services/sts.ts";
import { SSO_OIDC_SERVICE, SSO_SERVICE } from "./services/sso.ts";
import type {
  CredentialProvider,
  Credentials,
  CredentialsInput,
  EnvLookup,
  ProcessResult,
  ReadTextFile,
  RunProcess,
  RunProcessOptions,
  ServiceId,
  WriteTextFile,
} from "./core/types.ts";
import { readTextIfExists } from "../util/read_text.ts";
import { defined } from "../util/defined.ts";

/** Options of {@linkcode resolveAwsSetup} and `AwsSession.create()`. */
export interface AwsSessionOptions {
  /**
   * The profile; else `AWS_PROFILE`, else `default`. `"from-env"` names no
   * profile (the credential chain decides, as when this is left out) and is
   * what `AwsSession.profile` then says, as the Python cloudknot records it.
   */
  profile?: string;
  /** The region; else `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's, then `fallbackRegion`. */
  region?: string;
  /** The region to use when nothing else names one (the cloudknot config file's `[aws] region`). */
  fallbackRegion?: string;
  /** Explicit credentials or a provider; when given, the chain is not consulted. */
  credentials?: CredentialsInput | CredentialProvider;
  /** One endpoint URL for every service (e.g. an emulator). */
  endpoint?: string;
  /** Endpoint URLs per service; win over `endpoint`. */
  endpoints?: Partial<Record<ServiceId, string>>;
  /** Always address S3 buckets path-style. */
  s3ForcePathStyle?: boolean;
  /** The retry policy. */
  retry?: RetryOptions;
  /**
   * The most AWS Batch requests per second this process sends to one Batch
   * endpoint, every session and operation together; 0 sends them as fast as
   * they come. AWS Batch allows an account 50 per second, SubmitJob and
   * DescribeJobs included
   * (<https://repost.aws/knowledge-center/aws-batch-requests-error>), so the
   * default leaves room for other clients.
   *
   * @default {40}
   */
  batchRequestsPerSecond?: number;
  /** Environment lookup. Defaults to `Deno.env.get`. */
  env?: EnvLookup;
  /**
   * Reads a text file, `undefined` when missing: the shared files, when the
   * session is made and again each time AWS refuses their keys. Defaults to
   * `Deno.readTextFile`.
   */
  readTextFile?: ReadTextFile;
  /**
   * Writes a text file for its owner only (a refreshed SSO token). Defaults
   * to `Deno.writeTextFile` with mode 0600.
   */
  writeTextFile?: WriteTextFile;
  /** The fetch to use. Defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Runs `credential_process` command lines. Defaults to `sh -c` through `Deno.Command`. */
  runProcess?: RunProcess;
  /**
   * How long a profile's `credential_process` may run before it is stopped,
   * in milliseconds; else `CLOUDKNOT_CREDENTIAL_PROCESS_TIMEOUT` (seconds).
   *
   * @default {60000}
   */
  credentialProcessTimeoutMs?: number;
  /** The home directory. Defaults to `HOME`, then `USERPROFILE`. */
  homeDir?: string;
  /** The clock in epoch milliseconds. Defaults to `Date.now`. */
  now?: () => number;
  /** Waits between retries; injectable so tests do not sleep. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

async function defaultRunProcess(
  command: string,
  options: RunProcessOptions,
): Promise<ProcessResult> {
  // In a process group of its own, so that stopping it stops what it started
  // too: `sh -c` forks its commands, and a killed shell's `sleep` or `aws`
  // would keep the output pipes open. SIGKILL, as the Go SDK's
  // exec.CommandContext does when its credential_process times out.
  const child = new Deno.Command("sh", {
    args: ["-c", command],
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
  const stop = () => {
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch {
      // It has exited already.
    }
  };
  options.signal?.addEventListener("abort", stop, { once: true });
  // A program that ends while it runs (the command line calls Deno.exit after Ctrl-C, which a
  // call no longer holds up for its credentials) stops it too: in a process group of its own,
  // it would outlive the program, blocked on what it waits for.
  globalThis.addEventListener("unload", stop);
  try {
    const out = await child.output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } finally {
    options.signal?.removeEventListener("abort", stop);
    globalThis.removeEventListener("unload", stop);
  }
}

async function defaultWriteTextFile(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text, { mode: 0o600 });
}

const SERVICE_IDS = Object.keys(SERVICES) as ServiceId[];

/** A role session's credentials from STS, or an error with `missing` when it sent none. */
function roleCredentials(c: StsCredentials | undefined, missing: string): Credentials {
  if (!c?.AccessKeyId || !c.SecretAccessKey) {
    throw new AwsConfigError(missing, { setting: "credentials" });
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
  };
}

/** STS's refusal of a web identity token, in words that say what to check. */
function webIdentityError(roleArn: string, e: unknown): unknown {
  if (!(e instanceof AwsError)) return e;
  const why: Record<string, string> = {
    ExpiredTokenException: "the token has expired; the identity provider renews the file, so " +
      "try again (a token in a file that is not renewed cannot be used for long)",
    InvalidIdentityToken: `STS could not validate the token (${e.awsMessage}); check the ` +
      "account's IAM OIDC identity provider for its issuer and audience",
    IDPRejectedClaim: `the identity provider rejected it (${e.awsMessage})`,
    AccessDenied: `role ${roleArn} does not trust this identity (${e.awsMessage}); check the ` +
      "role's trust policy: its Federated principal, sts:AssumeRoleWithWebIdentity, and its " +
      "conditions on the token's sub and aud",
  };
  const reason = why[e.code];
  if (reason === undefined) return e;
  return new AwsConfigError(
    `STS AssumeRoleWithWebIdentity refused the web identity token for ${roleArn}: ${reason}`,
    { setting: "credentials", cause: e },
  );
}

/** One AWS identity, resolved: what {@linkcode resolveAwsSetup} returns. */
export interface AwsSetup {
  /** The region. */
  readonly region: string;
  /**
   * The profile's name, as records of what this identity made carry it: the
   * resolved profile, or `"from-env"` when that was asked for.
   */
  readonly profile: string;
  /**
   * The names a record of this identity may carry: the profile's, and for
   * an identity that names no profile also `"from-env"` (the Python
   * cloudknot's name for it).
   */
  readonly profileNames: ReadonlySet<string>;
  /**
   * The current credentials, resolved through the chain on first use and
   * cached; its `refused` is told when AWS refuses them as expired or
   * unknown, after which the shared files are read again, and their keys
   * used when their texts changed.
   */
  readonly credentials: RenewableCredentials;
  /** Where each service's requests go and how they are signed. */
  readonly endpoints: Record<ServiceId, ResolvedEndpoint>;
  /**
   * A new HTTP client for one service, with the shared credentials and clock;
   * `throttle`, when given, is awaited before each request is sent (with the
   * call's signal, which ends the wait).
   */
  readonly client: (
    id: ServiceId,
    throttle?: (signal?: AbortSignal) => Promise<void>,
  ) => AwsHttpClient;
}

/**
 * Resolves the profile, region and endpoints now, and the credentials on
 * first use.
 *
 * @example Usage
 * ```ts
 * import { resolveAwsSetup } from "@cloudknot/cloudknot/aws";
 * import assert from "node:assert/strict";
 *
 * const setup = await resolveAwsSetup({
 *   region: "eu-west-1",
 *   env: () => undefined,
 *   readTextFile: () => Promise.resolve(undefined),
 * });
 * assert.equal(setup.region, "eu-west-1");
 * assert.equal(setup.endpoints.s3.url.host, "s3.eu-west-1.amazonaws.com");
 * ```
 *
 * @param options Overrides and injectable side effects.
 * @param shared The credentials of another setup of the same identity, to share
 *   (`AwsSession.inRegion`): then this one resolves none of its own.
 * @returns The resolved identity.
 * @throws {AwsConfigError} For an unknown profile, no region, or an endpoint that is not a URL.
 */
export async function resolveAwsSetup(
  options: AwsSessionOptions = {},
  shared?: RenewableCredentials,
): Promise<AwsSetup> {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const readTextFile = options.readTextFile ?? readTextIfExists;
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const now = options.now ?? Date.now;
  const where = { env, readTextFile, ...defined({ homeDir: options.homeDir }) };
  const texts = await readSharedConfigTexts(where);
  const files = parseSharedConfigFiles(texts);
  const named = options.profile !== undefined && options.profile !== FROM_ENV_PROFILE;
  const profile = resolveProfile(files, {
    ...(named ? { profile: options.profile } : {}),
    env,
  });
  const region = resolveRegion({
    ...defined({ region: options.region, fallbackRegion: options.fallbackRegion }),
    env,
    profile,
  });
  for (const id of Object.keys(options.endpoints ?? {})) {
    if (!SERVICE_IDS.includes(id as ServiceId)) {
      throw new AwsConfigError(
        `The endpoints option names an unknown service "${id}"; use one of ${
          SERVICE_IDS.join(", ")
        }`,
        { setting: "endpoint" },
      );
    }
  }
  const endpoints = Object.fromEntries(SERVICE_IDS.map((id) => {
    const endpoint = options.endpoints?.[id];
    return [
      id,
      resolveEndpoint(SERVICES[id], {
        region,
        env,
        profile: profile.settings,
        files,
        ...defined({ endpoint, allEndpoint: options.endpoint }),
      }),
    ];
  })) as Record<ServiceId, ResolvedEndpoint>;
  const s3ForcePathStyle = options.s3ForcePathStyle ??
    (profile.settings.get("s3.addressing_style") === "path" ||
      isTrueSetting(profile.settings.get("s3.use_path_style")));
  const clock: ClockState = { offsetMs: 0 };
  const clientFor = (
    id: ServiceId,
    credentials: () => Promise<Credentials>,
    throttle?: (signal?: AbortSignal) => Promise<void>,
  ) =>
    new AwsHttpClient({
      service: SERVICES[id],
      endpoint: endpoints[id],
      credentials,
      refused: (c) => renewing.refused(c),
      fetch: fetchFn,
      now,
      clock,
      ...defined({ retry: options.retry, sleep: options.sleep, throttle }),
      s3ForcePathStyle,
    });
  // The unsigned calls that obtain credentials (they need none), and the
  // SSO endpoints, which are those of the SSO region, not the session's.
  const unsigned = () =>
    Promise.reject(new AwsConfigError("This call is not signed", { setting: "credentials" }));
  const ssoHttp = (id: "sso" | "ssooidc", ssoRegion: string) =>
    new AwsHttpClient({
      service: SERVICES[id],
      endpoint: resolveEndpoint(SERVICES[id], {
        region: ssoRegion,
        env,
        profile: profile.settings,
        files,
        ...defined({ endpoint: options.endpoints?.[id], allEndpoint: options.endpoint }),
      }),
      credentials: unsigned,
      fetch: fetchFn,
      now,
      clock,
      ...defined({ retry: options.retry, sleep: options.sleep }),
    });
  const chain = (files: SharedConfigFiles) =>
    defaultCredentialChain({
      ...defined({
        credentials: options.credentials,
        credentialProcessTimeoutMs: options.credentialProcessTimeoutMs,
      }),
      explicitProfile: named,
      profile: profile.name,
      files,
      env,
      readTextFile,
      writeTextFile: options.writeTextFile ?? defaultWriteTextFile,
      homeDir: options.homeDir ?? env("HOME") ?? env("USERPROFILE") ?? "",
      fetch: fetchFn,
      runProcess: options.runProcess ?? defaultRunProcess,
      now,
      assumeRole: async (source, params) => {
        const sts = createClient(clientFor("sts", () => Promise.resolve(source)), STS_SERVICE);
        const out = await sts.assumeRole(params);
        return roleCredentials(
          out.Credentials,
          `STS AssumeRole for ${params.RoleArn} returned no credentials; check the role and its trust policy`,
        );
      },
      assumeRoleWithWebIdentity: async (params) => {
        const sts = createClient(clientFor("sts", unsigned), STS_SERVICE);
        let out;
        try {
          out = await sts.assumeRoleWithWebIdentity(params);
        } catch (e) {
          throw webIdentityError(params.RoleArn, e);
        }
        return roleCredentials(
          out.Credentials,
          `STS AssumeRoleWithWebIdentity for ${params.RoleArn} returned no credentials; try again`,
        );
      },
      getRoleCredentials: async ({ region: ssoRegion, ...params }) => {
        const { roleCredentials: r } = await createClient(ssoHttp("sso", ssoRegion), SSO_SERVICE)
          .getRoleCredentials(params);
        return {
          accessKeyId: r?.accessKeyId ?? "",
          secretAccessKey: r?.secretAccessKey ?? "",
          ...(r?.sessionToken ? { sessionToken: r.sessionToken } : {}),
          ...(r?.expiration !== undefined ? { expiration: new Date(r.expiration) } : {}),
        };
      },
      refreshSsoToken: async ({ region: ssoRegion, ...params }) => {
        const out = await createClient(ssoHttp("ssooidc", ssoRegion), SSO_OIDC_SERVICE)
          .createToken({ ...params, grantType: "refresh_token" });
        return {
          accessToken: out.accessToken ?? "",
          expiresIn: out.expiresIn ?? 0,
          ...(out.refreshToken ? { refreshToken: out.refreshToken } : {}),
        };
      },
    })();
  const renewing: RenewableCredentials = shared ?? renewableCredentials({
    texts,
    files,
    read: () => readSharedConfigTexts(where),
    resolve: chain,
    fromFiles: fromSharedFileKeys,
    fixed: fixedForProgram,
    now,
  });
  // An identity that names no profile is the one the Python cloudknot
  // records as "from-env", and the one this library recorded by the chain's
  // profile name before: both name it.
  return {
    region,
    profile: options.profile === FROM_ENV_PROFILE ? FROM_ENV_PROFILE : profile.name,
    profileNames: new Set(named ? [profile.name] : [profile.name, FROM_ENV_PROFILE]),
    credentials: renewing,
    endpoints,
    client: (id, throttle) => clientFor(id, renewing, throttle),
  };
}
