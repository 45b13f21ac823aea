// A knot whose job queue, or compute environment and job queue, were deleted
// outside cloudknot (the console, another tool), against the emulator with
// real Docker containers: adopting it by name keeps its record and its runs
// (their results read, gc finds no garbage in them), running anything is
// refused saying what is gone and how to make it again, and Knot.create with
// the function makes the missing pieces again under the record's names,
// checking every option before it changes anything.
import assert from "node:assert/strict";
import { Knot, ResourceDoesNotExistError, SubmitError } from "../../../mod.ts";
import { findGarbage } from "../../../src/resources/mod.ts";
import { StateFile } from "../../../src/state/mod.ts";
import { deleteBatchEnvironment } from "../../../src/targets/aws/batch/mod.ts";
import { inCliWords } from "../../../src/cli/common/cli_words.ts";
import { CloudknotInputError } from "../../../src/util/errors.ts";
import type { Emulator } from "../../emulator/mod.ts";
import type { AwsSession } from "../../../src/aws/mod.ts";
import { holdAnswer } from "../../support/held_answer.ts";
import { watchLooks } from "../../support/mark_looks.ts";
import { sessionFor } from "../../support/aws_session.ts";
import { ensureBaseImage } from "../../support/base_image.ts";
import { dockerTest } from "../../support/docker_available.ts";
import {
  type KnotBeds,
  type KnotBedStep,
  runKnotBedSteps,
  withAwsHomeOn,
  withKnotBed,
} from "./helpers.ts";

/**
 * The tests of this file, each a step of its one test (at the end): their knots share one
 * emulator and config file, so the base image is pushed into its registry once (withKnotBeds).
 */
const steps: KnotBedStep[] = [];
function step(name: string, fn: KnotBedStep[1]): void {
  steps.push([name, fn]);
}

import { cliHere, JOBS, ndjson } from "../../cli/helpers.ts";

function square(x: number): number {
  return x * x;
}

/** A square that refuses a negative number, for a run with an item to retry. */
function positiveSquare(x: number): number {
  if (x < 0) throw new RangeError(`${x} is negative`);
  return x * x;
}

/**
 * Makes knot `name` and runs it once, deletes `what` of it behind cloudknot's
 * back, then checks adoption, the refusal, a refused heal and a heal.
 */
