/**
 * `startEmulator`: one loopback endpoint that speaks Batch, ECR, IAM, STS,
 * S3, EC2 and CloudWatch Logs, verifies every SigV4 signature, validates
 * requests against the official models, runs Batch jobs for real, and offers
 * fault injection, a request log and state inspection to tests.
 *
 * @module
 */
import { CredentialStore, type KnownCredentials } from "./credentials.ts";
import { Faults } from "./faults.ts";
import { FrontProxy } from "../support/front_proxy.ts";
import { TokenBucket } from "./rate_limit.ts";
import { LocalRegistry } from "./registry.ts";
import { type LoggedRequest, RequestLog } from "./request_log.ts";
import type { JobRunner } from "./runner.ts";
import { DockerRunner } from "./runners/docker_runner.ts";
import { ProcessRunner } from "./runners/process_runner.ts";
import { Pipeline } from "./server.ts";
import { BatchService } from "./services/batch.ts";
import { CloudFormationService } from "./services/cloudformation.ts";
import { Ec2Service } from "./services/ec2.ts";
import { EcrService } from "./services/ecr.ts";
import { IamService } from "./services/iam.ts";
import { LogsService } from "./services/logs.ts";
import { S3Service } from "./services/s3.ts";
import { StsService } from "./services/sts.ts";
import { SsoService } from "./services/sso.ts";

/**
 * Behaviours of AWS that clients must cope with (README: "Behaving like
 * AWS"). Every one is on by default, with {@linkcode AWS_REALISM}'s values
 * ({@linkcode REALISM_BY_DEFAULT}); each `@default` below is the option's
 * value with `realism: false`. Times are in ms, scaled down so that tests
 * stay fast.
 */
export interface RealismOptions {
  /**
   * IAM's eventual consistency: a service role or instance profile changed
   * less than this long ago makes a new compute environment INVALID, and a
   * job or execution role created less than this long ago cannot be assumed
   * when a job starts. 0: changes are visible at once. @default {0}
   */
  iamPropagationMs?: number;
  /**
   * How long a compute environment's instances (after it is deleted) and its
   * Fargate tasks' network interfaces (after the last task stopped) keep its
   * subnets, security groups and VPC in use: deleting them answers
   * `DependencyViolation`. 0: released at once. @default {0}
   */
  networkReleaseMs?: number;
  /**
   * How long a bucket created outside us-east-1 answers `NoSuchBucket` (404)
   * to requests that address it. @default {0}
   */
  bucketVisibilityMs?: number;
  /**
   * The account's Batch request rate, shared by every Batch operation
   * (AWS: 50 per second); over it Batch answers 429 `TooManyRequestsException`.
   * 0: unlimited. @default {0}
   */
  batchTps?: number;
  /** How many Batch requests may come at once before the rate applies. @default {batchTps} */
  batchBurst?: number;
  /**
   * The account's EC2 On-Demand vCPU quota: jobs on EC2 compute environments
   * beyond it wait in RUNNABLE with no status reason. @default {Infinity}
   */
  vcpuQuota?: number;
  /**
   * Docker runner: an image built for another CPU architecture than the
   * compute environment's fails with `exec format error` and exit code 1.
   * @default {false}
   */
  architectureCheck?: boolean;
}

/**
 * The values {@linkcode startEmulator} uses with `realism: true`: AWS's
 * numbers where they are fixed (50 Batch requests per second), a new
 * account's quota, and delays scaled to the emulator's clock (its compute
 * environments settle in ~100 ms where AWS takes a minute).
 *
 * @example Usage
 * ```ts ignore
 * const emu = await startEmulator({ realism: true, batchTps: 5 });
 * emu.realism.iamPropagationMs; // AWS_REALISM's value
 * ```
 */
export const AWS_REALISM: Readonly<Required<RealismOptions>> = Object.freeze({
  iamPropagationMs: 300,
  networkReleaseMs: 300,
  bucketVisibilityMs: 200,
  batchTps: 50,
  batchBurst: 50,
  vcpuQuota: 32,
  architectureCheck: true,
});

/**
 * Whether {@linkcode startEmulator} applies {@linkcode AWS_REALISM} when the
 * options do not say `realism`: on, so every test meets AWS's behaviours
 * unless it opts out with `realism: false` (and says why).
 */
