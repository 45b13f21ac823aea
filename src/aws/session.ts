/**
 * {@linkcode AwsSession}: the profile, region, endpoints and credentials of
 * one AWS identity, and a client per service built on them.
 *
 * @module
 */
import type { ResolvedEndpoint } from "./core/endpoints.ts";
import type { AwsHttpClient } from "./core/request.ts";
import { createClient } from "./protocols/client.ts";
import { type Batch, BATCH_SERVICE } from "./services/batch.ts";
import { type Ec2, EC2_SERVICE } from "./services/ec2.ts";
import { type Ecr, ECR_SERVICE } from "./services/ecr.ts";
import { type Iam, IAM_SERVICE } from "./services/iam.ts";
import { type Logs, LOGS_SERVICE } from "./services/logs.ts";
import { createS3, type S3 } from "./services/s3.ts";
import { type Sts, STS_SERVICE } from "./services/sts.ts";
import type { Credentials, ServiceId } from "./core/types.ts";
import { type AwsSessionOptions, resolveAwsSetup } from "./setup.ts";

export type { AwsSessionOptions } from "./setup.ts";

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
    const setup = await resolveAwsSetup(options);
    return new AwsSession(
      setup.region,
      setup.profile,
      setup.credentials,
      setup.endpoints,
      setup.client,
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
