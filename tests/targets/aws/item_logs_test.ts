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
import { cli, inlineJobRunner, job, recordKnot, startTestBed } from "./helpers.ts";

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