async function deletedOutside(
  on: KnotBeds,
  name: string,
  what: "queue" | "queue and environment",
) {
  await withKnotBed(name, async ({ emu, session, state, common, baseImage }) => {
    const knot = await Knot.create({
      ...common,
      func: square,
      baseImage,
      memory: 512,
      retries: 2,
      permissions: { net: false },
    });
    const { jobQueue, computeEnvironment } = knot.aws!;
    const first = await knot.map([1, 2, 3], { progress: false });
    assert.deepEqual(await first.results(), [1, 4, 9]);

    // Deleted outside cloudknot, as the console does it: a compute
    // environment goes only once no queue uses it (AWS Batch's
    // DeleteComputeEnvironment), so with it goes its queue.
    await deleteBatchEnvironment(session, {
      jobQueue,
      ...(what === "queue and environment" ? { computeEnvironment } : {}),
    }, { pollMs: 20 });
    const gone = what === "queue" ? [jobQueue] : [computeEnvironment, jobQueue];
    emu.requests.clear();

    // Adopted by name: the record and its runs are kept, the old run reads.
    const adopted = await Knot.create({ ...common, warn: () => {} });
    const record = await state.section(`knot ${name}`);
    assert.equal(record?.get("runs"), first.runId, "the record and its runs are kept");
    assert.deepEqual((await adopted.runs()).map((r) => r.runId), [first.runId]);
    const again = await adopted.collect(first.runId);
    assert.deepEqual(await again.results(), [1, 4, 9]);
    const garbage = await findGarbage({ session, state });
    assert.deepEqual(
      garbage.filter((g) => g.kind === "job-data").map((g) => g.id),
      [],
      "the kept runs' job data is not garbage",
    );

    // Running anything is refused, saying what is gone and what to do.
    const refused = await adopted.map([4], { progress: false }).then(() => undefined, (e) => e);
    assert.ok(refused instanceof ResourceDoesNotExistError, String(refused));
    assert.deepEqual([...refused.missing].sort(), [...gone].sort());
    assert.match(
      refused.message,
      what === "queue"
        ? new RegExp(`its job queue ${jobQueue} no longer exists \\(deleted outside cloudknot, `)
        : new RegExp(
          `its compute environment ${computeEnvironment} and its job queue ${jobQueue} no longer exist`,
        ),
    );
    assert.match(refused.message, /Its runs are kept and can still be read/);
    assert.match(refused.message, new RegExp(`Knot\\.create\\(\\{ name: "${name}", func \\}\\)`));
    // A command-line user is told the command instead.
    assert.match(
      inCliWords(refused),
      new RegExp(`with cloudknot knot create ${name} MODULE EXPORT --target aws and the knot's`),
    );
    // Adopting a knot changes nothing, its ECR repository included.
    assert.deepEqual(
      emu.mutatingRequests().map((r) => `${r.service} ${r.operation}`),
      [],
      "adoption, reading and refusals change nothing",
    );

    // A heal with an option AWS refuses changes nothing.
    emu.requests.clear();
    const bad = await Knot.create({
      ...common,
      func: square,
      baseImage,
      instanceTypes: ["nosuch.large"],
    }).then(() => undefined, (e) => e);
    assert.ok(bad instanceof CloudknotInputError, String(bad));
    assert.equal(bad.field, "instanceTypes");
    assert.deepEqual(emu.mutatingRequests(), []);
    assert.equal((await state.section(`knot ${name}`))?.get("runs"), first.runId);
    // A dry run says what the heal would make.
    const plan = await Knot.create({ ...common, func: square, baseImage, dryRun: true });
    assert.equal(plan.find("job queue")?.action, "create");
    assert.equal(plan.find("compute environment")?.action, what === "queue" ? undefined : "create");
    assert.match(plan.notes.join("\n"), /would be made again under the same names/);
    assert.deepEqual(emu.mutatingRequests(), []);

    // Knot.create with the function makes what is missing again, under the
    // same names, and keeps the knot's runs: old and new are both listed.
    const healed = await Knot.create({ ...common, func: square, baseImage, memory: 512 });
    assert.equal(healed.aws!.jobQueue, jobQueue);
    assert.equal(healed.aws!.computeEnvironment, computeEnvironment);
    // What it was made with and was not given again is kept: attempts, permissions.
    assert.equal(await state.get(`knot ${name}`, "retries"), "2");
    const permissionsOf = (arn: string) =>
      JSON.stringify(
        ([...emu.batch.jobDefinitions.values()].flat().find((d) => d.jobDefinitionArn === arn)
          ?.containerProperties as { environment?: { name: string; value: string }[] })
          ?.environment?.find((e) => e.name === "CLOUDKNOT_PERMISSIONS")?.value,
      );
    assert.notEqual(healed.aws!.jobDefinition, knot.aws!.jobDefinition);
    assert.equal(permissionsOf(healed.aws!.jobDefinition), permissionsOf(knot.aws!.jobDefinition));
    assert.notEqual(permissionsOf(knot.aws!.jobDefinition), undefined, "net: false is written");
    const second = await healed.map([4, 5], { progress: false });
    assert.deepEqual(await second.results(), [16, 25]);
    assert.deepEqual(
      (await healed.runs()).map((r) => r.runId).sort(),
      [first.runId, second.runId].sort(),
    );
    assert.equal(
      (await state.section(`knot ${name}`))?.get("runs"),
      `${first.runId} ${second.runId}`,
    );
    assert.deepEqual(await (await healed.collect(first.runId)).results(), [1, 4, 9]);

    if (what === "queue and environment") {
      // Broken again, and healed by two calls at once.
      const heal = (more: { warn: (message: string) => void; state?: StateFile }) =>
        Knot.create({ ...common, func: square, baseImage, ...more });
      const twice = await healedWhileWaiting(emu, session, state, name, heal);
      await healedFromCopy(emu, session, state, name, heal);
      await createdFromCopy(
        emu,
        state,
        `${name}lt`,
        (more) => Knot.create({ ...common, func: square, baseImage, ...more, name: `${name}lt` }),
      );
      // The knot runs, on what the other calls made: none of it was deleted.
      const run = await twice.map([6], { progress: false });
      assert.deepEqual(await run.results(), [36]);
    }

    // Deleted again, its clobber deletes what is left of it, its data and its record.
    await deleteBatchEnvironment(session, { jobQueue }, { pollMs: 20 });
    const broken = await Knot.create({ ...common, warn: () => {} });
    await broken.clobber();
    assert.equal(await state.section(`knot ${name}`), undefined);
    const { bucket, prefix } = healed.aws!;
    const left = await session.s3.listObjectsV2({ Bucket: bucket, Prefix: `${prefix}/` });
    assert.equal(left.KeyCount, 0);
    assert.equal(emu.batch.computeEnvironments.has(`${name}-ck-ce`), false);
    assert.deepEqual(
      (await findGarbage({ session, state })).filter((g) => g.owner === `knot ${name}`),
      [],
    );
  }, { beds: on });
}

