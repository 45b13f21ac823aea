/**
 * A knot's AWS Batch resources: its compute environment, job queue and job
 * definition, created or adopted by name, waited on until they are usable,
 * and deleted in the order Batch requires.
 *
 * @module
 */
import type { AwsSession } from "../../../aws/session.ts";
import { AwsError } from "../../../aws/core/error.ts";
import type {
  ComputeResource,
  JobDefinition,
  JobStateTimeLimitAction,
  RegisterJobDefinitionRequest,
} from "../../../aws/services/batch.ts";
import { BatchResourceError } from "./errors.ts";
import { sleep } from "../../../util/sleep.ts";
import { type ComputeSpec, isFargate } from "./compute_options.ts";
import { thenSentence } from "../../../util/sentence.ts";
import { checkJobDefinitionBytes, quotaRefusal } from "./quotas.ts";
import { unfinishedJobIds, waitForJobsToEnd } from "./jobs.ts";
import { defined } from "../../../util/defined.ts";

export { BatchResourceError };

/** The roles and network a knot's Batch resources use (what a `Pars` holds). */
export interface BatchPlacement {
  /**
   * A Batch service role's ARN; empty or left out, the compute environment
   * uses AWS Batch's service-linked role `AWSServiceRoleForBatch`, which
   * Batch makes when the account has none yet (the caller then needs
   * `iam:CreateServiceLinkedRole`):
   * <https://docs.aws.amazon.com/batch/latest/APIReference/API_CreateComputeEnvironment.html>.
   */
  batchServiceRole?: string;
  /** The ECS instance profile's ARN (EC2 and SPOT). */
  ecsInstanceProfile: string;
  /** The spot fleet role's ARN (SPOT). */
  spotFleetRole?: string;
  /** The task execution role's ARN (Fargate). */
  taskExecutionRole?: string;
  /** The role the jobs run as. */
  jobRole: string;
  /** Subnet ids. */
  subnets: string[];
  /** The security group id. */
  securityGroup: string;
}

/** How long to wait, and how often to look. */
export interface WaitOptions {
  /** Milliseconds between looks. @default {2000} */
  pollMs?: number;
  /** Milliseconds before giving up. @default {900000} */
  timeoutMs?: number;
  /** Stops waiting. */
  signal?: AbortSignal;
  /**
   * Told when a wait is longer than usual and why: a compute environment
   * made again while IAM catches up, a network still held by a deleted
   * compute environment.
   */
  onWait?: (message: string) => void;
}

/**
 * How long a compute environment made INVALID by IAM's eventual consistency
 * is validated again before its reason is taken as final (at most the
 * wait's `timeoutMs`).
 */
const IAM_WAIT_MS = 300_000;

/**
 * The reasons Batch gives for an INVALID compute environment when a role or
 * instance profile it names cannot be used: right after they are made, IAM
 * has not yet shown them to Batch, ECS and EC2
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
 * Users report "… is not authorized to perform: ecs:DescribeClusters …"
 * (hashicorp/terraform-provider-aws#37945), "Invalid IamInstanceProfile"
 * (Netflix/metaflow-tools#9) and "unable to assume role".
 */
const IAM_REASON =
  /not authorized to perform|unable to assume (?:the )?role|Invalid ?IAM ?Instance ?Profile/i;

/** What {@linkcode ensureComputeEnvironment} makes. */
export interface ComputeEnvironmentSpec {
  /** The environment's name. */
  name: string;
  /** The knot's compute settings. */
  compute: ComputeSpec;
  /** Roles and network. */
  placement: BatchPlacement;
  /** A launch template's name, for `volumeSize`. */
  launchTemplate?: string;
  /** Tags. */
  tags: Record<string, string>;
}

async function waitFor<T>(
  what: string,
  look: () => Promise<T | undefined>,
  done: (value: T | undefined) => boolean,
  options: WaitOptions,
): Promise<T | undefined> {
  const deadline = Date.now() + (options.timeoutMs ?? 900_000);
  while (true) {
    const value = await look();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new BatchResourceError(
        `Timed out waiting for ${what}; look at it in the AWS Batch console, then try again`,
      );
    }
    await sleep(options.pollMs ?? 2000, options.signal);
    options.signal?.throwIfAborted();
  }
}

function describeEnvironment(session: AwsSession, name: string) {
  return session.batch.describeComputeEnvironments({ computeEnvironments: [name] })
    .then((r) => r.computeEnvironments?.[0]);
}

