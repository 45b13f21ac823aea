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
