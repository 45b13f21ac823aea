// Updating a knot on AWS that is whole, against the emulator with real
// containers: Knot.create with another function (or other options of its job
// definition) pushes the new function's image under a tag of its own and
// registers a new revision of the job definition, keeping the compute
// environment, queue and runs; a run made before retries on its own revision,
// so with the old function; every option is checked, with the knot's own
// values of those not given (and AWS Batch's quota of a job definition's
// size), before anything changes; two updates at once make one revision; and
// the knot's clobber removes every tag and revision.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { findGarbage } from "../../../src/resources/mod.ts";
import { CloudknotInputError } from "../../../src/util/errors.ts";
import { readAwsKnot } from "../../../src/targets/aws/catalog.ts";
import { awsFunctionLabel, awsKnotJson } from "../../../src/cli/common/knot_view.ts";
import type { Emulator } from "../../emulator/mod.ts";
import type { AwsSession } from "../../../src/aws/mod.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { type KnotBedStep, outcomes, runKnotBedSteps, withFargateKnot } from "./helpers.ts";

/**
 * The tests of this file, each a step of its one test (at the end): their knots share one
 * emulator and config file, so the base image is pushed into its registry once (withKnotBeds).
 */
const steps: KnotBedStep[] = [];
function step(name: string, fn: KnotBedStep[1]): void {
  steps.push([name, fn]);
}

function refuseThree(x: number): number {
  if (x === 3) throw new RangeError("the first function refuses 3");
  return x * x;
}

function hundredfold(x: number): number {
  return x * 100;
}

/**
 * Removes `jobDefinition` from a run's manifest (its run.json, and the copy on
 * its index), as a run of an earlier version has it.
 */
function forgetJobDefinition(
  emu: Emulator,
  knot: { bucket: string; prefix: string },
  runId: string,
): void {
  const objects = emu.s3.buckets.get(knot.bucket)!.objects;
  const manifest = objects.get(`${knot.prefix}/runs/${runId}/run.json`);
  assert.ok(manifest, "the run's run.json is written");
  const json = JSON.parse(new TextDecoder().decode(manifest.body));
  assert.ok(json.jobDefinition, "a run records its job definition");
  delete json.jobDefinition;
  manifest.body = new TextEncoder().encode(JSON.stringify(json));
  const index = objects.get(`${knot.prefix}/runs/${runId}/index`)!;
  const meta = index.metadata["cloudknot-run"];
  if (meta !== undefined) {
    const onIndex = JSON.parse(meta);
    delete onIndex.jobDefinition;
    index.metadata["cloudknot-run"] = JSON.stringify(onIndex);
  }
}

/** The revisions of a job definition name in the emulator, with their status. */
function revisions(emu: Emulator, name: string): { revision: number; status: string }[] {
  return (emu.batch.jobDefinitions.get(name) ?? []).map((d) => ({
    revision: d.revision,
    status: d.status ?? "ACTIVE",
  }));
}

/**
 * The tags of knot `knot`'s images in the knots' ECR repository (the knot's name, alone or followed
 * by `-`): the other knots of this file's tests push theirs into the same repository.
 */
async function repoTags(
  session: AwsSession,
  repositoryName: string,
  knot: string,
): Promise<string[]> {
  const tags: string[] = [];
  for await (const image of session.ecr.describeImagesAll({ repositoryName })) {
    tags.push(...image.imageTags ?? []);
  }
  return tags.filter((tag) => tag === knot || tag.startsWith(`${knot}-`)).sort();
}

