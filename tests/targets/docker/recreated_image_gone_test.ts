// A docker knot handle whose own image is gone from Docker, once another
// process has created the knot again with another function: its map refuses,
// saying what happened and what to do, where it ran the other function under
// its own name. Opened by name, or created again with its function, the knot
// maps. Under CI=true this test fails without Docker.
import assert from "node:assert/strict";
import { Knot } from "../../../mod.ts";
import { Docker } from "../../../src/docker/docker.ts";
import { knotImage, withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";

const quiet = new Docker({ logger: () => {} });

/** The program of the other process: creates the knot `gone` again with its own function. */
const OTHER = `
import { Knot } from ${JSON.stringify(new URL("../../../mod.ts", import.meta.url).href)};
import { Docker } from ${
  JSON.stringify(new URL("../../../src/docker/docker.ts", import.meta.url).href)
};
const [dir, baseImage] = Deno.args;
await Knot.create({
  name: "gone", target: "docker", dir, cloudknotDir: dir, baseImage,
  docker: new Docker({ logger: () => {} }), func: function second(x: number) { return "second " + x; },
});
`;

dockerTest(
  "a docker knot's map whose own image is gone after another process created the knot again with another function refuses, saying to create it again, and never runs the other function",
  async () => {
    await withDockerKnots("cloudknot-docker-gone-", async ({ dir, knotOptions, baseImage }) => {
      const first = function first(x: number) {
        return "first " + x;
      };
      const knot = await Knot.create({ ...knotOptions, name: "gone", func: first });
      try {
        const own = (await quiet.inspectImage(await knotImage(dir, "gone")))!.Id;
        const other = await new Deno.Command(Deno.execPath(), {
          args: ["eval", "--ext=ts", OTHER, dir, baseImage],
          stderr: "inherit",
        }).output();
        assert.equal(other.code, 0, "the other process created the knot again");
        // This handle's image, untagged by the other create, is removed (as docker image prune
        // removes it).
        await quiet.removeImage(own);
        // It refused (as it did not: it ran the other function).
        const outcome = await knot.map([1], { progress: false }).then(
          (run) => run.results(),
          (e: Error) => e,
        );
        assert.ok(outcome instanceof Error, `the map ran, and gave ${JSON.stringify(outcome)}`);
        assert.match(outcome.message, /The image this handle of docker knot gone opened is gone/);
        assert.match(outcome.message, /another function \(second\)/);
        assert.match(
          outcome.message,
          /\(Knot\.create\(\{ name: "gone", target: "docker", func \}\)\) to map it/,
        );
        // As it says: opened by name it maps the knot's function now; created again, its own.
        const named = await Knot.create({ ...knotOptions, name: "gone" });
        assert.deepEqual(await (await named.map([2], { progress: false })).results(), [
          "second 2",
        ]);
        const again = await Knot.create({ ...knotOptions, name: "gone", func: first });
        assert.deepEqual(await (await again.map([3], { progress: false })).results(), [
          "first 3",
        ]);
      } finally {
        await knot.clobber();
      }
    });
  },
);
