/**
 * AWS Batch's fixed quotas per account and region that a knot or a run can
 * reach, checked before anything is made: the size of a RegisterJobDefinition
 * and of a SubmitJob request as they go on the wire, and how many compute
 * environments and job queues the account has
 * (<https://docs.aws.amazon.com/batch/latest/userguide/service_limits.html>;
 * AWS does not raise them).
 *
 * @module
 */
import type { AwsSession } from "../../../aws/session.ts";
import { AwsError } from "../../../aws/core/error.ts";
import { restJsonRequest } from "../../../aws/protocols/json.ts";
import {
  BATCH_SERVICE,
  type RegisterJobDefinitionRequest,
  type SubmitJobRequest,
} from "../../../aws/services/batch.ts";
import { CannotCreateResourceError, CloudknotInputError } from "../../../util/errors.ts";

/**
 * AWS Batch's fixed quotas that cloudknot checks: the most compute
 * environments and job queues per account and region, and the largest
 * RegisterJobDefinition and SubmitJob requests, in bytes.
 *
 * @example Usage
 * ```ts
 * import { BATCH_QUOTAS } from "@cloudknot/cloudknot/batch";
 *
 * console.log(BATCH_QUOTAS.jobDefinitionBytes); // 24576
 * ```
 */
export const BATCH_QUOTAS: {
  readonly computeEnvironments: number;
  readonly jobQueues: number;
  readonly jobDefinitionBytes: number;
  readonly submitJobBytes: number;
} = {
  computeEnvironments: 50,
  jobQueues: 50,
  jobDefinitionBytes: 24 * 1024,
  submitJobBytes: 30 * 1024,
};

/**
 * The bytes of a Batch request's body as the client sends it: the restJson
 * protocol's own serialization (`aws/protocols/json.ts`), in UTF-8.
 *
 * @example Usage
 * ```ts
 * import { batchRequestBytes } from "@cloudknot/cloudknot/batch";
 *
 * console.log(batchRequestBytes("SubmitJob", { jobName: "j", jobQueue: "q", jobDefinition: "d" }));
 * // 50
 * ```
 *
 * @param operation The operation.
 * @param request Its input.
 * @returns The body's size in bytes.
 */
export function batchRequestBytes(
  operation: "RegisterJobDefinition" | "SubmitJob",
  request: object,
): number {
  const { body } = restJsonRequest(
    BATCH_SERVICE.operations[operation],
    request as Record<string, unknown>,
  );
  return typeof body === "string"
    ? new TextEncoder().encode(body).byteLength
    : body?.byteLength ?? 0;
}

/**
 * A number of bytes for a message, with the thousands separated.
 *
 * @example Usage
 * ```ts ignore
 * bytes(24576); // "24,576 bytes"
 * ```
 */
export function bytes(n: number): string {
  return `${n.toLocaleString("en-US")} bytes`;
}

/** The UTF-8 bytes of a value as JSON. */
function jsonBytes(value: unknown): number {
  return value === undefined ? 0 : new TextEncoder().encode(JSON.stringify(value)).byteLength;
}

/**
 * Refuses a job definition larger than AWS Batch's 24 KiB, as
 * RegisterJobDefinition would send it, naming what in it the knot's options
 * grow: its permissions (`CLOUDKNOT_PERMISSIONS`) and its tags. Given a
 * request with the values not known yet (the image's digest, the roles' ARNs)
 * at their longest, it refuses a knot before anything is made.
 *
 * @example Usage
 * ```ts
 * import { checkJobDefinitionBytes } from "./quotas.ts";
 *
 * checkJobDefinitionBytes({ jobDefinitionName: "k-ck-jd", type: "container" }); // fine
 * ```
 *
 * @param request The RegisterJobDefinition request.
 * @throws {CloudknotInputError} When it is larger than 24 KiB (field `permissions` or `tags`, whichever takes more).
 */
