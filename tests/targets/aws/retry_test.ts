// retry() after a cancel that could not confirm its jobs stopped (slow to
// stop, or its TerminateJob dropped): the retry reads the run again and waits
// for its jobs to end, so that an item a job recorded after the cancel keeps
// its result and is not run again. And a retry given permissions passes them
// to its jobs.
import assert from "node:assert/strict";
import { CloudknotInputError, MapError, type MapRun } from "../../../mod.ts";
import type { AwsTarget } from "../../../src/targets/aws/aws_target.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import { readAllRecords } from "../../support/records.ts";
import { itemEnds } from "../../support/item_ends.ts";
import { endsWithin } from "../../support/ends_within.ts";
import {
  inlineJobRunner,
  jobsNamed,
  releaseFile,
  slowToStop,
  startTestBed,
  type TestBed,
  waitsForFile,
} from "./helpers.ts";

/**
 * Maps one item per job, each waiting for its file, and waits until two of
 * them run (the test bed's runner runs two containers at once).
 */
async function mapRunning(target: AwsTarget, files: string[]): Promise<MapRun<string>> {
  const run = await target.map<string>({
    items: encodeItems(files),
    starmap: false,
    env: {},
    itemsPerJob: 1,
  });
  while (run.counts.running < 2) await new Promise((r) => setTimeout(r, 20));
  return run;
}

/**
 * Starts `run.retry()` and waits until `warnings` holds `count` messages (the
 * retry warns that it waits for the run's jobs) or the retry settles.
 */
async function retryUntilWarned(
  run: MapRun<string>,
  warnings: string[],
  count: number,
  signal?: AbortSignal,
): Promise<{ retrying: Promise<MapRun<string>> }> {
  const retrying = run.retry({ progress: false, ...(signal ? { signal } : {}) });
  retrying.catch(() => {});
  let settled = false;
  retrying.then(() => settled = true, () => settled = true);
  while (warnings.length < count && !settled) await new Promise((r) => setTimeout(r, 50));
  // In an object: an async function's returned promise would be awaited with it.
  return { retrying };
}

/** What {@linkcode withCancelledRun} gives its test. */
interface CancelledRun {
  emu: TestBed["emu"];
  target: AwsTarget;
  /** The run, cancelled: items 0 and 1 ran, item 2 waited. */
  run: MapRun<string>;
  /** The files the items wait for, by item. */
  files: string[];
  /** The target's warnings so far. */
  warnings: string[];
  /** Lets the run's jobs stop. */
  release: () => void;
}

/**
 * Runs `test` on a run of three items, a job each waiting for its file, cancelled while items 0
 * and 1 ran on a test bed whose jobs take their time to stop (the stop reaches them only once
 * `release` is called), so that the cancel could not confirm they stopped; closes the bed.
 */
async function withCancelledRun(test: (cancelled: CancelledRun) => Promise<void>): Promise<void> {
  const release = Promise.withResolvers<void>();
  const bed = await startTestBed(waitsForFile, {
    permissions: { read: true },
    wrapRunner: slowToStop(release.promise),
  });
  const files = [0, 1, 2].map((i) => `${bed.dir}/go-${i}`);
  try {
    const warnings: string[] = [];
    const target = bed.target({ cancelStopWaitMs: 0, warn: (m) => warnings.push(m) });
    // Items 0 and 1 run, item 2 waits.
    const run = await mapRunning(target, files);
    await run.cancel("No longer needed");
    await test({ emu: bed.emu, target, run, files, warnings, release: () => release.resolve() });
  } finally {
    release.resolve();
    await Promise.all(files.map((f) => releaseFile(f, "end")));
    await bed.close();
  }
}

