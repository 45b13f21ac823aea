// A docker knot open in one process while another process creates it again
// with another function: the first process's next map() runs its own
// function, as a local knot's does, where it ran the image the knot's name
// names now, the other process's function. Under CI=true this test fails
// without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";

/** The program of the first process: creates the knot, says so, waits for `gate`, then maps. */
const FIRST = `
import { Knot } from ${JSON.stringify(new URL("../../../mod.ts", import.meta.url).href)};
import { Docker } from ${
  JSON.stringify(new URL("../../../src/docker/docker.ts", import.meta.url).href)
};
const [dir, baseImage, gate] = Deno.args;
const knot = await Knot.create({
  name: "twice", target: "docker", dir, cloudknotDir: dir, baseImage,
  docker: new Docker({ logger: () => {} }), func: (x: number) => "first " + x,
});
console.log("created");
// Waits until the test has created the knot again, which it says with the gate file.
while (!(await Deno.stat(gate).then(() => true, () => false))) {
  await new Promise((r) => setTimeout(r, 50));
}
const run = await knot.map([1, 2], { progress: false });
console.log(JSON.stringify(await run.results()));
`;

dockerTest(
  "a docker knot created again with another function by another process still maps its own function in the process that opened it first, as a local knot does",
  async () => {
    await withDockerKnots("cloudknot-docker-twice-", async ({ dir, knotOptions, baseImage }) => {
      const gate = join(dir, "created-again");
      const first = new Deno.Command(Deno.execPath(), {
        args: ["eval", "--ext=ts", FIRST, dir, baseImage, gate],
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      const lines = first.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let out = "";
      try {
        while (!out.includes("created\n")) {
          const { value, done } = await lines.read();
          if (done) throw new Error(`the first process ended before creating its knot: ${out}`);
          out += value;
        }
        // This process creates the knot again with another function, and maps it.
        const again = await Knot.create({
          ...knotOptions,
          name: "twice",
          func: (x: number) => "second " + x,
        });
        assert.deepEqual(await (await again.map([1, 2], { progress: false })).results(), [
          "second 1",
          "second 2",
        ]);
        await Deno.writeTextFile(gate, "");
        for (;;) {
          const { value, done } = await lines.read();
          if (done) break;
          out += value;
        }
      } catch (e) {
        first.kill("SIGKILL");
        throw e;
      } finally {
        await lines.cancel().catch(() => {});
        await first.status;
      }
      assert.equal((await first.status).code, 0, `the first process failed: ${out}`);
      assert.deepEqual(JSON.parse(out.trim().split("\n").at(-1)!), ["first 1", "first 2"]);
      await (await Knot.create({ ...knotOptions, name: "twice" })).clobber();
    });
  },
);