step(
  "a knot given another function runs it on a new job definition revision, a run made before retries with the old function, and its clobber removes both images and every revision",
  async (beds) => {
    await withFargateKnot("upd", async ({ emu, session, state, common }) => {
      const knot = await Knot.create({ ...common, func: refuseThree, retries: 1 });
      const first = await knot.map([2, 3], { progress: false });
      assert.deepEqual(outcomes(await first.settled()), [
        4,
        "RangeError: the first function refuses 3",
      ]);

      // A run as an earlier version recorded it: its manifest names no job definition.
      const older = await knot.map([3], { progress: false });
      await older.settled();
      forgetJobDefinition(emu, knot.aws!, older.runId);

      const warned: string[] = [];
      const updated = await Knot.create({
        ...common,
        func: hundredfold,
        memory: 1024,
        warn: (m) => warned.push(m),
      });
      assert.equal(updated.aws!.updated, true);
      assert.equal(updated.aws!.adopted, false);
      // The compute environment and queue stay; the job definition has a new revision.
      assert.equal(updated.aws!.jobQueue, knot.aws!.jobQueue);
      assert.equal(updated.aws!.computeEnvironment, knot.aws!.computeEnvironment);
      assert.notEqual(updated.aws!.jobDefinition, knot.aws!.jobDefinition);
      assert.match(updated.aws!.jobDefinition, /:2$/);
      assert.notEqual(updated.aws!.imageUri, knot.aws!.imageUri);
      assert.deepEqual(warned, [
        `cloudknot: knot ${common.name} now runs func hundredfold (${
          updated.artifact.hash.slice(0, 12)
        }) with memory 1024 (job definition revision 2); runs made before keep their own ` +
        "function and options, and so do their retries",
      ]);
      // What was not given stays the knot's own: its attempts, compute and vCPUs.
      const record = await state.section(`knot ${common.name}`);
      assert.equal(record?.get("retries"), "1");
      assert.equal(record?.get("compute"), "FARGATE");
      assert.equal(record?.get("function-hash"), updated.artifact.hash);
      const definition = (emu.batch.jobDefinitions.get(`${common.name}-ck-jd`) ?? [])
        .find((d) => d.revision === 2)!;
      assert.deepEqual(
        (definition.containerProperties as { resourceRequirements: unknown[] })
          .resourceRequirements,
        [{ type: "VCPU", value: "0.25" }, { type: "MEMORY", value: "1024" }],
      );
      assert.equal((definition.retryStrategy as { attempts: number }).attempts, 1);

      // A new map runs the new function; the run made before reads as it was, and its retry
      // runs on its own revision: the old function, which refuses 3 again.
      const second = await updated.map([3], { progress: false });
      assert.deepEqual(await second.results(), [300]);
      const old = await updated.collect(first.runId);
      assert.deepEqual(outcomes(await old.settled()), [
        4,
        "RangeError: the first function refuses 3",
      ]);
      const retried = await old.retry();
      assert.deepEqual(
        outcomes(await retried.settled()),
        [4, "RangeError: the first function refuses 3"],
        "the retry of a run made before runs the function that run ran",
      );
      const retryJobs = [...emu.batch.jobs.values()]
        .filter((j) => j.jobName.startsWith(`${common.name}-${retried.runId}-`));
      assert.ok(retryJobs.length > 0);
      for (const job of retryJobs) {
        assert.equal(job.def.jobDefinitionArn, knot.aws!.jobDefinition);
      }

      // A run of an earlier version retries on the revision Batch says its jobs ran on.
      const olderRetry = await (await updated.collect(older.runId)).retry();
      assert.deepEqual(outcomes(await olderRetry.settled()), [
        "RangeError: the first function refuses 3",
      ]);
      // Once Batch no longer describes its jobs (it forgets jobs days after they end), it retries
      // on the revision the knot ran before its update, which the knot's record keeps.
      assert.match(
        record!.get("updated-from")!,
        new RegExp(`^${knot.aws!.jobDefinition} \\d{4}-\\d\\d-\\d\\dT`),
      );
      const forgotten = [...emu.batch.jobs].filter(([, j]) =>
        j.jobName.startsWith(`${common.name}-${older.runId}-`)
      );
      assert.ok(forgotten.length > 0);
      for (const [id] of forgotten) emu.batch.jobs.delete(id);
      const lateRetry = await (await updated.collect(older.runId)).retry();
      assert.deepEqual(
        outcomes(await lateRetry.settled()),
        ["RangeError: the first function refuses 3"],
        "a late retry of a run of an earlier version runs the function that run ran",
      );

      // Both images are tagged in the repository; gc calls none of the knot's garbage.
      const tags = record!.get("image-tags")!.split(" ");
      assert.equal(tags.length, 2);
      assert.deepEqual(
        await repoTags(session, updated.aws!.repo.name, common.name),
        [...tags].sort(),
      );
      assert.deepEqual(
        (await findGarbage({ session, state })).filter((g) => g.owner === `knot ${common.name}`),
        [],
      );

      // The clobber removes every tag the knot pushed and deregisters every revision.
      await updated.clobber({ repo: true });
      assert.deepEqual(
        (await repoTags(session, updated.aws!.repo.name, common.name)).filter((t) =>
          tags.includes(t)
        ),
        [],
      );
      assert.deepEqual(revisions(emu, `${common.name}-ck-jd`), [
        { revision: 1, status: "INACTIVE" },
        { revision: 2, status: "INACTIVE" },
      ]);
    }, { beds });
  },
);