/** Heals knot `name` with the knot's options, its function and these. */
type Heal = (
  more: { warn: (message: string) => void; state?: StateFile },
) => Promise<Knot<typeof square>>;

/** Deletes knot `name`'s job queue and compute environment, as the console does. */
async function breakKnot(session: AwsSession, state: StateFile, name: string) {
  const [jobQueue, computeEnvironment] = await Promise.all(
    ["job-queue", "compute-environment"].map((key) => state.get(`knot ${name}`, key)),
  );
  await deleteBatchEnvironment(session, { jobQueue: jobQueue!, computeEnvironment }, {
    pollMs: 20,
  });
  return { jobQueue: jobQueue!, computeEnvironment: computeEnvironment! };
}

/**
 * Breaks knot `name` again, then heals it with two `Knot.create` calls at
 * once: the first is held inside its heal (the answer to its
 * CreateComputeEnvironment) while the second, which read the knot broken
 * too, waits for the mark of the knot's Pars; the first heals it, and a
 * fault meets the second's job definition should it heal again. The second
 * judges again after its wait: it adopts what the first made and changes
 * nothing. Gives the first's knot.
 */
async function healedWhileWaiting(
  emu: Emulator,
  session: AwsSession,
  state: StateFile,
  name: string,
  heal: Heal,
): Promise<Knot<typeof square>> {
  const section = `knot ${name}`;
  const pars = await state.get(section, "pars");
  const { jobQueue, computeEnvironment } = await breakKnot(session, state, name);
  const runs = await state.get(section, "runs");
  const warned: string[] = [];
  const first = await holdAnswer(
    emu,
    { service: "batch", operation: "CreateComputeEnvironment" },
    () => heal({ warn: () => {} }),
  );
  let second: Promise<Knot<typeof square>> | undefined;
  try {
    // The first holds the mark of the knot's Pars while its answer is held: the second waits.
    const mark = `${state.path}.making-${encodeURIComponent(`using-pars ${pars} ${name}`)}.lock`;
    const waits = Promise.withResolvers<void>();
    {
      using _ = watchLooks((await Deno.stat(mark)).ino, ({ exclusive, got }) => {
        // Refused the shared look too: held by a maker, so the second waits for it.
        if (!exclusive && !got) waits.resolve();
      });
      second = heal({ warn: (m) => warned.push(m) });
      second.catch(() => {});
      await Promise.race([
        waits.promise,
        second.then(() => {
          throw new Error("the second create ended without waiting for the first");
        }),
      ]);
    }
    const healed = await first.answer();
    assert.equal(healed.aws!.computeEnvironment, computeEnvironment);
    emu.requests.clear();
    // Should the second heal again, it fails when it registers its job definition (once more
    // after a server error too).
    emu.faults.add({ service: "batch", operation: "RegisterJobDefinition", kind: "500", times: 2 });
    const adopted = await second;
    assert.equal(adopted.aws!.jobQueue, jobQueue);
    assert.equal(adopted.aws!.computeEnvironment, computeEnvironment);
    assert.match(
      warned.join("\n"),
      new RegExp(`knot ${name} is being made again by another process with this config file`),
    );
    // It adopted what the first made, changing nothing of it, and the knot's runs are kept.
    assert.deepEqual(emu.mutatingRequests().map((r) => `${r.service} ${r.operation}`), []);
    assert.equal(await state.get(section, "runs"), runs);
    return healed;
  } finally {
    await first.answer().catch(() => {});
    await second?.catch(() => {});
    emu.faults.clear();
  }
}

/**
 * Breaks knot `name` again, then heals it with a copy of its config file (as
 * on another machine: no mark tells the two heals of each other) while a heal
 * with the config file itself, which read the knot broken, is held before its
 * image's push. The copy's heal makes the compute environment and queue; the
 * held one adopts them, fails at its job definition, and deletes neither.
 */