function describeQueue(session: AwsSession, name: string) {
  return session.batch.describeJobQueues({ jobQueues: [name] }).then((r) => r.jobQueues?.[0]);
}

const GONE = new Set(["DELETING", "DELETED"]);

/**
 * Makes a Batch resource unless it exists: one still being deleted is waited
 * out first, and a create whose answer was lost counts as made when a
 * describe then finds the resource.
 *
 * @returns What existed already, or `undefined` when it was made here (and `options.onCreated` was told).
 */
async function createUnlessPresent<T extends { status?: string }>(
  what: string,
  describe: () => Promise<T | undefined>,
  create: () => Promise<unknown>,
  options: EnsureOptions,
): Promise<T | undefined> {
  const existing = await describe();
  if (existing !== undefined && GONE.has(existing.status ?? "")) {
    await waitFor(
      `${what} to finish deleting`,
      describe,
      (r) => r === undefined || r.status === "DELETED",
      options,
    );
  } else if (existing !== undefined) {
    return existing;
  }
  for (let attempt = 1;; attempt++) {
    try {
      await create();
      options.onCreated?.();
      return undefined;
    } catch (e) {
      // Made by someone else since the look above (another process creating the same knot):
      // what is there now is judged as one found at first.
      if (
        e instanceof AwsError && e.code === "ClientException" && /already exists/i.test(e.message)
      ) {
        const now = await describe();
        if (now !== undefined) return now;
      }
      // An answer lost in transit or a server error: the resource may exist now; look first.
      if (!(e instanceof AwsError && e.code === "OutcomeUnknown")) throw e;
      if ((await describe()) !== undefined) {
        options.onCreated?.();
        return undefined;
      }
      // Not made: its name is unique, so creating it again cannot make a second one.
      if (attempt >= CREATE_ATTEMPTS) throw e;
    }
  }
}

/**
 * How to wait for a compute environment or job queue made or adopted by
 * name, and who is told when this call made it.
 */
export interface EnsureOptions extends WaitOptions {
  /**
   * Told once this call has created the resource, not when it adopted one
   * that existed (made by another process, maybe at the same moment): what
   * undoes a failed create deletes only what this call made.
   */
  onCreated?: () => void;
}

/** How many times a compute environment or queue is created while each outcome is unknown. */
const CREATE_ATTEMPTS = 3;

/** Whether an environment or queue is usable, or broken for good. */
function settled(status: string | undefined): boolean {
  return status === "VALID" || status === "INVALID";
}

/**
 * Creates the knot's compute environment, or adopts the one of that name,
 * and waits until it is VALID. An INVALID environment is an error that
 * carries Batch's `statusReason`, unless the reason is one IAM's eventual
 * consistency explains (roles made a moment ago that Batch cannot use yet,
 * and that do exist): then Batch is asked to validate it again, with
 * backoff from `pollMs` and a warning through `onWait`, for up to 5
 * minutes.
 *
 * @example Usage
 * ```ts ignore
 * import { ensureComputeEnvironment, validateComputeOptions } from "@cloudknot/cloudknot/batch";
 *
 * const arn = await ensureComputeEnvironment(session, {
 *   name: "my-knot-ck-ce", compute: validateComputeOptions(), placement: pars, tags: {},
 * });
 * ```
 *
 * @param session The AWS session.
 * @param spec What to make.
 * @param options How to wait, and who is told when this call made it.
 * @returns The environment's ARN.
 */
export async function ensureComputeEnvironment(
  session: AwsSession,
  spec: ComputeEnvironmentSpec,
  options: EnsureOptions = {},
): Promise<string> {
  const deadline = Date.now() + Math.min(IAM_WAIT_MS, options.timeoutMs ?? 900_000);
  let pause = options.pollMs ?? 2000;
  for (let attempt = 1;; attempt++) {
    const ce = await createComputeEnvironment(session, spec, options, attempt > 1);
    if (ce?.status === "VALID") return ce.computeEnvironmentArn;
    const reason = ce?.statusReason ?? "no reason given";
    const iam = IAM_REASON.test(reason) && await placementExists(session, spec.placement);
    if (!iam || Date.now() + pause > deadline) {
      throw new BatchResourceError(
        thenSentence(
          `Compute environment ${spec.name} is ${ce?.status}: ${reason}`,
          iam
            ? `IAM still does not let AWS Batch use the roles ${
              Math.round(IAM_WAIT_MS / 60_000)
            } minutes after they were made: check their trust and policies (or clobber the ` +
              `Pars and let cloudknot make them again), then clobber the knot and create it again`
            : `Fix the cause (often a role, subnet or instance type), clobber the knot and ` +
              `create it again`,
        ),
      );
    }
    options.onWait?.(
      `cloudknot: compute environment ${spec.name} is INVALID because AWS Batch cannot use its ` +
        `roles yet (${reason}); IAM changes take a while to reach Batch, so it is validated ` +
        `again in ${Math.ceil(pause / 1000)} s (try ${attempt + 1}, for up to ${
          Math.round(IAM_WAIT_MS / 60_000)
        } minutes)`,
    );
    await sleep(pause, options.signal);
    options.signal?.throwIfAborted();
    pause = Math.min(pause * 2, 60_000);
  }
}

