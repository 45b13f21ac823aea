// cancel(): a run's jobs are cancelled while they wait and terminated once
// they run; every unfinished item ends with a cancellation error.
import assert from "node:assert/strict";
import { ItemError } from "../../../mod.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import type { Emulator } from "../../emulator/mod.ts";
import { job, jobsNamed, startTestBed } from "./helpers.ts";

async function untilRunning(emu: Emulator): Promise<void> {
  while (![...emu.batch.jobs.values()].some((j) => j.status === "RUNNING")) {
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("AWS target: cancel() terminates an array job; its children stop and every item is cancelled", async () => {
  const bed = await startTestBed(job, { emulator: { concurrency: 1 } });
  const { emu } = bed;
  try {
    const run = await bed.target().map<string>({
      items: encodeItems([{ sleep: 60_000 }, { sleep: 60_000 }, { sleep: 60_000 }]),
      starmap: false,
      env: {},
    });
    await untilRunning(emu);
    // Progress comes from the same polls: the running child is marked running.
    while (run.counts.running === 0) await new Promise((r) => setTimeout(r, 20));
    assert.equal(run.items.filter((i) => i.status === "running").length, run.counts.running);
    await run.cancel("No longer needed");
    const settled = await run.settled();
    for (const s of settled) {
      assert.equal(s.status, "rejected");
      assert.ok(s.status === "rejected" && s.reason instanceof ItemError);
      assert.equal(s.reason.kind, "cancelled");
      assert.match(s.reason.message, /No longer needed/);
    }
    await emu.waitForJobs(30_000);
    const [parent] = jobsNamed(emu, `squares-${run.runId}-`);
    const p = emu.batch.jobs.get(parent!.jobId)!;
    assert.equal(p.status, "FAILED");
    assert.ok(p.children!.every((c) => c.status === "FAILED"));
    assert.ok(p.children!.every((c) => c.statusReason === "cloudknot: No longer needed"));
    const terminated = emu.requests.filter({ service: "batch", operation: "TerminateJob" });
    assert.deepEqual(terminated.map((e) => e.params.jobId), [parent!.jobId]);
    await run.done;
  } finally {
    await bed.close();
  }
});

Deno.test("AWS target: another handle reads a cancelled run's stopped items as cancelled, with the reason given, not as crashed", async () => {
  const bed = await startTestBed(job, { emulator: { concurrency: 2 } });
  const { emu } = bed;
  try {
    const run = await bed.target().map<string>({
      items: encodeItems([{ sleep: 60_000 }, { sleep: 60_000 }]),
      starmap: false,
      env: {},
    });
    while (run.counts.running < 2) await new Promise((r) => setTimeout(r, 20));
    await run.cancel("No longer needed");
    await emu.waitForJobs(30_000);
    // Another process's handle reads the run from Batch and S3 alone.
    const other = await bed.target().collect<string>(run.runId);
    for (const s of await other.settled()) {
      assert.ok(s.status === "rejected");
      assert.equal(s.reason.kind, "cancelled", s.reason.message);
      assert.match(s.reason.message, /was stopped by cloudknot: No longer needed$/);
      assert.equal(s.reason.exitCode, 143);
    }
    await run.done;
  } finally {
    await bed.close();
  }
});

Deno.test("AWS target: aborting the signal cancels waiting jobs and terminates running ones", async () => {
  const bed = await startTestBed(job, { emulator: { concurrency: 1 } });
  const { emu } = bed;
  try {
    const abort = new AbortController();
    const run = await bed.target().map<string>({
      items: encodeItems([{ sleep: 60_000 }, { sleep: 60_000 }, { sleep: 60_000 }]),
      starmap: false,
      env: {},
      jobType: "independent",
      signal: abort.signal,
    });
    await untilRunning(emu);
    while (run.counts.running === 0) await new Promise((r) => setTimeout(r, 20));
    const running = [...emu.batch.jobs.values()].find((j) => j.status === "RUNNING")!.jobId;
    abort.abort("The user pressed stop");
    await run.done;
    assert.equal(run.counts.failed, 3);
    const settled = await run.settled();
    assert.ok(settled.every((s) => s.status === "rejected" && s.reason.kind === "cancelled"));
    await emu.waitForJobs(30_000);
    const jobs = jobsNamed(emu, `squares-${run.runId}-`).map((j) => emu.batch.jobs.get(j.jobId)!);
    assert.ok(jobs.every((j) => j.status === "FAILED"));
    // TerminateJob for each, the waiting ones too: a CancelJob would leave a job that started
    // meanwhile running.
    assert.equal(emu.count("batch", "TerminateJob"), 3);
    assert.equal(emu.count("batch", "CancelJob"), 0);
    assert.equal(emu.batch.jobs.get(running)!.attempts.length, 1);
  } finally {
    await bed.close();
  }
});