Deno.test("AWS target: retry() after a cancel whose jobs had not stopped waits for them, then runs again only the items still without a result", async () => {
  await withCancelledRun(async ({ emu, target, run, files, warnings, release }) => {
    assert.deepEqual(itemEnds(await run.settled()), ["cancelled", "cancelled", "cancelled"]);
    assert.equal(warnings.length, 1, "the cancel could not confirm the jobs stopped");
    // Item 0 ends after the cancel, before its job stops: its success is recorded.
    await releaseFile(files[0]!, "done");
    const store = target.store.at(`runs/${run.runId}`);
    while ((await readAllRecords(store)).length === 0) await new Promise((r) => setTimeout(r, 50));

    // The retry waits while item 1's job has not stopped, and says so; nothing is submitted.
    const { retrying } = await retryUntilWarned(run, warnings, 2);
    assert.equal(emu.count("batch", "SubmitJob"), 1, "nothing was submitted while jobs still ran");
    assert.match(
      warnings[1] ?? "",
      /^Item 1 of run \S+ of knot squares has not ended: its AWS Batch job still runs or stops /,
    );
    assert.ok(warnings[1]!.endsWith("to stop waiting, abort the retry's signal (the jobs go on)"));

    release();
    // Once the run's jobs have stopped the retry submits items 1 and 2; only then are their
    // files written, so that item 1's stopping job cannot read its file first.
    while (emu.count("batch", "SubmitJob") < 2) await new Promise((r) => setTimeout(r, 50));
    await releaseFile(files[1]!, "again 1");
    await releaseFile(files[2]!, "again 2");
    const retried = await retrying;
    assert.deepEqual(retried.retryOf, { runId: run.runId, items: [1, 2] });
    assert.deepEqual(await retried.results(), ["done", "again 1", "again 2"]);
    // The retry's one SubmitJob ran items 1 and 2 only: item 0 ran once.
    const [retryJob] = jobsNamed(emu, `squares-${retried.runId}-`);
    assert.ok(retryJob !== undefined);
    const retryInputs = (await readAllRecords(target.store.at(`runs/${retried.runId}`)))
      .map((r) => r.index).sort();
    assert.deepEqual(retryInputs, [0, 1]);
    assert.equal(emu.count("batch", "SubmitJob"), 2);
  });
});

/**
 * Cancels a run whose jobs are slow to stop, retries it with a signal, holds a DescribeJobs of
 * the retry's reading of the run (in its first look, or once the retry waits for the jobs),
 * aborts the signal meanwhile, and checks that retry() rejects with the signal's reason, only
 * once that reading has stopped polling, having submitted nothing.
 */
async function abortRetryDuringLook(when: "first look" | "wait"): Promise<void> {
  await withCancelledRun(async (cancelled) => {
    // Released before the bed closes, whatever the test did: a held answer would hold it open.
    const held = Promise.withResolvers<void>();
    await abortDuringHeldLook(cancelled, when, held.promise).finally(() => held.resolve());
  });
}

/** {@linkcode abortRetryDuringLook}'s steps, DescribeJobs held until `held` settles. */
async function abortDuringHeldLook(
  { emu, target, run, warnings }: CancelledRun,
  when: "first look" | "wait",
  held: Promise<void>,
): Promise<void> {
  // Each reading of a run the target gives (the retry's), and whether it has stopped polling.
  const stopped: boolean[] = [];
  const collect = target.collect.bind(target);
  target.collect = async <T>(runId: string, options?: Parameters<AwsTarget["collect"]>[1]) => {
    const reading = await collect<T>(runId, options);
    const k = stopped.push(false) - 1;
    void target.stopped(reading as MapRun<unknown>).then(() => stopped[k] = true);
    return reading;
  };
  const hold = () =>
    emu.faults.add({
      service: "batch",
      operation: "DescribeJobs",
      kind: "latency",
      until: held,
    });
  const stop = new AbortController();
  let fault = when === "first look" ? hold() : undefined;
  const { retrying } = await retryUntilWarned(
    run,
    warnings,
    when === "wait" ? 2 : 1,
    stop.signal,
  );
  fault ??= hold();
  while (emu.faults.list().find((f) => f.id === fault)?.hits !== 1) {
    await new Promise((r) => setTimeout(r, 20));
  }
  let atRejection: boolean[] = [];
  retrying.catch(() => atRejection = [...stopped]);
  const reason = new Error("the retry is no longer wanted");
  stop.abort(reason);
  await endsWithin(
    assert.rejects(retrying, (e) => e === reason),
    60_000,
    "the aborted retry's rejection",
  );
  assert.deepEqual(atRejection, [true], "the reading had stopped polling");
  assert.equal(emu.count("batch", "SubmitJob"), 1, "the retry submitted nothing");
}

