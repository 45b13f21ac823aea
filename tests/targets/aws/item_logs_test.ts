// Reading every item's output of a run: its children are described a hundred
// at a time, and the log stream a child of many items shares is read once
// for them once it has ended, not once per item; a stream still being
// written is read for each item. The jobs run
// in this process (the job entry's logic against the emulator's S3), each
// child writing its items' tagged lines to its log stream as the entry does.
import assert from "node:assert/strict";
import { MapError, type MapRun } from "../../../mod.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import { parseJobCommand } from "../../../src/targets/aws/batch/command.ts";
import { ItemLogs } from "../../../src/targets/aws/batch/item_logs.ts";
import { BATCH_LOG_GROUP } from "../../../src/targets/aws/batch/log_stream.ts";
import type { JobRunner } from "../../emulator/mod.ts";
import {
  cli,
  inlineJobRunner,
  job,
  jobsNamed,
  recordKnot,
  releaseFile,
  startTestBed,
} from "./helpers.ts";

/**
 * Each child logs two tagged lines per item of its slice, each round followed by a line of its
 * own, then runs the slice in-process.
 */
function loggingRunner(inner: JobRunner): JobRunner {
  return {
    ...(inner.capacity !== undefined ? { capacity: inner.capacity } : {}),
    run: (req) => {
      const command = parseJobCommand(req.command);
      const slice = command.slice ?? 1;
      const from = command.index ?? (command.offset ?? 0) + (req.arrayIndex ?? 0) * slice;
      const to = Math.min(from + slice, command.end ?? Infinity);
      for (const line of ["a", "b"]) {
        for (let i = from; i < to; i++) req.log(`[item ${i}] ${line} of ${i}`);
        req.log(`the container's own line after the ${line} lines`);
      }
      return inner.run(req);
    },
  };
}

