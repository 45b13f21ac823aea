// AWS Batch's fixed quotas, checked before anything is made: a knot's job definition over
// 24 KiB, a run's SubmitJob requests over 30 KiB, and an account that has 50 compute
// environments or 50 job queues already (and, when another process took the last room
// meanwhile, AWS's refusal worded the same way). No image is built and no job runs.
import assert from "node:assert/strict";
import { CannotCreateResourceError, CloudknotInputError, Knot } from "../../../../mod.ts";
import { AwsError } from "../../../../src/aws/mod.ts";
import type { AwsSession } from "../../../../src/aws/mod.ts";
import {
  BATCH_QUOTAS,
  BatchQuotaError,
  ensureComputeEnvironment,
  ensureJobQueue,
  registerJobDefinition,
  validateComputeOptions,
} from "../../../../src/targets/aws/batch/mod.ts";
import { refuseFullAccount } from "../../../../src/targets/aws/batch/quotas.ts";
import { inCliWords } from "../../../../src/cli/common/cli_words.ts";
import { encodeItems } from "../../../../src/job/codec.ts";
import type { Emulator } from "../../../emulator/mod.ts";
import { withEmulator } from "../../../resources/helpers.ts";
import { rejects } from "../../../support/rejects.ts";
import { job, startTestBed, writeMendedKnot } from "../helpers.ts";

/** Makes `count` Fargate compute environments `fill-<n>` through the API. */
async function fillComputeEnvironments(emu: Emulator, session: AwsSession, count: number) {
  const subnets = [...emu.ec2.subnets.keys()].slice(0, 1);
  for (let i = 0; i < count; i++) {
    await session.batch.createComputeEnvironment({
      computeEnvironmentName: `fill-${i}`,
      type: "MANAGED",
      computeResources: { type: "FARGATE", maxvCpus: 1, subnets },
    });
  }
}

/** Makes `count` job queues `fill-q-<n>` on compute environment `fill-0`, once it is VALID. */
async function fillJobQueues(emu: Emulator, session: AwsSession, count: number) {
  while (emu.batch.computeEnvironments.get("fill-0")?.status !== "VALID") {
    await new Promise((r) => setTimeout(r, 10));
  }
  for (let i = 0; i < count; i++) {
    await session.batch.createJobQueue({
      jobQueueName: `fill-q-${i}`,
      priority: 1,
      computeEnvironmentOrder: [{ order: 1, computeEnvironment: "fill-0" }],
    });
  }
}

/** No rate limit: the tests fill the account with a hundred creates in a row. */
const FILL = { batchTps: 0, ceValidDelayMs: 5 };

Deno.test("Knot.create refuses permissions that make its job definition pass AWS Batch's 24 KiB before any AWS request that changes anything, saying its size, the limit and what to do", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const read = Array.from({ length: 1200 }, (_, i) => `/data/plates/plate-${i}.csv`);
    const options = {
      name: "wide",
      target: "aws" as const,
      func: (x: number) => x,
      compute: "FARGATE" as const,
      permissions: { read },
      session,
      state,
    };
    const e = await rejects(Knot.create(options), CloudknotInputError);
    assert.equal(e.field, "permissions");
    assert.match(
      e.message,
      /^The knot's job definition would be (\d\d,\d{3}) bytes as RegisterJobDefinition sends it, more than the 24,576 bytes \(24 KiB\) AWS Batch takes .*its permissions take (\d\d,\d{3}) bytes of it and its tags \d+ bytes: grant the directories that hold the files instead of each file, or a kind whole \(read: true\).* the files option of Knot\.create$/,
    );
    // Its dry run refuses it alike.
    const planned = await rejects(Knot.create({ ...options, dryRun: true }), CloudknotInputError);
    assert.equal(planned.message, e.message);
    assert.deepEqual(emu.mutatingRequests(), []);
    assert.equal(await state.section("knot wide"), undefined);
    // In a command-line user's words: the flags that set them.
    const cli = inCliWords(e);
    assert.match(cli, /its --allow lists take [\d,]+ bytes of it and its --tag values /);
    assert.match(cli, /or a kind whole \(--allow read\), pass fewer or shorter --tag values/);
    assert.match(cli, /or to a file shipped with --file$/);
  });
});

