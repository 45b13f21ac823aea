import assert from "node:assert/strict";
import { AwsClient } from "aws4fetch";
import { startEmulator } from "./mod.ts";
import * as sdk from "./sdk_deps.ts";
import { rejects, sdkConfig } from "./test_helpers.ts";

Deno.test("faults: throttling is each service's own error", async () => {
  const emu = await startEmulator({ registry: false });
  const clients = {
    batch: new sdk.batch.BatchClient(sdkConfig(emu)),
    ecr: new sdk.ecr.ECRClient(sdkConfig(emu)),
    logs: new sdk.logs.CloudWatchLogsClient(sdkConfig(emu)),
    iam: new sdk.iam.IAMClient(sdkConfig(emu)),
    sts: new sdk.sts.STSClient(sdkConfig(emu)),
    ec2: new sdk.ec2.EC2Client(sdkConfig(emu)),
    s3: new sdk.s3.S3Client(sdkConfig(emu)),
  };
  try {
    emu.faults.add({ kind: "throttle", times: 7 });
    const cases: [string, () => Promise<unknown>, string, number][] = [
      [
        "batch",
        () => clients.batch.send(new sdk.batch.DescribeJobQueuesCommand({})),
        "TooManyRequestsException",
        429,
      ],
      [
        "ecr",
        () => clients.ecr.send(new sdk.ecr.DescribeRepositoriesCommand({})),
        "ThrottlingException",
        400,
      ],
      [
        "logs",
        () => clients.logs.send(new sdk.logs.DescribeLogGroupsCommand({})),
        "ThrottlingException",
        400,
      ],
      ["iam", () => clients.iam.send(new sdk.iam.ListRolesCommand({})), "Throttling", 400],
      ["sts", () => clients.sts.send(new sdk.sts.GetCallerIdentityCommand({})), "Throttling", 400],
      [
        "ec2",
        () => clients.ec2.send(new sdk.ec2.DescribeVpcsCommand({})),
        "RequestLimitExceeded",
        503,
      ],
      ["s3", () => clients.s3.send(new sdk.s3.ListBucketsCommand({})), "SlowDown", 503],
    ];
    for (const [service, send, code, status] of cases) {
      const e = await rejects(send());
      assert.equal((e as { Code?: string }).Code ?? e.name, code, service);
      assert.equal((e.$metadata as { httpStatusCode: number }).httpStatusCode, status, service);
    }
    assert.equal(emu.faults.list()[0]!.hits, 7);
    // Exhausted: the next call goes through.
    await clients.batch.send(new sdk.batch.DescribeJobQueuesCommand({}));
    const log = emu.requests.filter({ ok: false });
    assert.deepEqual(log.map((e) => e.fault), Array(7).fill("throttle"));
  } finally {
    for (const c of Object.values(clients)) c.destroy();
    await emu.close();
  }
});

Deno.test("faults: 500/503 per operation, latency, probability 0", async () => {
  const emu = await startEmulator();
  const batch = new sdk.batch.BatchClient(sdkConfig(emu));
  const iam = new sdk.iam.IAMClient(sdkConfig(emu));
  try {
    emu.faults.add({ service: "batch", operation: "DescribeJobQueues", kind: "500", times: 1 });
    emu.faults.add({ service: "iam", operation: "ListRoles", kind: "503", times: 1 });
    emu.faults.add({
      service: "batch",
      operation: "DescribeComputeEnvironments",
      kind: "throttle",
      probability: 0,
    });
    const e500 = await rejects(batch.send(new sdk.batch.DescribeJobQueuesCommand({})));
    assert.equal(e500.name, "ServerException");
    assert.equal((e500.$metadata as { httpStatusCode: number }).httpStatusCode, 500);
    const e503 = await rejects(iam.send(new sdk.iam.ListRolesCommand({})));
    assert.equal((e503.$metadata as { httpStatusCode: number }).httpStatusCode, 503);
    await batch.send(new sdk.batch.DescribeComputeEnvironmentsCommand({}));
    await batch.send(new sdk.batch.DescribeJobQueuesCommand({}));
    emu.faults.clear();
    const id = emu.faults.add({ service: "iam", kind: "latency", delayMs: 50 });
    await iam.send(new sdk.iam.ListRolesCommand({}));
    assert.equal(emu.faults.list().find((f) => f.id === id)!.hits, 1);
    assert.equal(emu.requests.entries.at(-1)!.fault, "latency");
    assert.equal(emu.requests.entries.at(-1)!.status, 200);
  } finally {
    batch.destroy();
    iam.destroy();
    await emu.close();
  }
});

