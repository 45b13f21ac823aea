// run.retry({ vcpus }) on a run of the local target, whose workers take no CPU limit: refused
// in the library user's words (the option, and the targets that take it) before anything of a
// retry is written, as Knot.create() and map() refuse an option of another target. Real
// worker processes run the first run.
import assert from "node:assert/strict";
import { CloudknotInputError } from "../../mod.ts";
import { withKnot } from "../targets/local/helpers.ts";

const fail = (x: number) => {
  if (x === 2) throw new Error("two");
  return x;
};

Deno.test("run.retry({ vcpus }) of a local run is refused, naming vcpus and the aws and docker targets that take it, and writes no retry run", async () => {
  await withKnot({ name: "retry-vcpus", func: fail, retries: 1 }, async (knot) => {
    const run = await knot.map([1, 2, 3], { progress: false });
    await run.done;
    assert.equal(run.counts.failed, 1);
    const refused = await run.retry({ vcpus: 2, progress: false }).then(
      () => assert.fail("retry({ vcpus }) must be refused on the local target"),
      (e) => e,
    );
    assert.ok(refused instanceof CloudknotInputError, String(refused));
    assert.equal(refused.field, "vcpus");
    assert.match(
      refused.message,
      /^vcpus is an option of targets "aws" and "docker" .*: leave it out$/,
    );
    // Nothing was written: the knot has the one run it mapped.
    assert.deepEqual((await knot.runs()).map((m) => m.runId), [run.runId]);
    // The options the local target takes still retry it (memory is each worker's heap limit).
    const retried = await run.retry({ memory: 128, timeout: 60, progress: false });
    await retried.done;
    assert.equal(retried.counts.failed, 1);
    assert.equal((await knot.runs()).length, 2);
  });
});