Deno.test("the dry run of a heal refuses permissions that make the job definition it would register pass 24 KiB, as the heal refuses them, before any AWS request that changes anything", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    // Knot "mended" whose compute environment, queue, job definition and Pars were all deleted
    // outside cloudknot: its record is left, with its bucket and runs, and given its function
    // again the knot would be made again under the record's names.
    await writeMendedKnot(emu, session, state);
    const read = Array.from({ length: 1200 }, (_, i) => `/data/plates/plate-${i}.csv`);
    const options = {
      name: "mended",
      target: "aws" as const,
      func: (x: number) => x,
      permissions: { read },
      session,
      state,
      warn: () => {},
    };
    emu.requests.clear();
    const planned = await rejects(Knot.create({ ...options, dryRun: true }), CloudknotInputError);
    assert.equal(planned.field, "permissions");
    assert.match(planned.message, /^The knot's job definition would be \d\d,\d{3} bytes as /);
    assert.deepEqual(emu.mutatingRequests(), []);
    // The heal refuses it in the same words, also having changed nothing.
    const healed = await rejects(Knot.create(options), CloudknotInputError);
    assert.equal(planned.message, healed.message);
    assert.deepEqual(emu.mutatingRequests(), []);
    // Without them, the dry run says what the heal would make again.
    const plan = await Knot.create({ ...options, permissions: { read: ["/data"] }, dryRun: true });
    assert.equal(plan.find("job definition")?.action, "create");
    assert.deepEqual(emu.mutatingRequests(), []);
  });
});

Deno.test("Knot.create refuses tags that make its job definition pass 24 KiB in bytes, though each has at most 256 characters", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    // 45 tags of 256 characters of three bytes each in UTF-8 (a letter, as IAM's tags take).
    const tags = Object.fromEntries(
      Array.from({ length: 45 }, (_, i) => [`lab-${i}`, "中".repeat(256)]),
    );
    const e = await rejects(
      Knot.create({ name: "tagged", target: "aws", func: (x: number) => x, tags, session, state }),
      CloudknotInputError,
    );
    assert.equal(e.field, "tags");
    assert.match(e.message, /its permissions take 0 bytes of it and its tags 3\d,\d{3} bytes/);
    assert.deepEqual(emu.mutatingRequests(), []);
  });
});

Deno.test("registerJobDefinition refuses a definition over 24 KiB without sending it", async () => {
  await withEmulator(async ({ emu, session }) => {
    const e = await rejects(
      registerJobDefinition(session, {
        name: "big-jd",
        image: "busybox",
        compute: validateComputeOptions({ compute: "FARGATE" }),
        placement: { jobRole: "arn:aws:iam::123456789012:role/r", taskExecutionRole: "x" },
        environment: { CLOUDKNOT_PERMISSIONS: JSON.stringify({ read: ["x".repeat(25_000)] }) },
        tags: {},
      }),
      CloudknotInputError,
    );
    assert.equal(e.field, "permissions");
    assert.deepEqual(emu.requests.filter({ service: "batch" }), []);
  });
});

Deno.test("a Knot.create in an account that has 50 compute environments is refused before anything is made, with the count and what to do", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    await fillComputeEnvironments(emu, session, BATCH_QUOTAS.computeEnvironments);
    emu.requests.clear();
    const e = await rejects(
      Knot.create({ name: "full", target: "aws", func: (x: number) => x, session, state }),
      BatchQuotaError,
    );
    assert.ok(e instanceof CannotCreateResourceError);
    assert.deepEqual([e.resource, e.count, e.limit], ["compute environment", 50, 50]);
    assert.equal(
      e.message,
      "The account has 50 AWS Batch compute environments in us-east-1, and AWS Batch allows 50 " +
        "per account and region (a fixed quota AWS does not raise), so compute environment " +
        "full-ck-ce cannot be made: list your knots with `knot list` and clobber those no " +
        'longer used ((await Knot.create({ name: "NAME", target: "aws" })).clobber()), delete ' +
        "what failed creates left with `cloudknot gc` (findGarbage and deleteGarbage) and the " +
        "compute environments made outside cloudknot that you no longer need, then create the " +
        "knot again",
    );
    const planned = await rejects(
      Knot.create({
        name: "full",
        target: "aws",
        func: (x: number) => x,
        session,
        state,
        dryRun: true,
      }),
      BatchQuotaError,
    );
    assert.equal(planned.message, e.message);
    assert.deepEqual(emu.mutatingRequests(), []);
    assert.equal(await state.section("knot full"), undefined);
    assert.match(
      inCliWords(e),
      /list your knots with `cloudknot knot list` and clobber those no longer used \(cloudknot knot clobber NAME --target aws\)/,
    );
  }, FILL);
});

