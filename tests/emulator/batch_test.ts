import assert from "node:assert/strict";
import {
  abortableSleep,
  type Emulator,
  InlineRunner,
  type JobRunRequest,
  startEmulator,
} from "./mod.ts";
import * as sdk from "./sdk_deps.ts";
import { rejects, sdkConfig, setupBatch, waitFor } from "./test_helpers.ts";

const { batch: B } = sdk;

/** Gates a job's `wait <name>` command waits on, until the test opens them with `open(name)`. */
const gates = new Map<string, PromiseWithResolvers<void>>();
const gate = (name: string) =>
  gates.get(name) ?? gates.set(name, Promise.withResolvers()).get(name)!;
const open = (name: string) => gate(name).resolve();

/** An in-process runner driven by the job's command: echo, exit, sleep, wait, env. */
function commandRunner(seen: JobRunRequest[] = []): InlineRunner {
  return new InlineRunner(async (req) => {
    seen.push(req);
    let code = 0;
    for (let i = 0; i < req.command.length; i++) {
      const c = req.command[i];
      const arg = req.command[i + 1];
      if (c === "echo") {
        req.log(arg ?? "");
        i++;
      } else if (c === "exit") {
        code = Number(arg);
        i++;
      } else if (c === "exit-unless-attempt") {
        code = req.environment.AWS_BATCH_JOB_ATTEMPT === arg ? 0 : 1;
        i++;
      } else if (c === "fail-index") {
        if (req.environment.AWS_BATCH_JOB_ARRAY_INDEX === arg) code = 3;
        i++;
      } else if (c === "wait") {
        const stopped = new Promise<"stopped">((stop) => {
          if (req.signal.aborted) stop("stopped");
          req.signal.addEventListener("abort", () => stop("stopped"), { once: true });
        });
        if (await Promise.race([gate(arg!).promise, stopped]) === "stopped") {
          return { exitCode: 137 };
        }
        i++;
      } else if (c === "sleep") {
        try {
          await abortableSleep(Number(arg), req.signal);
        } catch {
          return { exitCode: 137 };
        }
        i++;
      }
    }
    return { exitCode: code };
  });
}

async function withBatch(
  fn: (
    emu: Emulator,
    client: InstanceType<typeof B.BatchClient>,
    seen: JobRunRequest[],
  ) => Promise<void>,
  options: { minTimeoutSeconds?: number; timeLimitSecondMs?: number; batchTps?: number } = {},
): Promise<void> {
  const seen: JobRunRequest[] = [];
  const emu = await startEmulator({
    runner: commandRunner(seen),
    ceValidDelayMs: 30,
    tickMs: 10,
    ...options,
  });
  const client = new B.BatchClient(sdkConfig(emu));
  try {
    await fn(emu, client, seen);
  } finally {
    client.destroy();
    await emu.close();
  }
}

async function describe(client: InstanceType<typeof B.BatchClient>, id: string) {
  const d = await client.send(new B.DescribeJobsCommand({ jobs: [id] }));
  return d.jobs![0]!;
}

async function waitStatus(
  client: InstanceType<typeof B.BatchClient>,
  id: string,
  statuses: string[],
) {
  let job: Awaited<ReturnType<typeof describe>> | undefined;
  await waitFor(async () => {
    job = await describe(client, id);
    return statuses.includes(job.status!);
  });
  return job!;
}

