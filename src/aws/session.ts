/**
 * {@linkcode AwsSession}: the profile, region, endpoints and credentials of
 * one AWS identity, and a client per service built on them.
 *
 * @module
 */
import type { ResolvedEndpoint } from "./core/endpoints.ts";
import { AwsConfigError } from "./core/error.ts";
import { createClient } from "./protocols/client.ts";
import { type Batch, BATCH_SERVICE } from "./services/batch.ts";
import { type CloudFormation, CLOUDFORMATION_SERVICE } from "./services/cloudformation.ts";
import { type Ec2, EC2_SERVICE } from "./services/ec2.ts";
import { type Ecr, ECR_SERVICE } from "./services/ecr.ts";
import { type Iam, IAM_SERVICE } from "./services/iam.ts";
import { type Logs, LOGS_SERVICE } from "./services/logs.ts";
import { createS3, type S3, S3_SERVICE } from "./services/s3.ts";
import { withCredentialAdvice } from "./credential_advice.ts";
import { type Sts, STS_SERVICE } from "./services/sts.ts";
import type { Credentials, ServiceId } from "./core/types.ts";
import type { RenewableCredentials } from "./core/renewal.ts";
import { type AwsSessionOptions, type AwsSetup, resolveAwsSetup } from "./setup.ts";
import { AWS_SESSION_MARK } from "./session_mark.ts";
import { rateLimiter } from "./rate_limiter.ts";

export type { AwsSessionOptions } from "./setup.ts";

/**
 * One limiter per Batch endpoint and rate, shared by every session of this
 * process: the quota is the account's, not a session's. It never lets more
 * than `perSecond` calls into any one-second window, which is what a token
 * bucket of that size per second (AWS's) accepts, and a call whose signal
 * aborts leaves its queue at once.
 */
const BATCH_LIMITERS = new Map<string, (signal?: AbortSignal) => Promise<void>>();

