// A long wait whose keys are a session token in `~/.aws/credentials`, which
// the client cannot renew itself (no expiration it knows of; written by `aws
// configure`, saml2aws or a company's SAML script): AWS refuses them as
// expired mid-wait, the wait says so once and rides it out, and once the user
// writes new keys to the file in another terminal, the same session's next
// round signs with them and the wait finishes with every result: nothing
// failed, nothing submitted twice.
import assert from "node:assert/strict";
import { join } from "node:path";
import { AwsSession } from "../../../src/aws/mod.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import { releaseFile, startTestBed, type TestBed, waitsForFile } from "./helpers.ts";

/** More failed rounds than `RunPollerOptions.maxFailedRounds` (30) lets any other failure have. */
const ROUNDS = 40;

const pause = () => new Promise((r) => setTimeout(r, 20));

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

Deno.test("AWS target: a wait whose session keys in ~/.aws/credentials expire rides it out, and finishes with every result once the file is rewritten with new keys, with nothing submitted twice", async () => {
  const bed = await startTestBed(waitsForFile, { permissions: { read: true } });
  const home = await Deno.makeTempDir({ prefix: "ck-long-renew-" });
  try {
    await Deno.mkdir(join(home, ".aws"));
    const first = await login(bed, home, "monday");
    const env: Record<string, string> = { HOME: home, AWS_EC2_METADATA_DISABLED: "true" };
    const session = await AwsSession.create({
      profile: "dev",
      endpoint: bed.emu.endpoint,
      region: bed.emu.region,
      env: (n) => env[n],
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    });
    const warnings: string[] = [];
    let rounds = 0;
    const target = bed.target({
      session,
      pollIntervalMs: 10,
      maxPollIntervalMs: 40,
      warn: (m) => warnings.push(m),
      onPoll: () => rounds++,
    });
    const [one, two] = [join(bed.dir, "first"), join(bed.dir, "second")];
    const run = await target.map<string>({
      items: encodeItems([one, two]),
      starmap: false,
      env: {},
    });
    await releaseFile(one, "one");
    while (run.counts.succeeded === 0) await pause();

    // The session's keys expire.
    bed.emu.sts.expire(first);
    let from = rounds;
    while (rounds < from + ROUNDS && !run.finished) await pause();
    assert.deepEqual(
      { failed: run.counts.failed, succeeded: run.counts.succeeded },
      { failed: 0, succeeded: 1 },
      `no item is failed by a wait whose keys expired: ${run.items.map((i) => i.error)}`,
    );
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(
      warnings[0]!,
      /cannot be followed since \d\d:\d\d:\d\d UTC: the AWS credentials expired or cannot be got \(.*ExpiredToken/,
    );

    // The job ends meanwhile; then the user writes new keys to the file.
    await releaseFile(two, "two");
    await bed.emu.waitForJobs(60_000);
    await login(bed, home, "tuesday");
    from = rounds;
    while (rounds < from + ROUNDS && !run.finished) await pause();
    assert.ok(run.finished, "the wait finishes with the keys the file now holds");

    assert.deepEqual(await run.results(), ["one", "two"]);
    assert.equal(bed.emu.count("batch", "SubmitJob"), 1, "nothing is submitted twice");
    assert.equal(warnings.length, 2, warnings.join("\n"));
    assert.match(warnings[1]!, /: AWS answers again, after about \d+ minutes? \(since /);
  } finally {
    await bed.close();
    await Deno.remove(home, { recursive: true });
  }
});
