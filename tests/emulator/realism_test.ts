/**
 * The AWS behaviours the emulator models (README: "Behaving like AWS"), each
 * driven by the official SDK v3 clients as an independent client. Each test
 * turns one behaviour on alone (`realism: false` and its option), so that
 * what it sees is that behaviour's, not another's (IAM's lag on its new
 * instance profile, say). Lags are long enough (1.5 s) that "not yet"
 * answers do not depend on the machine's speed; "later" answers are
 * awaited, never timed.
 */
import assert from "node:assert/strict";
import { dockerTest } from "../support/docker_available.ts";
import {
  AWS_REALISM,
  type Emulator,
  InlineRunner,
  REALISM_BY_DEFAULT,
  startEmulator,
} from "./mod.ts";
import { TokenBucket } from "./rate_limit.ts";
import * as sdk from "./sdk_deps.ts";
import { rejects, sdkConfig, setupBatch, sh, waitFor } from "./test_helpers.ts";
import { buildTestImage } from "./test_image.ts";

const LAG = 1500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const TRUST = (service: string) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });

function clients(emu: Emulator) {
  return {
    iam: new sdk.iam.IAMClient(sdkConfig(emu, { region: "us-east-1" })),
    ec2: new sdk.ec2.EC2Client(sdkConfig(emu)),
    batch: new sdk.batch.BatchClient(sdkConfig(emu)),
    s3: new sdk.s3.S3Client(sdkConfig(emu)),
    destroy() {
      this.iam.destroy();
      this.ec2.destroy();
      this.batch.destroy();
      this.s3.destroy();
    },
  };
}

type Clients = ReturnType<typeof clients>;

async function instanceProfile(c: Clients, name: string): Promise<void> {
  await c.iam.send(
    new sdk.iam.CreateRoleCommand({
      RoleName: name,
      AssumeRolePolicyDocument: TRUST("ec2.amazonaws.com"),
    }),
  );
  await c.iam.send(new sdk.iam.CreateInstanceProfileCommand({ InstanceProfileName: name }));
  await c.iam.send(
    new sdk.iam.AddRoleToInstanceProfileCommand({ InstanceProfileName: name, RoleName: name }),
  );
}

async function defaultNetwork(c: Clients): Promise<{ subnets: string[]; groups: string[] }> {
  const subnets = await c.ec2.send(
    new sdk.ec2.DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] }),
  );
  const groups = await c.ec2.send(
    new sdk.ec2.DescribeSecurityGroupsCommand({
      Filters: [{ Name: "group-name", Values: ["default"] }],
    }),
  );
  return {
    subnets: subnets.Subnets!.map((s) => s.SubnetId!),
    groups: [groups.SecurityGroups![0]!.GroupId!],
  };
}

/** Waits until a compute environment settles and returns it. */
async function settled(c: Clients, name: string) {
  let ce;
  await waitFor(async () => {
    const d = await c.batch.send(
      new sdk.batch.DescribeComputeEnvironmentsCommand({ computeEnvironments: [name] }),
    );
    ce = d.computeEnvironments![0];
    return ce?.status === "VALID" || ce?.status === "INVALID";
  });
  return ce!;
}

/** Registers a one-vCPU container job definition (a new revision if the name exists). */
async function register(
  c: Clients,
  name: string,
  container: {
    image?: string;
    command?: string[];
    jobRoleArn?: string;
    executionRoleArn?: string;
    memory?: number;
  } = {},
) {
  return await c.batch.send(
    new sdk.batch.RegisterJobDefinitionCommand({
      jobDefinitionName: name,
      type: "container",
      containerProperties: {
        image: container.image ?? "emulator/inline:latest",
        command: container.command ?? ["true"],
        jobRoleArn: container.jobRoleArn,
        executionRoleArn: container.executionRoleArn,
        resourceRequirements: [
          { type: "VCPU", value: "1" },
          { type: "MEMORY", value: String(container.memory ?? 512) },
        ],
      },
    }),
  );
}

async function job(c: Clients, id: string) {
  return (await c.batch.send(new sdk.batch.DescribeJobsCommand({ jobs: [id] }))).jobs![0]!;
}

async function finished(c: Clients, id: string) {
  await waitFor(async () => ["SUCCEEDED", "FAILED"].includes((await job(c, id)).status!));
  return await job(c, id);
}