Deno.test("faults: latency until a promise settles holds the answer while the test acts, then answers", async () => {
  const emu = await startEmulator();
  const iam = new sdk.iam.IAMClient(sdkConfig(emu));
  try {
    const { promise: release, resolve } = Promise.withResolvers<void>();
    // delayMs 0: only `until` can hold the answer.
    const id = emu.faults.add({
      service: "iam",
      operation: "ListRoles",
      kind: "latency",
      delayMs: 0,
      until: release,
      times: 1,
    });
    let answered = false;
    const held = iam.send(new sdk.iam.ListRolesCommand({})).then(() => answered = true);
    try {
      while (emu.faults.list().find((f) => f.id === id)!.hits !== 1) {
        await new Promise((r) => setTimeout(r, 10));
      }
      // Another request's whole round trip passes while it is held.
      const other = new sdk.iam.IAMClient(sdkConfig(emu));
      try {
        await other.send(new sdk.iam.ListRolesCommand({}));
      } finally {
        other.destroy();
      }
      assert.equal(answered, false);
    } finally {
      resolve();
    }
    await held;
    assert.equal(answered, true);
    assert.deepEqual(emu.requests.filter({ operation: "ListRoles" }).map((e) => e.status), [
      200,
      200,
    ]);
  } finally {
    iam.destroy();
    await emu.close();
  }
});

Deno.test("faults: reset refuses before processing, lost-response processes then drops the answer", async () => {
  const emu = await startEmulator();
  const c = new AwsClient({ ...emu.credentials, retries: 0 });
  const createRole = (name: string) =>
    c.fetch(`${emu.endpoint}/`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `Action=CreateRole&Version=2010-05-08&RoleName=${name}&AssumeRolePolicyDocument=%7B%7D`,
      aws: { service: "iam", region: "us-east-1" },
    });
  try {
    emu.faults.add({ service: "iam", operation: "CreateRole", kind: "reset", times: 1 });
    await assert.rejects(createRole("reset-role"));
    assert.equal(emu.iam.roles.has("reset-role"), false);

    emu.faults.add({ service: "iam", operation: "CreateRole", kind: "lost-response", times: 1 });
    await assert.rejects(createRole("lost-role"));
    assert.equal(emu.iam.roles.has("lost-role"), true);

    const ok = await createRole("fine-role");
    assert.equal(ok.status, 200);
    await ok.body?.cancel();

    assert.equal(emu.count("iam", "CreateRole"), 3);
    assert.deepEqual(
      emu.requests.filter({ operation: "CreateRole" }).map((e) => [e.fault, e.status]),
      [
        ["reset", 0],
        ["lost-response", 0],
        [undefined, 200],
      ],
    );
    assert.equal(emu.mutatingRequests().length, 3);
    assert.deepEqual(emu.listResources().map((r) => r.id).sort(), ["fine-role", "lost-role"]);
  } finally {
    await emu.close();
  }
});

Deno.test("request log: read-only calls are not mutating; params are recorded", async () => {
  const emu = await startEmulator();
  const ec2 = new sdk.ec2.EC2Client(sdkConfig(emu));
  const s3 = new sdk.s3.S3Client(sdkConfig(emu));
  try {
    await ec2.send(
      new sdk.ec2.DescribeSubnetsCommand({
        Filters: [{ Name: "vpc-id", Values: [emu.ec2.defaultVpcId] }],
      }),
    );
    await s3.send(new sdk.s3.ListBucketsCommand({}));
    assert.equal(emu.mutatingRequests().length, 0);
    assert.deepEqual(emu.requests.entries[0]!.params.Filters, [{
      Name: "vpc-id",
      Values: [emu.ec2.defaultVpcId],
    }]);
    await s3.send(new sdk.s3.CreateBucketCommand({ Bucket: "logged" }));
    assert.deepEqual(emu.mutatingRequests().map((e) => [e.service, e.operation, e.params.Bucket]), [
      ["s3", "CreateBucket", "logged"],
    ]);
    assert.equal(emu.count("s3"), 2);
    assert.equal(emu.count("ec2", "DescribeSubnets"), 1);
  } finally {
    ec2.destroy();
    s3.destroy();
    await emu.close();
  }
});
