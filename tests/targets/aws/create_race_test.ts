// Two config files on one machine creating a knot of one name at the same
// moment, against the emulator with real containers: both build the knot's
// image under one local name on the one Docker daemon, and the create that
// is refused must undo only what it made, never the image the other one is
// about to push.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot, Pars } from "../../../mod.ts";
import { Docker } from "../../../src/docker/mod.ts";
import { StateFile } from "../../../src/state/mod.ts";
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

for (
  const [loser, what] of [
    [square, "the same function, so the same image"],
    [cube, "another function, so another image under the same local name"],
  ] as const
) {
  dockerTest(
    `two config files on one machine creating one knot name at once, the second with ${what}: the refused create's undo leaves the image the first one pushes, and the first knot runs its own function`,
    async () => {
      const emu = await startEmulator({ runner: "docker", ceValidDelayMs: 30 });
      const dir = await Deno.makeTempDir({ prefix: "cloudknot-create-race-" });
      // The local image's name is the knot's: one no other test on this Docker daemon uses.
      const name = `race-${crypto.randomUUID().slice(0, 8)}`;
      // The first one's ECR login is answered once the second one ended, however long its build
      // takes on a loaded machine.
      const login = Promise.withResolvers<void>();
      try {
        const session = await sessionFor(emu);
        const baseImage = await ensureBaseImage();
        const stateOf = (who: string) => new StateFile({ path: join(dir, who, "cloudknot") });
        // One Pars both are given (a Pars of one name made with two config files is refused
        // before the image is built): the second is refused by the knot's job role, after its build.
        const pars = await Pars.create({ name: `${name}-pars`, session, state: stateOf("first") });
        const make = (who: string, func: (x: number) => number) =>
          Knot.create({
            name,
            target: "aws",
            session,
            state: stateOf(who),
            pars,
            cloudknotDir: join(dir, `${who}-home`),
            func,
            baseImage,
            compute: "FARGATE",
            vcpus: 0.25,
            memory: 512,
            pollInterval: 50,
            warn: () => {},
          }).then((knot) => ({ knot }), (error: Error) => ({ error }));
        // The first one's push starts late (its ECR login): it has built its image, and the
        // second one builds, is refused and undoes meanwhile.
        const fault = emu.faults.add({
          service: "ecr",
          operation: "GetAuthorizationToken",
          kind: "latency",
          until: login.promise,
          times: 1,
        });
        const first = make("first", square);
        const deadline = Date.now() + 120_000;
        while (emu.faults.list().find((f) => f.id === fault)?.hits !== 1) {
          if (Date.now() > deadline) throw new Error("the first create pushed nothing after 120 s");
          await new Promise((r) => setTimeout(r, 20));
        }
        const second = await make("second", loser);
        login.resolve();
        assert.ok("error" in second, "the second create was not refused");
        assert.match(
          String(second.error),
          /with another cloudknot config file|was not made for this knot/,
        );
        const won = await first;
        assert.ok("knot" in won, String("error" in won ? won.error : ""));
        const run = await won.knot.map([3], { progress: false });
        assert.deepEqual(await run.results(), [9]);
        // Neither create holds its image any more: the winner's push and the loser's undo let go.
        assert.deepEqual(
          await new Docker().listImages({ reference: `cloudknot/${name}:hold-*` }),
          [],
        );
      } finally {
        login.resolve();
        await emu.close();
        // Only this test's tags: another test's image may have the same id.
        const docker = new Docker();
        const refs = [];
        for (const reference of [`cloudknot/${name}`, `*/cloudknot:${name}`]) {
          for (const image of await docker.listImages({ reference })) {
            refs.push(`${image.repository}:${image.tag}`);
          }
        }
        if (refs.length > 0) await docker.removeImage(refs, { force: true, missingOk: true });
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}