step(
  "an update with an option the knot's own values make wrong, or a function that does not bundle, is refused before any AWS request that changes anything",
  async (beds) => {
    await withFargateKnot("updbad", async ({ emu, state, dir, common }) => {
      const knot = await Knot.create({ ...common, func: refuseThree, retries: 1 });
      const before = await state.section(`knot ${common.name}`);
      emu.requests.clear();

      // 4096 MiB goes with Fargate's default 1 vCPU, not with the knot's own 0.25: the
      // options given are checked with the knot's own values of those left out.
      const { vcpus: _, ...notVcpus } = common;
      // With an option an update does not change, which it ignores: not said, as nothing is.
      const warned: string[] = [];
      const memory = await Knot.create({
        ...notVcpus,
        func: hundredfold,
        memory: 4096,
        tags: { team: "imaging" },
        warn: (m) => warned.push(m),
      }).then(() => undefined, (e) => e);
      assert.ok(memory instanceof CloudknotInputError, String(memory));
      assert.deepEqual(warned.filter((w) => /so it was updated/.test(w)), []);
      assert.equal(memory.field, "memory");
      assert.match(
        memory.message,
        /\(512, 1024 or 2048\), not 4096 \(knot \S+ keeps its own retries 1, vcpus 0\.25\S* .*where they are not given: give them with the update too; and it keeps its own compute "FARGATE"\S* .*where they are not given, which no update changes: clobber the knot, or choose another name, to change them\); nothing was changed$/,
      );

      // Its dry run refuses it alike.
      const planned = await Knot.create({
        ...notVcpus,
        func: hundredfold,
        memory: 4096,
        dryRun: true,
      }).then(() => undefined, (e) => e);
      assert.ok(planned instanceof CloudknotInputError, String(planned));
      assert.equal(planned.message, memory.message);

      // A module whose import is missing is refused when it is bundled.
      const module = join(dir, "broken.ts");
      await Deno.writeTextFile(
        module,
        'import { nothing } from "./missing.ts";\nexport function f(x: number) { return nothing(x); }\n',
      );
      const bundle = await Knot.create({ ...common, module, exportName: "f" })
        .then(() => undefined, (e) => e);
      assert.ok(bundle instanceof Error, String(bundle));
      assert.match(bundle.message, /missing\.ts/);

      // Permissions that make its job definition pass AWS Batch's 24 KiB: refused before
      // anything is built or changed (batch/quotas_test.ts has a new knot's).
      const read = Array.from({ length: 1200 }, (_, i) => `/data/plates/plate-${i}.csv`);
      const wide = await Knot.create({
        ...common,
        func: refuseThree,
        retries: 1,
        permissions: { read },
      })
        .then(() => undefined, (e) => e);
      assert.ok(wide instanceof CloudknotInputError, String(wide));
      assert.equal(wide.field, "permissions");
      assert.match(wide.message, /more than the 24,576 bytes \(24 KiB\) AWS Batch takes/);
      const widePlan = await Knot.create({
        ...common,
        func: refuseThree,
        retries: 1,
        permissions: { read },
        dryRun: true,
      }).then(() => undefined, (e) => e);
      assert.equal(widePlan?.message, wide.message);

      assert.deepEqual(emu.mutatingRequests(), [], "nothing on AWS changed");
      assert.deepEqual(await state.section(`knot ${common.name}`), before);
      assert.deepEqual(revisions(emu, `${common.name}-ck-jd`), [{ revision: 1, status: "ACTIVE" }]);
      // The knot still runs its own function.
      const run = await knot.map([2], { progress: false });
      assert.deepEqual(await run.results(), [4]);
    }, { beds });
  },
);