async function healedFromCopy(
  emu: Emulator,
  session: AwsSession,
  state: StateFile,
  name: string,
  heal: Heal,
) {
  const { jobQueue, computeEnvironment } = await breakKnot(session, state, name);
  const copy = new StateFile({ path: `${state.path}-copy` });
  await Deno.copyFile(state.path, copy.path);
  const held = await holdAnswer(
    emu,
    { service: "ecr", operation: "GetAuthorizationToken" },
    () => heal({ warn: () => {} }),
  );
  try {
    const other = await heal({ state: copy, warn: () => {} });
    assert.equal(other.aws!.jobQueue, jobQueue);
    emu.requests.clear();
    emu.faults.add({ service: "batch", operation: "RegisterJobDefinition", kind: "500", times: 2 });
    const failed = await held.answer().then(() => undefined, (e: unknown) => e);
    assert.match(String(failed), /RegisterJobDefinition: OutcomeUnknown/);
    assert.deepEqual(
      emu.requests.filter({ service: "batch", mutating: true }).map((r) => r.operation)
        .filter((operation) => operation.startsWith("Delete")),
      [],
      "the failed heal deletes nothing it adopted",
    );
    const ce = emu.batch.computeEnvironments.get(computeEnvironment.split("/").pop()!);
    assert.equal(ce?.status, "VALID");
  } finally {
    await held.answer().catch(() => {});
    emu.faults.clear();
  }
}

/**
 * Creates a new knot `name` with a launch template (`volumeSize`) with a copy
 * of the config file (as on another machine: no mark tells the two creates of
 * each other) while a create with the config file itself is held before its
 * image's push. The copy's create makes the launch template, compute
 * environment, queue and job definition; the held one adopts them, fails at
 * its job definition, and deletes none of them: the copy's knot stays whole.
 * Then the copy's knot is clobbered, with its local image.
 */
async function createdFromCopy(
  emu: Emulator,
  state: StateFile,
  name: string,
  create: (
    more: { warn: (message: string) => void; state?: StateFile; volumeSize: number },
  ) => Promise<Knot<typeof square>>,
) {
  const copy = new StateFile({ path: `${state.path}-new-copy` });
  await Deno.copyFile(state.path, copy.path);
  const warned: string[] = [];
  const held = await holdAnswer(
    emu,
    { service: "ecr", operation: "GetAuthorizationToken" },
    () => create({ warn: (message) => warned.push(message), volumeSize: 40 }),
  );
  let other: Knot<typeof square> | undefined;
  try {
    other = await create({ state: copy, warn: () => {}, volumeSize: 40 });
    const template = (await copy.get(`knot ${name}`, "launch-template"))!;
    assert.ok(template, "the copy's knot has a launch template");
    emu.requests.clear();
    emu.faults.add({ service: "batch", operation: "RegisterJobDefinition", kind: "500", times: 2 });
    const failed = await held.answer().then(() => undefined, (e: unknown) => e);
    assert.match(String(failed), /RegisterJobDefinition: OutcomeUnknown/);
    const deletes = () =>
      emu.mutatingRequests().map((r) => r.operation)
        .filter((operation) => /^(Delete|Deregister)/.test(operation));
    assert.deepEqual(deletes(), [], "the failed create deletes nothing the other create uses");
    assert.ok(
      [...emu.ec2.launchTemplates.values()].some((t) => t.LaunchTemplateName === template),
      "the other create's launch template is kept",
    );
    // The knot's job role the failed create made, which the other create adopted, is kept, and
    // the failed create says why.
    const role = other.aws!.jobRole.split("/").pop()!;
    assert.ok(emu.iam.roles.has(role), "the other create's job role is kept");
    assert.match(
      warned.join("\n"),
      new RegExp(`IAM role ${role} .* stays although the create failed`),
    );

    // Alone, a create that fails deletes the job role it made.
    await other.clobber({ image: true });
    other = undefined;
    assert.equal(emu.iam.roles.has(role), false, "the clobber deletes the knot's job role");
    emu.requests.clear();
    emu.faults.add({ service: "batch", operation: "RegisterJobDefinition", kind: "500", times: 2 });
    const alone = await create({ warn: () => {}, volumeSize: 40 }).then(() => undefined, (e) => e);
    assert.match(String(alone), /RegisterJobDefinition: OutcomeUnknown/);
    assert.ok(deletes().includes("DeleteRole"), "the failed create deletes its job role");
    assert.equal(emu.iam.roles.has(role), false);
  } finally {
    await held.answer().catch(() => {});
    emu.faults.clear();
    await other?.clobber({ image: true });
  }
}

