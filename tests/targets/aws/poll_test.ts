// The poll loop's cost, and Batch's real array size limit, with jobs run in
// this process (the job entry's logic against the emulator's S3, no process
// per child).
import assert from "node:assert/strict";
import { ItemError, MapRun } from "../../../mod.ts";
import { AwsSession } from "../../../src/aws/mod.ts";
import { decode, encodeItems } from "../../../src/job/codec.ts";
import { encodeRecord, INDEX_ENTRY_BYTES, readItem, RUN_KEYS } from "../../../src/job/mod.ts";
import { openS3Store, S3Store } from "../../../src/store/mod.ts";
import { parseJobCommand } from "../../../src/targets/aws/batch/command.ts";
import { type PollRound, RunPoller } from "../../../src/targets/aws/batch/run_poller.ts";
import { InlineRunner, startEmulator } from "../../emulator/mod.ts";
import { inlineJobRunner, jobsNamed, startTestBed } from "./helpers.ts";
import { sessionFor } from "../../support/aws_session.ts";

Deno.test("poll loop: at most one DescribeJobs per 100 jobs per round, each with at most 100 ids", async () => {
  const bed = await startTestBed((x: number) => x + 1, {
    emulator: { runner: inlineJobRunner((x: number) => x + 1, { capacity: 8 }) },
  });
  const { emu } = bed;
  try {
    const rounds: PollRound[] = [];
    const target = bed.target({ onPoll: (_, round) => rounds.push(round), submitConcurrency: 16 });
    const items = Array.from({ length: 250 }, (_, i) => i);
    const run = await target.map<number>({
      items: encodeItems(items),
      starmap: false,
      env: {},
      jobType: "independent",
    });
    const polling = emu.requests.entries.length;
    assert.deepEqual(await run.results(), items.map((x) => x + 1));
    await run.done;
    const log = emu.requests.entries.slice(polling);
    const describes = log.filter((e) => e.operation === "DescribeJobs");
    assert.ok(describes.every((e) => (e.params.jobs as string[]).length <= 100));
    assert.ok(rounds.length > 0);
    assert.ok(describes.length <= rounds.length * Math.ceil(250 / 100));
    assert.equal(describes.length, rounds.reduce((n, r) => n + r.describeCalls, 0));
    for (const round of rounds) {
      assert.ok(round.describeCalls <= Math.ceil(round.jobsDescribed / 100));
      assert.equal(round.childDescribeCalls, 0);
    }
    // Per round, as the request log shows it: rounds are separated by the listing of records.
    let inRound = 0;
    for (const e of log) {
      if (e.operation === "ListObjectsV2") inRound = 0;
      if (e.operation === "DescribeJobs") assert.ok(++inRound <= 3);
    }
    // Finished jobs are not described again: later rounds describe fewer jobs.
    assert.ok(rounds.at(-1)!.jobsDescribed < 250 || rounds.length === 1);
  } finally {
    await bed.close();
  }
});

Deno.test("split: 10,001 items run as an array job of 10,000 and a single job; children read only their own bytes", async () => {
  const bed = await startTestBed((x: number) => x * 2, {
    emulator: {
      runner: inlineJobRunner((x: number) => x * 2, { capacity: 64 }),
      // Not about the account's vCPU quota: with it, each scheduler tick weighs every one of the
      // 10,000 waiting children against it, which is most of this test's time.
      vcpuQuota: Infinity,
    },
  });
  const { emu } = bed;
  try {
    const items = Array.from({ length: 10_001 }, (_, i) => i);
    const encoded = encodeItems(items);
    const run = await bed.target({ pollIntervalMs: 200, maxPollIntervalMs: 1000 }).map<number>({
      items: encoded,
      starmap: false,
      env: {},
    });
    const jobs = jobsNamed(emu, `squares-${run.runId}-`);
    assert.deepEqual(jobs.map((j) => j.arraySize).sort(), [10_000, undefined]);
    assert.equal(emu.count("batch", "SubmitJob"), 2);
    const results = await run.results();
    assert.equal(results.length, 10_001);
    assert.ok(results.every((v, i) => v === i * 2));
    await run.done;
    const prefix = `cloudknot/squares/runs/${run.runId}`;
    assert.equal(
      emu.s3.bytesServed(bed.resources.bucket, `${prefix}/inputs`),
      encoded.reduce((n, b) => n + b.byteLength, 0),
    );
    assert.equal(
      emu.s3.bytesServed(bed.resources.bucket, `${prefix}/index`),
      10_001 * INDEX_ENTRY_BYTES,
    );
  } finally {
    await bed.close();
  }
});

