import assert from "node:assert/strict";
import { InlineRunner, startEmulator } from "./mod.ts";
import * as sdk from "./sdk_deps.ts";
import { sdkConfig, setupBatch } from "./test_helpers.ts";

Deno.test("scale: a 10,000-child array job runs through an in-process runner with an incremental status summary", async () => {
  const seen = new Set<number>();
  const runner = new InlineRunner((req) => {
    seen.add(req.arrayIndex!);
    return { exitCode: req.arrayIndex === 4321 ? 1 : 0 };
  });
  const emu = await startEmulator({ runner, ceValidDelayMs: 10, tickMs: 10 });
  const batch = new sdk.batch.BatchClient(sdkConfig(emu));
  try {
    const s = await setupBatch(emu, { maxvCpus: 10000 });
    const started = performance.now();
    const sub = await batch.send(
      new sdk.batch.SubmitJobCommand({
        jobName: "big",
        jobQueue: s.queue,
        jobDefinition: s.jobDefinition,
        arrayProperties: { size: 10000 },
      }),
    );
    // Poll the way a client does: the parent's summary, and 100 children per DescribeJobs.
    let parent = (await batch.send(new sdk.batch.DescribeJobsCommand({ jobs: [sub.jobId!] })))
      .jobs![0]!;
    while (parent.status !== "SUCCEEDED" && parent.status !== "FAILED") {
      const ids = Array.from({ length: 100 }, (_, i) => `${sub.jobId}:${i * 100}`);
      const page = await batch.send(new sdk.batch.DescribeJobsCommand({ jobs: ids }));
      assert.equal(page.jobs!.length, 100);
      await new Promise((r) => setTimeout(r, 50));
      parent = (await batch.send(new sdk.batch.DescribeJobsCommand({ jobs: [sub.jobId!] })))
        .jobs![0]!;
    }
    console.log(`10,000 children terminal after ${Math.round(performance.now() - started)} ms`);
    assert.equal(parent.status, "FAILED");
    const sum = parent.arrayProperties!.statusSummary!;
    assert.equal(sum.SUCCEEDED, 9999);
    assert.equal(sum.FAILED, 1);
    assert.equal(Object.values(sum).reduce((a, b) => a + b, 0), 10000);
    assert.equal(seen.size, 10000);
    assert.equal(runner.runs, 10000);
    let failed = 0;
    let token: string | undefined;
    do {
      const page = await batch.send(
        new sdk.batch.ListJobsCommand({
          arrayJobId: sub.jobId,
          jobStatus: "FAILED",
          nextToken: token,
          maxResults: 1000,
        }),
      );
      failed += page.jobSummaryList!.length;
      token = page.nextToken;
    } while (token);
    assert.equal(failed, 1);
  } finally {
    batch.destroy();
    await emu.close();
  }
});
