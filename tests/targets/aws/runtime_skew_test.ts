// A knot whose image runs the job runtime of another cloudknot version (made
// before runtime protocols, or with another protocol), against the emulator
// with real containers: given its own function, Knot.create updates it (its
// image rebuilt, a new job definition revision, a warning that says why), and
// a run made before retries on the rebuilt revision, unless the update
// changed its options too; a map by name alone, and such a refused retry, are
// refused before any mutating request, saying what to do; a knot whose
// revision runs this version's runtime is adopted as it is; and a dockerImage
// built by another version is refused before anything is pushed.
import assert from "node:assert/strict";
import { join } from "node:path";
import { DockerImage, Knot, type MapRun } from "../../../mod.ts";
import { Docker } from "../../../src/docker/docker.ts";
import { CloudknotInputError } from "../../../src/util/errors.ts";
import { REBUILT_FROM_TAG, RuntimeMismatchError } from "../../../src/targets/aws/batch/mod.ts";
import { readAwsKnot, writeAwsKnot } from "../../../src/targets/aws/catalog.ts";
import { functionChange } from "../../../src/targets/aws/aws_knot.ts";
import {
  RUNTIME_PROTOCOL,
  RUNTIME_PROTOCOL_LABEL,
  RUNTIME_PROTOCOL_TAG,
  runtimeProtocolWords,
} from "../../../src/job/runtime_protocol.ts";
import type { Emulator } from "../../emulator/mod.ts";
import { cliInProcess } from "../../support/cli_in_process.ts";
import { dockerTest } from "../../support/docker_available.ts";
import {
  type KnotBed,
  type KnotBedStep,
  outcomes,
  runKnotBedSteps,
  withFargateKnot,
} from "./helpers.ts";

/**
 * The tests of this file, each a step of its one test (at the end): their knots share one
 * emulator and config file, so the base image is pushed into its registry once (withKnotBeds).
 */
const steps: KnotBedStep[] = [];
function step(name: string, fn: KnotBedStep[1]): void {
  steps.push([name, fn]);
}

function refuseThree(x: number): number {
  if (x === 3) throw new RangeError("refuses 3");
  return x * x;
}

/**
 * Makes the knot as a cloudknot version from before runtime protocols left
 * it: its job definition revision has no `cloudknot:runtime` tag (UntagResource,
 * as AWS does it), and its record no `runtime-protocol`.
 */
async function asMadeBeforeProtocols(bed: KnotBed, knot: string): Promise<string> {
  const record = (await readAwsKnot(bed.state, knot))!;
  await bed.session.batch.untagResource({
    resourceArn: record.jobDefinition,
    tagKeys: [RUNTIME_PROTOCOL_TAG],
  });
  delete record.runtime;
  await writeAwsKnot(bed.state, record);
  assert.equal((await bed.state.section(`knot ${knot}`))?.get("runtime-protocol"), undefined);
  return record.jobDefinition;
}

/** The mutating requests the emulator logged, as `service operation`. */
function mutations(emu: Emulator): string[] {
  return emu.mutatingRequests().map((e) => `${e.service} ${e.operation}`);
}

/**
 * Maps [2, 3] on a knot (3 fails), makes the knot as a version from before
 * runtime protocols left it, then creates it again with its function and
 * `options`: the run made before, the revision it ran on, the updated knot
 * and the warnings its create gave.
 */
async function runThenUpgrade(
  bed: KnotBed,
  options: { retries?: number } = {},
): Promise<{ first: MapRun<number>; oldRevision: string; updated: Knot; warned: string[] }> {
  const { common } = bed;
  const knot = await Knot.create({ ...common, func: refuseThree, retries: 1 });
  const first = await knot.map([2, 3], { progress: false });
  assert.deepEqual(outcomes(await first.settled()), [4, "RangeError: refuses 3"]);
  const oldRevision = await asMadeBeforeProtocols(bed, common.name);
  const warned: string[] = [];
  const updated = await Knot.create({
    ...common,
    ...options,
    func: refuseThree,
    warn: (m) => warned.push(m),
  });
  assert.equal(updated.aws!.updated, true);
  return { first, oldRevision, updated, warned };
}

