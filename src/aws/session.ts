/**
 * {@linkcode AwsSession}: the profile, region, endpoints and credentials of
 * one AWS identity, and a client per service built on them.
 *
 * @module
 */
import pThrottle from "p-throttle";
import { cachedProvider, defaultCredentialChain } from "./core/credentials.ts";
import { type ResolvedEndpoint, resolveEndpoint, SERVICES } from "./core/endpoints.ts";
import { AwsConfigError } from "./core/error.ts";
import { isTrueSetting, loadSharedConfigFiles, resolveProfile } from "./core/profile.ts";
import { resolveRegion } from "./core/region.ts";
import { AwsHttpClient, type ClockState } from "./core/request.ts";
import type { RetryOptions } from "./core/retry.ts";
import { createClient } from "./protocols/client.ts";
import { type Batch, BATCH_SERVICE } from "./services/batch.ts";
import { type Ec2, EC2_SERVICE } from "./services/ec2.ts";
import { type Ecr, ECR_SERVICE } from "./services/ecr.ts";
import { type Iam, IAM_SERVICE } from "./services/iam.ts";
import { type Logs, LOGS_SERVICE } from "./services/logs.ts";
import { createS3, type S3 } from "./services/s3.ts";
import { type Sts, STS_SERVICE } from "./services/sts.ts";
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
} from "./core/types.ts";

/** Options of {@linkcode AwsSession.create}. */
export interface AwsSessionOptions {
  /** The profile; else `AWS_PROFILE`, else `default`. */
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
  /** Reads a text file, `undefined` when missing. Defaults to `Deno.readTextFile`. */
  readTextFile?: ReadTextFile;
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

async function defaultReadTextFile(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
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
  }
}

function defaultEnv(name: string): string | undefined {
  return Deno.env.get(name);
}

const SERVICE_IDS: ServiceId[] = ["batch", "ecr", "iam", "ec2", "s3", "sts", "logs"];

/**
 * One limiter per Batch endpoint and rate, shared by every session of this
 * process: the quota is the account's, not a session's. p-throttle's strict
 * mode never lets more than `limit` calls into any one-second window, which
 * is what a token bucket of that size per second (AWS's) accepts.
 */
const BATCH_LIMITERS = new Map<string, () => Promise<void>>();

function batchLimiter(endpoint: string, perSecond: number): () => Promise<void> {
  const key = `${perSecond} ${endpoint}`;
  let limiter = BATCH_LIMITERS.get(key);
  if (limiter === undefined) {
    limiter = pThrottle({ limit: perSecond, interval: 1000, strict: true })(() =>
      Promise.resolve()
    );
    BATCH_LIMITERS.set(key, limiter);
  }
  return limiter;
}

/**
 * One AWS identity and place: profile, region, endpoints, lazily resolved
 * and cached credentials, and a client per service.
 *
 * @example Usage
 * ```ts
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 * import assert from "node:assert/strict";
 *
 * const aws = await AwsSession.create({
 *   region: "eu-west-1",
 *   credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
 *   env: () => undefined,
 *   readTextFile: () => Promise.resolve(undefined),
 * });
 * assert.equal(aws.region, "eu-west-1");
 * assert.equal(aws.endpointFor("iam").url.host, "iam.amazonaws.com");
 * assert.equal(aws.endpointFor("iam").signingRegion, "us-east-1");
 * ```
 */
export class AwsSession {
  /** The region. */
  readonly region: string;
  /** The profile's name. */
  readonly profile: string;
  /** AWS Batch. */
  readonly batch: Batch;
  /** Amazon ECR. */
  readonly ecr: Ecr;
  /** AWS IAM. */
  readonly iam: Iam;
  /** Amazon EC2. */
  readonly ec2: Ec2;
  /** Amazon S3. */
  readonly s3: S3;
  /** AWS STS. */
  readonly sts: Sts;
  /** CloudWatch Logs. */
  readonly logs: Logs;
  #credentials: () => Promise<Credentials>;
  #endpoints: Record<ServiceId, ResolvedEndpoint>;

  private constructor(
    region: string,
    profile: string,
    credentials: () => Promise<Credentials>,
    endpoints: Record<ServiceId, ResolvedEndpoint>,
    makeClient: (id: ServiceId) => AwsHttpClient,
  ) {
    this.region = region;
    this.profile = profile;
    this.#credentials = credentials;
    this.#endpoints = endpoints;
    this.batch = createClient(makeClient("batch"), BATCH_SERVICE);
    this.ecr = createClient(makeClient("ecr"), ECR_SERVICE);
    this.iam = createClient(makeClient("iam"), IAM_SERVICE);
    this.ec2 = createClient(makeClient("ec2"), EC2_SERVICE);
    this.s3 = createS3(makeClient("s3"));
    this.sts = createClient(makeClient("sts"), STS_SERVICE);
    this.logs = createClient(makeClient("logs"), LOGS_SERVICE);
  }

