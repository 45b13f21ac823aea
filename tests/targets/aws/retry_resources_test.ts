// A retry on AWS with resources its knot's jobs cannot have (below or past what AWS Batch takes,
// a pair Fargate does not take, more than any instance the compute environment may launch, more
// vCPUs than its maxvCpus, or memory doubled past what any instance has) is refused before any
// request that changes AWS: nothing is uploaded, no job submitted, and the error names the
// retry's option and what it takes, in the library's words or, from cloudknot retry, its flags.
import assert from "node:assert/strict";
import { CloudknotInputError, MapError, Pars } from "../../../mod.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import { cli, job, recordKnot, registerDefinition, startTestBed } from "./helpers.ts";

Deno.test("AWS target: retry() refuses resources the knot's EC2 jobs cannot have, before any request that changes AWS", async () => {
  const bed = await startTestBed(job);
  const { emu } = bed;
  try {
    // Batch kills item 1 for memory; item 0 throws.
    emu.batch.injectExit({
      arrayIndex: 1,
      exitCode: 137,
      reason: "OutOfMemoryError: Container killed due to memory usage",
    });
    const run = await bed.target().map({
      items: encodeItems([{ throw: 0 }, 1]),
      starmap: false,
      env: {},
      itemsPerJob: 1,
    });
    const error = await run.results().then(() => undefined, (e) => e);
    assert.ok(error instanceof MapError);
    assert.deepEqual(error.failed, [0, 1]);
    for (
      const [options, field, words] of [
        [{ memory: 3 }, "memory", /memory must be an integer from 4/],
        [{ vcpus: 1000 }, "vcpus", /vcpus must be an integer from 1 to 256/],
        [{ timeout: 30 }, "timeout", /timeout must be an integer from 60/],
        // More than any instance type of the compute environment (optimal: c4, m4, r4) has: the
        // retry's option is what to lower, the knot's instance types are its environment's.
        [
          { vcpus: 100 },
          "vcpus",
          /the most vCPUs any has is 64 vCPUs \(.*\); give the retry at most 64 vCPUs with the vcpus option of run\.retry\(\), or map the items on a knot with larger instanceTypes in Knot\.create \(a new knot, or this one clobbered and created again\)$/,
        ],
        [
          { memory: 600_000 },
          "memory",
          /the most memory any has is 499,712 MiB \(r4\.16xlarge\); give the retry at most 499,712 MiB with the memory option of run\.retry\(\), or map the items on a knot with larger instanceTypes in Knot\.create/,
        ],
      ] as const
    ) {
      emu.requests.clear();
      await assert.rejects(
        () => run.retry({ ...options, progress: false }),
        (e) => {
          assert.ok(e instanceof CloudknotInputError, String(e));
          assert.equal(e.field, field, e.message);
          assert.match(e.message, words);
          return true;
        },
        JSON.stringify(options),
      );
      assert.deepEqual(emu.mutatingRequests(), [], JSON.stringify(options));
    }

    // cloudknot retry is refused alike, in its flags and the knot create's.
    await recordKnot(bed);
    // The knot's Pars, which cloudknot retry checks is whole before it submits anything.
    await Pars.create({ name: "ck", session: bed.session, state: bed.state });
    emu.requests.clear();
    const memory = await cli(bed, ["retry", bed.knot, run.runId, "--memory", "600000"]).ended;
    assert.equal(memory.code, 1, memory.stderr);
    assert.ok(
      memory.stderr.includes(
        "the most memory any has is 499,712 MiB (r4.16xlarge); give the retry at most 499,712 " +
          "MiB with --memory on cloudknot retry, or map the items on a knot with larger " +
          "--instance-types on cloudknot knot create (a new knot, or this one clobbered and " +
          "created again)",
      ),
      memory.stderr,
    );
    assert.deepEqual(emu.mutatingRequests(), []);

    // The compute environment's maxvCpus, as AWS has it now (lowered outside cloudknot): more
    // vCPUs than it is refused, as Knot.create refuses a knot's, for AWS Batch would hold the
    // retry's jobs in RUNNABLE for good; as many are taken.
    await bed.session.batch.updateComputeEnvironment({
      computeEnvironment: "ck-ce",
      computeResources: { maxvCpus: 8 },
    });
    emu.requests.clear();
    const words = "must be at most the knot's compute environment's maxvCpus (8), not 16: AWS " +
      "Batch would hold the retry's jobs in RUNNABLE for good; give the retry fewer vCPUs, or " +
      "map the items on a knot with a larger";
    await assert.rejects(
      () => run.retry({ vcpus: 16, progress: false }),
      (e) => {
        assert.ok(e instanceof CloudknotInputError, String(e));
        assert.equal(e.field, "vcpus", e.message);
        assert.equal(
          e.message,
          `The retry's resources do not fit the knot's EC2 jobs: vcpus ${words} maxVcpus in ` +
            "Knot.create (a new knot, or this one clobbered and created again)",
        );
        return true;
      },
    );
    const vcpus = await cli(bed, ["retry", bed.knot, run.runId, "--vcpus", "16"]).ended;
    assert.equal(vcpus.code, 1, vcpus.stderr);
    assert.ok(
      vcpus.stderr.includes(
        `--vcpus ${words} --max-vcpus on cloudknot knot create (a new knot, or this one ` +
          "clobbered and created again)",
      ),
      vcpus.stderr,
    );
    assert.deepEqual(emu.mutatingRequests(), []);
    const retried = await run.retry({ vcpus: 8, progress: false });
    const submitted = emu.requests.filter({ service: "batch", operation: "SubmitJob" });
    assert.ok(submitted.length > 0);
    for (const { params } of submitted) {
      assert.deepEqual(
        (params.containerOverrides as { resourceRequirements?: unknown }).resourceRequirements,
        [{ type: "VCPU", value: "8" }],
      );
    }
    await retried.done;

    // An instance type the compute environment names (changed outside cloudknot) that EC2 does
    // not list in the region: a retry cannot change the environment's types, so the refusal names
    // a knot made with other ones, not the instanceTypes option a retry does not have.
    await bed.session.batch.updateComputeEnvironment({
      computeEnvironment: "ck-ce",
      computeResources: { instanceTypes: ["x2iedn.xlarge"] },
    });
    emu.requests.clear();
    const unknown = "Unknown instance type x2iedn.xlarge in us-east-1: the knot's compute " +
      "environment names it among the types it may launch, and a retry runs on that " +
      "environment as it is: map the items on a knot with other";
    const listed = "(types EC2 DescribeInstanceTypes lists there, instance families such as " +
      '"c5", or "optimal"; a new knot, or this one clobbered and created again)';
    await assert.rejects(
      () => run.retry({ memory: 1024, progress: false }),
      (e) => {
        assert.ok(e instanceof CloudknotInputError, String(e));
        assert.equal(e.field, undefined, e.message);
        assert.equal(
          e.message,
          `The retry's resources do not fit the knot's EC2 jobs: ${unknown} instanceTypes in ` +
            `Knot.create ${listed}`,
        );
        return true;
      },
    );
    const types = await cli(bed, ["retry", bed.knot, run.runId, "--memory", "1024"]).ended;
    assert.equal(types.code, 1, types.stderr);
    assert.ok(
      types.stderr.includes(`${unknown} --instance-types on cloudknot knot create ${listed}`),
      types.stderr,
    );
    assert.deepEqual(emu.mutatingRequests(), []);
  } finally {
    await bed.close();
  }
});

