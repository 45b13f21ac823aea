// A reader of an AWS run whose run.json is missing finds the run's jobs by name and writes the
// manifest for later readers, but not once the knot's clobber has begun: the clobber deletes the
// knot's prefix, and a run.json written after would be left behind in the bucket.
import assert from "node:assert/strict";
import { encodeItems } from "../../../src/job/codec.ts";
import { markAwsKnotClobbering } from "../../../src/targets/aws/catalog.ts";
import { job, recordKnot, startTestBed } from "./helpers.ts";

Deno.test("AWS target: collect() that finds a run's jobs by name writes no run.json once the knot's clobber has begun, and still reads the run", async () => {
  const bed = await startTestBed(job);
  const { emu } = bed;
  try {
    await recordKnot(bed);
    const target = bed.target();
    const run = await target.map<number>({ items: encodeItems([1, 2]), starmap: false, env: {} });
    assert.deepEqual(await run.results(), [1, 4]);
    const objects = emu.s3.buckets.get(bed.resources.bucket)!.objects;
    const manifestKey = `${bed.prefix}/runs/${run.runId}/run.json`;
    // As if the client had stopped before writing run.json: only the index's manifest is left.
    assert.ok(objects.delete(manifestKey));
    // The knot's clobber has begun (with this config file), and has not deleted the run yet.
    await markAwsKnotClobbering(bed.state, bed.knot);
    emu.requests.clear();
    const again = await bed.target().collect<number>(run.runId);
    assert.deepEqual(await again.results(), [1, 4]);
    await again.done;
    assert.equal(objects.get(manifestKey), undefined, "no run.json was written");
    assert.deepEqual(
      emu.requests.filter({ service: "s3", operation: "PutObject" }).map((r) => r.params.Key),
      [],
    );
  } finally {
    await bed.close();
  }
});