Deno.test("AWS target: the logs of every item of a run describe its children a hundred at a time and read each ended child's stream once, and a stream still being written again for each item", async (t) => {
  const fn = (x: number) => x + 1;
  const bed = await startTestBed(fn, {
    maxvCpus: 8,
    emulator: { runner: loggingRunner(inlineJobRunner(fn, { capacity: 8 })) },
  });
  const { emu } = bed;
  try {
    const n = 40;
    const run = await bed.target({ logLagMs: 0 }).map<number>({
      items: encodeItems(Array.from({ length: n }, (_, i) => i)),
      starmap: false,
      env: {},
      itemsPerJob: 10,
    });
    await run.done;
    const children = n / 10;
    // The run's array job, and a reader of its items' logs of its own.
    const job = {
      jobId: run.itemView(0)!.jobId!.split(":")[0]!,
      offset: 0,
      size: n,
      array: true,
      slice: 10,
    };
    const reader = (keptChars?: number) =>
      new ItemLogs({
        batch: bed.session.batch,
        logs: bed.session.logs,
        logLagMs: 0,
        ...(keptChars !== undefined ? { keptChars } : {}),
      });

    await t.step(
      "the children are described together, and each ended one's stream read once",
      async () => {
        const before = emu.requests.entries.length;
        for (let i = 0; i < n; i++) {
          assert.deepEqual(await Array.fromAsync(run.logs(i)), [`a of ${i}`, `b of ${i}`]);
        }
        const asked = emu.requests.entries.slice(before);
        const describes = asked.filter((e) => e.operation === "DescribeJobs").length;
        const reads = asked.filter((e) => e.operation === "GetLogEvents");
        assert.equal(describes, 1, `${describes} DescribeJobs for ${children} children`);
        // A stream is read to the token that repeats: two GetLogEvents each.
        assert.equal(reads.length, 2 * children, `${reads.length} GetLogEvents`);
        assert.equal(new Set(reads.map((e) => e.params.logStreamName)).size, children);
        // An item asked for again is still read right, its stream read again.
        assert.deepEqual(await Array.fromAsync(run.logs(12)), ["a of 12", "b of 12"]);
        assert.deepEqual(await Array.fromAsync(run.logs(0)), ["a of 0", "b of 0"]);
      },
    );

    await t.step(
      "the items past what a reading keeps are read right, from their stream read again",
      async () => {
        // 14 characters kept: the lines of item 11 ("a of 11", "b of 11"), not those of 12 on.
        const logs = reader(14);
        const before = emu.requests.entries.length;
        for (let i = 10; i < 20; i++) {
          assert.deepEqual(await Array.fromAsync(logs.read(job, i, 1)), [
            `a of ${i}`,
            `b of ${i}`,
          ]);
        }
        const reads = emu.requests.entries.slice(before)
          .filter((e) => e.operation === "GetLogEvents").length;
        // Item 10 reads the stream and keeps item 11's lines; items 12, 14, 16 and 18 read it
        // again, each keeping the next one's: 5 readings.
        assert.equal(reads, 2 * 5, `${reads} GetLogEvents`);
      },
    );

    await t.step(
      "an item read with its job's own lines (its job ended without its record) has them, marked, where they came, from the stream or from what a reading kept",
      async () => {
        const logs = reader();
        const withJob = (i: number) => [
          `a of ${i}`,
          "[job] the container's own line after the a lines",
          `b of ${i}`,
          "[job] the container's own line after the b lines",
        ];
        const before = emu.requests.entries.length;
        // Item 20 reads the stream; items 21 and 22 are read from what that reading kept.
        assert.deepEqual(
          await Array.fromAsync(logs.read(job, 20, 1, { jobLines: true })),
          withJob(20),
        );
        assert.deepEqual(
          await Array.fromAsync(logs.read(job, 21, 1, { jobLines: true })),
          withJob(21),
        );
        assert.deepEqual(await Array.fromAsync(logs.read(job, 22, 1)), ["a of 22", "b of 22"]);
        const reads = emu.requests.entries.slice(before)
          .filter((e) => e.operation === "GetLogEvents").length;
        assert.equal(reads, 2, `${reads} GetLogEvents`);
        // The job's own lines past what a reading keeps: an item asked for with them reads the
        // stream again, and one without them is read from what was kept.
        const small = reader(50);
        assert.deepEqual(await Array.fromAsync(small.read(job, 20, 1)), ["a of 20", "b of 20"]);
        assert.deepEqual(
          await Array.fromAsync(small.read(job, 21, 1, { jobLines: true })),
          withJob(21),
        );
        assert.deepEqual(await Array.fromAsync(small.read(job, 22, 1)), ["a of 22", "b of 22"]);
        const again = emu.requests.entries.slice(before)
          .filter((e) => e.operation === "GetLogEvents").length;
        assert.equal(again - reads, 2 * 2, `${again - reads} GetLogEvents`);
      },
    );

    await t.step(
      "the children of a run of one item per child are described a hundred at a time",
      async () => {
        const items = 150;
        const single = await bed.target({ logLagMs: 0 }).map<number>({
          items: encodeItems(Array.from({ length: items }, (_, i) => i)),
          starmap: false,
          env: {},
          itemsPerJob: 1,
        });
        await single.done;
        const before = emu.requests.entries.length;
        for (let i = 0; i < items; i++) {
          // A child of one item: its untagged lines are the item's too.
          assert.deepEqual(await Array.fromAsync(single.logs(i)), [
            `a of ${i}`,
            "the container's own line after the a lines",
            `b of ${i}`,
            "the container's own line after the b lines",
          ]);
        }
        const describes = emu.requests.entries.slice(before)
          .filter((e) => e.operation === "DescribeJobs");
        assert.deepEqual(describes.map((e) => (e.params.jobs as string[]).length), [100, 50]);
      },
    );

    await t.step(
      "a child that stopped moments ago has its stream read for each item, so a line CloudWatch gets late is read",
      async () => {
        const fresh = await bed.target({ logLagMs: 60_000 }).collect<number>(run.runId);
        await fresh.done;
        assert.deepEqual(await Array.fromAsync(fresh.logs(20)), ["a of 20", "b of 20"]);
        const stream = emu.requests.entries.filter((e) => e.operation === "GetLogEvents").at(-1)!
          .params.logStreamName as string;
        emu.logs.append(BATCH_LOG_GROUP, stream, "[item 21] late for 21");
        assert.deepEqual(await Array.fromAsync(fresh.logs(21)), [
          "a of 21",
          "b of 21",
          "late for 21",
        ]);
      },
    );
  } finally {
    await bed.close();
  }
});