Deno.test("iam propagation: a compute environment made right after its instance profile or service role goes INVALID with the reasons users report, and is VALID once IAM caught up", async () => {
  const emu = await startEmulator({ realism: false, iamPropagationMs: LAG, ceValidDelayMs: 10 });
  const c = clients(emu);
  try {
    const net = await defaultNetwork(c);
    const compute = {
      type: "EC2" as const,
      maxvCpus: 4,
      instanceTypes: ["optimal"],
      instanceRole: "fresh-profile",
      subnets: net.subnets,
      securityGroupIds: net.groups,
    };
    await instanceProfile(c, "fresh-profile");
    await c.batch.send(
      new sdk.batch.CreateComputeEnvironmentCommand({
        computeEnvironmentName: "profile-ce",
        type: "MANAGED",
        computeResources: compute,
      }),
    );
    const profileCe = await settled(c, "profile-ce");
    assert.equal(profileCe.status, "INVALID");
    assert.equal(
      profileCe.statusReason,
      "CLIENT_ERROR - Invalid IamInstanceProfile: fresh-profile",
    );

    await sleep(LAG); // the instance profile is visible now; a new service role is not
    const role = await c.iam.send(
      new sdk.iam.CreateRoleCommand({
        RoleName: "fresh-batch-service",
        AssumeRolePolicyDocument: TRUST("batch.amazonaws.com"),
      }),
    );
    await c.iam.send(
      new sdk.iam.AttachRolePolicyCommand({
        RoleName: "fresh-batch-service",
        PolicyArn: "arn:aws:iam::aws:policy/service-role/AWSBatchServiceRole",
      }),
    );
    await c.batch.send(
      new sdk.batch.CreateComputeEnvironmentCommand({
        computeEnvironmentName: "role-ce",
        type: "MANAGED",
        serviceRole: role.Role!.Arn,
        computeResources: compute,
      }),
    );
    const roleCe = await settled(c, "role-ce");
    assert.equal(roleCe.status, "INVALID");
    assert.match(
      roleCe.statusReason!,
      new RegExp(
        "^CLIENT_ERROR - User: arn:aws:sts::123456789012:assumed-role/fresh-batch-service/aws-batch " +
          "is not authorized to perform: ecs:DescribeClusters on resource: " +
          `${roleCe.ecsClusterArn} because no identity-based policy allows the ecs:DescribeClusters ` +
          "action \\(Service: AmazonECS; Status Code: 400; Error Code: AccessDeniedException; " +
          "Request ID: [0-9a-f-]{36}; Proxy: null\\)$",
      ),
    );

    // The profile's compute environment validates again on update.
    await c.batch.send(
      new sdk.batch.UpdateComputeEnvironmentCommand({
        computeEnvironment: "profile-ce",
        state: "ENABLED",
      }),
    );
    assert.equal((await settled(c, "profile-ce")).status, "VALID");
    await sleep(LAG);
    await c.batch.send(
      new sdk.batch.UpdateComputeEnvironmentCommand({
        computeEnvironment: "role-ce",
        state: "ENABLED",
      }),
    );
    assert.equal((await settled(c, "role-ce")).status, "VALID");
  } finally {
    c.destroy();
    await emu.close();
  }
});

Deno.test("iam propagation: a job whose job role was just created fails to start with ECS's unable-to-assume reason; the same job later runs", async () => {
  const runner = new InlineRunner(() => ({ exitCode: 0 }));
  const emu = await startEmulator({
    realism: false,
    runner,
    iamPropagationMs: LAG,
    ceValidDelayMs: 10,
    tickMs: 5,
  });
  const c = clients(emu);
  try {
    const s = await setupBatch(emu);
    const role = await c.iam.send(
      new sdk.iam.CreateRoleCommand({
        RoleName: "fresh-job-role",
        AssumeRolePolicyDocument: TRUST("ecs-tasks.amazonaws.com"),
      }),
    );
    // A new revision of the job definition, with the new job role.
    const def = await register(c, s.jobDefinition, { jobRoleArn: role.Role!.Arn });
    assert.equal(def.revision, 2);
    const submit = async () =>
      (await c.batch.send(
        new sdk.batch.SubmitJobCommand({
          jobName: "j",
          jobQueue: s.queue,
          jobDefinition: s.jobDefinition,
        }),
      )).jobId!;
    const early = await finished(c, await submit());
    assert.equal(early.status, "FAILED");
    assert.equal(
      early.attempts![0]!.container!.reason,
      `ECS was unable to assume the role '${role.Role!.Arn}' that was provided for this task. ` +
        "Please verify that the role being passed has the proper trust relationship and " +
        "permissions and that your IAM user has permissions to pass this role.",
    );
    assert.equal(early.attempts![0]!.container!.exitCode, undefined);
    assert.equal(runner.runs, 0);
    await sleep(LAG);
    assert.equal((await finished(c, await submit())).status, "SUCCEEDED");
    assert.equal(runner.runs, 1);
  } finally {
    c.destroy();
    await emu.close();
  }
});