Deno.test("batch: compute environment status, Fargate/EC2 rules and deletion order", async () => {
  await withBatch(async (emu, client) => {
    const s = await setupBatch(emu);
    let release = emu.batch.hold();
    const created = await client.send(
      new B.CreateComputeEnvironmentCommand({
        computeEnvironmentName: "fg",
        type: "MANAGED",
        computeResources: {
          type: "FARGATE",
          maxvCpus: 4,
          subnets: [...emu.ec2.subnets.keys()].slice(0, 1),
        },
      }),
    );
    assert.equal(
      created.computeEnvironmentArn,
      `arn:aws:batch:us-east-1:123456789012:compute-environment/fg`,
    );
    let d = await client.send(
      new B.DescribeComputeEnvironmentsCommand({ computeEnvironments: ["fg"] }),
    );
    assert.equal(d.computeEnvironments![0]!.status, "CREATING");
    assert.equal(d.computeEnvironments![0]!.state, "ENABLED");
    release();
    await waitFor(async () => {
      d = await client.send(
        new B.DescribeComputeEnvironmentsCommand({ computeEnvironments: ["fg"] }),
      );
      return d.computeEnvironments![0]!.status === "VALID";
    });

    // Fargate forbids EC2-only members; EC2 requires an instance role.
    let e = await rejects(client.send(
      new B.CreateComputeEnvironmentCommand({
        computeEnvironmentName: "fg2",
        type: "MANAGED",
        computeResources: {
          type: "FARGATE",
          maxvCpus: 4,
          subnets: ["subnet-1"],
          instanceRole: "x",
        },
      }),
    ));
    assert.equal(e.name, "ClientException");
    assert.match(e.message, /instanceRole/);
    e = await rejects(client.send(
      new B.CreateComputeEnvironmentCommand({
        computeEnvironmentName: "ec2b",
        type: "MANAGED",
        computeResources: {
          type: "EC2",
          maxvCpus: 4,
          subnets: ["subnet-1"],
          instanceTypes: ["optimal"],
        },
      }),
    ));
    assert.equal(e.name, "ClientException");
    assert.match(e.message, /instanceRole is required/);

    // A CE pointing at a subnet that does not exist becomes INVALID.
    await client.send(
      new B.CreateComputeEnvironmentCommand({
        computeEnvironmentName: "bad-subnet",
        type: "MANAGED",
        computeResources: {
          type: "EC2",
          maxvCpus: 4,
          subnets: ["subnet-00000000000000000"],
          instanceTypes: ["optimal"],
          instanceRole: "t-ecs-instance",
        },
      }),
    );
    await waitFor(async () => {
      d = await client.send(
        new B.DescribeComputeEnvironmentsCommand({ computeEnvironments: ["bad-subnet"] }),
      );
      return d.computeEnvironments![0]!.status === "INVALID";
    });
    assert.match(d.computeEnvironments![0]!.statusReason!, /subnet-00000000000000000/);

    // A queue cannot mix EC2 and Fargate.
    e = await rejects(client.send(
      new B.CreateJobQueueCommand({
        jobQueueName: "mixed",
        priority: 1,
        computeEnvironmentOrder: [{ order: 1, computeEnvironment: s.ce }, {
          order: 2,
          computeEnvironment: "fg",
        }],
      }),
    ));
    assert.equal(e.name, "ClientException");

    // Deletion order: CE must be DISABLED and detached; queue must be DISABLED.
    e = await rejects(
      client.send(new B.DeleteComputeEnvironmentCommand({ computeEnvironment: s.ce })),
    );
    assert.match(e.message, /DISABLED/);
    release = emu.batch.hold();
    await client.send(
      new B.UpdateComputeEnvironmentCommand({ computeEnvironment: s.ce, state: "DISABLED" }),
    );
    d = await client.send(
      new B.DescribeComputeEnvironmentsCommand({ computeEnvironments: [s.ce] }),
    );
    assert.equal(d.computeEnvironments![0]!.status, "UPDATING");
    release();
    await waitFor(async () => {
      d = await client.send(
        new B.DescribeComputeEnvironmentsCommand({ computeEnvironments: [s.ce] }),
      );
      return d.computeEnvironments![0]!.status === "VALID";
    });
    e = await rejects(
      client.send(new B.DeleteComputeEnvironmentCommand({ computeEnvironment: s.ce })),
    );
    assert.equal(e.message, "Cannot delete, found existing JobQueue relationship");
    e = await rejects(client.send(new B.DeleteJobQueueCommand({ jobQueue: s.queue })));
    assert.match(e.message, /DISABLED/);
    await client.send(new B.UpdateJobQueueCommand({ jobQueue: s.queue, state: "DISABLED" }));
    await waitFor(async () => {
      const q = await client.send(new B.DescribeJobQueuesCommand({ jobQueues: [s.queue] }));
      return q.jobQueues![0]!.status === "VALID";
    });
    release = emu.batch.hold();
    await client.send(new B.DeleteJobQueueCommand({ jobQueue: s.queue }));
    const q = await client.send(new B.DescribeJobQueuesCommand({ jobQueues: [s.queue] }));
    assert.equal(q.jobQueues![0]!.status, "DELETING");
    release();
    await waitFor(async () =>
      (await client.send(new B.DescribeJobQueuesCommand({ jobQueues: [s.queue] }))).jobQueues!
        .length === 0
    );
    await client.send(new B.DeleteComputeEnvironmentCommand({ computeEnvironment: s.ce }));
    await waitFor(async () =>
      (await client.send(new B.DescribeComputeEnvironmentsCommand({ computeEnvironments: [s.ce] })))
        .computeEnvironments!.length === 0
    );
  });
});

Deno.test("batch: a managed compute environment without a service role uses Batch's service-linked role, made once", async () => {
  await withBatch(async (emu, client) => {
    const subnets = [...emu.ec2.subnets.keys()].slice(0, 1);
    const slr = "arn:aws:iam::123456789012:role/aws-service-role/batch.amazonaws.com/" +
      "AWSServiceRoleForBatch";
    for (const name of ["a", "b"]) {
      await client.send(
        new B.CreateComputeEnvironmentCommand({
          computeEnvironmentName: name,
          type: "MANAGED",
          computeResources: { type: "FARGATE", maxvCpus: 4, subnets },
        }),
      );
      const d = await client.send(
        new B.DescribeComputeEnvironmentsCommand({ computeEnvironments: [name] }),
      );
      assert.equal(d.computeEnvironments![0]!.serviceRole, slr);
    }
    const iam = new sdk.iam.IAMClient(sdkConfig(emu));
    try {
      const { Role } = await iam.send(
        new sdk.iam.GetRoleCommand({
          RoleName: "AWSServiceRoleForBatch",
        }),
      );
      assert.equal(Role!.Arn, slr);
      assert.match(decodeURIComponent(Role!.AssumeRolePolicyDocument!), /batch\.amazonaws\.com/);
      const attached = await iam.send(
        new sdk.iam.ListAttachedRolePoliciesCommand({
          RoleName: "AWSServiceRoleForBatch",
        }),
      );
      assert.deepEqual(attached.AttachedPolicies!.map((p) => p.PolicyName), [
        "BatchServiceRolePolicy",
      ]);
    } finally {
      iam.destroy();
    }
    assert.equal([...emu.iam.roles.keys()].filter((r) => r.startsWith("AWSService")).length, 1);
    // AWS's own role is not something a client left behind.
    assert.ok(!emu.listResources().some((r) => r.type === "role"));
    // An unmanaged compute environment must name its role.
    const e = await rejects(client.send(
      new B.CreateComputeEnvironmentCommand({ computeEnvironmentName: "u", type: "UNMANAGED" }),
    ));
    assert.equal(e.name, "ClientException");
    assert.match(e.message, /ServiceRole is required/);
  });
});

