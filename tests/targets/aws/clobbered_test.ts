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

dockerTest(
  "a knot another process clobbers while map submits its jobs stays gone: the run's jobs are stopped and map says the knot was clobbered and how to make it again",
  async () => {
    const emu = await startEmulator({ runner: "docker", ceValidDelayMs: 30 });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-clobbered-" });
    const submitted = Promise.withResolvers<void>();
    try {
      const session = await sessionFor(emu);
      const state = new StateFile({ path: join(dir, "cloudknot") });
      const knot = await Knot.create({
        name: "late",
        target: "aws",
        session,
        state,
        cloudknotDir: join(dir, "home"),
        pollInterval: 50,
        warn: () => {},
        func: square,
        baseImage: await ensureBaseImage(),
        compute: "FARGATE",
        vcpus: 0.25,
        memory: 512,
      });
      // The answer to SubmitJob is held; meanwhile the knot's clobber removes its record.
      const fault = emu.faults.add({
        service: "batch",
        operation: "SubmitJob",
        kind: "latency",
        until: submitted.promise,
        times: 1,
      });
      const mapping = knot.map([1, 2], { progress: false }).then(() => undefined, (e) => e);
      const deadline = Date.now() + 60_000;
      while (emu.faults.list().find((f) => f.id === fault)?.hits !== 1) {
        if (Date.now() > deadline) throw new Error("map submitted nothing after 60 s");
        await new Promise((r) => setTimeout(r, 20));
      }
      await state.remove("knot late");
      submitted.resolve();
      const e = await mapping;
      assert.ok(e instanceof ResourceDoesNotExistError, String(e));
      assert.match(
        e.message,
        new RegExp(
          `^Knot late was clobbered while this map submitted its jobs: its record is no longer ` +
            `in the config file ${state.path.replaceAll(".", "\\.")} \\(another process or ` +
            `knot handle clobbered it\\), so this run is not recorded and its jobs are stopped\\. ` +
            `To run it again, make it again with Knot\\.create\\(\\{ name: "late", func \\}\\)`,
        ),
      );
      assert.match(
        inCliWords(e),
        /To run it again, make it again with cloudknot knot create late MODULE EXPORT --target aws and the knot's options$/,
      );
      // The record is not made again with only the run in it.
      assert.equal(await state.section("knot late"), undefined);
      assert.equal(emu.count("batch", "TerminateJob") + emu.count("batch", "CancelJob") > 0, true);
    } finally {
      submitted.resolve();
      await emu.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
