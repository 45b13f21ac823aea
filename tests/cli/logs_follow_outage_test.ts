// `cloudknot logs <job> --follow` and `cloudknot logs K R --item N --follow` on a laptop that
// loses its network while the job runs: the follow rides it out, says so on stderr in command-line
// words (what to run again, not a library call) once it begins and once AWS answers, and prints
// every line once. In a real process, through a front to the emulator that is unplugged.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  mapWaiting,
  printsAround,
  recordKnot,
  releaseFile,
  spawnCli,
  startTestBed,
} from "../targets/aws/helpers.ts";
import { FrontProxy } from "../support/front_proxy.ts";

Deno.test("cloudknot logs --follow, of a job id or of an item, says in command-line words when it cannot reach AWS and when AWS answers again, and prints every line once", async () => {
  const bed = await startTestBed(printsAround, { permissions: { read: true } });
  const front = new FrontProxy(Number(new URL(bed.emu.endpoint).port));
  try {
    await recordKnot(bed);
    for (const named of ["job", "item"] as const) {
      const file = join(bed.dir, `go-${named}`);
      const { run, jobId } = await mapWaiting(bed, file);
      const spawned = spawnCli(
        bed,
        ["logs", ...(named === "job" ? [jobId] : [bed.knot, run.runId, "--item", "0"]), "--follow"],
        { AWS_ENDPOINT_URL: front.endpoint },
      );
      await spawned.printed(/before the wait/);
      // The laptop loses its network while the job runs.
      front.unplug();
      const again = named === "job"
        ? `run cloudknot logs ${jobId} --follow again`
        : `run cloudknot logs ${bed.knot} ${run.runId} --item 0 --follow again`;
      const lost = new RegExp(
        `^cloudknot: the log of AWS Batch job ${jobId} cannot reach AWS since ` +
          `\\d\\d:\\d\\d:\\d\\d UTC \\(.*\\); the follow goes on and picks up when AWS answers ` +
          `again\\. The job goes on in AWS Batch: if this program stops first, ${again}$`,
        "m",
      );
      await spawned.until(lost);
      // The job ends while the follow cannot reach AWS.
      await releaseFile(file, "done");
      await bed.emu.waitForJobs(60_000);
      front.plug();
      const { code } = await spawned.child.status;
      const said = await spawned.rest();
      assert.equal(code, 0, said);
      // Every line once, in order: the one read before the outage and the one the job printed
      // during it.
      const printed = (await spawned.stdout).split("\n").filter((l) => l.includes("the wait"));
      assert.equal(printed.length, 2, printed.join("\n"));
      assert.match(printed[0]!, /before the wait$/);
      assert.match(printed[1]!, /after the wait$/);
      assert.match(
        said,
        new RegExp(
          `^cloudknot: the log of AWS Batch job ${jobId}: AWS answers again, after about \\d+ ` +
            `minutes? \\(since \\d\\d:\\d\\d:\\d\\d UTC\\); the follow goes on and reads on from ` +
            `where the log was$`,
          "m",
        ),
      );
      assert.equal(said.match(/the log of AWS Batch job/g)?.length, 2, said);
      // Command-line words only: no library call, no option.
      assert.doesNotMatch(said, /knot\.collect|BatchJob|onOutage|\{ follow/, said);
      assert.equal(await run.results().then((r) => r[0]), "done");
    }
  } finally {
    await front.close();
    await bed.close();
  }
});
