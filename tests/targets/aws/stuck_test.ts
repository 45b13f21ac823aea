// Jobs stuck in RUNNABLE: the run says why and what to do, once, and the
// queue's time limit ends the items with an error instead of a run that
// never finishes.
import assert from "node:assert/strict";
import { ItemError } from "../../../mod.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import type { StuckNotice } from "../../../src/targets/aws/batch/run_poller.ts";
import { validateComputeOptions } from "../../../src/targets/aws/batch/compute_options.ts";
import { inlineJobRunner, startTestBed } from "./helpers.ts";

const CAPACITY = "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - Service cannot fulfill the capacity " +
  "requested for instance type [c5.large]";

for (const jobType of ["array", "independent"] as const) {
  Deno.test(`${jobType} jobs without capacity: warned once with what to do, then cancelled by the queue's time limit`, async () => {
    const bed = await startTestBed((x: number) => x + 1, {
      emulator: { runner: inlineJobRunner((x: number) => x + 1), timeLimitSecondMs: 3 },
    });
    const { emu, session } = bed;
    try {
      // A queue made through the client with the actions a knot gives it.
      const { jobStateTimeLimitActions } = validateComputeOptions({ capacityTimeout: 600 });
      const ce = (await session.batch.describeJobQueues({ jobQueues: [bed.resources.jobQueue] }))
        .jobQueues![0]!.computeEnvironmentOrder[0]!.computeEnvironment;
      const queue = await session.batch.createJobQueue({
        jobQueueName: "tight",
        priority: 1,
        computeEnvironmentOrder: [{ order: 1, computeEnvironment: ce }],
        jobStateTimeLimitActions,
      });
      while (emu.batch.jobQueues.get("tight")!.status !== "VALID") {
        await new Promise((r) => setTimeout(r, 10));
      }
      emu.batch.blockQueue("tight", CAPACITY);
      const notices: StuckNotice[] = [];
      const target = bed.target({
        jobQueue: queue.jobQueueArn,
        onStuck: (_, notice) => notices.push(notice),
        stuckCheckIntervalMs: 0,
      });
      const run = await target.map<number>({
        items: encodeItems([1, 2, 3]),
        starmap: false,
        env: {},
        jobType,
      });
      const settled = await run.settled();
      for (const s of settled) {
        assert.equal(s.status, "rejected");
        const e = (s as PromiseRejectedResult).reason;
        assert.ok(e instanceof ItemError);
        assert.equal(e.kind, "cancelled");
        assert.equal(e.remote.name, "JobStuckError");
        assert.match(e.message, /cancelled after waiting too long in RUNNABLE/);
        assert.match(e.message, /CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY/);
        assert.match(e.message, /allow more instanceTypes/);
      }
      assert.equal(notices.length, 1, "one notice per reason");
      assert.equal(notices[0]!.code, "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY");
      assert.equal(notices[0]!.statusReason, CAPACITY);
      assert.match(notices[0]!.advice, /"SPOT"/);
      await run.done;
    } finally {
      await bed.close();
    }
  });
}

Deno.test("a knot's queue cancels misconfigured jobs after 10 minutes by default, and waits for capacity", () => {
  const reasons = (options: Parameters<typeof validateComputeOptions>[0]) =>
    validateComputeOptions(options).jobStateTimeLimitActions.map((a) =>
      `${a.reason} ${a.maxTimeSeconds} ${a.state} ${a.action}`
    );
  assert.deepEqual(reasons({}), [
    "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE 600 RUNNABLE CANCEL",
    "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT 600 RUNNABLE CANCEL",
  ]);
  assert.deepEqual(reasons({ stuckTimeout: false, capacityTimeout: 14_400 }), [
    "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY 14400 RUNNABLE CANCEL",
  ]);
  for (const [field, value] of [["stuckTimeout", 599], ["capacityTimeout", 86_401]] as const) {
    assert.throws(
      () => validateComputeOptions({ [field]: value }),
      new RegExp(`${field} must be an integer from 600 to 86,400`),
    );
  }
});
