// AWS's refusals of the credentials themselves say what to check, on every
// protocol: the emulator checks signatures and keys as AWS does.
import assert from "node:assert/strict";
import { AwsError } from "../../src/aws/mod.ts";
import { startEmulator } from "../emulator/mod.ts";
import { sessionFor } from "../support/aws_session.ts";

Deno.test("a wrong secret key or an unknown access key id fails with what to check after AWS's own sentence, one full stop between them, on query, JSON and REST-XML services", async () => {
  const emu = await startEmulator();
  try {
    const calls = async (credentials: { accessKeyId: string; secretAccessKey: string }) => {
      const aws = await sessionFor(emu, { credentials });
      return [
        () => aws.sts.getCallerIdentity(),
        () => aws.batch.describeJobQueues({}),
        () => aws.s3.getObject({ Bucket: "lab-data", Key: "k" }),
        () => aws.ec2.describeVpcs({}),
      ];
    };
    const wrongSecret = await calls({ ...emu.credentials, secretAccessKey: "wrong" });
    for (const call of wrongSecret) {
      await assert.rejects(call, (e) => {
        assert.ok(e instanceof AwsError, String(e));
        assert.doesNotMatch(e.message, /\.\./, "one full stop after AWS's message");
        assert.match(
          e.message,
          /AWS did not accept the secret access key for this access key id: check the keys cloudknot uses \(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the profile's in ~\/\.aws\/credentials\); `aws sts get-caller-identity` with the same settings tests them \(request id [^)]*\)$/,
        );
        return true;
      });
    }
    const unknownKey = await calls({ accessKeyId: "AKIAUNKNOWN000000000", secretAccessKey: "x" });
    for (const call of unknownKey) {
      await assert.rejects(call, (e) => {
        assert.ok(e instanceof AwsError, String(e));
        assert.doesNotMatch(e.message, /\.\./, "one full stop after AWS's message");
        assert.match(
          e.message,
          /[^.]\. AWS does not know these credentials \(a deleted or mistyped/,
        );
        return true;
      });
    }
  } finally {
    await emu.close();
  }
});