/**
 * Whether the service role, instance profile and spot fleet role a
 * placement names exist: an INVALID reason about one that does not is a
 * mistake, not IAM catching up. A look IAM refuses counts as existing.
 */
async function placementExists(session: AwsSession, p: BatchPlacement): Promise<boolean> {
  const name = (arn: string) => arn.split("/").pop()!;
  const looks = [
    ...(p.batchServiceRole
      ? [() => session.iam.getRole({ RoleName: name(p.batchServiceRole!) })]
      : []),
    () => session.iam.getInstanceProfile({ InstanceProfileName: name(p.ecsInstanceProfile) }),
    ...(p.spotFleetRole ? [() => session.iam.getRole({ RoleName: name(p.spotFleetRole!) })] : []),
  ];
  for (const look of looks) {
    try {
      await look();
    } catch (e) {
      if (e instanceof AwsError && e.code === "NoSuchEntity") return false;
    }
  }
  return true;
}

/**
 * Creates the compute environment (or adopts it), or, with `again`, asks
 * Batch to validate the INVALID one again (UpdateComputeEnvironment puts it
 * in UPDATING, then VALID or INVALID), and waits until it has settled.
 */
async function createComputeEnvironment(
  session: AwsSession,
  spec: ComputeEnvironmentSpec,
  options: EnsureOptions,
  again: boolean,
) {
  const describe = () => describeEnvironment(session, spec.name);
  const role = spec.placement.batchServiceRole
    ? { serviceRole: spec.placement.batchServiceRole }
    : {};
  if (again) {
    await session.batch.updateComputeEnvironment({
      computeEnvironment: spec.name,
      state: "ENABLED",
      ...role,
    });
  } else {
    const existing = await createUnlessPresent(
      `compute environment ${spec.name}`,
      describe,
      // A refusal because the account has as many as AWS Batch allows (made by another
      // process since the knot's create counted them) says so, as that count does.
      () =>
        session.batch.createComputeEnvironment({
          computeEnvironmentName: spec.name,
          type: "MANAGED",
          state: "ENABLED",
          computeResources: computeResources(spec),
          ...role,
          tags: spec.tags,
        }).catch(async (e) => {
          throw await quotaRefusal(session, "compute environment", spec.name, e);
        }),
      options,
    );
    if (existing !== undefined) checkAdoptable(existing, spec);
    // A knot's environment left DISABLED (by its clobber, stopped part-way) would
    // never run a job again: the knot is being made, so it is enabled.
    if (existing?.state === "DISABLED") {
      await session.batch.updateComputeEnvironment({
        computeEnvironment: spec.name,
        state: "ENABLED",
      });
    }
  }
  return await waitFor(
    `compute environment ${spec.name} to become VALID`,
    describe,
    (ce) => settled(ce?.status),
    options,
  );
}

/** The tags that say whose a compute environment is, when the spec gives them. */
const OWNER_TAGS = ["ManagedBy", "cloudknot:knot"];

/**
 * The tag that names the config file a compute environment was made with
 * (`resources/owner.ts`); one without it (made before owner tags) is anyone's.
 */
const CONFIG_OWNER_TAG = "cloudknot:owner";

/**
 * Refuses to adopt a compute environment of the wanted name that someone
 * else made (its `ManagedBy` or `cloudknot:knot` tag differs from the
 * spec's, or its `cloudknot:owner` tag names another config file: a knot of
 * the same name another create is making at the same moment), or that runs
 * another compute type: its queue would take no job of this knot's
 * definition, and the knot's clobber would delete it.
 */