Deno.test("batch: job definitions have revisions, ARNs and ACTIVE/INACTIVE lookups", async () => {
  await withBatch(async (emu, client) => {
    const s = await setupBatch(emu);
    const r2 = await client.send(
      new B.RegisterJobDefinitionCommand({
        jobDefinitionName: s.jobDefinition,
        type: "container",
        containerProperties: {
          image: "img",
          resourceRequirements: [{ type: "VCPU", value: "1" }, { type: "MEMORY", value: "128" }],
        },
      }),
    );
    assert.equal(r2.revision, 2);
    assert.equal(
      r2.jobDefinitionArn,
      `arn:aws:batch:us-east-1:123456789012:job-definition/${s.jobDefinition}:2`,
    );
    await client.send(
      new B.DeregisterJobDefinitionCommand({ jobDefinition: `${s.jobDefinition}:2` }),
    );
    const d = await client.send(
      new B.DescribeJobDefinitionsCommand({ jobDefinitionName: s.jobDefinition }),
    );
    assert.deepEqual(d.jobDefinitions!.map((x) => [x.revision, x.status]), [[1, "ACTIVE"], [
      2,
      "INACTIVE",
    ]]);
    const byName = await client.send(
      new B.SubmitJobCommand({ jobName: "a", jobQueue: s.queue, jobDefinition: s.jobDefinition }),
    );
    assert.equal((await describe(client, byName.jobId!)).jobDefinition, s.jobDefinitionArn);
    const byArn = await client.send(
      new B.SubmitJobCommand({
        jobName: "b",
        jobQueue: s.queue,
        jobDefinition: s.jobDefinitionArn,
      }),
    );
    assert.equal((await describe(client, byArn.jobId!)).jobDefinition, s.jobDefinitionArn);
    const e = await rejects(
      client.send(
        new B.SubmitJobCommand({
          jobName: "c",
          jobQueue: s.queue,
          jobDefinition: `${s.jobDefinition}:2`,
        }),
      ),
    );
    assert.equal(e.name, "ClientException");
    const e2 = await rejects(client.send(
      new B.RegisterJobDefinitionCommand({
        jobDefinitionName: "fg",
        type: "container",
        platformCapabilities: ["FARGATE"],
        containerProperties: {
          image: "img",
          resourceRequirements: [{ type: "VCPU", value: "1" }, { type: "MEMORY", value: "2048" }],
        },
      }),
    ));
    assert.match(e2.message, /executionRoleArn/);
    await emu.waitForJobs();
  });
});

