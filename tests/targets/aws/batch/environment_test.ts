import assert from "node:assert/strict";
import { BatchResourceError, CannotCreateResourceError } from "../../../../mod.ts";
import {
  deleteBatchEnvironment,
  ensureComputeEnvironment,
  ensureJobQueue,
  ensureLaunchTemplate,
  registerJobDefinition,
  validateComputeOptions,
} from "../../../../src/targets/aws/batch/mod.ts";
import type { AwsSession } from "../../../../src/aws/mod.ts";
import type { BatchPlacement } from "../../../../src/targets/aws/batch/mod.ts";
import { type Emulator, ProcessRunner, startEmulator } from "../../../emulator/mod.ts";
import { sessionFor } from "../../../support/aws_session.ts";
import { LONG_LAG_MS, propagateIam } from "../../../support/lag_ends.ts";
import { holdAnswer } from "../../../support/held_answer.ts";
import { slowToStop } from "../helpers.ts";

const FAST = { pollMs: 20, timeoutMs: 10_000 };

async function placement(session: AwsSession, subnets: string[]): Promise<BatchPlacement> {
  const trust = (service: string) =>
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
    });
  const role = async (name: string, service: string) =>
    (await session.iam.createRole({ RoleName: name, AssumeRolePolicyDocument: trust(service) }))
      .Role.Arn;
  const ecs = await role("t-ecs-instance-role", "ec2.amazonaws.com");
  const profile = await session.iam.createInstanceProfile({
    InstanceProfileName: "t-ecs-instance-role",
  });
  await session.iam.addRoleToInstanceProfile({
    InstanceProfileName: "t-ecs-instance-role",
    RoleName: "t-ecs-instance-role",
  });
  assert.ok(ecs);
  const sg = await session.ec2.createSecurityGroup({ GroupName: "t-sg", Description: "test" });
  return {
    batchServiceRole: await role("t-batch-service-role", "batch.amazonaws.com"),
    ecsInstanceProfile: profile.InstanceProfile.Arn,
    spotFleetRole: await role("t-spot-fleet-role", "spotfleet.amazonaws.com"),
    taskExecutionRole: await role("t-task-execution-role", "ecs-tasks.amazonaws.com"),
    jobRole: await role("t-job-role", "ecs-tasks.amazonaws.com"),
    subnets,
    securityGroup: sg.GroupId!,
  };
}

/**
 * Runs `fn` against a fresh emulator with a session and a placement. Realism
 * is off: each of these tests is about one behaviour that its delays would
 * only slow down.
 */
async function withPlacement(
  fn: (emu: Emulator, session: AwsSession, p: BatchPlacement) => Promise<void>,
): Promise<void> {
  const emu = await startEmulator({ realism: false, ceValidDelayMs: 10 });
  try {
    const session = await sessionFor(emu);
    await fn(emu, session, await placement(session, [...emu.ec2.subnets.keys()].slice(0, 2)));
  } finally {
    await emu.close();
  }
}

