// A knot's clobber whose wait for the jobs it stopped is over while one still
// stops (its task has not stopped yet): deleting the queue makes Batch
// terminate that job with a reason of its own, and every reader of the run
// still reads its unfinished items as cancelled by the clobber. The jobs run
// the real job entry point as local processes.
import assert from "node:assert/strict";
import { join } from "node:path";
import { DockerImage, DockerRepo } from "../../../mod.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import type { JobDetail } from "../../../src/aws/services/batch.ts";
import { batchFailureRecord } from "../../../src/targets/aws/batch/failure.ts";
import { deleteBatchEnvironment, isFargate } from "../../../src/targets/aws/batch/mod.ts";
import { inCliWords } from "../../../src/cli/common/cli_words.ts";
import { AwsKnotTarget } from "../../../src/targets/aws/aws_knot.ts";
import {
  type AwsKnotRecord,
  knotClobberedWhy,
  writeAwsKnot,
} from "../../../src/targets/aws/catalog.ts";
import { endsWithin } from "../../support/ends_within.ts";
import { runUntil } from "../../support/run_until.ts";
import { job, jobsNamed, startTestBed, type TestBed } from "./helpers.ts";

/**
 * Knot `squares` on a test bed, as the AWS knot target its clobber runs on: its record written,
 * its clobber's wait for the jobs it stopped over at once (the tests make a job outlast it
 * however loaded the machine is), its warnings kept in `warnings`.
 */
async function knotOnBed(bed: TestBed, warnings: string[]): Promise<AwsKnotTarget> {
  const { emu, session, state, resources } = bed;
  const [ce] = (await session.batch.describeComputeEnvironments({
    computeEnvironments: ["ck-ce"],
  })).computeEnvironments ?? [];
  const record: AwsKnotRecord = {
    name: "squares",
    region: emu.region,
    profile: "default",
    pars: "ck",
    dockerImage: "squares",
    dockerRepo: "ck-repo",
    imageUri: "",
    computeEnvironment: ce!.computeEnvironmentArn!,
    jobQueue: resources.jobQueue,
    jobDefinition: resources.jobDefinition,
    jobDefinitionName: "ck-def",
    jobRole: resources.jobRoleArn,
    bucket: resources.bucket,
    sse: undefined,
    prefix: "cloudknot/squares",
    retries: 1,
    // The bed's compute environment's type: EC2, or Fargate (heldBed's `fargate`).
    compute: isFargate(ce!.computeResources?.type) ? "FARGATE" : "EC2",
    imageTags: ["squares"],
    runs: [],
  };
  await writeAwsKnot(state, record);
  const options = {
    session,
    state,
    knot: "squares",
    bucket: record.bucket,
    prefix: record.prefix,
    jobQueue: record.jobQueue,
    jobDefinition: record.jobDefinition,
    attempts: 1,
    profile: "default",
    region: emu.region,
    pollIntervalMs: 50,
    maxPollIntervalMs: 400,
    // Over at once: the test makes the job outlast it however loaded the machine is.
    clobberStopWaitMs: 0,
    warn: (message: string) => void warnings.push(message),
  };
  const knot = new AwsKnotTarget(options, record, {
    region: emu.region,
    profile: "default",
    pars: undefined,
    image: await DockerImage.create({
      name: "squares",
      func: job,
      state,
      cloudknotDir: join(bed.dir, "ck"),
    }),
    repo: await DockerRepo.create({ name: "ck-repo", session, state }),
    imageUri: "",
    computeEnvironment: record.computeEnvironment,
    jobQueue: record.jobQueue,
    jobDefinition: record.jobDefinition,
    bucket: record.bucket,
    prefix: record.prefix,
    jobRole: record.jobRole!,
    adopted: true,
    updated: false,
  });
  return knot;
}

/**
 * A test bed whose stopped attempts end in Batch only once `stopping` has settled: still
 * stopping however long the clobber's wait.
 */
function heldBed(stopping: Promise<void>, fargate = false): Promise<TestBed> {
  return startTestBed(job, {
    emulator: { concurrency: 2 },
    fargate,
    wrapRunner: (inner) => ({
      ...(inner.capacity !== undefined ? { capacity: inner.capacity } : {}),
      run: async (req) => {
        const result = await inner.run(req);
        if (req.signal.aborted) await stopping;
        return result;
      },
    }),
  });
}

/**
 * Clobbers a knot while a job of its run still stops, and checks that every
 * handle of the run reads the job as cancelled by the clobber: its readers
 * look while the clobber still runs, or only once it has removed the knot's
 * record (they never saw the record note that the clobber began).
 */