step(
  "on the command line, a knot whose job queue was deleted outside cloudknot keeps its results, map and retry say to run knot create, and knot create makes the queue again",
  async (beds) => {
    await withAwsHomeOn(beds, async (home) => {
      const env = { CLOUDKNOT_BASE_IMAGE: await ensureBaseImage() };
      assert.equal((await cliHere(home, ["configure", "--region", "us-east-1"], { env })).code, 0);
      const shape = [
        "--target",
        "aws",
        "--compute",
        "FARGATE",
        "--vcpus",
        "0.25",
        "--memory",
        "512",
      ];
      const make = ["map", JOBS, "failOdd", "--name", "hodd", ...shape, "--retries", "1"];
      const first = await cliHere(home, make, { stdin: "[1, 2]", env });
      assert.equal(first.code, 1, first.stderr);
      const runId = /^knot hodd · run (\S+) · 2 items \(aws\)$/m.exec(first.stderr)?.[1];
      assert.ok(runId, first.stderr);
      const session = await sessionFor(home.emu);
      const state = new StateFile({ path: home.configFile });
      const jobQueue = (await state.get("knot hodd", "job-queue"))!;
      await deleteBatchEnvironment(session, { jobQueue }, { pollMs: 20 });

      // Its results still read, and its record is kept.
      const results = await cliHere(home, ["results", "hodd", runId]);
      assert.equal(results.code, 1, results.stderr);
      assert.equal(ndjson(results.stdout)[1]!.value, 2);
      assert.equal(await state.get("knot hodd", "runs"), runId);

      // map and retry are refused, in command-line words.
      const advice = new RegExp(
        `job queue ${jobQueue} no longer exists \\(deleted outside cloudknot, by a clobber ` +
          `that stopped part-way, or by a forced clobber of the knot's Pars\\)\\. Its runs are kept and can still be read\\. To run again, ` +
          `make what is missing again with cloudknot knot create hodd MODULE EXPORT --target aws ` +
          `and the knot's options: it keeps the knot's names and runs\\. To be done with it, run ` +
          `cloudknot knot clobber hodd --target aws: that deletes what is left of it`,
      );
      home.emu.requests.clear();
      const mapped = await cliHere(home, ["map", "--name", "hodd"], { stdin: "[2]", env });
      assert.equal(mapped.code, 1, mapped.stderr);
      assert.match(mapped.stderr, advice);
      const retried = await cliHere(home, ["retry", "hodd", runId]);
      assert.equal(retried.code, 1, retried.stderr);
      assert.match(retried.stderr, advice);
      assert.deepEqual(
        home.emu.mutatingRequests().filter((r) => r.service === "batch").map((r) => r.operation),
        [],
      );

      // knot create with the module makes the queue again; old and new runs are kept.
      const healed = await cliHere(home, ["knot", "create", "hodd", JOBS, "failOdd", ...shape], {
        env,
      });
      assert.equal(healed.code, 0, healed.stderr);
      assert.match(healed.stdout, /^Made again knot hodd on AWS Batch \(us-east-1\): /);
      const second = await cliHere(home, ["map", "--name", "hodd"], { stdin: "[4]", env });
      assert.equal(second.code, 0, second.stderr);
      assert.equal(second.stdout, '{"index":0,"value":4}\n');
      assert.equal((await state.get("knot hodd", "runs"))?.split(" ")[0], runId);
      assert.equal(ndjson((await cliHere(home, ["results", "hodd", runId])).stdout)[1]!.value, 2);
    });
  },
);

/**
 * Makes knot `lostdef` and runs it, deregisters its job definition outside cloudknot, then checks
 * the refusals, the dry run and the heal.
 */
