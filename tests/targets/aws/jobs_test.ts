// The knot's Batch jobs as the Python original offered them (knot.jobs,
// knot.job_ids, BatchJob(...) for one job), on the AWS target against the
// emulator, and what the local target says instead.
import assert from "node:assert/strict";
import { BatchJob, BatchJobFailedError, CloudknotInputError, Knot } from "../../../mod.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import { job, startTestBed } from "./helpers.ts";

Deno.test("AWS target: jobIds and jobs list the knot's Batch jobs oldest first, and submit runs one item as a job of its own", async () => {
  const bed = await startTestBed(job, { attempts: 1 });
  const target = bed.target();
  try {
    const first = await target.map<number>({
      items: encodeItems([1, 2, 3]),
      starmap: false,
      env: {},
    });
    await first.done;
    const second = await target.map<number>({
      items: encodeItems([4, { throw: 5 }]),
      starmap: false,
      env: {},
      jobType: "independent",
    });
    await second.done.catch(() => {});
    const submitted = await target.submit({
      item: encodeItems([[6, 7]])[0]!,
      starmap: true,
      env: {},
    });
    assert.ok(submitted instanceof BatchJob);
    assert.equal(await submitted.result(), 13);

    const ids = await target.jobIds();
    assert.equal(ids.length, 4, "one array job, two independent jobs, one submitted");
    assert.equal(ids.at(-1), submitted.jobId, "the newest last");
    const jobs = await target.jobs();
    assert.deepEqual(jobs.map((j) => j.jobId), ids);
    assert.ok(jobs[0]!.isArray);
    assert.deepEqual(await jobs[0]!.result(), [1, 4, 9], "the FAQ's knot.jobs[i].result()");
    assert.equal(await jobs[1]!.result(), 16);
    const failed = await jobs[2]!.result().then(() => undefined, (e) => e);
    assert.ok(failed instanceof BatchJobFailedError, String(failed));
    assert.match(failed.message, /bad item 5/);
    // The submitted job is a run of one item, collected like any other.
    const runs = await target.runs();
    assert.equal(runs.length, 3);
    assert.deepEqual(await (await target.collect(runs[2]!.runId)).results(), [13]);
  } finally {
    await bed.close();
  }
});

Deno.test("a local knot refuses jobs, jobIds and submit and says what to use", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const knot = await Knot.create({
      name: "here",
      func: (x: number) => x + 1,
      dir,
      concurrency: 1,
    });
    for (const call of [() => knot.jobs(), () => knot.jobIds()]) {
      const e = await call().then(() => undefined, (e) => e);
      assert.ok(e instanceof CloudknotInputError);
      assert.match(e.message, /runs locally.*knot\.runs\(\).*knot\.collect\(runId\)/);
    }
    const e = await knot.submit(1).then(() => undefined, (e) => e);
    assert.ok(e instanceof CloudknotInputError);
    assert.match(e.message, /knot\.map\(\[input\]\)/);
    // One job of one item: a map's options that shape its jobs are not submit()'s.
    const shaped = await knot.submit(1, { itemsPerJob: 2 } as never).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(shaped instanceof CloudknotInputError);
    assert.match(
      shaped.message,
      /^submit\(\) has no option "itemsPerJob"; its options are starmap, env$/,
    );
    await knot.clobber();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
