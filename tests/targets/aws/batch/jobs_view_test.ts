// viewJobs: any number of jobs (100 ids per DescribeJobs), array children
// summarised by status, text for terminals and HTML for notebooks.
import assert from "node:assert/strict";
import { BatchJob, CloudknotInputError, JobsView, viewJobs } from "../../../../mod.ts";
import { InlineRunner, startEmulator } from "../../../emulator/mod.ts";
import { setupBatchResources } from "../helpers.ts";
import { sessionFor } from "../../../support/aws_session.ts";

function jupyter(view: JobsView): Record<string, string> {
  return Reflect.get(view, Symbol.for("Jupyter.display")).call(view);
}

Deno.test("viewJobs: more than 100 jobs and an array job's children, sorted by status", async () => {
  const release = Promise.withResolvers<void>();
  const runner = new InlineRunner(async (req) => {
    await release.promise;
    return { exitCode: req.arrayIndex === 3 ? 1 : 0 };
  }, { capacity: 2 });
  const emu = await startEmulator({ runner, ceValidDelayMs: 10, tickMs: 10 });
  try {
    const session = await sessionFor(emu);
    const { jobQueue, jobDefinition } = await setupBatchResources(session);
    const array = await session.batch.submitJob({
      jobName: "view-array",
      jobQueue,
      jobDefinition,
      arrayProperties: { size: 5 },
    });
    const singles: string[] = [];
    for (let i = 0; i < 150; i++) {
      const { jobId } = await session.batch.submitJob({
        jobName: `view-${i}`,
        jobQueue,
        jobDefinition,
      });
      singles.push(jobId);
    }
    while ([...emu.batch.jobs.values()].filter((j) => j.status === "RUNNING").length < 2) {
      await new Promise((r) => setTimeout(r, 10));
    }
    emu.requests.clear();
    const adopted = await BatchJob.fromId(singles[0]!, { session });
    const ids = [array.jobId, adopted, ...singles.slice(1), "no-such-job"];
    const view = await viewJobs(ids, { session });
    const calls = emu.requests.filter({ service: "batch", operation: "DescribeJobs" });
    assert.ok(calls.every((c) => (c.params.jobs as string[]).length <= 100));
    assert.equal(calls.length, 1 + 2); // fromId, then 152 ids in two calls
    assert.equal(view.rows.length, 152);
    assert.equal(view.rows.at(-1)!.status, "NOT FOUND");
    const ranks = view.rows.slice(0, -1).map((r) =>
      ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "FAILED", "SUCCEEDED"]
        .indexOf(r.status)
    );
    assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b));
    const parent = view.rows.find((r) => r.jobId === array.jobId)!;
    assert.equal(parent.arraySize, 5);
    assert.equal(Object.values(parent.children!).reduce((a, b) => a + b, 0), 5);
    const text = view.toString();
    assert.match(text.split("\n")[0]!, /^152 jobs: /);
    assert.match(text, /Job ID\s+Name\s+Status\s+Children/);
    assert.match(text, new RegExp(`${array.jobId}\\s+view-array\\s+PENDING\\s+5: `));

    release.resolve();
    await emu.waitForJobs();
    const done = await viewJobs([array.jobId, singles[0]!], { session });
    const row = done.rows.find((r) => r.jobId === array.jobId)!;
    assert.equal(row.status, "FAILED");
    assert.deepEqual(row.children, {
      SUBMITTED: 0,
      PENDING: 0,
      RUNNABLE: 0,
      STARTING: 0,
      RUNNING: 0,
      FAILED: 1,
      SUCCEEDED: 4,
    });
    assert.match(done.toString(), /5: 1 FAILED, 4 SUCCEEDED\s+Array Child Job failed/);
    assert.deepEqual(done.rows.map((r) => r.status), ["FAILED", "SUCCEEDED"]);
    const display = jupyter(done);
    assert.match(display["text/html"]!, /^<div class="cloudknot-jobs">.*<table>/);
    assert.match(display["text/html"]!, /<td>5: 1 FAILED, 4 SUCCEEDED<\/td>/);
    assert.equal(display["text/plain"], done.toString());
    assert.equal(Deno.inspect(done), done.toString());
  } finally {
    release.resolve();
    await emu.close();
  }
});

Deno.test("JobsView: escapes HTML and sorts rows it is given", () => {
  const view = new JobsView([
    { jobId: "b", jobName: "<b>", status: "SUCCEEDED", attempts: 1 },
    { jobId: "a", jobName: "x", status: "RUNNING", attempts: 1, statusReason: "a & b" },
  ]);
  assert.deepEqual(view.rows.map((r) => r.jobId), ["a", "b"]);
  assert.deepEqual(view.counts, { RUNNING: 1, SUCCEEDED: 1 });
  const html = jupyter(view)["text/html"]!;
  assert.ok(html.includes("&#60;b&#62;") && html.includes("a &#38; b"));
  assert.ok(!html.includes("<b>&"));
});

Deno.test("viewJobs refuses what is not a list of job ids or handles, naming what it got, and a misspelt option, before any request", async () => {
  const emu = await startEmulator({ realism: false });
  try {
    const session = await sessionFor(emu);
    for (
      const [jobs, said] of [
        [undefined, /not undefined/],
        [[5], /a list holding the number 5/],
        [[""], /a list holding the string ""/],
        ["abc", /not the string "abc"/],
      ] as const
    ) {
      await assert.rejects(
        viewJobs(jobs as never, { session }),
        (e) => e instanceof CloudknotInputError && e.field === "jobs" && said.test(e.message),
      );
    }
    // A misspelt option is refused too, naming the one meant.
    await assert.rejects(
      viewJobs(["3f9a"], { session, sginal: AbortSignal.timeout(1000) } as never),
      (e) =>
        e instanceof CloudknotInputError && e.field === "sginal" &&
        e.message === 'viewJobs() has no option "sginal": did you mean "signal"?',
    );
    assert.equal(emu.requests.entries.length, 0);
  } finally {
    await emu.close();
  }
});
