import assert from "node:assert/strict";
import { ProcessRunner, startEmulator, type StopKind } from "./mod.ts";
import * as sdk from "./sdk_deps.ts";
import { sdkConfig, setupBatch } from "./test_helpers.ts";

const ENTRY = `
const env = Deno.env.toObject();
const uri = env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
const res = await fetch(uri, { headers: { authorization: env.AWS_CONTAINER_AUTHORIZATION_TOKEN } });
const creds = await res.json();
const { AwsClient } = await import("npm:aws4fetch@1.0.20");
const c = new AwsClient({
  accessKeyId: creds.AccessKeyId,
  secretAccessKey: creds.SecretAccessKey,
  sessionToken: creds.Token,
  service: "sts",
  region: env.AWS_REGION,
  retries: 0,
});
const r = await c.fetch(env.AWS_ENDPOINT_URL + "/", {
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: "Action=GetCallerIdentity&Version=2011-06-15",
});
const arn = (await r.text()).match(/<Arn>(.*)<\\/Arn>/)?.[1];
console.log("index=" + env.AWS_BATCH_JOB_ARRAY_INDEX + " size=" + env.AWS_BATCH_JOB_ARRAY_SIZE + " attempt=" + env.AWS_BATCH_JOB_ATTEMPT + " arn=" + arn);
console.log("static-key=" + (env.AWS_ACCESS_KEY_ID ?? "none") + " args=" + Deno.args.join(","));
console.error("stderr line");
Deno.exit(Number(Deno.args[0] ?? 0));
`;

Deno.test("process runner: an array job runs as local processes with Batch's env and container credentials; logs land in Logs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ckemu-proc-" });
  await Deno.writeTextFile(`${dir}/entry.ts`, ENTRY);
  const emu = await startEmulator({
    runner: "process",
    entrypoint: (
      image,
    ) => (image === "local/entry:1"
      ? [Deno.execPath(), "run", "-A", "--no-lock", `${dir}/entry.ts`]
      : []),
    cwd: dir,
    ceValidDelayMs: 20,
    tickMs: 10,
  });
  const iam = new sdk.iam.IAMClient(sdkConfig(emu));
  const batch = new sdk.batch.BatchClient(sdkConfig(emu));
  const logs = new sdk.logs.CloudWatchLogsClient(sdkConfig(emu));
  try {
    const role = await iam.send(
      new sdk.iam.CreateRoleCommand({
        RoleName: "job-role",
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{
            Effect: "Allow",
            Principal: { Service: "ecs-tasks.amazonaws.com" },
            Action: "sts:AssumeRole",
          }],
        }),
      }),
    );
    const s = await setupBatch(emu, {
      image: "local/entry:1",
      jobRoleArn: role.Role!.Arn,
      command: ["0", "Ref::extra"],
    });
    const sub = await batch.send(
      new sdk.batch.SubmitJobCommand({
        jobName: "procs",
        jobQueue: s.queue,
        jobDefinition: s.jobDefinition,
        arrayProperties: { size: 3 },
        parameters: { extra: "hello" },
      }),
    );
    await emu.waitForJobs(120_000);
    const parent = (await batch.send(new sdk.batch.DescribeJobsCommand({ jobs: [sub.jobId!] })))
      .jobs![0]!;
    assert.equal(parent.status, "SUCCEEDED");
    const children = (await batch.send(
      new sdk.batch.DescribeJobsCommand({
        jobs: [0, 1, 2].map((i) => `${sub.jobId}:${i}`),
      }),
    )).jobs!;
    for (const child of children) {
      assert.equal(child.container!.exitCode, 0);
      const ev = await logs.send(
        new sdk.logs.GetLogEventsCommand({
          logGroupName: "/aws/batch/job",
          logStreamName: child.container!.logStreamName!,
          startFromHead: true,
        }),
      );
      const lines = ev.events!.map((e) => e.message!);
      const idx = child.arrayProperties!.index;
      assert.ok(
        lines.includes(
          `index=${idx} size=3 attempt=1 arn=arn:aws:sts::123456789012:assumed-role/job-role/${
            child.container!.taskArn!.split("/").pop()
          }`,
        ),
        lines.join("\n"),
      );
      assert.ok(lines.includes("static-key=none args=0,hello"), lines.join("\n"));
      assert.ok(lines.includes("stderr line"));
    }

    // Without a usable role the task cannot start, as on ECS.
    await iam.send(
      new sdk.iam.CreateRoleCommand({
        RoleName: "ec2-only",
        AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
      }),
    );
    const bad = await batch.send(
      new sdk.batch.SubmitJobCommand({
        jobName: "badrole",
        jobQueue: s.queue,
        jobDefinition: s.jobDefinition,
        containerOverrides: { environment: [{ name: "X", value: "1" }] },
      }),
    );
    await batch.send(
      new sdk.batch.RegisterJobDefinitionCommand({
        jobDefinitionName: "bad-role-def",
        type: "container",
        containerProperties: {
          image: "local/entry:1",
          jobRoleArn: "arn:aws:iam::123456789012:role/ec2-only",
          resourceRequirements: [{ type: "VCPU", value: "1" }, { type: "MEMORY", value: "128" }],
        },
      }),
    );
    const bad2 = await batch.send(
      new sdk.batch.SubmitJobCommand({
        jobName: "badrole2",
        jobQueue: s.queue,
        jobDefinition: "bad-role-def",
      }),
    );
    await emu.waitForJobs(120_000);
    assert.equal(
      (await batch.send(new sdk.batch.DescribeJobsCommand({ jobs: [bad.jobId!] }))).jobs![0]!
        .status,
      "SUCCEEDED",
    );
    const b2 = (await batch.send(new sdk.batch.DescribeJobsCommand({ jobs: [bad2.jobId!] })))
      .jobs![0]!;
    assert.equal(b2.status, "FAILED");
    assert.match(b2.attempts![0]!.container!.reason!, /ECS was unable to assume the role/);
  } finally {
    iam.destroy();
    batch.destroy();
    logs.destroy();
    await emu.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("process runner: a stop is SIGTERM with a grace before SIGKILL, a lost host SIGKILL at once", async () => {
  // A process that answers SIGTERM by saying so and exiting 143, as the job entry does.
  const runner = new ProcessRunner({
    entrypoint: () => [
      "/bin/sh",
      "-c",
      'trap "echo terminated; exit 143" TERM; echo up; while :; do sleep 0.05; done',
    ],
    killGraceMs: 10_000,
  });
  const attempt = async (how: StopKind) => {
    const controller = new AbortController();
    const lines: string[] = [];
    const result = runner.run({
      jobId: "j",
      jobName: "j",
      attempt: 1,
      image: "local/sh",
      command: [],
      environment: {},
      vcpus: 1,
      memoryMiB: 128,
      computeEnvironment: "ce",
      jobQueue: "q",
      architecture: "amd64",
      signal: controller.signal,
      log: (line) => {
        lines.push(line);
        if (line === "up") controller.abort(how);
      },
    });
    return { ...await result, lines };
  };
  // TerminateJob or a timeout: ECS's docker stop, which the process answers within its grace.
  assert.deepEqual(await attempt("stop"), { exitCode: 143, lines: ["up", "terminated"] });
  // A reclaimed Spot host: the process is gone with it, with no SIGTERM first.
  assert.deepEqual(await attempt("kill"), { exitCode: 137, lines: ["up"] });
  await runner.close();
});
