// A long wait on a laptop: AWS cannot be reached for a while (the network
// dropped, the machine slept) or throttles every DescribeJobs for a stretch,
// for more rounds than a wait may fail in a row for any other reason. The
// run's jobs go on meanwhile. The wait rides it out, says so once and once
// more when AWS answers, and settles every item from its record: nothing
// failed, nothing submitted twice.
import assert from "node:assert/strict";
import { MapRun } from "../../../mod.ts";
import { S3Store } from "../../../src/store/mod.ts";
import { RunPoller } from "../../../src/targets/aws/batch/run_poller.ts";
import { startEmulator } from "../../emulator/mod.ts";
import { sessionFor } from "../../support/aws_session.ts";
import { FrontProxy } from "../../support/front_proxy.ts";
import { startTestBed, waitsForFile } from "./helpers.ts";
import { pause, startLongWait } from "./long_wait.ts";

for (
  const outage of [
    { name: "cannot reach AWS", notice: /cannot reach AWS since \d\d:\d\d:\d\d UTC \(/ },
    {
      name: "is throttled on every DescribeJobs",
      notice: /cannot reach AWS since .*Too Many Requests/,
    },
  ]
) {
  Deno.test(`AWS target: a wait that ${outage.name} for more rounds than any other failure may take rides it out, says so, and settles every item from its record once AWS answers, with nothing submitted twice`, async () => {
    const bed = await startTestBed(waitsForFile, { permissions: { read: true } });
    const front = new FrontProxy(Number(new URL(bed.emu.endpoint).port));
    try {
      // A client that retries each call a few times, as every client does, then fails the round.
      const session = await sessionFor(bed.emu, {
        endpoint: front.endpoint,
        retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, maxThrottledRetries: 2 },
      });
      const wait = await startLongWait(bed, session);
      const { run, warnings } = wait;

      const throttle = outage.name.includes("throttled")
        ? bed.emu.faults.add({ service: "batch", operation: "DescribeJobs", kind: "throttle" })
        : (front.unplug(), undefined);
      await wait.rideOut();
      wait.assertNoneFailed("that cannot use AWS");
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(warnings[0]!, new RegExp(`^cloudknot: run ${run.runId} of knot squares `));
      assert.match(warnings[0]!, outage.notice);
      assert.ok(
        warnings[0]!.includes(
          `the wait goes on and picks up when AWS answers again. Its jobs go on in AWS Batch and ` +
            `keep their results: if this program stops first, collect the run again ` +
            `(knot.collect("${run.runId}") of knot squares)`,
        ),
        warnings[0],
      );

      // The job ends while the client cannot see it; its record waits in S3.
      await wait.releaseSecond();
      await bed.emu.waitForJobs(60_000);
      if (throttle !== undefined) bed.emu.faults.clear(throttle);
      else front.plug();

      await wait.assertEveryResultOnce();
      assert.match(
        warnings[1]!,
        new RegExp(
          `^cloudknot: run ${run.runId} of knot squares: AWS answers again, after about \\d+ ` +
            `minutes? \\(since \\d\\d:\\d\\d:\\d\\d UTC\\); the wait goes on`,
        ),
      );
    } finally {
      await front.close();
      await bed.close();
    }
  });
}

Deno.test("poll loop: an outage that outlasts maxOutageMs ends the items, with what the jobs may still do and how to read the run again", async () => {
  const emu = await startEmulator();
  const front = new FrontProxy(Number(new URL(emu.endpoint).port));
  try {
    const session = await sessionFor(emu, {
      endpoint: front.endpoint,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    });
    await session.s3.createBucket({ Bucket: "outage-bucket" });
    const { run, control } = MapRun.create<number>({
      knot: "k",
      runId: "r",
      target: "aws",
      total: 1,
      attempts: 1,
    });
    const notices: string[] = [];
    let rounds = 0;
    const polling = new RunPoller({
      batch: session.batch,
      run: new S3Store({ session, bucket: "outage-bucket", prefix: "runs/r" }),
      // No job yet: each round lists the run's records, waiting for item 0's.
      jobs: [],
      attempts: 1,
      control,
      total: 1,
      minIntervalMs: 1,
      maxIntervalMs: 5,
      maxFailedRounds: 3,
      maxOutageMs: 0,
      onOutage: (notice) => notices.push(notice.kind),
      onRound: () => rounds++,
      readAgain: `collect the run again (knot.collect("r") of knot k)`,
    }).run(new AbortController().signal);
    while (rounds === 0) await pause();
    front.unplug();
    await polling;
    const [only] = await run.settled();
    assert.ok(only!.status === "rejected");
    assert.equal(only!.reason.remote.name, "PollError");
    assert.match(
      only!.reason.message,
      /failed 3 times in a row \(S3\.ListObjectsV2: NetworkError: .*\); the jobs may still be running, and what they recorded is kept: collect the run again \(knot\.collect\("r"\) of knot k\)$/,
    );
    assert.deepEqual(notices, ["unreachable"]);
  } finally {
    await front.close();
    await emu.close();
  }
});
