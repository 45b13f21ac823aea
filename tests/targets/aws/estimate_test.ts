// The estimate counts what a run does: against the emulator, whose Batch
// children run the real job entry point (src/job/main.ts) as processes, a run
// with "auto" and one with itemsPerJob 1 start the containers the estimate
// says, and make the PutObject and GetObject requests it counts: exactly
// where the rules decide (the client's three objects, each child's two reads,
// one GET per record object), within its bounds where timing decides how
// many segments a child's records make.
import assert from "node:assert/strict";
import { encodeItems } from "../../../src/job/codec.ts";
import { job, jobsNamed, startTestBed } from "./helpers.ts";

Deno.test("AWS target: the estimate's containers and S3 requests are those its run makes in the emulator", async (t) => {
  // 4 vCPUs of 1-vCPU jobs: "auto" makes at most 8 children.
  const bed = await startTestBed(job, { maxvCpus: 4 });
  try {
    const { emu } = bed;
    const target = bed.target();
    const items = Array.from({ length: 20 }, (_, i) => i);

    for (const itemsPerJob of ["auto", 1] as const) {
      await t.step(`itemsPerJob ${itemsPerJob}`, async () => {
        const estimate = await target.estimate(items.length, { itemSeconds: 0.01, itemsPerJob });
        const s3 = estimate.s3!;
        // The dry run's estimate is the same, and its jobs hold as many children.
        const plan = await target.plan(
          { items: encodeItems(items), starmap: false, env: {}, itemsPerJob },
          { itemSeconds: 0.01 },
        );
        assert.equal(plan.estimate?.containers, estimate.containers);
        assert.deepEqual(plan.estimate?.s3?.recordObjects, s3.recordObjects);
        assert.equal(plan.find("array job")?.details?.["array size"], estimate.containers);
        emu.requests.clear();
        const run = await target.map<number>({
          items: encodeItems(items),
          starmap: false,
          env: {},
          itemsPerJob,
        });
        assert.deepEqual(await run.results(), items.map((x) => x * x));
        await run.done;
        // Every container has exited (a child's records can be read before its process ends).
        await emu.waitForJobs();
        const requests = (operation: string) =>
          emu.requests.filter({ service: "s3", operation }).filter((e) =>
            String(e.params.Key).includes(`/runs/${run.runId}/`)
          );
        // Containers: one per child, each started once.
        const [array] = jobsNamed(emu, `squares-${run.runId}-`);
        const children = [...emu.batch.jobs.values()].filter((j) =>
          j.parent?.jobId === array!.jobId
        );
        assert.equal(children.length, estimate.containers);
        assert.deepEqual(children.map((c) => c.attempts.length), children.map(() => 1));
        // PutObject: inputs, index and manifest, then the record objects.
        const puts = requests("PutObject");
        const records = puts.filter((e) => String(e.params.Key).includes("/out/")).length;
        assert.equal(puts.length, 3 + records);
        // How many segments a child's records make depends on when its items end.
        assert.ok(
          s3.recordObjects.fewest <= records && records <= s3.recordObjects.most,
          `${records} record objects, estimated ${JSON.stringify(s3.recordObjects)}`,
        );
        assert.ok(s3.recordObjects.fewest <= s3.recordObjects.expected);
        assert.ok(s3.recordObjects.expected <= s3.recordObjects.most);
        // GetObject: each child's index entries and inputs, and each record object once.
        assert.equal(requests("GetObject").length, 2 * estimate.containers! + records);
        if (itemsPerJob === 1) {
          // One item per child: nothing is left to timing.
          assert.equal(estimate.containers, items.length);
          assert.equal(records, s3.recordObjects.expected);
          assert.deepEqual([puts.length, requests("GetObject").length], [s3.puts, s3.gets]);
        } else {
          assert.equal(estimate.containers, 7); // 20 items in slices of 3
          assert.ok(s3.recordObjects.fewest === 7);
        }
      });
    }
  } finally {
    await bed.close();
  }
});
