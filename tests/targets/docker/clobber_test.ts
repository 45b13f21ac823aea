// Clobbering a docker knot, with real containers: a clobber from another
// handle under a driven run ends each item saying the knot was clobbered and
// leaves no file nor container behind, and of two knots of one name in two
// knots directories, clobbering one leaves the other's images.
// Under CI=true these tests fail without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { Docker } from "../../../src/docker/docker.ts";
import { rejected } from "../../fixtures/docker_job.ts";
import { knotImage, withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { containers, quiet, sleepingRun } from "./docker_runs.ts";

/**
 * Maps three items on a knot that runs one container at a time, then clobbers
 * the knot from another handle (as another process's) with the docker driver
 * `clobbering` gives for the run, and checks that the run ends each item
 * saying the knot was clobbered, and leaves no file nor container behind.
 */
async function clobberedUnderRun(
  name: string,
  clobbering: (run: { settled(): Promise<unknown> }) => Docker,
): Promise<void> {
  await withDockerKnots("cloudknot-docker-", async (knots) => {
    const { options, run, labels } = await sleepingRun(knots, name, ["sleep", 1, 2]);
    await (await Knot.create({ ...options, docker: clobbering(run) })).clobber();
    const settled = await run.settled();
    for (const [i, s] of settled.entries()) {
      assert.match(rejected(s, i).message, /its knot was clobbered/, rejected(s, i).message);
      // Named apart from other cancels: no retry runs them, as the knot is gone.
      assert.equal(rejected(s, i).remote.name, "KnotClobberedError", rejected(s, i).message);
    }
    await assert.rejects(Deno.stat(join(knots.dir, name)), Deno.errors.NotFound);
    assert.deepEqual(await containers(labels), [], "no container of the run is left");
  });
}

dockerTest(
  "clobber() from another handle while a run is driven ends the run there and leaves no file of the knot behind",
  () => clobberedUnderRun("clobbered-elsewhere", () => quiet),
);

dockerTest(
  "a run driven while another handle clobbers its knot ends each item saying the knot was clobbered, also when its attempts fail to start on the removed image before the knot's folder goes",
  () =>
    clobberedUnderRun("clobbered-slowly", (run) => {
      // The clobber goes on past the run's containers and the knot's image only once every
      // item of the run has ended: each attempt left, started on the image it removed, fails.
      class Clobbering extends Docker {
        override async command(...call: Parameters<Docker["command"]>) {
          if (call[0][0] === "images") await run.settled();
          return await super.command(...call);
        }
      }
      return new Clobbering({ logger: () => {} });
    }),
);

dockerTest(
  "two knots of one name in two knots directories each run their own function, and clobbering one leaves the other's images",
  async (t) => {
    await withDockerKnots("cloudknot-docker-twin-a-", async (a) => {
      await withDockerKnots("cloudknot-docker-twin-b-", async (b) => {
        const name = "twin";
        // The first knot's earlier function: its image, untagged when the knot is created again
        // with another, is still the knot's (a run started before may run it by id).
        await Knot.create({ ...a.knotOptions, name, func: (x: number) => `earlier ${x}` });
        const earlier = (await quiet.inspectImage(await knotImage(a.dir, name)))!.Id;
        const first = await Knot.create({
          ...a.knotOptions,
          name,
          func: (x: number) => `first ${x}`,
        });
        const second = await Knot.create({
          ...b.knotOptions,
          name,
          func: (x: number) => `second ${x}`,
        });
        const firstImage = await knotImage(a.dir, name);
        const secondImage = await knotImage(b.dir, name);
        try {
          await t.step("each knot's map runs its own function", async () => {
            const firstRun = await first.map([1], { progress: false });
            assert.deepEqual(await firstRun.results(), ["first 1"]);
            const secondRun = await second.map([1], { progress: false });
            assert.deepEqual(await secondRun.results(), ["second 1"]);
          });
          const current = (await quiet.inspectImage(firstImage))?.Id;
          await t.step(
            "clobbering one leaves the other's images, and the other maps with them",
            async () => {
              await second.clobber();
              assert.equal(
                await quiet.inspectImage(secondImage),
                undefined,
                "its own image is gone",
              );
              assert.equal(
                (await quiet.inspectImage(firstImage))?.Id,
                current,
                "the other's is kept",
              );
              assert.ok(await quiet.inspectImage(earlier), "the other's earlier image is kept");
              const run = await first.map([2], { progress: false });
              assert.deepEqual(await run.results(), ["first 2"]);
            },
          );
        } finally {
          await second.clobber();
          await first.clobber();
        }
      });
    });
  },
);