function checkAdoptable(
  ce: { tags?: Record<string, string>; computeResources?: { type?: string } },
  spec: ComputeEnvironmentSpec,
): void {
  const owner = ce.tags?.[CONFIG_OWNER_TAG];
  const foreign =
    OWNER_TAGS.find((key) => spec.tags[key] !== undefined && ce.tags?.[key] !== spec.tags[key]) ??
      (owner !== undefined && spec.tags[CONFIG_OWNER_TAG] !== undefined &&
          owner !== spec.tags[CONFIG_OWNER_TAG]
        ? CONFIG_OWNER_TAG
        : undefined);
  if (foreign !== undefined) {
    throw new BatchResourceError(
      `Compute environment ${spec.name} exists and was not made for this knot (its tag ` +
        `${foreign} is ${JSON.stringify(ce.tags?.[foreign] ?? null)}, not ` +
        `${JSON.stringify(spec.tags[foreign])}); choose another computeEnvironmentName, or ` +
        `knot name, so that it is left alone`,
    );
  }
  const type = ce.computeResources?.type;
  if (type !== undefined && type !== spec.compute.compute) {
    throw new BatchResourceError(
      `Compute environment ${spec.name} exists with compute type ${type}, not ` +
        `${spec.compute.compute} (an earlier create of this knot that stopped part-way may ` +
        `have left it): delete it with \`cloudknot gc\` (findGarbage and deleteGarbage), or ` +
        `choose another computeEnvironmentName`,
    );
  }
}

function computeResources(spec: ComputeEnvironmentSpec): ComputeResource {
  const { compute: c, placement: p } = spec;
  const base = {
    type: c.compute,
    maxvCpus: c.maxVcpus,
    subnets: p.subnets,
    securityGroupIds: [p.securityGroup],
  };
  if (isFargate(c.compute)) return base;
  const resources: ComputeResource = {
    ...base,
    allocationStrategy: c.compute === "SPOT"
      ? "SPOT_PRICE_CAPACITY_OPTIMIZED"
      : "BEST_FIT_PROGRESSIVE",
    minvCpus: c.minVcpus,
    desiredvCpus: c.desiredVcpus,
    instanceTypes: c.instanceTypes,
    instanceRole: p.ecsInstanceProfile,
    tags: spec.tags,
    ec2Configuration: [{
      // Amazon Linux 2023: AWS is retiring the AL2 ECS AMIs, and Batch's default
      // moves to AL2023 (https://docs.aws.amazon.com/batch/latest/APIReference/API_Ec2Configuration.html).
      imageType: c.gpus > 0 ? "ECS_AL2023_NVIDIA" : "ECS_AL2023",
      ...(c.imageId !== undefined ? { imageIdOverride: c.imageId } : {}),
    }],
  };
  if (c.compute === "SPOT" && p.spotFleetRole !== undefined) {
    resources.spotIamFleetRole = p.spotFleetRole;
  }
  if (c.bidPercentage !== undefined) resources.bidPercentage = c.bidPercentage;
  if (c.ec2KeyPair !== undefined) resources.ec2KeyPair = c.ec2KeyPair;
  if (spec.launchTemplate !== undefined) {
    resources.launchTemplate = { launchTemplateName: spec.launchTemplate, version: "$Latest" };
  }
  return resources;
}

/**
 * Creates the knot's job queue on its compute environment, or adopts the one
 * of that name, and waits until it is VALID.
 *
 * @example Usage
 * ```ts ignore
 * import { ensureJobQueue } from "@cloudknot/cloudknot/batch";
 *
 * const arn = await ensureJobQueue(session, { name: "my-knot-ck-jq", priority: 1, computeEnvironment: ceArn, tags: {} });
 * ```
 *
 * @param session The AWS session.
 * @param spec The queue's name, priority, environment and tags, and what
 *   Batch does with jobs stuck in RUNNABLE (a new queue only).
 * @param options How to wait, and who is told when this call made it.
 * @returns The queue's ARN.
 */
