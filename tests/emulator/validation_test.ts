import assert from "node:assert/strict";
import { AwsClient } from "aws4fetch";
import { type Emulator, startEmulator } from "./mod.ts";

interface Raw {
  status: number;
  text: string;
  headers: Headers;
}

async function call(emu: Emulator, init: {
  service: string;
  path?: string;
  method?: string;
  body?: string;
  headers?: Record<string, string>;
}): Promise<Raw> {
  const c = new AwsClient({ ...emu.credentials, retries: 0 });
  const r = await c.fetch(`${emu.endpoint}${init.path ?? "/"}`, {
    method: init.method ?? "POST",
    headers: init.headers,
    body: init.body,
    aws: { service: init.service, region: init.service === "iam" ? "us-east-1" : emu.region },
  });
  return { status: r.status, text: await r.text(), headers: r.headers };
}

function batch(emu: Emulator, op: string, body: unknown) {
  return call(emu, {
    service: "batch",
    path: `/v1/${op}`,
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
}

function json(emu: Emulator, service: string, target: string, body: unknown) {
  return call(emu, {
    service,
    body: JSON.stringify(body),
    headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": target },
  });
}

function form(emu: Emulator, service: string, body: string) {
  return call(emu, {
    service,
    body,
    headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
  });
}

Deno.test("validation: Batch (restJson1) refuses missing, unknown and mistyped members with ClientException", async () => {
  const emu = await startEmulator();
  try {
    let r = await batch(emu, "submitjob", { jobName: "j", jobQueue: "q" });
    assert.equal(r.status, 400);
    assert.match(r.headers.get("x-amzn-errortype")!, /^ClientException/);
    assert.match(
      JSON.parse(r.text).message,
      /Value null at 'jobDefinition' failed to satisfy constraint/,
    );
    r = await batch(emu, "submitjob", {
      jobName: "j",
      jobQueue: "q",
      jobDefinition: "d",
      retries: 2,
    });
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.text).message, /Unexpected key 'retries'/);
    r = await batch(emu, "submitjob", {
      jobName: "j",
      jobQueue: "q",
      jobDefinition: "d",
      arrayProperties: { size: "3" },
    });
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.text).message, /Expected integer at 'arrayProperties.size'/);
    r = await batch(emu, "describejobs", { jobs: "abc" });
    assert.equal(r.status, 400);
    r = await call(emu, {
      service: "batch",
      path: "/v1/nosuchop",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    assert.equal(r.status, 404);
    r = await call(emu, {
      service: "batch",
      path: "/v1/submitjob",
      body: "{not json",
      headers: { "content-type": "application/json" },
    });
    assert.equal(r.status, 400);
    assert.equal(emu.batch.jobs.size, 0);
    assert.equal(emu.mutatingRequests().filter((e) => e.status === 200).length, 0);
  } finally {
    await emu.close();
  }
});

Deno.test("validation: JSON 1.1 services (ECR, Logs) refuse bad shapes and unknown operations", async () => {
  const emu = await startEmulator();
  try {
    let r = await json(emu, "ecr", "AmazonEC2ContainerRegistry_V20150921.CreateRepository", {
      repositoryName: "r1",
      color: "red",
    });
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.text).__type, "InvalidParameterException");
    r = await json(emu, "ecr", "AmazonEC2ContainerRegistry_V20150921.CreateRepository", {});
    assert.equal(JSON.parse(r.text).__type, "InvalidParameterException");
    assert.match(JSON.parse(r.text).message, /repositoryName/);
    r = await json(emu, "ecr", "AmazonEC2ContainerRegistry_V20150921.CreateRepository", {
      repositoryName: "Bad Name",
    });
    assert.equal(JSON.parse(r.text).__type, "InvalidParameterException");
    r = await json(emu, "logs", "Logs_20140328.GetLogEvents", {
      logGroupName: "g",
      logStreamName: "s",
      limit: "10",
    });
    assert.equal(JSON.parse(r.text).__type, "InvalidParameterException");
    r = await json(emu, "logs", "Logs_20140328.Frobnicate", {});
    assert.equal(JSON.parse(r.text).__type, "UnknownOperationException");
    assert.equal(emu.ecr.repositories.size, 0);
  } finally {
    await emu.close();
  }
});