Deno.test("a knot's compute environment, queue and job definition are created, adopted and deleted in order", async () => {
  const emu = await startEmulator({ ceValidDelayMs: 30 });
  try {
    const session = await sessionFor(emu);
    const subnets = [...emu.ec2.subnets.keys()].slice(0, 2);
    const p = await placement(session, subnets);
    const before = emu.listResources();
    const tags = { ManagedBy: "cloudknot", "cloudknot:knot": "k" };
    for (
      const compute of [
        validateComputeOptions(),
        validateComputeOptions({ compute: "FARGATE", vcpus: 1, memory: 2048 }),
      ]
    ) {
      const name = `k-${compute.compute.toLowerCase()}`;
      // The caller is told what this call made, not what it adopted: a failed create undoes only that.
      const created: string[] = [];
      const told = (what: string) => ({ ...FAST, onCreated: () => created.push(what) });
      const ce = await ensureComputeEnvironment(session, {
        name: `${name}-ce`,
        compute,
        placement: p,
        tags,
      }, told("ce"));
      assert.match(ce, /:compute-environment\/k-/);
      const creates = emu.count("batch", "CreateComputeEnvironment");
      assert.equal(
        await ensureComputeEnvironment(
          session,
          { name: `${name}-ce`, compute, placement: p, tags },
          told("ce again"),
        ),
        ce,
      );
      assert.equal(
        emu.count("batch", "CreateComputeEnvironment"),
        creates,
        "adopted, not created again",
      );
      const queue = await ensureJobQueue(session, {
        name: `${name}-jq`,
        priority: 1,
        computeEnvironment: ce,
        tags,
      }, told("queue"));
      assert.equal(
        await ensureJobQueue(session, {
          name: `${name}-jq`,
          priority: 1,
          computeEnvironment: ce,
          tags,
        }, told("queue again")),
        queue,
      );
      assert.deepEqual(created, ["ce", "queue"]);
      const first = await registerJobDefinition(session, {
        name: `${name}-jd`,
        image: "127.0.0.1:5000/cloudknot@sha256:" + "a".repeat(64),
        compute,
        placement: p,
        environment: { CLOUDKNOT_KNOT: "k" },
        tags,
      });
      const second = await registerJobDefinition(session, {
        name: `${name}-jd`,
        image: "x:y",
        compute,
        placement: p,
        tags,
      });
      assert.deepEqual([first.revision, second.revision], [1, 2]);
      const [def] = (await session.batch.describeJobDefinitions({ jobDefinitions: [first.arn] }))
        .jobDefinitions!;
      assert.equal(def!.retryStrategy?.attempts, 3);
      assert.deepEqual(def!.platformCapabilities, [compute.compute === "EC2" ? "EC2" : "FARGATE"]);
      // A knot's timeout goes to the job (which stops the attempt so Batch retries it);
      // Batch's own timeout is a backstop a minute later.
      const timed = await registerJobDefinition(session, {
        name: `${name}-jd`,
        image: "x:y",
        compute: { ...compute, timeout: 600 },
        placement: p,
        tags,
      });
      const [timedDef] = (await session.batch.describeJobDefinitions({
        jobDefinitions: [timed.arn],
      })).jobDefinitions!;
      assert.equal(timedDef!.timeout?.attemptDurationSeconds, 660);
      assert.deepEqual(timedDef!.containerProperties?.environment, [
        { name: "CLOUDKNOT_TIMEOUT", value: "600" },
      ]);
      await deleteBatchEnvironment(session, {
        jobQueue: queue,
        computeEnvironment: ce,
        jobDefinitions: [`${name}-jd`],
      }, FAST);
      // Deleting again is harmless.
      await deleteBatchEnvironment(session, {
        jobQueue: queue,
        computeEnvironment: ce,
        jobDefinitions: [`${name}-jd`],
      }, FAST);
    }
    assert.deepEqual(emu.listResources(), before);
    const order = emu.requests.filter({ service: "batch", mutating: true }).map((r) => r.operation);
    const fargate = order.slice(order.lastIndexOf("CreateComputeEnvironment"));
    assert.deepEqual(
      fargate.filter((op) => !op.startsWith("Register") && !op.startsWith("Create")),
      [
        "UpdateJobQueue",
        "DeleteJobQueue",
        "UpdateComputeEnvironment",
        "DeleteComputeEnvironment",
        "DeregisterJobDefinition",
        "DeregisterJobDefinition",
        "DeregisterJobDefinition",
      ],
    );
  } finally {
    await emu.close();
  }
});

Deno.test("a job definition whose answer was lost is registered again, and clobber deregisters both revisions", async () => {
  await withPlacement(async (emu, session, p) => {
    const spec = {
      name: "lost-jd",
      image: "x:y",
      compute: validateComputeOptions(),
      placement: p,
      tags: { ManagedBy: "cloudknot" },
    };
    // The first answer is lost: the revision was added, the client cannot know it.
    emu.faults.add({
      service: "batch",
      operation: "RegisterJobDefinition",
      kind: "lost-response",
      times: 1,
    });
    const def = await registerJobDefinition(session, spec);
    assert.equal(def.revision, 2);
    const active = (await session.batch.describeJobDefinitions({
      jobDefinitionName: "lost-jd",
      status: "ACTIVE",
    })).jobDefinitions!;
    assert.deepEqual(active.map((d) => d.revision).sort(), [1, 2]);
    await deleteBatchEnvironment(session, { jobDefinitions: ["lost-jd"] }, FAST);
    const left = (await session.batch.describeJobDefinitions({
      jobDefinitionName: "lost-jd",
      status: "ACTIVE",
    })).jobDefinitions!;
    assert.deepEqual(left, []);
  });
});

