// A knot whose Pars is gone while the knot's record stays, against the
// emulator with real Docker containers: the Pars' record removed from the
// config file (by hand), the Pars clobbered with force (record and roles
// gone), or its roles deleted outside cloudknot (record kept). Adopting the
// knot by name changes nothing and reads its runs; running anything is
// refused, saying which Pars is gone and how to heal; Knot.create with the
// function makes the Pars again under its name, with its policies, and the
// knot runs again.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot, Pars, ResourceDoesNotExistError } from "../../../mod.ts";
import { prune } from "../../../src/resources/mod.ts";
import { StateFile } from "../../../src/state/mod.ts";
import { deleteRole } from "../../../src/resources/_iam_roles.ts";
import { inCliWords } from "../../../src/cli/common/cli_words.ts";
import { startEmulator } from "../../emulator/mod.ts";
import { sessionFor } from "../../support/aws_session.ts";
import { ensureBaseImage } from "../../support/base_image.ts";
import { dockerTest } from "../../support/docker_available.ts";

function square(x: number): number {
  return x * x;
}

const POLICY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";

/**
 * Makes knot `name` with a Pars of its own (with a policy) and runs it once,
 * makes its Pars gone `how`, then checks adoption, the refusal and the heal.
 */
async function parsGone(name: string, how: "record" | "clobbered" | "roles") {
  const emu = await startEmulator({ runner: "docker", ceValidDelayMs: 30 });
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-pars-gone-" });
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
    const knot = await Knot.create({
      ...common,
      func: square,
      baseImage,
      memory: 512,
      retries: 2,
      parsPolicies: ["AmazonS3ReadOnlyAccess"],
    });
    const parsName = knot.aws!.pars!.name;
    const executionRole = knot.aws!.pars!.taskExecutionRole;
    const first = await knot.map([1, 2, 3], { progress: false });
    assert.deepEqual(await first.results(), [1, 4, 9]);

    const section = `pars ${parsName}`;
    if (how === "record") {
      await state.remove(section);
    } else if (how === "clobbered") {
      // The knot's compute environment holds the Pars' security group, so
      // the clobber deletes the roles and gives up on the network.
      const warnings: string[] = [];
      await (await Pars.create({ name: parsName, session, state })).clobber({
        force: true,
        pollMs: 20,
        timeoutMs: 200,
        warn: (m) => warnings.push(m),
      }).catch(() => {});
      // It says which knots it leaves without a Pars, and how to heal them.
      assert.match(
        warnings.join("\n"),
        new RegExp(
          `knot ${name} now uses a Pars that is gone: its runs can still be read; to run it ` +
            `again, Knot\\.create\\(\\{ name: "${name}", func \\}\\)`,
        ),
      );
    } else {
      await deleteRole(session.iam, executionRole.split("/").pop()!);
    }
    const hasRecord = await state.section(section) !== undefined;
    assert.equal(hasRecord, how !== "record");
    emu.requests.clear();

    // Adopted by name: nothing is made, the record and its runs are kept, the old run reads.
    const adopted = await Knot.create({ ...common, warn: () => {} });
    assert.equal(adopted.aws!.pars, undefined);
    assert.equal((await state.section(`knot ${name}`))?.get("runs"), first.runId);
    assert.deepEqual(await (await adopted.collect(first.runId)).results(), [1, 4, 9]);
    assert.deepEqual(
      emu.mutatingRequests().filter((r) => r.service !== "ecr").map((r) =>
        `${r.service} ${r.operation}`
      ),
      [],
      "adopting and reading make nothing",
    );
    assert.equal(
      await state.section(section) !== undefined,
      hasRecord,
      "a Pars record is neither made nor removed by adopting the knot",
    );

    // Running anything is refused before anything is submitted.
    const refused = await adopted.map([4], { progress: false }).then(() => undefined, (e) => e);
    assert.ok(refused instanceof ResourceDoesNotExistError, String(refused));
    if (how === "record") assert.deepEqual(refused.missing, [section]);
    else assert.ok(refused.missing.includes(executionRole), String(refused.missing));
    assert.match(
      refused.message,
      new RegExp(`^Knot ${name} cannot run anything: the Pars ${parsName} it uses is gone`),
    );
    assert.match(refused.message, /Its runs are kept and can still be read/);
    assert.match(refused.message, new RegExp(`Knot\\.create\\(\\{ name: "${name}", func \\}\\)`));
    assert.match(refused.message, new RegExp(`makes Pars ${parsName} again`));
    assert.match(
      inCliWords(refused),
      new RegExp(`with cloudknot knot create ${name} MODULE EXPORT --target aws and the knot's`),
    );
    assert.deepEqual(
      emu.mutatingRequests().filter((r) => r.service !== "ecr"),
      [],
      "the refusal submits nothing",
    );

    // prune keeps the knot for its runs, and says how to heal it.
    const pruned = await prune({
      session,
      state,
      dryRun: true,
      imageExists: () => Promise.resolve(true),
    });
    const kept = pruned.skipped.find((s) => s.section === `knot ${name}`);
    assert.ok(kept, JSON.stringify(pruned));
    assert.match(kept.reason, new RegExp(`Pars ${parsName}`));
    assert.match(kept.reason, /create the knot again with its function to heal it/);

    // Given the function again, the knot heals: its Pars is made again
    // under its name with its policy, its runs are kept, and it runs.
    const healed = await Knot.create({ ...common, func: square, baseImage, memory: 512 });
    assert.equal(healed.aws!.pars!.name, parsName);
    assert.deepEqual([...healed.aws!.pars!.policies], [POLICY]);
    assert.equal((await state.section(section))?.get("policies"), POLICY);
    assert.equal(await state.get(`knot ${name}`, "retries"), "2");
    const second = await healed.map([4, 5], { progress: false });
    assert.deepEqual(await second.results(), [16, 25]);
    assert.deepEqual(
      (await healed.runs()).map((r) => r.runId).sort(),
      [first.runId, second.runId].sort(),
    );
    assert.deepEqual(await (await healed.collect(first.runId)).results(), [1, 4, 9]);
  } finally {
    await emu.close();
    await Deno.remove(dir, { recursive: true });
  }
}

dockerTest(
  "a knot whose Pars record was removed from the config file reads its runs without making anything, refuses to map, and Knot.create with its function makes the Pars again",
  () => parsGone("norecord", "record"),
);

dockerTest(
  "a knot whose Pars was clobbered with force reads its runs without making anything, refuses to map, and Knot.create with its function makes the Pars again",
  () => parsGone("clobbered", "clobbered"),
);

dockerTest(
  "a knot whose Pars' roles were deleted outside cloudknot reads its runs without removing the Pars record, refuses to map, and Knot.create with its function makes the roles again",
  () => parsGone("noroles", "roles"),
);
