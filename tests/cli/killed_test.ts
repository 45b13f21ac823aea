// A command-line process killed (SIGKILL) part-way through its AWS requests,
// then the command a user runs next: what was finished stays readable, what
// was half done is finished, and nothing is left that no command finds.
import assert from "node:assert/strict";
import { killAt } from "../support/kill_at.ts";
import { withAwsHome } from "./aws_helpers.ts";
import { cli, spawnCli } from "./helpers.ts";

const BUCKET = "cloudknot-123456789012-us-east-1";

for (const operation of ["PutPublicAccessBlock", "PutBucketPolicy"]) {
  Deno.test(`configure killed at ${operation} of a new bucket: the next configure finishes the bucket`, async () => {
    await withAwsHome(async (home) => {
      await killAt(
        home.emu,
        { service: "s3", operation },
        () => spawnCli(home, ["configure", "--region", "us-east-1"]),
      );
      assert.ok(home.emu.s3.buckets.has(BUCKET));
      const again = await cli(home, ["configure", "--region", "us-east-1"]);
      assert.equal(again.code, 0, again.stderr);
      const bucket = home.emu.s3.buckets.get(BUCKET)!;
      // The lifecycle rule expires job data and aborts unfinished uploads.
      assert.match(bucket.config.lifecycle ?? "", /AbortIncompleteMultipartUpload/);
      assert.match(bucket.config.policy ?? "", /aws:SecureTransport/);
      assert.match(bucket.config.publicAccessBlock ?? "", /<BlockPublicAcls>true/);
      assert.match(bucket.config.encryption ?? "", /AES256/);
      assert.equal(bucket.tags?.ManagedBy, "cloudknot");
    });
  });
}