Deno.test("a compute environment and queue whose create got a server error are made again, once each, and count as made by the call", async () => {
  await withPlacement(async (emu, session, p) => {
    for (const operation of ["CreateComputeEnvironment", "CreateJobQueue"]) {
      emu.faults.add({ service: "batch", operation, kind: "503", times: 1 });
    }
    // The queue's answer is lost once made: found by its describe, it is this call's.
    emu.faults.add({
      service: "batch",
      operation: "CreateJobQueue",
      kind: "lost-response",
      times: 1,
    });
    const created: string[] = [];
    const ce = await ensureComputeEnvironment(session, {
      name: "busy-ce",
      compute: validateComputeOptions(),
      placement: p,
      tags: {},
    }, { ...FAST, onCreated: () => created.push("ce") });
    const queue = await ensureJobQueue(session, {
      name: "busy-jq",
      priority: 1,
      computeEnvironment: ce,
      tags: {},
    }, { ...FAST, onCreated: () => created.push("queue") });
    assert.deepEqual(created, ["ce", "queue"]);
    assert.ok(emu.faults.list().every((f) => f.hits === 1));
    assert.equal(emu.count("batch", "CreateComputeEnvironment"), 2);
    assert.equal(emu.count("batch", "CreateJobQueue"), 2);
    assert.deepEqual([...emu.batch.computeEnvironments.keys()].length, 1);
    await deleteBatchEnvironment(session, { jobQueue: queue, computeEnvironment: ce }, FAST);
  });
});

