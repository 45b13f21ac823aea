// `cloudknot logs <job> --follow` whose keys are a session token in `~/.aws/credentials` (a SAML
// script's): AWS refuses them as expired while the job runs; the follow says so on stderr in
// command-line words, that it needs no restart and reads new keys written there by itself, and
// once the script writes new keys of the same length within the same millisecond (no change the
// file's size, time or inode shows), it reads on and prints every line once. In a real process.
import assert from "node:assert/strict";
import { rewriteUnseen } from "../support/unseen_rewrite.ts";
import { join } from "node:path";
import {
  mapWaiting,
  printsAround,
  recordKnot,
  releaseFile,
  spawnCli,
  startTestBed,
  type TestBed,
} from "../targets/aws/helpers.ts";
import { pause } from "../targets/aws/long_wait.ts";

/** Writes a new session of the bed's job role to `file` as `[default]`, as a SAML script does; returns its key id. */
async function login(bed: TestBed, file: string, name: string): Promise<string> {
  const { Credentials: c } = await bed.session.sts.assumeRole({
    RoleArn: bed.resources.jobRoleArn,
    RoleSessionName: name,
    DurationSeconds: 900,
  });
  await Deno.writeTextFile(
    file,
    `[default]\naws_access_key_id = ${c!.AccessKeyId}\n` +
      `aws_secret_access_key = ${c!.SecretAccessKey}\naws_session_token = ${c!.SessionToken}\n`,
  );
  return c!.AccessKeyId!;
}

Deno.test("cloudknot logs --follow whose keys in ~/.aws/credentials expire says in command-line words that it needs no restart, and reads on with the keys the file is rewritten with, though its size and time did not change", async () => {
  const bed = await startTestBed(printsAround, { permissions: { read: true } });
  const home = await Deno.makeTempDir({ prefix: "ck-cli-renew-" });
  try {
    await recordKnot(bed);
    await Deno.mkdir(join(home, ".aws"));
    const credentials = join(home, ".aws", "credentials");
    const first = await login(bed, credentials, "monday");
    const file = join(bed.dir, "go");
    const { run, jobId } = await mapWaiting(bed, file);
    const spawned = spawnCli(bed, ["logs", jobId, "--follow"], {
      HOME: home,
      // The profile's keys, not the emulator's root keys from the environment.
      AWS_ACCESS_KEY_ID: "",
      AWS_SECRET_ACCESS_KEY: "",
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_CONFIG_FILE: join(home, ".aws", "config"),
    });
    await spawned.printed(/before the wait/);

    bed.emu.sts.expire(first);
    await spawned.until(/cannot be followed since/);
    const said = spawned.said();
    assert.match(
      said,
      /^cloudknot: the log of AWS Batch job .* cannot be followed since \d\d:\d\d:\d\d UTC: the AWS credentials expired, were refused or cannot be got \(.*The temporary credentials of profile default in the shared files \(~\/\.aws\/credentials, ~\/\.aws\/config\) have expired: write new ones there \(.*\) and try again; a running cloudknot results, cloudknot logs --follow or cloudknot map \(waiting for results\) needs no restart: it reads them there by itself and goes on/m,
    );
    assert.doesNotMatch(said, /knot\.collect|BatchJob|await run|\{ follow/, said);

    // The job ends; then the script writes new keys, and the file's time is as it was.
    await releaseFile(file, "done");
    await bed.emu.waitForJobs(60_000);
    const mark = bed.emu.requests.entries.length;
    await rewriteUnseen(credentials, () => login(bed, credentials, "friday"));

    // The follow reads on at its next try; one that kept the dead keys is refused at each try.
    const refusedSince = () =>
      bed.emu.requests.entries.slice(mark).filter((e) => e.errorCode?.startsWith("ExpiredToken"))
        .length;
    while (!/after the wait/.test(spawned.out()) && refusedSince() < 4) await pause();
    assert.match(
      spawned.out(),
      /after the wait/,
      `the follow reads on with the new keys, where AWS refused the old ones ${refusedSince()} times`,
    );
    const { code } = await spawned.child.status;
    const rest = await spawned.rest();
    assert.equal(code, 0, rest);
    const printed = (await spawned.stdout).split("\n").filter((l) => l.includes("the wait"));
    assert.equal(printed.length, 2, printed.join("\n"));
    assert.match(printed[1]!, /after the wait$/);
    assert.match(rest, /: AWS answers again, after about \d+ minutes? \(since /);
    assert.equal(await run.results().then((r) => r[0]), "done");
  } finally {
    await bed.close();
    await Deno.remove(home, { recursive: true });
  }
});
