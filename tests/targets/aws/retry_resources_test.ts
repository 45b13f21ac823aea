// A retry on AWS with resources its knot's jobs cannot have (below or past what AWS Batch takes,
// a pair Fargate does not take, more than any instance the compute environment may launch, or
// memory doubled past that) is refused before any request that changes AWS: nothing is uploaded,
// no job submitted, and the error names the option and what it takes.
import assert from "node:assert/strict";
import { CloudknotInputError, MapError } from "../../../mod.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import { job, registerDefinition, startTestBed } from "./helpers.ts";

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
        // More than any instance type of the compute environment (optimal: c4, m4, r4) has.
        [{ vcpus: 100 }, "vcpus", /the most vCPUs any has is 64 vCPUs \(.*\); lower vcpus/],
        [{ memory: 600_000 }, "memory", /the most memory any has is 499,712 MiB/],
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
          /^The retry's resources do not fit the knot's EC2 jobs: No instance type the compute environment may launch \(optimal\) can run one job of 1 vCPU, 600,000 MiB: the most memory any has is 499,712 MiB \(r4\.16xlarge\); lower memory/,
        );
        return true;
      },
    );
    assert.deepEqual(emu.mutatingRequests(), []);
  } finally {
    await bed.close();
  }
});
