// S3Store signed with a knot's job role, against the emulator: what a job's
// reads of a key that does not exist answer. On AWS, GetObject and HeadObject
// of a missing key are 404 only to a caller allowed s3:ListBucket on the
// bucket, and 403 to any other (S3 API reference, GetObject and HeadObject,
// "Permissions"). The job role allows ListBucket only with an `s3:prefix`
// under `cloudknot/`, which a GetObject request does not carry, so a job's
// read of a missing key under its own run is AccessDenied, not absent.
// A job's normal flow never reads one: it reads the run's index and inputs,
// which the client writes before it submits a job, and, on a later attempt,
// the records it has just listed (`job/main.ts`). Only a run whose data was
// deleted or expired under its job reaches a store's "absent" branch, and a
// job exits with the store's exit code (3) whether S3 says 403 or 404.
import assert from "node:assert/strict";
import { AwsError, AwsSession } from "../../src/aws/mod.ts";
import { readItem, writePayload } from "../../src/job/payload.ts";
import { jobBucketPolicy } from "../../src/resources/_iam_roles.ts";
import { S3Store } from "../../src/store/mod.ts";
import { startEmulator } from "../emulator/mod.ts";

const BUCKET = "job-bucket";
const RUN = "cloudknot/k/runs/r1";

Deno.test("a job role's GET and HEAD of a missing key under its own prefix are 403 AccessDenied, the user's are absent", async () => {
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

    // The job role is refused: 403, not absent.
    const refused = async (p: Promise<unknown>) => {
      const e = await p.then(() => undefined, (e) => e);
      assert.ok(e instanceof AwsError, String(e));
      assert.equal(e.status, 403, String(e));
      return e;
    };
    assert.equal((await refused(its.get("missing"))).code, "AccessDenied");
    await refused(its.head("missing"));
    // A ranged read, as a job reads its run's index and inputs.
    await refused(its.get("missing", { range: { offset: 0, length: 16 } }));

    // A run whose data was deleted (or expired) under the job: its first read,
    // the index, is refused, where the user's is told the run has no index. The
    // job ends with the store's exit code either way (`job/main.ts`), its log
    // naming the call and S3's words.
    await mine.delete(["index", "inputs", "run.json"]);
    const gone = await refused(readItem(its, 0));
    assert.equal(gone.code, "AccessDenied");
    assert.match(gone.message, /^S3\.GetObject: AccessDenied: Access Denied/);
    // The user, reading the same run, is told it has no index.
    await assert.rejects(() => readItem(mine, 0), /has no index object/);
  } finally {
    await emu.close();
  }
});
