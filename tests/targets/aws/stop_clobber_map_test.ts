// A map (or retry) of an AWS knot and the knot's clobber, run at once by two
// processes with one config file, against the emulator: a map that starts
// while the clobber runs refuses before it writes anything (its queue is
// being deleted, and its data would outlive the clobber), saying to create the
// knot again once the clobber ends; a clobber that starts while a map submits
// its jobs waits for it, says so, then stops those jobs and deletes their data
// with the knot's, so that nothing of the run is left.
import assert from "node:assert/strict";
import { type AwsKnotResources, AwsKnotTarget } from "../../../src/targets/aws/aws_knot.ts";
import { awsTargetOptions, readAwsKnot } from "../../../src/targets/aws/catalog.ts";
import { cancelledRun, job, mapInChild, spawnCli, startTestBed, type TestBed } from "./helpers.ts";

/**
 * The test bed's knot as its clobber opens it: its record's target, with the resources a clobber
 * without `repo`, `image`, `pars` or `bucket` deletes (the test bed has no image of the knot).
 */
async function knotOf(bed: TestBed, warn: (message: string) => void): Promise<AwsKnotTarget> {
  const record = (await readAwsKnot(bed.state, bed.knot))!;
  const resources = {
    region: record.region,
    profile: record.profile,
    computeEnvironment: record.computeEnvironment,
    jobQueue: record.jobQueue,
    jobDefinition: record.jobDefinition,
    bucket: record.bucket,
    prefix: record.prefix,
  } as AwsKnotResources;
  return new AwsKnotTarget(
    awsTargetOptions(record, { session: bed.session, state: bed.state, pollIntervalMs: 50, warn }),
    record,
    resources,
  );
}

/**
 * Runs `cloudknot retry` of a run of the test bed's knot in a process of its own, with the same
 * config file, which must refuse before it writes anything: exit code 1, nothing on stdout and
 * no mutating request. Gives what it said on stderr.
 */
async function refusedRetry(bed: TestBed, runId: string): Promise<string> {
  bed.emu.requests.clear();
  const retry = spawnCli(bed, ["retry", bed.knot, runId]);
  const said = await retry.rest();
  assert.equal((await retry.child.status).code, 1, said);
  assert.equal(await retry.stdout, "");
  assert.deepEqual(bed.emu.mutatingRequests(), []);
  return said;
}

Deno.test("a retry of an AWS knot while another process clobbers it refuses before it writes anything, saying the knot is being clobbered and to create it again once the clobber ends", async () => {
  const bed = await startTestBed(job);
  const release = Promise.withResolvers<void>();
  try {
    const earlier = await cancelledRun(bed);
    // The clobber holds its mark and has noted its start: it is held at its first look at the
    // queue's jobs.
    const held = bed.emu.faults.add({
      service: "batch",
      operation: "ListJobs",
      kind: "latency",
      until: release.promise,
      times: 1,
    });
    const clobber = (await knotOf(bed, () => {})).clobber();
    while (bed.emu.faults.list().find((f) => f.id === held)?.hits !== 1) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(
      await refusedRetry(bed, earlier),
      new RegExp(
        `Knot ${bed.knot} is being clobbered by another process or knot handle with this ` +
          `config file \\(${bed.state.path}\\) \\(it began at \\S+\\), so nothing was uploaded ` +
          `or submitted: its job queue is being deleted, with any job sent to it\\. Once that ` +
          `clobber ends, create the knot with cloudknot knot create ${bed.knot} MODULE EXPORT ` +
          `--target aws and map again`,
      ),
    );
    release.resolve();
    await clobber;
    assert.equal(await bed.state.section(`knot ${bed.knot}`), undefined);
  } finally {
    release.resolve();
    await bed.close();
  }
});

Deno.test("a retry of an AWS knot whose clobber stopped part-way refuses before it writes anything, saying to finish the clobber, then create the knot again", async () => {
  const bed = await startTestBed(job);
  try {
    const earlier = await cancelledRun(bed);
    // A clobber killed once it had noted its start.
    await bed.state.set(`knot ${bed.knot}`, "clobber-started", new Date().toISOString());
    assert.match(
      await refusedRetry(bed, earlier),
      new RegExp(
        `Knot ${bed.knot} is being deleted: a clobber of it began at \\S+ and stopped ` +
          `part-way, so nothing was uploaded or submitted\\. Finish it with cloudknot knot ` +
          `clobber ${bed.knot} --target aws, then create the knot with cloudknot knot create ` +
          `${bed.knot} MODULE EXPORT --target aws and map again`,
      ),
    );
  } finally {
    await bed.close();
  }
});

Deno.test("a clobber of an AWS knot while another process submits a run's jobs waits for the submission, says so, then stops its jobs and deletes its data: nothing of the run is left", async () => {
  const bed = await startTestBed(job);
  const release = Promise.withResolvers<void>();
  let child: Deno.ChildProcess | undefined;
  try {
    await cancelledRun(bed);
    // The map holds its submission mark, its index written, its first SubmitJob held.
    const held = bed.emu.faults.add({
      service: "batch",
      operation: "SubmitJob",
      kind: "latency",
      until: release.promise,
      times: 1,
    });
    child = mapInChild(bed, [{ sleep: 600_000 }, { sleep: 600_000 }, { sleep: 600_000 }]);
    while (bed.emu.faults.list().find((f) => f.id === held)?.hits !== 1) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const warned = Promise.withResolvers<string>();
    const clobber = (await knotOf(bed, (message) => warned.resolve(message))).clobber();
    assert.match(
      await warned.promise,
      new RegExp(
        `knot ${bed.knot} is not clobbered yet: another process with this config file .* is ` +
          `submitting the jobs of its run \\S+; waiting for it to finish, then its jobs are ` +
          `stopped with the knot's others$`,
      ),
    );
    // Nothing was changed meanwhile.
    assert.equal(bed.emu.count("batch", "UpdateJobQueue"), 0);
    assert.equal((await bed.state.section(`knot ${bed.knot}`))?.get("clobber-started"), undefined);
    release.resolve();
    await clobber;
    // The map submitted its run whole, and ended.
    const mapped = await child.output();
    child = undefined;
    assert.ok(mapped.success, new TextDecoder().decode(mapped.stderr));
    // Every job the map submitted was stopped, and the run's data is gone with the knot's.
    const submitted = [...bed.emu.batch.jobs.values()].filter((j) => j.parent === undefined);
    assert.equal(submitted.length, 3, "the cancelled run's job and the map's two");
    for (const j of submitted) assert.ok(["FAILED", "SUCCEEDED"].includes(j.status), j.status);
    const objects = [...bed.emu.s3.buckets.get(bed.resources.bucket)!.objects.keys()];
    assert.deepEqual(objects.filter((k) => k.startsWith(`${bed.prefix}/`)), []);
    assert.equal(await bed.state.section(`knot ${bed.knot}`), undefined);
  } finally {
    release.resolve();
    if (child !== undefined) {
      child.kill();
      await child.output();
    }
    await bed.close();
  }
});
