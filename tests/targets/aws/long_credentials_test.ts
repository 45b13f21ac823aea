// A long wait whose credentials come from a profile's `credential_process`
// (a helper such as an SSO or SAML login tool), which stops giving them
// mid-wait: its login expired. The wait says at once what the helper said
// (run `aws sso login`) and how to pick the run up, keeps every result, and
// goes on once the user has logged in again: nothing failed, nothing
// submitted twice.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startTestBed, type TestBed, waitsForFile } from "./helpers.ts";
import { profileSession, startLongWait } from "./long_wait.ts";

/**
 * What the helper prints: temporary credentials of the bed's job role from
 * STS, which it says expire in a minute, so that the client asks the helper
 * again before each request (it renews within five minutes of the end).
 */
async function login(bed: TestBed, home: string): Promise<void> {
  const { Credentials: c } = await bed.session.sts.assumeRole({
    RoleArn: bed.resources.jobRoleArn,
    RoleSessionName: "ada",
    DurationSeconds: 900,
  });
  await Deno.writeTextFile(
    join(home, "creds.json"),
    JSON.stringify({
      Version: 1,
      AccessKeyId: c!.AccessKeyId,
      SecretAccessKey: c!.SecretAccessKey,
      SessionToken: c!.SessionToken,
      Expiration: new Date(Date.now() + 60_000).toISOString(),
    }),
  );
  await Deno.remove(join(home, "expired")).catch(() => {});
}

Deno.test("AWS target: a wait whose credential_process stops giving credentials says what to run and how to pick the run up, and goes on with every result once they are renewed, with nothing submitted twice", async () => {
  const bed = await startTestBed(waitsForFile, { permissions: { read: true } });
  const home = await Deno.makeTempDir({ prefix: "ck-long-creds-" });
  try {
    await Deno.mkdir(join(home, ".aws"));
    const helper = join(home, "helper.sh");
    await Deno.writeTextFile(
      helper,
      `if [ -e ${home}/expired ]; then\n` +
        `  echo "Error loading SSO Token: Token for corp has expired: run aws sso login --profile corp" >&2\n` +
        `  exit 1\nfi\ncat ${home}/creds.json\n`,
    );
    await Deno.writeTextFile(
      join(home, ".aws", "config"),
      `[profile dev]\ncredential_process = sh ${helper}\n`,
    );
    await login(bed, home);
    const env: Record<string, string> = {
      HOME: home,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      AWS_EC2_METADATA_DISABLED: "true",
    };
    const wait = await startLongWait(bed, await profileSession(bed, env));
    const { run, warnings } = wait;

    // The helper's login expires.
    await Deno.writeTextFile(join(home, "expired"), "");
    await wait.rideOut();
    wait.assertNoneFailed("without credentials");
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(
      warnings[0]!,
      new RegExp(
        `^cloudknot: run ${run.runId} of knot squares cannot be followed since ` +
          `\\d\\d:\\d\\d:\\d\\d UTC: the AWS credentials expired, were refused or cannot be got \\(Profile dev ` +
          `credential_process exited with code 1: Error loading SSO Token: Token for corp has ` +
          `expired: run aws sso login --profile corp; run it by hand to see why\\)\\. Renew or ` +
          `correct them as the message says; the wait goes on once they work\\. Its jobs go on in AWS Batch ` +
          `and keep their results: if this program stops first, collect the run again ` +
          `\\(knot\\.collect\\("${run.runId}"\\) of knot squares\\)$`,
      ),
    );

    // The job ends meanwhile; then the user logs in again.
    await wait.releaseSecond();
    await bed.emu.waitForJobs(60_000);
    await login(bed, home);

    await wait.assertEveryResultOnce();
    assert.match(warnings[1]!, /: AWS answers again, after about \d+ minutes? \(since /);
  } finally {
    await bed.close();
    await Deno.remove(home, { recursive: true });
  }
});
