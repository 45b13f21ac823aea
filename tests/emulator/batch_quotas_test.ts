// AWS Batch's fixed quotas per account and region, as the emulator keeps them
// (https://docs.aws.amazon.com/batch/latest/userguide/service_limits.html): 50 compute
// environments, 50 job queues, 3 compute environments per queue, a RegisterJobDefinition of at
// most 24 KiB and a SubmitJob of at most 30 KiB, as the request's body goes on the wire. Driven
// by the AWS SDK, an independent client; no job runs.
import assert from "node:assert/strict";
import { type Emulator, InlineRunner, startEmulator } from "./mod.ts";
import * as sdk from "./sdk_deps.ts";
import { rejects, sdkConfig, setupBatch, waitFor } from "./test_helpers.ts";

const { batch: B } = sdk;
type Client = InstanceType<typeof B.BatchClient>;

/** A Batch SDK client on a fresh emulator, and the bytes of the last request body it sent. */
async function withBatch(
  fn: (emu: Emulator, client: Client, lastBody: () => number) => Promise<void>,
): Promise<void> {
  const emu = await startEmulator({
    runner: new InlineRunner(() => Promise.resolve({ exitCode: 0 })),
    ceValidDelayMs: 5,
    tickMs: 10,
    // A hundred creates in a row: the 50 requests a second Batch allows are not what is tested.
    batchTps: 0,
  });
  const client = new B.BatchClient(sdkConfig(emu));
  let bytes = 0;
  client.middlewareStack.add((next) => (args) => {
    const body = (args.request as { body?: unknown }).body;
    bytes = typeof body === "string"
      ? new TextEncoder().encode(body).byteLength
      : body instanceof Uint8Array
      ? body.byteLength
      : -1;
    return next(args);
  }, { step: "finalizeRequest" });
  try {
    await fn(emu, client, () => bytes);
  } finally {
    client.destroy();
    await emu.close();
  }
}

function fargateCe(emu: Emulator, name: string) {
  return new B.CreateComputeEnvironmentCommand({
    computeEnvironmentName: name,
    type: "MANAGED",
    computeResources: {
      type: "FARGATE",
      maxvCpus: 4,
      subnets: [...emu.ec2.subnets.keys()].slice(0, 1),
    },
  });
}

async function untilValid(client: Client, names: string[]): Promise<void> {
  await waitFor(async () => {
    const d = await client.send(
      new B.DescribeComputeEnvironmentsCommand({ computeEnvironments: names }),
    );
    return d.computeEnvironments!.length === names.length &&
      d.computeEnvironments!.every((c) => c.status === "VALID");
  });
}

