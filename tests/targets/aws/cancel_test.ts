// cancel(): a run's jobs are cancelled while they wait and terminated once
// they run; every unfinished item ends with a cancellation error.
import assert from "node:assert/strict";
import { ItemError, type MapRun } from "../../../mod.ts";
import type { MapRequest } from "../../../src/targets/target.ts";
import { assertCancelledView } from "../../support/cancelled_view.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import type { Emulator } from "../../emulator/mod.ts";
import { itemEnds } from "../../support/item_ends.ts";
import { readAllRecords } from "../../support/records.ts";
import {
  job,
  jobsNamed,
  releaseFile,
  slowToStop,
  startTestBed,
  type TestBed,
  waitsForFile,
} from "./helpers.ts";

/** Maps three items on `bed` that each sleep a minute. */
function mapSleepers(bed: TestBed, options: Partial<MapRequest> = {}): Promise<MapRun<string>> {
  return bed.target().map<string>({
    items: encodeItems([{ sleep: 60_000 }, { sleep: 60_000 }, { sleep: 60_000 }]),
    starmap: false,
    env: {},
    ...options,
  });
}

async function untilRunning(emu: Emulator): Promise<void> {
  while (![...emu.batch.jobs.values()].some((j) => j.status === "RUNNING")) {
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("AWS target: cancel() terminates an array job; its children stop and every item is cancelled", async () => {
  const bed = await startTestBed(job, { emulator: { concurrency: 1 } });
  const { emu } = bed;
  try {
    const run = await mapSleepers(bed);
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
    const run = await mapSleepers(bed, { jobType: "independent", signal: abort.signal });
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

Deno.test("AWS target: the job view shows jobs cancelled before they started as cancelled with no attempt, and the one cancelled as it ran with its attempt, on the handle and on a later collect()", async () => {
  const bed = await startTestBed(job, { emulator: { concurrency: 1 } });
  const { emu } = bed;
  try {
    const run = await mapSleepers(bed, { jobType: "independent" });
    await untilRunning(emu);
    while (run.counts.running === 0) await new Promise((r) => setTimeout(r, 20));
    const ran = run.items.find((i) => i.status === "running")!.index;
    await run.cancel("No longer needed");
    await emu.waitForJobs(30_000);
    const later = await bed.target().collect<string>(run.runId);
    await later.done;
    assertCancelledView([run, later], ran);
  } finally {
    await bed.close();
  }
});

/** A test bed that runs one job at a time, each only once `start` has resolved. */
function oneJobAt(start: Promise<void>): Promise<TestBed> {
  return startTestBed(job, {
    emulator: { concurrency: 1 },
    wrapRunner: (inner) => ({
      ...(inner.capacity !== undefined ? { capacity: inner.capacity } : {}),
      run: async (req) => {
        await start;
        return await inner.run(req);
      },
    }),
  });
}

/**
 * Stops a run (`cancel()` or the map's signal) once its job has recorded the
 * first three items of its slice, before the handle's next poll round, and
 * checks that the handle, and a later collect() of the run, both read those
 * three as successes and only the fourth (still running) as cancelled.
 */
async function stoppedAfterRecords(how: "cancel" | "signal"): Promise<void> {
  // The job starts only once the handle has polled once: what it records lands after that round.
  const polled = Promise.withResolvers<void>();
  const bed = await oneJobAt(polled.promise);
  try {
    // One round, then none for ten minutes: the run is stopped before the handle's next.
    const target = bed.target({
      pollIntervalMs: 600_000,
      maxPollIntervalMs: 600_000,
      onPoll: () => polled.resolve(),
    });
    const abort = new AbortController();
    // One job runs the four items one after another: the last sleeps for ten minutes.
    const run = await target.map<number | string>({
      items: encodeItems([1, 2, 3, { sleep: 600_000 }]),
      starmap: false,
      env: {},
      itemsPerJob: 4,
      signal: abort.signal,
    });
    const store = target.store.at(`runs/${run.runId}`);
    // The job writes its records within a second of each item's end.
    while ((await readAllRecords(store)).length < 3) await new Promise((r) => setTimeout(r, 50));
    assert.equal(run.counts.succeeded, 0, "the handle has not read the records yet");
    if (how === "cancel") await run.cancel("No longer needed");
    else abort.abort("No longer needed");
    await run.done;
    const expected = ["ok 1", "ok 4", "ok 9", "cancelled"];
    const settled = await run.settled();
    assert.deepEqual(itemEnds(settled), expected);
    assert.ok(settled[3]!.status === "rejected");
    assert.match(settled[3]!.reason.message, /No longer needed/);
    const later = await bed.target().collect<number | string>(run.runId);
    assert.deepEqual(itemEnds(await later.settled()), expected);
    assert.deepEqual(later.counts, run.counts);
  } finally {
    await bed.close();
  }
}

Deno.test("AWS target: cancel() keeps what the run's job recorded before it was stopped: those items succeed on the handle, as for a later collect()", async () => {
  await stoppedAfterRecords("cancel");
});

Deno.test("AWS target: aborting the map's signal keeps what the run's job recorded before it was stopped: those items succeed on the handle, as for a later collect()", async () => {
  await stoppedAfterRecords("signal");
});

Deno.test("AWS target: cancel() reads the records a job writes as it is stopped, after TerminateJob answered: those items succeed on the handle, as for a later collect()", async () => {
  const start = Promise.withResolvers<void>();
  const bed = await oneJobAt(start.promise);
  const { emu } = bed;
  // The job's first write of records is held until the run's jobs were terminated: it lands
  // as the job stops, with the rest of what it holds.
  const landed = Promise.withResolvers<void>();
  try {
    const target = bed.target({ pollIntervalMs: 600_000, maxPollIntervalMs: 600_000 });
    const run = await target.map<number | string>({
      items: encodeItems([1, 2, 3, { sleep: 600_000 }]),
      starmap: false,
      env: {},
      itemsPerJob: 4,
    });
    const puts = () => emu.requests.filter({ service: "s3", operation: "PutObject" });
    // The handle's own write of the run's manifest comes first; the job's records after it.
    while (!puts().some((e) => String(e.params.Key).endsWith(`${run.runId}/run.json`))) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const held = emu.faults.add({
      service: "s3",
      operation: "PutObject",
      kind: "latency",
      until: landed.promise,
      times: 1,
    });
    start.resolve();
    while (emu.faults.list().find((f) => f.id === held)?.hits !== 1) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const cancelled = run.cancel("No longer needed");
    while (emu.count("batch", "TerminateJob") === 0) await new Promise((r) => setTimeout(r, 20));
    landed.resolve();
    await cancelled;
    const [terminated] = emu.requests.filter({ service: "batch", operation: "TerminateJob" });
    const written = puts().find((e) => e.fault === "latency")!;
    assert.ok(written.seq > terminated!.seq, "the records landed after TerminateJob");
    const store = target.store.at(`runs/${run.runId}`);
    const recorded = new Set((await readAllRecords(store)).map((r) => r.index));
    assert.ok(recorded.has(0) && !recorded.has(3));
    const expected = [1, 4, 9, undefined].map((v, i) => recorded.has(i) ? `ok ${v}` : "cancelled");
    assert.deepEqual(itemEnds(await run.settled()), expected);
    const later = await bed.target().collect<number | string>(run.runId);
    assert.deepEqual(itemEnds(await later.settled()), expected);
    assert.deepEqual(later.counts, run.counts);
  } finally {
    start.resolve();
    landed.resolve();
    await bed.close();
  }
});

Deno.test("AWS target: cancel() of a job still stopping when cancelStopWaitMs is over calls its items cancelled, warns and says in each error that a later collect() reads how they ended", async () => {
  // The container takes its time to stop: the stop reaches it only once `release` resolves.
  const release = Promise.withResolvers<void>();
  const bed = await startTestBed(waitsForFile, {
    permissions: { read: true },
    wrapRunner: slowToStop(release.promise),
  });
  const { emu } = bed;
  const file = `${bed.dir}/go`;
  try {
    const warnings: string[] = [];
    const target = bed.target({ cancelStopWaitMs: 0, warn: (m) => warnings.push(m) });
    const run = await target.map<string>({
      items: encodeItems([file]),
      starmap: false,
      env: {},
    });
    await untilRunning(emu);
    await run.cancel("No longer needed");
    const [job] = jobsNamed(emu, `squares-${run.runId}-`);
    assert.equal(emu.batch.jobs.get(job!.jobId)!.status, "RUNNING", "the job still stops");
    const [settled] = await run.settled();
    assert.ok(settled!.status === "rejected" && settled!.reason instanceof ItemError);
    assert.equal(settled!.reason.kind, "cancelled");
    const message = settled!.reason.message;
    assert.match(message, /^Item 0 was cancelled: No longer needed; its AWS Batch job /);
    assert.ok(message.includes(`job ${job!.jobId} had not stopped`), message);
    assert.ok(message.includes(`knot.collect("${run.runId}") of knot squares`), message);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!,
      new RegExp(`^Item 0 of run ${run.runId} of knot squares is called cancelled`),
    );
    assert.ok(warnings[0]!.includes(job!.jobId), warnings[0]);
    assert.ok(
      warnings[0]!.endsWith(
        `to read how it ended once stopped, collect the run again (knot.collect("${run.runId}") of knot squares)`,
      ),
      warnings[0],
    );
    // The item ends before its job stops: a later reader reads the success, as the error said.
    await releaseFile(file, "done");
    const store = target.store.at(`runs/${run.runId}`);
    while ((await readAllRecords(store)).length === 0) await new Promise((r) => setTimeout(r, 50));
    release.resolve();
    await emu.waitForJobs(60_000);
    const later = await bed.target().collect<string>(run.runId);
    assert.deepEqual(itemEnds(await later.settled()), ["ok done"]);
  } finally {
    release.resolve();
    await bed.close();
  }
});