Deno.test("poll loop: a job Batch no longer knows, and polls that keep failing, end the items with errors", async () => {
  const emu = await startEmulator({ ceValidDelayMs: 10, tickMs: 10 });
  try {
    const session = await sessionFor(emu);
    await session.s3.createBucket({ Bucket: "poll-bucket" });
    const store = new S3Store({ session, bucket: "poll-bucket", prefix: "runs/r" });
    const gone = MapRun.create<number>({
      knot: "k",
      runId: "r",
      target: "aws",
      total: 2,
      attempts: 1,
    });
    await new RunPoller({
      batch: session.batch,
      run: store,
      jobs: [{ jobId: "forgotten", jobName: "k-r-0", offset: 0, size: 2, array: true }],
      attempts: 1,
      control: gone.control,
      total: 2,
      minIntervalMs: 10,
    }).run(new AbortController().signal);
    const lost = await gone.run.settled();
    assert.ok(lost.every((s) => s.status === "rejected" && s.reason.kind === "infrastructure"));
    assert.match(
      lost[0]!.status === "rejected" ? lost[0]!.reason.message : "",
      /AWS Batch no longer knows job forgotten/,
    );

    emu.faults.add({ service: "batch", operation: "DescribeJobs", kind: "500", probability: 1 });
    const failing = MapRun.create<number>({
      knot: "k",
      runId: "r",
      target: "aws",
      total: 1,
      attempts: 1,
    });
    await new RunPoller({
      batch: session.batch,
      run: store,
      jobs: [{ jobId: "any", jobName: "k-r-0", offset: 0, size: 1, array: false }],
      attempts: 1,
      control: failing.control,
      total: 1,
      minIntervalMs: 1,
      maxIntervalMs: 5,
      maxFailedRounds: 3,
    }).run(new AbortController().signal);
    const only = (await failing.run.settled())[0]!;
    assert.ok(only.status === "rejected");
    assert.equal(only.reason.remote.name, "PollError");
    assert.match(only.reason.message, /failed 3 times in a row/);
  } finally {
    await emu.close();
  }
});

Deno.test("poll loop: each round lists only the records written since the last one, so listing stays linear in the run's size", async () => {
  const fn = (x: number) => x + 1;
  const bed = await startTestBed(fn, {
    // Not about the account's vCPU quota (see the split test above).
    emulator: { runner: inlineJobRunner(fn, { capacity: 64 }), vcpuQuota: Infinity },
  });
  const { emu } = bed;
  try {
    const rounds: PollRound[] = [];
    const target = bed.target({
      onPoll: (_, round) => rounds.push(round),
      pollIntervalMs: 100,
      maxPollIntervalMs: 400,
      recordLagMs: 0,
    });
    const n = 1500;
    const run = await target.map<number>({
      items: encodeItems(Array.from({ length: n }, (_, i) => i)),
      starmap: false,
      env: {},
    });
    const polling = emu.requests.entries.length;
    const results = await run.results();
    await run.done;
    assert.ok(results.every((v, i) => v === i + 1));
    const listed = rounds.reduce((sum, r) => sum + r.recordsListed, 0);
    // Each record is listed about once: in the round after it was written
    // (and again only while it is the newest, lag 0), plus at most one listing
    // of the whole job when it ends before its last records were listed
    // (which AWS's rate on DescribeJobs makes likely): linear either way.
    assert.ok(
      listed <= 2 * n + 50 * rounds.length,
      `${listed} keys listed in ${rounds.length} rounds`,
    );
    const calls = emu.requests.entries.slice(polling)
      .filter((e) => e.operation === "ListObjectsV2").length;
    assert.ok(
      calls <= rounds.length + Math.ceil(listed / 1000),
      `${calls} ListObjectsV2 calls for ${listed} keys in ${rounds.length} rounds`,
    );
    assert.equal(rounds.reduce((sum, r) => sum + r.recordsFetched, 0), n);
  } finally {
    await bed.close();
  }
});