export const REALISM_BY_DEFAULT = true;

/** Options of {@linkcode startEmulator}. */
export interface EmulatorOptions extends RealismOptions {
  /**
   * Start from {@linkcode AWS_REALISM}: every behaviour of
   * {@linkcode RealismOptions} on; options given here override its values.
   * @default {REALISM_BY_DEFAULT}
   */
  realism?: boolean;
  /** The region every regional service answers for (default `us-east-1`). */
  region?: string;
  /** The account id (default `123456789012`). */
  accountId?: string;
  /**
   * How Batch jobs run: `"process"` (default; needs `entrypoint`), `"docker"`
   * (pulls from the emulated ECR registry), or a custom {@linkcode JobRunner}.
   */
  runner?: "process" | "docker" | JobRunner;
  /** For the process runner: maps an image URI to the command that stands for it. */
  entrypoint?: (image: string) => string[];
  /** For the built-in runners: the most attempts at once (default: CPUs). */
  concurrency?: number;
  /**
   * For the docker runner: `"isolated"` gives job containers a network that
   * reaches the emulator and nothing else, like a private subnet without a
   * NAT gateway whose VPC endpoints reach AWS (default `"host"`).
   */
  dockerNetwork?: "host" | "isolated";
  /** For the process runner: the working directory. */
  cwd?: string;
  /**
   * For the built-in runners: milliseconds from the SIGTERM to the SIGKILL
   * when TerminateJob or a job's timeout stops a running attempt, as ECS's
   * container stop timeout (see `StopKind` in `runner.ts`); a Spot reclaim
   * kills at once.
   * @default {30000 for docker, 2000 for process}
   */
  stopTimeoutMs?: number;
  /** Start a real `docker-registry` behind ECR (default: true with the docker runner). */
  registry?: boolean;
  /** Delay of CREATING/UPDATING → VALID and DELETING → gone for CEs and queues, ms (default 100). */
  ceValidDelayMs?: number;
  /** The Batch scheduler tick, ms (default 20). */
  tickMs?: number;
  /** The smallest job timeout accepted, seconds (AWS: 60; default 60). */
  minTimeoutSeconds?: number;
  /** How many ms one second of a queue's `jobStateTimeLimitActions` lasts (default 1000). */
  timeLimitSecondMs?: number;
  /** Allowed clock skew of signatures, ms (default 15 minutes). */
  maxSkewMs?: number;
  /**
   * Give EC2 and SPOT containers `AWS_REGION` and `AWS_DEFAULT_REGION`, as an
   * ECS agent from after April 2026 does (aws/amazon-ecs-agent#4946). By
   * default only Fargate containers get them, as on the AMIs in use
   * (aws/containers-roadmap#1611). @default {false}
   */
  regionOnEc2?: boolean;
  /**
   * How long after a job writes a line CloudWatch Logs reads see it, in ms:
   * the `awslogs` driver sends lines in batches, so the last lines of an
   * attempt can arrive after Batch says it stopped (see `LogsService.append`).
   * @default {0}
   */
  logDeliveryDelayMs?: number;
  /**
   * Each GetLogEvents reads one window of this many ms of event time, so its
   * pages can be empty or short while more events exist, as on AWS (see
   * `windowPage` in `services/logs.ts`). Without it, every page is as full
   * as its `limit`.
   */
  logPageWindowMs?: number;
}

/** The environment a client process needs to talk to the emulator. */
export interface EmulatorEnv {
  /** The endpoint for every service. */
  AWS_ENDPOINT_URL: string;
  /** The region. */
  AWS_REGION: string;
  /** The region, again (older tools). */
  AWS_DEFAULT_REGION: string;
  /** The access key id. */
  AWS_ACCESS_KEY_ID: string;
  /** The secret. */
  AWS_SECRET_ACCESS_KEY: string;
  /** Always `"true"`: nothing may reach 169.254.169.254. */
  AWS_EC2_METADATA_DISABLED: string;
  /** Further variables. */
  [name: string]: string;
}

/** One resource the emulator holds, for "nothing left behind" assertions. */
export interface EmulatorResource {
  /** The service. */
  service: string;
  /** The kind, e.g. `role`, `compute-environment`, `bucket`. */
  type: string;
  /** The id or name. */
  id: string;
  /** The ARN when there is one. */
  arn?: string;
}

