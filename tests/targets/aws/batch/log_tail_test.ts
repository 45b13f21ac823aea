// The last lines of a crashed attempt's log, and what they make of its error:
// GetLogEvents from the end of the stream, on backward across the empty and
// short pages CloudWatch Logs may answer before the stream's start; only V8's
// fatal out-of-memory line turns a crash into OutOfMemoryError; a tail read
// just after the stop without it is read once more, when the last lines have
// had time to arrive.
import assert from "node:assert/strict";
import type { JobDetail } from "../../../../src/aws/services/batch.ts";
import {
  batchFailureRecord,
  withLogOutOfMemory,
} from "../../../../src/targets/aws/batch/failure.ts";
import {
  LOG_TAIL_PAGES,
  readLogStream,
  readLogTail,
} from "../../../../src/targets/aws/batch/log_stream.ts";
import { encodeItems } from "../../../../src/job/codec.ts";
import { ItemError, type ItemSettled } from "../../../../mod.ts";
import { type Emulator, type JobRunner, startEmulator } from "../../../emulator/mod.ts";
import { sessionFor } from "../../../support/aws_session.ts";
import { deliverLogs, endLagWhen, LONG_LAG_MS } from "../../../support/lag_ends.ts";
import { inlineJobRunner, job, startTestBed } from "../helpers.ts";

const crashed = (exitCode: number): JobDetail => ({
  jobId: "j",
  jobName: "n",
  jobQueue: "q",
  jobDefinition: "d",
  status: "FAILED",
  container: { resourceRequirements: [{ type: "MEMORY", value: "4096" }] },
  attempts: [{
    container: { exitCode, logStreamName: "d/default/abc" },
    statusReason: "Essential container in task exited",
  }],
});

/** Checks that item 0 ended as V8's out-of-memory crash, exit code 133, with V8's line. */
function assertOutOfMemory(settled: ItemSettled<unknown> | undefined): void {
  const oom = settled?.status === "rejected" ? settled.reason : undefined;
  assert.ok(oom instanceof ItemError, JSON.stringify(settled));
  assert.equal(oom.kind, "crashed");
  assert.equal(oom.exitCode, 133);
  assert.equal(oom.remote.name, "OutOfMemoryError");
  assert.match(oom.message, /Fatal JavaScript out of memory: Reached heap limit/);
}

Deno.test("the log's last lines are read with one GetLogEvents from the end when that page is full; a missing stream is empty", async () => {
  const emu = await startEmulator();
  try {
    const session = await sessionFor(emu);
    for (let i = 0; i < 120; i++) emu.logs.append("/aws/batch/job", "d/default/abc", `line ${i}`);
    emu.requests.clear();
    const tail = await readLogTail(session.logs, "d/default/abc", { lines: 5 });
    assert.deepEqual(tail, ["line 115", "line 116", "line 117", "line 118", "line 119"]);
    const calls = emu.requests.filter({ service: "logs", operation: "GetLogEvents" });
    assert.equal(calls.length, 1);
    assert.deepEqual(await readLogTail(session.logs, "d/default/none"), []);
  } finally {
    await emu.close();
  }
});

/** Writes lines to a stream at the given event times (epoch ms). */
function writeAt(emu: Emulator, stream: string, lines: [number, string][]): void {
  const s = emu.logs.groups.get("/aws/batch/job")!.streams.get(stream) ??
    emu.logs.createStream("/aws/batch/job", stream);
  for (const [timestamp, message] of lines) {
    s.events.push({ timestamp, message, ingestionTime: Math.min(timestamp, Date.now()) });
  }
}

