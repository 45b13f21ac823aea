// What an item's stack shows in a real container: the frames of the function
// that threw, and not those of cloudknot's runtime below them (worker.js), in
// the error and its cause. Under CI=true this test fails without Docker.
import assert from "node:assert/strict";
import { type ItemError, Knot } from "../../../mod.ts";
import { withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";

dockerTest(
  "in a container, a func's thrown error and its cause have stacks that end with the func's frames, without worker.js's",
  async () => {
    await withDockerKnots("cloudknot-docker-frames-", async ({ knotOptions }) => {
      const knot = await Knot.create({
        ...knotOptions,
        name: "frames",
        retries: 1,
        func: async (x: number) => {
          await Promise.resolve();
          throw new RangeError(`bad ${x}`, { cause: new Error(`under ${x}`) });
        },
      });
      try {
        const [settled] = await (await knot.map([1], { progress: false })).settled();
        assert.equal(settled!.status, "rejected");
        const error = (settled as { reason: ItemError }).reason;
        for (const stack of [error.remote.stack, ((error.cause as Error).cause as Error).stack]) {
          // The func's frame is named in this file, through the knot's source map.
          assert.ok(stack?.split("\n").at(-1)?.includes(import.meta.url), stack);
          assert.doesNotMatch(stack ?? "", /worker\.js|runItem|workerMain/);
        }
      } finally {
        await knot.clobber();
      }
    });
  },
);
