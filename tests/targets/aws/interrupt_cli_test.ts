// Ctrl-C on `cloudknot retry` (or `map`) of an AWS knot cancels its run and
// waits for its jobs to stop; a second Ctrl-C stops waiting: the command ends
// at once with 130 and says how to run what did not finish.
import assert from "node:assert/strict";
import {
  cancelledRun,
  cli,
  job,
  jobsNamed,
  spawnCli,
  startTestBed,
  untilRunning,
} from "./helpers.ts";

Deno.test("a second Ctrl-C on cloudknot retry stops waiting for the cancelled run's AWS jobs to stop: exit code 130 at once, and the retry command that runs the rest", async () => {
  // Once `slow` is set, a container takes its time to stop: a stop (TerminateJob) reaches it
  // only once `release` resolves.
  let slow = false;
  const release = Promise.withResolvers<void>();
  const bed = await startTestBed(job, {
    wrapRunner: (inner) => ({
      ...(inner.capacity !== undefined ? { capacity: inner.capacity } : {}),
      run: async (req) => {
        const late = new AbortController();
        req.signal.addEventListener("abort", () => {
          const stop = () => late.abort(req.signal.reason);
          if (slow) void release.promise.then(stop);
          else stop();
        }, { once: true });
        return await inner.run({ ...req, signal: late.signal });
      },
    }),
  });
  const { emu } = bed;
  try {
    // A run whose item was cancelled: the retry runs it again.
    const earlier = await cancelledRun(bed);
    slow = true;
    emu.requests.clear();
    const { child, stdout, until, rest, said } = spawnCli(bed, ["retry", bed.knot, earlier]);
    // The run has started (and its interrupt handler is in place) once its header is printed.
    await until(/^knot \S+ · run \S+ retries 1 items/m);
    const runId = /^knot \S+ · run (\S+) retries/m.exec(said())![1]!;
    await untilRunning(emu);
    child.kill("SIGINT");
    await until(/^Cancelling the run \(interrupted\)/m);
    // The job is told to stop, and it takes its time: the command waits for it.
    while (emu.requests.filter({ service: "batch", operation: "TerminateJob" }).length === 0) {
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGINT");
    const all = await rest();
    assert.equal((await child.status).code, 130, all);
    // It did not wait: the job is still stopping.
    const [retried] = jobsNamed(emu, `${bed.knot}-${runId}-`);
    assert.equal(emu.batch.jobs.get(retried!.jobId)!.status, "RUNNING", "the job still stops");
    assert.match(
      all,
      new RegExp(
        `^interrupted again: stopped without waiting for run ${runId}'s cancel to end, so its ` +
          `AWS Batch jobs may still be running: \`cloudknot cancel ${bed.knot} ${runId}\` stops ` +
          `them, then \`cloudknot retry ${bed.knot} ${runId}\` runs the items that did not finish$`,
        "m",
      ),
    );
    assert.match(all, /^Cancelling the run \(interrupted\); Ctrl-C again stops without waiting$/m);
    assert.equal(await stdout, "", "no item had ended");
    release.resolve();
    await emu.waitForJobs(30_000);
    // Read afterwards, the run has its item cancelled, with the command that runs it again.
    const read = await cli(bed, ["results", bed.knot, runId]).ended;
    assert.equal(read.code, 1, read.stderr);
    assert.equal(JSON.parse(read.stdout).error.kind, "cancelled");
    assert.match(
      read.stderr,
      new RegExp(`^\`cloudknot retry ${bed.knot} ${runId}\` runs them again$`, "m"),
    );
  } finally {
    release.resolve();
    await bed.close();
  }
});
