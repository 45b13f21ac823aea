// A knot whose job queue, or compute environment and job queue, were deleted
// outside cloudknot (the console, another tool), against the emulator with
// real Docker containers: adopting it by name keeps its record and its runs
// (their results read, gc finds no garbage in them), running anything is
// refused saying what is gone and how to make it again, and Knot.create with
// the function makes the missing pieces again under the record's names,
// checking every option before it changes anything.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot, ResourceDoesNotExistError } from "../../../mod.ts";
import { findGarbage } from "../../../src/resources/mod.ts";
import { StateFile } from "../../../src/state/mod.ts";
import { deleteBatchEnvironment } from "../../../src/targets/aws/batch/mod.ts";
import { inCliWords } from "../../../src/cli/common/cli_words.ts";
import { CloudknotInputError } from "../../../src/util/errors.ts";
import { startEmulator } from "../../emulator/mod.ts";
import { sessionFor } from "../../support/aws_session.ts";
import { ensureBaseImage } from "../../support/base_image.ts";
import { dockerTest } from "../../support/docker_available.ts";

function square(x: number): number {
  return x * x;
}

/**
 * Makes knot `name` and runs it once, deletes `what` of it behind cloudknot's
 * back, then checks adoption, the refusal, a refused heal and a heal.
 */
async function deletedOutside(name: string, what: "queue" | "queue and environment") {
  const emu = await startEmulator({ runner: "docker", ceValidDelayMs: 30 });
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-heal-" });
  try {
    const session = await sessionFor(emu);
    const state = new StateFile({ path: join(dir, "cloudknot") });
    const common = {
      name,
      target: "aws" as const,
      session,
      state,
      cloudknotDir: join(dir, "home"),
      pollInterval: 100,
    };
    const baseImage = await ensureBaseImage();
    const knot = await Knot.create({ ...common, func: square, baseImage, memory: 512 });
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
        ? new RegExp(`its job queue ${jobQueue} no longer exists \\(deleted outside cloudknot\\)`)
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
    // Adopting a knot tags its ECR repository (as every adoption does); nothing else changes.
    assert.deepEqual(
      emu.mutatingRequests().map((r) => `${r.service} ${r.operation}`),
      ["ecr TagResource"],
      "adoption, reading and refusals change nothing of the knot",
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

    // Knot.create with the function makes what is missing again, under the
    // same names, and keeps the knot's runs: old and new are both listed.
    const healed = await Knot.create({ ...common, func: square, baseImage, memory: 512 });
    assert.equal(healed.aws!.jobQueue, jobQueue);
    assert.equal(healed.aws!.computeEnvironment, computeEnvironment);
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
    await healed.clobber();
  } finally {
    await emu.close();
    await Deno.remove(dir, { recursive: true });
  }
}

dockerTest(
  "a knot whose job queue was deleted outside cloudknot keeps its runs, refuses to map, and Knot.create with its function makes the queue again",
  () => deletedOutside("lostqueue", "queue"),
);

dockerTest(
  "a knot whose compute environment and job queue were deleted outside cloudknot keeps its runs, refuses to map, and Knot.create with its function makes them again",
  () => deletedOutside("lostce", "queue and environment"),
);