Deno.test("a job whose execution role was deleted fails to start with ECS's unable-to-assume reason, whatever realism says", async () => {
  const runner = new InlineRunner(() => ({ exitCode: 0 }));
  const emu = await startEmulator({ realism: false, runner, ceValidDelayMs: 10, tickMs: 5 });
  const c = clients(emu);
  try {
    const s = await setupBatch(emu);
    const arn = "arn:aws:iam::123456789012:role/deleted-execution-role";
    await register(c, s.jobDefinition, { executionRoleArn: arn });
    const job = await finished(
      c,
      (await c.batch.send(
        new sdk.batch.SubmitJobCommand({
          jobName: "j",
          jobQueue: s.queue,
          jobDefinition: s.jobDefinition,
        }),
      )).jobId!,
    );
    assert.equal(job.status, "FAILED");
    assert.match(job.attempts![0]!.container!.reason!, /^ECS was unable to assume the role '/);
    assert.ok(job.attempts![0]!.container!.reason!.includes(arn));
    assert.equal(runner.runs, 0);
  } finally {
    c.destroy();
    await emu.close();
  }
});

Deno.test("network release: after a compute environment that ran a job is deleted, its security group, subnet, VPC and internet gateway stay in use with EC2's DependencyViolation messages, then delete", async () => {
  const runner = new InlineRunner(() => ({ exitCode: 0 }));
  const emu = await startEmulator({
    realism: false,
    runner,
    networkReleaseMs: LAG,
    ceValidDelayMs: 10,
    tickMs: 5,
  });
  const c = clients(emu);
  try {
    await instanceProfile(c, "net-profile");
    const vpc = (await c.ec2.send(new sdk.ec2.CreateVpcCommand({ CidrBlock: "10.7.0.0/16" })))
      .Vpc!.VpcId!;
    const subnet = (await c.ec2.send(
      new sdk.ec2.CreateSubnetCommand({ VpcId: vpc, CidrBlock: "10.7.0.0/20" }),
    )).Subnet!.SubnetId!;
    await c.ec2.send(
      new sdk.ec2.ModifySubnetAttributeCommand({
        SubnetId: subnet,
        MapPublicIpOnLaunch: { Value: true },
      }),
    );
    const igw = (await c.ec2.send(new sdk.ec2.CreateInternetGatewayCommand({})))
      .InternetGateway!.InternetGatewayId!;
    await c.ec2.send(
      new sdk.ec2.AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpc }),
    );
    const groups: string[] = [];
    for (const name of ["used", "idle"]) {
      groups.push(
        (await c.ec2.send(
          new sdk.ec2.CreateSecurityGroupCommand({
            GroupName: name,
            Description: name,
            VpcId: vpc,
          }),
        )).GroupId!,
      );
    }
    const [used, idle] = groups as [string, string];
    for (const [name, sg] of [["used-ce", used], ["idle-ce", idle]]) {
      await c.batch.send(
        new sdk.batch.CreateComputeEnvironmentCommand({
          computeEnvironmentName: name,
          type: "MANAGED",
          computeResources: {
            type: "EC2",
            maxvCpus: 4,
            instanceTypes: ["optimal"],
            instanceRole: "net-profile",
            subnets: [subnet],
            securityGroupIds: [sg!],
          },
        }),
      );
      assert.equal((await settled(c, name!)).status, "VALID");
    }
    await c.batch.send(
      new sdk.batch.CreateJobQueueCommand({
        jobQueueName: "q",
        priority: 1,
        computeEnvironmentOrder: [{ order: 1, computeEnvironment: "used-ce" }],
      }),
    );
    await waitFor(() => emu.batch.jobQueues.get("q")?.status === "VALID");
    await register(c, "d");
    const id = (await c.batch.send(
      new sdk.batch.SubmitJobCommand({ jobName: "j", jobQueue: "q", jobDefinition: "d" }),
    )).jobId!;
    assert.equal((await finished(c, id)).status, "SUCCEEDED");

    await c.batch.send(new sdk.batch.UpdateJobQueueCommand({ jobQueue: "q", state: "DISABLED" }));
    await waitFor(() => emu.batch.jobQueues.get("q")?.status === "VALID");
    await c.batch.send(new sdk.batch.DeleteJobQueueCommand({ jobQueue: "q" }));
    await waitFor(() => !emu.batch.jobQueues.has("q"));
    for (const name of ["used-ce", "idle-ce"]) {
      await c.batch.send(
        new sdk.batch.UpdateComputeEnvironmentCommand({
          computeEnvironment: name,
          state: "DISABLED",
        }),
      );
      await settled(c, name);
      await c.batch.send(
        new sdk.batch.DeleteComputeEnvironmentCommand({ computeEnvironment: name }),
      );
    }
    await waitFor(() => emu.batch.computeEnvironments.size === 0);

    // A compute environment that never ran a job had no instances: its group goes at once.
    await c.ec2.send(new sdk.ec2.DeleteSecurityGroupCommand({ GroupId: idle }));
    const expect = async (p: Promise<unknown>, message: string) => {
      const e = await rejects(p);
      assert.equal(e.name, "DependencyViolation");
      assert.equal(e.message, message);
      assert.equal((e.$metadata as { httpStatusCode: number }).httpStatusCode, 400);
    };
    await expect(
      c.ec2.send(new sdk.ec2.DeleteSecurityGroupCommand({ GroupId: used })),
      `resource ${used} has a dependent object`,
    );
    await expect(
      c.ec2.send(new sdk.ec2.DetachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpc })),
      `Network ${vpc} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.`,
    );
    await expect(
      c.ec2.send(new sdk.ec2.DeleteSubnetCommand({ SubnetId: subnet })),
      `The subnet '${subnet}' has dependencies and cannot be deleted.`,
    );
    await expect(
      c.ec2.send(new sdk.ec2.DeleteVpcCommand({ VpcId: vpc })),
      `The vpc '${vpc}' has dependencies and cannot be deleted.`,
    );

    // A while later the instances are gone, and so is everything else.
    await waitFor(async () => {
      try {
        await c.ec2.send(new sdk.ec2.DeleteSecurityGroupCommand({ GroupId: used }));
        return true;
      } catch (e) {
        if ((e as Error).name !== "DependencyViolation") throw e;
        return false;
      }
    });
    await c.ec2.send(
      new sdk.ec2.DetachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpc }),
    );
    await c.ec2.send(new sdk.ec2.DeleteInternetGatewayCommand({ InternetGatewayId: igw }));
    await c.ec2.send(new sdk.ec2.DeleteSubnetCommand({ SubnetId: subnet }));
    await c.ec2.send(new sdk.ec2.DeleteVpcCommand({ VpcId: vpc }));
  } finally {
    c.destroy();
    await emu.close();
  }
});

