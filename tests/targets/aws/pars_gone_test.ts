// A knot whose Pars is gone while the knot's record stays, against the
// emulator with real Docker containers: the Pars' record removed from the
// config file (by hand), the Pars clobbered with force (record and roles
// gone), or its roles deleted outside cloudknot (record kept). Adopting the
// knot by name changes nothing and reads its runs; running anything is
// refused, saying which Pars is gone and how to heal; Knot.create with the
// function makes the Pars again under its name, with its policies, and the
// knot runs again.
import assert from "node:assert/strict";
import { CloudknotInputError, Knot, Pars, ResourceDoesNotExistError } from "../../../mod.ts";
import { findGarbage, prune } from "../../../src/resources/mod.ts";
import { StateFile } from "../../../src/state/mod.ts";
import { deleteRole } from "../../../src/resources/_iam_roles.ts";
import { inCliWords } from "../../../src/cli/common/cli_words.ts";
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
import { parsReads } from "../../support/pars_reads.ts";

function square(x: number): number {
  return x * x;
}

const POLICY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";

/**
 * Makes knot `name` with a Pars of its own (with a policy) and runs it once,
 * makes its Pars gone `how`, then checks adoption, the refusal and the heal.
 */
async function parsGone(
  on: KnotBeds,
  name: string,
  how: "record" | "clobbered" | "roles",
  then: "heal" | "clobber" | "clobber an old knot" = "heal",
) {
  await withKnotBed(name, async ({ emu, session, state, common, baseImage }) => {
    const knot = await Knot.create({
      ...common,
      func: square,
      baseImage,
      memory: 512,
      retries: 2,
      parsPolicies: ["AmazonS3ReadOnlyAccess"],
    });
    const parsName = knot.aws!.pars!.name;
    // Each role, the instance profile and the security group are read twice: by the
    // knot's owner check before its image is built, and once by Pars.create after the
    // build, whose owner check and make share that read, so it makes what exists then.
    const twice = {
      ...Object.fromEntries(
        ["batch-service", "ecs-instance", "spot-fleet", "task-exec", "job"]
          .map((role) => [`GetRole ${parsName}-${role}-role`, 2]),
      ),
      GetInstanceProfile: 2,
      DescribeSecurityGroups: 2,
      DescribeVpcs: 2,
    };
    assert.deepEqual(parsReads(emu, parsName, { until: "CreateComputeEnvironment" }), twice);
    const executionRole = knot.aws!.pars!.taskExecutionRole;
    const first = await knot.map([1, 2, 3], { progress: false });
    assert.deepEqual(await first.results(), [1, 4, 9]);

    const section = `pars ${parsName}`;
    // A knot made before knots had their own job role: its jobs use the Pars'.
    const parsJobRole = knot.aws!.pars!.jobRole;
    if (then === "clobber an old knot") await state.set(`knot ${name}`, "job-role", parsJobRole);
    if (how === "record") {
      await state.remove(section);
    } else if (how === "clobbered") {
      // The knot's compute environment holds the Pars' security group: the
      // clobber deletes the knot's queue and compute environment first, and
      // then the whole Pars, without waiting for its timeout.
      const warnings: string[] = [];
      await (await Pars.create({ name: parsName, session, state })).clobber({
        force: true,
        pollMs: 20,
        warn: (m) => warnings.push(m),
      });
      assert.equal(emu.batch.computeEnvironments.has(`${name}-ck-ce`), false);
      assert.equal(emu.iam.findRole(executionRole), undefined);
      // It says which knots it leaves without a Pars, and how to heal them.
      assert.match(
        warnings.join("\n"),
        new RegExp(
          `knot ${name} now uses a Pars that is gone: its runs can still be read; to run it ` +
            `again, Knot\\.create\\(\\{ name: "${name}", func \\}\\)`,
        ),
      );
    } else {
      // The Pars' execution role, and the knot's own job role made from the Pars.
      await deleteRole(session.iam, executionRole.split("/").pop()!);
      await deleteRole(session.iam, knot.aws!.jobRole.split("/").pop()!);
    }
    const hasRecord = await state.section(section) !== undefined;
    assert.equal(hasRecord, how === "roles");
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
    else if (how === "clobbered") {
      assert.ok(refused.missing.includes(section), String(refused.missing));
    } else assert.ok(refused.missing.includes(executionRole), String(refused.missing));
    if (how === "roles") {
      assert.ok(refused.missing.includes(knot.aws!.jobRole), String(refused.missing));
      assert.match(
        refused.message,
        new RegExp(`its job role ${knot.aws!.jobRole} no longer exists`),
      );
    }
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

    if (then !== "heal") {
      // Its clobber deletes what is left of the knot, and says its Pars was gone already.
      const warnings: string[] = [];
      const broken = await Knot.create({ ...common, warn: (m) => warnings.push(m) });
      await broken.clobber({ pars: true });
      assert.equal(await state.section(`knot ${name}`), undefined);
      assert.equal(emu.batch.computeEnvironments.has(`${name}-ck-ce`), false);
      if (then === "clobber") {
        assert.equal(emu.iam.findRole(knot.aws!.jobRole), undefined);
        assert.deepEqual(
          (await findGarbage({ session, state })).filter((g) => g.owner === `knot ${name}`),
          [],
        );
      } else {
        // The Pars' job role is the Pars', not the knot's: it stays.
        assert.notEqual(emu.iam.findRole(parsJobRole), undefined);
      }
      assert.match(warnings.join("\n"), new RegExp(`Pars ${parsName} of knot ${name} was gone`));
      return;
    }

    if (how === "roles") {
      // Its Pars' record stays, so the heal makes the Pars again with the
      // record's policies: other parsPolicies are refused before anything is made.
      emu.requests.clear();
      const other = await Knot.create({
        ...common,
        func: square,
        baseImage,
        parsPolicies: ["AmazonS3FullAccess"],
      }).then(() => undefined, (e) => e);
      assert.ok(other instanceof CloudknotInputError, String(other));
      assert.equal(other.field, "parsPolicies");
      assert.match(
        other.message,
        new RegExp(
          `^Knot ${name} heals with its Pars ${parsName} as the Pars' record says, with policies ` +
            `\\["${POLICY}"\\], but parsPolicies \\["AmazonS3FullAccess"\\] was passed; leave ` +
            `parsPolicies out to heal it`,
        ),
      );
      assert.deepEqual(emu.mutatingRequests(), [], "the refusal makes nothing");
    }

    // A dry run says what the heal would make, and makes nothing.
    emu.requests.clear();
    const plan = await Knot.create({ ...common, func: square, baseImage, dryRun: true });
    assert.equal(plan.find("Pars")?.action, "create");
    assert.match(plan.notes.join("\n"), new RegExp(`the Pars ${parsName} it uses is gone`));
    assert.deepEqual(emu.mutatingRequests(), []);

    // Given the function again, the knot heals: its Pars is made again
    // under its name with its policy, its runs are kept, and it runs.
    emu.requests.clear();
    const healed = await Knot.create({
      ...common,
      func: square,
      baseImage,
      memory: 512,
      // The record's policies, by name, are the same policies.
      ...(how === "roles" ? { parsPolicies: ["AmazonS3ReadOnlyAccess"] } : {}),
    });
    assert.equal(healed.aws!.pars!.name, parsName);
    // Read as a create reads them: the owner check before the build takes what opening
    // the knot read of a Pars partly gone, and the heal of the Pars reads them after it.
    assert.deepEqual(parsReads(emu, parsName, { until: "CreateComputeEnvironment" }), twice);
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

    if (how === "roles") {
      // A role deleted outside cloudknot (its security group, which the knot's compute
      // environment holds, too in pars_test.ts): Pars.create makes it again under the Pars'
      // record, and the knot runs with it.
      const kept = Object.fromEntries((await state.section(section))!);
      await deleteRole(session.iam, executionRole.split("/").pop()!);
      emu.requests.clear();
      const whole = await Pars.create({ name: parsName, session, state });
      assert.equal(whole.taskExecutionRole, executionRole);
      // The read that finds the role gone is the one the heal makes it again from.
      assert.deepEqual(
        parsReads(emu, parsName),
        Object.fromEntries(Object.entries(twice).map(([read]) => [read, 1])),
      );
      assert.deepEqual(Object.fromEntries((await state.section(section))!), kept);
      const third = await healed.map([6], { progress: false });
      assert.deepEqual(await third.results(), [36]);
    }

    if (how === "roles") {
      // A Pars clobber killed part-way leaves the Pars partly gone, with its
      // record: the knot's clobber with its Pars finishes it from the record.
      const created = (await state.get(section, "created"))!.split(" ");
      await deleteRole(session.iam, executionRole.split("/").pop()!);
      const warnings: string[] = [];
      const opened = await Knot.create({ ...common, warn: (m) => warnings.push(m) });
      await opened.clobber({ pars: true });
      assert.equal(await state.section(section), undefined);
      const ids = created.map((c) => c.slice(c.indexOf(":") + 1));
      assert.deepEqual(emu.listResources().filter((r) => ids.includes(r.id)), []);
      assert.match(
        warnings.join("\n"),
        new RegExp(
          `Pars ${parsName} was partly gone already \\(role:${executionRole.split("/").pop()}\\)`,
        ),
      );
    }
  }, { beds: on });
}

