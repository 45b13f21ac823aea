// A knot's clobber whose wait for the jobs it stopped is over while one still
// stops (its task has not stopped yet): deleting the queue makes Batch
// terminate that job with a reason of its own, and every reader of the run
// still reads its unfinished items as cancelled by the clobber. The jobs run
// the real job entry point as local processes.
import assert from "node:assert/strict";
import { join } from "node:path";
import { DockerImage, DockerRepo } from "../../../mod.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import { batchFailureRecord } from "../../../src/targets/aws/batch/failure.ts";
import { AwsKnotTarget } from "../../../src/targets/aws/aws_knot.ts";
import { type AwsKnotRecord, writeAwsKnot } from "../../../src/targets/aws/catalog.ts";
import { job, jobsNamed, startTestBed } from "./helpers.ts";

Deno.test("AWS knot clobber: a job still stopping when the clobber's wait is over, which Batch terminates as its queue is deleted, reads as cancelled by the clobber in every handle, not as crashed", async () => {
  // A stopped job's task ends in Batch only once the test lets it: still stopping however
  // long the clobber's wait.
  const stopping = Promise.withResolvers<void>();
  const bed = await startTestBed(job, {
    emulator: { concurrency: 2 },
    wrapRunner: (inner) => ({
      ...(inner.capacity !== undefined ? { capacity: inner.capacity } : {}),
      run: async (req) => {
        const result = await inner.run(req);
        if (req.signal.aborted) await stopping.promise;
        return result;
      },
    }),
  });
  const { emu, session, state, resources } = bed;
  const readersDone = Promise.withResolvers<void>();
  try {
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
      compute: "EC2",
      imageTags: ["squares"],
      runs: [],
    };
    await writeAwsKnot(state, record);
    const warnings: string[] = [];
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
    });
    // The first item returns at once, the second sleeps.
    const run = await knot.map<number | string>({
      items: encodeItems([3, { sleep: 600_000 }]),
      starmap: false,
      env: {},
      itemsPerJob: 1,
    });
    while (run.counts.succeeded < 1 || run.counts.running < 1) {
      await new Promise((r) => setTimeout(r, 20));
    }
    // Another handle follows the run, as another process's collect(runId) does.
    const other = await bed.target().collect<number | string>(run.runId);
    // The clobber is held once it deleted the queue, before it removes the knot's record.
    emu.faults.add({
      service: "batch",
      operation: "UpdateComputeEnvironment",
      kind: "latency",
      until: readersDone.promise,
      times: 1,
    });
    const clobbering = knot.clobber();
    while (emu.count("batch", "DeleteJobQueue") === 0) {
      await new Promise((r) => setTimeout(r, 20));
    }
    stopping.resolve();
    for (const handle of [run, other]) {
      const settled = await handle.settled();
      assert.deepEqual(settled[0], { index: 0, status: "fulfilled", value: 9 });
      const stopped = settled[1]!;
      assert.ok(stopped.status === "rejected");
      assert.equal(stopped.reason.kind, "cancelled", stopped.reason.message);
      assert.match(stopped.reason.message, /was stopped by cloudknot: Knot squares was clobbered$/);
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
});

Deno.test("AWS knot clobber: an attempt that crashed before the clobber began still reads as crashed; one that ended after it reads as cancelled by it", () => {
  const stoppedSince = { at: 2_000, why: "Knot squares was clobbered" };
  const ended = (stoppedAt: number) =>
    batchFailureRecord({
      jobId: "j:1",
      jobName: "squares-r-0",
      jobQueue: "q",
      jobDefinition: "d",
      status: "FAILED",
      statusReason: "Job queue deleted",
      attempts: [{ container: { exitCode: 143 }, stoppedAt, statusReason: "Job queue deleted" }],
    }, { index: 1, stoppedSince });
  assert.equal(ended(1_999).kind, "crashed");
  const stopped = ended(2_000);
  assert.equal(stopped.kind, "cancelled");
  assert.equal(
    stopped.error.message,
    "AWS Batch job j:1 attempt 1 was stopped by cloudknot: Knot squares was clobbered",
  );
});