/** A running emulator. */
export interface Emulator {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** The long-term key pair it accepts. */
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  /** The environment for client processes. */
  readonly env: EmulatorEnv;
  /** The account id. */
  readonly accountId: string;
  /** The region. */
  readonly region: string;
  /** The request log. */
  readonly requests: RequestLog;
  /** The fault table. */
  readonly faults: Faults;
  /** Batch state and container faults. */
  readonly batch: BatchService;
  /** ECR state. */
  readonly ecr: EcrService;
  /** IAM state. */
  readonly iam: IamService;
  /** EC2 state. */
  readonly ec2: Ec2Service;
  /** S3 state and byte counters. */
  readonly s3: S3Service;
  /** Logs state. */
  readonly logs: LogsService;
  /** CloudFormation: stacks, and `seed()` for the Python cloudknot's. */
  readonly cloudformation: CloudFormationService;
  /** STS: `oidcProvider()` registers a web identity provider and issues its tokens. */
  readonly sts: StsService;
  /** IAM Identity Center: `login()` stands for `aws sso login`. */
  readonly sso: SsoService;
  /** The registry behind ECR, when started. */
  readonly registry?: LocalRegistry;
  /** The runner jobs use. */
  readonly runner: JobRunner;
  /** The AWS behaviours in effect (README: "Behaving like AWS"). */
  readonly realism: Readonly<Required<RealismOptions>>;
  /**
   * How many requests a service (and operation) received.
   *
   * @param service The service.
   * @param operation The operation.
   */
  count(service: string, operation?: string): number;
  /** Every request that would have changed state (answered or not). */
  mutatingRequests(): LoggedRequest[];
  /**
   * Every resource the emulator holds beyond its built-in ones (default VPC,
   * AWS managed policies, `/aws/batch/job`) and the service-linked roles AWS
   * makes for itself; jobs are not resources.
   */
  listResources(): EmulatorResource[];
  /**
   * Resolves when every Batch job is terminal.
   *
   * @param timeoutMs Reject after this long (default 60 s).
   */
  waitForJobs(timeoutMs?: number): Promise<void>;
  /** Stops everything: server, registry, containers, processes. */
  close(): Promise<void>;
}

interface ContainerToken {
  roleArn: string;
  sessionName: string;
  creds?: KnownCredentials;
}

