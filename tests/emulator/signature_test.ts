import assert from "node:assert/strict";
import { AwsClient } from "aws4fetch";
import { type Emulator, startEmulator } from "./mod.ts";
import * as sdk from "./sdk_deps.ts";
import { rejects, sdkConfig } from "./test_helpers.ts";

function client(
  emu: Emulator,
  over: { secretAccessKey?: string; accessKeyId?: string; sessionToken?: string } = {},
) {
  return new AwsClient({
    accessKeyId: over.accessKeyId ?? emu.credentials.accessKeyId,
    secretAccessKey: over.secretAccessKey ?? emu.credentials.secretAccessKey,
    sessionToken: over.sessionToken,
    retries: 0,
  });
}

function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.[0-9]{3}/, "");
}

const BATCH_BODY = JSON.stringify({});

async function batchCall(emu: Emulator, c: AwsClient, aws: Record<string, unknown> = {}) {
  return await c.fetch(`${emu.endpoint}/v1/describecomputeenvironments`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: BATCH_BODY,
    aws: { service: "batch", region: emu.region, ...aws },
  });
}

async function queryCall(
  emu: Emulator,
  c: AwsClient,
  service: string,
  body: string,
  aws: Record<string, unknown> = {},
) {
  return await c.fetch(`${emu.endpoint}/`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
    body,
    aws: { service, region: service === "iam" ? "us-east-1" : emu.region, ...aws },
  });
}

async function jsonCall(
  emu: Emulator,
  c: AwsClient,
  target: string,
  service: string,
  body: unknown,
  aws: Record<string, unknown> = {},
) {
  return await c.fetch(`${emu.endpoint}/`, {
    method: "POST",
    headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": target },
    body: JSON.stringify(body),
    aws: { service, region: emu.region, ...aws },
  });
}

Deno.test("signatures: good requests pass; unsigned, bad secret and unknown keys are refused per protocol", async () => {
  const emu = await startEmulator();
  try {
    const ok = await batchCall(emu, client(emu));
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { computeEnvironments: [] });

    const unsigned = await fetch(`${emu.endpoint}/v1/describecomputeenvironments`, {
      method: "POST",
      body: "{}",
    });
    assert.equal(unsigned.status, 403);
    assert.match(unsigned.headers.get("x-amzn-errortype")!, /^MissingAuthenticationTokenException/);
    await unsigned.body?.cancel();

    const bad = await batchCall(emu, client(emu, { secretAccessKey: "wrong" }));
    assert.equal(bad.status, 403);
    assert.match(bad.headers.get("x-amzn-errortype")!, /^InvalidSignatureException/);
    assert.match((await bad.json()).message, /signature we calculated does not match/);

    const unknown = await jsonCall(
      emu,
      client(emu, { accessKeyId: "AKIAUNKNOWN000000000" }),
      "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
      "ecr",
      {},
    );
    assert.equal(unknown.status, 403);
    assert.equal((await unknown.json()).__type, "UnrecognizedClientException");

    const iamBad = await queryCall(
      emu,
      client(emu, { secretAccessKey: "wrong" }),
      "iam",
      "Action=ListRoles&Version=2010-05-08",
    );
    assert.equal(iamBad.status, 403);
    assert.match(await iamBad.text(), /<Code>SignatureDoesNotMatch<\/Code>/);

    const s3Bad = await client(emu, { secretAccessKey: "wrong" }).fetch(`${emu.endpoint}/`, {
      aws: { service: "s3", region: emu.region },
    });
    assert.equal(s3Bad.status, 403);
    assert.match(await s3Bad.text(), /<Error><Code>SignatureDoesNotMatch<\/Code>/);

    const ec2Unknown = await queryCall(
      emu,
      client(emu, { accessKeyId: "AKIAUNKNOWN000000000" }),
      "ec2",
      "Action=DescribeVpcs&Version=2016-11-15",
    );
    assert.equal(ec2Unknown.status, 401);
    assert.match(await ec2Unknown.text(), /<Response><Errors><Error><Code>AuthFailure<\/Code>/);

    const logged = emu.requests.filter({ ok: false });
    assert.ok(logged.some((r) => r.errorCode === "InvalidSignatureException"));
    assert.ok(logged.every((r) => r.mutating === false || r.status >= 400));
  } finally {
    await emu.close();
  }
});

