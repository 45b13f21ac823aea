// Jobs stuck in RUNNABLE: the run says why and what to do, once, and the
// queue's time limit ends the items with an error instead of a run that
// never finishes.
import assert from "node:assert/strict";
import { ItemError } from "../../../mod.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import type { StuckNotice, WaitingNotice } from "../../../src/targets/aws/batch/run_poller.ts";
import { waitingAdvice } from "../../../src/targets/aws/batch/stuck.ts";
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

for (const jobType of ["array", "independent"] as const) {
  Deno.test(`${jobType} jobs that all wait in RUNNABLE without a reason (a vCPU quota) are told of once`, async () => {
    // The account's quota leaves no room: Batch keeps the jobs RUNNABLE and says nothing.
    const bed = await startTestBed((x: number) => x + 1, {
      emulator: { runner: inlineJobRunner((x: number) => x + 1), vcpuQuota: 0 },
    });
    try {
      const notices: WaitingNotice[] = [];
      const stuck: StuckNotice[] = [];
      const target = bed.target({
        onWaiting: (_, notice) => notices.push(notice),
        onStuck: (_, notice) => stuck.push(notice),
        waitingWarnMs: 300,
      });
      const run = await target.map<number>({
        items: encodeItems([1, 2, 3]),
        starmap: false,
        env: {},
        jobType,
      });
      for (let i = 0; notices.length === 0 && i < 500; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(notices.length, 1, "told of the wait");
      assert.equal(notices[0]!.jobs, jobType === "array" ? 1 : 3);
      assert.ok(notices[0]!.waitedMs >= 300);
      assert.deepEqual(stuck, [], "no Batch reason to report");
      // Told once, however long it goes on.
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(notices.length, 1);
      await run.cancel("enough");
      await run.done;
    } finally {
      await bed.close();
    }
  });
}

Deno.test("a run that starts in time is not told of a quota", async () => {
  const bed = await startTestBed((x: number) => x + 1, {
    emulator: { runner: inlineJobRunner((x: number) => x + 1), vcpuQuota: 32 },
  });
  try {
    const notices: WaitingNotice[] = [];
    const target = bed.target({ onWaiting: (_, n) => notices.push(n), waitingWarnMs: 60_000 });
    const run = await target.map<number>({ items: encodeItems([1, 2]), starmap: false, env: {} });
    assert.deepEqual(await run.results(), [2, 3]);
    assert.deepEqual(notices, []);
  } finally {
    await bed.close();
  }
});

Deno.test("the advice for a quiet wait names the quota of the compute type and the compute environment", () => {
  assert.match(
    waitingAdvice("EC2", "k"),
    /"Running On-Demand Standard \(A, C, D, H, I, M, R, T, Z\) instances" \(L-1216C47A/,
  );
  assert.match(waitingAdvice("SPOT", "k"), /Spot Instance Requests/);
  assert.match(waitingAdvice("FARGATE", "k"), /"Fargate On-Demand vCPU resource count"/);
  assert.match(waitingAdvice("FARGATE_SPOT", "k"), /"Fargate Spot vCPU resource count"/);
  assert.match(waitingAdvice("EC2", "k"), /maxvCpus: .*`cloudknot knot show k` names it/);
});

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