Deno.test("AWS target: the logs of an item whose job of several items exited without its record (it could not write the records) hold the job's own lines after the item's, marked as the job's, which say why; cloudknot logs --item prints them", async () => {
  const bed = await startTestBed(job);
  const { emu } = bed;
  try {
    // S3 takes the run's inputs, then no object: the job runs its items, cannot write their
    // records, says so and exits 3.
    const release = emu.batch.hold();
    let run: MapRun<string>;
    let failing: number;
    try {
      run = await bed.target().map<string>({
        items: encodeItems([{ sleep: 1 }, { sleep: 2 }, { sleep: 3 }]),
        starmap: false,
        env: {},
        itemsPerJob: 3,
      });
      failing = emu.faults.add({ service: "s3", operation: "PutObject", kind: "500" });
    } finally {
      release();
    }
    const error = await run.results().then(() => assert.fail("no item has a record"), (e) => e);
    emu.faults.clear(failing);
    assert.ok(error instanceof MapError);
    assert.deepEqual(error.failed, [0, 1, 2]);
    assert.equal(error.errors[1]!.exitCode, 3);
    // The item's line, then the job's own, marked: why it has no record.
    const lines = await Array.fromAsync(run.logs(1));
    assert.match(
      lines.join("\n"),
      /^sleeping 2 ms\n\[job\] cloudknot job: records could not be written: /,
    );
    assert.ok(lines.slice(1).every((line) => line.startsWith("[job] ")), lines.join("\n"));

    await recordKnot(bed);
    const printed = await cli(bed, ["logs", bed.knot, run.runId, "--item", "2"]).ended;
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(
      printed.stdout,
      /^sleeping 3 ms\n\[job\] cloudknot job: records could not be written: /,
    );
  } finally {
    await bed.close();
  }
});

/**
 * `{ flaky }` throws on its first attempt (its error record is written and Batch retries it);
 * `{ wait }` waits on its first attempt until the file `wait` exists, printing a line around it.
 */