export async function ensureJobQueue(
  session: AwsSession,
  spec: {
    name: string;
    priority: number;
    computeEnvironment: string;
    tags: Record<string, string>;
    jobStateTimeLimitActions?: JobStateTimeLimitAction[];
  },
  options: EnsureOptions = {},
): Promise<string> {
  const describe = () => describeQueue(session, spec.name);
  const existing = await createUnlessPresent(
    `job queue ${spec.name}`,
    describe,
    () =>
      session.batch.createJobQueue({
        jobQueueName: spec.name,
        state: "ENABLED",
        priority: spec.priority,
        computeEnvironmentOrder: [{ order: 1, computeEnvironment: spec.computeEnvironment }],
        ...(spec.jobStateTimeLimitActions?.length
          ? { jobStateTimeLimitActions: spec.jobStateTimeLimitActions }
          : {}),
        tags: spec.tags,
      }).catch(async (e) => {
        // The account's job queues, counted again (as for compute environments).
        throw await quotaRefusal(session, "job queue", spec.name, e);
      }),
    options,
  );
  if (
    existing !== undefined &&
    !existing.computeEnvironmentOrder.some((o) => o.computeEnvironment === spec.computeEnvironment)
  ) {
    throw new BatchResourceError(
      `Job queue ${spec.name} exists but does not use compute environment ${spec.computeEnvironment}; ` +
        `choose another jobQueueName or delete that queue`,
    );
  }
  // A queue left DISABLED (by the knot's clobber, stopped part-way) takes no job: enable it.
  if (existing?.state === "DISABLED") {
    await session.batch.updateJobQueue({ jobQueue: spec.name, state: "ENABLED" });
  }
  const queue = await waitFor(
    `job queue ${spec.name} to become VALID`,
    describe,
    (q) => settled(q?.status),
    options,
  );
  if (queue?.status !== "VALID") {
    throw new BatchResourceError(
      `Job queue ${spec.name} is ${queue?.status}: ${queue?.statusReason ?? "no reason given"}`,
    );
  }
  return queue.jobQueueArn;
}

/** What {@linkcode registerJobDefinition} registers. */
export interface JobDefinitionSpec {
  /** The definition's name. */
  name: string;
  /** The image, best by digest (`repo@sha256:…`) so a re-push never changes it. */
  image: string;
  /** The knot's compute settings. */
  compute: ComputeSpec;
  /** Roles (the job role; the execution role on Fargate). */
  placement: Pick<BatchPlacement, "jobRole" | "taskExecutionRole">;
  /** Environment variables every job gets. */
  environment?: Record<string, string>;
  /** Tags. */
  tags: Record<string, string>;
}

/**
 * How long after a knot's timeout Batch stops an attempt the job did not stop itself.
 *
 * @example Usage
 * ```ts
 * import { TIMEOUT_BACKSTOP_SECONDS } from "./environment.ts";
 *
 * console.log({ attemptDurationSeconds: 600 + TIMEOUT_BACKSTOP_SECONDS }); // { attemptDurationSeconds: 660 }
 * ```
 */
export const TIMEOUT_BACKSTOP_SECONDS = 60;

/**
 * The RegisterJobDefinition request of a knot's job definition: the image,
 * vCPUs, memory, GPUs, roles, retries, timeout, environment and tags, as
 * {@linkcode registerJobDefinition} sends it (and as a knot's create weighs
 * it before anything is made).
 *
 * @example Usage
 * ```ts ignore
 * import { jobDefinitionRequest, validateComputeOptions } from "@cloudknot/cloudknot/batch";
 *
 * const request = jobDefinitionRequest({
 *   name: "my-knot-ck-jd", image: uri, compute: validateComputeOptions(), placement: pars, tags: {},
 * });
 * ```
 *
 * @param spec What to register.
 * @returns The request.
 */
export function jobDefinitionRequest(spec: JobDefinitionSpec): RegisterJobDefinitionRequest {
  const c = spec.compute;
  const fargate = isFargate(c.compute);
  const requirements = [
    { type: "VCPU", value: String(c.vcpus) },
    { type: "MEMORY", value: String(c.memory) },
  ];
  if (c.gpus > 0) requirements.push({ type: "GPU", value: String(c.gpus) });
  return {
    jobDefinitionName: spec.name,
    type: "container",
    platformCapabilities: [fargate ? "FARGATE" : "EC2"],
    containerProperties: {
      image: spec.image,
      command: [],
      jobRoleArn: spec.placement.jobRole,
      ...(fargate && spec.placement.taskExecutionRole !== undefined
        ? {
          executionRoleArn: spec.placement.taskExecutionRole,
          networkConfiguration: { assignPublicIp: "ENABLED" },
        }
        : {}),
      resourceRequirements: requirements,
      environment: Object.entries({
        ...spec.environment,
        ...(c.timeout !== undefined ? { CLOUDKNOT_TIMEOUT: String(c.timeout) } : {}),
      }).map(([name, value]) => ({ name, value })),
    },
    retryStrategy: {
      attempts: c.retries,
      ...(c.evaluateOnExit.length > 0 ? { evaluateOnExit: c.evaluateOnExit } : {}),
    },
    // The job keeps the knot's timeout itself (CLOUDKNOT_TIMEOUT, src/job/main.ts), so a
    // timed-out attempt is retried: Batch never retries an attempt its own timeout
    // stopped. Batch's timeout stays as a backstop, a minute later.
    ...(c.timeout !== undefined
      ? { timeout: { attemptDurationSeconds: c.timeout + TIMEOUT_BACKSTOP_SECONDS } }
      : {}),
    propagateTags: true,
    tags: spec.tags,
  };
}

