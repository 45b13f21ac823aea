/**
 * Emulated AWS Batch: compute environments and job queues with their status
 * transitions and deletion rules, job definitions with revisions, and jobs
 * that run for real through a {@linkcode JobRunner}, with array jobs,
 * dependencies, retries, timeouts, logs and injected container faults.
 *
 * @module
 */
import { randomHex } from "../credentials.ts";
import { ServiceError } from "../errors.ts";
import type { JobRunner, JobRunRequest, JobRunResult, StopKind } from "../runner.ts";
import type { ModeledService, OperationHandler } from "../service.ts";
import type { Ec2Service, NetworkUse } from "./ec2.ts";
import type { IamService } from "./iam.ts";
import type { LogsService } from "./logs.ts";

/** The job statuses. */
export const JOB_STATUSES = [
  "SUBMITTED",
  "PENDING",
  "RUNNABLE",
  "STARTING",
  "RUNNING",
  "SUCCEEDED",
  "FAILED",
] as const;
/** A job status. */
export type JobStatus = typeof JOB_STATUSES[number];

type Json = Record<string, unknown>;

/** A compute environment. */
export interface ComputeEnvironment {
  /** The name. */
  computeEnvironmentName: string;
  /** The ARN. */
  computeEnvironmentArn: string;
  /** MANAGED or UNMANAGED. */
  type: string;
  /** ENABLED or DISABLED. */
  state: string;
  /** CREATING, UPDATING, DELETING, DELETED, VALID, INVALID. */
  status: string;
  /** Why it has its status. */
  statusReason?: string;
  /** The compute resources. */
  computeResources?: Json;
  /** The service role ARN. */
  serviceRole: string;
  /** Tags. */
  tags: Record<string, string>;
  /** The ECS cluster ARN. */
  ecsClusterArn: string;
  /** The UUID. */
  uuid: string;
  /** Runtime: what its instances or task interfaces keep in use (with `networkReleaseMs`). */
  network?: NetworkUse;
  /** Runtime: its Fargate tasks now running. */
  tasks: number;
}

/** A job queue. */
export interface JobQueue {
  /** The name. */
  jobQueueName: string;
  /** The ARN. */
  jobQueueArn: string;
  /** ENABLED or DISABLED. */
  state: string;
  /** CREATING, UPDATING, DELETING, DELETED, VALID, INVALID. */
  status: string;
  /** Why it has its status. */
  statusReason?: string;
  /** The priority. */
  priority: number;
  /** The compute environments, by ARN, with their order. */
  computeEnvironmentOrder: { order: number; computeEnvironment: string }[];
  /** What Batch does to jobs stuck in RUNNABLE (only CANCEL exists). */
  jobStateTimeLimitActions: JobStateTimeLimitAction[];
  /** Test API: why its RUNNABLE jobs cannot start, as Batch's statusReason. */
  blockedBy?: string;
  /** Tags. */
  tags: Record<string, string>;
}

/** A rule of a queue's `jobStateTimeLimitActions`. */
export interface JobStateTimeLimitAction {
  /** The blocked reason it applies to, such as `CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY`. */
  reason: string;
  /** Always `RUNNABLE`. */
  state: string;
  /** Seconds (600 to 86,400) in that state before the action. */
  maxTimeSeconds: number;
  /** `CANCEL`. */
  action: string;
}

/** The reasons Batch detects for a job blocking the head of its queue. */
export const BLOCKED_REASONS: readonly string[] = [
  "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
  "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
  "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
  "MISCONFIGURATION:SERVICE_ROLE_PERMISSIONS",
];

/** A job definition revision. */
export interface JobDefinition {
  /** The name. */
  jobDefinitionName: string;
  /** The ARN with revision. */
  jobDefinitionArn: string;
  /** The revision. */
  revision: number;
  /** ACTIVE or INACTIVE. */
  status: string;
  /** `container`. */
  type: string;
  /** Default parameters. */
  parameters: Record<string, string>;
  /** The container properties. */
  containerProperties: Json;
  /** The retry strategy. */
  retryStrategy?: Json;
  /** The timeout. */
  timeout?: { attemptDurationSeconds?: number };
  /** Tags. */
  tags: Record<string, string>;
  /** Whether tags propagate to tasks. */
  propagateTags?: boolean;
  /** EC2 or FARGATE. */
  platformCapabilities: string[];
  /** The container orchestration type. */
  containerOrchestrationType: string;
}

/** One finished (or running) attempt. */
export interface JobAttempt {
  /** The container part. */
  container: {
    exitCode?: number;
    reason?: string;
    logStreamName?: string;
    taskArn?: string;
    containerInstanceArn?: string;
    networkInterfaces: unknown[];
  };
  /** Start (epoch ms). */
  startedAt?: number;
  /** Stop (epoch ms). */
  stoppedAt?: number;
  /** Why it stopped. */
  statusReason?: string;
}

/** A job (a parent, a child or a plain job). */
export interface Job {
  /** The id. */
  jobId: string;
  /** The ARN. */
  jobArn: string;
  /** The name. */
  jobName: string;
  /** The queue. */
  queue: JobQueue;
  /** The definition. */
  def: JobDefinition;
  /** The status. */
  status: JobStatus;
  /** Why it has its status. */
  statusReason?: string;
  /** Created (epoch ms). */
  createdAt: number;
  /** Started (epoch ms). */
  startedAt?: number;
  /** Stopped (epoch ms). */
  stoppedAt?: number;
  /** Finished attempts. */
  attempts: JobAttempt[];
  /** Dependencies as submitted. */
  dependsOn: { jobId?: string; type?: string }[];
  /** Resolved dependency jobs (and whether N_TO_N applies). */
  deps: { job: Job; type?: string }[];
  /** Parameters (definition merged with submission). */
  parameters: Record<string, string>;
  /** The resolved container (definition merged with overrides). */
  container: Json;
  /** The submission's `containerOverrides` command and environment, which ECS gets as the task's overrides. */
  overrides: { command?: string[]; environment: { name: string; value: string }[] };
  /** The retry strategy. */
  retryStrategy?: { attempts?: number; evaluateOnExit?: Json[] };
  /** The timeout. */
  timeout?: { attemptDurationSeconds?: number };
  /** Tags. */
  tags: Record<string, string>;
  /** Whether tags propagate. */
  propagateTags?: boolean;
  /** Array parent: size and counts. */
  arraySize?: number;
  /** Array parent: counts by status. */
  statusSummary?: Record<JobStatus, number>;
  /** Array parent: when the summary last changed. */
  statusSummaryLastUpdatedAt?: number;
  /** Array parent: the children. */
  children?: Job[];
  /** Array child: the index. */
  arrayIndex?: number;
  /** Array child: the parent. */
  parent?: Job;
  /** Cancelled by CancelJob. */
  isCancelled?: boolean;
  /** Terminated by TerminateJob. */
  isTerminated?: boolean;
  /** Runtime: vCPUs. */
  vcpus: number;
  /** Runtime: memory MiB. */
  memoryMiB: number;
  /** Runtime: the compute environment it runs on. */
  ce?: ComputeEnvironment;
  /** Runtime: stop request. */
  abort?: AbortController;
  /** Runtime: the attempt in progress. */
  current?: JobAttempt;
  /** Runtime: the terminate reason while stopping. */
  stopReason?: { kind: "terminate" | "timeout"; reason: string };
  /** Runtime: since when (epoch ms) it has been blocked in RUNNABLE. */
  blockedSince?: number;
}

/** The status reason of an attempt whose Spot host was reclaimed. */
const SPOT_RECLAIMED = "Host EC2 (instance i-0123456789abcdef0) terminated.";

/** A container fault to inject into matching attempts. */
export interface ContainerFault {
  /** Match the job id (a child's full id, or a parent id for all its children). */
  jobId?: string;
  /** Match the job name. */
  jobName?: string;
  /** Match a child's array index. */
  arrayIndex?: number;
  /** Match the attempt number (from 1). */
  attempt?: number;
  /** How many attempts it hits (default 1). */
  times?: number;
  /** `exit`: the container exits with `exitCode` without running; `spot`: the host is reclaimed. */
  kind: "exit" | "spot";
  /** For `exit`: the exit code. */
  exitCode?: number;
  /** For `exit`: the container reason. */
  reason?: string;
  /**
   * For `spot`: the host is reclaimed this long after the container started,
   * killing it mid-run, as a Spot interruption does to a running job (EC2
   * gives a two-minute notice, then terminates the instance and its
   * containers: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html;
   * Batch then retries the job as for any other failure of the attempt).
   * Without it (and without `until`) the host goes before the container starts.
   */
  afterMs?: number;
  /**
   * For `spot`, instead of `afterMs`: the host is reclaimed when this
   * settles, if the container still runs then, so that a test reclaims it
   * once the job reached the point it needs, however loaded the machine is.
   */
  until?: Promise<unknown>;
}