Deno.test("a compute environment of the name that another made, or of another compute type, is refused and left alone", async () => {
  await withPlacement(async (emu, session, p) => {
    const ours = { ManagedBy: "cloudknot", "cloudknot:knot": "k" };
    const ensure = (name: string, compute: "EC2" | "FARGATE", tags: Record<string, string>) =>
      ensureComputeEnvironment(session, {
        name,
        compute: validateComputeOptions({ compute }),
        placement: p,
        tags,
      }, FAST);
    await ensure("prod-ce", "FARGATE", { Team: "prod" });
    await ensure("k-ck-ce", "EC2", ours);
    emu.requests.clear();
    await assert.rejects(
      ensure("prod-ce", "FARGATE", ours),
      (e) =>
        e instanceof BatchResourceError &&
        /prod-ce exists and was not made for this knot \(its tag ManagedBy is null/.test(e.message),
    );
    await assert.rejects(
      ensure("k-ck-ce", "FARGATE", ours),
      (e) =>
        e instanceof BatchResourceError &&
        /k-ck-ce exists with compute type EC2, not FARGATE .*cloudknot gc/.test(e.message),
    );
    assert.deepEqual(emu.mutatingRequests(), []);
    assert.ok(
      emu.batch.computeEnvironments.has("prod-ce") && emu.batch.computeEnvironments.has("k-ck-ce"),
    );
  });
});

Deno.test("deleting a knot's job definitions leaves the revisions of the name that cloudknot did not register", async () => {
  await withPlacement(async (_emu, session, p) => {
    // Someone's own definition, whose name a knot was given as jobDefinitionName.
    const theirs = await session.batch.registerJobDefinition({
      jobDefinitionName: "prod-jd",
      type: "container",
      containerProperties: {
        image: "prod:1",
        command: ["run"],
        resourceRequirements: [{ type: "VCPU", value: "1" }, { type: "MEMORY", value: "512" }],
      },
    });
    const ours = await registerJobDefinition(session, {
      name: "prod-jd",
      image: "x:y",
      compute: validateComputeOptions(),
      placement: p,
      tags: { ManagedBy: "cloudknot", "cloudknot:knot": "k" },
    });
    await deleteBatchEnvironment(session, { jobDefinitions: ["prod-jd"] }, FAST);
    const active = (await session.batch.describeJobDefinitions({
      jobDefinitionName: "prod-jd",
      status: "ACTIVE",
    })).jobDefinitions!.map((d) => d.jobDefinitionArn);
    assert.deepEqual(active, [theirs.jobDefinitionArn]);
    assert.notEqual(ours.arn, theirs.jobDefinitionArn);
  });
});

Deno.test("volumeSize makes a launch template that the environment uses and deletion removes; of two creates at once, only the one that made it is told so", async () => {
  const emu = await startEmulator({ ceValidDelayMs: 10 });
  try {
    const session = await sessionFor(emu);
    const p = await placement(session, [...emu.ec2.subnets.keys()].slice(0, 1));
    const compute = validateComputeOptions({ volumeSize: 200 });
    // The caller is told what this call made, not what it adopted: a failed create undoes only that.
    const created: string[] = [];
    const told = (what: string) => ({ onCreated: () => created.push(what) });
    const spec = { name: "lt-ck-lt", volumeSize: 200, tags: { a: "b" } };
    // Two creates of one knot at once: the first is held once it asks for the template, the
    // second makes it meanwhile, and the first, refused with AlreadyExists, adopts it.
    const first = await holdAnswer(
      emu,
      { service: "ec2", operation: "CreateLaunchTemplate" },
      () => ensureLaunchTemplate(session, spec, told("first")),
    );
    let template;
    try {
      template = await ensureLaunchTemplate(session, spec, told("second"));
    } finally {
      assert.equal(await first.answer(), "lt-ck-lt");
    }
    assert.equal(template, "lt-ck-lt");
    assert.equal(await ensureLaunchTemplate(session, spec, told("again")), template);
    assert.deepEqual(created, ["second"]);
    assert.equal(emu.count("ec2", "CreateLaunchTemplate"), 2);
    assert.equal(emu.ec2.launchTemplates.size, 1);
    const ce = await ensureComputeEnvironment(session, {
      name: "lt-ce",
      compute,
      placement: p,
      launchTemplate: template,
      tags: {},
    }, FAST);
    const [detail] =
      (await session.batch.describeComputeEnvironments({ computeEnvironments: [ce] }))
        .computeEnvironments!;
    assert.equal(detail!.computeResources?.launchTemplate?.launchTemplateName, "lt-ck-lt");
    await deleteBatchEnvironment(
      session,
      { computeEnvironment: ce, launchTemplate: template },
      FAST,
    );
    const left = await session.ec2.describeLaunchTemplates({}).then((r) => r.LaunchTemplates ?? []);
    assert.deepEqual(left, []);
  } finally {
    await emu.close();
  }
});

Deno.test("an INVALID compute environment is an error carrying Batch's reason", async () => {
  const emu = await startEmulator({ ceValidDelayMs: 10 });
  try {
    const session = await sessionFor(emu);
    const p = await placement(session, [...emu.ec2.subnets.keys()].slice(0, 1));
    p.ecsInstanceProfile = "arn:aws:iam::123456789012:instance-profile/missing";
    await assert.rejects(
      () =>
        ensureComputeEnvironment(session, {
          name: "bad-ce",
          compute: validateComputeOptions(),
          placement: p,
          tags: {},
        }, FAST),
      (e) =>
        e instanceof BatchResourceError && e instanceof CannotCreateResourceError &&
        /INVALID: .*missing/.test(e.message) && /Fix the cause/.test(e.message),
    );
    // A profile that does not exist is a mistake, not IAM catching up: no second try.
    assert.equal(emu.count("batch", "UpdateComputeEnvironment"), 0);
  } finally {
    await emu.close();
  }
});

Deno.test("a compute environment made INVALID by roles IAM has not shown Batch yet is validated again until VALID", async () => {
  // IAM catches up only once the client said it waits for it (below), however long the steps
  // between the role changes and the compute environment's validation take on a loaded machine.
  const emu = await startEmulator({ ceValidDelayMs: 10, iamPropagationMs: LONG_LAG_MS });
  try {
    const session = await sessionFor(emu);
    const p = await placement(session, [...emu.ec2.subnets.keys()].slice(0, 1));
    const cases: [string, BatchPlacement, RegExp][] = [
      // A service role of its own: Batch cannot use it yet.
      ["own-role", p, /is not authorized to perform: ecs:DescribeClusters/],
      // The service-linked role: the new instance profile is what Batch cannot use yet.
      ["linked-role", { ...p, batchServiceRole: undefined }, /Invalid IamInstanceProfile/],
    ];
    for (const [name, placement, reason] of cases) {
      // Roles and profile changed just now (policies put again).
      await session.iam.putRolePolicy({
        RoleName: "t-batch-service-role",
        PolicyName: "p",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "ecs:*", Resource: "*" }],
        }),
      });
      await session.iam.removeRoleFromInstanceProfile({
        InstanceProfileName: "t-ecs-instance-role",
        RoleName: "t-ecs-instance-role",
      });
      await session.iam.addRoleToInstanceProfile({
        InstanceProfileName: "t-ecs-instance-role",
        RoleName: "t-ecs-instance-role",
      });
      emu.requests.clear();
      const warnings: string[] = [];
      const ce = await ensureComputeEnvironment(session, {
        name,
        compute: validateComputeOptions(),
        placement,
        tags: {},
      }, {
        ...FAST,
        pollMs: 50,
        onWait: (m) => {
          warnings.push(m);
          propagateIam(emu);
        },
      });
      const [detail] = (await session.batch.describeComputeEnvironments({
        computeEnvironments: [ce],
      })).computeEnvironments!;
      assert.equal(detail!.status, "VALID");
      assert.ok(warnings.length >= 1, name);
      assert.match(warnings[0]!, reason);
      assert.match(
        warnings[0]!,
        /IAM changes take a while to reach Batch, so it is validated again/,
      );
      // Validated again in place, never deleted.
      assert.equal(emu.count("batch", "UpdateComputeEnvironment"), warnings.length);
      assert.equal(emu.count("batch", "DeleteComputeEnvironment"), 0);
      assert.equal(emu.count("batch", "CreateComputeEnvironment"), 1);
    }
  } finally {
    await emu.close();
  }
});