Deno.test("bucket visibility: a bucket just created outside us-east-1 answers NoSuchBucket to HeadBucket and configuration calls for a while; in us-east-1 it is there at once", async () => {
  const emu = await startEmulator({ realism: false, region: "eu-west-1", bucketVisibilityMs: LAG });
  const c = clients(emu);
  try {
    await c.s3.send(
      new sdk.s3.CreateBucketCommand({
        Bucket: "fresh-bucket",
        CreateBucketConfiguration: { LocationConstraint: "eu-west-1" },
      }),
    );
    const head = await rejects(c.s3.send(new sdk.s3.HeadBucketCommand({ Bucket: "fresh-bucket" })));
    assert.equal((head.$metadata as { httpStatusCode: number }).httpStatusCode, 404);
    assert.equal(head.name, "NotFound");
    const tagging = await rejects(
      c.s3.send(
        new sdk.s3.PutBucketTaggingCommand({
          Bucket: "fresh-bucket",
          Tagging: { TagSet: [{ Key: "k", Value: "v" }] },
        }),
      ),
    );
    assert.equal(tagging.name, "NoSuchBucket");
    assert.equal((tagging.$metadata as { httpStatusCode: number }).httpStatusCode, 404);
    // It exists all the same: creating it again says so.
    const again = await rejects(
      c.s3.send(
        new sdk.s3.CreateBucketCommand({
          Bucket: "fresh-bucket",
          CreateBucketConfiguration: { LocationConstraint: "eu-west-1" },
        }),
      ),
    );
    assert.equal(again.name, "BucketAlreadyOwnedByYou");
    await waitFor(() =>
      c.s3.send(new sdk.s3.HeadBucketCommand({ Bucket: "fresh-bucket" })).then(
        () => true,
        () => false,
      )
    );
    await c.s3.send(
      new sdk.s3.PutBucketTaggingCommand({
        Bucket: "fresh-bucket",
        Tagging: { TagSet: [{ Key: "k", Value: "v" }] },
      }),
    );
  } finally {
    c.destroy();
    await emu.close();
  }
  const east = await startEmulator({ realism: false, bucketVisibilityMs: LAG });
  const s3 = new sdk.s3.S3Client(sdkConfig(east));
  try {
    await s3.send(new sdk.s3.CreateBucketCommand({ Bucket: "east-bucket" }));
    await s3.send(new sdk.s3.HeadBucketCommand({ Bucket: "east-bucket" }));
  } finally {
    s3.destroy();
    await east.close();
  }
});

