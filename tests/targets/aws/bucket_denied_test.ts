// A knot clobbered with { bucket: true } by a role that has exactly the IAM
// policy of docs/iam.md, which leaves s3:DeleteBucket out on purpose: the
// emulator authorizes a role session's S3 requests against the role's
// policies, so S3 refuses the DeleteBucket. Everything else is clobbered, the
// bucket is kept, and the error says what to grant or how to delete it.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { BucketDeleteDeniedError } from "../../../src/resources/mod.ts";
import { StateFile } from "../../../src/state/mod.ts";
import { docsPolicyText } from "../../docs/iam_policy.ts";
import { startEmulator } from "../../emulator/mod.ts";
import { roleKeys, sessionFor } from "../../support/aws_session.ts";
import { ensureBaseImage } from "../../support/base_image.ts";
import { dockerTest } from "../../support/docker_available.ts";

function square(x: number): number {
  return x * x;
}

dockerTest(
  "clobber({ bucket: true }) with the documented policy clobbers the knot, keeps the bucket and says to grant s3:DeleteBucket",
  async () => {
    const emu = await startEmulator({ registry: true, ceValidDelayMs: 30 });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-bucket-denied-" });
    try {
      const admin = await sessionFor(emu);
      const session = await sessionFor(emu, {
        credentials: await roleKeys(admin, emu.accountId, {
          role: "cloudknot-user",
          policy: await docsPolicyText(),
          session: "clobber",
        }),
      });
      const state = new StateFile({ path: join(dir, "cloudknot") });
      const before = emu.listResources();
      const knot = await Knot.create({
        name: "denied",
        target: "aws",
        func: square,
        baseImage: await ensureBaseImage(),
        repoName: "denied-images",
        session,
        state,
        cloudknotDir: join(dir, "home"),
        pollInterval: 100,
      });
      const bucket = knot.aws!.bucket;
      assert.equal(bucket, `cloudknot-${emu.accountId}-${emu.region}`);

      const error = await knot.clobber({ pars: true, repo: true, image: true, bucket: true })
        .then(() => undefined, (e) => e);
      assert.ok(error instanceof BucketDeleteDeniedError, String(error));
      assert.equal(error.bucket, bucket);
      assert.equal(error.bucketArn, `arn:aws:s3:::${bucket}`);
      assert.equal(
        error.message,
        `Knot denied and its Pars ${knot.aws!.pars!.name}, repository denied-images and local ` +
          `image denied were clobbered, but bucket ` +
          `${bucket} was kept: these credentials may not delete it (s3:DeleteBucket). Grant ` +
          `s3:DeleteBucket on arn:aws:s3:::${bucket} (docs/iam.md) so that ` +
          `clobber({ bucket: true }) may delete it, or delete it yourself: aws s3 rb s3://${bucket}`,
      );
      assert.match(String((error.cause as Error).message), /s3:DeleteBucket/);

      // Everything the knot made is gone but the bucket, which is empty.
      const made = emu.listResources().filter((r) =>
        !before.some((b) => b.arn === r.arn && b.id === r.id)
      );
      assert.deepEqual(made.map((r) => `${r.service} ${r.type} ${r.id}`), [`s3 bucket ${bucket}`]);
      const left = await admin.s3.listObjectsV2({ Bucket: bucket });
      assert.equal(left.KeyCount, 0);
      assert.equal(await state.section("knot denied"), undefined);
      // The knot is clobbered: it says so, and a second clobber does nothing.
      await assert.rejects(() => knot.map([1]), /Knot denied was clobbered: create it again/);
      emu.requests.clear();
      await knot.clobber({ bucket: true });
      assert.deepEqual(emu.requests.entries, []);
    } finally {
      await emu.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