Deno.test("roles Batch still cannot use after the wait are an error that says what to check", async () => {
  const emu = await startEmulator({ ceValidDelayMs: 10, iamPropagationMs: 60_000 });
  try {
    const session = await sessionFor(emu);
    const p = await placement(session, [...emu.ec2.subnets.keys()].slice(0, 1));
    await assert.rejects(
      () =>
        ensureComputeEnvironment(session, {
          name: "slow-ce",
          compute: validateComputeOptions(),
          placement: p,
          tags: {},
          // A wait long enough for a loaded machine to make and validate the environment again
          // (20, 40, 80 … ms apart) before it gives up.
        }, { pollMs: 20, timeoutMs: 2000, onWait: () => {} }),
      (e) =>
        e instanceof BatchResourceError && /is not authorized to perform/.test(e.message) &&
        /IAM still does not let AWS Batch use the roles .* check their trust and policies/.test(
          e.message,
        ),
    );
    assert.ok(emu.count("batch", "UpdateComputeEnvironment") >= 1);
  } finally {
    await emu.close();
  }
});

Deno.test("compute environments use Batch's service-linked role unless a role is named, and the AL2023 ECS images", async () => {
  const emu = await startEmulator({ ceValidDelayMs: 10, iamPropagationMs: 0 });
  try {
    const session = await sessionFor(emu);
    const p = await placement(session, [...emu.ec2.subnets.keys()].slice(0, 1));
    const linked = { ...p, batchServiceRole: undefined };
    await ensureComputeEnvironment(session, {
      name: "cpu-ce",
      compute: validateComputeOptions(),
      placement: linked,
      tags: {},
    }, FAST);
    await ensureComputeEnvironment(session, {
      name: "gpu-ce",
      compute: validateComputeOptions({ gpus: 1, instanceTypes: ["g4dn"] }),
      placement: p,
      tags: {},
    }, FAST);
    const creates = emu.requests.filter({ service: "batch", operation: "CreateComputeEnvironment" })
      .map((r) => r.params as { serviceRole?: string; computeResources: Record<string, unknown> });
    assert.equal(creates[0]!.serviceRole, undefined);
    assert.deepEqual(creates[0]!.computeResources.ec2Configuration, [{ imageType: "ECS_AL2023" }]);
    assert.equal(creates[1]!.serviceRole, p.batchServiceRole);
    assert.deepEqual(creates[1]!.computeResources.ec2Configuration, [{
      imageType: "ECS_AL2023_NVIDIA",
    }]);
    const { computeEnvironments } = await session.batch.describeComputeEnvironments({
      computeEnvironments: ["cpu-ce"],
    });
    assert.equal(
      computeEnvironments![0]!.serviceRole,
      "arn:aws:iam::123456789012:role/aws-service-role/batch.amazonaws.com/AWSServiceRoleForBatch",
    );
  } finally {
    await emu.close();
  }
});

