// The dry run of Knot.create for a knot that exists on AWS says what the
// adoption itself would: only the options that differ from the knot's own
// would be ignored, and another function is refused as the create refuses
// it; against the emulator, with nothing changed.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { StateFile } from "../../../src/state/mod.ts";
import { CloudknotInputError } from "../../../src/util/errors.ts";
import { startEmulator } from "../../emulator/mod.ts";
import { sessionFor } from "../../support/aws_session.ts";
import { ensureBaseImage } from "../../support/base_image.ts";
import { dockerTest } from "../../support/docker_available.ts";

function square(x: number): number {
  return x * x;
}

function cube(x: number): number {
  return x * x * x;
}

dockerTest(
  "a dry run of an existing knot names as ignored only the options the adoption would ignore, and refuses another function",
  async () => {
    const emu = await startEmulator({ registry: true });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-adopt-plan-" });
    try {
      const session = await sessionFor(emu);
      const state = new StateFile({ path: join(dir, "cloudknot") });
      const baseImage = await ensureBaseImage();
      const common = {
        name: "adoptplan",
        target: "aws" as const,
        session,
        state,
        cloudknotDir: join(dir, "home"),
        baseImage,
        memory: 512,
        retries: 2,
      };
      await Knot.create({ ...common, func: square });
      // A dry run only reads.
      const dryRun = async (options: Parameters<typeof Knot.create>[0]) => {
        emu.requests.clear();
        const plan = await Knot.create(
          { ...options, dryRun: true } as typeof options & {
            dryRun: true;
          },
        ).finally(() => assert.deepEqual(emu.mutatingRequests(), []));
        return plan;
      };

      // The options it was made with, given again: none would be ignored, as none is when adopted.
      const same = await dryRun({ ...common, func: square });
      assert.equal(same.find("knot")?.action, "adopt");
      assert.doesNotMatch(same.notes.join("\n"), /ignored/);
      const warned: string[] = [];
      await Knot.create({ ...common, func: square, warn: (m) => warned.push(m) });
      assert.deepEqual(warned.filter((m) => /ignored/.test(m)), []);

      // Other values: those, and only those, would be ignored, as the adoption warns.
      const other = { ...common, memory: 1024, retries: 3 };
      const plan = await dryRun({ ...other, func: square });
      assert.match(plan.notes.join("\n"), /these options would be ignored: memory, retries$/m);
      const adopted: string[] = [];
      await Knot.create({ ...other, func: square, warn: (m) => adopted.push(m) });
      assert.match(adopted.join("\n"), /these options were ignored: memory, retries;/);

      // Another function: the dry run refuses it, as the create does.
      const refused = await dryRun({ ...common, func: cube })
        .then(() => undefined, (e) => e);
      assert.ok(refused instanceof CloudknotInputError, String(refused));
      assert.match(
        refused.message,
        /runs another function than the one given, and a knot is adopted as it is/,
      );
      assert.equal(refused.field, "func");
    } finally {
      await emu.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