/**
 * Registers a revision of the knot's job definition: the image, vCPUs,
 * memory, GPUs, roles, retries and timeout. One larger than AWS Batch's
 * 24 KiB is refused before it is sent.
 *
 * @example Usage
 * ```ts ignore
 * import { registerJobDefinition, validateComputeOptions } from "@cloudknot/cloudknot/batch";
 *
 * const def = await registerJobDefinition(session, {
 *   name: "my-knot-ck-jd", image: uri, compute: validateComputeOptions(), placement: pars, tags: {},
 * });
 * ```
 *
 * @param session The AWS session.
 * @param spec What to register.
 * @returns The definition's ARN and revision.
 * @throws {CloudknotInputError} When the definition is larger than AWS Batch's 24 KiB.
 */
export async function registerJobDefinition(
  session: AwsSession,
  spec: JobDefinitionSpec,
): Promise<{ arn: string; revision: number }> {
  const request = jobDefinitionRequest(spec);
  checkJobDefinitionBytes(request);
  let response;
  try {
    response = await session.batch.registerJobDefinition(request);
  } catch (e) {
    // A lost answer (or a server error) leaves unknown whether a revision was added. Registering
    // again is safe: RegisterJobDefinition only adds a revision, an unused one runs nothing, and
    // the knot's clobber deregisters every revision of the name.
    if (!(e instanceof AwsError && (e.code === "OutcomeUnknown" || (e.status ?? 0) >= 500))) {
      throw e;
    }
    response = await session.batch.registerJobDefinition(request);
  }
  return { arn: response.jobDefinitionArn, revision: response.revision };
}

/**
 * Every revision of a job definition name, active or not.
 *
 * @example Usage
 * ```ts ignore
 * import { jobDefinitionRevisions } from "@cloudknot/cloudknot/batch";
 *
 * for (const def of await jobDefinitionRevisions(session, "my-knot-ck-jd")) console.log(def.revision);
 * ```
 *
 * @param session The AWS session.
 * @param name The definition's name.
 * @returns The revisions.
 */
export async function jobDefinitionRevisions(
  session: AwsSession,
  name: string,
): Promise<JobDefinition[]> {
  return await Array.fromAsync(
    session.batch.describeJobDefinitionsAll({ jobDefinitionName: name }),
  );
}

/**
 * Creates (or adopts) the launch template that gives a knot's instances a
 * bigger root volume (`volumeSize`, GiB, gp3). One made by someone else
 * since the look (another process creating the same knot) is adopted; a
 * create whose answer was lost counts as made here when a look then finds
 * the template. `options.onCreated` is told only when this call made it.
 *
 * @example Usage
 * ```ts ignore
 * import { ensureLaunchTemplate } from "@cloudknot/cloudknot/batch";
 *
 * await ensureLaunchTemplate(session, { name: "my-knot-ck-lt", volumeSize: 100, tags: {} });
 * ```
 *
 * @param session The AWS session.
 * @param spec The template's name, volume size and tags.
 * @param options Who is told when this call made the template (not when it adopted one).
 * @returns The template's name.
 */
export async function ensureLaunchTemplate(
  session: AwsSession,
  spec: { name: string; volumeSize: number; tags: Record<string, string> },
  options: Pick<EnsureOptions, "onCreated"> = {},
): Promise<string> {
  const exists = () =>
    session.ec2.describeLaunchTemplates({ LaunchTemplateNames: [spec.name] })
      .then((r) => (r.LaunchTemplates ?? []).length > 0, (e) => {
        if (e instanceof AwsError && /NotFound/.test(e.code)) return false;
        throw e;
      });
  if (await exists()) return spec.name;
  const tags = Object.entries(spec.tags).map(([Key, Value]) => ({ Key, Value }));
  try {
    await session.ec2.createLaunchTemplate({
      LaunchTemplateName: spec.name,
      LaunchTemplateData: {
        BlockDeviceMappings: [{
          DeviceName: "/dev/xvda",
          Ebs: { VolumeSize: spec.volumeSize, VolumeType: "gp3", DeleteOnTermination: true },
        }],
      },
      TagSpecifications: [{ ResourceType: "launch-template", Tags: tags }],
    });
  } catch (e) {
    // Made by someone else since the look: adopted, not this call's.
    if (e instanceof AwsError && /AlreadyExists/.test(e.code)) return spec.name;
    // An answer lost in transit: made here when it is there now.
    if (!(e instanceof AwsError && e.code === "OutcomeUnknown" && await exists())) throw e;
  }
  options.onCreated?.();
  return spec.name;
}