step(
  "two updates of a knot to one function at once register one revision: the second waits for the first, then finds the knot updated and adopts it",
  async (beds) => {
    await withFargateKnot("updtwice", async ({ emu, common }) => {
      await Knot.create({ ...common, func: refuseThree, retries: 1 });
      const warned: string[] = [];
      const update = () =>
        Knot.create({ ...common, func: hundredfold, warn: (m) => warned.push(m) });
      const [a, b] = await Promise.all([update(), update()]);
      assert.deepEqual(
        revisions(emu, `${common.name}-ck-jd`).map((r) => r.revision),
        [1, 2],
        "one new revision",
      );
      assert.equal(a.aws!.jobDefinition, b.aws!.jobDefinition);
      assert.deepEqual([a.aws!.updated, b.aws!.updated].sort(), [false, true]);
      assert.equal(warned.filter((m) => / now runs func hundredfold /.test(m)).length, 1);
      assert.equal(
        warned.filter((m) => /is being updated or made again by another process/.test(m)).length,
        1,
        warned.join("\n"),
      );
      const run = await (a.aws!.updated ? b : a).map([3], { progress: false });
      assert.deepEqual(await run.results(), [300]);
    }, { beds });
  },
);

step(
  "an update stopped between its push and its job definition revision leaves the knot running its old function, with the new tag listed for its clobber, and the next update finishes it",
  async (beds) => {
    await withFargateKnot("updstop", async ({ emu, session, state, common }) => {
      const knot = await Knot.create({ ...common, func: refuseThree, retries: 1 });
      const before = await state.section(`knot ${common.name}`);
      // Batch never answers the registration: the connection is reset, however often it is tried.
      const fault = emu.faults.add({
        service: "batch",
        operation: "RegisterJobDefinition",
        kind: "reset",
      });
      const stopped = await Knot.create({ ...common, func: hundredfold, warn: () => {} })
        .then(() => undefined, (e) => e);
      assert.ok(stopped instanceof Error, "the update failed");
      emu.faults.clear(fault);

      // The record still names the old image, revision and function; the new tag is listed.
      const after = await state.section(`knot ${common.name}`);
      for (const key of ["image-uri", "job-definition", "function-hash"]) {
        assert.equal(after?.get(key), before?.get(key), key);
      }
      const tags = after!.get("image-tags")!.split(" ");
      assert.equal(tags.length, 2);
      assert.deepEqual(await repoTags(session, knot.aws!.repo.name, common.name), [...tags].sort());
      // What `knot show` and `knot list` say is the function it runs: the old one, though the
      // image's directory now holds the new one.
      const record = (await readAwsKnot(state, common.name))!;
      const image = await state.section(`docker-image ${record.dockerImage}`);
      assert.notEqual(image?.get("function-hash"), knot.artifact.hash);
      assert.match(awsFunctionLabel(record, image), new RegExp(knot.artifact.hash.slice(0, 8)));
      assert.equal(
        (awsKnotJson(record, image).function as { hash: string }).hash,
        knot.artifact.hash,
      );
      const adopted = await Knot.create({ ...common, warn: () => {} });
      assert.deepEqual(outcomes(await (await adopted.map([2, 3], { progress: false })).settled()), [
        4,
        "RangeError: the first function refuses 3",
      ]);

      // The next update with the function finishes it; the clobber removes every tag.
      const updated = await Knot.create({ ...common, func: hundredfold, warn: () => {} });
      assert.equal(updated.aws!.updated, true);
      assert.deepEqual(await (await updated.map([3], { progress: false })).results(), [300]);
      const all = (await state.section(`knot ${common.name}`))!.get("image-tags")!.split(" ");
      assert.equal(all.length, 3);
      await updated.clobber({ repo: true });
      assert.deepEqual(
        (await repoTags(session, knot.aws!.repo.name, common.name)).filter((t) => all.includes(t)),
        [],
      );
    }, { beds });
  },
);

dockerTest(
  "a knot on AWS that is whole is updated by Knot.create with another function or options: a new revision runs it, what is wrong is refused before anything changes, two updates at once make one revision, and a stopped update is finished by the next",
  (t) => runKnotBedSteps(t, steps),
);
