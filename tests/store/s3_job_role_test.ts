// S3Store signed with a knot's job role, against the emulator: what a job's
// reads of a key that does not exist answer. On AWS, GetObject and HeadObject
// of a missing key are 404 only to a caller allowed s3:ListBucket on the
// bucket, and 403 to any other (S3 API reference, GetObject and HeadObject,
// "Permissions"). The job role allows ListBucket only with an `s3:prefix`
// under `cloudknot/`, which a GetObject request does not carry, so S3 refuses
// a job's read of a missing key under its own run. The store lists the key
// (as the role may) and tells the job that it is absent, as it tells a user:
// a run whose data was deleted or expired under its job says so in the job's
// log, not that access was denied.
import assert from "node:assert/strict";
import { AwsError, AwsSession } from "../../src/aws/mod.ts";
import { readItem, writePayload } from "../../src/job/payload.ts";
import { jobBucketPolicy } from "../../src/resources/_iam_roles.ts";
import { S3Store } from "../../src/store/mod.ts";
import { startEmulator } from "../emulator/mod.ts";

const BUCKET = "job-bucket";
const RUN = "cloudknot/k/runs/r1";

Deno.test("a job role's GET and HEAD of a missing key under its own prefix, which S3 refuses, are absent to the job as they are to the user", async () => {
  const emu = await startEmulator({ realism: false });
  try {
    const options = {
      region: emu.region,
      endpoint: emu.endpoint,
      env: () => undefined,
      readTextFile: () => Promise.resolve(undefined),
    };
    const user = await AwsSession.create({ ...options, credentials: emu.credentials });
    await user.s3.createBucket({ Bucket: BUCKET });
    const me = await user.sts.getCallerIdentity({});
    await user.iam.createRole({
      RoleName: "p.k-job",
      AssumeRolePolicyDocument: JSON.stringify({
        Statement: [{ Effect: "Allow", Principal: { AWS: me.Arn }, Action: "sts:AssumeRole" }],
      }),
    });
    // The knot's job role, with the policy a Pars gives it.
    await user.iam.putRolePolicy({
      RoleName: "p.k-job",
      PolicyName: "data",
      PolicyDocument: jobBucketPolicy(BUCKET, "aws"),
    });
    const { Credentials: c } = await user.sts.assumeRole({
      RoleArn: `arn:aws:iam::${emu.accountId}:role/p.k-job`,
      RoleSessionName: "job",
    });
    const job = await AwsSession.create({
      ...options,
      credentials: {
        accessKeyId: c!.AccessKeyId!,
        secretAccessKey: c!.SecretAccessKey!,
        sessionToken: c!.SessionToken!,
      },
    });
    const mine = new S3Store({ session: user, bucket: BUCKET, prefix: RUN });
    const its = new S3Store({ session: job, bucket: BUCKET, prefix: RUN });
    await writePayload(mine, [new Uint8Array([7])], {
      version: 1,
      runId: "r1",
      knot: "k",
      count: 1,
      starmap: false,
      createdAt: 0,
      attempts: 1,
    });

    // What exists, the job reads and lists.
    assert.deepEqual(await readItem(its, 0), new Uint8Array([7]));
    assert.deepEqual((await Array.fromAsync(its.list(""))).map((o) => o.key).sort(), [
      "index",
      "inputs",
      "run.json",
    ]);

    // The user (allowed ListBucket on the whole bucket) is told a missing key is absent.
    assert.equal(await mine.get("missing"), undefined);
    assert.equal(await mine.head("missing"), undefined);

    // The job role is refused by S3 (403), and the store lists the key to tell it is absent.
    const listsBefore = emu.count("s3", "ListObjectsV2");
    assert.equal(await its.get("missing"), undefined);
    assert.equal(await its.head("missing"), undefined);
    // A ranged read, as a job reads its run's index and inputs.
    assert.equal(await its.get("missing", { range: { offset: 0, length: 16 } }), undefined);
    assert.equal(emu.count("s3", "ListObjectsV2") - listsBefore, 3);
    // A key that is there but refused is the refusal: one outside the role's prefix.
    await user.s3.putObject({ Bucket: BUCKET, Key: "elsewhere/x", Body: "x" });
    const other = new S3Store({ session: job, bucket: BUCKET, prefix: "elsewhere" });
    const denied = await other.get("x").then(() => undefined, (e) => e);
    assert.ok(denied instanceof AwsError && denied.status === 403, String(denied));

    // A run whose data was deleted (or expired) under the job: the job is told the run has no
    // index, as the user is.
    await mine.delete(["index", "inputs", "run.json"]);
    await assert.rejects(
      () => readItem(its, 0),
      /has no index object; it was deleted or never written/,
    );
    await assert.rejects(() => readItem(mine, 0), /has no index object/);
  } finally {
    await emu.close();
  }
});