/** What {@linkcode deleteBatchEnvironment} deletes; each part is optional. */
export interface BatchEnvironmentRefs {
  /** The job queue's name or ARN. */
  jobQueue?: string;
  /** The compute environment's name or ARN. */
  computeEnvironment?: string;
  /** Job definition names whose ACTIVE revisions are deregistered. */
  jobDefinitions?: string[];
  /** A launch template's name, deleted after the environment. */
  launchTemplate?: string;
}

function missing(e: unknown): boolean {
  return e instanceof AwsError && e.status === 400 &&
    /does not exist|not found|INACTIVE/i.test(e.message);
}

/**
 * Disables a job queue or compute environment, waits until Batch has
 * settled it, deletes it and waits until it is gone; one already going or
 * gone is only waited on. `disabled` is told once it is disabled, before it
 * is deleted. With `invalid` (a compute environment), one INVALID after its
 * delete is deleted again while it is waited on, a look later each time, up
 * to a minute apart (once the jobs it ran have ended, that delete goes
 * through), and past the wait `invalid` words the error from Batch's reason.
 */
async function retire(
  what: string,
  look: () => Promise<{ state?: string; status?: string; statusReason?: string } | undefined>,
  calls: {
    disable(): Promise<unknown>;
    disabled?(): Promise<void>;
    remove(): Promise<unknown>;
    invalid?(reason: string): string;
  },
  options: WaitOptions,
): Promise<void> {
  const found = await look();
  if (found !== undefined && !GONE.has(found.status ?? "")) {
    if (found.state !== "DISABLED") await calls.disable();
    await waitFor(
      `${what} to be disabled`,
      look,
      (x) => x === undefined || (x.state === "DISABLED" && settled(x.status)),
      options,
    );
    await calls.disabled?.();
    await calls.remove().catch((e) => {
      if (!missing(e)) throw e;
    });
  }
  let again = options.pollMs ?? 2000;
  let next = Date.now() + again;
  let last: { status?: string; statusReason?: string } | undefined;
  try {
    await waitFor(
      `${what} to be deleted`,
      async () => {
        last = await look();
        if (calls.invalid && last?.status === "INVALID" && Date.now() >= next) {
          // Refused (by a Batch already deleting it that this look was behind, or one that can no
          // longer use its service role): the wait goes on, and its end says why.
          await calls.remove().catch((e) => {
            if (!(e instanceof AwsError && e.status === 400)) throw e;
          });
          again = Math.min(again * 2, 60_000);
          next = Date.now() + again;
        }
        return last;
      },
      (x) => x === undefined || x.status === "DELETED",
      options,
    );
  } catch (e) {
    if (!(e instanceof BatchResourceError) || !calls.invalid || last?.status !== "INVALID") throw e;
    throw new BatchResourceError(calls.invalid(last.statusReason ?? "no reason given"), {
      cause: e,
    });
  }
}

/**
 * Waits until the jobs that were unfinished when a Fargate compute
 * environment's queue was deleted have ended (Batch terminates them): AWS
 * Batch leaves a Fargate compute environment deleted while jobs still run on
 * it INVALID, not deleted (DeleteComputeEnvironment's reference).
 */
