/**
 * The client-side limit on AWS Batch requests: every session of a process
 * shares one limiter per Batch endpoint, so a burst of calls stays under the
 * account's rate instead of meeting 429s (the emulator's `batchTps` models
 * AWS's 50 requests per second per account).
 */
import assert from "node:assert/strict";
import { AwsConfigError } from "../../src/aws/mod.ts";
import { startEmulator } from "../emulator/mod.ts";
import { sessionFor } from "../support/aws_session.ts";

async function burst(perSecond: number): Promise<{ throttled: number; sent: number }> {
  // Only the rate: a low one, so a burst of 16 meets it; nothing else of AWS_REALISM bears on it.
  const emu = await startEmulator({ realism: false, batchTps: 5, batchBurst: 5 });
  try {
    // Two sessions, as a knot and its runs have: the limit is the process's.
    const sessions = [
      await sessionFor(emu, { batchRequestsPerSecond: perSecond }),
      await sessionFor(emu, { batchRequestsPerSecond: perSecond }),
    ];
    // Without a limit some calls may run out of (the test session's fast) retries.
    await Promise.allSettled(
      Array.from({ length: 16 }, (_, i) => sessions[i % 2]!.batch.describeJobs({ jobs: ["a"] })),
    );
    const batch = emu.requests.filter({ service: "batch" });
    return {
      throttled: batch.filter((e) => e.status === 429).length,
      sent: batch.length,
    };
  } finally {
    await emu.close();
  }
}

Deno.test("Batch requests are spaced to the client's rate, shared by every session, so none is throttled", async () => {
  const limited = await burst(4);
  assert.equal(limited.throttled, 0);
  assert.equal(limited.sent, 16, "each call sent once");
  // The same burst without the limit meets the account's rate.
  const unlimited = await burst(0);
  assert.ok(unlimited.throttled > 0, `no 429 without the limit: ${JSON.stringify(unlimited)}`);
});

Deno.test("a Batch call aborted while it waits its turn leaves the queue at once, keeping no timer", async () => {
  const emu = await startEmulator({ realism: false });
  try {
    // One request a second: the first goes at once, the others wait their turn.
    const session = await sessionFor(emu, { batchRequestsPerSecond: 1 });
    const describe = (signal?: AbortSignal) =>
      session.batch.describeJobs({ jobs: ["a"] }, signal ? { signal } : {});
    const first = describe();
    let nextSettled = false;
    const next = describe().finally(() => nextSettled = true);
    const stop = new AbortController();
    const last = describe(stop.signal);
    // Once the first has its answer, the other two wait in the limiter's queue (each
    // call reaches it within the microtasks that follow it).
    await first;
    const reason = new Error("no longer wanted");
    stop.abort(reason);
    // It leaves before the call ahead of it has had its turn.
    await assert.rejects(last, (e) => e === reason);
    assert.equal(nextSettled, false);
    await next;
    assert.equal(
      emu.requests.filter({ service: "batch" }).length,
      2,
      "the aborted call was never sent",
    );
    // The test's sanitizers fail it if the aborted call's wait left a timer behind.
  } finally {
    await emu.close();
  }
});

Deno.test("batchRequestsPerSecond must be a whole number", async () => {
  const emu = await startEmulator();
  try {
    await assert.rejects(
      () => sessionFor(emu, { batchRequestsPerSecond: 2.5 }),
      (e) => e instanceof AwsConfigError && e.setting === "batchRequestsPerSecond",
    );
  } finally {
    await emu.close();
  }
});
