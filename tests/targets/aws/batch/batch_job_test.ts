// BatchJob: adopt a job by id, its status, result (with a timeout), logs
// (following a running job), console URLs, terminate and clobber.
import assert from "node:assert/strict";
import {
  BatchJob,
  CloudknotInputError,
  CloudknotTimeoutError,
  ItemError,
  JobNotFoundError,
  MapError,
} from "../../../../mod.ts";
import { encodeItems } from "../../../../src/job/codec.ts";
import { describeJobs, stopJob } from "../../../../src/targets/aws/batch/jobs.ts";
import type { Emulator } from "../../../emulator/mod.ts";
import { job, jobsNamed, startTestBed, type TestBed } from "../helpers.ts";
import { rejects } from "../../../support/rejects.ts";

function jobOf(emu: Emulator, runId: string, n = 0): string {
  return jobsNamed(emu, `squares-${runId}-${n}`)[0]!.jobId;
}

async function untilStatus(emu: Emulator, jobId: string, status: string): Promise<void> {
  while (emu.batch.jobs.get(jobId)?.status !== status) {
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Maps two items of 60 s as two jobs on an emulator that runs one job at a
 * time; resolves once one runs (`a`) and the other waits (`b`), with both
 * jobs' ids in input order.
 */
async function oneRunsOneWaits(bed: TestBed) {
  const { emu } = bed;
  const run = await bed.target().map<string>({
    items: encodeItems([{ sleep: 60_000 }, { sleep: 60_000 }]),
    starmap: false,
    env: {},
    jobType: "independent",
  });
  const ids = [jobOf(emu, run.runId, 0), jobOf(emu, run.runId, 1)];
  const status = (id: string) => emu.batch.jobs.get(id)!.status;
  while (!ids.some((id) => status(id) === "RUNNING")) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const a = ids.find((id) => status(id) === "RUNNING")!;
  const b = ids.find((id) => id !== a)!;
  await untilStatus(emu, b, "RUNNABLE");
  return { run, ids, a, b, status };
}

Deno.test("BatchJob: adopt, status, done, result of array parents and children, logs, logUrls, clobber; a misspelt option is refused before any request", async () => {
  const bed = await startTestBed(job);
  const { emu, session, state } = bed;
  const target = bed.target();
  const options = { session, state, pollIntervalMs: 50, maxPollIntervalMs: 200 };
  try {
    const run = await target.map<unknown>({
      items: encodeItems([2, { nothing: true }, { log: ["one", "two"] }]),
      starmap: false,
      env: {},
    });
    await run.done;
    // A run settles its items on their records, which a job writes before it
    // exits: its status is Batch's once the jobs have ended.
    await emu.waitForJobs(30_000);
    const parentId = jobOf(emu, run.runId);
    const parent = await BatchJob.fromId(parentId, options);
    assert.equal(parent.isArray, true);
    assert.equal(parent.arraySize, 3);
    assert.equal(parent.jobName, `squares-${run.runId}-0`);
    assert.match(parent.command.run ?? "", /^s3:\/\/ck-bucket\/cloudknot\/squares\/runs\//);
    // It shows as a summary in a terminal and in a notebook.
    assert.equal(
      Deno.inspect(parent),
      [
        `BatchJob squares-${run.runId}-0`,
        `  job id:     ${parentId}`,
        `  queue:      ${parent.jobQueue.split("/").at(-1)}`,
        `  definition: ${parent.jobDefinition.split("/").at(-1)}`,
        "  children:   3",
        `  run:        ${parent.command.run}`,
        "  status:     SUCCEEDED (when last described)",
      ].join("\n"),
    );
    const shown = (parent as unknown as Record<symbol, () => Record<string, string>>)[
      Symbol.for("Jupyter.display")
    ]!();
    assert.equal(shown["text/plain"], Deno.inspect(parent));
    assert.match(shown["text/html"]!, /<th[^>]*>children<\/th><td>3<\/td>/);
    const status = await parent.status();
    assert.equal(status.status, "SUCCEEDED");
    assert.deepEqual(status.attempts, []);
    assert.equal(status.arrayProperties?.statusSummary?.SUCCEEDED, 3);
    assert.equal(await parent.done(), true);
    assert.deepEqual(await parent.result(), [4, undefined, 2]);
    assert.deepEqual(await parent.logUrls(), []);
    await assert.rejects(
      async () => {
        for await (const _ of parent.logs()) { /* nothing */ }
      },
      CloudknotInputError,
    );
    // Adopted jobs are recorded, as the original does.
    assert.equal(
      await state.get("batch-jobs default us-east-1", parentId),
      `squares-${run.runId}-0`,
    );

    // A child: its own item's result, which may be undefined, and its logs.
    const child = await BatchJob.fromId(`${parentId}:1`, options);
    assert.equal(child.isArray, false);
    assert.equal(await child.result(), undefined);
    const talker = await BatchJob.fromId(`${parentId}:2`, options);
    assert.equal(await talker.result(), 2);
    assert.deepEqual(await Array.fromAsync(talker.logs()), ["one", "two"]);
    // A misspelt option is refused, naming the one meant, before any request (a misspelt
    // state left the job out of the config file).
    emu.requests.clear();
    for (
      const [call, message] of [
        [
          () => BatchJob.fromId(parentId, { session, stat: state } as never),
          'BatchJob.fromId() has no option "stat": did you mean "state"?',
        ],
        [
          () => BatchJob.fromIds([parentId], { session, pollIntervalMS: 50 } as never),
          'BatchJob.fromIds() has no option "pollIntervalMS": did you mean "pollIntervalMs"?',
        ],
        [
          () => talker.result({ timout: 50 } as never),
          'job.result() has no option "timout": did you mean "timeout"?',
        ],
        [
          () => Array.fromAsync(talker.logs({ folow: true } as never)),
          'job.logs() has no option "folow": did you mean "follow"?',
        ],
      ] as const
    ) {
      const e = await rejects(call(), CloudknotInputError);
      assert.equal(e.message, message);
    }
    assert.deepEqual(emu.requests.entries, []);
    const urls = await talker.logUrls();
    assert.equal(urls.length, 1);
    assert.match(
      urls[0]!,
      /^https:\/\/console\.aws\.amazon\.com\/cloudwatch\/home\?region=us-east-1#logEventViewer:group=\/aws\/batch\/job;stream=ck-def\/default\/[0-9a-f]+$/,
    );

    // A FAILED array parent is done, and its result has the partial results.
    const failing = await target.map<number>({
      items: encodeItems([5, { throw: "q" }]),
      starmap: false,
      env: {},
    });
    await failing.done;
    await emu.waitForJobs(30_000);
    const failed = await BatchJob.fromId(jobOf(emu, failing.runId), options);
    assert.equal((await failed.status()).status, "FAILED");
    assert.equal(await failed.done(), true);
    const error = await failed.result().then(() => undefined, (e) => e);
    assert.ok(error instanceof MapError);
    assert.deepEqual(error.results, [25, undefined]);
    assert.equal(error.errors[0]!.kind, "threw");
    assert.equal(await failed.terminate("too late"), "none");

    // A single job: its result; it follows its output while it runs.
    const slow = await target.map<string>({
      items: encodeItems([{ sleep: 1500 }]),
      starmap: false,
      env: {},
    });
    const single = await BatchJob.fromId(jobOf(emu, slow.runId), options);
    assert.equal(single.isArray, false);
    const timeout = await single.result({ timeout: 50 }).then(() => undefined, (e) => e);
    assert.ok(timeout instanceof CloudknotTimeoutError);
    assert.match(timeout.message, /did not finish within 50 ms.*call result\(\) again/);
    const followed = await Array.fromAsync(single.logs({ follow: true }));
    assert.deepEqual(followed, ["sleeping 1500 ms"]);
    assert.equal(await single.done(), true);
    assert.equal(await single.result({ timeout: 30_000 }), "slept");
    await slow.done;

    // Clobber stops nothing that has finished and forgets the job.
    await parent.clobber();
    assert.equal(await state.get("batch-jobs default us-east-1", parentId), undefined);
    await assert.rejects(BatchJob.fromId("no-such-job", options), JobNotFoundError);
    await assert.rejects(BatchJob.fromId("", options), CloudknotInputError);
    await assert.rejects(parent.terminate(""), CloudknotInputError);
    await assert.rejects(parent.result({ timeout: -1 }), CloudknotInputError);
  } finally {
    await bed.close();
  }
});

Deno.test("BatchJob: terminate cancels a waiting job and terminates a running one; every reader reads their items as cancelled, with the reason given", async () => {
  const bed = await startTestBed(job, { emulator: { concurrency: 1 } });
  const { emu, session } = bed;
  const options = { session, pollIntervalMs: 50 };
  try {
    // One job runs (the emulator runs one at a time), the other waits.
    const { run, ids, a, b } = await oneRunsOneWaits(bed);
    const running = await BatchJob.fromId(a, options);
    const waiting = await BatchJob.fromId(b, options);
    assert.equal(await waiting.terminate("Not needed"), "cancel");
    assert.equal(await running.terminate("Enough"), "terminate");
    // The handle that mapped, and another one that reads the run from Batch and S3 alone.
    await emu.waitForJobs(30_000);
    for (const reader of [run, await bed.target().collect<string>(run.runId)]) {
      const settled = await reader.settled();
      const first = settled[ids.indexOf(a)]!;
      const second = settled[ids.indexOf(b)]!;
      // The running one got SIGTERM and exited 143, as a crash would: still cancelled.
      assert.ok(first.status === "rejected" && first.reason instanceof ItemError);
      assert.equal(first.reason.kind, "cancelled", first.reason.message);
      assert.match(first.reason.message, /attempt 1 was stopped by cloudknot: Enough$/);
      assert.equal(first.reason.exitCode, 143);
      assert.equal(first.reason.statusReason, "cloudknot: Enough");
      assert.ok(second.status === "rejected" && second.reason instanceof ItemError);
      assert.equal(second.reason.kind, "cancelled", second.reason.message);
      assert.match(second.reason.message, /Not needed/);
    }
    assert.equal((await waiting.status()).status, "FAILED");
    assert.equal((await running.status()).statusReason, "cloudknot: Enough");
    await run.done;
  } finally {
    await bed.close();
  }
});

Deno.test("a job read as waiting that started since it was read is stopped too: TerminateJob, never a CancelJob that AWS ignores once a job starts", async () => {
  const bed = await startTestBed(job, { emulator: { concurrency: 1 } });
  const { emu, session } = bed;
  try {
    const { run, ids, a, b, status } = await oneRunsOneWaits(bed);
    // Read while it waits; it starts in the running one's place before it is stopped.
    const read = await describeJobs(session.batch, [a, b]);
    assert.equal(await stopJob(session.batch, read.get(a)!, "cloudknot: enough"), "terminate");
    await untilStatus(emu, b, "RUNNING");
    assert.equal(await stopJob(session.batch, read.get(b)!, "cloudknot: not needed"), "cancel");
    // Both end now, not after their 60 s.
    await emu.waitForJobs(30_000);
    assert.deepEqual(ids.map(status), ["FAILED", "FAILED"]);
    assert.equal(emu.count("batch", "CancelJob"), 0);
    await run.settled();
  } finally {
    await bed.close();
  }
});