/**
 * Starts an emulator on an ephemeral loopback port.
 *
 * @example Usage
 * ```ts ignore
 * const emu = await startEmulator({ runner: "process", entrypoint: () => ["/bin/sh", "-c"] });
 * try {
 *   // point a client at emu.endpoint with emu.credentials
 * } finally {
 *   await emu.close();
 * }
 * ```
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const realism = resolveRealism(options);
  const region = options.region ?? "us-east-1";
  const accountId = options.accountId ?? "123456789012";
  const label = crypto.randomUUID().slice(0, 8);
  const store = new CredentialStore(accountId);
  const faults = new Faults();
  const log = new RequestLog();
  const wantRegistry = options.registry ?? options.runner === "docker";
  const registry = wantRegistry ? await LocalRegistry.start() : undefined;
  let runner: JobRunner;
  try {
    if (options.runner === "docker") {
      runner = await DockerRunner.create({
        registry,
        label,
        concurrency: options.concurrency,
        ...(options.stopTimeoutMs !== undefined ? { stopTimeoutMs: options.stopTimeoutMs } : {}),
        checkArchitecture: realism.architectureCheck,
        ...(options.dockerNetwork !== undefined ? { network: options.dockerNetwork } : {}),
      });
    } else if (options.runner === undefined || options.runner === "process") {
      const entrypoint = options.entrypoint;
      runner = new ProcessRunner({
        entrypoint: entrypoint ?? (() => []),
        concurrency: options.concurrency,
        cwd: options.cwd,
        ...(options.stopTimeoutMs !== undefined ? { killGraceMs: options.stopTimeoutMs } : {}),
      });
    } else runner = options.runner;
  } catch (e) {
    await registry?.stop();
    throw e;
  }

  const iam = new IamService(accountId);
  const ec2 = new Ec2Service(accountId, region);
  const logs = new LogsService(accountId, region, {
    deliveryDelayMs: options.logDeliveryDelayMs ?? 0,
    ...(options.logPageWindowMs !== undefined ? { pageWindowMs: options.logPageWindowMs } : {}),
  });
  // S3 evaluates a role session's requests against the role's policies.
  const s3 = new S3Service(region, realism.bucketVisibilityMs, (role) => iam.policyDocuments(role));
  const ecr = new EcrService(accountId, region, registry);
  const sts = new StsService(store, iam, accountId);
  const sso = new SsoService(store, region);
  const tokens = new Map<string, ContainerToken>();
  let endpoint = "";
  // The region variables reach a container only where ECS sets them: on
  // Fargate, and on EC2 only with an ECS agent from after April 2026
  // (aws/amazon-ecs-agent#4946; aws/containers-roadmap#1611).
  const regionEverywhere = options.regionOnEc2 ?? false;
  const baseEnvironment = (fargate: boolean) => ({
    AWS_ENDPOINT_URL: endpoint,
    ...(fargate || regionEverywhere ? { AWS_REGION: region, AWS_DEFAULT_REGION: region } : {}),
    AWS_EC2_METADATA_DISABLED: "true",
  });
  const batch = new BatchService({
    accountId,
    region,
    transitionDelayMs: options.ceValidDelayMs ?? 100,
    tickMs: options.tickMs ?? 20,
    minTimeoutSeconds: options.minTimeoutSeconds ?? 60,
    timeLimitSecondMs: options.timeLimitSecondMs ?? 1000,
    runner,
    iam,
    ec2,
    logs,
    baseEnvironment,
    iamPropagationMs: realism.iamPropagationMs,
    networkReleaseMs: realism.networkReleaseMs,
    vcpuQuota: realism.vcpuQuota,
    containerCredentials: (roleArn, sessionName) => {
      const token = crypto.randomUUID();
      tokens.set(token, { roleArn, sessionName });
      return {
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `${endpoint}/_emulator/container-credentials`,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: token,
      };
    },
  });

  const cloudformation = new CloudFormationService({
    accountId,
    region,
    iam,
    ec2,
    batch,
    delayMs: options.ceValidDelayMs ?? 100,
  });

  const front: { proxy?: FrontProxy } = {};
  const pipeline = new Pipeline({
    region,
    accountId,
    credentials: store,
    faults,
    log,
    services: {
      batch,
      ecr,
      logs,
      iam,
      sts,
      ec2,
      cloudformation,
      sso: sso.portal,
      ssooidc: sso.oidc,
    },
    s3,
    maxSkewMs: options.maxSkewMs,
    rateLimits: realism.batchTps > 0
      ? { batch: new TokenBucket({ perSecond: realism.batchTps, burst: realism.batchBurst }) }
      : {},
    drop: (port) => front.proxy?.drop(port),
    internal: (url, headers) => {
      if (url.pathname !== "/_emulator/container-credentials") {
        return new Response("not found", { status: 404 });
      }
      const t = tokens.get(headers.get("authorization") ?? "");
      if (!t) {
        return Response.json({ code: "AccessDenied", message: "Invalid authorization token" }, {
          status: 403,
        });
      }
      if (!t.creds || t.creds.expiration!.getTime() - Date.now() < 5 * 60_000) {
        t.creds = store.issueForRole(t.roleArn, t.sessionName, 6 * 3600);
      }
      return Response.json({
        AccessKeyId: t.creds.accessKeyId,
        SecretAccessKey: t.creds.secretAccessKey,
        Token: t.creds.sessionToken,
        Expiration: t.creds.expiration!.toISOString(),
        RoleArn: t.roleArn,
      });
    },
  });
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
    onError: (e) => {
      console.error("emulator: unhandled error", e);
      return new Response("internal error", { status: 500 });
    },
  }, (req, info) => pipeline.handle(req, info));
  const proxy = new FrontProxy(server.addr.port);
  front.proxy = proxy;
  endpoint = `http://127.0.0.1:${proxy.port}`;

  const env: EmulatorEnv = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: store.root.accessKeyId,
    AWS_SECRET_ACCESS_KEY: store.root.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: "true",
  };
  let closed = false;
  return {
    endpoint,
    credentials: {
      accessKeyId: store.root.accessKeyId,
      secretAccessKey: store.root.secretAccessKey,
    },
    env,
    accountId,
    region,
    requests: log,
    faults,
    batch,
    ecr,
    iam,
    ec2,
    s3,
    logs,
    cloudformation,
    sts,
    sso,
    registry,
    runner,
    realism,
    count: (service, operation) =>
      log.entries.filter((e) =>
        e.service === service && (operation === undefined || e.operation === operation)
      ).length,
    mutatingRequests: () => log.filter({ mutating: true }),
    listResources: () => {
      const out: EmulatorResource[] = [];
      for (const r of iam.roles.values()) {
        // Service-linked roles are AWS's, made and kept by the service.
        if (r.Path.startsWith("/aws-service-role/")) continue;
        out.push({ service: "iam", type: "role", id: r.RoleName, arn: r.Arn });
      }
      for (const p of iam.instanceProfiles.values()) {
        out.push({
          service: "iam",
          type: "instance-profile",
          id: p.InstanceProfileName,
          arn: p.Arn,
        });
      }
      for (const p of iam.policies.values()) {
        if (!p.builtin) out.push({ service: "iam", type: "policy", id: p.PolicyName, arn: p.Arn });
      }
      const ec2Kinds: [Map<string, { Tags: unknown }>, string][] = [
        [ec2.vpcs, "vpc"],
        [ec2.subnets, "subnet"],
        [ec2.securityGroups, "security-group"],
        [ec2.internetGateways, "internet-gateway"],
        [ec2.routeTables, "route-table"],
        [ec2.launchTemplates, "launch-template"],
      ];
      for (const [m, type] of ec2Kinds) {
        for (const id of m.keys()) {
          if (!ec2.builtinIds.has(id)) out.push({ service: "ec2", type, id });
        }
      }
      for (const c of batch.computeEnvironments.values()) {
        out.push({
          service: "batch",
          type: "compute-environment",
          id: c.computeEnvironmentName,
          arn: c.computeEnvironmentArn,
        });
      }
      for (const q of batch.jobQueues.values()) {
        out.push({ service: "batch", type: "job-queue", id: q.jobQueueName, arn: q.jobQueueArn });
      }
      for (const list of batch.jobDefinitions.values()) {
        for (const d of list) {
          if (d.status === "ACTIVE") {
            out.push({
              service: "batch",
              type: "job-definition",
              id: `${d.jobDefinitionName}:${d.revision}`,
              arn: d.jobDefinitionArn,
            });
          }
        }
      }
      for (const r of ecr.repositories.values()) {
        out.push({
          service: "ecr",
          type: "repository",
          id: r.repositoryName,
          arn: r.repositoryArn,
        });
      }
      for (const b of s3.buckets.values()) {
        out.push({ service: "s3", type: "bucket", id: b.name, arn: `arn:aws:s3:::${b.name}` });
      }
      for (const g of logs.groups.values()) {
        if (!g.builtin) {
          out.push({
            service: "logs",
            type: "log-group",
            id: g.logGroupName,
            arn: logs.groupArn(g.logGroupName),
          });
        }
      }
      return out;
    },
    waitForJobs: (timeoutMs) => batch.waitForJobs(timeoutMs),
    close: async () => {
      if (closed) return;
      closed = true;
      await cloudformation.settled();
      await batch.close();
      await runner.close?.();
      await proxy.close();
      await server.shutdown();
      await registry?.removeLocalImages();
      await registry?.stop();
    },
  };
}

function resolveRealism(options: EmulatorOptions): Required<RealismOptions> {
  const base: RealismOptions = (options.realism ?? REALISM_BY_DEFAULT) ? AWS_REALISM : {};
  const pick = <K extends keyof RealismOptions>(k: K, off: Required<RealismOptions>[K]) =>
    options[k] ?? base[k] ?? off;
  const batchTps = pick("batchTps", 0);
  return {
    iamPropagationMs: pick("iamPropagationMs", 0),
    networkReleaseMs: pick("networkReleaseMs", 0),
    bucketVisibilityMs: pick("bucketVisibilityMs", 0),
    batchTps,
    batchBurst: options.batchBurst ??
      (options.batchTps === undefined ? base.batchBurst : undefined) ??
      batchTps,
    vcpuQuota: pick("vcpuQuota", Infinity),
    architectureCheck: pick("architectureCheck", false),
  };
}
