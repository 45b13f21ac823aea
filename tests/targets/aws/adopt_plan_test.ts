// The dry run of Knot.create for a knot that exists on AWS says what the
// adoption itself would: only the options that differ from the knot's own
// would be ignored, or, for another function or other options of its job
// definition, update it; against the emulator, with nothing changed.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { StateFile, StateFileError } from "../../../src/state/mod.ts";
import { startEmulator } from "../../emulator/mod.ts";
import { sessionFor } from "../../support/aws_session.ts";
import { ensureBaseImage } from "../../support/base_image.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { rejects } from "../../support/rejects.ts";

function square(x: number): number {
  return x * x;
}

function cube(x: number): number {
  return x * x * x;
}

dockerTest(
  "a dry run of an existing knot names as ignored only the options the adoption would ignore, and says that another function or memory would update it",
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

      // Other values of its compute environment: those, and only those, would be ignored, as
      // the adoption warns.
      const other = { ...common, maxVcpus: 16, priority: 3 };
      const plan = await dryRun({ ...other, func: square });
      assert.equal(plan.find("knot")?.action, "adopt");
      assert.match(plan.notes.join("\n"), /these options would be ignored: maxVcpus, priority$/m);
      const adopted: string[] = [];
      await Knot.create({ ...other, func: square, warn: (m) => adopted.push(m) });
      assert.match(adopted.join("\n"), /these options were ignored: maxVcpus, priority;/);

      // Another function, and another memory: the dry run says the knot would be updated, with
      // a new image and a new revision of its job definition, and what would still be ignored.
      const update = await dryRun({ ...common, func: cube, memory: 1024, priority: 3 });
      assert.equal(update.find("knot"), undefined);
      assert.equal(update.find("image")?.action, "build");
      assert.match(String(update.find("image")?.details?.function), /^func cube \(/);
      assert.equal(update.find("job definition revision")?.action, "create");
      assert.deepEqual(update.find("job definition revision")?.details, { memory: "1024" });
      assert.match(
        update.notes.join("\n"),
        /^knot adoptplan is in the config file, so it would be updated: a new image with the function given and the memory given in a new revision of its job definition \(now \S+:1\); its compute environment and job queue stay, and runs made before keep their own function$/m,
      );
      assert.match(update.notes.join("\n"), /these options would be ignored: priority$/m);
      // Memory alone: the same image, a new revision.
      const memory = await dryRun({ ...common, func: square, memory: 1024 });
      assert.equal(memory.find("image"), undefined);
      assert.match(memory.notes.join("\n"), /would be updated: the memory given in a new revision/);

      // A config file the new record cannot be written to: the dry run refuses the update in the
      // update's words, and the update refuses it before it changes anything.
      await Deno.chmod(state.path, 0o444);
      const planned = await rejects(
        dryRun({ ...common, func: square, memory: 1024 }),
        StateFileError,
      );
      assert.match(planned.message, /^The cloudknot config file .* is read-only \(mode 0444\)/);
      const updated = await rejects(
        Knot.create({ ...common, func: square, memory: 1024 }),
        StateFileError,
      );
      assert.equal(updated.message, planned.message);
      assert.deepEqual(emu.mutatingRequests(), []);
    } finally {
      await emu.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