Deno.test("the tail is read backward across empty and short pages until it has its lines, the stream's start, or LOG_TAIL_PAGES pages", async () => {
  // Each page is one second of event time; the streams were last written to
  // an hour ago, one line a second, so the first page from the end is empty
  // and each page after it has one line.
  const emu = await startEmulator({ logPageWindowMs: 1000 });
  try {
    const session = await sessionFor(emu);
    const hourAgo = Date.now() - 3_600_000;
    const lines = (n: number) =>
      Array.from({ length: n }, (_, i) => [hourAgo + 1000 * i, `line ${i}`] as [number, string]);
    writeAt(emu, "d/default/long", lines(30));
    writeAt(emu, "d/default/short", lines(3));
    const reads = () => emu.requests.filter({ service: "logs", operation: "GetLogEvents" }).length;

    emu.requests.clear();
    const tail = await readLogTail(session.logs, "d/default/long", { lines: 5 });
    assert.deepEqual(tail, ["line 25", "line 26", "line 27", "line 28", "line 29"]);
    assert.equal(reads(), 6); // the empty page, then one page per line

    emu.requests.clear();
    const all = await readLogTail(session.logs, "d/default/short", { lines: 50 });
    assert.deepEqual(all, ["line 0", "line 1", "line 2"]);
    assert.equal(reads(), 5); // the empty page, three lines, and the start: the same token back

    emu.requests.clear();
    const bounded = await readLogTail(session.logs, "d/default/long", { lines: 50 });
    assert.equal(reads(), LOG_TAIL_PAGES);
    assert.deepEqual(bounded, lines(30).slice(-(LOG_TAIL_PAGES - 1)).map(([, line]) => line));
  } finally {
    await emu.close();
  }
});

Deno.test("a stream is read from its start to its end across empty pages: every line, once, in order", async () => {
  // Each page is one second of event time; lines come in bursts with gaps of
  // several seconds, the first 10 s after the stream was made, so the reader
  // meets empty pages before the first line and between bursts.
  const emu = await startEmulator({ logPageWindowMs: 1000 });
  try {
    const session = await sessionFor(emu);
    const made = emu.logs.createStream("/aws/batch/job", "d/default/bursts").creationTime;
    const written: [number, string][] = [];
    for (const [burst, at] of [10_000, 15_000, 15_400, 60_000].entries()) {
      for (let i = 0; i < 3; i++) written.push([made + at + i, `burst ${burst} line ${i}`]);
    }
    writeAt(emu, "d/default/bursts", written);
    emu.requests.clear();
    const read: string[] = [];
    for await (const line of readLogStream(session.logs, "d/default/bursts")) read.push(line);
    assert.deepEqual(read, written.map(([, line]) => line));
    const pages = emu.requests.filter({ service: "logs", operation: "GetLogEvents" });
    // Three pages with lines (15 000 and 15 400 share a second), one empty page before each, and
    // the last, whose token is the one sent.
    assert.equal(pages.length, 7);
  } finally {
    await emu.close();
  }
});

Deno.test("only V8's out-of-memory line in a crashed attempt's log makes it OutOfMemoryError", () => {
  const job = crashed(133);
  const record = batchFailureRecord(job, { index: 0 });
  assert.equal(record.error.name, "JobCrashedError");
  assert.equal(withLogOutOfMemory(record, job, ["working", "exiting"]), record);
  const oom = withLogOutOfMemory(record, job, [
    "<--- Last few GCs --->",
    "#",
    "# Fatal JavaScript out of memory: Reached heap limit",
    "#",
  ]);
  assert.equal(oom.error.name, "OutOfMemoryError");
  assert.equal(oom.kind, "crashed");
  assert.equal(oom.exitCode, 133);
  assert.match(
    oom.error.message,
    /exited with code 133 without a record: Essential container in task exited; V8 ran out of heap \("Fatal JavaScript out of memory: Reached heap limit" in its log\): the job's memory limit is 4096 MiB: give the item more than 4096 MiB with the memory option of Knot\.create or run\.retry/,
  );
  // A record that is not a crash without a record is left as it is.
  const timedOut = {
    ...record,
    kind: "timeout" as const,
    error: { name: "TimeoutError", message: "t" },
  };
  assert.equal(withLogOutOfMemory(timedOut, job, ["Fatal JavaScript out of memory"]), timedOut);
});

