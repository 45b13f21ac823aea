// Two config files on one AWS account (two users, a laptop and CI) against
// the emulator with real containers: a knot's name names its Batch resources
// and its job data, so a knot of the same name made with another config file
// would share them, and its clobber would delete the first one's knot and
// results. Knot.create refuses it before it changes anything.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import { CloudknotInputError } from "../../src/util/errors.ts";
import { startEmulator } from "../emulator/mod.ts";
import { sessionFor } from "../support/aws_session.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";

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
      };
      await refuse(/its compute environment shared-ck-ce/);
      // The first one's knot and results are untouched.
      assert.deepEqual(await (await first.collect(run.runId)).results(), [1, 4]);

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