Deno.test("batch: a job goes SUBMITTED to SUCCEEDED with attempts, exit code, log stream and ms timestamps", async () => {
  await withBatch(async (emu, client, seen) => {
    const s = await setupBatch(emu, { command: ["echo", "Ref::greeting", "wait", "listed"] });
    const logs = new sdk.logs.CloudWatchLogsClient(sdkConfig(emu));
    try {
      const release = emu.batch.hold();
      const sub = await client.send(
        new B.SubmitJobCommand({
          jobName: "hello",
          jobQueue: s.queue,
          jobDefinition: s.jobDefinition,
          parameters: { greeting: "hi there" },
          containerOverrides: { environment: [{ name: "FOO", value: "bar" }] },
          tags: { team: "x" },
        }),
      );
      assert.equal((await describe(client, sub.jobId!)).status, "SUBMITTED");
      release();
      const running = await waitStatus(client, sub.jobId!, ["RUNNING"]);
      // The stream is assigned when the attempt is RUNNING and already readable.
      assert.match(running.container!.logStreamName!, new RegExp(`^${s.jobDefinition}/default/`));
      const early = await logs.send(
        new sdk.logs.GetLogEventsCommand({
          logGroupName: "/aws/batch/job",
          logStreamName: running.container!.logStreamName!,
        }),
      );
      assert.ok(Array.isArray(early.events));
      assert.equal(running.container!.exitCode, undefined);
      const listed = await client.send(new B.ListJobsCommand({ jobQueue: s.queue }));
      assert.deepEqual(listed.jobSummaryList!.map((j) => j.jobId), [sub.jobId]);
      open("listed");
      const done = await waitStatus(client, sub.jobId!, ["SUCCEEDED", "FAILED"]);
      assert.equal(done.status, "SUCCEEDED");
      assert.equal(done.attempts!.length, 1);
      const a = done.attempts![0]!;
      assert.equal(a.container!.exitCode, 0);
      assert.equal(done.container!.exitCode, 0);
      assert.match(
        a.container!.logStreamName!,
        new RegExp(`^${s.jobDefinition}/default/[0-9a-f]{32}$`),
      );
      assert.match(a.container!.taskArn!, /^arn:aws:ecs:us-east-1:123456789012:task\//);
      assert.equal(typeof done.createdAt, "number");
      assert.ok(
        done.createdAt! > 1e12 && done.startedAt! >= done.createdAt! &&
          done.stoppedAt! >= done.startedAt!,
      );
      assert.deepEqual(done.tags, { team: "x" });
      const ev = await logs.send(
        new sdk.logs.GetLogEventsCommand({
          logGroupName: "/aws/batch/job",
          logStreamName: done.container!.logStreamName!,
          startFromHead: true,
        }),
      );
      assert.deepEqual(ev.events!.map((e) => e.message), ["hi there"]);
      const again = await logs.send(
        new sdk.logs.GetLogEventsCommand({
          logGroupName: "/aws/batch/job",
          logStreamName: done.container!.logStreamName!,
          nextToken: ev.nextForwardToken,
        }),
      );
      assert.equal(again.events!.length, 0);
      assert.equal(again.nextForwardToken, ev.nextForwardToken);
      const env = seen[0]!.environment;
      assert.equal(env.FOO, "bar");
      assert.equal(env.AWS_BATCH_JOB_ID, sub.jobId);
      assert.equal(env.AWS_BATCH_JOB_ATTEMPT, "1");
      assert.equal(env.AWS_BATCH_CE_NAME, s.ce);
      assert.equal(env.AWS_BATCH_JQ_NAME, s.queue);
      assert.equal(env.AWS_ENDPOINT_URL, emu.endpoint);
      assert.equal(env.AWS_EC2_METADATA_DISABLED, "true");
      assert.equal(env.AWS_ACCESS_KEY_ID, undefined);
      const e = await rejects(
        logs.send(
          new sdk.logs.GetLogEventsCommand({
            logGroupName: "/aws/batch/job",
            logStreamName: "nope",
          }),
        ),
      );
      assert.equal(e.name, "ResourceNotFoundException");
    } finally {
      logs.destroy();
    }
  });
});

Deno.test("batch: a job whose overrides pass ECS's 8,192 characters fails without starting, with the reason users see", async () => {
  await withBatch(async (emu, client, seen) => {
    const s = await setupBatch(emu, { command: ["exit", "0"] });
    const submit = (value: string) =>
      client.send(
        new B.SubmitJobCommand({
          jobName: "big-env",
          jobQueue: s.queue,
          jobDefinition: s.jobDefinition,
          containerOverrides: { environment: [{ name: "CONFIG", value }] },
        }),
      );
    const long = await submit("x".repeat(8200));
    const failed = await waitStatus(client, long.jobId!, ["SUCCEEDED", "FAILED"]);
    assert.equal(failed.status, "FAILED");
    assert.equal(failed.statusReason, "Container Overrides length must be at most 8192");
    assert.equal(failed.attempts!.at(-1)!.container!.exitCode, undefined);
    assert.equal(seen.length, 0);
    // Within them (with the variables Batch adds), it runs.
    const fits = await submit("x".repeat(7500));
    assert.equal(
      (await waitStatus(client, fits.jobId!, ["SUCCEEDED", "FAILED"])).status,
      "SUCCEEDED",
    );
    assert.equal(seen.length, 1);
  });
});

Deno.test("batch: array jobs keep a status summary and give children their index", async () => {
  await withBatch(async (emu, client, seen) => {
    const s = await setupBatch(emu, { command: ["fail-index", "2"] });
    const release = emu.batch.hold();
    const sub = await client.send(
      new B.SubmitJobCommand({
        jobName: "arr",
        jobQueue: s.queue,
        jobDefinition: s.jobDefinition,
        arrayProperties: { size: 5 },
      }),
    );
    const parent = await describe(client, sub.jobId!);
    assert.equal(parent.arrayProperties!.size, 5);
    assert.equal(parent.arrayProperties!.statusSummary!.SUBMITTED, 5);
    release();
    assert.equal(parent.container!.image, "emulator/inline:latest");
    assert.equal(parent.container!.exitCode, undefined);
    const done = await waitStatus(client, sub.jobId!, ["SUCCEEDED", "FAILED"]);
    assert.equal(done.status, "FAILED");
    assert.equal(done.arrayProperties!.statusSummary!.SUCCEEDED, 4);
    assert.equal(done.arrayProperties!.statusSummary!.FAILED, 1);
    assert.equal(typeof done.arrayProperties!.statusSummaryLastUpdatedAt, "number");
    const child = await describe(client, `${sub.jobId}:2`);
    assert.equal(child.status, "FAILED");
    assert.equal(child.arrayProperties!.index, 2);
    assert.equal(child.container!.exitCode, 3);
    const ok = await client.send(
      new B.ListJobsCommand({ arrayJobId: sub.jobId, jobStatus: "SUCCEEDED" }),
    );
    assert.deepEqual(ok.jobSummaryList!.map((j) => j.arrayProperties!.index).sort(), [0, 1, 3, 4]);
    assert.deepEqual(seen.map((r) => r.environment.AWS_BATCH_JOB_ARRAY_INDEX).sort(), [
      "0",
      "1",
      "2",
      "3",
      "4",
    ]);
    assert.ok(seen.every((r) => r.environment.AWS_BATCH_JOB_ARRAY_SIZE === "5"));
    assert.ok(seen.every((r) => r.environment.AWS_BATCH_JOB_ID === `${sub.jobId}:${r.arrayIndex}`));
    for (const size of [1, 10001]) {
      const e = await rejects(client.send(
        new B.SubmitJobCommand({
          jobName: "bad",
          jobQueue: s.queue,
          jobDefinition: s.jobDefinition,
          arrayProperties: { size },
        }),
      ));
      assert.equal(e.name, "ClientException");
    }
  });
});

Deno.test("batch: retries follow evaluateOnExit, spot reclaim and injected exit codes", async () => {
  await withBatch(async (emu, client) => {
    const s = await setupBatch(emu);
    emu.batch.injectSpotReclaim({ jobName: "spot", attempt: 1 });
    emu.batch.injectExit({ jobName: "spot", attempt: 2, exitCode: 1 });
    const spot = await client.send(
      new B.SubmitJobCommand({
        jobName: "spot",
        jobQueue: s.queue,
        jobDefinition: s.jobDefinition,
        retryStrategy: {
          attempts: 3,
          evaluateOnExit: [{ onStatusReason: "Host EC2*", action: "RETRY" }, {
            onExitCode: "*",
            action: "EXIT",
          }],
        },
      }),
    );
    const d = await waitStatus(client, spot.jobId!, ["SUCCEEDED", "FAILED"]);
    assert.equal(d.status, "FAILED");
    assert.equal(d.attempts!.length, 2);
    assert.equal(
      d.attempts![0]!.statusReason,
      "Host EC2 (instance i-0123456789abcdef0) terminated.",
    );
    assert.equal(d.attempts![0]!.container!.exitCode, undefined);
    assert.equal(d.attempts![1]!.container!.exitCode, 1);

    emu.batch.injectExit({ jobName: "flaky", attempt: 1, exitCode: 2, reason: "crashed" });
    const flaky = await client.send(
      new B.SubmitJobCommand({
        jobName: "flaky",
        jobQueue: s.queue,
        jobDefinition: s.jobDefinition,
        retryStrategy: { attempts: 2 },
      }),
    );
    const f = await waitStatus(client, flaky.jobId!, ["SUCCEEDED", "FAILED"]);
    assert.equal(f.status, "SUCCEEDED");
    assert.deepEqual(f.attempts!.map((a) => a.container!.exitCode), [2, 0]);
    assert.equal(f.attempts![0]!.container!.reason, "crashed");

    const e = await rejects(client.send(
      new B.SubmitJobCommand({
        jobName: "x",
        jobQueue: s.queue,
        jobDefinition: s.jobDefinition,
        retryStrategy: { attempts: 11 },
      }),
    ));
    assert.equal(e.name, "ClientException");
  });
});

Deno.test("batch: evaluateOnExit patterns hold only the characters AWS allows, with only a trailing *, and need attempts", async () => {
  await withBatch(async (emu, client) => {
    const s = await setupBatch(emu);
    const submit = (jobName: string, retryStrategy: Record<string, unknown>) =>
      client.send(
        new B.SubmitJobCommand({
          jobName,
          jobQueue: s.queue,
          jobDefinition: s.jobDefinition,
          retryStrategy,
        }),
      );
    // AWS Batch API reference, RetryStrategy: "If this parameter [evaluateOnExit] is specified,
    // then the attempts parameter must also be specified."
    const noAttempts = await rejects(
      submit("x", { evaluateOnExit: [{ onExitCode: "1", action: "EXIT" }] }),
    );
    assert.equal(noAttempts.name, "ClientException");
    const register = (retryStrategy: Record<string, unknown>) =>
      client.send(
        new B.RegisterJobDefinitionCommand({
          jobDefinitionName: "no-attempts",
          type: "container",
          containerProperties: {
            image: "busybox",
            resourceRequirements: [{ type: "VCPU", value: "1" }, { type: "MEMORY", value: "512" }],
          },
          retryStrategy,
        }),
      );
    await register({ attempts: 2, evaluateOnExit: [{ onExitCode: "1", action: "EXIT" }] });
    const noAttemptsDef = await rejects(
      register({ evaluateOnExit: [{ onExitCode: "1", action: "EXIT" }] }),
    );
    assert.equal(noAttemptsDef.name, "ClientException");
    // AWS Batch API reference, EvaluateOnExit: onReason and onStatusReason hold letters, numbers,
    // periods, colons and white space, optionally ending with an asterisk; onExitCode only numbers.
    for (
      const rule of [
        { onStatusReason: "Host EC2 (instance*", action: "RETRY" },
        { onStatusReason: "Host*EC2", action: "RETRY" },
        { onReason: "crash-ed", action: "EXIT" },
        { onReason: "cra?hed", action: "EXIT" },
        { onExitCode: "1?", action: "EXIT" },
        { onExitCode: "*1", action: "EXIT" },
      ]
    ) {
      const e = await rejects(submit("x", { attempts: 2, evaluateOnExit: [rule] }));
      assert.equal(e.name, "ClientException", JSON.stringify(rule));
    }
    // A trailing * matches the start; otherwise the match is exact (and case sensitive).
    emu.batch.injectExit({ jobName: "prefix", attempt: 1, exitCode: 2, reason: "crashed: oom" });
    const prefix = await submit("prefix", {
      attempts: 3,
      evaluateOnExit: [{ onReason: "crashed*", action: "EXIT" }],
    });
    const p = await waitStatus(client, prefix.jobId!, ["SUCCEEDED", "FAILED"]);
    assert.equal(p.status, "FAILED");
    assert.equal(p.attempts!.length, 1);
    emu.batch.injectExit({ jobName: "exact", attempt: 1, exitCode: 2, reason: "crashed: oom" });
    const exact = await submit("exact", {
      attempts: 3,
      evaluateOnExit: [{ onReason: "Crashed: oom", action: "EXIT" }, {
        onReason: "crashed",
        action: "EXIT",
      }],
    });
    const x = await waitStatus(client, exact.jobId!, ["SUCCEEDED", "FAILED"]);
    assert.equal(x.status, "SUCCEEDED");
    assert.equal(x.attempts!.length, 2);
  });
});

Deno.test("batch: dependencies hold jobs PENDING and fail them when a dependency fails", async () => {
  await withBatch(async (emu, client) => {
    const s = await setupBatch(emu);
    const a = await client.send(
      new B.SubmitJobCommand({
        jobName: "a",
        jobQueue: s.queue,
        jobDefinition: s.jobDefinition,
        containerOverrides: { command: ["sleep", "300", "exit", "1"] },
      }),
    );
    const b = await client.send(
      new B.SubmitJobCommand({
        jobName: "b",
        jobQueue: s.queue,
        jobDefinition: s.jobDefinition,
        dependsOn: [{ jobId: a.jobId }],
      }),
    );
    assert.equal((await waitStatus(client, b.jobId!, ["PENDING"])).status, "PENDING");
    const bd = await waitStatus(client, b.jobId!, ["SUCCEEDED", "FAILED"]);
    assert.equal(bd.status, "FAILED");
    assert.equal(bd.statusReason, "Dependent Job failed");
    assert.equal(bd.attempts!.length, 0);

    const seq = await client.send(
      new B.SubmitJobCommand({
        jobName: "seq",
        jobQueue: s.queue,
        jobDefinition: s.jobDefinition,
        arrayProperties: { size: 3 },
        dependsOn: [{ type: "SEQUENTIAL" }],
      }),
    );
    const n2n = await client.send(
      new B.SubmitJobCommand({
        jobName: "n2n",
        jobQueue: s.queue,
        jobDefinition: s.jobDefinition,
        arrayProperties: { size: 3 },
        dependsOn: [{ jobId: seq.jobId, type: "N_TO_N" }],
      }),
    );
    await emu.waitForJobs();
    const kids = (await client.send(
      new B.DescribeJobsCommand({
        jobs: [0, 1, 2].map((i) => `${seq.jobId}:${i}`).concat(
          [0, 1, 2].map((i) => `${n2n.jobId}:${i}`),
        ),
      }),
    )).jobs!;
    const byId = new Map(kids.map((k) => [k.jobId, k]));
    for (const i of [1, 2]) {
      assert.ok(
        byId.get(`${seq.jobId}:${i}`)!.startedAt! >= byId.get(`${seq.jobId}:${i - 1}`)!.stoppedAt!,
      );
    }
    for (const i of [0, 1, 2]) {
      assert.ok(
        byId.get(`${n2n.jobId}:${i}`)!.startedAt! >= byId.get(`${seq.jobId}:${i}`)!.stoppedAt!,
      );
    }
    assert.equal((await describe(client, n2n.jobId!)).status, "SUCCEEDED");
  });
});

Deno.test("batch: TerminateJob stops running jobs, CancelJob only cancels jobs not yet started", async () => {
  await withBatch(async (emu, client) => {
    const s = await setupBatch(emu, { maxvCpus: 1 });
    const long = await client.send(
      new B.SubmitJobCommand({
        jobName: "long",
        jobQueue: s.queue,
        jobDefinition: s.jobDefinition,
        containerOverrides: { command: ["sleep", "60000"] },
      }),
    );
    await waitStatus(client, long.jobId!, ["RUNNING"]);
    const waiting = await client.send(
      new B.SubmitJobCommand({
        jobName: "waiting",
        jobQueue: s.queue,
        jobDefinition: s.jobDefinition,
      }),
    );
    await waitStatus(client, waiting.jobId!, ["RUNNABLE"]);
    await client.send(new B.CancelJobCommand({ jobId: long.jobId!, reason: "no" }));
    assert.equal((await describe(client, long.jobId!)).status, "RUNNING");
    await client.send(new B.CancelJobCommand({ jobId: waiting.jobId!, reason: "not needed" }));
    const w = await describe(client, waiting.jobId!);
    assert.equal(w.status, "FAILED");
    assert.equal(w.statusReason, "not needed");
    await client.send(new B.TerminateJobCommand({ jobId: long.jobId!, reason: "stop it" }));
    const l = await waitStatus(client, long.jobId!, ["FAILED", "SUCCEEDED"]);
    assert.equal(l.status, "FAILED");
    assert.equal(l.statusReason, "stop it");
    assert.equal(l.attempts!.length, 1);

    // A job asking for more vCPUs than the CE has stays RUNNABLE.
    const big = await client.send(
      new B.SubmitJobCommand({
        jobName: "big",
        jobQueue: s.queue,
        jobDefinition: s.jobDefinition,
        containerOverrides: { resourceRequirements: [{ type: "VCPU", value: "4" }] },
      }),
    );
    await waitStatus(client, big.jobId!, ["RUNNABLE"]);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await describe(client, big.jobId!)).status, "RUNNABLE");
    await client.send(new B.TerminateJobCommand({ jobId: big.jobId!, reason: "too big" }));
    await emu.waitForJobs();
  });
});