step(
  "a knot given its own function while its image runs another version's job runtime is rebuilt under a new revision with a warning, and a run made before retries on that revision",
  async (beds) => {
    await withFargateKnot("skew", async (bed) => {
      const { emu, common } = bed;
      const { first, oldRevision, updated, warned } = await runThenUpgrade(bed);
      assert.equal(updated.aws!.adopted, false);
      assert.match(updated.aws!.jobDefinition, /:2$/);
      assert.notEqual(updated.aws!.jobDefinition, oldRevision);
      assert.deepEqual(warned, [
        `cloudknot: knot ${common.name} was updated: its image ran the job runtime of another ` +
        `cloudknot version (${runtimeProtocolWords(undefined)}; this version's is ` +
        `${runtimeProtocolWords(RUNTIME_PROTOCOL)}), so it was rebuilt with this version's, and ` +
        "the knot now runs its function on it (job definition revision 2); the retries of runs " +
        "made before run on it",
      ]);
      // The new revision and the record say the runtime it runs, and the revision it rebuilt.
      const revision = (emu.batch.jobDefinitions.get(`${common.name}-ck-jd`) ?? [])
        .find((d) => d.revision === 2)!;
      assert.equal(revision.tags[RUNTIME_PROTOCOL_TAG], String(RUNTIME_PROTOCOL));
      assert.equal(revision.tags[REBUILT_FROM_TAG], oldRevision);
      assert.equal((await readAwsKnot(bed.state, common.name))!.runtime, RUNTIME_PROTOCOL);
      assert.deepEqual(await (await updated.map([5], { progress: false })).results(), [25]);

      // The run made before ran on the old revision, whose image runs the other runtime: its
      // retry runs on the revision rebuilt from it, the same function and options.
      const old = await updated.collect(first.runId);
      await old.done;
      emu.requests.clear();
      const retried = await old.retry();
      assert.deepEqual(outcomes(await retried.settled()), [4, "RangeError: refuses 3"]);
      const submitted = emu.requests.entries.filter((e) => e.operation === "SubmitJob");
      assert.equal(submitted.length, 1);
      assert.equal(submitted[0]!.params.jobDefinition, updated.aws!.jobDefinition);

      // Created again with the same function, the knot runs this version's runtime: adopted.
      const again = await Knot.create({ ...common, func: refuseThree });
      assert.equal(again.aws!.adopted, true);
      assert.equal(again.aws!.jobDefinition, updated.aws!.jobDefinition);
    }, { beds });
  },
);

step(
  "a knot rebuilt for another version's job runtime with other options too refuses the retry of a run made before, before any mutating request, with advice",
  async (beds) => {
    await withFargateKnot("skewopts", async (bed) => {
      const { emu, common } = bed;
      const { first, oldRevision, updated, warned } = await runThenUpgrade(bed, { retries: 2 });
      assert.match(
        warned.at(-1)!,
        /runs made before keep their own revision, and their retries are refused/,
      );
      const revision = (emu.batch.jobDefinitions.get(`${common.name}-ck-jd`) ?? [])
        .find((d) => d.revision === 2)!;
      assert.equal(revision.tags[REBUILT_FROM_TAG], undefined);

      // Its retry would run other options: refused before anything is written or submitted.
      const old = await updated.collect(first.runId);
      await old.done;
      emu.requests.clear();
      const refused = await old.retry().then(() => undefined, (e) => e);
      assert.ok(refused instanceof RuntimeMismatchError, String(refused));
      assert.equal(refused.jobDefinition, oldRevision);
      assert.equal(refused.protocol, undefined);
      assert.match(refused.message, new RegExp(`^Run ${first.runId} of knot ${common.name} ran`));
      assert.match(refused.message, /nothing was uploaded or submitted/);
      assert.match(
        refused.message,
        /Map the run's failed items again on knot .* with knot\.map\(\)/,
      );
      assert.deepEqual(mutations(emu), []);

      // The command line's retry is refused as well, in its words.
      const cli = await cliInProcess(
        ["retry", common.name, first.runId],
        { ...emu.env, CLOUDKNOT_CONFIG_FILE: bed.state.path, HOME: join(bed.dir, "home") },
      ).ended;
      assert.notEqual(cli.code, 0);
      assert.match(
        cli.stderr,
        new RegExp(
          `Map the run's failed items again with cloudknot map MODULE EXPORT --name ` +
            `${common.name} --target aws on their inputs`,
        ),
      );
      assert.deepEqual(mutations(emu), []);
    }, { beds });
  },
);

