// Jobs stuck in RUNNABLE: the run says why and what to do, once, and the
// queue's time limit ends the items with an error instead of a run that
// never finishes.
import assert from "node:assert/strict";
import { ItemError, type ItemSettled, Pars } from "../../../mod.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import type { StuckNotice, WaitingNotice } from "../../../src/targets/aws/batch/run_poller.ts";
import { stuckReason, waitingAdvice } from "../../../src/targets/aws/batch/stuck.ts";
import { inCliWords } from "../../../src/cli/common/cli_words.ts";
import { validateComputeOptions } from "../../../src/targets/aws/batch/compute_options.ts";
import { readAwsKnot, writeAwsKnot } from "../../../src/targets/aws/catalog.ts";
import { endsWithin } from "../../support/ends_within.ts";
import { cli, inlineJobRunner, recordKnot, startTestBed } from "./helpers.ts";

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
        assert.match(e.message, /with more instanceTypes in Knot\.create/);
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

Deno.test("a retry's jobs that AWS Batch cannot place (past the compute environment's maxvCpus, or on no instance type) are told of and cancelled with the retry's own options (run.retry, cloudknot retry), its run's with the knot's", async () => {
  // A Batch second is 8 ms here: a job blocked for the queue's time limit (600 s) is cancelled
  // 4.8 s after Batch gave its reason, past the command line's second poll round (2 s apart, its
  // first seeing the job SUBMITTED), which must see it waiting to tell of it.
  const bed = await startTestBed((x: number) => x + 1, {
    emulator: { runner: inlineJobRunner((x: number) => x + 1), timeLimitSecondMs: 8 },
  });
  const { emu, session } = bed;
  try {
    // The queue a knot makes, with its time limits, on the bed's compute environment, whose
    // maxvCpus was lowered outside cloudknot below the 1 vCPU of one of the knot's jobs.
    const { jobStateTimeLimitActions } = validateComputeOptions({});
    const ce = (await session.batch.describeJobQueues({ jobQueues: [bed.resources.jobQueue] }))
      .jobQueues![0]!.computeEnvironmentOrder[0]!.computeEnvironment;
    const queue = await session.batch.createJobQueue({
      jobQueueName: "capped",
      priority: 1,
      computeEnvironmentOrder: [{ order: 1, computeEnvironment: ce }],
      jobStateTimeLimitActions,
    });
    await session.batch.updateComputeEnvironment({
      computeEnvironment: ce,
      computeResources: { maxvCpus: 0 },
    });
    while (emu.batch.jobQueues.get("capped")!.status !== "VALID") {
      await new Promise((r) => setTimeout(r, 10));
    }
    const notices: StuckNotice[] = [];
    const target = bed.target({
      jobQueue: queue.jobQueueArn,
      onStuck: (_, notice) => notices.push(notice),
      stuckCheckIntervalMs: 0,
    });
    const run = await target.map<number>({ items: encodeItems([1, 2]), starmap: false, env: {} });
    const stuckErrors = (settled: ItemSettled<unknown>[]) =>
      settled.map((s) => {
        assert.equal(s.status, "rejected");
        const e = s.status === "rejected" ? s.reason : undefined;
        assert.ok(e instanceof ItemError);
        assert.equal(e.remote.name, "JobStuckError");
        assert.match(e.message, /MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE/);
        return e.message;
      });
    // The run's: the knot's options, on the command line those of knot create and map.
    const runWords =
      /: lower vcpus in Knot\.create \(which updates the knot's job definition\), or make the knot again \(a new knot, or this one clobbered and created again\) with a larger maxVcpus in Knot\.create$/;
    for (const message of stuckErrors(await run.settled())) {
      assert.match(message, runWords);
      assert.match(
        inCliWords(new Error(message)),
        /: lower --vcpus on cloudknot knot create or map \(which updates the knot's job definition\), or make the knot again \(a new knot, or this one clobbered and created again\) with a larger --max-vcpus on cloudknot knot create$/,
      );
    }
    assert.equal(notices.length, 1);
    assert.match(notices[0]!.advice, runWords);

    // Its retry's: the retry's vcpus option, or a knot with a larger maxVcpus; not the knot's
    // vcpus, which a retry does not change.
    const retry = await run.retry({ progress: false });
    const retryWords = "one job of the retry needs more vCPUs than the compute environment's " +
      "maxVcpus: give the retry fewer vCPUs with the vcpus option of run.retry(), or map the " +
      "items on a knot with a larger maxVcpus in Knot.create (a new knot, or this one " +
      "clobbered and created again)";
    for (const message of stuckErrors(await retry.settled())) {
      assert.ok(message.endsWith(retryWords), message);
    }
    assert.equal(notices.length, 2);
    assert.equal(notices[1]!.advice, retryWords);

    // cloudknot retry says it with its flags and those of knot create.
    await recordKnot(bed);
    const record = (await readAwsKnot(bed.state, bed.knot))!;
    await writeAwsKnot(bed.state, { ...record, jobQueue: queue.jobQueueArn });
    // The knot's Pars, which cloudknot retry checks is whole before it submits anything.
    await Pars.create({ name: "ck", session, state: bed.state });
    const command = await cli(bed, ["retry", bed.knot, run.runId, "--json"]).ended;
    assert.equal(command.code, 1, command.stderr);
    assert.ok(
      command.stdout.includes(
        "give the retry fewer vCPUs with --vcpus on cloudknot retry, or map the items on a knot " +
          "with a larger --max-vcpus on cloudknot knot create (a new knot, or this one " +
          "clobbered and created again)",
      ),
      command.stdout,
    );
    assert.doesNotMatch(command.stdout, /run\.retry|Knot\.create|lower --vcpus/);
    // While its jobs wait, it tells of them as a map does, in the same words.
    assert.match(
      command.stderr,
      /cloudknot: run \S+ of knot \S+ is stuck: AWS Batch cannot start job \S+ \(MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE.*\)\. What to do: one job of the retry needs more vCPUs than the compute environment's maxVcpus: give the retry fewer vCPUs with --vcpus on cloudknot retry/,
    );
    assert.doesNotMatch(command.stderr, /run\.retry|Knot\.create/);

    // No instance type for the retry's jobs: its vcpus and memory options, or larger types.
    emu.batch.blockQueue(
      "capped",
      "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement " +
        "(vCPU/memory/GPU) is higher than that can be met by the CE(s) attached to the job queue.",
    );
    const again = await retry.retry({ progress: false });
    for (const s of await again.settled()) {
      assert.equal(s.status, "rejected");
      const message = s.status === "rejected" ? s.reason.message : "";
      assert.match(message, /MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT/);
      assert.match(
        message,
        /give the retry fewer vCPUs or less memory with the vcpus and memory options of run\.retry\(\) \(leave some memory to the ECS agent: .*\), or map the items on a knot with larger instanceTypes in Knot\.create \(a new knot, or this one clobbered and created again\)$/,
      );
    }
    assert.match(notices.at(-1)!.advice, /with the vcpus and memory options of run\.retry\(\)/);
  } finally {
    await bed.close();
  }
});

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
  assert.match(
    waitingAdvice("EC2", "k"),
    /maxvCpus: .*\(knot\.aws\.computeEnvironment names it, as `cloudknot knot show k` does\)/,
  );
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

Deno.test("a retry's jobs waiting for capacity are told to wait or to map on a knot with other instance types, not to change options a retry does not have; a run's are told the knot's options, on the command line its flags", () => {
  const reason = "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - Service cannot fulfill the capacity";
  const knotAdvice = stuckReason(reason)!.advice;
  assert.match(knotAdvice, /with more instanceTypes in Knot\.create/);
  assert.match(
    inCliWords(new Error(knotAdvice)),
    /: wait, or make the knot again \(a new knot, or this one clobbered and created again\) with more --instance-types on cloudknot knot create \(or "optimal"\), with --compute EC2 instead of "SPOT", or in another region$/,
  );
  // No instance type for a job: the knot's resources, or larger types.
  const placed = stuckReason(
    "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement is higher",
  )!.advice;
  assert.match(
    inCliWords(new Error(placed)),
    /: lower --vcpus, --memory or --gpus on cloudknot knot create or map \(which updates the knot's job definition; .*\), or make the knot again \(.*\) with larger --instance-types on cloudknot knot create$/,
  );
  assert.doesNotMatch(
    inCliWords(new Error(placed)),
    /Knot\.create|(?<!-)\b(vcpus|gpus|instanceTypes)\b/,
  );
  const advice = stuckReason(reason, { caller: "retry" })!.advice;
  assert.match(
    advice,
    /a retry runs on as it is: wait, or map the items on a knot made with more instanceTypes in Knot\.create/,
  );
  assert.match(
    inCliWords(new Error(advice)),
    /a knot made with more --instance-types on cloudknot knot create/,
  );
});

Deno.test("array jobs whose reason AWS Batch gives only after the first look at them are told of at the next look, not a check interval later", async () => {
  const bed = await startTestBed((x: number) => x + 1, {
    emulator: { runner: inlineJobRunner((x: number) => x + 1) },
  });
  const { emu, session } = bed;
  try {
    // The knot's queue, on the bed's compute environment lowered below one job's vCPU.
    const { jobStateTimeLimitActions } = validateComputeOptions({});
    const ce = (await session.batch.describeJobQueues({ jobQueues: [bed.resources.jobQueue] }))
      .jobQueues![0]!.computeEnvironmentOrder[0]!.computeEnvironment;
    const queue = await session.batch.createJobQueue({
      jobQueueName: "late",
      priority: 1,
      computeEnvironmentOrder: [{ order: 1, computeEnvironment: ce }],
      jobStateTimeLimitActions,
    });
    await session.batch.updateComputeEnvironment({
      computeEnvironment: ce,
      computeResources: { maxvCpus: 0 },
    });
    while (emu.batch.jobQueues.get("late")!.status !== "VALID") {
      await new Promise((r) => setTimeout(r, 10));
    }
    // The first look at the waiting children finds them without a reason, as right after they
    // became RUNNABLE: AWS Batch gives it a moment later (here, by the time that look answers).
    let looks = 0;
    const batch = Object.create(session.batch, {
      listJobs: {
        value: async (...args: Parameters<typeof session.batch.listJobs>) => {
          let page = await session.batch.listJobs(...args);
          if (args[0]?.jobStatus !== "RUNNABLE" || looks++ > 0) return page;
          // Once the reason is there, so that the next look finds it.
          while (!page.jobSummaryList.some((child) => child.statusReason)) {
            await new Promise((r) => setTimeout(r, 10));
            page = await session.batch.listJobs(...args);
          }
          return {
            ...page,
            jobSummaryList: page.jobSummaryList.map(({ statusReason: _, ...child }) => child),
          };
        },
      },
    });
    const told = Promise.withResolvers<StuckNotice>();
    // The default check interval: a minute between looks once one found a reason.
    const target = bed.target({
      session: Object.create(session, { batch: { value: batch } }),
      jobQueue: queue.jobQueueArn,
      onStuck: (_, notice) => told.resolve(notice),
    });
    const run = await target.map<number>({ items: encodeItems([1, 2]), starmap: false, env: {} });
    const notice = await endsWithin(told.promise, 30_000, "the notice of the stuck jobs");
    assert.equal(looks, 2, "told at the second look");
    assert.match(notice.advice, /maxVcpus/);
    await run.cancel("enough");
    await run.done;
  } finally {
    await bed.close();
  }
});
