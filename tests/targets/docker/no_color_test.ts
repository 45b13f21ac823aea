// What Deno prints itself in a container (an uncaught error, here of a Deno
// program the function starts) reaches the container's log without ANSI
// colour codes. Under CI=true this test fails without Docker.
import assert from "node:assert/strict";
import { Knot } from "../../../mod.ts";
import { withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";

/** Runs a Deno program that dies of an uncaught error, whose output goes to the item's. */
const uncaughtInDeno = async (message: string) => {
  const { code } = await new Deno.Command("deno", {
    args: ["eval", `throw new Error(${JSON.stringify(message)})`],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return code;
};

dockerTest(
  "what Deno prints itself in a container reaches the item's log without colour codes",
  async () => {
    await withDockerKnots("cloudknot-docker-colour-", async ({ knotOptions }) => {
      const knot = await Knot.create({
        ...knotOptions,
        name: "colourless",
        func: uncaughtInDeno,
        retries: 1,
        permissions: { run: true },
      });
      try {
        const run = await knot.map(["left to Deno"], { progress: false });
        assert.deepEqual(await run.results(), [1]);
        const log = (await Array.fromAsync(run.logs(0))).join("\n");
        assert.match(log, /Uncaught.*Error: left to Deno/);
        assert.ok(!log.includes("\x1b["), JSON.stringify(log));
      } finally {
        await knot.clobber();
      }
    });
  },
);