Deno.test("a compute environment of the knot's name that another config file made is refused and left alone; one made before owner tags is adopted", async () => {
  await withPlacement(async (emu, session, p) => {
    const knot = { ManagedBy: "cloudknot", "cloudknot:knot": "k" };
    const ensure = (name: string, tags: Record<string, string>) =>
      ensureComputeEnvironment(session, {
        name,
        compute: validateComputeOptions({ compute: "FARGATE" }),
        placement: p,
        tags,
      }, FAST);
    const theirs = await ensure("k-ck-ce", { ...knot, "cloudknot:owner": "a" });
    const old = await ensure("old-ck-ce", knot);
    emu.requests.clear();
    // Made by another config file's create of the same knot name, running at the same time.
    await assert.rejects(
      ensure("k-ck-ce", { ...knot, "cloudknot:owner": "b" }),
      (e) =>
        e instanceof BatchResourceError &&
        /k-ck-ce exists and was not made for this knot \(its tag cloudknot:owner is "a", not "b"\)/
          .test(e.message),
    );
    assert.equal(await ensure("k-ck-ce", { ...knot, "cloudknot:owner": "a" }), theirs);
    assert.equal(await ensure("old-ck-ce", { ...knot, "cloudknot:owner": "b" }), old);
    assert.deepEqual(emu.mutatingRequests(), []);
  });
});

/**
 * A Fargate knot's environment with one job running on it, as a process
 * (`sleep`) that a stop reaches only once `release` has been called, however
 * long after Batch stopped it (`slowToStop`).
 */
async function withFargateJob(
  fn: (
    emu: Emulator,
    session: AwsSession,
    made: { ce: string; queue: string; jobId: string; release: () => void },
  ) => Promise<void>,
): Promise<void> {
  const released = Promise.withResolvers<void>();
  const emu = await startEmulator({
    realism: false,
    ceValidDelayMs: 10,
    runner: slowToStop(released.promise)(
      new ProcessRunner({ entrypoint: () => ["/bin/sh", "-c"] }),
    ),
  });
  try {
    const session = await sessionFor(emu);
    const p = await placement(session, [...emu.ec2.subnets.keys()].slice(0, 2));
    const compute = validateComputeOptions({ compute: "FARGATE", vcpus: 1, memory: 2048 });
    const ce = await ensureComputeEnvironment(session, {
      name: "f-ce",
      compute,
      placement: p,
      tags: {},
    }, FAST);
    const queue = await ensureJobQueue(session, {
      name: "f-jq",
      priority: 1,
      computeEnvironment: ce,
      tags: {},
    }, FAST);
    const def = await registerJobDefinition(session, {
      name: "f-jd",
      image: "x:y",
      compute,
      placement: p,
      tags: {},
    });
    const { jobId } = await session.batch.submitJob({
      jobName: "sleeper",
      jobQueue: queue,
      jobDefinition: def.arn,
      // exec: the process the runner stops is the one that holds its output open.
      containerOverrides: { command: ["exec sleep 600"] },
    });
    await emu.batch.waitForJob(jobId, ["RUNNING"]);
    await fn(emu, session, { ce, queue, jobId, release: () => released.resolve() });
  } finally {
    released.resolve();
    await emu.close();
  }
}

