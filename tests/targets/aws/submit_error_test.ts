// A map whose first SubmitJob is refused (the knot's job definition was
// deregistered under it): nothing runs, so nothing of the run is left behind.
import assert from "node:assert/strict";
import { SubmitError } from "../../../mod.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import { job, startTestBed } from "./helpers.ts";

Deno.test("AWS target: a map whose first job Batch refuses removes the run's data, so knot.runs() does not list a run that never ran, and says to map again", async () => {
  const bed = await startTestBed(job);
  try {
    const target = bed.target();
    await bed.session.batch.deregisterJobDefinition({ jobDefinition: bed.resources.jobDefinition });
    const error = await target.map<number>({ items: encodeItems([1, 2]), starmap: false, env: {} })
      .then(() => undefined, (e) => e);
    assert.ok(error instanceof SubmitError, String(error));
    assert.equal(bed.emu.batch.jobs.size, 0);
    assert.deepEqual(await target.runData(), { runs: [], unfinished: [] });
    assert.match(
      error.message,
      /at its first job \(.*is not in ACTIVE status.*\); nothing was submitted/,
    );
    assert.match(
      error.message,
      /the run's data was removed: the knot's job definition .* is not ACTIVE \(it was deregistered outside cloudknot\).*, which registers a new job definition and keeps its runs, and map again$/,
    );
  } finally {
    await bed.close();
  }
});

Deno.test("AWS target: run.retry() whose first job Batch refuses on a deregistered job definition says to create the knot again and retry from it, and the run it retries stays whole", async () => {
  const bed = await startTestBed(job);
  try {
    const target = bed.target();
    const run = await target.map<number>({
      items: encodeItems([1, { throw: 2 }]),
      starmap: false,
      env: {},
    });
    await run.settled();
    await bed.session.batch.deregisterJobDefinition({ jobDefinition: bed.resources.jobDefinition });
    const error = await run.retry().then(() => undefined, (e) => e);
    assert.ok(error instanceof SubmitError, String(error));
    assert.match(
      error.message,
      new RegExp(
        `nothing was submitted and the run's data was removed: the knot's job definition .* ` +
          `is not ACTIVE .*, which registers a new job definition and keeps its runs, and retry ` +
          `again with run\\.retry\\(\\) on the run's handle \\(knot\\.collect\\("${run.runId}"\\) ` +
          `of knot squares\\) of the knot created again \\(a retry runs on its run's job ` +
          `definition, or on the knot's new one when that runs the same image\\)$`,
      ),
    );
    const runs = await target.runs();
    assert.deepEqual(runs.map((r) => r.runId), [run.runId]);
    const later = await target.collect<number>(run.runId);
    assert.deepEqual((await later.settled()).map((s) => s.status), ["fulfilled", "rejected"]);
  } finally {
    await bed.close();
  }
});