  /**
   * Resolves the profile, region and endpoints now, and the credentials on
   * first use.
   *
   * @param options Overrides and injectable side effects.
   * @returns The session.
   * @throws {AwsConfigError} For an unknown profile, no region, or an endpoint that is not a URL.
   */
  static async create(options: AwsSessionOptions = {}): Promise<AwsSession> {
    const env = options.env ?? defaultEnv;
    const readTextFile = options.readTextFile ?? defaultReadTextFile;
    const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    const now = options.now ?? Date.now;
    const files = await loadSharedConfigFiles({
      env,
      readTextFile,
      ...(options.homeDir !== undefined ? { homeDir: options.homeDir } : {}),
    });
    const profile = resolveProfile(files, {
      ...(options.profile !== undefined ? { profile: options.profile } : {}),
      env,
    });
    const region = resolveRegion({
      ...(options.region !== undefined ? { region: options.region } : {}),
      ...(options.fallbackRegion !== undefined ? { fallbackRegion: options.fallbackRegion } : {}),
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
          ...(endpoint !== undefined ? { endpoint } : {}),
          ...(options.endpoint !== undefined ? { allEndpoint: options.endpoint } : {}),
        }),
      ];
    })) as Record<ServiceId, ResolvedEndpoint>;
    const perSecond = options.batchRequestsPerSecond ?? 40;
    if (!Number.isInteger(perSecond) || perSecond < 0) {
      throw new AwsConfigError(
        `batchRequestsPerSecond must be a whole number from 0 (no limit), not ${perSecond}`,
        { setting: "batchRequestsPerSecond" },
      );
    }
    const throttle = perSecond > 0 ? batchLimiter(endpoints.batch.url.href, perSecond) : undefined;
    const s3ForcePathStyle = options.s3ForcePathStyle ??
      (profile.settings.get("s3.addressing_style") === "path" ||
        isTrueSetting(profile.settings.get("s3.use_path_style")));
    const clock: ClockState = { offsetMs: 0 };
    const clientFor = (id: ServiceId, credentials: () => Promise<Credentials>) =>
      new AwsHttpClient({
        service: SERVICES[id],
        endpoint: endpoints[id],
        credentials,
        fetch: fetchFn,
        now,
        clock,
        ...(options.retry ? { retry: options.retry } : {}),
        ...(options.sleep ? { sleep: options.sleep } : {}),
        ...(id === "batch" && throttle ? { throttle } : {}),
        s3ForcePathStyle,
      });
    const credentials = cachedProvider(
      defaultCredentialChain({
        ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
        explicitProfile: options.profile !== undefined,
        profile: profile.name,
        files,
        env,
        readTextFile,
        fetch: fetchFn,
        runProcess: options.runProcess ?? defaultRunProcess,
        ...(options.credentialProcessTimeoutMs !== undefined
          ? { credentialProcessTimeoutMs: options.credentialProcessTimeoutMs }
          : {}),
        now,
        assumeRole: async (source, params) => {
          const sts = createClient(clientFor("sts", () => Promise.resolve(source)), STS_SERVICE);
          const out = await sts.assumeRole(params);
          const c = out.Credentials;
          if (!c?.AccessKeyId || !c.SecretAccessKey) {
            throw new AwsConfigError(
              `STS AssumeRole for ${params.RoleArn} returned no credentials; check the role and its trust policy`,
              { setting: "credentials" },
            );
          }
          return {
            accessKeyId: c.AccessKeyId,
            secretAccessKey: c.SecretAccessKey,
            sessionToken: c.SessionToken,
            expiration: c.Expiration,
          };
        },
      }),
      { now },
    );
    return new AwsSession(
      region,
      profile.name,
      credentials,
      endpoints,
      (id) => clientFor(id, credentials),
    );
  }

  /**
   * The current credentials, resolved through the chain on first use and
   * refreshed five minutes before they expire.
   *
   * @returns The credentials (secrets redacted in debug output).
   * @throws {AwsConfigError} When no source has usable credentials.
   */
  credentials(): Promise<Credentials> {
    return this.#credentials();
  }

  /**
   * Where a service's requests go and how they are signed.
   *
   * @param service The service.
   * @returns The endpoint.
   */
  endpointFor(service: ServiceId): ResolvedEndpoint {
    return this.#endpoints[service];
  }
}