Deno.test("batch rate: every Batch operation draws on one token bucket; over it SubmitJob and DescribeJobs get 429 TooManyRequestsException, other services do not", async () => {
  // 3 at once, then one token every ~17 minutes: the counts cannot depend on timing.
  const emu = await startEmulator({ realism: false, batchTps: 0.001, batchBurst: 3 });
  const c = clients(emu);
  try {
    const submit = () =>
      c.batch.send(
        new sdk.batch.SubmitJobCommand({ jobName: "j", jobQueue: "none", jobDefinition: "none" }),
      );
    // Checked after the quota, so answered: the queue does not exist.
    assert.equal((await rejects(submit())).name, "ClientException");
    await c.batch.send(new sdk.batch.DescribeJobsCommand({ jobs: ["x"] }));
    await c.batch.send(new sdk.batch.DescribeJobQueuesCommand({}));
    for (
      const send of [
        submit,
        () => c.batch.send(new sdk.batch.DescribeJobsCommand({ jobs: ["x"] })),
      ]
    ) {
      const e = await rejects(send());
      assert.equal(e.name, "TooManyRequestsException");
      assert.equal(e.message, "Too Many Requests");
      assert.equal((e.$metadata as { httpStatusCode: number }).httpStatusCode, 429);
    }
    await c.iam.send(new sdk.iam.ListRolesCommand({}));
    const log = emu.requests.filter({ service: "batch" });
    assert.deepEqual(log.map((e) => e.errorCode ?? "ok"), [
      "ClientException",
      "ok",
      "ok",
      "TooManyRequestsException",
      "TooManyRequestsException",
    ]);
  } finally {
    c.destroy();
    await emu.close();
  }
});

Deno.test("batch rate: the token bucket allows its burst, then refills at its rate", () => {
  let now = 0;
  const bucket = new TokenBucket({ perSecond: 50, burst: 50, now: () => now });
  let taken = 0;
  while (bucket.take()) taken++;
  assert.equal(taken, 50);
  now += 100; // 5 tokens
  taken = 0;
  while (bucket.take()) taken++;
  assert.equal(taken, 5);
  now += 60_000; // never more than the burst
  taken = 0;
  while (bucket.take()) taken++;
  assert.equal(taken, 50);
});