async function waitForFargateJobs(
  session: AwsSession,
  computeEnvironment: string,
  ids: string[],
  options: WaitOptions,
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 900_000;
  const look = (timeoutMs: number) =>
    waitForJobsToEnd(session.batch, ids, {
      ...defined({ pollMs: options.pollMs, signal: options.signal }),
      timeoutMs,
    });
  let left = await look(0);
  if (left.length === 0) return;
  options.onWait?.(
    `cloudknot: ${left.length} job(s) still run on Fargate compute environment ` +
      `${computeEnvironment}, which AWS Batch cannot delete until they end; waiting for them ` +
      `(at most ${Math.ceil(timeoutMs / 60_000)} minutes)`,
  );
  left = await look(timeoutMs);
  if (left.length === 0) return;
  throw new BatchResourceError(
    `${left.length} job(s) still run on Fargate compute environment ${computeEnvironment} after ` +
      `${Math.ceil(timeoutMs / 60_000)} minutes (${left.slice(0, 3).join(", ")}${
        left.length > 3 ? ", …" : ""
      }), and AWS Batch cannot delete it until they end: its queue is deleted, so Batch ` +
      `terminates them; look at them in the AWS Batch console, and once they have ended, try again`,
  );
}

/**
 * Deletes a knot's Batch resources in the order Batch requires: disable the
 * queue, delete it and wait until it is gone; disable the environment,
 * delete it and wait; delete the launch template; deregister the job
 * definitions' revisions that cloudknot registered (tagged
 * `ManagedBy=cloudknot`). Pieces already gone are skipped. A Fargate
 * environment is deleted only once the jobs its queue held when disabled
 * have ended (Batch terminates them as it deletes the queue): AWS Batch
 * leaves a Fargate environment deleted while jobs run on it INVALID. One
 * INVALID after its delete anyway is deleted again while it is waited on.
 *
 * @example Usage
 * ```ts ignore
 * import { deleteBatchEnvironment } from "@cloudknot/cloudknot/batch";
 *
 * await deleteBatchEnvironment(session, { jobQueue, computeEnvironment, jobDefinitions: ["my-knot-ck-jd"] });
 * ```
 *
 * @param session The AWS session.
 * @param refs What to delete.
 * @param options How to wait.
 */
export async function deleteBatchEnvironment(
  session: AwsSession,
  refs: BatchEnvironmentRefs,
  options: WaitOptions = {},
): Promise<void> {
  const { batch } = session;
  const { jobQueue, computeEnvironment } = refs;
  const fargate = jobQueue !== undefined && computeEnvironment !== undefined &&
    isFargate((await describeEnvironment(session, computeEnvironment))?.computeResources?.type);
  // The jobs that may still run on a Fargate compute environment once its queue is gone: listed
  // once the queue is disabled, when no job can join it.
  let unfinished: string[] = [];
  if (jobQueue !== undefined) {
    await retire(`job queue ${jobQueue}`, () => describeQueue(session, jobQueue), {
      disable: () => batch.updateJobQueue({ jobQueue, state: "DISABLED" }),
      ...(fargate
        ? { disabled: async () => void (unfinished = await unfinishedJobIds(batch, jobQueue)) }
        : {}),
      remove: () => batch.deleteJobQueue({ jobQueue }),
    }, options);
  }
  if (computeEnvironment !== undefined) {
    if (unfinished.length > 0) {
      await waitForFargateJobs(session, computeEnvironment, unfinished, options);
    }
    await retire(
      `compute environment ${computeEnvironment}`,
      () => describeEnvironment(session, computeEnvironment),
      {
        disable: () => batch.updateComputeEnvironment({ computeEnvironment, state: "DISABLED" }),
        remove: () => batch.deleteComputeEnvironment({ computeEnvironment }),
        invalid: (reason) =>
          `The compute environment ${computeEnvironment} is still INVALID after its delete: ` +
          `${reason}. AWS Batch leaves a compute environment INVALID when it cannot use it (its ` +
          `service role was deleted: make the role again) or when jobs still ran on it, on ` +
          `Fargate (wait until they have ended): fix what the reason names, then try again`,
      },
      options,
    );
  }
  if (refs.launchTemplate !== undefined) {
    await session.ec2.deleteLaunchTemplate({ LaunchTemplateName: refs.launchTemplate }).catch(
      (e) => {
        if (!(e instanceof AwsError && /NotFound/.test(e.code))) throw e;
      },
    );
  }
  for (const name of refs.jobDefinitions ?? []) {
    for (const def of await jobDefinitionRevisions(session, name)) {
      // Only revisions cloudknot registered (each carries ManagedBy=cloudknot): a name shared
      // with someone's own definitions (jobDefinitionName) keeps their revisions.
      if (def.status === "INACTIVE" || def.tags?.ManagedBy !== "cloudknot") continue;
      await session.batch.deregisterJobDefinition({ jobDefinition: def.jobDefinitionArn })
        .catch((e) => {
          if (!missing(e)) throw e;
        });
    }
  }
}