Deno.test("validation: query services (IAM, STS) parse the form with the model and refuse bad shapes", async () => {
  const emu = await startEmulator();
  try {
    let r = await form(emu, "iam", "Action=CreateRole&Version=2010-05-08&RoleName=r");
    assert.equal(r.status, 400);
    assert.match(r.text, /<Code>ValidationError<\/Code>/);
    assert.match(r.text, /assumeRolePolicyDocument|AssumeRolePolicyDocument/);
    r = await form(emu, "iam", "Action=ListRoles&Version=2010-05-08&Colour=red");
    assert.match(r.text, /<Code>ValidationError<\/Code>/);
    assert.match(r.text, /Colour/);
    r = await form(emu, "iam", "Action=ListRoles&Version=2010-05-08&MaxItems=lots");
    assert.match(r.text, /<Code>ValidationError<\/Code>/);
    r = await form(emu, "iam", "Action=DoSomething&Version=2010-05-08");
    assert.match(r.text, /<Code>InvalidAction<\/Code>/);
    r = await form(
      emu,
      "sts",
      "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/x",
    );
    assert.match(r.text, /<Code>ValidationError<\/Code>/);
    // Lists and maps parse back into the model's shape: a tagged role.
    r = await form(
      emu,
      "iam",
      "Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument=%7B%7D&Tags.member.1.Key=a&Tags.member.1.Value=b",
    );
    assert.equal(r.status, 200);
    assert.deepEqual(emu.iam.roles.get("r")!.Tags, [{ Key: "a", Value: "b" }]);
    assert.match(r.text, /<Tags><member><Key>a<\/Key><Value>b<\/Value><\/member><\/Tags>/);
    const entry = emu.requests.filter({ service: "iam", operation: "CreateRole", ok: true })[0]!;
    assert.deepEqual(entry.params.Tags, [{ Key: "a", Value: "b" }]);
    assert.equal(entry.mutating, true);
  } finally {
    await emu.close();
  }
});

Deno.test("validation: EC2 answers MissingParameter, UnknownParameter and InvalidParameterValue", async () => {
  const emu = await startEmulator();
  try {
    let r = await form(emu, "ec2", "Action=DescribeVpcs&Version=2016-11-15&Bogus=1");
    assert.equal(r.status, 400);
    assert.match(r.text, /<Code>UnknownParameter<\/Code>/);
    r = await form(emu, "ec2", "Action=CreateSubnet&Version=2016-11-15&CidrBlock=10.0.0.0/24");
    assert.match(r.text, /<Code>MissingParameter<\/Code>/);
    r = await form(emu, "ec2", "Action=DescribeVpcs&Version=2016-11-15&MaxResults=abc");
    assert.match(r.text, /<Code>InvalidParameterValue<\/Code>/);
    r = await form(
      emu,
      "ec2",
      "Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=nonsense&Filter.1.Value.1=x",
    );
    assert.match(r.text, /The filter 'nonsense' is invalid/);
    r = await form(
      emu,
      "ec2",
      "Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=is-default&Filter.1.Value.1=true",
    );
    assert.equal(r.status, 200);
    assert.match(r.text, /<vpcSet><item>.*<isDefault>true<\/isDefault>.*<\/item><\/vpcSet>/s);
    assert.match(r.text, /<requestId>[0-9a-f-]+<\/requestId>/);
  } finally {
    await emu.close();
  }
});

Deno.test("validation: S3 refuses malformed XML and bad names", async () => {
  const emu = await startEmulator();
  try {
    let r = await call(emu, { service: "s3", method: "PUT", path: "/Bad_Bucket" });
    assert.equal(r.status, 400);
    assert.match(r.text, /<Code>InvalidBucketName<\/Code>/);
    r = await call(emu, { service: "s3", method: "PUT", path: "/good-bucket" });
    assert.equal(r.status, 200);
    r = await call(emu, {
      service: "s3",
      method: "PUT",
      path: "/good-bucket?encryption",
      body: "<nope",
    });
    assert.equal(r.status, 400);
    assert.match(r.text, /<Code>MalformedXML<\/Code>/);
    r = await call(emu, {
      service: "s3",
      method: "PUT",
      path: "/good-bucket?policy",
      body: "not json",
    });
    assert.match(r.text, /<Code>MalformedPolicy<\/Code>/);
    r = await call(emu, {
      service: "s3",
      method: "POST",
      path: "/good-bucket?delete",
      body: "<Delete><Object><Key>a</Key></Object></Delete>",
    });
    assert.match(r.text, /Content-MD5/);
    r = await call(emu, { service: "s3", method: "GET", path: "/missing-bucket/key" });
    assert.equal(r.status, 404);
    assert.match(r.text, /<Code>NoSuchBucket<\/Code>/);
    r = await call(emu, { service: "s3", method: "HEAD", path: "/missing-bucket/key" });
    assert.equal(r.status, 404);
    assert.equal(r.text, "");
  } finally {
    await emu.close();
  }
});