Deno.test("vcpu quota: jobs beyond the account's EC2 vCPU quota wait in RUNNABLE with no status reason, and start as running jobs finish", async () => {
  const gate = Promise.withResolvers<void>();
  let live = 0;
  let peak = 0;
  const runner = new InlineRunner(async () => {
    live++;
    peak = Math.max(peak, live);
    await gate.promise;
    live--;
    return { exitCode: 0 };
  });
  const emu = await startEmulator({
    realism: false,
    runner,
    vcpuQuota: 2,
    ceValidDelayMs: 10,
    tickMs: 5,
  });
  const c = clients(emu);
  try {
    const s = await setupBatch(emu, { maxvCpus: 16 });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push(
        (await c.batch.send(
          new sdk.batch.SubmitJobCommand({
            jobName: `j${i}`,
            jobQueue: s.queue,
            jobDefinition: s.jobDefinition,
          }),
        )).jobId!,
      );
    }
    await waitFor(() => live === 2);
    await sleep(100); // many scheduler ticks: nothing else starts
    const jobs = (await c.batch.send(new sdk.batch.DescribeJobsCommand({ jobs: ids }))).jobs!;
    const waiting = jobs.filter((j) => j.status === "RUNNABLE");
    assert.equal(waiting.length, 2);
    for (const j of waiting) assert.equal(j.statusReason, undefined);
    gate.resolve();
    await emu.waitForJobs();
    for (const id of ids) assert.equal((await job(c, id)).status, "SUCCEEDED");
    assert.equal(peak, 2);
  } finally {
    gate.resolve();
    c.destroy();
    await emu.close();
  }
});