export function checkJobDefinitionBytes(request: RegisterJobDefinitionRequest): void {
  const size = batchRequestBytes("RegisterJobDefinition", request);
  const limit = BATCH_QUOTAS.jobDefinitionBytes;
  if (size <= limit) return;
  const granted = request.containerProperties?.environment?.find((v) =>
    v.name === "CLOUDKNOT_PERMISSIONS"
  );
  const permissions = jsonBytes(granted);
  const tags = jsonBytes(request.tags);
  throw new CloudknotInputError(
    `The knot's job definition would be ${bytes(size)} as RegisterJobDefinition sends it, more ` +
      `than the ${bytes(limit)} (24 KiB) AWS Batch takes (a fixed quota AWS does not raise), so ` +
      `it could not be registered; its permissions take ${bytes(permissions)} of it and its ` +
      `tags ${bytes(tags)}: grant the directories that hold the files instead of each file, or ` +
      `a kind whole (read: true), pass fewer or shorter tags, and move large values to the ` +
      `items' inputs, or to a file shipped with the files option of Knot.create`,
    { field: permissions >= tags ? "permissions" : "tags" },
  );
}

/**
 * Refuses a run whose SubmitJob requests would be larger than AWS Batch's
 * 30 KiB, before its inputs are uploaded, naming what the map adds to each:
 * its `env` (and a retry's permissions, `CLOUDKNOT_PERMISSIONS`) and the
 * jobs' tags. Given a request whose numbers (the job's index, its items, its
 * timeout) are still to come, `numbers` says how many it may carry: each
 * counts 16 digits, as many as a safe integer has.
 *
 * @example Usage
 * ```ts
 * import { checkSubmitJobBytes } from "./quotas.ts";
 *
 * checkSubmitJobBytes({ jobName: "j", jobQueue: "q", jobDefinition: "d" }, { env: {} }); // fine
 * ```
 *
 * @param request A SubmitJob request of the run, at its largest.
 * @param words The map's `env`, how many numbers are still to come, and `retry` when a retry's permissions are in its environment.
 * @throws {CloudknotInputError} When it is larger than 30 KiB (field `env`, `permissions` or `tags`, whichever takes most).
 */
export function checkSubmitJobBytes(
  request: SubmitJobRequest,
  words: { env: Record<string, string>; numbers?: number },
): void {
  const size = batchRequestBytes("SubmitJob", request) + 16 * (words.numbers ?? 0);
  const limit = BATCH_QUOTAS.submitJobBytes;
  if (size <= limit) return;
  const environment = request.containerOverrides?.environment ?? [];
  const env = jsonBytes(environment.filter((v) => Object.hasOwn(words.env, v.name ?? "")));
  const permissions = jsonBytes(environment.find((v) => v.name === "CLOUDKNOT_PERMISSIONS"));
  const tags = jsonBytes(request.tags);
  const most = Math.max(env, permissions, tags);
  throw new CloudknotInputError(
    `Each job of the run would be up to ${bytes(size)} as SubmitJob sends it, more than the ` +
      `${bytes(limit)} (30 KiB) AWS Batch takes (a fixed quota AWS does not raise), so no job ` +
      `could be submitted; its env takes ${bytes(env)} of it, the retry's permissions ` +
      `${bytes(permissions)} and its tags ${bytes(tags)}: pass large settings in the items, or ` +
      `put them in S3 and pass their location in env, and pass fewer or shorter tags`,
    { field: most === env ? "env" : most === permissions ? "permissions" : "tags" },
  );
}

/** The two kinds of Batch resource whose count per account and region is a quota. */
export type QuotaResource = "compute environment" | "job queue";

/** How many of a resource AWS Batch allows per account and region. */
function quotaOf(resource: QuotaResource): number {
  return resource === "job queue" ? BATCH_QUOTAS.jobQueues : BATCH_QUOTAS.computeEnvironments;
}

/**
 * The account already has as many AWS Batch compute environments (or job
 * queues) in the region as AWS allows, so a knot cannot make its own: a
 * fixed quota AWS does not raise. The message says to clobber knots no
 * longer used. It is the same whether cloudknot counted them before making
 * anything, or AWS refused the create (another process made one meanwhile).
 *
 * @example Usage
 * ```ts
 * import { BatchQuotaError } from "@cloudknot/cloudknot/batch";
 * import { CannotCreateResourceError } from "@cloudknot/cloudknot";
 *
 * const e = new BatchQuotaError({ resource: "job queue", name: "k-ck-jq", count: 50, region: "eu-west-1" });
 * console.log(e instanceof CannotCreateResourceError, e.limit); // true 50
 * ```
 */
export class BatchQuotaError extends CannotCreateResourceError {
  /** Which resource the account has too many of. */
  readonly resource: QuotaResource;
  /** How many the account has in the region. */
  readonly count: number;
  /** How many AWS allows. */
  readonly limit: number;