Deno.test("a Fargate compute environment is deleted only once the jobs its queue held have ended: AWS Batch leaves one deleted under running jobs INVALID", async () => {
  await withFargateJob(async (emu, session, { ce, queue, jobId, release }) => {
    const warnings: string[] = [];
    const deleting = deleteBatchEnvironment(session, { jobQueue: queue, computeEnvironment: ce }, {
      ...FAST,
      timeoutMs: 120_000,
      onWait: (message) => warnings.push(message),
    });
    // Awaited below; a failed check before that must not leave its rejection unhandled.
    deleting.catch(() => {});
    const deadline = Date.now() + 60_000;
    while (warnings.length === 0) {
      assert.equal(
        emu.count("batch", "DeleteComputeEnvironment"),
        0,
        "the environment was deleted while its job ran",
      );
      if (Date.now() > deadline) throw new Error("the delete never said it waits for the job");
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(warnings, [
      `cloudknot: 1 job(s) still run on Fargate compute environment ${ce}, which AWS Batch ` +
      `cannot delete until they end; waiting for them (at most 2 minutes)`,
    ]);
    // The queue is gone, and Batch has stopped the job, which is still stopping.
    assert.equal(emu.count("batch", "DeleteJobQueue"), 1);
    assert.equal(emu.batch.jobs.get(jobId)?.status, "RUNNING");
    assert.equal(emu.count("batch", "DeleteComputeEnvironment"), 0);
    release();
    await deleting;
    assert.equal(emu.batch.jobs.get(jobId)?.status, "FAILED");
    assert.equal(emu.count("batch", "DeleteComputeEnvironment"), 1);
    assert.deepEqual(
      (await session.batch.describeComputeEnvironments({ computeEnvironments: [ce] }))
        .computeEnvironments,
      [],
    );
  });
});

Deno.test("a Fargate compute environment left INVALID by a delete under running jobs is an error that says why and what to do while they run, and is deleted once they have ended", async () => {
  await withFargateJob(async (emu, session, { ce, queue, release }) => {
    // Deleted by hand while the job runs: its queue, then the environment, which Batch leaves
    // INVALID.
    await deleteBatchEnvironment(session, { jobQueue: queue }, FAST);
    await session.batch.updateComputeEnvironment({ computeEnvironment: ce, state: "DISABLED" });
    const look = async () =>
      (await session.batch.describeComputeEnvironments({ computeEnvironments: [ce] }))
        .computeEnvironments?.[0];
    while ((await look())?.status !== "VALID") await new Promise((r) => setTimeout(r, 20));
    await session.batch.deleteComputeEnvironment({ computeEnvironment: ce });
    assert.equal((await look())?.status, "INVALID");
    await assert.rejects(
      () =>
        deleteBatchEnvironment(session, { computeEnvironment: ce }, { ...FAST, timeoutMs: 500 }),
      (e) =>
        e instanceof BatchResourceError &&
        e.message ===
          `The compute environment ${ce} is still INVALID after its delete: ${
              (emu.batch.computeEnvironments.get("f-ce")!).statusReason
            }. AWS Batch leaves a compute environment INVALID when it cannot use it (its service ` +
            `role was deleted: make the role again) or when jobs still ran on it, on Fargate ` +
            `(wait until they have ended): fix what the reason names, then try again`,
    );
    // Asked again while it waited, a while apart: Batch left it INVALID each time.
    const deletes = emu.count("batch", "DeleteComputeEnvironment");
    assert.ok(deletes >= 3, `${deletes} deletes`);
    assert.ok(deletes < 10, `${deletes} deletes`);
    // A delete that waits while the job runs deletes it once the job has ended: Batch leaves its
    // first ask INVALID, and it asks again.
    const asked = emu.count("batch", "DeleteComputeEnvironment");
    const again = deleteBatchEnvironment(session, { computeEnvironment: ce }, FAST);
    again.catch(() => {});
    while (emu.count("batch", "DeleteComputeEnvironment") === asked) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal((await look())?.status, "INVALID");
    release();
    await again;
    assert.equal(await look(), undefined);
  });
});