async function deregisteredOutside(on: KnotBeds) {
  const name = "lostdef";
  await withKnotBed(name, async ({ session, state, common, baseImage }) => {
    const knot = await Knot.create({ ...common, func: positiveSquare, baseImage, memory: 512 });
    const first = await knot.map([1, 2, 3, -1], { progress: false });
    assert.deepEqual((await first.settled()).map((s) => s.status), [
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "rejected",
    ]);
    const definition = knot.aws!.jobDefinition;
    await session.batch.deregisterJobDefinition({ jobDefinition: definition });

    // The knot opened before: Batch refuses the SubmitJob, and the error says what to do.
    const refused = await knot.map([4], { progress: false }).then(() => undefined, (e) => e);
    assert.ok(refused instanceof SubmitError, String(refused));
    assert.ok(
      refused.message.includes(`JobDefinition ${definition} is not in ACTIVE status`),
      refused.message,
    );
    assert.ok(
      refused.message.includes(
        `nothing was submitted and the run's data was removed: the knot's job definition ` +
          `${definition} is not ACTIVE (it was deregistered outside cloudknot): create the ` +
          `knot with Knot.create({ name: "${name}", func }) (or module and exportName), which ` +
          `registers a new job definition and keeps its runs, and map again`,
      ),
      refused.message,
    );
    // A command-line user is told the command instead.
    const words = inCliWords(refused);
    assert.ok(
      words.includes(
        `create the knot with cloudknot knot create ${name} MODULE EXPORT --target aws, ` +
          `which registers a new job definition and keeps its runs, and map again`,
      ),
      words,
    );
    assert.doesNotMatch(words, /Knot\.create|clobber\(/);

    // Adopted by name, without its function: it reads its runs and runs nothing, saying why.
    const byName = await Knot.create({ name, target: "aws", session, state });
    const read = await (await byName.collect(first.runId)).settled();
    assert.deepEqual(read.map((s) => s.status), [
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "rejected",
    ]);
    const gone = await byName.map([4], { progress: false }).then(() => undefined, (e) => e);
    assert.match(
      String(gone),
      new RegExp(
        `its job definition ${definition} is not ACTIVE \\(deregistered outside cloudknot\\), ` +
          `so AWS Batch refuses its jobs\\. Its runs are kept`,
      ),
    );

    // A dry run says the heal would register the job definition again, and changes nothing.
    const before =
      (await session.batch.describeJobDefinitions({ jobDefinitionName: `${name}-ck-jd` }))
        .jobDefinitions?.length;
    const plan = await Knot.create({ ...common, func: positiveSquare, baseImage, dryRun: true });
    assert.equal(plan.find("job definition")?.action, "create");
    assert.match(
      plan.notes.join("\n"),
      new RegExp(`its job definition ${definition} is not ACTIVE \\(deregistered\\)`),
    );
    assert.equal(
      (await session.batch.describeJobDefinitions({ jobDefinitionName: `${name}-ck-jd` }))
        .jobDefinitions?.length,
      before,
    );

    // Created again with its function, the knot gets a new revision and keeps its runs.
    const again = await Knot.create({ ...common, func: positiveSquare, baseImage, memory: 512 });
    assert.notEqual(again.aws!.jobDefinition, definition);
    const second = await again.map([4, 5], { progress: false });
    assert.deepEqual(await second.results(), [16, 25]);
    // The first run's retry runs on the new revision, as it runs the same image: its item
    // fails as the function says, not as Batch refuses a deregistered job definition.
    const old = await again.collect(first.runId);
    const retried = await old.retry({ progress: false });
    const settled = await retried.settled();
    assert.equal(settled[3]!.status, "rejected");
    assert.match(String((settled[3] as PromiseRejectedResult).reason), /-1 is negative/);
    assert.deepEqual(settled.slice(0, 3).map((s) => s.status), Array(3).fill("fulfilled"));
    await again.clobber();
  }, { beds: on });
}

step(
  "a knot whose job queue was deleted outside cloudknot keeps its runs, refuses to map, and Knot.create with its function makes the queue again",
  (beds) => deletedOutside(beds, "lostqueue", "queue"),
);

step(
  "a knot whose compute environment and job queue were deleted outside cloudknot keeps its runs, refuses to map, and Knot.create with its function makes them again",
  (beds) => deletedOutside(beds, "lostce", "queue and environment"),
);

step(
  "a knot whose job definition was deregistered outside cloudknot refuses its maps saying to create it again, and Knot.create with its function registers a new revision, keeping its runs",
  (beds) => deregisteredOutside(beds),
);

dockerTest(
  "a knot whose job queue, compute environment or job definition was deleted outside cloudknot keeps its runs, refuses to map saying how to heal it, and Knot.create with its function makes what is missing again",
  (t) => runKnotBedSteps(t, steps),
);
