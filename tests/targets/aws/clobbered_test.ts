// A knot clobbered by another process (another terminal, a notebook, CI)
// while this one still holds it, against the emulator with real containers:
// this one's map and submit are refused before anything is uploaded or
// submitted, saying what happened and what to do.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot, ResourceDoesNotExistError } from "../../../mod.ts";
import { StateFile } from "../../../src/state/mod.ts";
import { inCliWords } from "../../../src/cli/common/cli_words.ts";
import { startEmulator } from "../../emulator/mod.ts";
import { sessionFor } from "../../support/aws_session.ts";
import { ensureBaseImage } from "../../support/base_image.ts";
import { dockerTest } from "../../support/docker_available.ts";

function square(x: number): number {
  return x * x;
}

dockerTest(
  "a knot another process clobbered refuses map and submit before changing anything, saying it was clobbered and how to make it again",
  async () => {
    const emu = await startEmulator({ runner: "docker", ceValidDelayMs: 30 });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-clobbered-" });
    try {
      const session = await sessionFor(emu);
      const state = new StateFile({ path: join(dir, "cloudknot") });
      const common = {
        name: "gone",
        target: "aws" as const,
        session,
        state,
        cloudknotDir: join(dir, "home"),
        pollInterval: 50,
        warn: () => {},
      };
      const knot = await Knot.create({
        ...common,
        func: square,
        baseImage: await ensureBaseImage(),
        compute: "FARGATE",
        vcpus: 0.25,
        memory: 512,
      });
      // Another process opens the same knot and clobbers it.
      await (await Knot.create(common)).clobber();
      const before = emu.mutatingRequests().length;
      for (const call of [() => knot.map([1], { progress: false }), () => knot.submit(2)]) {
        const e = await call().then(() => undefined, (e) => e);
        assert.ok(e instanceof ResourceDoesNotExistError, String(e));
        assert.match(
          e.message,
          new RegExp(
            `^Knot gone was clobbered: its record is no longer in the config file ` +
              `${state.path.replaceAll(".", "\\.")} \\(another process or knot handle ` +
              `clobbered it\\), and nothing was submitted\\. To run it again, make it again with ` +
              `Knot\\.create\\(\\{ name: "gone", func \\}\\)`,
          ),
        );
        // A command-line user is told the command.
        assert.match(
          inCliWords(e),
          /To run it again, make it again with cloudknot knot create gone MODULE EXPORT --target aws and the knot's options$/,
        );
      }
      assert.deepEqual(
        emu.mutatingRequests().slice(before).map((r) => `${r.service} ${r.operation}`),
        [],
      );
      assert.equal(await state.section("knot gone"), undefined);
    } finally {
      await emu.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