Deno.test('AWS target: retry({ memory: "double" }) is refused before any request that changes AWS when twice the memory of the item Batch killed is more than any instance the compute environment may launch has', async () => {
  const bed = await startTestBed(job);
  const { emu } = bed;
  try {
    // The knot's jobs have 300,000 MiB: an r4.16xlarge (499,712 MiB) runs one, none runs twice it.
    const jobDefinition = await registerDefinition(bed, "big", { memory: 300_000 });
    emu.batch.injectExit({
      arrayIndex: 0,
      exitCode: 137,
      reason: "OutOfMemoryError: Container killed due to memory usage",
    });
    const run = await bed.target({ jobDefinition }).map({
      items: encodeItems([1, 2]),
      starmap: false,
      env: {},
      itemsPerJob: 1,
    });
    const error = await run.results().then(() => undefined, (e) => e);
    assert.ok(error instanceof MapError);
    assert.deepEqual(error.failed, [0]);
    emu.requests.clear();
    await assert.rejects(
      () => run.retry({ memory: "double", progress: false }),
      (e) => {
        assert.ok(e instanceof CloudknotInputError, String(e));
        assert.equal(e.field, "memory", e.message);
        assert.match(
          e.message,
          /^The retry's resources do not fit the knot's EC2 jobs: No instance type the compute environment may launch \(optimal\) can run one job of 1 vCPU, 600,000 MiB: the most memory any has is 499,712 MiB \(r4\.16xlarge\); give the retry at most 499,712 MiB with the memory option of run\.retry\(\)/,
        );
        return true;
      },
    );
    assert.deepEqual(emu.mutatingRequests(), []);
  } finally {
    await bed.close();
  }
});