Deno.test("batch: holdTimeouts holds back a timeout that came due until the test releases it; a job that ended meanwhile stays ended", async () => {
  await withBatch(async (emu, client) => {
    const s = await setupBatch(emu);
    const release = Promise.withResolvers<void>();
    emu.batch.holdTimeouts(release.promise);
    const submit = (name: string) =>
      client.send(
        new B.SubmitJobCommand({
          jobName: name,
          jobQueue: s.queue,
          jobDefinition: s.jobDefinition,
          timeout: { attemptDurationSeconds: 1 },
          containerOverrides: { command: ["wait", name] },
        }),
      );
    const slow = await submit("held-slow");
    const quick = await submit("held-quick");
    await waitStatus(client, slow.jobId!, ["RUNNING"]);
    await waitStatus(client, quick.jobId!, ["RUNNING"]);
    // Both timeouts are due (1 s after RUNNING, which was seen before this wait began).
    await new Promise((r) => setTimeout(r, 1500));
    open("held-quick");
    assert.equal(
      (await waitStatus(client, quick.jobId!, ["SUCCEEDED", "FAILED"])).status,
      "SUCCEEDED",
    );
    assert.equal((await describe(client, slow.jobId!)).status, "RUNNING");
    release.resolve();
    const d = await waitStatus(client, slow.jobId!, ["SUCCEEDED", "FAILED"]);
    assert.equal(d.status, "FAILED");
    assert.equal(d.statusReason, "Job attempt duration exceeded timeout");
    assert.equal((await describe(client, quick.jobId!)).status, "SUCCEEDED");
  }, { minTimeoutSeconds: 1 });
});