Deno.test("poll loop: the children of an array that fail are found from their items' records, not by listing every failed child again each round", async (t) => {
  const fn = async (x: number) => {
    // A moment's work, so that the children fail one after another over several rounds.
    await new Promise((r) => setTimeout(r, 20));
    throw new Error(`item ${x} is bad`);
  };
  const bed = await startTestBed(fn, {
    emulator: { runner: inlineJobRunner(fn, { capacity: 1 }) },
  });
  const { emu } = bed;
  const listingsOfFailed = () =>
    emu.requests.filter({ service: "batch", operation: "ListJobs" })
      .filter((e) => e.params.arrayJobId !== undefined && e.params.jobStatus === "FAILED");
  const target = bed.target({ pollIntervalMs: 20, maxPollIntervalMs: 50 });
  const map = (count: number) =>
    target.map<number>({
      items: encodeItems(Array.from({ length: count }, (_, i) => i)),
      starmap: false,
      env: {},
      itemsPerJob: 1,
    });
  try {
    await t.step("children whose items threw: no listing at all", async () => {
      emu.requests.clear();
      const run = await map(12);
      const settled = await run.settled();
      settled.forEach((s, i) => {
        assert.ok(s.status === "rejected", `item ${i}`);
        assert.match(s.reason.message, new RegExp(`item ${i} is bad`));
      });
      await run.done;
      assert.equal(listingsOfFailed().length, 0, "ListJobs of the array's FAILED children");
    });

    await t.step("a child killed before it wrote a record is found by listing", async () => {
      emu.requests.clear();
      emu.batch.injectExit({
        arrayIndex: 2,
        exitCode: 137,
        reason: "OutOfMemoryError: Container killed due to memory usage",
        times: 1,
      });
      const run = await map(5);
      const settled = await run.settled();
      const killed = settled[2]!.status === "rejected" ? settled[2]!.reason : undefined;
      assert.ok(killed instanceof ItemError);
      assert.equal(killed.kind, "crashed");
      assert.equal(killed.exitCode, 137);
      for (const i of [0, 1, 3, 4]) {
        const s = settled[i]!;
        assert.ok(s.status === "rejected" && /is bad/.test(s.reason.message), `item ${i}`);
      }
      await run.done;
      assert.ok(listingsOfFailed().length >= 1);
    });
  } finally {
    await bed.close();
  }
});

Deno.test("poll loop: a record stamped by a clock a minute behind is still found, when its job ends", async () => {
  const fn = (x: number) => x * 10;
  let session: Promise<AwsSession> | undefined;
  // Children that write their records the way the job entry point does, but
  // the one of item 1 late and stamped a minute in the past.
  const runner = new InlineRunner(async (req) => {
    session ??= AwsSession.create({
      env: (name) => req.environment[name],
      readTextFile: () => Promise.resolve(undefined),
    });
    const command = parseJobCommand(req.command);
    const index = (command.offset ?? 0) + req.arrayIndex!;
    const run = await openS3Store(command.run!, { session: await session });
    const value = fn(decode(await readItem(run, index)) as number);
    if (index === 1) await new Promise((r) => setTimeout(r, 1500));
    const stamp = Date.now() - (index === 1 ? 60_000 : 0);
    const { bytes } = encodeRecord({
      version: 1,
      status: "ok",
      index,
      attempt: req.attempt,
      jobId: req.jobId,
      endedAt: Date.now(),
      value,
    });
    await run.put(RUN_KEYS.stampedRecord(stamp, index, req.attempt), bytes);
    return { exitCode: 0 };
  }, { capacity: 4 });
  const bed = await startTestBed(fn, { emulator: { runner } });
  try {
    const run = await bed.target().map<number>({
      items: encodeItems([1, 2, 3, 4]),
      starmap: false,
      env: {},
    });
    assert.deepEqual(await run.results(), [10, 20, 30, 40]);
    await run.done;
  } finally {
    await bed.close();
  }
});