  /**
   * Makes the error.
   *
   * @param facts The resource's kind, the name it would have had, how many the account has, and the region.
   * @param options The standard error options, such as `cause` (AWS's refusal).
   */
  constructor(
    facts: { resource: QuotaResource; name: string; count: number; region: string },
    options?: ErrorOptions,
  ) {
    const limit = quotaOf(facts.resource);
    super(
      `The account has ${facts.count} AWS Batch ${facts.resource}s in ${facts.region}, and AWS ` +
        `Batch allows ${limit} per account and region (a fixed quota AWS does not raise), so ` +
        `${facts.resource} ${facts.name} cannot be made: list your knots with \`knot list\` and ` +
        `clobber those no longer used ((await Knot.create({ name: "NAME", target: "aws" }))` +
        `.clobber()), delete what failed creates left with \`cloudknot gc\` (findGarbage and ` +
        `deleteGarbage) and the ${facts.resource}s made outside cloudknot that you no longer ` +
        `need, then create the knot again`,
      options,
    );
    this.resource = facts.resource;
    this.count = facts.count;
    this.limit = limit;
  }
}

/** The names of the account's compute environments (or job queues) in the session's region. */
async function listNames(session: AwsSession, resource: QuotaResource): Promise<string[]> {
  if (resource === "job queue") {
    const queues = await Array.fromAsync(session.batch.describeJobQueuesAll({}));
    return queues.filter((q) => q.status !== "DELETED").map((q) => q.jobQueueName);
  }
  const ces = await Array.fromAsync(session.batch.describeComputeEnvironmentsAll({}));
  return ces.filter((c) => c.status !== "DELETED").map((c) => c.computeEnvironmentName);
}

/**
 * Refuses a knot's compute environment or job queue that does not exist yet
 * when the account has as many as AWS Batch allows in the region, before
 * anything is made: it only lists them (DescribeComputeEnvironments,
 * DescribeJobQueues). One that exists already (adopted, or being deleted
 * and made again) adds none. The look is advisory: another process may make
 * one meanwhile, and then AWS refuses the create, which
 * {@linkcode quotaRefusal} words the same way.
 *
 * @example Usage
 * ```ts ignore
 * import { refuseFullAccount } from "./quotas.ts";
 *
 * await refuseFullAccount(session, { computeEnvironment: "k-ck-ce", jobQueue: "k-ck-jq" });
 * ```
 *
 * @param session The AWS session (its region is the one counted).
 * @param names The names the knot's compute environment and job queue would have.
 * @throws {BatchQuotaError} When one would be one too many.
 */
export async function refuseFullAccount(
  session: AwsSession,
  names: { computeEnvironment?: string; jobQueue?: string },
): Promise<void> {
  const wanted: [QuotaResource, string | undefined][] = [
    ["compute environment", names.computeEnvironment],
    ["job queue", names.jobQueue],
  ];
  for (const [resource, name] of wanted) {
    if (name === undefined) continue;
    const existing = await listNames(session, resource);
    const limit = quotaOf(resource);
    if (!existing.includes(name) && existing.length >= limit) {
      throw new BatchQuotaError({ resource, name, count: existing.length, region: session.region });
    }
  }
}

/**
 * What a refused CreateComputeEnvironment or CreateJobQueue becomes: a
 * {@linkcode BatchQuotaError} when the account now has as many as AWS Batch
 * allows (counted again, so that nothing hangs on the words of AWS's
 * message, which AWS does not document), else the refusal itself.
 *
 * @example Usage
 * ```ts ignore
 * await session.batch.createJobQueue(request).catch(async (e) => {
 *   throw await quotaRefusal(session, "job queue", "k-ck-jq", e);
 * });
 * ```
 *
 * @param session The AWS session.
 * @param resource What the create made.
 * @param name Its name.
 * @param error What the create threw.
 * @returns The error to throw.
 */
export async function quotaRefusal(
  session: AwsSession,
  resource: QuotaResource,
  name: string,
  error: unknown,
): Promise<unknown> {
  if (!(error instanceof AwsError && error.code === "ClientException")) return error;
  const limit = quotaOf(resource);
  const existing = await listNames(session, resource).catch(() => undefined);
  if (existing === undefined || existing.includes(name) || existing.length < limit) return error;
  return new BatchQuotaError({ resource, name, count: existing.length, region: session.region }, {
    cause: error,
  });
}