Deno.test("batch quotas: a 51st compute environment and a 51st job queue are refused with ClientException, and neither is made", async () => {
  await withBatch(async (emu, client) => {
    const names = Array.from({ length: 50 }, (_, i) => `ce-${i}`);
    for (const name of names) await client.send(fargateCe(emu, name));
    const e = await rejects(client.send(fargateCe(emu, "ce-50")));
    assert.equal(e.name, "ClientException");
    assert.equal((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 400);
    assert.match(e.message, /50 compute environments/);
    const listed = await client.send(new B.DescribeComputeEnvironmentsCommand({}));
    assert.equal(listed.computeEnvironments!.length, 50);
    assert.ok(!emu.batch.computeEnvironments.has("ce-50"));

    // Queues count on their own: 50 on one compute environment, then one more is refused.
    await untilValid(client, ["ce-0"]);
    for (let i = 0; i < 50; i++) {
      await client.send(
        new B.CreateJobQueueCommand({
          jobQueueName: `q-${i}`,
          priority: 1,
          computeEnvironmentOrder: [{ order: 1, computeEnvironment: "ce-0" }],
        }),
      );
    }
    const q = await rejects(client.send(
      new B.CreateJobQueueCommand({
        jobQueueName: "q-50",
        priority: 1,
        computeEnvironmentOrder: [{ order: 1, computeEnvironment: "ce-0" }],
      }),
    ));
    assert.equal(q.name, "ClientException");
    assert.match(q.message, /50 job queues/);
    assert.equal(emu.batch.jobQueues.size, 50);
  });
});

Deno.test("batch quotas: a job queue takes at most 3 compute environments, made or updated", async () => {
  await withBatch(async (emu, client) => {
    const names = ["a", "b", "c", "d"];
    for (const name of names) await client.send(fargateCe(emu, name));
    await untilValid(client, names);
    const order = (n: number) =>
      names.slice(0, n).map((computeEnvironment, i) => ({ order: i + 1, computeEnvironment }));
    const e = await rejects(client.send(
      new B.CreateJobQueueCommand({
        jobQueueName: "four",
        priority: 1,
        computeEnvironmentOrder: order(4),
      }),
    ));
    assert.equal(e.name, "ClientException");
    assert.ok(!emu.batch.jobQueues.has("four"));
    await client.send(
      new B.CreateJobQueueCommand({
        jobQueueName: "three",
        priority: 1,
        computeEnvironmentOrder: order(3),
      }),
    );
    await waitFor(() => emu.batch.jobQueues.get("three")?.status === "VALID");
    const u = await rejects(client.send(
      new B.UpdateJobQueueCommand({ jobQueue: "three", computeEnvironmentOrder: order(4) }),
    ));
    assert.equal(u.name, "ClientException");
    assert.equal(emu.batch.jobQueues.get("three")!.computeEnvironmentOrder.length, 3);
  });
});

Deno.test("batch quotas: a RegisterJobDefinition body of 24 KiB is taken, one byte more is refused, and bytes count, not characters", async () => {
  await withBatch(async (emu, client, lastBody) => {
    const register = (value: string) =>
      client.send(
        new B.RegisterJobDefinitionCommand({
          jobDefinitionName: "big",
          type: "container",
          containerProperties: {
            image: "emulator/inline:latest",
            resourceRequirements: [
              { type: "VCPU", value: "1" },
              { type: "MEMORY", value: "512" },
            ],
            environment: [{ name: "PAD", value }],
          },
        }),
      );
    await register("");
    assert.ok(lastBody() > 0, "the SDK's body was measured");
    const room = 24 * 1024 - lastBody();
    await register("x".repeat(room));
    assert.equal(lastBody(), 24 * 1024);
    const e = await rejects(register("x".repeat(room + 1)));
    assert.equal(e.name, "ClientException");
    assert.match(e.message, /RegisterJobDefinition request is 24577 bytes/);
    // Fewer characters than the quota's bytes, but two bytes each in UTF-8.
    const wide = "é".repeat(Math.ceil((room + 1) / 2));
    assert.ok(wide.length < room);
    const w = await rejects(register(wide));
    assert.match(w.message, /RegisterJobDefinition request is \d+ bytes/);
    assert.deepEqual(emu.batch.jobDefinitions.get("big")!.map((d) => d.revision), [1, 2]);
  });
});

Deno.test("batch quotas: a SubmitJob body of 30 KiB is taken, one byte more is refused and no job is made", async () => {
  await withBatch(async (emu, client, lastBody) => {
    const s = await setupBatch(emu, { prefix: "q" });
    const submit = (name: string, value: string) =>
      client.send(
        new B.SubmitJobCommand({
          jobName: name,
          jobQueue: s.queue,
          jobDefinition: s.jobDefinition,
          parameters: { pad: value },
        }),
      );
    await submit("job-0", "");
    assert.ok(lastBody() > 0, "the SDK's body was measured");
    const room = 30 * 1024 - lastBody();
    await submit("job-1", "x".repeat(room));
    assert.equal(lastBody(), 30 * 1024);
    const e = await rejects(submit("job-2", "x".repeat(room + 1)));
    assert.equal(e.name, "ClientException");
    assert.match(e.message, /SubmitJob request is 30721 bytes/);
    assert.deepEqual([...emu.batch.jobs.values()].map((j) => j.jobName).sort(), ["job-0", "job-1"]);
  });
});