dockerTest(
  "architecture: an image built for another CPU than the compute environment's fails as on ECS: exec format error in the log, exit code 1",
  async () => {
    const amd = await buildTestImage(`ckemu-arch:amd-${crypto.randomUUID().slice(0, 8)}`);
    const arm = await buildTestImage(
      `ckemu-arch:arm-${crypto.randomUUID().slice(0, 8)}`,
      "linux/arm64",
    );
    const emu = await startEmulator({
      realism: false,
      runner: "docker",
      architectureCheck: true,
      ceValidDelayMs: 10,
      tickMs: 10,
    });
    const c = clients(emu);
    const logs = new sdk.logs.CloudWatchLogsClient(sdkConfig(emu));
    const ecr = new sdk.ecr.ECRClient(sdkConfig(emu));
    const dockerConfig = await Deno.makeTempDir({ prefix: "ckemu-arch-docker-" });
    const env = { DOCKER_CONFIG: dockerConfig };
    const docker = (args: string[], stdin?: string) => sh("docker", args, env, stdin);
    try {
      const auth = (await ecr.send(new sdk.ecr.GetAuthorizationTokenCommand({})))
        .authorizationData![0]!;
      const [user, password] = atob(auth.authorizationToken!).split(":");
      await docker(
        ["login", "--username", user!, "--password-stdin", auth.proxyEndpoint!],
        password,
      );
      const uri = (await ecr.send(new sdk.ecr.CreateRepositoryCommand({ repositoryName: "arch" })))
        .repository!.repositoryUri!;
      for (const [local, tag] of [[amd, "amd64"], [arm, "arm64"]]) {
        await docker(["tag", local!, `${uri}:${tag}`]);
        await docker(["push", `${uri}:${tag}`]);
        await docker(["rmi", `${uri}:${tag}`]);
      }

      const s = await setupBatch(emu, { image: `${uri}:amd64`, memory: 64 });
      const net = await defaultNetwork(c);
      // Fargate's tasks pull with their execution role, which must exist.
      await c.iam.send(
        new sdk.iam.CreateRoleCommand({
          RoleName: "ecsTaskExecutionRole",
          AssumeRolePolicyDocument: TRUST("ecs-tasks.amazonaws.com"),
        }),
      );
      await c.batch.send(
        new sdk.batch.CreateComputeEnvironmentCommand({
          computeEnvironmentName: "graviton",
          type: "MANAGED",
          computeResources: {
            type: "EC2",
            maxvCpus: 4,
            instanceTypes: ["m6g.large", "c7g"],
            instanceRole: "t-ecs-instance",
            subnets: net.subnets,
            securityGroupIds: net.groups,
          },
        }),
      );
      assert.equal((await settled(c, "graviton")).status, "VALID");
      await c.batch.send(
        new sdk.batch.CreateJobQueueCommand({
          jobQueueName: "graviton-q",
          priority: 1,
          computeEnvironmentOrder: [{ order: 1, computeEnvironment: "graviton" }],
        }),
      );
      await waitFor(() => emu.batch.jobQueues.get("graviton-q")?.status === "VALID");
      // Fargate runs on the job definition's runtimePlatform: ARM64 here.
      await c.batch.send(
        new sdk.batch.CreateComputeEnvironmentCommand({
          computeEnvironmentName: "fargate",
          type: "MANAGED",
          computeResources: {
            type: "FARGATE",
            maxvCpus: 4,
            subnets: net.subnets,
            securityGroupIds: net.groups,
          },
        }),
      );
      assert.equal((await settled(c, "fargate")).status, "VALID");
      await c.batch.send(
        new sdk.batch.CreateJobQueueCommand({
          jobQueueName: "fargate-q",
          priority: 1,
          computeEnvironmentOrder: [{ order: 1, computeEnvironment: "fargate" }],
        }),
      );
      await waitFor(() => emu.batch.jobQueues.get("fargate-q")?.status === "VALID");
      const command = ["sh", "-c", "echo ran"];
      const onEc2 = async (image: string) =>
        (await register(c, "arch-def", { image, command, memory: 64 })).jobDefinitionArn!;
      const onArmFargate = async (image: string) =>
        (await c.batch.send(
          new sdk.batch.RegisterJobDefinitionCommand({
            jobDefinitionName: "arch-fargate",
            type: "container",
            platformCapabilities: ["FARGATE"],
            containerProperties: {
              image,
              command,
              executionRoleArn: "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
              runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "ARM64" },
              resourceRequirements: [
                { type: "VCPU", value: "0.25" },
                { type: "MEMORY", value: "512" },
              ],
            },
          }),
        )).jobDefinitionArn!;
      const run = async (queue: string, jobDefinition: string) => {
        const id = (await c.batch.send(
          new sdk.batch.SubmitJobCommand({ jobName: "arch", jobQueue: queue, jobDefinition }),
        )).jobId!;
        const j = await finished(c, id);
        const events = await logs.send(
          new sdk.logs.GetLogEventsCommand({
            logGroupName: "/aws/batch/job",
            logStreamName: j.container!.logStreamName!,
          }),
        );
        return { job: j, log: events.events!.map((e) => e.message) };
      };

      for (
        const [queue, def] of [
          [s.queue, await onEc2(`${uri}:amd64`)],
          ["fargate-q", await onArmFargate(`${uri}:arm64`)],
        ]
      ) {
        const { job: j, log } = await run(queue!, def!);
        assert.equal(j.status, "SUCCEEDED", `${def} on ${queue}`);
        assert.deepEqual(log, ["ran"]);
      }
      for (
        const [queue, def] of [
          ["graviton-q", await onEc2(`${uri}:amd64`)],
          [s.queue, await onEc2(`${uri}:arm64`)],
          ["fargate-q", await onArmFargate(`${uri}:amd64`)],
        ]
      ) {
        const { job: j, log } = await run(queue!, def!);
        assert.equal(j.status, "FAILED", `${def} on ${queue}`);
        assert.equal(j.container!.exitCode, 1);
        assert.equal(j.statusReason, "Essential container in task exited");
        // `sh` is found on the image's PATH, as runc does.
        assert.deepEqual(log, ["exec /bin/sh: exec format error"]);
      }
    } finally {
      c.destroy();
      logs.destroy();
      ecr.destroy();
      await emu.close();
      await Deno.remove(dockerConfig, { recursive: true });
      await new Deno.Command("docker", { args: ["rmi", "--force", amd, arm] }).output();
    }
  },
);

