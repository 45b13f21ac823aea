// The emulator's IAM policy evaluation (iam_policy.ts), and S3 enforcing a
// role's policies for requests signed with the role's credentials.
import assert from "node:assert/strict";
import { evaluatePolicies, type PolicyRequest, wildcardMatch } from "./iam_policy.ts";
import { type Emulator, startEmulator } from "./mod.ts";
import * as sdk from "./sdk_deps.ts";
import { sdkConfig } from "./test_helpers.ts";

const KNOT_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject"],
      Resource: "arn:aws:s3:::bkt/cloudknot/a/*",
    },
    {
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: "arn:aws:s3:::bkt",
      Condition: { StringLike: { "s3:prefix": ["cloudknot/a/*"] } },
    },
  ],
});

const ask = (action: string, resource: string, context?: Record<string, string>) =>
  evaluatePolicies([KNOT_POLICY], { action, resource, ...(context ? { context } : {}) });

/**
 * S3 clients of the emulator's user (`root`) and of role a-job (`job`), which
 * {@linkcode KNOT_POLICY} lets read and write knot a's data, with bucket bkt
 * made.
 */
async function knotRoleS3(emu: Emulator) {
  const iam = new sdk.iam.IAMClient(sdkConfig(emu));
  const sts = new sdk.sts.STSClient(sdkConfig(emu));
  const root = new sdk.s3.S3Client({ ...sdkConfig(emu), forcePathStyle: true });
  await root.send(new sdk.s3.CreateBucketCommand({ Bucket: "bkt" }));
  const me = await sts.send(new sdk.sts.GetCallerIdentityCommand({}));
  await iam.send(
    new sdk.iam.CreateRoleCommand({
      RoleName: "a-job",
      AssumeRolePolicyDocument: JSON.stringify({
        Statement: [{ Effect: "Allow", Principal: { AWS: me.Arn }, Action: "sts:AssumeRole" }],
      }),
    }),
  );
  await iam.send(
    new sdk.iam.PutRolePolicyCommand({
      RoleName: "a-job",
      PolicyName: "data",
      PolicyDocument: KNOT_POLICY,
    }),
  );
  const { Credentials } = await sts.send(
    new sdk.sts.AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${emu.accountId}:role/a-job`,
      RoleSessionName: "job",
    }),
  );
  const job = new sdk.s3.S3Client({
    ...sdkConfig(emu),
    forcePathStyle: true,
    credentials: {
      accessKeyId: Credentials!.AccessKeyId!,
      secretAccessKey: Credentials!.SecretAccessKey!,
      sessionToken: Credentials!.SessionToken!,
    },
  });
  return { iam, root, job };
}

Deno.test("policy: an Allow whose action and resource match allows, anything else is denied implicitly", () => {
  assert.equal(ask("s3:GetObject", "arn:aws:s3:::bkt/cloudknot/a/runs/r/in"), "allow");
  assert.equal(ask("s3:PutObject", "arn:aws:s3:::bkt/cloudknot/a/x"), "allow");
  assert.equal(ask("s3:GetObject", "arn:aws:s3:::bkt/cloudknot/b/runs/r/in"), "implicit-deny");
  // "cloudknot/a/*" does not cover another knot whose name starts with "a".
  assert.equal(ask("s3:GetObject", "arn:aws:s3:::bkt/cloudknot/ab/x"), "implicit-deny");
  assert.equal(ask("s3:DeleteObject", "arn:aws:s3:::bkt/cloudknot/a/x"), "implicit-deny");
  assert.equal(ask("s3:GetObject", "arn:aws:s3:::other/cloudknot/a/x"), "implicit-deny");
  assert.equal(evaluatePolicies([], { action: "s3:GetObject", resource: "*" }), "implicit-deny");
});

Deno.test("policy: actions match without case and with wildcards, resources with case", () => {
  assert.equal(ask("S3:getobject", "arn:aws:s3:::bkt/cloudknot/a/x"), "allow");
  assert.equal(ask("s3:GetObject", "arn:aws:s3:::BKT/cloudknot/a/x"), "implicit-deny");
  assert.ok(wildcardMatch("s3:Get*", "s3:GetObjectTagging", true));
  assert.ok(wildcardMatch("arn:aws:s3:::b/k?y", "arn:aws:s3:::b/key"));
  assert.ok(!wildcardMatch("arn:aws:s3:::b/k?y", "arn:aws:s3:::b/kaay"));
  // Regular-expression characters in a pattern are plain characters.
  assert.ok(!wildcardMatch("arn:aws:s3:::b.c/*", "arn:aws:s3:::bxc/k"));
  const readOnly = JSON.stringify({
    Statement: { Effect: "Allow", Action: ["s3:Get*", "s3:List*"], Resource: "*" },
  });
  assert.equal(
    evaluatePolicies([readOnly], { action: "s3:GetObject", resource: "arn:aws:s3:::x/y" }),
    "allow",
  );
  assert.equal(
    evaluatePolicies([readOnly], { action: "s3:PutObject", resource: "arn:aws:s3:::x/y" }),
    "implicit-deny",
  );
});

Deno.test("policy: ListBucket is allowed only with an s3:prefix the condition matches", () => {
  const list = (prefix?: string) =>
    ask("s3:ListBucket", "arn:aws:s3:::bkt", prefix === undefined ? {} : { "s3:prefix": prefix });
  assert.equal(list("cloudknot/a/runs/r/out/"), "allow");
  assert.equal(list("cloudknot/b/"), "implicit-deny");
  assert.equal(list("cloudknot/"), "implicit-deny");
  // No prefix: the key is absent, and StringLike on an absent key is false.
  assert.equal(list(), "implicit-deny");
  const exact = JSON.stringify({
    Statement: {
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: "arn:aws:s3:::bkt",
      Condition: { StringEquals: { "s3:prefix": ["cloudknot/a/"] } },
    },
  });
  const req = (prefix: string): PolicyRequest => ({
    action: "s3:ListBucket",
    resource: "arn:aws:s3:::bkt",
    context: { "s3:prefix": prefix },
  });
  assert.equal(evaluatePolicies([exact], req("cloudknot/a/")), "allow");
  assert.equal(evaluatePolicies([exact], req("cloudknot/a/x")), "implicit-deny");
});

Deno.test("policy: an explicit Deny wins over any Allow, in any policy", () => {
  const allowAll = JSON.stringify({ Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] });
  const deny = JSON.stringify({
    Statement: [{ Effect: "Deny", Action: "s3:PutObject", Resource: "arn:aws:s3:::bkt/locked/*" }],
  });
  const put = (key: string) =>
    evaluatePolicies([allowAll, deny], {
      action: "s3:PutObject",
      resource: `arn:aws:s3:::bkt/${key}`,
    });
  assert.equal(put("locked/x"), "explicit-deny");
  assert.equal(put("open/x"), "allow");
  const notResource = JSON.stringify({
    Statement: [{ Effect: "Deny", Action: "s3:*", NotResource: "arn:aws:s3:::bkt/mine/*" }],
  });
  assert.equal(
    evaluatePolicies([allowAll, notResource], {
      action: "s3:GetObject",
      resource: "arn:aws:s3:::bkt/theirs/x",
    }),
    "explicit-deny",
  );
  // An operator the emulator does not model makes its statement not apply.
  const unmodeled = JSON.stringify({
    Statement: [{
      Effect: "Allow",
      Action: "*",
      Resource: "*",
      Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } },
    }],
  });
  assert.equal(
    evaluatePolicies([unmodeled], { action: "s3:GetObject", resource: "*" }),
    "implicit-deny",
  );
});

Deno.test("S3 answers a role session's request its policies do not allow with 403 AccessDenied, and keeps allowing the emulator's user", async () => {
  // Realism is about Batch and IAM timing; this is about S3's authorization only.
  const emu = await startEmulator({ realism: false });
  try {
    const { iam, root, job } = await knotRoleS3(emu);
    for (const key of ["cloudknot/a/in", "cloudknot/b/in"]) {
      await root.send(new sdk.s3.PutObjectCommand({ Bucket: "bkt", Key: key, Body: "secret" }));
    }
    const own = await job.send(
      new sdk.s3.GetObjectCommand({ Bucket: "bkt", Key: "cloudknot/a/in" }),
    );
    assert.equal(await own.Body!.transformToString(), "secret");
    await job.send(
      new sdk.s3.PutObjectCommand({ Bucket: "bkt", Key: "cloudknot/a/out", Body: "1" }),
    );
    const listed = await job.send(
      new sdk.s3.ListObjectsV2Command({ Bucket: "bkt", Prefix: "cloudknot/a/" }),
    );
    assert.deepEqual(listed.Contents?.map((c) => c.Key), ["cloudknot/a/in", "cloudknot/a/out"]);

    const denied = async (send: () => Promise<unknown>) => {
      const e = await send().then(() => undefined, (e) => e);
      assert.equal(e?.name, "AccessDenied", String(e));
      assert.equal(e.$metadata.httpStatusCode, 403);
      return e.message as string;
    };
    const read = await denied(() =>
      job.send(new sdk.s3.GetObjectCommand({ Bucket: "bkt", Key: "cloudknot/b/in" }))
    );
    assert.equal(
      read,
      `User: arn:aws:sts::${emu.accountId}:assumed-role/a-job/job is not authorized to perform: ` +
        `s3:GetObject on resource: "arn:aws:s3:::bkt/cloudknot/b/in" because no identity-based ` +
        `policy allows the s3:GetObject action`,
    );
    await denied(() =>
      job.send(new sdk.s3.PutObjectCommand({ Bucket: "bkt", Key: "cloudknot/b/in", Body: "x" }))
    );
    await denied(() =>
      job.send(new sdk.s3.ListObjectsV2Command({ Bucket: "bkt", Prefix: "cloudknot/b/" }))
    );
    await denied(() => job.send(new sdk.s3.ListObjectsV2Command({ Bucket: "bkt" })));
    await denied(() =>
      job.send(new sdk.s3.DeleteObjectCommand({ Bucket: "bkt", Key: "cloudknot/a/out" }))
    );
    await denied(() =>
      job.send(
        new sdk.s3.CopyObjectCommand({
          Bucket: "bkt",
          Key: "cloudknot/a/copy",
          CopySource: "bkt/cloudknot/b/in",
        }),
      )
    );
    const many = await job.send(
      new sdk.s3.DeleteObjectsCommand({
        Bucket: "bkt",
        Delete: { Objects: [{ Key: "cloudknot/a/out" }, { Key: "cloudknot/b/in" }] },
      }),
    );
    assert.deepEqual(many.Errors?.map((e) => [e.Key, e.Code]), [
      ["cloudknot/a/out", "AccessDenied"],
      ["cloudknot/b/in", "AccessDenied"],
    ]);
    // Knot B's object is untouched, and the emulator's user may still do anything.
    const b = await root.send(
      new sdk.s3.GetObjectCommand({ Bucket: "bkt", Key: "cloudknot/b/in" }),
    );
    assert.equal(await b.Body!.transformToString(), "secret");
    await root.send(new sdk.s3.DeleteObjectCommand({ Bucket: "bkt", Key: "cloudknot/b/in" }));

    // An explicit Deny added to the role wins over its Allow.
    await iam.send(
      new sdk.iam.PutRolePolicyCommand({
        RoleName: "a-job",
        PolicyName: "no-writes",
        PolicyDocument: JSON.stringify({
          Statement: [{ Effect: "Deny", Action: "s3:PutObject", Resource: "*" }],
        }),
      }),
    );
    assert.match(
      await denied(() =>
        job.send(new sdk.s3.PutObjectCommand({ Bucket: "bkt", Key: "cloudknot/a/out", Body: "2" }))
      ),
      /with an explicit deny in an identity-based policy$/,
    );
  } finally {
    await emu.close();
  }
});

Deno.test("S3 answers a role session's GET and HEAD of a missing key with 403 unless the role may list the bucket without a prefix, as AWS does", async () => {
  // S3 API reference, GetObject and HeadObject, "Permissions": a missing key is 404 with
  // s3:ListBucket on the bucket, 403 without; the request carries no s3:prefix.
  const emu = await startEmulator({ realism: false });
  try {
    const { iam, root, job } = await knotRoleS3(emu);
    await root.send(
      new sdk.s3.PutObjectCommand({ Bucket: "bkt", Key: "cloudknot/a/in", Body: "x" }),
    );
    const failure = async (send: () => Promise<unknown>) => {
      const e = await send().then(() => undefined, (e) => e);
      assert.ok(e !== undefined, "it succeeded");
      return { name: e.name as string, status: e.$metadata.httpStatusCode as number, e };
    };
    const get = (Key: string) => () =>
      job.send(new sdk.s3.GetObjectCommand({ Bucket: "bkt", Key }));
    const head = (Key: string) => () =>
      job.send(new sdk.s3.HeadObjectCommand({ Bucket: "bkt", Key }));

    // An existing key under its prefix is read as before.
    await job.send(new sdk.s3.HeadObjectCommand({ Bucket: "bkt", Key: "cloudknot/a/in" }));
    // A missing one under its own prefix: its ListBucket holds only with an s3:prefix.
    const missing = await failure(get("cloudknot/a/missing"));
    assert.deepEqual([missing.name, missing.status], ["AccessDenied", 403]);
    assert.equal(missing.e.message, "Access Denied");
    // HEAD: a bare 403, whose error the SDK cannot name (no body, and HeadObject models
    // only NotFound).
    const bare = await failure(head("cloudknot/a/missing"));
    assert.deepEqual([bare.name, bare.status], ["Unknown", 403]);
    // Another knot's key is refused on s3:GetObject itself, whether it exists or not.
    assert.match((await failure(get("cloudknot/b/missing"))).e.message, /s3:GetObject/);
    // The emulator's user (allowed everything) is told the key does not exist.
    const mine = await root.send(new sdk.s3.GetObjectCommand({ Bucket: "bkt", Key: "x" })).then(
      () => undefined,
      (e) => e,
    );
    assert.deepEqual([mine?.name, mine?.$metadata.httpStatusCode], ["NoSuchKey", 404]);

    // ListBucket whose condition holds when s3:prefix is absent (IfExists): 404.
    await iam.send(
      new sdk.iam.PutRolePolicyCommand({
        RoleName: "a-job",
        PolicyName: "list",
        PolicyDocument: JSON.stringify({
          Statement: {
            Effect: "Allow",
            Action: "s3:ListBucket",
            Resource: "arn:aws:s3:::bkt",
            Condition: { StringLikeIfExists: { "s3:prefix": ["cloudknot/a/*"] } },
          },
        }),
      }),
    );
    const absent = await failure(get("cloudknot/a/missing"));
    assert.deepEqual([absent.name, absent.status], ["NoSuchKey", 404]);
    const notFound = await failure(head("cloudknot/a/missing"));
    assert.deepEqual([notFound.name, notFound.status], ["NotFound", 404]);
  } finally {
    await emu.close();
  }
});
