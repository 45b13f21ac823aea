// The last lines of a crashed attempt's log, and what they make of its error:
// one GetLogEvents from the end of the stream; only V8's fatal out-of-memory
// line turns a crash into OutOfMemoryError.
import assert from "node:assert/strict";
import type { JobDetail } from "../../../../src/aws/services/batch.ts";
import {
  batchFailureRecord,
  withLogOutOfMemory,
} from "../../../../src/targets/aws/batch/failure.ts";
import { readLogTail } from "../../../../src/targets/aws/batch/log_stream.ts";
import { startEmulator } from "../../../emulator/mod.ts";
import { sessionFor } from "../../../support/aws_session.ts";

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

Deno.test("the log's last lines are read with one GetLogEvents from the end; a missing stream is empty", async () => {
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
    /exited with code 133 without a record: Essential container in task exited; V8 ran out of heap \("Fatal JavaScript out of memory: Reached heap limit" in its log\): the job's memory limit is 4096 MiB: raise the knot's memory option \(--memory on the command line\) above 4096/,
  );
  // A record that is not a crash without a record is left as it is.
  const timedOut = {
    ...record,
    kind: "timeout" as const,
    error: { name: "TimeoutError", message: "t" },
  };
  assert.equal(withLogOutOfMemory(timedOut, job, ["Fatal JavaScript out of memory"]), timedOut);
});
