// Two config files on one AWS account (two users, a laptop and CI) against
// the emulator with real containers: a knot's name names its Batch resources
// and its job data, so a knot of the same name made with another config file
// would share them, and its clobber would delete the first one's knot and
// results. Knot.create refuses it before it changes anything.
import assert from "node:assert/strict";
import { join } from "node:path";
import { DockerImage, Knot, Pars } from "../../mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import { CloudknotInputError } from "../../src/util/errors.ts";
import { Docker } from "../../src/docker/mod.ts";
import { startEmulator } from "../emulator/mod.ts";
import { sessionFor } from "../support/aws_session.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { holdAnswer } from "../support/held_answer.ts";
import { ensureKnotRole, MANAGED_BY_TAG, PARS_TAG_KEY } from "../../src/resources/_iam_roles.ts";
import { Ledger } from "../../src/resources/_ledger.ts";
import { OWNER_TAG_KEY } from "../../src/resources/mod.ts";
import { withEmulator } from "./helpers.ts";

function square(x: number): number {
  return x * x;
}

dockerTest(
  "Knot.create of a knot another config file on the account made refuses before changing anything, also once only its job data is left",
  async () => {
    const emu = await startEmulator({ runner: "docker", ceValidDelayMs: 30 });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-owner-" });
    try {
      const session = await sessionFor(emu);
      const baseImage = await ensureBaseImage();
      const common = {
        name: "shared",
        target: "aws" as const,
        session,
        func: square,
        baseImage,
        compute: "FARGATE" as const,
        vcpus: 0.25,
        memory: 512,
        pollInterval: 50,
        warn: () => {},
      };
      const mine = new StateFile({ path: join(dir, "mine", "cloudknot") });
      const theirs = new StateFile({ path: join(dir, "theirs", "cloudknot") });
      const first = await Knot.create({ ...common, state: mine, cloudknotDir: join(dir, "m") });
      const run = await first.map([1, 2], { progress: false });
      assert.deepEqual(await run.results(), [1, 4]);

      const refuse = async (why: RegExp) => {
        const before = emu.mutatingRequests().length;
        const e = await Knot.create({ ...common, state: theirs, cloudknotDir: join(dir, "t") })
          .then(() => undefined, (e) => e);
        assert.ok(e instanceof CloudknotInputError, String(e));
        assert.equal(e.field, "name");
        assert.match(e.message, /^Knot shared exists on this AWS account, made with another /);
        assert.match(e.message, why);
        assert.match(e.message, /choose another knot name/);
        assert.deepEqual(
          emu.mutatingRequests().slice(before).map((r) => `${r.service} ${r.operation}`),
          [],
        );
        assert.equal(await theirs.section("knot shared"), undefined);
        // A dry run says so too.
        const dry = await Knot.create({
          ...common,
          state: theirs,
          cloudknotDir: join(dir, "t"),
          dryRun: true,
        }).then(() => undefined, (e) => e);
        assert.equal(dry?.message, e.message);
      };
      await refuse(/its compute environment shared-ck-ce/);
      // The first one's knot and results are untouched.
      assert.deepEqual(await (await first.collect(run.runId)).results(), [1, 4]);

      // A misspelt keepData is refused before anything is deleted, naming the option meant.
      const before = emu.mutatingRequests().length;
      const typo = await first.clobber({ keepdata: true } as unknown as { keepData: boolean })
        .then(() => undefined, (e) => e);
      assert.ok(typo instanceof CloudknotInputError, String(typo));
      assert.equal(typo.message, 'clobber() has no option "keepdata": did you mean "keepData"?');
      assert.deepEqual(emu.mutatingRequests().slice(before), []);
      // Clobbered with its data kept, the data is still the first config file's.
      await first.clobber({ keepData: true });
      await refuse(/its job data s3:\/\/[^ ]+\/cloudknot\/shared\//);

      // Its owner, when that file is lost, takes it on by the owner id the message gives.
      const owner = await mine.get("aws", "owner");
      const e = await Knot.create({ ...common, state: theirs, cloudknotDir: join(dir, "t") })
        .then(() => undefined, (e) => e);
      assert.ok(
        e.message.endsWith(
          `If that file is lost and the knot was yours, make this file its owner: set owner = ` +
            `${owner} in [aws] of ${theirs.path}`,
        ),
        e.message,
      );
      await theirs.set("aws", "owner", owner!);
      const again = await Knot.create({ ...common, state: theirs, cloudknotDir: join(dir, "t") });
      assert.deepEqual(await (await again.collect(run.runId)).results(), [1, 4]);
    } finally {
      await emu.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

dockerTest(
  "two Knot.create of one knot name with two config files at the same moment: one knot is made whole, the other is refused and deletes nothing of it",
  async () => {
    const emu = await startEmulator({ runner: "docker", ceValidDelayMs: 30 });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-owner-race-" });
    try {
      const session = await sessionFor(emu);
      const baseImage = await ensureBaseImage();
      // Two machines: each config file and its image are its own; the Pars is one both are
      // given (a Pars of one name made with two config files is refused before the knot is).
      const pars = await Pars.create({
        name: "race-pars",
        session,
        state: new StateFile({ path: join(dir, "late", "cloudknot") }),
      });
      const make = async (who: string) => {
        const state = new StateFile({ path: join(dir, who, "cloudknot") });
        const cloudknotDir = join(dir, `${who}-home`);
        const dockerImage = await DockerImage.create({
          name: `race-${who}`,
          func: square,
          baseImage,
          state,
          cloudknotDir,
        });
        return await Knot.create({
          name: "race",
          target: "aws",
          session,
          state,
          cloudknotDir,
          dockerImage,
          pars,
          compute: "FARGATE",
          vcpus: 0.25,
          memory: 512,
          pollInterval: 50,
          warn: () => {},
        }).then((knot) => ({ knot }), (error) => ({ error }));
      };
      // The first create ("late") is held at its compute environment, after it made the
      // knot's job role; only then does the second start: it passes the owner checks (no
      // compute environment, job queue or job data of the knot exists yet), and meets the
      // first's job role when it makes its own.
      const late = await holdAnswer(
        emu,
        { service: "batch", operation: "CreateComputeEnvironment" },
        () => make("late"),
      );
      try {
        const second = await make("first");
        const both = [await late.answer(), second];
        const errors = both.flatMap((r) => "error" in r ? [String(r.error)] : []);
        const knots = both.flatMap((r) => "knot" in r ? [r.knot] : []);
        assert.equal(knots.length, 1, errors.join("\n"));
        assert.ok("knot" in both[0]!, errors.join("\n"));
        // Refused when it made the job role, by the role's owner tag: not by the owner checks
        // before anything is made, which saw nothing of the first knot yet.
        assert.deepEqual(errors.length, 1);
        assert.match(
          errors[0]!,
          /The IAM role race-pars\.race-job is the job role of knot race made with another cloudknot config file \(its tag cloudknot:owner is [0-9a-f-]{36}, not [0-9a-f-]{36}\)/,
        );
        // The winner's knot is whole: the loser's undoing deleted nothing of it.
        const run = await knots[0]!.map([3], { progress: false });
        assert.deepEqual(await run.results(), [9]);
      } finally {
        await late.answer();
      }
    } finally {
      await emu.close();
      // The two machines' builds: the loser's was never pushed, so the emulator's close leaves it.
      const docker = new Docker();
      for (const who of ["late", "first"]) {
        const images = await docker.listImages({ reference: `cloudknot/race-${who}` });
        const refs = images.map((image) => `${image.repository}:${image.tag}`);
        if (refs.length > 0) await docker.removeImage(refs, { force: true, missingOk: true });
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("two config files that make one knot's job role at the same moment: the one whose create met the other's role is told it is that knot's job role, and to choose another knot name", async () => {
  await withEmulator(async ({ emu, session }) => {
    const make = (owner: string) =>
      ensureKnotRole(session.iam, {
        pars: "lab",
        knot: "sq",
        bucket: "lab-bucket",
        prefix: "cloudknot/sq/",
        partition: "aws",
        policyArns: [],
        tags: [
          MANAGED_BY_TAG,
          { Key: PARS_TAG_KEY, Value: "lab" },
          { Key: "cloudknot:knot", Value: "sq" },
          { Key: OWNER_TAG_KEY, Value: owner },
        ],
        ledger: new Ledger(),
      }).then(() => undefined, (e: unknown) => e);
    // The first found no role and asked for one; its answer waits until the second made it.
    const first = await holdAnswer(
      emu,
      { service: "iam", operation: "CreateRole" },
      () => make("owner-a"),
    );
    try {
      assert.equal(await make("owner-b"), undefined);
      const refused = await first.answer();
      assert.ok(refused instanceof Error);
      assert.equal(
        refused.message,
        "The IAM role lab.sq-job is the job role of knot sq made with another cloudknot config " +
          "file (its tag cloudknot:owner is owner-b, not owner-a); choose another knot name, or " +
          "use that knot with the config file that made it",
      );
    } finally {
      await first.answer();
    }
  });
});