// deno-lint-ignore no-explicit-any
async function retried(x: any): Promise<string> {
  const attempt = Deno.env.get("AWS_BATCH_JOB_ATTEMPT");
  if ("flaky" in x) {
    if (attempt === "1") {
      // A stack of one line: the job notes an item's error behind its tag on the first line only.
      const error = new Error("the first attempt fails");
      error.stack = `Error: ${error.message}`;
      throw error;
    }
    return "second time lucky";
  }
  console.log(`waiting on attempt ${attempt}`);
  while (attempt === "1") {
    try {
      await Deno.stat(x.wait);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return "waited";
}

Deno.test("AWS target: an attempt Batch retried after it ended without an item's record holds the job's own lines among the item's, marked, which say why, at no request of their own; cloudknot logs prints that attempt under its header before the latest, and names it for --item; an attempt that wrote the item's record has only the item's lines and is not listed", async () => {
  // Attempt 1 of the child cannot write its records once the flaky item's is written: the job
  // says so and exits 3, and Batch retries it once the fault is gone.
  let attemptOneEnded = () => {};
  const bed = await startTestBed(retried, {
    attempts: 2,
    permissions: { read: true },
    wrapRunner: (inner) => ({
      ...(inner.capacity !== undefined ? { capacity: inner.capacity } : {}),
      run: async (req) => {
        try {
          return await inner.run(req);
        } finally {
          if (req.attempt === 1) attemptOneEnded();
        }
      },
    }),
  });
  const { emu } = bed;
  try {
    // Both attempts stopped long ago, for CloudWatch Logs has all their lines (`logLagMs`).
    const past = Date.now() - 3_600_000;
    for (const attempt of [1, 2]) {
      emu.batch.fixAttemptTimes({ attempt }, { startedAt: past, stoppedAt: past + attempt });
    }
    const flag = `${bed.dir}/flag`;
    const run = await bed.target().map<string>({
      items: encodeItems([{ flaky: true }, { wait: flag }]),
      starmap: false,
      env: {},
      itemsPerJob: 2,
    });
    const records = `/runs/${run.runId}/out/`;
    // The flaky item's error record of attempt 1 is stored, then no object is.
    while (
      !emu.requests.filter({ service: "s3", operation: "PutObject", ok: true })
        .some((e) => String(e.params.Key).includes(records))
    ) await new Promise((r) => setTimeout(r, 20));
    const failing = emu.faults.add({ service: "s3", operation: "PutObject", kind: "500" });
    attemptOneEnded = () => emu.faults.clear(failing);
    await releaseFile(flag, "");
    assert.deepEqual(await run.results(), ["second time lucky", "waited"]);
    await run.done;
    const [child] = jobsNamed(emu, `squares-${run.runId}-`);
    const attempts = emu.batch.jobs.get(child!.jobId)!.attempts;
    assert.deepEqual(attempts.map((a) => a.container.exitCode), [3, 0]);
    // The map's own handle, which saw the attempts end, says so too.
    assert.match(
      (await Array.fromAsync(run.logs(1, { attempt: 1 }))).join("\n"),
      /^waiting on attempt 1\n\[job\] cloudknot job: records could not be written: /,
    );
    assert.deepEqual(await Array.fromAsync(run.logs(0, { attempt: 1 })), [
      "cloudknot job: the item failed: Error: the first attempt fails",
    ]);

    // Read from another process, once the streams are final: each is read once.
    emu.requests.clear();
    const collected = await bed.target().collect<string>(run.runId);
    await collected.done;
    assert.deepEqual([0, 1].map((i) => collected.itemView(i)!.attempts), [2, 2]);
    const polled = emu.requests.entries.length;
    // Read in input order, as cloudknot logs reads them. The item whose error attempt 1
    // recorded, and the attempts that recorded both: their own lines only.
    const own = await Array.fromAsync(collected.logs(0, { attempt: 1 }));
    assert.deepEqual(own, ["cloudknot job: the item failed: Error: the first attempt fails"]);
    // The item attempt 1 left without its record: its lines, then the job's, which say why.
    const lines = await Array.fromAsync(collected.logs(1, { attempt: 1 }));
    assert.match(
      lines.join("\n"),
      /^waiting on attempt 1\n\[job\] cloudknot job: records could not be written: /,
    );
    assert.ok(lines.slice(1).every((line) => line.startsWith("[job] ")), lines.join("\n"));
    assert.deepEqual(await Array.fromAsync(collected.logs(0)), []);
    assert.deepEqual(await Array.fromAsync(collected.logs(1)), ["waiting on attempt 2"]);
    // One DescribeJobs for the child and one reading (two GetLogEvents) of each attempt's
    // stream, the next item's lines, the job's among them, kept from it: the job's lines cost no
    // request, and nothing of S3 is read for them.
    const asked = emu.requests.entries.slice(polled);
    assert.deepEqual(asked.map((e) => e.operation).sort(), [
      "DescribeJobs",
      "GetLogEvents",
      "GetLogEvents",
      "GetLogEvents",
      "GetLogEvents",
    ]);

    await recordKnot(bed);
    const printed = await cli(bed, ["logs", bed.knot, run.runId, "--item", "1", "--attempt", "1"])
      .ended;
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(
      printed.stdout,
      /^waiting on attempt 1\n\[job\] cloudknot job: records could not be written: /,
    );
    // One item's latest attempt names the earlier one that left no record, and how to see why.
    const latest = await cli(bed, ["logs", bed.knot, run.runId, "--item", "1"]).ended;
    assert.equal(latest.code, 0, latest.stderr);
    assert.equal(latest.stdout, "waiting on attempt 2\n");
    assert.equal(
      latest.stderr,
      `Item 1's attempt 1 ended without its record and AWS Batch ran it again: cloudknot logs ` +
        `${bed.knot} ${run.runId} --item 1 --attempt 1 prints what it printed, with the job's ` +
        `own lines, which say why\n`,
    );
    // Every item listed: the attempt that left no record under its own header, before the
    // latest; the attempt that recorded the flaky item's error is not read.
    emu.requests.clear();
    const listed = await cli(bed, ["logs", bed.knot, run.runId]).ended;
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(
      listed.stdout,
      /^--- item 1 \(attempt 1\) ---\nwaiting on attempt 1\n\[job\] cloudknot job: records could not be written: [^]*\n--- item 1 \(attempt 2\) ---\nwaiting on attempt 2\n$/,
    );
    // Item 0's latest stream, kept for item 1; item 1's first, then its latest from what was
    // kept: each stream read once (two GetLogEvents).
    const streams = emu.requests.filter({ service: "logs", operation: "GetLogEvents" })
      .map((e) => e.params.logStreamName);
    const [first, second] = attempts.map((a) => a.container.logStreamName);
    assert.deepEqual(streams, [second, second, first, first]);
    const json = await cli(bed, ["logs", bed.knot, run.runId, "--json"]).ended;
    assert.deepEqual(
      JSON.parse(json.stdout).map((e: { index: number; attempt: number }) => [e.index, e.attempt]),
      [[1, 1], [1, 2]],
    );
  } finally {
    await bed.close();
  }
});
