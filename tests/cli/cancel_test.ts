// `cloudknot cancel <knot> [run]` cancels a run from any process; a second Ctrl-C on map or retry
// of an AWS knot, which may end the command before its cancel told the jobs to stop, says so and
// gives that command.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  cancelledRun,
  cli as cliOnBed,
  job,
  spawnCli,
  startTestBed,
  untilRunning,
} from "../targets/aws/helpers.ts";
import { cli, lines, mapGated, spawnCli as spawnLocal, withHome } from "./helpers.ts";

Deno.test("a second Ctrl-C before the cancel told the AWS jobs to stop says they may still be running and gives cloudknot cancel, which stops them", async () => {
  const bed = await startTestBed(job);
  const { emu } = bed;
  // The stop requests of the interrupted command are held, as a lost network would hold them.
  const held = Promise.withResolvers<void>();
  try {
    // A run whose item was cancelled: the retry runs it again, in a job that sleeps.
    const earlier = await cancelledRun(bed);
    const fault = emu.faults.add({
      service: "batch",
      operation: "TerminateJob",
      kind: "latency",
      until: held.promise,
    });
    const { child, stdout, until, rest, said } = spawnCli(bed, ["retry", bed.knot, earlier]);
    await until(/^knot \S+ · run \S+ retries 1 items/m);
    const runId = /^knot \S+ · run (\S+) retries/m.exec(said())![1]!;
    await untilRunning(emu);
    child.kill("SIGINT");
    await until(/^Cancelling the run \(interrupted\)/m);
    // Its TerminateJob is on its way, not yet done: the second Ctrl-C ends the command then.
    const hits = () => emu.faults.list().find((f) => f.id === fault)!.hits;
    while (hits() === 0) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGINT");
    const all = await rest();
    assert.equal((await child.status).code, 130, all);
    assert.equal(await stdout, "");
    assert.match(
      all,
      new RegExp(
        `^interrupted again: stopped without waiting for run ${runId}'s cancel to end, so its ` +
          `AWS Batch jobs may still be running: \`cloudknot cancel ${bed.knot} ${runId}\` stops ` +
          `them, then \`cloudknot retry ${bed.knot} ${runId}\` runs the items that did not finish$`,
        "m",
      ),
    );
    const running = [...emu.batch.jobs.values()].filter((j) =>
      j.jobName.startsWith(`${bed.knot}-${runId}-`)
    );
    assert.deepEqual(running.map((j) => j.status), ["RUNNING"], "its job was not stopped");

    // The command it gives stops the job, and waits for it to end.
    emu.faults.clear(fault);
    const cancelled = await cliOnBed(bed, ["cancel", bed.knot, runId]).ended;
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal(
      cancelled.stdout,
      `Cancelled run ${runId} of knot ${bed.knot}: 1 of 1 items cancelled; ` +
        `\`cloudknot retry ${bed.knot} ${runId}\` runs them again\n`,
    );
    const stopped = emu.batch.jobs.get(running[0]!.jobId)!;
    assert.equal(stopped.status, "FAILED");
    assert.match(stopped.statusReason ?? "", /cloudknot: Cancelled with cloudknot cancel/);
    // Read again, the run has ended: another cancel leaves it as it is.
    const again = await cliOnBed(bed, ["cancel", bed.knot, runId]).ended;
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, `Run ${runId} of knot ${bed.knot} has ended: nothing to cancel\n`);
  } finally {
    held.resolve();
    await bed.close();
  }
});

Deno.test("cloudknot cancel of a local run another process maps cancels it there: that map ends with its item cancelled", async () => {
  await withHome(async (home) => {
    const marker = join(home.dir, "never");
    const { output } = await mapGated(home, "gated", marker);
    const r = await cli(home, ["cancel", "gated"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Cancelled run (\S+) of knot gated: 1 of 1 items cancelled; `cloudknot retry gated \1` runs them again$/m,
    );
    const mapped = await output;
    const stdout = new TextDecoder().decode(mapped.stdout);
    assert.equal(JSON.parse(stdout).error.kind, "cancelled", stdout);
    assert.equal(mapped.code, 1);
  });
});

Deno.test("Ctrl-C on cloudknot cancel while it waits for the run to end exits 130 saying the cancel was sent and what shows the run end, which the run then does", async () => {
  await withHome(async (home) => {
    const marker = join(home.dir, "never");
    const { output, map } = await mapGated(home, "paused", marker);
    // The process that runs the run is stopped: the cancel it is asked for waits for it.
    Deno.kill(map.pid, "SIGSTOP");
    try {
      const child = spawnLocal(home, ["cancel", "paused"]);
      const stdout = new Response(child.stdout).text();
      const err = lines(child.stderr);
      let said = "";
      while (!/^Cancelling run /m.test(said)) {
        const { value, done } = await err.read();
        assert.ok(!done, `cancel ended before it said it cancels:\n${said}`);
        said += `${value}\n`;
      }
      const runId = /^Cancelling run (\S+) of knot paused/m.exec(said)![1]!;
      child.kill("SIGINT");
      const status = await child.status;
      for (let r = await err.read(); !r.done; r = await err.read()) said += `${r.value}\n`;
      assert.equal(status.signal, null, `it ended by itself, not by the signal:\n${said}`);
      assert.equal(status.code, 130, said);
      assert.equal(await stdout, "");
      assert.match(
        said,
        new RegExp(
          `^interrupted: stopped waiting for run ${runId} of knot paused to end; its cancel was ` +
            `sent to the process that runs it, which ends it: \`cloudknot results paused ` +
            `${runId}\` shows the run end, and \`cloudknot cancel paused ${runId}\` again ` +
            `waits for it to end$`,
          "m",
        ),
      );
      // It was sent: the map's process, going on, cancels its run.
      Deno.kill(map.pid, "SIGCONT");
      const mapped = await output;
      assert.equal(JSON.parse(new TextDecoder().decode(mapped.stdout)).error.kind, "cancelled");
      const shown = await cli(home, ["results", "paused", runId, "--json"]);
      assert.equal(JSON.parse(shown.stdout).failed, 1, shown.stdout);
      const again = await cli(home, ["cancel", "paused", runId]);
      assert.equal(again.stdout, `Run ${runId} of knot paused has ended: nothing to cancel\n`);
    } finally {
      // Let go again when the test failed before it did (the map may have ended since).
      try {
        Deno.kill(map.pid, "SIGCONT");
      } catch {
        // Ended.
      }
      await Deno.writeTextFile(marker, "");
    }
  });
});
