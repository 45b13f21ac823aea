// The AWS target's cost report, timeline and retry against the emulator:
// real job processes, attempt times fixed in the emulator so the cost is
// checked against figures worked out by hand, an item Batch kills for memory
// retried with twice the memory, and the merged handle from another process.
import assert from "node:assert/strict";
import { join } from "node:path";
import { CloudknotInputError, MapError } from "../../../mod.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import { registerDefinition, startTestBed } from "./helpers.ts";
import { checkGroups } from "../../../src/targets/aws/groups.ts";

const T0 = Date.UTC(2026, 5, 1, 12);

/** Squares numbers; `{ flag }` throws until the file `flag` exists; `{ flaky }` fails its first attempt. */
// deno-lint-ignore no-explicit-any
async function work(x: any): Promise<unknown> {
  if (typeof x === "number") return x * x;
  if ("flaky" in x) {
    if (Deno.env.get("AWS_BATCH_JOB_ATTEMPT") === "1") throw new Error("the first attempt fails");
    return "second time lucky";
  }
  if ("flag" in x) {
    await Deno.stat(x.flag).catch(() => {
      throw new Error("the flag is not there yet");
    });
    return "flagged";
  }
  return x;
}

Deno.test("AWS target: the cost report of a run comes from its attempts' times, retries included", async () => {
  const bed = await startTestBed(work, { attempts: 2 });
  try {
    const { emu } = bed;
    // Child 0 runs 60 s, child 1 90 s, child 2 fails after 30 s and succeeds in 60 s.
    emu.batch.fixAttemptTimes({ arrayIndex: 0, attempt: 1 }, {
      startedAt: T0,
      stoppedAt: T0 + 60_000,
    });
    emu.batch.fixAttemptTimes({ arrayIndex: 1, attempt: 1 }, {
      startedAt: T0,
      stoppedAt: T0 + 90_000,
    });
    emu.batch.fixAttemptTimes({ arrayIndex: 2, attempt: 1 }, {
      startedAt: T0,
      stoppedAt: T0 + 30_000,
    });
    emu.batch.fixAttemptTimes({ arrayIndex: 2, attempt: 2 }, {
      startedAt: T0 + 40_000,
      stoppedAt: T0 + 100_000,
    });
    const run = await bed.target().map({
      items: encodeItems([2, 3, { flaky: true }]),
      starmap: false,
      env: {},
    });
    assert.deepEqual(await run.results(), [4, 9, "second time lucky"]);
    const usage = await run.usage();
    assert.equal(usage.compute, "EC2");
    assert.deepEqual(
      usage.attempts.map((a) => [a.index, a.attempt, a.outcome, a.vcpus, a.memoryMiB]),
      [
        [0, 1, "succeeded", 1, 512],
        [1, 1, "succeeded", 1, 512],
        [2, 1, "retried", 1, 512],
        [2, 2, "succeeded", 1, 512],
      ],
    );
    assert.equal(usage.attempts[3]!.queuedAt, T0 + 30_000); // the wait after the failed attempt
    const cost = await run.cost();
    // 240 s of 1 vCPU and 512 MiB: 0.5 GiB per vCPU fits c6i, $0.0425 per vCPU-hour.
    assert.equal(cost.attempts, 4);
    assert.equal(cost.retried, 1);
    assert.equal(cost.attemptSeconds, 240);
    assert.ok(Math.abs(cost.vcpuHours - 240 / 3600) < 1e-12);
    assert.ok(Math.abs(cost.gbHours - 240 * 0.5 / 3600) < 1e-12);
    assert.ok(Math.abs(cost.cost!.low - 240 * 0.0425 / 3600) < 1e-12);
    assert.equal(cost.cost!.high, cost.cost!.low);
    assert.match(String(run), /cost \(EC2\)\s+\$0\.0028/); // the run's view shows it
    const timeline = await run.timeline();
    assert.equal(timeline.rows, 3); // one row per array child
    assert.equal((timeline.svg.match(/class="attempt /g) ?? []).length, 4);
    assert.match(timeline.svg, /class="attempt retried"/);
    const page = await run.report();
    assert.match(page, /^<!doctype html>/);
    assert.match(page, /No item failed/);
  } finally {
    await bed.close();
  }
});

Deno.test("AWS target: the cost of a finished run waits for Batch to report the containers still stopping, and counts them", async () => {
  // Each container's attempt ends in Batch only once the gate opens, after its items settled.
  let open!: () => void;
  const gate = new Promise<void>((resolve) => open = resolve);
  const bed = await startTestBed(work, {
    wrapRunner: (inner) => ({
      ...(inner.capacity !== undefined ? { capacity: inner.capacity } : {}),
      run: async (req) => {
        const result = await inner.run(req);
        await gate;
        return result;
      },
    }),
  });
  const { emu } = bed;
  try {
    const run = await bed.target().map<number>({
      items: encodeItems([1, 2]),
      starmap: false,
      env: {},
    });
    assert.deepEqual(await run.results(), [1, 4]);
    const described = emu.count("batch", "DescribeJobs");
    const costing = run.cost();
    // The report reads the jobs while their containers are still stopping, then they stop.
    while (emu.count("batch", "DescribeJobs") === described) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    open();
    const report = await costing;
    assert.equal(report.uncounted, 0);
    assert.equal(report.attempts, 2);
  } finally {
    open();
    await bed.close();
  }
});

Deno.test("AWS target: retry() reruns the item Batch killed for memory with twice its memory and the item that threw, and the merged results are complete from another process", async () => {
  // The function looks for a file: its knot grants reads (by default it may only use the network).
  const bed = await startTestBed(work, { attempts: 1, permissions: { net: true, read: true } });
  try {
    const { emu } = bed;
    const flag = join(bed.dir, "flag");
    // Batch kills child 1 for memory, as it reports an OOM kill.
    emu.batch.injectExit({
      arrayIndex: 1,
      exitCode: 137,
      reason: "OutOfMemoryError: Container killed due to memory usage",
    });
    const target = bed.target();
    const run = await target.map({
      items: encodeItems([2, 3, { flag }, 5]),
      starmap: false,
      env: { K: "v" },
    });
    const error = await run.results().then(() => undefined, (e) => e);
    assert.ok(error instanceof MapError);
    assert.deepEqual(error.failed, [1, 2]);

    // Bad resources are refused before anything is written or submitted.
    emu.requests.clear();
    await assert.rejects(
      () => run.retry({ vcpus: 0.5, progress: false }),
      (e) =>
        e instanceof CloudknotInputError &&
        /do not fit the knot's EC2 jobs: vcpus must be an integer/.test(e.message),
    );
    assert.deepEqual(emu.mutatingRequests(), []);

    await Deno.writeTextFile(flag, "");
    emu.requests.clear();
    const retried = await run.retry({ memory: "double", progress: false });
    assert.deepEqual(retried.retryOf, { runId: run.runId, items: [1, 2] });
    assert.deepEqual(await retried.results(), [4, 9, "flagged", 25]);
    // Two single jobs: the one that ran out with MEMORY 1024 (twice 512), the other as defined.
    const submits = emu.requests.filter({ service: "batch", operation: "SubmitJob" })
      .map((r) =>
        r.params as {
          containerOverrides: {
            resourceRequirements?: unknown;
            environment: { name: string; value: string }[];
          };
        }
      );
    // Submitted side by side, in either order.
    assert.deepEqual(
      submits.map((s) => JSON.stringify(s.containerOverrides.resourceRequirements ?? null)).sort(),
      ['[{"type":"MEMORY","value":"1024"}]', "null"],
    );
    assert.ok(
      submits.every((s) =>
        s.containerOverrides.environment.some((e) => e.name === "K" && e.value === "v")
      ),
    );

    // From another process: a new target collects the retry as the whole input.
    const collected = await bed.target().collect(retried.runId);
    assert.equal(collected.total, 4);
    assert.deepEqual(await collected.results(), [4, 9, "flagged", 25]);
    const usage = await collected.usage();
    assert.deepEqual(usage.attempts.map((a) => [a.index, a.outcome, a.memoryMiB]), [
      [0, "succeeded", 512],
      [1, "failed", 512],
      [2, "failed", 512],
      [3, "succeeded", 512],
      [1, "succeeded", 1024],
      [2, "succeeded", 512],
    ]);
    const cost = await collected.cost();
    assert.equal(cost.attempts, 6);
    // Nothing left to retry: the merged handle is returned as it is.
    assert.equal(await collected.retry({ progress: false }), collected);
  } finally {
    await bed.close();
  }
});

Deno.test("AWS target: a retry's resources are checked against the job definition's platform first", async () => {
  const bed = await startTestBed(work);
  try {
    const { session, emu } = bed;
    const fargate = await session.batch.registerJobDefinition({
      jobDefinitionName: "fargate-def",
      type: "container",
      platformCapabilities: ["FARGATE"],
      containerProperties: {
        image: "cloudknot/job:test",
        command: [],
        executionRoleArn: bed.resources.jobRoleArn,
        resourceRequirements: [{ type: "VCPU", value: "1" }, { type: "MEMORY", value: "8192" }],
      },
    });
    emu.requests.clear();
    await assert.rejects(
      () =>
        checkGroups(session.batch, fargate.jobDefinitionArn, [{
          offset: 0,
          size: 1,
          resources: { memory: 16384 },
        }]),
      (e) =>
        e instanceof CloudknotInputError &&
        /Fargate jobs: On Fargate, 1 vCPU takes memory of 2048 to 8192 MiB.*; give the retry vCPUs that take that memory as well, with the vcpus option of run\.retry\(\)$/
          .test(e.message),
    );
    await checkGroups(session.batch, fargate.jobDefinitionArn, [{
      offset: 0,
      size: 1,
      resources: { memory: 16384, vcpus: 2 },
    }]);
    assert.deepEqual(emu.mutatingRequests(), []);
  } finally {
    await bed.close();
  }
});

/** Sleeps `ms`, then says so (shipped by its source). */
async function sleeper(ms: number): Promise<string> {
  await new Promise((r) => setTimeout(r, ms));
  return `slept ${ms} ms`;
}

Deno.test("AWS target: retry({ timeout }) gives the retried items that timeout: the job keeps it, not the knot's, and Batch's stops a minute later", async () => {
  const bed = await startTestBed(sleeper, { emulator: { minTimeoutSeconds: 1 } });
  const { emu } = bed;
  try {
    // A knot's job definition: the job stops an item at the knot's timeout (CLOUDKNOT_TIMEOUT),
    // Batch a minute later.
    const def = await registerDefinition(bed, "timed", {
      environment: { CLOUDKNOT_TIMEOUT: "1" },
      timeoutSeconds: 61,
    });
    const target = bed.target({ jobDefinition: def, attempts: 1 });
    const run = await target.map<string>({ items: encodeItems([5000]), starmap: false, env: {} });
    const [first] = await run.settled();
    assert.ok(first!.status === "rejected");
    assert.equal(first!.reason.kind, "timeout");
    const retried = await run.retry({ timeout: 600, progress: false });
    assert.deepEqual(await retried.results(), ["slept 5000 ms"]);
    const submits = emu.requests.filter({ service: "batch", operation: "SubmitJob" });
    const retry = submits.at(-1)!.params;
    assert.deepEqual(retry.timeout, { attemptDurationSeconds: 660 });
    const overrides = retry.containerOverrides as {
      environment: { name: string; value: string }[];
    };
    const environment = overrides.environment;
    assert.deepEqual(environment.filter((v) => v.name === "CLOUDKNOT_TIMEOUT"), [
      { name: "CLOUDKNOT_TIMEOUT", value: "600" },
    ]);
  } finally {
    await bed.close();
  }
});
