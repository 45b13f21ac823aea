// A long wait whose keys are a session token in `~/.aws/credentials`, which
// the client cannot renew itself (no expiration it knows of; written by `aws
// configure`, saml2aws or a company's SAML script): AWS refuses them as
// expired mid-wait, the wait says so once, that it needs no restart, and
// rides it out, and once the user writes new keys to the file in another
// terminal (of the same length, within the same millisecond: no change its
// size, time or inode shows), the same session's next round signs with them
// and the wait finishes with every result: nothing failed, nothing submitted
// twice.
import assert from "node:assert/strict";
import { rewriteUnseen } from "../../support/unseen_rewrite.ts";
import { join } from "node:path";
import { startTestBed, type TestBed, waitsForFile } from "./helpers.ts";
import { profileSession, startLongWait } from "./long_wait.ts";

/** Writes a new session of the bed's job role to the profile, as a SAML script does; returns its key id. */
async function login(bed: TestBed, home: string, name: string): Promise<string> {
  const { Credentials: c } = await bed.session.sts.assumeRole({
    RoleArn: bed.resources.jobRoleArn,
    RoleSessionName: name,
    DurationSeconds: 900,
  });
  await Deno.writeTextFile(
    join(home, ".aws", "credentials"),
    `[dev]\naws_access_key_id = ${c!.AccessKeyId}\naws_secret_access_key = ${
      c!.SecretAccessKey
    }\n` +
      `aws_session_token = ${c!.SessionToken}\n`,
  );
  return c!.AccessKeyId!;
}

Deno.test("AWS target: a wait whose session keys in ~/.aws/credentials expire rides it out, says it needs no restart, and finishes with every result once the file is rewritten with new keys of the same length and time, with nothing submitted twice", async () => {
  const bed = await startTestBed(waitsForFile, { permissions: { read: true } });
  const home = await Deno.makeTempDir({ prefix: "ck-long-renew-" });
  try {
    await Deno.mkdir(join(home, ".aws"));
    const first = await login(bed, home, "monday");
    const env: Record<string, string> = { HOME: home, AWS_EC2_METADATA_DISABLED: "true" };
    const wait = await startLongWait(bed, await profileSession(bed, env));
    const { run, warnings } = wait;

    // The session's keys expire.
    bed.emu.sts.expire(first);
    await wait.rideOut();
    wait.assertNoneFailed("whose keys expired");
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(
      warnings[0]!,
      /cannot be followed since \d\d:\d\d:\d\d UTC: the AWS credentials expired, were refused or cannot be got \(.*ExpiredToken/,
    );
    assert.match(
      warnings[0]!,
      /profile dev in the shared files .* have expired: write new ones there .*; a wait that is running \(await run, knot\.collect\(\), .*\) needs no restart: it reads them there by itself and goes on/,
    );

    // The job ends meanwhile; then the user writes new keys to the file, with keys of the
    // same length, within the same millisecond as far as its time tells.
    await wait.releaseSecond();
    await bed.emu.waitForJobs(60_000);
    const file = join(home, ".aws", "credentials");
    await rewriteUnseen(file, () => login(bed, home, "friday"));
    await wait.rideOut();
    assert.ok(run.finished, "the wait finishes with the keys the file now holds");

    await wait.assertEveryResultOnce();
    assert.match(warnings[1]!, /: AWS answers again, after about \d+ minutes? \(since /);
  } finally {
    await bed.close();
    await Deno.remove(home, { recursive: true });
  }
});