function batchLimiter(
  endpoint: string,
  perSecond: number,
): (signal?: AbortSignal) => Promise<void> {
  const key = `${perSecond} ${endpoint}`;
  let limiter = BATCH_LIMITERS.get(key);
  if (limiter === undefined) {
    limiter = rateLimiter(perSecond);
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
  /**
   * The profile's name, as records of what this session made carry it: the
   * resolved profile, or `"from-env"` when the session was asked for that.
   */
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
  /** AWS CloudFormation (the Python cloudknot's stacks). */
  readonly cloudformation: CloudFormation;
  #credentials: RenewableCredentials;
  #endpoints: Record<ServiceId, ResolvedEndpoint>;
  /** The names a record may carry for this session's identity. */
  #profileNames: ReadonlySet<string>;
  /** What it was made with, for {@linkcode AwsSession.inRegion}. */
  #options: AwsSessionOptions;

  private constructor(setup: AwsSetup, options: AwsSessionOptions) {
    this.region = setup.region;
    this.profile = setup.profile;
    this.#profileNames = setup.profileNames;
    this.#credentials = setup.credentials;
    this.#endpoints = setup.endpoints;
    this.#options = options;
    const perSecond = options.batchRequestsPerSecond ?? 40;
    const throttle = perSecond > 0
      ? batchLimiter(setup.endpoints.batch.url.href, perSecond)
      : undefined;
    // Each client's errors say what to check when AWS refuses the credentials.
    const advised = withCredentialAdvice;
    this.batch = createClient(setup.client("batch", throttle), advised(BATCH_SERVICE));
    this.ecr = createClient(setup.client("ecr"), advised(ECR_SERVICE));
    this.iam = createClient(setup.client("iam"), advised(IAM_SERVICE));
    this.ec2 = createClient(setup.client("ec2"), advised(EC2_SERVICE));
    this.s3 = createS3(setup.client("s3"), advised(S3_SERVICE));
    this.sts = createClient(setup.client("sts"), advised(STS_SERVICE));
    this.logs = createClient(setup.client("logs"), advised(LOGS_SERVICE));
    this.cloudformation = createClient(
      setup.client("cloudformation"),
      advised(CLOUDFORMATION_SERVICE),
    );
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
    const perSecond = options.batchRequestsPerSecond ?? 40;
    if (!Number.isInteger(perSecond) || perSecond < 0) {
      throw new AwsConfigError(
        `batchRequestsPerSecond must be a whole number from 0 (no limit), not ${perSecond}`,
        { setting: "batchRequestsPerSecond" },
      );
    }
    return new AwsSession(await resolveAwsSetup(options), options);
  }

  /**
   * The same identity in another region: the same profile, endpoints and
   * options, sharing these credentials (resolved once).
   *
   * @example Usage
   * ```ts ignore
   * const ireland = await aws.inRegion("eu-west-1");
   * ```
   *
   * @param region The region.
   * @returns The session.
   */
  async inRegion(region: string): Promise<AwsSession> {
    if (region === this.region) return this;
    // The same credentials, so that a refusal in either region renews them for both.
    const options = { ...this.#options, region };
    const session = new AwsSession(await resolveAwsSetup(options, this.#credentials), options);
    session.#profileNames = this.#profileNames;
    return session;
  }

  /**
   * The current credentials, resolved through the chain on first use and
   * refreshed five minutes before they expire. Keys read from the shared
   * files (`~/.aws/credentials`) are kept until AWS refuses them as expired
   * or unknown: then the files are read again, and the keys they hold now
   * are used when their texts changed.
   *
   * @returns The credentials (secrets redacted in debug output).
   * @throws {AwsConfigError} When no source has usable credentials.
   */
  credentials(): Promise<Credentials> {
    return this.#credentials();
  }

  /**
   * Resolves once no resolution of this session's credentials is under way.
   * A call whose signal aborts stops waiting for its credentials at once,
   * while their resolution goes on for the session's other calls (a
   * `credential_process` helper still running, for one); a program that
   * must leave nothing running when it is done (the command line, called in
   * a program of its own) waits for this after its last call.
   *
   * @example Usage
   * ```ts ignore
   * stop.abort(); // the session's last call stops at once
   * await aws.settled(); // the helper it waited for has ended too
   * ```
   *
   * @returns When no resolution is under way.
   */
  settled(): Promise<void> {
    return this.#credentials.settled();
  }

  /**
   * Whether a record made with the profile `recorded` belongs to this
   * session's identity: the same name, or, for a session that names no
   * profile, `"from-env"` or the profile the credential chain reads.
   *
   * @example Usage
   * ```ts
   * import { AwsSession } from "@cloudknot/cloudknot/aws";
   * import assert from "node:assert/strict";
   *
   * const aws = await AwsSession.create({
   *   profile: "from-env",
   *   region: "eu-west-1",
   *   env: () => undefined,
   *   readTextFile: () => Promise.resolve(undefined),
   * });
   * assert.equal(aws.profile, "from-env");
   * assert.ok(aws.sameProfile("from-env") && aws.sameProfile("default"));
   * assert.ok(!aws.sameProfile("lab"));
   * ```
   *
   * @param recorded The profile a record names.
   * @returns `true` when the record is this identity's.
   */
  sameProfile(recorded: string): boolean {
    return this.#profileNames.has(recorded);
  }

  /**
   * Every profile name a record of this session's identity may carry (see
   * {@linkcode AwsSession.sameProfile}), {@linkcode AwsSession.profile} first:
   * the names of the `[docker-repos <profile> <region>]` and
   * `[batch-jobs <profile> <region>]` sections that are this session's.
   *
   * @returns The names.
   */
  get profileNames(): readonly string[] {
    return [this.profile, ...[...this.#profileNames].filter((n) => n !== this.profile)];
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

// What `isAwsSession` (session_mark.ts) looks for, without loading this module.
Object.defineProperty(AwsSession.prototype, AWS_SESSION_MARK, { value: true });