Deno.test("batch: attempt timeouts fail the job without retry", async () => {
  await withBatch(async (emu, client) => {
    const s = await setupBatch(emu);
    const e = await rejects(client.send(
      new B.SubmitJobCommand({
        jobName: "t0",
        jobQueue: s.queue,
        jobDefinition: s.jobDefinition,
        timeout: { attemptDurationSeconds: 0 },
      }),
    ));
    assert.equal(e.name, "ClientException");
    const t = await client.send(
      new B.SubmitJobCommand({
        jobName: "slow",
        jobQueue: s.queue,
        jobDefinition: s.jobDefinition,
        timeout: { attemptDurationSeconds: 1 },
        retryStrategy: { attempts: 3 },
        containerOverrides: { command: ["sleep", "60000"] },
      }),
    );
    const d = await waitStatus(client, t.jobId!, ["SUCCEEDED", "FAILED"]);
    assert.equal(d.status, "FAILED");
    assert.equal(d.statusReason, "Job attempt duration exceeded timeout");
    assert.equal(d.attempts!.length, 1);
  }, { minTimeoutSeconds: 1 });
});

Deno.test("batch: ListJobs needs exactly one scope, defaults to RUNNING, filters return all statuses, paginates", async () => {
  await withBatch(async (emu, client) => {
    const s = await setupBatch(emu);
    const ids: string[] = [];
    for (const n of ["n1", "n2", "n3"]) {
      ids.push(
        (await client.send(
          new B.SubmitJobCommand({ jobName: n, jobQueue: s.queue, jobDefinition: s.jobDefinition }),
        )).jobId!,
      );
    }
    await emu.waitForJobs();
    const running = await client.send(new B.ListJobsCommand({ jobQueue: s.queue }));
    assert.equal(running.jobSummaryList!.length, 0);
    const succeeded = await client.send(
      new B.ListJobsCommand({ jobQueue: s.queue, jobStatus: "SUCCEEDED" }),
    );
    assert.equal(succeeded.jobSummaryList!.length, 3);
    const page1 = await client.send(
      new B.ListJobsCommand({
        jobQueue: s.queue,
        filters: [{ name: "JOB_NAME", values: ["n*"] }],
        jobStatus: "RUNNING",
        maxResults: 2,
      }),
    );
    assert.equal(page1.jobSummaryList!.length, 2);
    assert.ok(page1.nextToken);
    const page2 = await client.send(
      new B.ListJobsCommand({
        jobQueue: s.queue,
        filters: [{ name: "JOB_NAME", values: ["n*"] }],
        maxResults: 2,
        nextToken: page1.nextToken,
      }),
    );
    assert.deepEqual(
      [...page1.jobSummaryList!, ...page2.jobSummaryList!].map((j) => j.jobId),
      [...ids].reverse(),
    );
    assert.equal(page2.nextToken, undefined);
    let e = await rejects(
      client.send(new B.ListJobsCommand({ jobQueue: s.queue, arrayJobId: ids[0] })),
    );
    assert.equal(e.name, "ClientException");
    e = await rejects(client.send(new B.ListJobsCommand({})));
    assert.equal(e.name, "ClientException");
    e = await rejects(
      client.send(
        new B.DescribeJobsCommand({ jobs: Array.from({ length: 101 }, (_, i) => `id-${i}`) }),
      ),
    );
    assert.equal(e.name, "ClientException");
  });
});

