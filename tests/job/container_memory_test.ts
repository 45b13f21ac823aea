// What a job says of an item whose worker the kernel killed for the container's memory limit.
import assert from "node:assert/strict";
import { outOfMemoryRecord } from "../../src/job/container_memory.ts";
import type { ErrorRecord } from "../../src/job/record.ts";

Deno.test("an item killed for the container's memory is Batch's OutOfMemoryError, saying what to raise and naming no index, which a retry's job knows only as its own run's", () => {
  const crashed: ErrorRecord = {
    version: 1,
    status: "error",
    kind: "crashed",
    // The item's place in a retry's run: its place in the whole input is another.
    index: 2,
    attempt: 1,
    jobId: "j",
    endedAt: 0,
    signal: "SIGKILL",
    error: { name: "WorkerCrashedError", message: "killed" },
  };
  const record = outOfMemoryRecord(crashed, 128);
  assert.equal(record.exitCode, 137);
  assert.equal(record.error.name, "OutOfMemoryError");
  assert.equal(
    record.error.message,
    "The kernel killed the worker running the item for the container's memory limit (the items " +
      "it ran at once used it all): the job's memory limit is 128 MiB: give the item more than " +
      "128 MiB with the memory option of Knot.create or run.retry, or make the item smaller",
  );
});
