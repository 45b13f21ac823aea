// A long wait whose credentials AWS refuses mid-wait, by where they came from. Keys from the
// environment cannot be renewed in a running program (it keeps the environment it started
// with): the wait ends at once, its items say what happened and how to pick the run up with
// new keys, nothing is sent to change anything, and the run's results stay readable. Keys in
// `~/.aws/credentials`, which the session reads again, are an outage even when the user's new
// ones are refused too (a secret key mistyped there): the wait rides it out and finishes once
// the file holds keys AWS accepts, with nothing submitted twice.
import assert from "node:assert/strict";
import { join } from "node:path";
import { AwsSession } from "../../../src/aws/mod.ts";
import { startTestBed, type TestBed, waitsForFile } from "./helpers.ts";
import { profileSession, startLongWait } from "./long_wait.ts";

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/** A new session of the bed's job role, as `aws sts assume-role` or a SAML script gets one. */
async function login(bed: TestBed, name: string): Promise<Keys> {
  const { Credentials: c } = await bed.session.sts.assumeRole({
    RoleArn: bed.resources.jobRoleArn,
    RoleSessionName: name,
    DurationSeconds: 900,
  });
  return {
    accessKeyId: c!.AccessKeyId!,
    secretAccessKey: c!.SecretAccessKey!,
    sessionToken: c!.SessionToken!,
  };
}

Deno.test("AWS target: a wait whose keys from the environment expire ends at once, its items saying to collect the run again with new keys, with no request that changes anything, and the run's results stay readable", async () => {
  const bed = await startTestBed(waitsForFile, { permissions: { read: true } });
  const home = await Deno.makeTempDir({ prefix: "ck-long-env-" });
  try {
    const keys = await login(bed, "exported");
    const env: Record<string, string> = {
      HOME: home,
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      AWS_SESSION_TOKEN: keys.sessionToken,
    };
    const session = await AwsSession.create({
      endpoint: bed.emu.endpoint,
      region: bed.emu.region,
      env: (n) => env[n],
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    });
    const wait = await startLongWait(bed, session);
    const { run, warnings } = wait;
    const mark = bed.emu.requests.entries.length;

    bed.emu.sts.expire(keys.accessKeyId);
    await wait.rideOut();
    assert.ok(run.finished, "the wait ends at once, not after its rounds or its outage limit");
    assert.deepEqual(run.counts.succeeded, 1);
    const [, second] = run.items;
    assert.equal(second?.status, "failed");
    assert.match(
      second!.error ?? "",
      new RegExp(
        "Stopped waiting at once: AWS refused the credentials, and this program cannot get " +
          "others while it runs \\(.*ExpiredToken.*AWS_SESSION_TOKEN have expired, and a " +
          "running program keeps the environment it started with: export new ones and start it " +
          "again .*\\)\\. The jobs go on in AWS Batch and what they record is kept: with new " +
          `credentials, collect the run again \\(knot\\.collect\\("${run.runId}"\\) of knot ` +
          "squares\\)$",
      ),
    );
    assert.deepEqual(warnings, [], "no notice that the wait goes on");
    const since = bed.emu.requests.entries.slice(mark);
    assert.deepEqual(
      since.filter((e) => e.mutating && e.accessKeyId === keys.accessKeyId),
      [],
      "nothing was sent to change anything",
    );
    assert.ok(since.some((e) => e.errorCode?.startsWith("ExpiredToken")));

    // The job ends meanwhile, and a program with new keys reads every result.
    await wait.releaseSecond();
    await bed.emu.waitForJobs(60_000);
    const again = await bed.target().collect<string>(run.runId);
    assert.deepEqual(await again.results(), ["one", "two"]);
    assert.equal(bed.emu.count("batch", "SubmitJob"), 1, "nothing is submitted twice");
  } finally {
    await bed.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("AWS target: a wait whose keys in ~/.aws/credentials expire, then are rewritten with a mistyped secret key, rides out both refusals and finishes with every result once the file holds keys AWS accepts, with nothing submitted twice", async () => {
  const bed = await startTestBed(waitsForFile, { permissions: { read: true } });
  const home = await Deno.makeTempDir({ prefix: "ck-long-mistyped-" });
  try {
    await Deno.mkdir(join(home, ".aws"));
    const write = (keys: Keys) =>
      Deno.writeTextFile(
        join(home, ".aws", "credentials"),
        `[dev]\naws_access_key_id = ${keys.accessKeyId}\naws_secret_access_key = ${keys.secretAccessKey}\n` +
          `aws_session_token = ${keys.sessionToken}\n`,
      );
    const first = await login(bed, "monday");
    await write(first);
    const env: Record<string, string> = { HOME: home, AWS_EC2_METADATA_DISABLED: "true" };
    const wait = await startLongWait(bed, await profileSession(bed, env));
    const { warnings } = wait;

    bed.emu.sts.expire(first.accessKeyId);
    await wait.rideOut();
    wait.assertNoneFailed("whose keys expired");
    // The user writes new keys there, with a secret key mistyped: AWS refuses their signature.
    const second = await login(bed, "tuesday");
    const last = second.secretAccessKey.at(-1) === "x" ? "y" : "x";
    await write({ ...second, secretAccessKey: second.secretAccessKey.slice(0, -1) + last });
    const mark = bed.emu.requests.entries.length;
    await wait.rideOut();
    wait.assertNoneFailed("whose new secret key was mistyped");
    assert.ok(
      bed.emu.requests.entries.slice(mark).some((e) =>
        e.accessKeyId === second.accessKeyId &&
        /^(SignatureDoesNotMatch|InvalidSignatureException)$/.test(e.errorCode ?? "")
      ),
      "AWS refused the mistyped key's signature",
    );
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0]!, /the AWS credentials expired, were refused or cannot be got \(/);

    // The job ends meanwhile; then the user corrects the secret key.
    await wait.releaseSecond();
    await bed.emu.waitForJobs(60_000);
    await write(second);
    await wait.assertEveryResultOnce();
    assert.match(warnings[1]!, /: AWS answers again, after about \d+ minutes? \(since /);
  } finally {
    await bed.close();
    await Deno.remove(home, { recursive: true });
  }
});