Deno.test("a Knot.create in an account that has 50 job queues is refused before anything is made", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    await fillComputeEnvironments(emu, session, 1);
    await fillJobQueues(emu, session, BATCH_QUOTAS.jobQueues);
    emu.requests.clear();
    const e = await rejects(
      Knot.create({ name: "queued", target: "aws", func: (x: number) => x, session, state }),
      BatchQuotaError,
    );
    assert.deepEqual([e.resource, e.count], ["job queue", 50]);
    assert.match(
      e.message,
      /^The account has 50 AWS Batch job queues in us-east-1, .*job queue queued-ck-jq cannot be made/,
    );
    assert.deepEqual(emu.mutatingRequests(), []);
  }, FILL);
});

Deno.test("an account full of compute environments takes none more for a knot whose own exists already", async () => {
  await withEmulator(async ({ emu, session }) => {
    await fillComputeEnvironments(emu, session, BATCH_QUOTAS.computeEnvironments);
    await refuseFullAccount(session, { computeEnvironment: "fill-7" });
    await rejects(refuseFullAccount(session, { computeEnvironment: "fill-50" }), BatchQuotaError);
  }, FILL);
});

Deno.test("a compute environment or queue AWS refuses because another process filled the account meanwhile is the same BatchQuotaError, with AWS's refusal as its cause", async () => {
  await withEmulator(async ({ emu, session }) => {
    await fillComputeEnvironments(emu, session, BATCH_QUOTAS.computeEnvironments);
    await fillJobQueues(emu, session, BATCH_QUOTAS.jobQueues);
    const compute = validateComputeOptions({ compute: "FARGATE" });
    const placement = {
      ecsInstanceProfile: "",
      jobRole: "",
      subnets: [...emu.ec2.subnets.keys()].slice(0, 1),
      securityGroup: "sg-1",
    };
    const ce = await rejects(
      ensureComputeEnvironment(session, { name: "late-ck-ce", compute, placement, tags: {} }),
      BatchQuotaError,
    );
    assert.ok(ce.cause instanceof AwsError && ce.cause.code === "ClientException");
    assert.equal(
      ce.message,
      new BatchQuotaError({
        resource: "compute environment",
        name: "late-ck-ce",
        count: 50,
        region: session.region,
      }).message,
    );
    const queue = await rejects(
      ensureJobQueue(session, {
        name: "late-ck-jq",
        priority: 1,
        computeEnvironment: "fill-0",
        tags: {},
      }),
      BatchQuotaError,
    );
    assert.deepEqual([queue.resource, queue.count], ["job queue", 50]);
    assert.ok(queue.cause instanceof AwsError);
    assert.ok(!emu.batch.computeEnvironments.has("late-ck-ce"));
    assert.ok(!emu.batch.jobQueues.has("late-ck-jq"));
  }, FILL);
});

Deno.test("a map whose SubmitJob requests would pass AWS Batch's 30 KiB is refused before its inputs are read or anything is written", async () => {
  const bed = await startTestBed(job);
  try {
    // 48 tags of 256 characters on every job (with its 2 own, the 50 AWS allows), and an env
    // within what a job's overrides take in characters (6,144), but of three bytes each.
    const tags = Object.fromEntries(
      Array.from({ length: 48 }, (_, i) => [`lab-${i}`, "t".repeat(256)]),
    );
    const target = bed.target({ tags });
    const env = { NOTE: "€".repeat(6000) };
    let read = 0;
    const items = (async function* () {
      read++;
      yield encodeItems([1, 2, 3]);
    })();
    bed.emu.requests.clear();
    const e = await rejects(target.map({ items, starmap: false, env }), CloudknotInputError);
    assert.equal(e.field, "env");
    assert.match(
      e.message,
      /^Each job of the run would be up to 3\d,\d{3} bytes as SubmitJob sends it, more than the 30,720 bytes \(30 KiB\) AWS Batch takes .*its env takes 18,0\d\d bytes of it, the retry's permissions 0 bytes and its tags 1\d,\d{3} bytes: pass large settings in the items/,
    );
    assert.equal(read, 0);
    assert.deepEqual(bed.emu.mutatingRequests(), []);
    // Within the quota, the same tags and a shorter env run.
    const run = await target.map({
      items: encodeItems([1, 2]),
      starmap: false,
      env: { NOTE: "€".repeat(2000) },
    });
    assert.deepEqual(await run.results(), [1, 4]);
  } finally {
    await bed.close();
  }
});