step(
  "a map of a knot adopted by name whose image runs another version's job runtime is refused before any mutating request, saying to create it with its function",
  async (beds) => {
    await withFargateKnot("skewmap", async (bed) => {
      const { emu, common, state, dir } = bed;
      await Knot.create({ ...common, func: refuseThree });
      const revision = await asMadeBeforeProtocols(bed, common.name);

      const adopted = await Knot.create({ ...common });
      assert.equal(adopted.aws!.adopted, true);
      emu.requests.clear();
      const refused = await adopted.map([2], { progress: false }).then(() => undefined, (e) => e);
      assert.ok(refused instanceof RuntimeMismatchError, String(refused));
      assert.equal(refused.jobDefinition, revision);
      assert.equal(
        refused.message,
        `Knot ${common.name}'s image runs the job runtime of another cloudknot version ` +
          `(${runtimeProtocolWords(undefined)}; this version's is ` +
          `${runtimeProtocolWords(RUNTIME_PROTOCOL)}), as its job definition ${revision} says: ` +
          "its jobs would fail or misread their items, so nothing was uploaded or submitted. To " +
          `run it, create the knot with Knot.create({ name: "${common.name}", func }) (or module ` +
          "and exportName): that rebuilds its image with this version's runtime under a new job " +
          "definition revision, and keeps its runs",
      );
      assert.deepEqual(mutations(emu), []);

      // Given its function, a dry run says the image would be built again, and `cloudknot map
      // <module> --name <knot>` keeps the module to update it (its own function, on another
      // runtime); nothing changes.
      const plan = await Knot.create({ ...common, func: refuseThree, dryRun: true });
      assert.equal(plan.find("image")?.action, "build");
      assert.match(plan.notes.join("\n"), /its image rebuilt with this version's job runtime/);
      const record = (await readAwsKnot(state, common.name))!;
      assert.equal((await functionChange({ func: refuseThree }, record, state)).change, "runtime");
      assert.deepEqual(mutations(emu), []);

      // The command line says the command to run, for a dry run too.
      const inputs = join(dir, "inputs.json");
      await Deno.writeTextFile(inputs, "[2]");
      const env = { ...emu.env, CLOUDKNOT_CONFIG_FILE: state.path, HOME: join(dir, "home") };
      // Nothing of the map's is written or submitted, nor is anything of the knot changed.
      for (const flags of [["--dry-run"], []]) {
        const cli = await cliInProcess(
          ["map", "--name", common.name, "--target", "aws", "--inputs", inputs, ...flags],
          env,
        ).ended;
        assert.notEqual(cli.code, 0);
        assert.match(
          cli.stderr,
          new RegExp(`create the knot with cloudknot knot create ${common.name} MODULE EXPORT`),
        );
        assert.deepEqual(mutations(emu), []);
      }
    }, { beds });
  },
);

step(
  "a knot given a dockerImage built by another cloudknot version is refused before anything is pushed or made, saying to build it again",
  async (beds) => {
    await withFargateKnot("skewimg", async ({ emu, session, state, common, dir }) => {
      const image = await DockerImage.create({
        name: common.name,
        func: refuseThree,
        state,
        session,
        cloudknotDir: common.cloudknotDir,
        baseImage: common.baseImage,
      });
      try {
        await image.build({ tags: ["older"] });
        // As a version from before runtime protocols built it: no runtime label (an empty one, as
        // Docker keeps a label's last value).
        const ref = image.images.at(-1)!;
        const context = join(dir, "older");
        await Deno.mkdir(context);
        await Deno.writeTextFile(
          join(context, "Dockerfile"),
          `FROM ${ref}\nLABEL ${RUNTIME_PROTOCOL_LABEL}=""\n`,
        );
        await new Docker({ logger: () => {} }).command(["build", "-q", "-t", ref, context]);

        emu.requests.clear();
        // The image's base is its own: no baseImage beside it.
        const { baseImage: _, ...knot } = common;
        const refused = await Knot.create({ ...knot, dockerImage: image })
          .then(() => undefined, (e) => e);
        assert.ok(refused instanceof CloudknotInputError, String(refused));
        assert.equal(refused.field, "dockerImage");
        assert.equal(
          refused.message,
          `Image ${image.name} (${ref}) runs the job runtime of another cloudknot version ` +
            `(${runtimeProtocolWords(undefined)}; this version's is ` +
            `${runtimeProtocolWords(RUNTIME_PROTOCOL)}), whose jobs would fail or misread their ` +
            "items: build it again with this version, image.build({ tags }), or pass func (or " +
            "module and exportName) instead of dockerImage; nothing was pushed",
        );
        assert.deepEqual(mutations(emu), []);
        assert.equal(await readAwsKnot(state, common.name), undefined);
      } finally {
        await image.clobber();
      }
    }, { beds });
  },
);

dockerTest(
  "a knot whose image runs another version's job runtime is rebuilt when given its own function, and what cannot run on it is refused before any mutating request, saying what to do",
  (t) => runKnotBedSteps(t, steps),
);