Deno.test("realism: one switch turns every behaviour on with AWS_REALISM's values; options override it, it is on by default, and realism: false turns it off", async () => {
  assert.equal(REALISM_BY_DEFAULT, true);
  const byDefault = await startEmulator();
  try {
    assert.deepEqual(byDefault.realism, AWS_REALISM);
  } finally {
    await byDefault.close();
  }
  const plain = await startEmulator({ realism: false });
  try {
    assert.deepEqual(plain.realism, {
      iamPropagationMs: 0,
      networkReleaseMs: 0,
      bucketVisibilityMs: 0,
      batchTps: 0,
      batchBurst: 0,
      vcpuQuota: Infinity,
      architectureCheck: false,
    });
  } finally {
    await plain.close();
  }
  const real = await startEmulator({ realism: true, region: "eu-west-1" });
  const s3 = new sdk.s3.S3Client(sdkConfig(real));
  try {
    assert.deepEqual(real.realism, AWS_REALISM);
    await s3.send(
      new sdk.s3.CreateBucketCommand({
        Bucket: "real-bucket",
        CreateBucketConfiguration: { LocationConstraint: "eu-west-1" },
      }),
    );
    const e = await rejects(s3.send(new sdk.s3.HeadBucketCommand({ Bucket: "real-bucket" })));
    assert.equal((e.$metadata as { httpStatusCode: number }).httpStatusCode, 404);
  } finally {
    s3.destroy();
    await real.close();
  }
  const tuned = await startEmulator({ realism: true, batchTps: 5, iamPropagationMs: 0 });
  try {
    assert.deepEqual(tuned.realism, {
      ...AWS_REALISM,
      batchTps: 5,
      batchBurst: 5,
      iamPropagationMs: 0,
    });
  } finally {
    await tuned.close();
  }
});

Deno.test("log pages: with logPageWindowMs, GetLogEvents answers empty pages with a new token while the stream has more events, and the token sent at its end", async () => {
  // Off by default (not in AWS_REALISM): it changes how many requests a read makes.
  const emu = await startEmulator({ realism: false, logPageWindowMs: 1000 });
  try {
    const logs = new sdk.logs.CloudWatchLogsClient(sdkConfig(emu));
    const g = { logGroupName: "/aws/batch/job", logStreamName: "d/default/pages" };
    await logs.send(new sdk.logs.CreateLogStreamCommand(g));
    const hourAgo = Date.now() - 3_600_000;
    await logs.send(
      new sdk.logs.PutLogEventsCommand({
        ...g,
        logEvents: [
          { timestamp: hourAgo, message: "a" },
          { timestamp: hourAgo + 10, message: "b" },
          { timestamp: hourAgo + 5000, message: "c" },
        ],
      }),
    );
    const get = (more: { nextToken?: string; startFromHead?: boolean }) =>
      logs.send(new sdk.logs.GetLogEventsCommand({ ...g, ...more }));
    // From the end: the last second holds nothing, yet the token leads on to "c", then "a" and "b".
    const last = await get({ startFromHead: false });
    assert.deepEqual(last.events, []);
    const c = await get({ nextToken: last.nextBackwardToken! });
    assert.deepEqual(c.events!.map((e) => e.message), ["c"]);
    const gap = await get({ nextToken: c.nextBackwardToken! });
    assert.deepEqual(gap.events, []);
    assert.notEqual(gap.nextBackwardToken, c.nextBackwardToken);
    const ab = await get({ nextToken: gap.nextBackwardToken! });
    assert.deepEqual(ab.events!.map((e) => e.message), ["a", "b"]);
    const start = await get({ nextToken: ab.nextBackwardToken! });
    assert.deepEqual(start.events, []);
    assert.equal(start.nextBackwardToken, ab.nextBackwardToken);
    // From the start of a stream whose lines come 3 s after it was made: an empty page, "a" and
    // "b", which share a second, an empty page, "c", and at the end the token sent comes back.
    const f = { logGroupName: "/aws/batch/job", logStreamName: "d/default/forward" };
    await logs.send(new sdk.logs.CreateLogStreamCommand(f));
    const made = emu.logs.groups.get(f.logGroupName)!.streams.get(f.logStreamName)!.creationTime;
    await logs.send(
      new sdk.logs.PutLogEventsCommand({
        ...f,
        logEvents: [
          { timestamp: made + 3000, message: "a" },
          { timestamp: made + 3010, message: "b" },
          { timestamp: made + 8000, message: "c" },
        ],
      }),
    );
    const pages: string[][] = [];
    let sent: string | undefined;
    for (let calls = 0; calls < 10; calls++) {
      const page = await logs.send(
        new sdk.logs.GetLogEventsCommand({
          ...f,
          ...(sent === undefined ? { startFromHead: true } : { nextToken: sent }),
        }),
      );
      pages.push(page.events!.map((e) => e.message!));
      if (page.nextForwardToken === sent) break;
      sent = page.nextForwardToken;
    }
    assert.deepEqual(pages, [[], ["a", "b"], [], ["c"], []]);
  } finally {
    await emu.close();
  }
});