Deno.test("an out-of-memory line that reaches CloudWatch after Batch says the attempt stopped still makes it OutOfMemoryError, and the poll goes on meanwhile", async () => {
  const inline = inlineJobRunner(job);
  // Child 0 is V8 aborting at its heap limit, as the docker runner reports
  // it: exit code 133, with the reason only in its log. Child 1 succeeds.
  const runner: JobRunner = {
    run: (req) => {
      if (req.arrayIndex !== 0) return inline.run(req);
      req.log("<--- Last few GCs --->");
      req.log("# Fatal JavaScript out of memory: Reached heap limit");
      return Promise.resolve({ exitCode: 133 });
    },
  };
  // The lines arrive right after the poller's first read of the tail, however long it takes
  // to come on a loaded machine, and so before its second, logLagMs (5 s) after the stop.
  const bed = await startTestBed(job, { emulator: { runner, logDeliveryDelayMs: LONG_LAG_MS } });
  using delivered = endLagWhen(
    () => bed.emu.requests.filter({ service: "logs", operation: "GetLogEvents" }).length > 0,
    () => deliverLogs(bed.emu),
  );
  try {
    const run = await bed.target().map<number>({
      items: encodeItems([1, 2]),
      starmap: false,
      env: {},
    });
    // Item 1 settles while item 0 waits for the rest of its log.
    assert.equal(await run.item(1), 4);
    assert.notEqual(run.items[0]!.status, "failed");
    const settled = await run.settled();
    assertOutOfMemory(settled[0]);
    // One read at once, and one more once the lines could have arrived: each
    // starts from the stream's end (without a token) and reads back to its start.
    const reads = bed.emu.requests.filter({ service: "logs", operation: "GetLogEvents" })
      .filter((r) => r.params.nextToken === undefined);
    assert.equal(reads.length, 2);
    assert.ok(delivered.ended);
    await run.done;
  } finally {
    await bed.close();
  }
});

Deno.test("a child that printed V8's out-of-memory line and exited without a record is OutOfMemoryError when the last page of its log is empty", async () => {
  const inline = inlineJobRunner(job);
  // Child 0 is V8 aborting at its heap limit: exit code 133, with the reason only in its log.
  const runner: JobRunner = {
    run: async (req) => {
      if (req.arrayIndex !== 0) return inline.run(req);
      req.log("<--- Last few GCs --->");
      req.log("# Fatal JavaScript out of memory: Reached heap limit");
      req.log("#");
      await new Promise((r) => setTimeout(r, 20));
      return { exitCode: 133 };
    },
  };
  // Each GetLogEvents page is one millisecond of event time, and the first page from the end of
  // a stream is the millisecond of the read: the child's lines are all before it.
  const bed = await startTestBed(job, { emulator: { runner, logPageWindowMs: 1 } });
  try {
    // logLagMs 0: the tail is read once, with no second read later.
    const run = await bed.target({ logLagMs: 0 }).map<number>({
      items: encodeItems([1, 2]),
      starmap: false,
      env: {},
    });
    const settled = await run.settled();
    assert.equal(settled[1]!.status, "fulfilled");
    assertOutOfMemory(settled[0]);
    // The read went on past the first page from the end.
    const reads = bed.emu.requests.filter({ service: "logs", operation: "GetLogEvents" });
    assert.ok(reads.length >= 2, `${reads.length} GetLogEvents`);
    await run.done;
  } finally {
    await bed.close();
  }
});

Deno.test("a job that exits 3 without a record says it could not read its run or write its records, and where to look", () => {
  const record = batchFailureRecord(crashed(3), { index: 0 });
  assert.equal(record.error.name, "JobCrashedError");
  assert.equal(
    record.error.message,
    "AWS Batch job j attempt 1 exited with code 3 without a record: Essential container in task " +
      "exited; the job could not read its run or write its records (S3 access, or a full disk on " +
      "the docker target); the attempt's log, d/default/abc, says which",
  );
  assert.doesNotMatch(batchFailureRecord(crashed(1), { index: 0 }).error.message, /S3 access/);
});
