// `cloudknot results <knot> <run>` waiting for a run with keys exported in its environment, which
// AWS then refuses as expired: no renewal can reach a running process's environment, so it ends
// at once (not after a day of waiting) with the item's error in command-line words: export new
// keys, then `cloudknot results <knot> <run>`, which then prints every result. Nothing is sent to
// change anything meanwhile. In a real process, against the AWS test bed.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  cli,
  mapWaiting,
  recordKnot,
  releaseFile,
  spawnCli,
  startTestBed,
  waitsForFile,
} from "../targets/aws/helpers.ts";
import { pause } from "../targets/aws/long_wait.ts";

Deno.test("cloudknot results whose exported keys expire while it waits ends at once with exit code 1, saying in command-line words to export new keys and run cloudknot results <knot> <run>, which then prints the result", async () => {
  const bed = await startTestBed(waitsForFile, { permissions: { read: true } });
  const home = await Deno.makeTempDir({ prefix: "ck-cli-env-keys-" });
  try {
    await recordKnot(bed);
    const file = join(bed.dir, "go");
    const { run } = await mapWaiting(bed, file);
    const { Credentials: c } = await bed.session.sts.assumeRole({
      RoleArn: bed.resources.jobRoleArn,
      RoleSessionName: "exported",
      DurationSeconds: 900,
    });
    const results = spawnCli(bed, ["results", bed.knot, run.runId], {
      HOME: home,
      AWS_ACCESS_KEY_ID: c!.AccessKeyId!,
      AWS_SECRET_ACCESS_KEY: c!.SecretAccessKey!,
      AWS_SESSION_TOKEN: c!.SessionToken!,
    });
    await results.until(/^Waiting for run /m);
    let ended = false;
    const status = results.child.status.finally(() => ended = true);
    const mark = bed.emu.requests.entries.length;

    bed.emu.sts.expire(c!.AccessKeyId!);
    // It ends at its first refused round; one that rides it out is refused at each round.
    const refused = () =>
      bed.emu.requests.entries.slice(mark).filter((e) =>
        e.accessKeyId === c!.AccessKeyId && e.errorCode?.startsWith("ExpiredToken")
      ).length;
    while (!ended && refused() < 12) await pause();
    assert.ok(ended, `results ended at once, where AWS refused its keys ${refused()} times`);
    const { code } = await status;
    const said = await results.rest();
    const printed = await results.stdout;
    assert.equal(code, 1, said);
    const [line] = printed.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(line.index, 0);
    assert.match(
      line.error.message,
      new RegExp(
        "^Stopped waiting at once: AWS refused the credentials, and this program cannot get " +
          "others while it runs \\(.*AWS_SESSION_TOKEN have expired, and a running program keeps " +
          "the environment it started with: export new ones and start it again \\(a wait stopped " +
          "for it loses nothing: cloudknot results <knot> <run> picks its run up again, and " +
          "cloudknot logs <knot> <run> --item N --follow its log\\) \\(request " +
          "id [^)]*\\)\\)\\. " +
          "The jobs go on in AWS Batch and what they record is kept: with new credentials, run " +
          `cloudknot results ${bed.knot} ${run.runId}$`,
      ),
    );
    assert.match(line.error.cause.message, /cloudknot results <knot> <run> picks its run up/);
    // The whole line, AWS's error in its cause included, is in command-line words.
    for (const words of [JSON.stringify(line.error), said]) {
      assert.doesNotMatch(words, /knot\.collect|BatchJob|await run/, "no library call");
    }
    assert.deepEqual(
      bed.emu.requests.entries.slice(mark).filter((e) =>
        e.mutating && e.accessKeyId === c!.AccessKeyId
      ),
      [],
      "nothing was sent to change anything",
    );

    // As it says: the job ends meanwhile, and results with good keys prints it.
    await releaseFile(file, "done");
    await bed.emu.waitForJobs(60_000);
    const again = await cli(bed, ["results", bed.knot, run.runId]).ended;
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), { index: 0, value: "done" });
    assert.equal(bed.emu.count("batch", "SubmitJob"), 1, "nothing is submitted twice");
    assert.deepEqual(await run.results(), ["done"]);
  } finally {
    await bed.close();
    await Deno.remove(home, { recursive: true });
  }
});
