/**
 * Shared helpers of the emulator's own tests: SDK client configuration, Batch
 * setup, polling, and running commands.
 *
 * @module
 */
import type { Emulator } from "./emulator.ts";
export { rejects } from "../support/rejects.ts";

/** The SDK client configuration that points at an emulator. */
export interface SdkConfig {
  /** The endpoint. */
  endpoint: string;
  /** The region. */
  region: string;
  /** The credentials. */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** One attempt: the tests see every error. */
  maxAttempts: number;
  /** S3 path style. */
  forcePathStyle: boolean;
}

/**
 * The SDK configuration for an emulator (IAM clients must use region us-east-1,
 * which is the emulator's default region).
 *
 * @example Usage
 * ```ts ignore
 * const client = new sdk.batch.BatchClient(sdkConfig(emu));
 * ```
 */
export function sdkConfig(emu: Emulator, overrides: Partial<SdkConfig> = {}): SdkConfig {
  return {
    endpoint: emu.endpoint,
    region: emu.region,
    credentials: { ...emu.credentials },
    maxAttempts: 1,
    forcePathStyle: true,
    ...overrides,
  };
}

/** What {@linkcode setupBatch} created. */
export interface BatchSetup {
  /** The compute environment name. */
  ce: string;
  /** The queue name. */
  queue: string;
  /** The job definition name. */
  jobDefinition: string;
  /** The job definition ARN (revision 1). */
  jobDefinitionArn: string;
}

/**
 * Creates, through the SDK, what an EC2 Batch job needs: the ECS instance role
 * and profile, a CE on the default subnets (waits until VALID), a queue and a
 * job definition.
 *
 * @example Usage
 * ```ts ignore
 * const s = await setupBatch(emu, { maxvCpus: 4 });
 * ```
 */
export async function setupBatch(
  emu: Emulator,
  options: {
    prefix?: string;
    maxvCpus?: number;
    image?: string;
    vcpus?: number;
    memory?: number;
    jobRoleArn?: string;
    command?: string[];
    timeoutSeconds?: number;
  } = {},
): Promise<BatchSetup> {
  const sdk = await import("./sdk_deps.ts");
  const p = options.prefix ?? "t";
  const iam = new sdk.iam.IAMClient(sdkConfig(emu));
  const ec2 = new sdk.ec2.EC2Client(sdkConfig(emu));
  const batch = new sdk.batch.BatchClient(sdkConfig(emu));
  try {
    await iam.send(
      new sdk.iam.CreateRoleCommand({
        RoleName: `${p}-ecs-instance`,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{
            Effect: "Allow",
            Principal: { Service: "ec2.amazonaws.com" },
            Action: "sts:AssumeRole",
          }],
        }),
      }),
    );
    await iam.send(
      new sdk.iam.CreateInstanceProfileCommand({ InstanceProfileName: `${p}-ecs-instance` }),
    );
    await iam.send(
      new sdk.iam.AddRoleToInstanceProfileCommand({
        InstanceProfileName: `${p}-ecs-instance`,
        RoleName: `${p}-ecs-instance`,
      }),
    );
    // A client must give IAM time to reach Batch (README: iamPropagationMs).
    await new Promise((r) => setTimeout(r, emu.realism.iamPropagationMs));
    const subnets = await ec2.send(
      new sdk.ec2.DescribeSubnetsCommand({
        Filters: [{ Name: "default-for-az", Values: ["true"] }],
      }),
    );
    const sgs = await ec2.send(
      new sdk.ec2.DescribeSecurityGroupsCommand({
        Filters: [{ Name: "group-name", Values: ["default"] }],
      }),
    );
    await batch.send(
      new sdk.batch.CreateComputeEnvironmentCommand({
        computeEnvironmentName: `${p}-ce`,
        type: "MANAGED",
        computeResources: {
          type: "EC2",
          minvCpus: 0,
          maxvCpus: options.maxvCpus ?? 16,
          instanceTypes: ["optimal"],
          instanceRole: `${p}-ecs-instance`,
          subnets: subnets.Subnets!.map((s) => s.SubnetId!),
          securityGroupIds: [sgs.SecurityGroups![0]!.GroupId!],
        },
      }),
    );
    await waitFor(async () => {
      const d = await batch.send(
        new sdk.batch.DescribeComputeEnvironmentsCommand({ computeEnvironments: [`${p}-ce`] }),
      );
      const s = d.computeEnvironments?.[0]?.status;
      if (s === "INVALID") {
        throw new Error(`CE invalid: ${d.computeEnvironments?.[0]?.statusReason}`);
      }
      return s === "VALID";
    });
    await batch.send(
      new sdk.batch.CreateJobQueueCommand({
        jobQueueName: `${p}-queue`,
        priority: 1,
        computeEnvironmentOrder: [{ order: 1, computeEnvironment: `${p}-ce` }],
      }),
    );
    await waitFor(async () => {
      const d = await batch.send(
        new sdk.batch.DescribeJobQueuesCommand({ jobQueues: [`${p}-queue`] }),
      );
      return d.jobQueues?.[0]?.status === "VALID";
    });
    const def = await batch.send(
      new sdk.batch.RegisterJobDefinitionCommand({
        jobDefinitionName: `${p}-def`,
        type: "container",
        containerProperties: {
          image: options.image ?? "emulator/inline:latest",
          command: options.command ?? ["true"],
          jobRoleArn: options.jobRoleArn,
          resourceRequirements: [
            { type: "VCPU", value: String(options.vcpus ?? 1) },
            { type: "MEMORY", value: String(options.memory ?? 512) },
          ],
        },
        timeout: options.timeoutSeconds
          ? { attemptDurationSeconds: options.timeoutSeconds }
          : undefined,
      }),
    );
    return {
      ce: `${p}-ce`,
      queue: `${p}-queue`,
      jobDefinition: `${p}-def`,
      jobDefinitionArn: def.jobDefinitionArn!,
    };
  } finally {
    iam.destroy();
    ec2.destroy();
    batch.destroy();
  }
}

/**
 * Polls until `check` returns true (every 20 ms, up to `timeoutMs`).
 *
 * @example Usage
 * ```ts ignore
 * await waitFor(() => emu.batch.jobs.size > 0);
 * ```
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("Condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Runs a command and returns its output; throws with its stderr when it fails.
 *
 * @example Usage
 * ```ts ignore
 * await sh("docker", ["push", uri], { DOCKER_CONFIG: dir });
 * ```
 */
export async function sh(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(cmd, {
    args,
    env,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const text = {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
  if (out.code !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${text.stderr}`);
  return text;
}
