// Lost answers and failing services: SubmitJob is never repeated for a job
// that exists, and a map completes with every result while every service
// throttles and fails at random.
import assert from "node:assert/strict";
import { encodeItems } from "../../../src/job/codec.ts";
import { job, jobsNamed, startTestBed } from "./helpers.ts";

Deno.test("AWS target: a lost or failed SubmitJob answer gives exactly one job per array", async (t) => {
  const bed = await startTestBed(job);
  const { emu } = bed;
  const target = bed.target();
  try {
    for (const kind of ["lost-response", "500"] as const) {
      await t.step(`${kind} on SubmitJob`, async () => {
        const before = emu.count("batch", "SubmitJob");
        const fault = emu.faults.add({ service: "batch", operation: "SubmitJob", kind, times: 1 });
        const run = await target.map<number>({
          items: encodeItems([1, 2, 3, 4]),
          starmap: false,
          env: {},
        });
        emu.faults.clear(fault);
        assert.deepEqual(await run.results(), [1, 4, 9, 16]);
        await run.done;
        const jobs = jobsNamed(emu, `squares-${run.runId}-`);
        assert.equal(jobs.length, 1, "exactly one array job");
        assert.equal(jobs[0]!.arraySize, 4);
        const submits = emu.requests.filter({ service: "batch", operation: "SubmitJob" })
          .slice(before);
        assert.equal(submits[0]!.fault, kind);
        // A lost answer means the job exists and is found by name; a 500 means it does not.
        assert.equal(submits.length, kind === "lost-response" ? 1 : 2);
        const lookups = emu.requests.filter({ service: "batch", operation: "ListJobs" })
          .filter((e) =>
            JSON.stringify(e.params).includes(`squares-${run.runId}-0`) &&
            JSON.stringify(e.params).includes("JOB_NAME")
          );
        assert.ok(lookups.length >= 1);
      });
    }

    await t.step("lost answers for independent jobs", async () => {
      const fault = emu.faults.add({
        service: "batch",
        operation: "SubmitJob",
        kind: "lost-response",
        times: 2,
      });
      const run = await target.map<number>({
        items: encodeItems([5, 6, 7]),
        starmap: false,
        env: {},
        jobType: "independent",
      });
      emu.faults.clear(fault);
      assert.deepEqual(await run.results(), [25, 36, 49]);
      await run.done;
      assert.equal(jobsNamed(emu, `squares-${run.runId}-`).length, 3);
    });
  } finally {
    await bed.close();
  }
});

Deno.test("AWS client: a non-idempotent call whose answer is lost on a pooled connection is not sent again", async () => {
  const bed = await startTestBed(job);
  const { emu, session, resources } = bed;
  try {
    // Warm the connection pool, then lose SubmitJob's answer.
    await session.batch.describeJobs({ jobs: ["none"] });
    emu.faults.add({ service: "batch", operation: "SubmitJob", kind: "lost-response", times: 1 });
    const error = await session.batch.submitJob({
      jobName: "lost",
      jobQueue: resources.jobQueue,
      jobDefinition: resources.jobDefinition,
    }).then(() => undefined, (e) => e);
    assert.equal(error?.code, "OutcomeUnknown");
    assert.equal(emu.count("batch", "SubmitJob"), 1);
    assert.equal(jobsNamed(emu, "lost").length, 1);
    await emu.waitForJobs();
  } finally {
    await bed.close();
  }
});

Deno.test("AWS target: with throttling and server errors on every service, map completes with every result", async () => {
  const bed = await startTestBed(job, { attempts: 2 });
  const { emu } = bed;
  try {
    const target = bed.target();
    // Faults on every service, the jobs' own S3 calls included.
    emu.faults.add({ kind: "throttle", probability: 0.1 });
    emu.faults.add({ kind: "500", probability: 0.05 });
    emu.faults.add({ kind: "503", probability: 0.05 });
    emu.faults.add({
      service: "batch",
      operation: "SubmitJob",
      kind: "lost-response",
      probability: 0.3,
    });
    const items = Array.from({ length: 25 }, (_, i) => i);
    const array = await target.map<number>({ items: encodeItems(items), starmap: false, env: {} });
    const independent = await target.map<number>({
      items: encodeItems([100, 200, 300]),
      starmap: false,
      env: {},
      jobType: "independent",
    });
    assert.deepEqual(await array.results(), items.map((x) => x * x));
    assert.deepEqual(await independent.results(), [10000, 40000, 90000]);
    await Promise.all([array.done, independent.done]);
    emu.faults.clear();
    assert.deepEqual(jobsNamed(emu, `squares-${array.runId}-`).map((j) => j.arraySize), [25]);
    assert.equal(jobsNamed(emu, `squares-${independent.runId}-`).length, 3);
    // The faults did hit: the run went through them.
    const hit = new Set(emu.requests.entries.filter((e) => e.fault).map((e) => e.service));
    assert.ok(hit.has("s3") && hit.has("batch"), [...hit].join(","));
  } finally {
    await bed.close();
  }
});