/** Batch options. */
export interface BatchOptions {
  /** The account id. */
  accountId: string;
  /** The region. */
  region: string;
  /** Delay of CREATING/UPDATING → VALID and DELETING → gone, ms. */
  transitionDelayMs: number;
  /** The scheduler tick, ms. */
  tickMs: number;
  /** The smallest `attemptDurationSeconds` accepted (AWS: 60). */
  minTimeoutSeconds: number;
  /** How many ms one second of `jobStateTimeLimitActions.maxTimeSeconds` lasts (AWS: 1000). */
  timeLimitSecondMs: number;
  /** The runner. */
  runner: JobRunner;
  /** IAM, to check roles and instance profiles. */
  iam: IamService;
  /** EC2, to check subnets and security groups. */
  ec2: Ec2Service;
  /** Logs, for job output. */
  logs: LogsService;
  /** The environment every container gets (endpoint variables), on Fargate or on EC2. */
  baseEnvironment: (fargate: boolean) => Record<string, string>;
  /** Issues container credentials for a role; returns the URI variables. */
  containerCredentials: (roleArn: string, sessionName: string) => Record<string, string>;
  /** How long IAM changes take to reach Batch and ECS, ms (0: at once). */
  iamPropagationMs: number;
  /**
   * How long a compute environment's instances and task interfaces keep its
   * subnets and security groups in use after it is deleted (or, on Fargate,
   * after its last task stopped), ms; not modeled when 0.
   */
  networkReleaseMs: number;
  /** The account's EC2 On-Demand vCPU quota (`Infinity`: none). */
  vcpuQuota: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const FARGATE_FORBIDDEN = [
  "allocationStrategy",
  "bidPercentage",
  "desiredvCpus",
  "imageId",
  "instanceTypes",
  "ec2Configuration",
  "ec2KeyPair",
  "instanceRole",
  "launchTemplate",
  "minvCpus",
  "placementGroup",
  "spotIamFleetRole",
  "tags",
];
const FARGATE_COMBOS: [number, number[]][] = [
  [0.25, [512, 1024, 2048]],
  [0.5, [1024, 2048, 3072, 4096]],
  [1, range(2048, 8192, 1024)],
  [2, range(4096, 16384, 1024)],
  [4, range(8192, 30720, 1024)],
  [8, range(16384, 61440, 4096)],
  [16, range(32768, 122880, 8192)],
];
const TERMINAL = new Set<JobStatus>(["SUCCEEDED", "FAILED"]);

function range(a: number, b: number, step: number): number[] {
  const out: number[] = [];
  for (let x = a; x <= b; x += step) out.push(x);
  return out;
}

function client(message: string): ServiceError {
  return new ServiceError("ClientException", message, 400);
}

/**
 * AWS Batch's fixed quotas per account and region that the emulator keeps
 * (https://docs.aws.amazon.com/batch/latest/userguide/service_limits.html): the
 * most compute environments and job queues, and the largest RegisterJobDefinition
 * and SubmitJob requests, in bytes. (The most compute environments of a queue, 3,
 * is `#checkOrder`'s; an array's size and a job's dependencies are `#submit`'s.)
 */
export const QUOTAS = {
  computeEnvironments: 50,
  jobQueues: 50,
  jobDefinitionBytes: 24 * 1024,
  submitJobBytes: 30 * 1024,
} as const;

/**
 * Refuses a request larger than its quota, as `ClientException` (400). AWS does
 * not document the error's text: this one is the emulator's own, which no
 * client may depend on.
 */
function tooLarge(operation: string, bytes: number, limit: number): void {
  if (bytes <= limit) return;
  throw client(
    `Error executing request, Exception : the ${operation} request is ${bytes} bytes, more ` +
      `than AWS Batch's quota of ${limit} bytes (emulator's own text).`,
  );
}

function isFargateType(t: unknown): boolean {
  return t === "FARGATE" || t === "FARGATE_SPOT";
}

/**
 * The CPU architecture a job runs on: on Fargate the job definition's
 * `runtimePlatform.cpuArchitecture` (default `X86_64`), on EC2 the instance
 * types' (Graviton families such as `m6g`, `c7gn`, `t4g`, `x2gd`, `a1` and
 * `default_arm64` are arm64; `optimal` and every other family are amd64:
 * https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html,
 * aws/aws-graviton-getting-started,
 * https://docs.aws.amazon.com/batch/latest/userguide/instance-type-compute-table.html).
 */
function architecture(ce: ComputeEnvironment, container: Json): "amd64" | "arm64" {
  const cr = ce.computeResources ?? {};
  if (isFargateType(cr.type)) {
    const p = container.runtimePlatform as { cpuArchitecture?: string } | undefined;
    return p?.cpuArchitecture === "ARM64" ? "arm64" : "amd64";
  }
  const types = (cr.instanceTypes as string[] | undefined) ?? [];
  const arm = (t: string) =>
    t === "default_arm64" || /^(a1|[a-z]+[0-9]+g[a-z]*)$/.test(t.split(".")[0]!);
  return types.length > 0 && types.every(arm) ? "arm64" : "amd64";
}

function resourceValue(reqs: unknown, type: string): string | undefined {
  return (reqs as { type: string; value: string }[] | undefined)?.find((r) => r.type === type)
    ?.value;
}

function mergeRequirements(base: unknown, over: unknown): { type: string; value: string }[] {
  const m = new Map<string, string>();
  for (const r of (base as { type: string; value: string }[] | undefined) ?? []) {
    m.set(r.type, r.value);
  }
  for (const r of (over as { type: string; value: string }[] | undefined) ?? []) {
    m.set(r.type, r.value);
  }
  return [...m].map(([type, value]) => ({ type, value }));
}

function trustsEcsTasks(doc: string): boolean {
  try {
    const p = JSON.parse(doc);
    const stmts = Array.isArray(p.Statement) ? p.Statement : [p.Statement];
    return stmts.some((s: Json) => {
      if (s?.Effect !== "Allow") return false;
      const actions = ([] as unknown[]).concat(s.Action ?? []);
      if (!actions.some((a) => a === "sts:AssumeRole" || a === "sts:*" || a === "*")) return false;
      const svc = ([] as unknown[]).concat((s.Principal as Json | undefined)?.Service ?? []);
      return svc.includes("ecs-tasks.amazonaws.com");
    });
  } catch {
    return false;
  }
}

/**
 * The Batch state and scheduler of one emulator.
 *
 * @example Usage
 * ```ts ignore
 * emu.batch.injectExit({ jobName: "j", arrayIndex: 3, exitCode: 2 });
 * await emu.batch.waitForJobs();
 * ```
 */
export class BatchService implements ModeledService {
  /** Compute environments by name. */
  readonly computeEnvironments: Map<string, ComputeEnvironment> = new Map();
  /** Job queues by name. */
  readonly jobQueues: Map<string, JobQueue> = new Map();
  /** Job definition revisions by name (index = revision - 1). */
  readonly jobDefinitions: Map<string, JobDefinition[]> = new Map();
  /** Every job by id (children included). */
  readonly jobs: Map<string, Job> = new Map();
  /** Handlers by operation. */
  readonly operations: Record<string, OperationHandler>;
  #o: BatchOptions;
  #active = new Set<Job>();
  #running = 0;
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #tick?: ReturnType<typeof setTimeout>;
  #faults: ContainerFault[] = [];
  #timeFixes: (Pick<ContainerFault, "jobId" | "jobName" | "arrayIndex" | "attempt" | "times"> & {
    startedAt: number;
    stoppedAt: number;
  })[] = [];
  #waiters: (() => void)[] = [];
  #runs = new Set<Promise<void>>();
  #closed = false;

  /**
   * Makes Batch.
   *
   * @param options Its dependencies and timings.
   */
  constructor(options: BatchOptions) {
    this.#o = options;
    this.operations = {
      CreateComputeEnvironment: (p) => {
        // AWS Batch's fixed quota of compute environments per account and region
        // (https://docs.aws.amazon.com/batch/latest/userguide/service_limits.html). The
        // message is the emulator's own: AWS does not document its text, and no client may
        // read a meaning into it.
        if (this.computeEnvironments.size >= QUOTAS.computeEnvironments) {
          throw client(
            `Error executing request, Exception : the account has ${QUOTAS.computeEnvironments} ` +
              `compute environments in this region, AWS Batch's quota (emulator's own text).`,
          );
        }
        return this.#createCe(p);
      },
      UpdateComputeEnvironment: (p) => this.#updateCe(p),
      DeleteComputeEnvironment: (p) => this.#deleteCe(p),
      DescribeComputeEnvironments: (p) => {
        const all = this.#select(
          [...this.computeEnvironments.values()],
          p.computeEnvironments,
          (c) => [
            c.computeEnvironmentName,
            c.computeEnvironmentArn,
          ],
        );
        const { items, next } = this.#page(all, p, !!p.computeEnvironments?.length);
        return { computeEnvironments: items.map((c) => this.#ceOut(c)), nextToken: next };
      },
      CreateJobQueue: (p) => {
        // The quota of job queues per account and region (as for compute environments).
        if (this.jobQueues.size >= QUOTAS.jobQueues) {
          throw client(
            `Error executing request, Exception : the account has ${QUOTAS.jobQueues} job ` +
              `queues in this region, AWS Batch's quota (emulator's own text).`,
          );
        }
        return this.#createJq(p);
      },
      UpdateJobQueue: (p) => this.#updateJq(p),
      DeleteJobQueue: (p) => this.#deleteJq(p),
      DescribeJobQueues: (p) => {
        const all = this.#select(
          [...this.jobQueues.values()],
          p.jobQueues,
          (q) => [q.jobQueueName, q.jobQueueArn],
        );
        const { items, next } = this.#page(all, p, !!p.jobQueues?.length);
        return { jobQueues: items.map((q) => this.#jqOut(q)), nextToken: next };
      },
      RegisterJobDefinition: (p, ctx) => {
        // "Maximum job definition size (for RegisterJobDefinition API operations): 24 KiB",
        // the request as sent (service_limits.html above); the text is the emulator's own.
        tooLarge("RegisterJobDefinition", ctx.body.byteLength, QUOTAS.jobDefinitionBytes);
        return this.#register(p);
      },
      DeregisterJobDefinition: (p) => {
        const d = this.#resolveDef(p.jobDefinition, true);
        d.status = "INACTIVE";
        return {};
      },
      DescribeJobDefinitions: (p) => {
        let all = [...this.jobDefinitions.values()].flat();
        if (p.jobDefinitions?.length) {
          all = all.filter((d) =>
            p.jobDefinitions.some((ref: string) =>
              ref === d.jobDefinitionArn || ref === `${d.jobDefinitionName}:${d.revision}` ||
              ref === d.jobDefinitionName
            )
          );
        }
        if (p.jobDefinitionName) {
          all = all.filter((d) => d.jobDefinitionName === p.jobDefinitionName);
        }
        if (p.status) all = all.filter((d) => d.status === p.status);
        const { items, next } = this.#page(all, p, !!p.jobDefinitions?.length);
        return { jobDefinitions: items.map((d) => this.#defOut(d)), nextToken: next };
      },
      SubmitJob: (p, ctx) => {
        // "Maximum job payload size (for SubmitJob API operations): 30 KiB"; the text is the
        // emulator's own.
        tooLarge("SubmitJob", ctx.body.byteLength, QUOTAS.submitJobBytes);
        return this.#submit(p);
      },
      DescribeJobs: (p) => {
        if (p.jobs.length > 100) {
          throw client("Too many jobs specified: at most 100 job ids are allowed");
        }
        return {
          jobs: p.jobs.map((id: string) => this.jobs.get(id)).filter((j: Job | undefined) => j).map(
            (j: Job) => this.#jobOut(j),
          ),
        };
      },
      ListJobs: (p) => this.#listJobs(p),
      CancelJob: (p) => {
        const j = this.#job(p.jobId);
        this.#cancel(j, p.reason);
        return {};
      },
      TerminateJob: (p) => {
        const j = this.#job(p.jobId);
        this.#terminate(j, p.reason);
        return {};
      },
      TagResource: (p) => {
        const r = this.#taggable(p.resourceArn);
        Object.assign(r.tags, p.tags);
        if (Object.keys(r.tags).length > 50) throw client("Too many tags: at most 50 are allowed");
        return {};
      },
      UntagResource: (p) => {
        const r = this.#taggable(p.resourceArn);
        for (const k of p.tagKeys) delete r.tags[k];
        return {};
      },
      ListTagsForResource: (p) => ({ tags: { ...this.#taggable(p.resourceArn).tags } }),
    };
  }

  // ---------------------------------------------------------------- test API

  #held = false;
  #heldTransitions: (() => void)[] = [];

  /**
   * Stops time for Batch until the returned function is called: no job
   * moves on and no compute environment or queue finishes a transition, so
   * a test can look at a state AWS shows only briefly (a job just SUBMITTED,
   * a queue DELETING) however slow the machine is.
   *
   * @returns Starts time again.
   */
  hold(): () => void {
    this.#held = true;
    return () => {
      this.#held = false;
      for (const fn of this.#heldTransitions.splice(0)) if (!this.#closed) fn();
      this.#kick();
    };
  }

  #timeoutHold: Promise<unknown> | undefined;

  /**
   * Holds back every job timeout (`attemptDurationSeconds`) that comes due
   * before `until` settles: the attempt is stopped for its timeout once it
   * has, if it still runs then. A test instrument, like `hold()`: a test
   * that needs a timed-out attempt to have reached a point first (printed a
   * line) and another attempt of the same definition to have ended on its
   * own releases the timeouts once it saw both, however loaded the machine
   * is. AWS stops the attempt when its time is up.
   *
   * @param until Releases the timeouts when it settles.
   */
  holdTimeouts(until: Promise<unknown>): void {
    this.#timeoutHold = until;
  }

  /**
   * Makes matching attempts exit with a chosen code without running.
   *
   * @param fault What to match and the exit code.
   */
  injectExit(fault: Omit<ContainerFault, "kind"> & { exitCode: number }): void {
    this.#faults.push({ ...fault, kind: "exit" });
  }

  /**
   * Makes matching attempts report fixed start and stop times (epoch ms) in
   * DescribeJobs, whatever they really took: for tests that check figures
   * computed from attempt times (such as a cost report) against figures
   * worked out by hand. A test instrument, like `injectExit`: AWS reports
   * the real times.
   *
   * @param match Which attempts (job id, job name, array index, attempt), as for `injectExit`.
   * @param times The start and stop to report.
   */
  fixAttemptTimes(
    match: Pick<ContainerFault, "jobId" | "jobName" | "arrayIndex" | "attempt" | "times">,
    times: { startedAt: number; stoppedAt: number },
  ): void {
    this.#timeFixes.push({ ...match, ...times });
  }

  /**
   * Makes matching attempts fail as a reclaimed Spot host does: status reason
   * `Host EC2 (instance i-0123456789abcdef0) terminated.` and no exit code.
   *
   * @param fault What to match.
   */
  injectSpotReclaim(fault: Omit<ContainerFault, "kind" | "exitCode" | "reason"> = {}): void {
    this.#faults.push({ ...fault, kind: "spot" });
  }

  /**
   * Blocks a queue as Batch does when no job can be placed: its RUNNABLE jobs
   * stay RUNNABLE with `statusReason` set to `reason` (such as
   * `CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - Service cannot fulfill the
   * capacity requested for instance type [c5.large]`), and the queue's
   * `jobStateTimeLimitActions` for that reason cancel them once their time
   * is up. `undefined` unblocks it.
   *
   * @param queue The queue's name.
   * @param reason The blocked reason, or `undefined`.
   */
  blockQueue(queue: string, reason: string | undefined): void {
    const q = this.#queue(queue);
    if (reason === undefined) delete q.blockedBy;
    else q.blockedBy = reason;
    this.#kick();
  }

  /**
   * Resolves when every job is SUCCEEDED or FAILED.
   *
   * @param timeoutMs Reject after this long (default 60 s).
   */
  waitForJobs(timeoutMs = 60_000): Promise<void> {
    if (this.#active.size === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== done);
        reject(
          new Error(`Jobs still not terminal after ${timeoutMs} ms: ${this.#active.size} active`),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      this.#waiters.push(done);
    });
  }

  /**
   * Resolves when the given job reaches a status (or any terminal one).
   *
   * @param jobId The job id.
   * @param statuses The statuses to wait for (default: terminal).
   * @param timeoutMs Reject after this long (default 60 s).
   */
  async waitForJob(
    jobId: string,
    statuses: JobStatus[] = ["SUCCEEDED", "FAILED"],
    timeoutMs = 60_000,
  ): Promise<Job> {
    const end = Date.now() + timeoutMs;
    while (true) {
      const j = this.jobs.get(jobId);
      if (j && statuses.includes(j.status)) return j;
      if (Date.now() > end) throw new Error(`Job ${jobId} did not reach ${statuses.join("/")}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Stops the scheduler, kills running attempts and clears timers. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#tick !== undefined) clearTimeout(this.#tick);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const j of this.#active) j.abort?.abort("kill" satisfies StopKind);
    await Promise.allSettled([...this.#runs]);
    for (const w of this.#waiters) w();
    this.#waiters = [];
  }

  // ------------------------------------------------------- compute environments

  #later(fn: () => void, ms = this.#o.transitionDelayMs): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (this.#closed) return;
      if (this.#held) return void this.#heldTransitions.push(fn);
      fn();
      this.#kick();
    }, ms);
    this.#timers.add(t);
  }

  #arn(kind: string, name: string): string {
    return `arn:aws:batch:${this.#o.region}:${this.#o.accountId}:${kind}/${name}`;
  }

  #ce(ref: string): ComputeEnvironment {
    const name = ref.startsWith("arn:") ? ref.split("/").pop()! : ref;
    const ce = this.computeEnvironments.get(name);
    if (!ce || (ref.startsWith("arn:") && ce.computeEnvironmentArn !== ref)) {
      throw client(`Compute environment ${ref} does not exist`);
    }
    return ce;
  }

  #queue(ref: string): JobQueue {
    const name = ref.startsWith("arn:") ? ref.split("/").pop()! : ref;
    const q = this.jobQueues.get(name);
    if (!q || (ref.startsWith("arn:") && q.jobQueueArn !== ref)) {
      throw client(`Job queue ${ref} does not exist`);
    }
    return q;
  }

  #checkCompute(cr: Json, existing?: Json): void {
    const type = cr.type ?? existing?.type;
    if (isFargateType(type)) {
      for (const k of FARGATE_FORBIDDEN) {
        if (cr[k] !== undefined) {
          throw client(
            `Error executing request, Exception : ${k} is not applicable for Fargate compute resources.`,
          );
        }
      }
    } else if (type === "EC2" || type === "SPOT") {
      if (!existing) {
        if (!cr.instanceRole) {
          throw client(
            "Error executing request, Exception : instanceRole is required for EC2 compute resources.",
          );
        }
        if (!Array.isArray(cr.instanceTypes) || cr.instanceTypes.length === 0) {
          throw client(
            "Error executing request, Exception : instanceTypes is required for EC2 compute resources.",
          );
        }
        const strategy = cr.allocationStrategy ?? "BEST_FIT";
        if (type === "SPOT" && strategy === "BEST_FIT" && !cr.spotIamFleetRole) {
          throw client(
            "Error executing request, Exception : spotIamFleetRole is required for SPOT compute resources with BEST_FIT allocation strategy.",
          );
        }
      }
      const min = (cr.minvCpus ?? existing?.minvCpus ?? 0) as number;
      const max = (cr.maxvCpus ?? existing?.maxvCpus) as number;
      const desired = (cr.desiredvCpus ?? existing?.desiredvCpus ?? min) as number;
      if (min < 0 || min > max) {
        throw client(
          "Error executing request, Exception : minvCpus must be between 0 and maxvCpus.",
        );
      }
      if (desired < min || desired > max) {
        throw client(
          "Error executing request, Exception : desiredvCpus must be between minvCpus and maxvCpus.",
        );
      }
      if (
        cr.allocationStrategy !== undefined &&
        ![
          "BEST_FIT",
          "BEST_FIT_PROGRESSIVE",
          "SPOT_CAPACITY_OPTIMIZED",
          "SPOT_PRICE_CAPACITY_OPTIMIZED",
        ].includes(cr.allocationStrategy as string)
      ) {
        throw client(
          `Error executing request, Exception : Invalid allocationStrategy ${cr.allocationStrategy}.`,
        );
      }
    } else if (type !== undefined) {
      throw client(`Error executing request, Exception : Invalid compute resource type ${type}.`);
    }
    const max = cr.maxvCpus as number | undefined;
    if (max !== undefined && max < 0) {
      throw client("Error executing request, Exception : maxvCpus must be a non-negative integer.");
    }
  }

  /** Checks the references a CE holds; returns a reason when invalid. */
  #validateCeRefs(ce: ComputeEnvironment): string | undefined {
    const cr = ce.computeResources;
    if (!cr) return undefined;
    for (const s of (cr.subnets as string[] | undefined) ?? []) {
      if (!this.#o.ec2.subnets.has(s)) return `CLIENT_ERROR - The subnet ID '${s}' does not exist`;
    }
    for (const g of (cr.securityGroupIds as string[] | undefined) ?? []) {
      if (!this.#o.ec2.securityGroups.has(g)) {
        return `CLIENT_ERROR - The security group '${g}' does not exist`;
      }
    }
    if (cr.instanceRole && !this.#o.iam.findInstanceProfile(cr.instanceRole as string)) {
      return `CLIENT_ERROR - Invalid IamInstanceProfile: ${cr.instanceRole}`;
    }
    if (cr.spotIamFleetRole && !this.#o.iam.findRole(cr.spotIamFleetRole as string)) {
      return `CLIENT_ERROR - Invalid spotIamFleetRole: ${cr.spotIamFleetRole}`;
    }
    if (!ce.serviceRole.includes("aws-service-role") && !this.#o.iam.findRole(ce.serviceRole)) {
      return `CLIENT_ERROR - The service role ${ce.serviceRole} does not exist`;
    }
    return undefined;
  }

  // deno-lint-ignore no-explicit-any
  #createCe(p: any): unknown {
    if (!NAME.test(p.computeEnvironmentName)) {
      throw client(
        "Error executing request, Exception : computeEnvironmentName must match [a-zA-Z0-9_-]{1,128}.",
      );
    }
    if (this.computeEnvironments.has(p.computeEnvironmentName)) {
      throw client("Object already exists");
    }
    if (p.type !== "MANAGED" && p.type !== "UNMANAGED") throw client(`Invalid type ${p.type}`);
    if (p.type === "MANAGED" && !p.computeResources) {
      throw client(
        "Error executing request, Exception : computeResources is required for MANAGED compute environments.",
      );
    }
    if (p.type === "UNMANAGED" && p.computeResources) {
      throw client(
        "Error executing request, Exception : computeResources is not applicable for UNMANAGED compute environments.",
      );
    }
    if (p.state !== undefined && p.state !== "ENABLED" && p.state !== "DISABLED") {
      throw client(`Invalid state ${p.state}`);
    }
    if (p.computeResources) this.#checkCompute(p.computeResources);
    let serviceRole: string;
    if (!p.serviceRole) {
      // No role (or ""): Batch uses its service-linked role, making it when
      // the account has none, for MANAGED compute environments only
      // (https://docs.aws.amazon.com/batch/latest/userguide/using-service-linked-roles.html).
      if (p.type === "UNMANAGED") throw client("ServiceRole is required");
      serviceRole = this.#o.iam.ensureServiceLinkedRole(
        "batch.amazonaws.com",
        "AWSServiceRoleForBatch",
        "BatchServiceRolePolicy",
      );
    } else serviceRole = p.serviceRole;
    if (!serviceRole.startsWith("arn:")) {
      serviceRole = `arn:aws:iam::${this.#o.accountId}:role/${serviceRole}`;
    }
    const name = p.computeEnvironmentName as string;
    const ce: ComputeEnvironment = {
      computeEnvironmentName: name,
      computeEnvironmentArn: this.#arn("compute-environment", name),
      type: p.type,
      state: p.state ?? "ENABLED",
      status: "CREATING",
      computeResources: p.computeResources
        ? {
          minvCpus: isFargateType(p.computeResources.type) ? undefined : 0,
          ...p.computeResources,
        }
        : undefined,
      serviceRole,
      tags: { ...(p.tags ?? {}) },
      ecsClusterArn: `arn:aws:ecs:${this.#o.region}:${this.#o.accountId}:cluster/${name}_Batch_${
        randomHex(8)
      }`,
      uuid: crypto.randomUUID(),
      tasks: 0,
    };
    this.computeEnvironments.set(name, ce);
    this.#later(() => this.#settleCe(ce));
    return { computeEnvironmentName: name, computeEnvironmentArn: ce.computeEnvironmentArn };
  }

  #settleCe(ce: ComputeEnvironment): void {
    if (ce.status !== "CREATING" && ce.status !== "UPDATING") return;
    const why = this.#validateCeRefs(ce) ?? this.#iamNotYetVisible(ce);
    ce.status = why ? "INVALID" : "VALID";
    ce.statusReason = why ?? "ComputeEnvironment Healthy";
    const cr = ce.computeResources;
    if (
      !why && cr && !isFargateType(cr.type) &&
      (Number(cr.minvCpus ?? 0) > 0 || Number(cr.desiredvCpus ?? 0) > 0)
    ) {
      this.#networkUp(ce); // instances run from the start
    }
  }

  /**
   * IAM is eventually consistent
   * (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency):
   * a service role or instance profile changed less than `iamPropagationMs`
   * ago cannot be used yet, and the compute environment goes INVALID with the
   * reasons users report.
   */
  #iamNotYetVisible(ce: ComputeEnvironment): string | undefined {
    const lag = this.#o.iamPropagationMs;
    if (lag <= 0) return undefined;
    const young = (t: number) => Date.now() - t < lag;
    const role = ce.serviceRole.includes("aws-service-role")
      ? undefined
      : this.#o.iam.findRole(ce.serviceRole);
    if (role && young(Math.max(role.changedAt.trust, role.changedAt.permissions))) {
      // hashicorp/terraform-provider-aws#37945 (a new service role and its policy).
      return `CLIENT_ERROR - User: arn:aws:sts::${this.#o.accountId}:assumed-role/${role.RoleName}/aws-batch is not authorized to perform: ecs:DescribeClusters on resource: ${ce.ecsClusterArn} because no identity-based policy allows the ecs:DescribeClusters action (Service: AmazonECS; Status Code: 400; Error Code: AccessDeniedException; Request ID: ${crypto.randomUUID()}; Proxy: null)`;
    }
    const name = ce.computeResources?.instanceRole as string | undefined;
    const profile = name ? this.#o.iam.findInstanceProfile(name) : undefined;
    if (profile && young(profile.changedAt)) {
      // Batch's words for an instance profile it cannot use (Netflix/metaflow-tools#9);
      // a new profile is not usable at once (aws/aws-sdk-js-v3#5253, hashicorp/packer#9810).
      return `CLIENT_ERROR - Invalid IamInstanceProfile: ${name}`;
    }
    return undefined;
  }

  /**
   * A compute environment's instances (EC2, SPOT) or a task's network
   * interface (Fargate) start to use its subnets and security groups.
   */
  #networkUp(ce: ComputeEnvironment, j?: Job): void {
    const cr = ce.computeResources;
    if (!(this.#o.networkReleaseMs > 0) || !cr) return;
    const fargate = isFargateType(cr.type);
    const subnets = (cr.subnets as string[] | undefined) ?? [];
    ce.network ??= {
      subnets,
      securityGroups: (cr.securityGroupIds as string[] | undefined) ?? [],
      vpcs: [
        ...new Set(
          subnets.map((s) => this.#o.ec2.subnets.get(s)?.VpcId as string).filter((v) => v),
        ),
      ],
      // Instances get public addresses in subnets that map them on launch.
      publicIp: !fargate && subnets.some((s) => this.#o.ec2.subnets.get(s)?.MapPublicIpOnLaunch),
      until: Infinity,
    };
    const net = j?.container.networkConfiguration as { assignPublicIp?: string } | undefined;
    if (fargate && net?.assignPublicIp === "ENABLED") ce.network.publicIp = true;
    ce.network.until = Infinity;
    this.#o.ec2.networkUses.add(ce.network);
    if (fargate && j) ce.tasks++;
  }

  /**
   * The network stays in use for `networkReleaseMs` after the last Fargate
   * task stopped, or after the compute environment (with its instances) is
   * deleted.
   */
  #networkDown(ce: ComputeEnvironment, taskEnded: boolean): void {
    if (!ce.network || !(this.#o.networkReleaseMs > 0)) return;
    if (taskEnded) ce.tasks--;
    if (ce.tasks <= 0) ce.network.until = Date.now() + this.#o.networkReleaseMs;
  }

  // deno-lint-ignore no-explicit-any
  #updateCe(p: any): unknown {
    const ce = this.#ce(p.computeEnvironment);
    if (ce.status === "CREATING" || ce.status === "UPDATING" || ce.status === "DELETING") {
      throw client("Cannot update, resource is being modified.");
    }
    if (p.state !== undefined && p.state !== "ENABLED" && p.state !== "DISABLED") {
      throw client(`Invalid state ${p.state}`);
    }
    if (p.computeResources) {
      if (!ce.computeResources) {
        throw client("Cannot update computeResources of an UNMANAGED compute environment.");
      }
      this.#checkCompute(p.computeResources, ce.computeResources);
      ce.computeResources = { ...ce.computeResources, ...p.computeResources };
    }
    if (p.serviceRole) {
      ce.serviceRole = p.serviceRole.startsWith("arn:")
        ? p.serviceRole
        : `arn:aws:iam::${this.#o.accountId}:role/${p.serviceRole}`;
    }
    if (p.state) ce.state = p.state;
    ce.status = "UPDATING";
    this.#later(() => this.#settleCe(ce));
    return {
      computeEnvironmentName: ce.computeEnvironmentName,
      computeEnvironmentArn: ce.computeEnvironmentArn,
    };
  }

  // deno-lint-ignore no-explicit-any
  #deleteCe(p: any): unknown {
    const ce = this.#ce(p.computeEnvironment);
    if (ce.status === "DELETING" || ce.status === "DELETED") return {};
    if (ce.status === "CREATING" || ce.status === "UPDATING") {
      throw client("Cannot delete, resource is being modified.");
    }
    if (ce.state !== "DISABLED") {
      throw client("Cannot delete, compute environment must be DISABLED first.");
    }
    for (const q of this.jobQueues.values()) {
      if (
        q.computeEnvironmentOrder.some((o) => o.computeEnvironment === ce.computeEnvironmentArn)
      ) {
        throw client("Cannot delete, found existing JobQueue relationship");
      }
    }
    // "Compute environments that use AWS Fargate resources must terminate all active jobs on
    // that compute environment before deleting the compute environment. If this isn't done, the
    // compute environment enters an invalid state"
    // (https://docs.aws.amazon.com/batch/latest/APIReference/API_DeleteComputeEnvironment.html);
    // users report such an environment staying INVALID, not deleted
    // (hashicorp/terraform-provider-aws#21262). AWS documents no statusReason for it, so this
    // one says only what happened, in the emulator's words. Deleted again once its jobs have
    // ended, it is deleted.
    if (
      isFargateType(ce.computeResources?.type) &&
      [...this.#active].some((j) =>
        j.ce === ce && (j.status === "STARTING" || j.status === "RUNNING")
      )
    ) {
      ce.status = "INVALID";
      ce.statusReason = "Deleted while jobs ran on it";
      return {};
    }
    ce.status = "DELETING";
    this.#later(() => {
      ce.status = "DELETED";
      this.computeEnvironments.delete(ce.computeEnvironmentName);
      // Its instances terminate now and release the network only a while
      // later (cloud-barista/cb-spider#460; opensearch-project/opensearch-migrations#2913).
      this.#networkDown(ce, false);
    });
    return {};
  }

  #ceOut(c: ComputeEnvironment): Json {
    return {
      computeEnvironmentName: c.computeEnvironmentName,
      computeEnvironmentArn: c.computeEnvironmentArn,
      ecsClusterArn: c.ecsClusterArn,
      tags: c.tags,
      type: c.type,
      state: c.state,
      status: c.status,
      statusReason: c.statusReason,
      computeResources: c.computeResources,
      serviceRole: c.serviceRole,
      containerOrchestrationType: "ECS",
      uuid: c.uuid,
    };
  }

  // ----------------------------------------------------------------- queues

  #checkOrder(
    order: { order: number; computeEnvironment: string }[],
  ): { order: number; computeEnvironment: string }[] {
    // At most 3 compute environments per queue: AWS Batch's fixed quota (QUOTAS above), on
    // CreateJobQueue and UpdateJobQueue alike; the text is the emulator's own.
    if (order.length < 1 || order.length > 3) {
      throw client("computeEnvironmentOrder must have between 1 and 3 entries");
    }
    if (new Set(order.map((o) => o.order)).size !== order.length) {
      throw client("computeEnvironmentOrder has duplicate order values");
    }
    const ces = order.map((o) => this.#ce(o.computeEnvironment));
    for (const ce of ces) {
      if (ce.status !== "VALID") throw client(`${ce.computeEnvironmentArn} is not in VALID state`);
    }
    const kinds = new Set(
      ces.map((c) => isFargateType(c.computeResources?.type) ? "FARGATE" : "EC2"),
    );
    if (kinds.size > 1) {
      throw client(
        "Error executing request, Exception : Compute environments of a job queue must be all EC2 (or SPOT) or all FARGATE (or FARGATE_SPOT).",
      );
    }
    return order.map((o, i) => ({
      order: o.order,
      computeEnvironment: ces[i]!.computeEnvironmentArn,
    }));
  }

  // deno-lint-ignore no-explicit-any
  #createJq(p: any): unknown {
    if (!NAME.test(p.jobQueueName)) throw client("jobQueueName must match [a-zA-Z0-9_-]{1,128}");
    if (this.jobQueues.has(p.jobQueueName)) throw client("Object already exists");
    if (p.priority < 0 || p.priority > 1000) throw client("priority must be between 0 and 1000");
    if (p.state !== undefined && p.state !== "ENABLED" && p.state !== "DISABLED") {
      throw client(`Invalid state ${p.state}`);
    }
    const order = this.#checkOrder(p.computeEnvironmentOrder);
    const actions = checkTimeLimitActions(p.jobStateTimeLimitActions);
    const q: JobQueue = {
      jobQueueName: p.jobQueueName,
      jobQueueArn: this.#arn("job-queue", p.jobQueueName),
      state: p.state ?? "ENABLED",
      status: "CREATING",
      priority: p.priority,
      computeEnvironmentOrder: order,
      jobStateTimeLimitActions: actions,
      tags: { ...(p.tags ?? {}) },
    };
    this.jobQueues.set(q.jobQueueName, q);
    this.#later(() => {
      if (q.status === "CREATING") {
        q.status = "VALID";
        q.statusReason = "JobQueue Healthy";
      }
    });
    return { jobQueueName: q.jobQueueName, jobQueueArn: q.jobQueueArn };
  }

  // deno-lint-ignore no-explicit-any
  #updateJq(p: any): unknown {
    const q = this.#queue(p.jobQueue);
    if (q.status === "DELETING" || q.status === "CREATING" || q.status === "UPDATING") {
      throw client("Cannot update, resource is being modified.");
    }
    if (p.state !== undefined && p.state !== "ENABLED" && p.state !== "DISABLED") {
      throw client(`Invalid state ${p.state}`);
    }
    if (p.computeEnvironmentOrder) {
      q.computeEnvironmentOrder = this.#checkOrder(p.computeEnvironmentOrder);
    }
    if (p.jobStateTimeLimitActions !== undefined) {
      q.jobStateTimeLimitActions = checkTimeLimitActions(p.jobStateTimeLimitActions);
    }
    if (p.priority !== undefined) q.priority = p.priority;
    if (p.state) q.state = p.state;
    q.status = "UPDATING";
    this.#later(() => {
      if (q.status === "UPDATING") q.status = "VALID";
    });
    return { jobQueueName: q.jobQueueName, jobQueueArn: q.jobQueueArn };
  }

  // deno-lint-ignore no-explicit-any
  #deleteJq(p: any): unknown {
    const q = this.#queue(p.jobQueue);
    if (q.status === "DELETING") return {};
    if (q.state !== "DISABLED") throw client("Cannot delete, job queue must be DISABLED first.");
    if (q.status === "CREATING" || q.status === "UPDATING") {
      throw client("Cannot delete, resource is being modified.");
    }
    q.status = "DELETING";
    // "All jobs in the queue are eventually terminated when you delete a job queue"
    // (https://docs.aws.amazon.com/batch/latest/APIReference/API_DeleteJobQueue.html): as
    // TerminateJob does, a running container is stopped (SIGTERM, then SIGKILL; cloudknot's job
    // exits 143) and a waiting job is cancelled. AWS does not document the statusReason these
    // jobs get, so this one says only what happened, in the emulator's words: no client may
    // read a meaning into it (it used to be "ClientException: Job queue was deleted", an API
    // error's form that no AWS page gives). Not modelled: the documented pace of about 16 jobs
    // a second; every job is terminated at once.
    for (const j of this.jobs.values()) {
      if (j.queue === q && !j.parent && !TERMINAL.has(j.status)) {
        this.#terminate(j, "Job queue deleted");
      }
    }
    this.#later(() => {
      q.status = "DELETED";
      this.jobQueues.delete(q.jobQueueName);
    });
    return {};
  }

  #jqOut(q: JobQueue): Json {
    return {
      jobQueueName: q.jobQueueName,
      jobQueueArn: q.jobQueueArn,
      state: q.state,
      status: q.status,
      statusReason: q.statusReason,
      priority: q.priority,
      computeEnvironmentOrder: q.computeEnvironmentOrder,
      ...(q.jobStateTimeLimitActions.length > 0
        ? { jobStateTimeLimitActions: q.jobStateTimeLimitActions }
        : {}),
      tags: q.tags,
      jobQueueType: "ECS",
    };
  }

  // -------------------------------------------------------- job definitions

  #checkRetry(r: Json | undefined): void {
    if (!r) return;
    const attempts = r.attempts as number | undefined;
    if (attempts !== undefined && (attempts < 1 || attempts > 10)) {
      throw client(
        "Error executing request, Exception : Number of attempts must be between 1 and 10.",
      );
    }
    const rules = (r.evaluateOnExit as Json[] | undefined) ?? [];
    if (rules.length > 5) {
      throw client(
        "Error executing request, Exception : evaluateOnExit can have at most 5 entries.",
      );
    }
    for (const e of rules) {
      if (!["RETRY", "EXIT"].includes(String(e.action).toUpperCase())) {
        throw client(
          `Error executing request, Exception : Invalid action ${e.action}; valid values are RETRY and EXIT.`,
        );
      }
      if (
        e.onExitCode === undefined && e.onReason === undefined && e.onStatusReason === undefined
      ) {
        throw client(
          "Error executing request, Exception : evaluateOnExit requires onStatusReason, onReason or onExitCode.",
        );
      }
      // AWS Batch API reference, EvaluateOnExit
      // (https://docs.aws.amazon.com/batch/latest/APIReference/API_EvaluateOnExit.html):
      // onExitCode "can contain only numbers, and can end with an asterisk (*)"; onReason and
      // onStatusReason "can contain letters, numbers, periods (.), colons (:), and white space
      // (including spaces and tabs). It can optionally end with an asterisk (*)"; each "up to
      // 512 characters".
      for (const k of ["onExitCode", "onReason", "onStatusReason"]) {
        const v = e[k] as string | undefined;
        const allowed = k === "onExitCode" ? /^[0-9]*\*?$/ : /^[\p{L}0-9.: \t]*\*?$/u;
        if (v !== undefined && (v.length > 512 || !allowed.test(v))) {
          throw client(`Error executing request, Exception : Invalid ${k} pattern ${v}.`);
        }
      }
    }
    // AWS Batch API reference, RetryStrategy
    // (https://docs.aws.amazon.com/batch/latest/APIReference/API_RetryStrategy.html),
    // evaluateOnExit: "If this parameter is specified, then the attempts parameter must also be
    // specified."
    if (r.evaluateOnExit !== undefined && attempts === undefined) {
      throw client(
        "Error executing request, Exception : attempts must be specified when evaluateOnExit is specified.",
      );
    }
  }

  #checkTimeout(t: Json | undefined): void {
    const s = t?.attemptDurationSeconds as number | undefined;
    if (s !== undefined && s < this.#o.minTimeoutSeconds) {
      throw client(
        `Error executing request, Exception : attemptDurationSeconds must be at least ${this.#o.minTimeoutSeconds} seconds.`,
      );
    }
  }

  #checkResources(
    reqs: unknown,
    fargate: boolean,
    legacy: { vcpus?: unknown; memory?: unknown },
  ): void {
    for (const r of (reqs as { type: string; value: string }[] | undefined) ?? []) {
      if (!["VCPU", "MEMORY", "GPU"].includes(r.type)) {
        throw client(`Invalid resource requirement type ${r.type}`);
      }
      if (!/^[0-9]+(\.[0-9]+)?$/.test(r.value)) throw client(`Invalid ${r.type} value ${r.value}`);
    }
    const vcpu = resourceValue(reqs, "VCPU");
    const mem = resourceValue(reqs, "MEMORY");
    if (fargate) {
      if (legacy.vcpus !== undefined || legacy.memory !== undefined) {
        throw client(
          "Error executing request, Exception : Fargate resource requirements must be given as resourceRequirements, not vcpus or memory.",
        );
      }
      if (vcpu !== undefined && mem !== undefined) {
        const combo = FARGATE_COMBOS.find(([v]) => v === Number(vcpu));
        if (!combo || !combo[1].includes(Number(mem))) {
          throw client(
            `Error executing request, Exception : Fargate resource requirements (VCPU ${vcpu}, MEMORY ${mem}) are not a supported combination.`,
          );
        }
      }
    } else {
      if (vcpu !== undefined && !(Number.isInteger(Number(vcpu)) && Number(vcpu) >= 1)) {
        throw client(
          `Error executing request, Exception : VCPU must be a whole number of at least 1 for EC2 jobs, got ${vcpu}.`,
        );
      }
      if (mem !== undefined && Number(mem) < 4) {
        throw client("Error executing request, Exception : MEMORY must be at least 4 MiB.");
      }
    }
  }

  // deno-lint-ignore no-explicit-any
  #register(p: any): unknown {
    if (!NAME.test(p.jobDefinitionName)) {
      throw client("jobDefinitionName must match [a-zA-Z0-9_-]{1,128}");
    }
    if (p.type !== "container") {
      throw client(
        `Error executing request, Exception : The emulator supports only type container, got ${p.type}.`,
      );
    }
    const cp = p.containerProperties as Json | undefined;
    if (!cp) {
      throw client(
        "Error executing request, Exception : containerProperties is required for container job definitions.",
      );
    }
    const caps: string[] = p.platformCapabilities ?? ["EC2"];
    if (caps.length !== 1 || !["EC2", "FARGATE"].includes(caps[0]!)) {
      throw client("platformCapabilities must be [EC2] or [FARGATE]");
    }
    const fargate = caps[0] === "FARGATE";
    if (!cp.image) {
      throw client(
        "Error executing request, Exception : Container properties should contain image.",
      );
    }
    this.#checkResources(cp.resourceRequirements, fargate, { vcpus: cp.vcpus, memory: cp.memory });
    if (fargate) {
      if (!cp.executionRoleArn) {
        throw client(
          "Error executing request, Exception : Fargate job definitions require executionRoleArn.",
        );
      }
      if (
        !resourceValue(cp.resourceRequirements, "VCPU") ||
        !resourceValue(cp.resourceRequirements, "MEMORY")
      ) {
        throw client(
          "Error executing request, Exception : Fargate job definitions require VCPU and MEMORY resourceRequirements.",
        );
      }
    } else {
      if (resourceValue(cp.resourceRequirements, "VCPU") === undefined && cp.vcpus === undefined) {
        throw client(
          "Error executing request, Exception : Container properties should contain vcpus.",
        );
      }
      if (
        resourceValue(cp.resourceRequirements, "MEMORY") === undefined && cp.memory === undefined
      ) {
        throw client(
          "Error executing request, Exception : Container properties should contain memory.",
        );
      }
    }
    for (const e of (cp.environment as { name: string }[] | undefined) ?? []) {
      if (e.name?.startsWith("AWS_BATCH")) {
        throw client("Environment variable names starting with AWS_BATCH are reserved.");
      }
    }
    this.#checkRetry(p.retryStrategy);
    this.#checkTimeout(p.timeout);
    const list = this.jobDefinitions.get(p.jobDefinitionName) ?? [];
    const revision = list.length + 1;
    const d: JobDefinition = {
      jobDefinitionName: p.jobDefinitionName,
      jobDefinitionArn: this.#arn("job-definition", `${p.jobDefinitionName}:${revision}`),
      revision,
      status: "ACTIVE",
      type: "container",
      parameters: p.parameters ?? {},
      containerProperties: {
        volumes: [],
        environment: [],
        mountPoints: [],
        ulimits: [],
        secrets: [],
        ...cp,
      },
      retryStrategy: p.retryStrategy,
      timeout: p.timeout,
      tags: { ...(p.tags ?? {}) },
      propagateTags: p.propagateTags,
      platformCapabilities: caps,
      containerOrchestrationType: "ECS",
    };
    list.push(d);
    this.jobDefinitions.set(d.jobDefinitionName, list);
    return {
      jobDefinitionName: d.jobDefinitionName,
      jobDefinitionArn: d.jobDefinitionArn,
      revision,
    };
  }

  #resolveDef(ref: string, anyStatus = false): JobDefinition {
    let name = ref;
    let rev: number | undefined;
    const arn = ref.match(/^arn:aws:batch:[^:]*:[^:]*:job-definition\/([^:]+):([0-9]+)$/);
    if (arn) {
      name = arn[1]!;
      rev = Number(arn[2]);
    } else if (ref.includes(":")) {
      const [n, r] = ref.split(":");
      name = n!;
      rev = Number(r);
    }
    const list = this.jobDefinitions.get(name) ?? [];
    const d = rev !== undefined
      ? list[rev - 1]
      : [...list].reverse().find((x) => x.status === "ACTIVE");
    if (!d || (arn && d.jobDefinitionArn !== ref)) {
      throw client(`Job definition ${ref} does not exist`);
    }
    // AWS's words for a deregistered revision (users report them from SubmitJob).
    if (!anyStatus && d.status !== "ACTIVE") {
      throw client(`JobDefinition ${ref} is not in ACTIVE status`);
    }
    return d;
  }

  #defOut(d: JobDefinition): Json {
    return {
      jobDefinitionName: d.jobDefinitionName,
      jobDefinitionArn: d.jobDefinitionArn,
      revision: d.revision,
      status: d.status,
      type: d.type,
      parameters: d.parameters,
      containerProperties: d.containerProperties,
      retryStrategy: d.retryStrategy,
      timeout: d.timeout,
      tags: d.tags,
      propagateTags: d.propagateTags,
      platformCapabilities: d.platformCapabilities,
      containerOrchestrationType: d.containerOrchestrationType,
    };
  }

  // ------------------------------------------------------------------- jobs

  #job(id: string): Job {
    const j = this.jobs.get(id);
    if (!j) throw client(`Job ${id} does not exist`);
    return j;
  }

  // deno-lint-ignore no-explicit-any
  #submit(p: any): unknown {
    if (!NAME.test(p.jobName)) {
      throw client(
        "Error executing request, Exception : jobName must be 1-128 letters, numbers, hyphens and underscores, starting with a letter or number.",
      );
    }
    const q = this.#queue(p.jobQueue);
    if (q.state !== "ENABLED") {
      throw client(`Job queue ${q.jobQueueArn} is not ENABLED; jobs cannot be submitted to it`);
    }
    if (q.status === "DELETING" || q.status === "DELETED") {
      throw client(`Job queue ${q.jobQueueArn} is being deleted`);
    }
    if (p.shareIdentifier !== undefined || p.schedulingPriorityOverride !== undefined) {
      throw client(
        "Error executing request, Exception : shareIdentifier and schedulingPriorityOverride need a job queue with a fair-share scheduling policy.",
      );
    }
    for (const k of ["nodeOverrides", "eksPropertiesOverride", "ecsPropertiesOverride"]) {
      if (p[k] !== undefined) throw client(`The emulator does not support ${k}.`);
    }
    const def = this.#resolveDef(p.jobDefinition);
    const fargateQueue = q.computeEnvironmentOrder.some((o) =>
      isFargateType(
        this.computeEnvironments.get(o.computeEnvironment.split("/").pop()!)?.computeResources
          ?.type,
      )
    );
    const fargateDef = def.platformCapabilities[0] === "FARGATE";
    if (fargateQueue !== fargateDef) {
      throw client(
        `Job definition platform capabilities [${
          def.platformCapabilities[0]
        }] are not compatible with the compute environments of job queue ${q.jobQueueName}`,
      );
    }
    const size = p.arrayProperties?.size as number | undefined;
    if (
      p.arrayProperties &&
      (size === undefined || !Number.isInteger(size) || size < 2 || size > 10000)
    ) {
      throw client(
        "Error executing request, Exception : Array job size must be between 2 and 10000.",
      );
    }
    const dependsOn = (p.dependsOn ?? []) as { jobId?: string; type?: string }[];
    if (dependsOn.length > 20) throw client("A job can depend on at most 20 jobs");
    const deps: { job: Job; type?: string }[] = [];
    for (const d of dependsOn) {
      if (d.type !== undefined && d.type !== "N_TO_N" && d.type !== "SEQUENTIAL") {
        throw client(`Invalid dependency type ${d.type}`);
      }
      if (d.type === "SEQUENTIAL") {
        if (!size) throw client("SEQUENTIAL dependencies apply only to array jobs");
        if (d.jobId) throw client("A SEQUENTIAL dependency must not name a jobId");
        continue;
      }
      if (!d.jobId) throw client("A dependency must name a jobId");
      const dep = this.jobs.get(d.jobId);
      if (!dep) throw client(`Dependent job ${d.jobId} does not exist`);
      if (d.type === "N_TO_N" && (!size || dep.arraySize !== size)) {
        throw client("N_TO_N dependencies require two array jobs of the same size");
      }
      deps.push({ job: dep, type: d.type });
    }
    const retryStrategy = p.retryStrategy ?? def.retryStrategy;
    this.#checkRetry(retryStrategy);
    const timeout = p.timeout ?? def.timeout;
    this.#checkTimeout(p.timeout);
    const ov = (p.containerOverrides ?? {}) as Json;
    for (const e of (ov.environment as { name: string }[] | undefined) ?? []) {
      if (e.name?.startsWith("AWS_BATCH")) {
        throw client("Environment variable names starting with AWS_BATCH are reserved.");
      }
    }
    this.#checkResources(ov.resourceRequirements, fargateDef, {
      vcpus: ov.vcpus,
      memory: ov.memory,
    });
    const tags = { ...(p.tags ?? {}) };
    if (Object.keys(tags).length > 50) throw client("Too many tags: at most 50 are allowed");
    const cp = def.containerProperties;
    const env = new Map<string, string>();
    for (const e of (cp.environment as { name: string; value: string }[]) ?? []) {
      env.set(e.name, e.value);
    }
    for (const e of (ov.environment as { name: string; value: string }[] | undefined) ?? []) {
      env.set(e.name, e.value);
    }
    const reqs = mergeRequirements(cp.resourceRequirements, ov.resourceRequirements);
    const vcpus = Number(resourceValue(reqs, "VCPU") ?? ov.vcpus ?? cp.vcpus ?? 1);
    const memoryMiB = Number(resourceValue(reqs, "MEMORY") ?? ov.memory ?? cp.memory ?? 2048);
    const parameters = { ...def.parameters, ...(p.parameters ?? {}) };
    const container: Json = {
      ...cp,
      command: (ov.command as string[] | undefined) ?? cp.command ?? [],
      environment: [...env].map(([name, value]) => ({ name, value })),
      resourceRequirements: reqs.length ? reqs : undefined,
      instanceType: ov.instanceType,
      networkInterfaces: [],
    };
    const jobId = crypto.randomUUID();
    const now = Date.now();
    const job: Job = {
      jobId,
      jobArn: this.#arn("job", jobId),
      jobName: p.jobName,
      queue: q,
      def,
      status: "SUBMITTED",
      createdAt: now,
      attempts: [],
      dependsOn,
      deps,
      parameters,
      container,
      overrides: {
        ...(ov.command !== undefined ? { command: ov.command as string[] } : {}),
        environment: (ov.environment as { name: string; value: string }[] | undefined) ?? [],
      },
      retryStrategy,
      timeout,
      tags,
      propagateTags: p.propagateTags ?? def.propagateTags,
      vcpus,
      memoryMiB,
    };
    this.jobs.set(jobId, job);
    if (size) {
      job.arraySize = size;
      job.statusSummary = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<
        JobStatus,
        number
      >;
      job.statusSummary.SUBMITTED = size;
      job.statusSummaryLastUpdatedAt = now;
      job.children = [];
      const sequential = dependsOn.some((d) => d.type === "SEQUENTIAL");
      for (let i = 0; i < size; i++) {
        const childDeps: { job: Job; type?: string }[] = [];
        for (const d of deps) {
          childDeps.push(d.type === "N_TO_N" ? { job: d.job.children![i]! } : d);
        }
        if (sequential && i > 0) childDeps.push({ job: job.children[i - 1]! });
        const child: Job = {
          ...job,
          jobId: `${jobId}:${i}`,
          jobArn: this.#arn("job", `${jobId}:${i}`),
          attempts: [],
          deps: childDeps,
          arraySize: undefined,
          statusSummary: undefined,
          statusSummaryLastUpdatedAt: undefined,
          children: undefined,
          arrayIndex: i,
          parent: job,
        };
        job.children.push(child);
        this.jobs.set(child.jobId, child);
        this.#active.add(child);
      }
    } else {
      this.#active.add(job);
    }
    this.#kick();
    return { jobArn: job.jobArn, jobName: job.jobName, jobId };
  }

  #setStatus(j: Job, s: JobStatus, reason?: string): void {
    const old = j.status;
    if (old === s) return;
    j.status = s;
    if (reason !== undefined) j.statusReason = reason;
    if (TERMINAL.has(s)) {
      j.stoppedAt = Date.now();
      this.#active.delete(j);
    }
    const parent = j.parent;
    if (parent?.statusSummary) {
      parent.statusSummary[old]--;
      parent.statusSummary[s]++;
      parent.statusSummaryLastUpdatedAt = Date.now();
      const sum = parent.statusSummary;
      if (
        parent.status === "SUBMITTED" &&
        (s === "RUNNABLE" || s === "PENDING" || s === "STARTING" || s === "RUNNING" ||
          TERMINAL.has(s))
      ) {
        parent.status = "PENDING";
      }
      if ((s === "RUNNING" || s === "STARTING") && parent.startedAt === undefined) {
        parent.startedAt = Date.now();
      }
      if (sum.SUCCEEDED + sum.FAILED === parent.arraySize && !TERMINAL.has(parent.status)) {
        parent.status = sum.FAILED === 0 ? "SUCCEEDED" : "FAILED";
        parent.stoppedAt = Date.now();
        if (sum.FAILED > 0) parent.statusReason = `Array Child Job failed`;
      }
    }
    if (this.#active.size === 0) {
      const ws = this.#waiters;
      this.#waiters = [];
      for (const w of ws) w();
    }
  }

  #cancel(j: Job, reason: string): void {
    if (j.children) {
      for (const c of j.children) this.#cancel(c, reason);
      j.isCancelled = true;
      return;
    }
    if (j.status === "SUBMITTED" || j.status === "PENDING" || j.status === "RUNNABLE") {
      j.isCancelled = true;
      this.#setStatus(j, "FAILED", reason);
    }
  }

  #terminate(j: Job, reason: string): void {
    if (j.children) {
      for (const c of j.children) this.#terminate(c, reason);
      j.isTerminated = true;
      return;
    }
    if (TERMINAL.has(j.status)) return;
    j.isTerminated = true;
    if (j.status === "STARTING" || j.status === "RUNNING") {
      j.stopReason = { kind: "terminate", reason };
      // ECS stops the task: SIGTERM, then SIGKILL after the stop timeout (runner.ts StopKind).
      j.abort?.abort("stop" satisfies StopKind);
      return;
    }
    this.#setStatus(j, "FAILED", reason);
  }

  // deno-lint-ignore no-explicit-any
  #listJobs(p: any): unknown {
    const given =
      [p.jobQueue, p.arrayJobId, p.multiNodeJobId].filter((x) => x !== undefined).length;
    if (given !== 1) {
      throw client("Exactly one of jobQueue, arrayJobId and multiNodeJobId must be specified");
    }
    if (p.multiNodeJobId) throw client(`Job ${p.multiNodeJobId} is not a multi-node parallel job`);
    let list: Job[];
    if (p.jobQueue) {
      const q = this.#queue(p.jobQueue);
      list = [...this.jobs.values()].filter((j) => j.queue === q && !j.parent);
    } else {
      const parent = this.jobs.get(p.arrayJobId);
      if (!parent?.children) throw client(`Job ${p.arrayJobId} is not an array job`);
      list = parent.children;
    }
    if (p.jobStatus !== undefined && !JOB_STATUSES.includes(p.jobStatus)) {
      throw client(`Invalid jobStatus ${p.jobStatus}; valid values are ${JOB_STATUSES.join(", ")}`);
    }
    if (p.maxResults !== undefined && (p.maxResults < 1 || p.maxResults > 1000)) {
      throw client("maxResults must be between 1 and 1000");
    }
    // AWS Batch API reference, ListJobs, `filters`
    // (https://docs.aws.amazon.com/batch/latest/APIReference/API_ListJobs.html): "Only one
    // filter can be used at a time. When the filter is used, jobStatus is ignored [...] The
    // filter doesn't apply to child jobs in an array or multi-node parallel (MNP) jobs. The
    // results are sorted by the createdAt field, with the most recent jobs being first." Read
    // here as: a listing of an array's children (arrayJobId) ignores the filter and keeps to
    // jobStatus.
    const filters = (p.filters ?? []) as { name: string; values: string[] }[];
    if (filters.length > 1) throw client("Only one filter can be used at a time");
    const filter = p.arrayJobId === undefined ? filters[0] : undefined;
    if (filter !== undefined) {
      const v = filter.values?.[0] ?? "";
      switch (filter.name) {
        case "JOB_NAME":
          // "a case-insensitive match for the job name. If the value ends with an asterisk
          // (*), the filter matches any job name that begins with the string before the '*'."
          list = list.filter((j) => batchPatternMatch(v, j.jobName, true));
          break;
        case "JOB_DEFINITION":
          // "the name or Amazon Resource Name (ARN) of the job definition [...] The value is
          // case sensitive. When the value for the filter is the job definition name, the
          // results include all the jobs that used any revision of that job definition name.
          // If the value ends with an asterisk (*), the filter matches any job definition name
          // that begins with the string before the '*' [...] When [...] the ARN is used [...]
          // the results include jobs that used the specified revision of the job definition.
          // Asterisk (*) isn't supported when the ARN is used."
          list = list.filter((j) =>
            v.startsWith("arn:")
              ? j.def.jobDefinitionArn === v
              : batchPatternMatch(v, j.def.jobDefinitionName, false)
          );
          break;
        case "BEFORE_CREATED_AT":
          list = list.filter((j) => j.createdAt < Number(v));
          break;
        case "AFTER_CREATED_AT":
          list = list.filter((j) => j.createdAt > Number(v));
          break;
        default:
          throw client(`Invalid filter name ${filter.name}`);
      }
      // Most recent first; of jobs created in the same millisecond, the later submitted first.
      list = list.slice().reverse().sort((a, b) => b.createdAt - a.createdAt);
    } else {
      const status = p.jobStatus ?? "RUNNING";
      list = list.filter((j) => j.status === status);
    }
    // ListJobs, `maxResults`: "When --job-status is used, Batch returns up to 1000 values.
    // When --filters is used, Batch returns up to 100 values." (API_ListJobs, as above)
    const { items, next } = this.#page(
      list,
      filter !== undefined ? { ...p, maxResults: Math.min(p.maxResults ?? 100, 100) } : p,
      false,
    );
    return {
      jobSummaryList: items.map((j) => ({
        jobArn: j.jobArn,
        jobId: j.jobId,
        jobName: j.jobName,
        createdAt: j.createdAt,
        status: j.status,
        statusReason: j.statusReason,
        startedAt: j.startedAt,
        stoppedAt: j.stoppedAt,
        container: j.attempts.length || j.current
          ? {
            exitCode: j.container.exitCode as number | undefined,
            reason: j.container.reason as string | undefined,
          }
          : undefined,
        arrayProperties: j.arraySize
          ? { size: j.arraySize }
          : j.arrayIndex !== undefined
          ? { index: j.arrayIndex }
          : undefined,
        jobDefinition: j.def.jobDefinitionArn,
      })),
      nextToken: next,
    };
  }

  #jobOut(j: Job): Json {
    const out: Json = {
      jobArn: j.jobArn,
      jobName: j.jobName,
      jobId: j.jobId,
      jobQueue: j.queue.jobQueueArn,
      status: j.status,
      attempts: j.attempts.map((a) => ({ ...a, container: { ...a.container } })),
      statusReason: j.statusReason,
      createdAt: j.createdAt,
      retryStrategy: j.retryStrategy,
      startedAt: j.startedAt,
      stoppedAt: j.stoppedAt,
      dependsOn: j.dependsOn,
      jobDefinition: j.def.jobDefinitionArn,
      parameters: j.parameters,
      timeout: j.timeout,
      tags: j.tags,
      propagateTags: j.propagateTags,
      platformCapabilities: j.def.platformCapabilities,
      isCancelled: j.isCancelled,
      isTerminated: j.isTerminated,
    };
    if (!j.children) out.container = { ...j.container };
    else {
      const {
        exitCode: _e,
        reason: _r,
        logStreamName: _l,
        taskArn: _t,
        containerInstanceArn: _c,
        ...props
      } = j.container;
      out.container = props;
    }
    if (j.children) {
      out.arrayProperties = {
        size: j.arraySize,
        statusSummary: { ...j.statusSummary },
        statusSummaryLastUpdatedAt: j.statusSummaryLastUpdatedAt,
      };
    } else if (j.arrayIndex !== undefined) {
      out.arrayProperties = { index: j.arrayIndex };
    }
    return out;
  }

  #taggable(arn: string): { tags: Record<string, string> } {
    for (const c of this.computeEnvironments.values()) {
      if (c.computeEnvironmentArn === arn) return c;
    }
    for (const q of this.jobQueues.values()) if (q.jobQueueArn === arn) return q;
    for (const list of this.jobDefinitions.values()) {
      for (const d of list) if (d.jobDefinitionArn === arn) return d;
    }
    const m = arn.match(/:job\/(.+)$/);
    if (m && this.jobs.get(m[1]!)) return this.jobs.get(m[1]!)!;
    throw client(`Resource ${arn} does not exist`);
  }

  #select<T>(all: T[], refs: string[] | undefined, keys: (x: T) => string[]): T[] {
    if (!refs?.length) return all;
    return all.filter((x) => keys(x).some((k) => refs.includes(k)));
  }

  // deno-lint-ignore no-explicit-any
  #page<T>(all: T[], p: any, explicit: boolean): { items: T[]; next?: string } {
    if (explicit && (p.maxResults !== undefined || p.nextToken !== undefined)) {
      throw client("maxResults and nextToken cannot be combined with an explicit list of names");
    }
    let start = 0;
    if (p.nextToken) {
      const m = String(p.nextToken).match(/^emu-([0-9]+)$/);
      if (!m) throw client("Invalid nextToken");
      start = Number(m[1]);
    }
    const n = p.maxResults ?? 100;
    return {
      items: all.slice(start, start + n),
      next: start + n < all.length ? `emu-${start + n}` : undefined,
    };
  }

  // -------------------------------------------------------------- scheduler

  #kick(): void {
    if (this.#closed || this.#held || this.#tick !== undefined) return;
    if (this.#active.size === 0) return;
    this.#tick = setTimeout(() => {
      this.#tick = undefined;
      this.#step();
      this.#kick();
    }, this.#o.tickMs);
  }

  #depState(j: Job): "ok" | "wait" | "failed" {
    let wait = false;
    for (const d of j.deps) {
      if (d.job.status === "FAILED") return "failed";
      if (d.job.status !== "SUCCEEDED") wait = true;
    }
    return wait ? "wait" : "ok";
  }

  #step(): void {
    const runnable: Job[] = [];
    for (const j of this.#active) {
      switch (j.status) {
        case "SUBMITTED": {
          const s = this.#depState(j);
          if (s === "failed") this.#setStatus(j, "FAILED", "Dependent Job failed");
          else this.#setStatus(j, s === "ok" ? "RUNNABLE" : "PENDING");
          break;
        }
        case "PENDING": {
          const s = this.#depState(j);
          if (s === "failed") this.#setStatus(j, "FAILED", "Dependent Job failed");
          else if (s === "ok") this.#setStatus(j, "RUNNABLE");
          break;
        }
        case "RUNNABLE":
          runnable.push(j);
          break;
      }
    }
    if (runnable.length === 0) return;
    runnable.sort((a, b) => b.queue.priority - a.queue.priority);
    const used = new Map<ComputeEnvironment, number>();
    for (const j of this.#active) {
      if (j.ce && (j.status === "STARTING" || j.status === "RUNNING")) {
        used.set(j.ce, (used.get(j.ce) ?? 0) + j.vcpus);
      }
    }
    const capacity = this.#o.runner.capacity ?? Infinity;
    // The account's EC2 On-Demand vCPU quota ("Running On-Demand Standard
    // (A, C, D, H, I, M, R, T, Z) instances", L-1216C47A) is shared by every
    // EC2 compute environment; new accounts start low. Batch cannot launch
    // more instances, and the jobs wait in RUNNABLE with no statusReason
    // (aws-samples/aws-batch-comp-infrastructure-sample#2; Netflix/metaflow#110).
    // The emulator counts the jobs' vCPUs where AWS counts the instances'.
    const quota = this.#o.vcpuQuota;
    let onDemand = 0;
    for (const j of this.#active) {
      if (
        j.ce?.computeResources?.type === "EC2" &&
        (j.status === "STARTING" || j.status === "RUNNING")
      ) {
        onDemand += j.vcpus;
      }
    }
    for (const j of runnable) {
      const q = j.queue;
      if (q.state !== "ENABLED" || (q.status !== "VALID" && q.status !== "UPDATING")) continue;
      const order = [...q.computeEnvironmentOrder].sort((a, b) => a.order - b.order);
      if (this.#blocked(j, order)) continue;
      if (this.#running >= capacity) break;
      for (const o of order) {
        const ce = this.computeEnvironments.get(o.computeEnvironment.split("/").pop()!);
        if (!ce || ce.state !== "ENABLED" || (ce.status !== "VALID" && ce.status !== "UPDATING")) {
          continue;
        }
        const max = (ce.computeResources?.maxvCpus as number | undefined) ?? Infinity;
        const u = used.get(ce) ?? 0;
        if (u + j.vcpus > max) continue;
        const ec2 = ce.computeResources?.type === "EC2";
        if (ec2 && onDemand + j.vcpus > quota) continue;
        used.set(ce, u + j.vcpus);
        if (ec2) onDemand += j.vcpus;
        this.#start(j, ce);
        break;
      }
    }
  }

  /**
   * Whether a RUNNABLE job cannot be placed, as Batch reports it: the queue is
   * blocked by the test API, or no compute environment could ever fit its
   * vCPUs. A blocked job carries the reason in `statusReason`, and the
   * queue's time limit action for that reason cancels it once its time is up.
   */
  #blocked(j: Job, order: { computeEnvironment: string }[]): boolean {
    let reason = j.queue.blockedBy;
    if (reason === undefined) {
      const fits = order.some((o) => {
        const ce = this.computeEnvironments.get(o.computeEnvironment.split("/").pop()!);
        const max = (ce?.computeResources?.maxvCpus as number | undefined) ?? Infinity;
        return j.vcpus <= max;
      });
      if (!fits) {
        reason = "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE - CE(s) associated with the " +
          "job queue cannot meet the CPU requirement of the job.";
      }
    }
    if (reason === undefined) {
      if (j.blockedSince !== undefined) {
        delete j.blockedSince;
        delete j.statusReason;
      }
      return false;
    }
    j.blockedSince ??= Date.now();
    j.statusReason = reason;
    const code = reason.split(" - ")[0]!;
    const action = j.queue.jobStateTimeLimitActions.find((a) => a.reason === code);
    if (
      action !== undefined &&
      Date.now() - j.blockedSince >= action.maxTimeSeconds * this.#o.timeLimitSecondMs
    ) {
      this.#setStatus(j, "FAILED", `Canceled by JobStateTimeLimit action due to reason: ${code}`);
    }
    return true;
  }

  #takeFault(j: Job, attempt: number): ContainerFault | undefined {
    return this.#take(this.#faults, j, attempt);
  }

  /** Takes the first entry of a list that matches an attempt, counting its `times` down. */
  #take<F extends Pick<ContainerFault, "jobId" | "jobName" | "arrayIndex" | "attempt" | "times">>(
    list: F[],
    j: Job,
    attempt: number,
  ): F | undefined {
    const i = list.findIndex((f) =>
      (f.jobId === undefined || f.jobId === j.jobId || f.jobId === j.parent?.jobId) &&
      (f.jobName === undefined || f.jobName === j.jobName) &&
      (f.arrayIndex === undefined || f.arrayIndex === j.arrayIndex) &&
      (f.attempt === undefined || f.attempt === attempt)
    );
    if (i < 0) return undefined;
    const f = list[i]!;
    const left = (f.times ?? 1) - 1;
    if (left <= 0) list.splice(i, 1);
    else f.times = left;
    return f;
  }

  /**
   * Raises a managed EC2 or Spot compute environment's desiredvCpus to the
   * vCPUs its jobs now use, up to maxvCpus, as Batch does with the queue's
   * demand (the desiredvCpus given when it was made is where it starts:
   * "AWS Batch modifies this value between the minimum and maximum values
   * based on job queue demand", ComputeResource in the Batch API reference).
   * Batch lowers it again only once the instances have been idle for a while,
   * which the emulator leaves out: it stays where demand last put it.
   */
  #scaleUp(ce: ComputeEnvironment): void {
    const cr = ce.computeResources;
    if (cr === undefined || isFargateType(cr.type)) return;
    let used = 0;
    for (const other of this.#active) {
      if (other.ce === ce && (other.status === "STARTING" || other.status === "RUNNING")) {
        used += other.vcpus;
      }
    }
    const max = (cr.maxvCpus as number | undefined) ?? Infinity;
    const desired = (cr.desiredvCpus as number | undefined) ?? 0;
    cr.desiredvCpus = Math.max(desired, Math.min(max, used));
  }

  #start(j: Job, ce: ComputeEnvironment): void {
    j.ce = ce;
    j.abort = new AbortController();
    j.stopReason = undefined;
    this.#running++;
    this.#setStatus(j, "STARTING");
    this.#scaleUp(ce);
    this.#networkUp(ce, j);
    const run = this.#runAttempt(j, ce).catch((e) => {
      console.error("emulator: attempt failed unexpectedly", e);
    }).finally(() => {
      this.#running--;
      if (isFargateType(ce.computeResources?.type)) this.#networkDown(ce, true);
      this.#runs.delete(run);
      this.#kick();
    });
    this.#runs.add(run);
  }

  async #runAttempt(j: Job, ce: ComputeEnvironment): Promise<void> {
    const attemptNo = j.attempts.length + 1;
    const taskId = randomHex(32);
    const cluster = ce.ecsClusterArn.split("/").pop();
    const attempt: JobAttempt = {
      container: {
        taskArn: `arn:aws:ecs:${this.#o.region}:${this.#o.accountId}:task/${cluster}/${taskId}`,
        containerInstanceArn: isFargateType(ce.computeResources?.type)
          ? undefined
          : `arn:aws:ecs:${this.#o.region}:${this.#o.accountId}:container-instance/${cluster}/${
            randomHex(32)
          }`,
        networkInterfaces: [],
      },
    };
    j.current = attempt;
    const fault = this.#takeFault(j, attemptNo);
    const logConf = j.container.logConfiguration as {
      logDriver?: string;
      options?: Record<string, string>;
    } | undefined;
    const group = logConf?.logDriver === "awslogs" && logConf.options?.["awslogs-group"]
      ? logConf.options["awslogs-group"]
      : "/aws/batch/job";
    const streamName = `${j.def.jobDefinitionName}/default/${taskId}`;
    const env: Record<string, string> = {};
    for (const e of j.container.environment as { name: string; value: string }[]) {
      env[e.name] = e.value;
    }
    Object.assign(env, this.#o.baseEnvironment(isFargateType(ce.computeResources?.type)));
    env.AWS_BATCH_JOB_ID = j.jobId;
    env.AWS_BATCH_JOB_ATTEMPT = String(attemptNo);
    env.AWS_BATCH_CE_NAME = ce.computeEnvironmentName;
    env.AWS_BATCH_JQ_NAME = j.queue.jobQueueName;
    if (j.arrayIndex !== undefined) {
      env.AWS_BATCH_JOB_ARRAY_INDEX = String(j.arrayIndex);
      env.AWS_BATCH_JOB_ARRAY_SIZE = String(j.parent!.arraySize);
    }
    const command = (j.container.command as string[]).map((c) =>
      c.replace(/Ref::([A-Za-z0-9_]+)/g, (m, name) => j.parameters[name] ?? m)
    );
    const timeoutSec = j.timeout?.attemptDurationSeconds;
    const req: JobRunRequest = {
      jobId: j.jobId,
      jobName: j.jobName,
      attempt: attemptNo,
      arrayIndex: j.arrayIndex,
      arraySize: j.parent?.arraySize,
      image: String(j.container.image),
      command,
      environment: env,
      vcpus: j.vcpus,
      memoryMiB: j.memoryMiB,
      timeoutSec,
      computeEnvironment: ce.computeEnvironmentName,
      jobQueue: j.queue.jobQueueName,
      architecture: architecture(ce, j.container),
      signal: j.abort!.signal,
      log: (line) => this.#o.logs.append(group, streamName, line),
    };
    let result: JobRunResult;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Set once the attempt has ended: a held timeout (holdTimeouts) that comes due later stops
    // nothing, not the job's next attempt.
    let attemptOver = false;
    try {
      // ECS takes 8,192 characters of a task's overrides, JSON included
      // (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html):
      // the job's command and environment overrides with the variables Batch
      // adds. Past them the task is not started, in the words users report
      // (ASFHyP3/hyp3#3041).
      if (overridesLength(j, env) > ECS_OVERRIDES_MAX) {
        throw new StartError(OVERRIDES_TOO_LONG);
      }
      // ECS's words when it cannot assume a task's role (pulumi/pulumi-awsx#927,
      // telia-oss/terraform-aws-ecs-fargate#58): a role without the trust,
      // or, with IAM's eventual consistency, one created or changed a moment ago.
      const unassumable = (arn: string) =>
        new StartError(
          `ECS was unable to assume the role '${arn}' that was provided for this task. Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role.`,
        );
      const young = (arn: string) => {
        const r = this.#o.iam.findRole(arn);
        return r !== undefined && Date.now() - r.changedAt.trust < this.#o.iamPropagationMs;
      };
      // An execution role that does not exist (deleted, as a Pars clobbered
      // while its knots still run) is one ECS cannot assume either.
      const executionRoleArn = j.container.executionRoleArn as string | undefined;
      if (
        executionRoleArn &&
        (this.#o.iam.findRole(executionRoleArn) === undefined || young(executionRoleArn))
      ) {
        throw unassumable(executionRoleArn);
      }
      const roleArn = j.container.jobRoleArn as string | undefined;
      if (roleArn) {
        const role = this.#o.iam.findRole(roleArn);
        if (!role || !trustsEcsTasks(role.AssumeRolePolicyDocument) || young(roleArn)) {
          throw unassumable(roleArn);
        }
        Object.assign(env, this.#o.containerCredentials(roleArn, taskId));
      }
      if (fault?.kind === "spot" && fault.afterMs === undefined && fault.until === undefined) {
        attempt.startedAt = Date.now();
        this.#setStatus(j, "RUNNING");
        j.startedAt = attempt.startedAt;
        result = { statusReason: SPOT_RECLAIMED };
      } else if (fault?.kind === "exit") {
        this.#o.logs.createStream(group, streamName);
        attempt.container.logStreamName = streamName;
        attempt.startedAt = Date.now();
        this.#setStatus(j, "RUNNING");
        j.startedAt = attempt.startedAt;
        result = { exitCode: fault.exitCode, reason: fault.reason };
      } else {
        if (this.#o.runner.prepare) {
          try {
            await this.#o.runner.prepare(req);
          } catch (e) {
            throw new StartError(
              `CannotPullContainerError: ${e instanceof Error ? e.message : String(e)}`,
            );
          }
        }
        if (j.abort!.signal.aborted) throw new StartError("Job terminated before start");
        this.#o.logs.createStream(group, streamName);
        attempt.container.logStreamName = streamName;
        attempt.startedAt = Date.now();
        j.startedAt = attempt.startedAt;
        j.container = {
          ...j.container,
          exitCode: undefined,
          reason: undefined,
          logStreamName: streamName,
          taskArn: attempt.container.taskArn,
          containerInstanceArn: attempt.container.containerInstanceArn,
        };
        this.#setStatus(j, "RUNNING");
        if (timeoutSec !== undefined) {
          timer = setTimeout(() => {
            const timeUp = () => {
              if (attemptOver || this.#closed) return;
              j.stopReason = { kind: "timeout", reason: "Job attempt duration exceeded timeout" };
              j.abort?.abort("stop" satisfies StopKind);
            };
            const hold = this.#timeoutHold;
            if (hold === undefined) timeUp();
            else hold.then(timeUp, timeUp);
          }, timeoutSec * 1000);
        }
        let reclaimed = false;
        let over = false;
        const hostGoes = () => {
          if (over) return;
          reclaimed = true;
          // The host goes with its containers: no SIGTERM first (runner.ts StopKind).
          j.abort?.abort("kill" satisfies StopKind);
        };
        const reclaim = fault?.kind === "spot" && fault.until === undefined
          ? setTimeout(hostGoes, fault.afterMs)
          : undefined;
        if (fault?.kind === "spot" && fault.until !== undefined) {
          fault.until.then(hostGoes, hostGoes);
        }
        try {
          result = await this.#o.runner.run(req);
        } catch (e) {
          if (!reclaimed) throw e;
          result = {};
        } finally {
          over = true;
          clearTimeout(reclaim);
        }
        if (reclaimed) result = { statusReason: SPOT_RECLAIMED };
      }
    } catch (e) {
      const reason = e instanceof StartError
        ? e.message
        : `CannotStartContainerError: ${e instanceof Error ? e.message : String(e)}`;
      result = reason === OVERRIDES_TOO_LONG
        ? { statusReason: reason }
        : { reason, statusReason: "Task failed to start" };
    } finally {
      attemptOver = true;
      if (timer !== undefined) clearTimeout(timer);
    }
    if (this.#closed) return;
    attempt.stoppedAt = Date.now();
    attempt.startedAt ??= attempt.stoppedAt;
    const fixed = this.#take(this.#timeFixes, j, attemptNo);
    if (fixed !== undefined) {
      attempt.startedAt = fixed.startedAt;
      attempt.stoppedAt = fixed.stoppedAt;
    }
    attempt.container.exitCode = result.exitCode;
    attempt.container.reason = result.reason;
    const stop = j.stopReason;
    attempt.statusReason = stop?.reason ?? result.statusReason ??
      (result.exitCode !== undefined
        ? "Essential container in task exited"
        : "Task failed to start");
    j.attempts.push(attempt);
    j.current = undefined;
    j.ce = undefined;
    j.abort = undefined;
    j.container = {
      ...j.container,
      exitCode: attempt.container.exitCode,
      reason: attempt.container.reason,
      logStreamName: attempt.container.logStreamName,
      taskArn: attempt.container.taskArn,
      containerInstanceArn: attempt.container.containerInstanceArn,
    };
    if (result.exitCode === 0 && !stop) {
      this.#setStatus(j, "SUCCEEDED", attempt.statusReason);
      return;
    }
    if (stop) {
      this.#setStatus(j, "FAILED", stop.reason);
      return;
    }
    if (this.#shouldRetry(j, attempt)) {
      this.#setStatus(j, "RUNNABLE", attempt.statusReason);
    } else {
      this.#setStatus(j, "FAILED", attempt.statusReason);
    }
  }

  #shouldRetry(j: Job, a: JobAttempt): boolean {
    const max = j.retryStrategy?.attempts ?? 1;
    if (j.attempts.length >= max) return false;
    for (const rule of (j.retryStrategy?.evaluateOnExit ?? []) as Record<string, string>[]) {
      const codeOk = rule.onExitCode === undefined ||
        (a.container.exitCode !== undefined &&
          batchPatternMatch(rule.onExitCode, String(a.container.exitCode), false));
      const reasonOk = rule.onReason === undefined ||
        batchPatternMatch(rule.onReason, a.container.reason ?? "", false);
      const statusOk = rule.onStatusReason === undefined ||
        batchPatternMatch(rule.onStatusReason, a.statusReason ?? "", false);
      if (codeOk && reasonOk && statusOk) return String(rule.action).toUpperCase() === "RETRY";
    }
    return true;
  }

  /** Whether any job is not terminal. */
  get busy(): boolean {
    return this.#active.size > 0;
  }
}

class StartError extends Error {}

/** The most characters ECS takes in a task's overrides. */
const ECS_OVERRIDES_MAX = 8192;
/** The status reason of a job whose task's overrides are longer. */
const OVERRIDES_TOO_LONG = "Container Overrides length must be at most 8192";

/** The length of the overrides ECS gets for an attempt: the submission's, and the variables Batch adds. */
function overridesLength(j: Job, env: Record<string, string>): number {
  const batch = Object.entries(env).filter(([name]) => name.startsWith("AWS_BATCH_"))
    .map(([name, value]) => ({ name, value }));
  return JSON.stringify({
    containerOverrides: [{
      name: "default",
      ...(j.overrides.command !== undefined ? { command: j.overrides.command } : {}),
      environment: [...j.overrides.environment, ...batch],
    }],
  }).length;
}

// deno-lint-ignore no-explicit-any
function checkTimeLimitActions(actions: any): JobStateTimeLimitAction[] {
  if (actions === undefined) return [];
  const out: JobStateTimeLimitAction[] = [];
  for (const a of actions) {
    if (!BLOCKED_REASONS.includes(a.reason)) {
      throw client(
        `Error executing request, Exception : Invalid jobStateTimeLimitActions reason ${a.reason}.`,
      );
    }
    if (a.state !== "RUNNABLE") {
      throw client(
        "Error executing request, Exception : jobStateTimeLimitActions state must be RUNNABLE.",
      );
    }
    if (a.action !== "CANCEL") {
      throw client(
        "Error executing request, Exception : jobStateTimeLimitActions action must be CANCEL.",
      );
    }
    if (!Number.isInteger(a.maxTimeSeconds) || a.maxTimeSeconds < 600 || a.maxTimeSeconds > 86400) {
      throw client(
        "Error executing request, Exception : maxTimeSeconds must be between 600 and 86400.",
      );
    }
    out.push({
      reason: a.reason,
      state: a.state,
      maxTimeSeconds: a.maxTimeSeconds,
      action: a.action,
    });
  }
  return out;
}

/**
 * Matches a Batch pattern: an exact match, or, where the pattern ends with an asterisk, a match
 * of the text's start with what comes before it ("It can optionally end with an asterisk (*) so
 * that only the start of the string needs to be an exact match", API_EvaluateOnExit; the same
 * for ListJobs' JOB_NAME and JOB_DEFINITION filters, API_ListJobs). No other character is a
 * wildcard.
 *
 * @example Usage
 * ```ts ignore
 * batchPatternMatch("Host EC2*", "Host EC2 (instance i-1) terminated.", false); // true
 * ```
 */
function batchPatternMatch(pattern: string, text: string, ignoreCase: boolean): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const t = ignoreCase ? text.toLowerCase() : text;
  return p.endsWith("*") ? t.startsWith(p.slice(0, -1)) : t === p;
}