Deno.test("batch: ListJobs filters as AWS documents them: one at a time, JOB_NAME case-insensitive with only a trailing *, newest first, not on array children, 100 a page", async () => {
  // AWS Batch API reference, ListJobs, filters and maxResults.
  await withBatch(async (emu, client) => {
    const s = await setupBatch(emu);
    const submit = async (jobName: string, extra: Record<string, unknown> = {}) =>
      (await client.send(
        new B.SubmitJobCommand({
          jobName,
          jobQueue: s.queue,
          jobDefinition: s.jobDefinition,
          ...extra,
        }),
      )).jobId!;
    const a1 = await submit("Alpha-1");
    const a2 = await submit("alpha-2");
    await submit("beta");
    const arr = await submit("alpha-arr", { arrayProperties: { size: 2 } });
    await emu.waitForJobs();
    const names = async (filter: { name: string; values: string[] }) =>
      (await client.send(new B.ListJobsCommand({ jobQueue: s.queue, filters: [filter] })))
        .jobSummaryList!.map((j) => j.jobName);
    // "test1 matches both Test1 and test1, and test1* matches both test1 and Test10."
    assert.deepEqual(await names({ name: "JOB_NAME", values: ["ALPHA-1"] }), ["Alpha-1"]);
    const prefixed = await client.send(
      new B.ListJobsCommand({
        jobQueue: s.queue,
        filters: [{ name: "JOB_NAME", values: ["ALPHA-*"] }],
      }),
    );
    // Most recent first; array children are not listed by a queue's filter.
    assert.deepEqual(prefixed.jobSummaryList!.map((j) => j.jobId), [arr, a2, a1]);
    // Only a trailing asterisk is a wildcard; `?` and an inner `*` are plain characters.
    assert.deepEqual(await names({ name: "JOB_NAME", values: ["alpha-?"] }), []);
    assert.deepEqual(await names({ name: "JOB_NAME", values: ["*-2"] }), []);
    assert.deepEqual(await names({ name: "JOB_NAME", values: ["a*a-2"] }), []);
    // JOB_DEFINITION: case sensitive; a name matches every revision, a trailing * a prefix.
    assert.equal((await names({ name: "JOB_DEFINITION", values: [s.jobDefinition] })).length, 4);
    assert.equal(
      (await names({ name: "JOB_DEFINITION", values: [s.jobDefinition.toUpperCase()] })).length,
      0,
    );
    assert.equal(
      (await names({ name: "JOB_DEFINITION", values: [`${s.jobDefinition.slice(0, 3)}*`] }))
        .length,
      4,
    );
    assert.equal(
      (await names({ name: "JOB_DEFINITION", values: [s.jobDefinitionArn] })).length,
      4,
    );
    // "Only one filter can be used at a time."
    const two = await rejects(client.send(
      new B.ListJobsCommand({
        jobQueue: s.queue,
        filters: [
          { name: "JOB_NAME", values: ["alpha*"] },
          { name: "AFTER_CREATED_AT", values: ["0"] },
        ],
      }),
    ));
    assert.equal(two.name, "ClientException");
    // "The filter doesn't apply to child jobs in an array": the children are listed by status.
    const children = await client.send(
      new B.ListJobsCommand({
        arrayJobId: arr,
        jobStatus: "SUCCEEDED",
        filters: [{ name: "JOB_NAME", values: ["no-such-job"] }],
      }),
    );
    assert.equal(children.jobSummaryList!.length, 2);
    // "When --filters is used, Batch returns up to 100 values."
    const release = emu.batch.hold();
    for (let i = 0; i < 101; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, 101 - i) }, (_, k) => submit(`many-${i + k}`)),
      );
    }
    release();
    const page = await client.send(
      new B.ListJobsCommand({
        jobQueue: s.queue,
        filters: [{ name: "JOB_NAME", values: ["many-*"] }],
        maxResults: 1000,
      }),
    );
    assert.equal(page.jobSummaryList!.length, 100);
    assert.ok(page.nextToken);
    const rest = await client.send(
      new B.ListJobsCommand({
        jobQueue: s.queue,
        filters: [{ name: "JOB_NAME", values: ["many-*"] }],
        maxResults: 1000,
        nextToken: page.nextToken,
      }),
    );
    assert.equal(rest.jobSummaryList!.length, 1);
    await emu.waitForJobs();
  }, { batchTps: 0 }); // 101 submissions at once: Batch's request quota is batch_quotas_test's.
});