step(
  "a knot whose Pars record was removed from the config file reads its runs without making anything, refuses to map, and Knot.create with its function makes the Pars again",
  (beds) => parsGone(beds, "norecord", "record"),
);

step(
  "a knot whose Pars was clobbered with force reads its runs without making anything, refuses to map, and Knot.create with its function makes the Pars again",
  (beds) => parsGone(beds, "clobbered", "clobbered"),
);

step(
  "a knot whose Pars' roles were deleted outside cloudknot reads its runs without removing the Pars record, refuses to map, Knot.create with its function makes the roles again, and its clobber with the Pars finishes a Pars partly gone",
  (beds) => parsGone(beds, "noroles", "roles"),
);

step(
  "a knot whose Pars record was removed from the config file is clobbered whole, saying its Pars was gone already",
  (beds) => parsGone(beds, "noparsclobber", "record", "clobber"),
);

step(
  "clobbering a knot made before knots had their own job role, whose Pars record is gone, leaves the Pars' job role alone",
  (beds) => parsGone(beds, "oldknot", "record", "clobber an old knot"),
);

step(
  "on the command line, pars clobber --force says which knots it leaves without a Pars and how to heal them, map refuses in command-line words, and knot create makes the Pars again",
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
      const make = ["map", JOBS, "failOdd", "--name", "podd", ...shape, "--retries", "1"];
      const first = await cliHere(home, make, { stdin: "[1, 2]", env });
      assert.equal(first.code, 1, first.stderr);
      const runId = /^knot podd · run (\S+) · 2 items \(aws\)$/m.exec(first.stderr)?.[1];
      assert.ok(runId, first.stderr);
      const state = new StateFile({ path: home.configFile });
      const pars = (await state.get("knot podd", "pars"))!;

      const clobbered = await cliHere(home, ["pars", "clobber", pars, "--force", "--yes"]);
      assert.equal(clobbered.code, 0, clobbered.stderr);
      assert.match(
        clobbered.stderr,
        new RegExp(
          `knot podd now uses a Pars that is gone: its runs can still be read; to run it again, ` +
            `cloudknot knot create podd MODULE EXPORT --target aws and the knot's options make ` +
            `Pars ${pars} again and keep its runs; to be done with it, run cloudknot knot ` +
            `clobber podd --target aws: that deletes what is left of it`,
        ),
      );

      // Its results and the knot read and change nothing; map and retry are
      // refused before anything is submitted.
      home.emu.requests.clear();
      const results = await cliHere(home, ["results", "podd", runId]);
      assert.equal(results.code, 1, results.stderr);
      assert.equal(ndjson(results.stdout)[1]!.value, 2);
      const shown = await cliHere(home, ["knot", "show", "podd", "--target", "aws"]);
      assert.equal(shown.code, 0, shown.stderr);
      const retried = await cliHere(home, ["retry", "podd", runId]);
      assert.equal(retried.code, 1, retried.stderr);
      assert.match(retried.stderr, new RegExp(`Knot podd cannot run anything: the Pars ${pars}`));
      const mapped = await cliHere(home, ["map", "--name", "podd"], { stdin: "[2]", env });
      assert.equal(mapped.code, 1, mapped.stderr);
      assert.match(
        mapped.stderr,
        new RegExp(
          `Knot podd cannot run anything: the Pars ${pars} it uses is gone: the config file has ` +
            `no \\[pars ${pars}\\] record any more \\(removed when the Pars was clobbered with ` +
            `cloudknot pars clobber --force, or by hand\\); and its compute environment ` +
            `\\S+/podd-ck-ce and its job queue \\S+/podd-ck-jq no longer exist .*\\. Its runs are ` +
            `kept and can still be ` +
            `read\\. To run again, make what is missing again with cloudknot knot create podd ` +
            `MODULE EXPORT --target aws and the knot's options: it keeps the knot's names and ` +
            `runs, and makes Pars ${pars} again under its name\\.`,
        ),
      );
      assert.deepEqual(
        home.emu.mutatingRequests().filter((r) => r.service !== "ecr").map((r) =>
          `${r.service} ${r.operation}`
        ),
        [],
      );

      // knot create heals it: the Pars is back under its name, and map runs.
      const healed = await cliHere(home, ["knot", "create", "podd", JOBS, "failOdd", ...shape], {
        env,
      });
      assert.equal(healed.code, 0, healed.stderr);
      assert.notEqual(await state.section(`pars ${pars}`), undefined);
      const second = await cliHere(home, ["map", "--name", "podd"], { stdin: "[4]", env });
      assert.equal(second.code, 0, second.stderr);
      assert.equal(second.stdout, '{"index":0,"value":4}\n');
      assert.equal((await state.get("knot podd", "runs"))?.split(" ")[0], runId);
    });
  },
);

dockerTest(
  "a knot whose Pars is gone while its own record stays reads its runs without making anything and refuses to map; Knot.create with its function makes the Pars again, and its clobber deletes what is left",
  (t) => runKnotBedSteps(t, steps),
);