async function stillStopping(look: "while the clobber runs" | "once its record is gone") {
  const stopping = Promise.withResolvers<void>();
  const bed = await heldBed(stopping.promise);
  const { emu, state } = bed;
  const readersDone = Promise.withResolvers<void>();
  try {
    const warnings: string[] = [];
    const knot = await knotOnBed(bed, warnings);
    // The first item returns at once, the second sleeps.
    const run = await knot.map<number | string>({
      items: encodeItems([3, { sleep: 600_000 }]),
      starmap: false,
      env: {},
      itemsPerJob: 1,
    });
    await runUntil(run, () => run.counts.succeeded >= 1 && run.counts.running >= 1);
    // Another handle follows the run, as another process's collect(runId) does.
    const other = await bed.target().collect<number | string>(run.runId);
    const early = look === "while the clobber runs";
    // The clobber is held once it deleted the queue, before it removes the knot's record;
    // or the readers' answers are, from then until it has removed it (keeping the run's data).
    if (early) {
      emu.faults.add({
        service: "batch",
        operation: "UpdateComputeEnvironment",
        kind: "latency",
        until: readersDone.promise,
        times: 1,
      });
    }
    const clobbering = knot.clobber(early ? {} : { keepData: true });
    while (emu.count("batch", "DeleteJobQueue") === 0) {
      await new Promise((r) => setTimeout(r, 20));
    }
    if (!early) {
      emu.faults.add({
        service: "batch",
        operation: "DescribeJobs",
        kind: "latency",
        until: readersDone.promise,
      });
    }
    stopping.resolve();
    if (!early) {
      await clobbering;
      assert.equal(await state.section("knot squares"), undefined);
      readersDone.resolve();
    }
    for (const handle of [run, other]) {
      const settled = await handle.settled();
      assert.deepEqual(settled[0], { index: 0, status: "fulfilled", value: 9 });
      const stopped = settled[1]!;
      assert.ok(stopped.status === "rejected");
      assert.equal(stopped.reason.kind, "cancelled", stopped.reason.message);
      assert.ok(
        stopped.reason.message.endsWith(
          `was stopped by cloudknot: Knot squares was clobbered: to run these items again, ` +
            `create the knot with Knot.create({ name: "squares", func }) (or module and ` +
            `exportName) and map them again`,
        ),
        stopped.reason.message,
      );
      // A command-line user is told the command that makes the knot again.
      assert.match(
        inCliWords(stopped.reason),
        /create the knot with cloudknot knot create squares MODULE EXPORT --target aws and map them again$/,
      );
    }
    // Batch ended the job with its own reason, not the clobber's.
    const [parent] = jobsNamed(emu, `squares-${run.runId}-`);
    const ended = emu.batch.jobs.get(parent!.jobId)!.children![1]!;
    assert.equal(ended.status, "FAILED");
    assert.doesNotMatch(ended.statusReason ?? "", /^cloudknot: /);
    readersDone.resolve();
    await clobbering;
    assert.deepEqual(warnings, [
      "cloudknot: 1 job(s) of knot squares still stopping after 0 s; deleting its queue terminates them",
    ]);
    assert.equal(await state.section("knot squares"), undefined);
  } finally {
    stopping.resolve();
    readersDone.resolve();
    await bed.close();
  }
}

Deno.test(
  "AWS knot clobber: a job still stopping when the clobber's wait is over, which Batch terminates as its queue is deleted, reads as cancelled by the clobber in every handle, not as crashed",
  () => stillStopping("while the clobber runs"),
);

Deno.test(
  "AWS knot clobber: a handle that first sees such a job once the clobber has removed the knot's record still reads it as cancelled by the clobber, not as crashed",
  () => stillStopping("once its record is gone"),
);