Deno.test("signatures: wrong credential scope (service or region) is refused; IAM signs us-east-1", async () => {
  const emu = await startEmulator({ region: "eu-west-1" });
  try {
    const c = client(emu);
    const wrongService = await batchCall(emu, c, { service: "ecr" });
    assert.equal(wrongService.status, 403);
    assert.equal(
      (await wrongService.json()).message,
      "Credential should be scoped to correct service: 'batch'. ",
    );
    const emptyService = await batchCall(emu, c, { service: "" });
    assert.equal(emptyService.status, 403);
    await emptyService.body?.cancel();
    const wrongRegion = await batchCall(emu, c, { region: "us-east-1" });
    assert.equal(wrongRegion.status, 403);
    assert.match((await wrongRegion.json()).message, /valid region/);

    const iamRegional = await queryCall(emu, c, "iam", "Action=ListRoles&Version=2010-05-08", {
      region: "eu-west-1",
    });
    assert.equal(iamRegional.status, 403);
    assert.match(await iamRegional.text(), /not 'eu-west-1'/);
    const iamGlobal = await queryCall(emu, c, "iam", "Action=ListRoles&Version=2010-05-08");
    assert.equal(iamGlobal.status, 200);
    await iamGlobal.body?.cancel();

    const s3WrongRegion = await c.fetch(`${emu.endpoint}/`, {
      aws: { service: "s3", region: "us-east-1" },
    });
    assert.equal(s3WrongRegion.status, 400);
    assert.match(await s3WrongRegion.text(), /AuthorizationHeaderMalformed/);

    // The SDK configured for another region is refused the same way.
    const wrong = new sdk.batch.BatchClient(sdkConfig(emu, { region: "us-west-2" }));
    try {
      const e = await rejects(wrong.send(new sdk.batch.DescribeJobQueuesCommand({})));
      assert.equal(e.name, "InvalidSignatureException");
    } finally {
      wrong.destroy();
    }
  } finally {
    await emu.close();
  }
});

Deno.test("signatures: stale dates are refused with each protocol's error", async () => {
  const emu = await startEmulator();
  try {
    const c = client(emu);
    const stale = amzDate(new Date(Date.now() - 20 * 60_000));
    const batch = await batchCall(emu, c, { datetime: stale });
    assert.equal(batch.status, 403);
    assert.match((await batch.json()).message, /^Signature expired: .* is now earlier than/);
    const logs = await jsonCall(emu, c, "Logs_20140328.DescribeLogGroups", "logs", {}, {
      datetime: stale,
    });
    assert.equal((await logs.json()).__type, "InvalidSignatureException");
    const sts = await queryCall(emu, c, "sts", "Action=GetCallerIdentity&Version=2011-06-15", {
      datetime: stale,
    });
    assert.match(
      await sts.text(),
      /<Code>SignatureDoesNotMatch<\/Code>\s*<Message>Signature expired/,
    );
    const ec2 = await queryCall(emu, c, "ec2", "Action=DescribeVpcs&Version=2016-11-15", {
      datetime: stale,
    });
    assert.equal(ec2.status, 400);
    assert.match(await ec2.text(), /<Code>RequestExpired<\/Code>/);
    const s3 = await c.fetch(`${emu.endpoint}/`, {
      aws: { service: "s3", region: emu.region, datetime: stale },
    });
    assert.equal(s3.status, 403);
    assert.match(await s3.text(), /<Code>RequestTimeTooSkewed<\/Code>/);
    const future = amzDate(new Date(Date.now() + 20 * 60_000));
    const f = await batchCall(emu, c, { datetime: future });
    assert.match((await f.json()).message, /^Signature not yet current/);
  } finally {
    await emu.close();
  }
});