Deno.test("AWS target: retry() whose signal aborts while it waits for the run's jobs rejects with the reason once its reading of the run has stopped polling", async () => {
  await abortRetryDuringLook("wait");
});

Deno.test("AWS target: retry() whose signal aborts during its reading's first look at the run rejects with the reason once that reading has stopped", async () => {
  await abortRetryDuringLook("first look");
});

Deno.test("AWS target: retry() after a cancel whose TerminateJob was dropped waits for the run's jobs, and submits nothing when they recorded every item", async () => {
  const bed = await startTestBed(waitsForFile, { permissions: { read: true } });
  const { emu } = bed;
  const files = [0, 1].map((i) => `${bed.dir}/go-${i}`);
  try {
    const warnings: string[] = [];
    const target = bed.target({ warn: (m) => warnings.push(m) });
    const run = await mapRunning(target, files);
    // Every TerminateJob is dropped before Batch reads it: the cancel fails, the jobs go on.
    const dropped = emu.faults.add({ service: "batch", operation: "TerminateJob", kind: "reset" });
    await assert.rejects(() => run.cancel("No longer needed"));
    emu.faults.clear(dropped);
    assert.deepEqual(itemEnds(await run.settled()), ["cancelled", "cancelled"]);
    const [job] = jobsNamed(emu, `squares-${run.runId}-`);
    const children = emu.batch.jobs.get(job!.jobId)!.children!;
    assert.deepEqual(
      children.map((c) => c.status),
      ["RUNNING", "RUNNING"],
      "no stop reached Batch",
    );

    const { retrying } = await retryUntilWarned(run, warnings, 1);
    assert.equal(emu.count("batch", "SubmitJob"), 1, "nothing was submitted while jobs still ran");
    assert.match(warnings[0] ?? "", /^Items 0 and 1 of run \S+ of knot squares have not ended: /);
    // The jobs record both items: the retry has nothing left to run.
    await Promise.all(files.map((f) => releaseFile(f, "done")));
    const again = await retrying;
    assert.equal(again.runId, run.runId);
    assert.deepEqual(await again.results(), ["done", "done"]);
    assert.equal(emu.count("batch", "SubmitJob"), 1, "no item was submitted twice");
  } finally {
    await Promise.all(files.map((f) => releaseFile(f, "end")));
    await bed.close();
  }
});

Deno.test("AWS target: retry({ permissions }) gives the retried items' jobs those permissions, so an item refused a permission succeeds; bad ones are refused before any request that changes AWS", async () => {
  const readFile = (path: string) => Deno.readTextFile(path);
  const bed = await startTestBed(readFile);
  const { emu } = bed;
  try {
    const secret = `${bed.dir}/secret.txt`;
    await Deno.writeTextFile(secret, "hidden");
    const run = await bed.target().map<string>({
      items: encodeItems([secret]),
      starmap: false,
      env: {},
    });
    const error = await run.results().then(() => assert.fail("item 0 is refused"), (e) => e);
    assert.ok(error instanceof MapError);
    assert.equal(error.errors[0]!.kind, "refused");

    emu.requests.clear();
    await assert.rejects(
      () => run.retry({ permissions: { read: "all" } as never, progress: false }),
      /permissions\.read must be true, false or a list of non-empty strings/,
    );
    // Too many to travel in a job's container overrides (ECS takes 8,192 characters): no job
    // could start, so the retry is refused before it writes or submits anything.
    const many = Array.from({ length: 300 }, (_, i) => `${bed.dir}/inputs/file-${i}.csv`);
    await assert.rejects(
      () => run.retry({ permissions: { read: many }, progress: false }),
      (e) =>
        e instanceof CloudknotInputError && e.field === "permissions" &&
        /^permissions are [\d,]+ characters as AWS Batch passes them to a retry's jobs, .* grant the directories that hold the files instead of each file/
          .test(e.message),
    );
    assert.deepEqual(emu.mutatingRequests(), []);

    const granted = await run.retry({ permissions: { read: [secret] }, progress: false });
    assert.deepEqual(await granted.results(), ["hidden"]);
    const [submit] = emu.requests.filter({ service: "batch", operation: "SubmitJob" });
    const environment = (submit!.params as {
      containerOverrides: { environment: { name: string; value: string }[] };
    }).containerOverrides.environment;
    assert.equal(
      environment.find((v) => v.name === "CLOUDKNOT_PERMISSIONS")?.value,
      JSON.stringify({ read: [secret] }),
    );
    // Retried again from the first handle: its retry, which succeeded, is what it retries, so
    // nothing is submitted again.
    const submitted = emu.count("batch", "SubmitJob");
    const again = await run.retry({ progress: false });
    assert.equal(again.runId, granted.runId);
    assert.deepEqual(await again.results(), ["hidden"]);
    assert.equal(emu.count("batch", "SubmitJob"), submitted);
  } finally {
    await bed.close();
  }
});