Deno.test("AWS knot clobber on Fargate: the compute environment is deleted only once a job still stopping has ended, saying so while it waits, since AWS Batch leaves one deleted under running jobs INVALID", async () => {
  const stopping = Promise.withResolvers<void>();
  const bed = await heldBed(stopping.promise, true);
  const { emu, session, state } = bed;
  try {
    const warnings: string[] = [];
    const knot = await knotOnBed(bed, warnings);
    const run = await knot.map<number | string>({
      items: encodeItems([{ sleep: 600_000 }]),
      starmap: false,
      env: {},
      itemsPerJob: 1,
    });
    await endsWithin(runUntil(run, () => run.counts.running >= 1), 60_000, "the item's start");
    const clobbering = knot.clobber();
    // Awaited below; a failed check before that must not leave its rejection unhandled.
    clobbering.catch(() => {});
    const deadline = Date.now() + 60_000;
    while (warnings.length < 2) {
      assert.equal(
        emu.count("batch", "DeleteComputeEnvironment"),
        0,
        "the environment was deleted while its job ran",
      );
      if (Date.now() > deadline) throw new Error(`the clobber did not wait: ${warnings}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const ce = knot.resources.computeEnvironment;
    assert.deepEqual(warnings, [
      "cloudknot: 1 job(s) of knot squares still stopping after 0 s; deleting its queue terminates them",
      `cloudknot: 1 job(s) still run on Fargate compute environment ${ce}, which AWS Batch ` +
      "cannot delete until they end; waiting for them (at most 15 minutes)",
    ]);
    stopping.resolve();
    await clobbering;
    assert.equal(emu.count("batch", "DeleteComputeEnvironment"), 1);
    assert.deepEqual(
      (await session.batch.describeComputeEnvironments({ computeEnvironments: [ce] }))
        .computeEnvironments,
      [],
    );
    assert.equal(await state.section("knot squares"), undefined);
    const [stopped] = await run.settled();
    assert.ok(stopped?.status === "rejected");
    assert.equal(stopped.reason.kind, "cancelled", stopped.reason.message);
  } finally {
    stopping.resolve();
    await bed.close();
  }
});

/** The failure record of item 1 of a failed job of knot squares whose clobber began at 2,000. */
function clobberedJob(detail: Partial<JobDetail>, why = knotClobberedWhy("squares")) {
  return batchFailureRecord({
    jobId: "j:1",
    jobName: "squares-r-0",
    jobQueue: "q",
    jobDefinition: "d",
    status: "FAILED",
    ...detail,
  }, { index: 1, stoppedSince: { at: 2_000, why } });
}

Deno.test("AWS knot clobber: an attempt that crashed before the clobber began still reads as crashed; one that ended after it reads as cancelled by it", () => {
  const ended = (stoppedAt: number) =>
    clobberedJob({
      statusReason: "Job queue deleted",
      attempts: [{ container: { exitCode: 143 }, stoppedAt, statusReason: "Job queue deleted" }],
    }, "Knot squares was clobbered");
  assert.equal(ended(1_999).kind, "crashed");
  const stopped = ended(2_000);
  assert.equal(stopped.kind, "cancelled");
  assert.equal(
    stopped.error.message,
    "AWS Batch job j:1 attempt 1 was stopped by cloudknot: Knot squares was clobbered",
  );
});

Deno.test("AWS knot clobber: a job it cancelled before it ran ends as a KnotClobberedError, by the clobber's reason or once the clobber began; one a run's cancel stopped is a JobCancelledError", () => {
  const why = knotClobberedWhy("squares");
  const never = (statusReason: string, stoppedAt: number) =>
    clobberedJob({ statusReason, stoppedAt });
  const byReason = never(`cloudknot: ${why}`, 1_000);
  assert.deepEqual([byReason.kind, byReason.error.name], ["cancelled", "KnotClobberedError"]);
  const byQueue = never("Job queue deleted", 2_500);
  assert.deepEqual([byQueue.kind, byQueue.error.name], ["cancelled", "KnotClobberedError"]);
  assert.equal(
    byQueue.error.message,
    `AWS Batch job j:1 ended before it ran: Job queue deleted; ${why}`,
  );
  const cancelled = never("cloudknot: The run was cancelled", 1_000);
  assert.deepEqual([cancelled.kind, cancelled.error.name], ["cancelled", "JobCancelledError"]);
});

Deno.test("AWS knot: a handle that first sees an attempt that crashed once the knot's record was removed by hand, its queue still there, reads it as crashed, not as cancelled by a clobber, and so does a handle that follows the run only once its queue is deleted too", async () => {
  // Each attempt's container is killed before it writes a record.
  const bed = await startTestBed(job, {
    wrapRunner: () => ({ run: () => Promise.resolve({ exitCode: 137 }) }),
  });
  const removed = Promise.withResolvers<void>();
  try {
    const { emu, state } = bed;
    // The handle learns how its job ended only once the record is gone.
    emu.faults.add({
      service: "batch",
      operation: "DescribeJobs",
      kind: "latency",
      until: removed.promise,
    });
    const run = await bed.target().map<number>({
      items: encodeItems([3]),
      starmap: false,
      env: {},
      itemsPerJob: 1,
    });
    const [submitted] = jobsNamed(emu, `squares-${run.runId}-`);
    await emu.batch.waitForJob(submitted!.jobId, ["FAILED"]);
    await state.remove("knot squares");
    removed.resolve();
    const [crashed] = await run.settled();
    assert.ok(crashed?.status === "rejected");
    assert.equal(crashed.reason.kind, "crashed", crashed.reason.message);
    // Its queue deleted too, as a clobber does: a handle that follows the run only from now
    // on cannot tell whether the clobber stopped what had ended, and judges it as before.
    await deleteBatchEnvironment(bed.session, { jobQueue: bed.resources.jobQueue }, { pollMs: 20 });
    const [later] = await (await bed.target().collect<number>(run.runId)).settled();
    assert.ok(later?.status === "rejected");
    assert.equal(later.reason.kind, "crashed", later.reason.message);
  } finally {
    removed.resolve();
    await bed.close();
  }
});