Deno.test("batch: concurrency is bounded by the CE's maxvCpus; deleting a queue terminates its jobs; tags", async () => {
  let live = 0;
  let peak = 0;
  const runner = new InlineRunner(async (req) => {
    live++;
    peak = Math.max(peak, live);
    await abortableSleep(30, req.signal).catch(() => {});
    live--;
    return { exitCode: 0 };
  });
  const emu = await startEmulator({ runner, ceValidDelayMs: 20, tickMs: 5 });
  const client = new B.BatchClient(sdkConfig(emu));
  try {
    const s = await setupBatch(emu, { maxvCpus: 2 });
    const sub = await client.send(
      new B.SubmitJobCommand({
        jobName: "many",
        jobQueue: s.queue,
        jobDefinition: s.jobDefinition,
        arrayProperties: { size: 8 },
      }),
    );
    await emu.waitForJobs();
    assert.equal((await describe(client, sub.jobId!)).status, "SUCCEEDED");
    assert.equal(runner.runs, 8);
    assert.ok(peak >= 1 && peak <= 2, `peak ${peak}`);

    const q = emu.batch.jobQueues.get(s.queue)!.jobQueueArn;
    await client.send(new B.TagResourceCommand({ resourceArn: q, tags: { a: "1", b: "2" } }));
    await client.send(new B.UntagResourceCommand({ resourceArn: q, tagKeys: ["a"] }));
    assert.deepEqual(
      (await client.send(new B.ListTagsForResourceCommand({ resourceArn: q }))).tags,
      { b: "2" },
    );

    await client.send(
      new B.UpdateComputeEnvironmentCommand({ computeEnvironment: s.ce, state: "DISABLED" }),
    );
    const stuck = await client.send(
      new B.SubmitJobCommand({
        jobName: "stuck",
        jobQueue: s.queue,
        jobDefinition: s.jobDefinition,
      }),
    );
    await waitStatus(client, stuck.jobId!, ["RUNNABLE"]);
    await client.send(new B.UpdateJobQueueCommand({ jobQueue: s.queue, state: "DISABLED" }));
    const e = await rejects(
      client.send(
        new B.SubmitJobCommand({
          jobName: "late",
          jobQueue: s.queue,
          jobDefinition: s.jobDefinition,
        }),
      ),
    );
    assert.equal(e.name, "ClientException");
    await waitFor(() => emu.batch.jobQueues.get(s.queue)!.status === "VALID");
    await client.send(new B.DeleteJobQueueCommand({ jobQueue: s.queue }));
    const st = await describe(client, stuck.jobId!);
    assert.equal(st.status, "FAILED");
  } finally {
    client.destroy();
    await emu.close();
  }
});

Deno.test("batch: a job no compute environment can fit waits in RUNNABLE with Batch's reason, and the queue's time limit cancels it", async () => {
  await withBatch(async (emu, client) => {
    const s = await setupBatch(emu, { maxvCpus: 2, vcpus: 4 });
    const action = {
      reason: "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
      state: "RUNNABLE" as const,
      maxTimeSeconds: 600,
      action: "CANCEL" as const,
    };
    for (
      const bad of [
        { ...action, maxTimeSeconds: 599 },
        { ...action, maxTimeSeconds: 86_401 },
        { ...action, reason: "MISCONFIGURATION:NOT_A_REASON" },
      ]
    ) {
      const e = await rejects(client.send(
        new B.CreateJobQueueCommand({
          jobQueueName: "bad",
          priority: 1,
          computeEnvironmentOrder: [{ order: 1, computeEnvironment: s.ce }],
          jobStateTimeLimitActions: [bad],
        }),
      ));
      assert.equal(e.name, "ClientException", JSON.stringify(bad));
    }
    await client.send(
      new B.CreateJobQueueCommand({
        jobQueueName: "limited",
        priority: 1,
        computeEnvironmentOrder: [{ order: 1, computeEnvironment: s.ce }],
        jobStateTimeLimitActions: [action],
      }),
    );
    await waitFor(() => emu.batch.jobQueues.get("limited")!.status === "VALID");
    const queue = await client.send(new B.DescribeJobQueuesCommand({ jobQueues: ["limited"] }));
    assert.deepEqual(queue.jobQueues![0]!.jobStateTimeLimitActions, [action]);

    const sub = await client.send(
      new B.SubmitJobCommand({
        jobName: "big",
        jobQueue: "limited",
        jobDefinition: s.jobDefinition,
      }),
    );
    const waiting = await waitStatus(client, sub.jobId!, ["RUNNABLE"]);
    await waitFor(async () =>
      /^MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE - /.test(
        (await describe(client, sub.jobId!)).statusReason ?? "",
      )
    );
    assert.equal(waiting.attempts?.length ?? 0, 0);
    const ended = await waitStatus(client, sub.jobId!, ["FAILED", "SUCCEEDED"]);
    assert.equal(ended.status, "FAILED");
    assert.equal(
      ended.statusReason,
      "Canceled by JobStateTimeLimit action due to reason: MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
    );
    assert.equal(ended.attempts?.length ?? 0, 0);
  }, { timeLimitSecondMs: 1 });
});

Deno.test("batch: a blocked queue keeps its jobs RUNNABLE with the reason until it is unblocked", async () => {
  await withBatch(async (emu, client) => {
    const s = await setupBatch(emu);
    const reason = "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - Service cannot fulfill the " +
      "capacity requested for instance type [c5.large]";
    emu.batch.blockQueue(s.queue, reason);
    const sub = await client.send(
      new B.SubmitJobCommand({
        jobName: "wait",
        jobQueue: s.queue,
        jobDefinition: s.jobDefinition,
      }),
    );
    await waitFor(async () => (await describe(client, sub.jobId!)).statusReason === reason);
    const listed = await client.send(
      new B.ListJobsCommand({ jobQueue: s.queue, jobStatus: "RUNNABLE" }),
    );
    assert.equal(listed.jobSummaryList![0]!.statusReason, reason);
    emu.batch.blockQueue(s.queue, undefined);
    const ended = await waitStatus(client, sub.jobId!, ["SUCCEEDED", "FAILED"]);
    assert.equal(ended.status, "SUCCEEDED");
  });
});