/**
 * Runs `test` on a test bed whose jobs run in this process, where item 0 fails until
 * `failing.on` is set to false and item 1 succeeds, and closes the bed.
 */
async function withItemZeroFailing(
  test: (bed: TestBed, failing: { on: boolean }) => Promise<void>,
): Promise<void> {
  const failing = { on: true };
  const fn = (x: number) => {
    if (failing.on && x === 0) throw new Error("item 0 fails until the second retry");
    return x;
  };
  const bed = await startTestBed((x: number) => x, {
    emulator: { runner: inlineJobRunner(fn) },
  });
  try {
    await test(bed, failing);
  } finally {
    await bed.close();
  }
}

/** Maps items 0 and 1, a job each, and retries the run once, item 0 failing again. */
async function mapRetriedOnce(target: AwsTarget): Promise<MapRun<number>> {
  const run = await target.map<number>({
    items: encodeItems([0, 1]),
    starmap: false,
    env: {},
    itemsPerJob: 1,
  });
  await run.done;
  const first = await run.retry({ progress: false });
  await first.done;
  assert.equal(first.counts.failed, 1);
  return run;
}

Deno.test("AWS target: retry() of a run retried already settles only once its reading of the runs has stopped polling, so no request or timer of it outlives the call", async () => {
  await withItemZeroFailing(async ({ emu, target: targetOf }, failing) => {
    // Item 1's first job exits without a record.
    emu.batch.injectExit({ arrayIndex: 1, times: 1, exitCode: 1 });
    // Each reading of a run ends with one round that leaves nothing unsettled.
    const lastRounds = new Map<string, number>();
    const run = await mapRetriedOnce(targetOf({
      onPoll: (runId, round) => {
        if (round.unsettled === 0) lastRounds.set(runId, (lastRounds.get(runId) ?? 0) + 1);
      },
    }));
    failing.on = false;
    // Item 1's log is read (for why its job failed) only by a reading of the first run: slowed,
    // that reading still polls once the first retry's, which holds every item, has ended.
    emu.faults.add({ service: "logs", operation: "GetLogEvents", kind: "latency", delayMs: 1000 });
    lastRounds.clear();
    // Retried through its retry: that retry is read (with the first run), then read again (with
    // the first run again) before its failed item is submitted.
    const second = await run.retry({ progress: false });
    assert.equal(lastRounds.get(run.runId), 2, "both readings of the first run ended");
    assert.deepEqual(await second.results(), [0, 1]);
  });
});

Deno.test("AWS target: retry() of a run retried already says of no job that it still runs when each of its runs has ended, however slow the reading of the earlier one", async () => {
  await withItemZeroFailing(async ({ emu, target: targetOf }, failing) => {
    const warned: string[] = [];
    const run = await mapRetriedOnce(targetOf({ warn: (message) => warned.push(message) }));
    failing.on = false;
    // The first run's jobs are an array with a failed child, which only a reading of that run
    // lists (ListJobs; the retry's one item is a job of its own): slowed, that reading's first
    // round ends after the retry's.
    emu.faults.add({ service: "batch", operation: "ListJobs", kind: "latency", delayMs: 1000 });
    const second = await run.retry({ progress: false });
    assert.deepEqual(await second.results(), [0, 1]);
    assert.deepEqual(warned, []);
  });
});