Deno.test("signatures: tampered bodies are refused", async () => {
  const emu = await startEmulator();
  try {
    const c = client(emu);
    const signed = await c.sign(`${emu.endpoint}/v1/describejobqueues`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ maxResults: 5 }),
      aws: { service: "batch", region: emu.region },
    });
    const tampered = await fetch(signed.url, {
      method: "POST",
      headers: signed.headers,
      body: JSON.stringify({ maxResults: 6 }),
    });
    assert.equal(tampered.status, 403);
    assert.match(tampered.headers.get("x-amzn-errortype")!, /^InvalidSignatureException/);
    await tampered.body?.cancel();

    const bucket = await c.fetch(`${emu.endpoint}/bk1`, {
      method: "PUT",
      aws: { service: "s3", region: emu.region },
    });
    assert.equal(bucket.status, 200);
    await bucket.body?.cancel();
    const body = "original";
    const hash = [
      ...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body))),
    ]
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    const put = await c.sign(`${emu.endpoint}/bk1/k`, {
      method: "PUT",
      headers: { "x-amz-content-sha256": hash },
      body,
      aws: { service: "s3", region: emu.region },
    });
    const swapped = await fetch(put.url, { method: "PUT", headers: put.headers, body: "changed!" });
    assert.equal(swapped.status, 400);
    assert.match(await swapped.text(), /<Code>XAmzContentSHA256Mismatch<\/Code>/);
    assert.equal(emu.s3.buckets.get("bk1")!.objects.size, 0);
    // Outside S3 an unsigned payload is not a thing: the body must be signed.
    const unsignedPayload = await c.fetch(`${emu.endpoint}/v1/describejobqueues`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
      body: "{}",
      aws: { service: "batch", region: emu.region },
    });
    assert.equal(unsignedPayload.status, 403);
    await unsignedPayload.body?.cancel();
    const honest = await fetch(put.url, { method: "PUT", headers: put.headers, body });
    assert.equal(honest.status, 200);
    await honest.body?.cancel();
  } finally {
    await emu.close();
  }
});

Deno.test("signatures: AssumeRole credentials are accepted with their token and refused without it", async () => {
  const emu = await startEmulator();
  const iam = new sdk.iam.IAMClient(sdkConfig(emu));
  const sts = new sdk.sts.STSClient(sdkConfig(emu));
  try {
    const role = await iam.send(
      new sdk.iam.CreateRoleCommand({
        RoleName: "worker",
        AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
      }),
    );
    const assumed = await sts.send(
      new sdk.sts.AssumeRoleCommand({ RoleArn: role.Role!.Arn!, RoleSessionName: "s1" }),
    );
    const creds = assumed.Credentials!;
    assert.match(creds.AccessKeyId!, /^ASIA/);
    assert.ok(creds.Expiration instanceof Date);
    const asRole = new sdk.sts.STSClient(sdkConfig(emu, {
      credentials: {
        accessKeyId: creds.AccessKeyId!,
        secretAccessKey: creds.SecretAccessKey!,
        sessionToken: creds.SessionToken!,
      },
    }));
    const noToken = new sdk.sts.STSClient(sdkConfig(emu, {
      credentials: { accessKeyId: creds.AccessKeyId!, secretAccessKey: creds.SecretAccessKey! },
    }));
    try {
      const me = await asRole.send(new sdk.sts.GetCallerIdentityCommand({}));
      assert.equal(me.Arn, "arn:aws:sts::123456789012:assumed-role/worker/s1");
      const e = await rejects(noToken.send(new sdk.sts.GetCallerIdentityCommand({})));
      assert.equal(e.name, "InvalidClientTokenId");
      const missing = await rejects(
        sts.send(
          new sdk.sts.AssumeRoleCommand({
            RoleArn: "arn:aws:iam::123456789012:role/nope",
            RoleSessionName: "s",
          }),
        ),
      );
      assert.equal(missing.name, "AccessDenied");
    } finally {
      asRole.destroy();
      noToken.destroy();
    }
  } finally {
    iam.destroy();
    sts.destroy();
    await emu.close();
  }
});
