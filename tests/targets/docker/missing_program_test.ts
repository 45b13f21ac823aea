// An item whose function runs a program its knot's image lacks, in a real
// container: its error says the image lacks it and to use a base image that
// has it, in the library's and the command line's words. Under CI=true this
// test fails without Docker.
import assert from "node:assert/strict";
import { type ItemError, Knot } from "../../../mod.ts";
import { inCliWords } from "../../../src/cli/common/cli_words.ts";
import { withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";

/** Runs a program by its name. */
const runProgram = async (program: string) => {
  await new Deno.Command(program, { stdout: "null", stderr: "null" }).output();
  return "ran";
};

dockerTest(
  "an item whose function runs a program the knot's image lacks fails saying to use a base image that has it and map again, with Deno's error at its head",
  async () => {
    await withDockerKnots("cloudknot-docker-program-", async ({ knotOptions }) => {
      const knot = await Knot.create({
        ...knotOptions,
        name: "no-program",
        func: runProgram,
        retries: 1,
        permissions: { run: true },
      });
      try {
        const program = "ffmpeg";
        const [settled] = await (await knot.map([program], { progress: false })).settled();
        assert.equal(settled!.status, "rejected");
        const error = (settled as { reason: ItemError }).reason;
        assert.equal(error.remote.name, "NotFound");
        const advice = `the program ${program} is not in the knot's image, where the item ran. ` +
          "Use a base image that has it (baseImage in Knot.create), such as one of your own " +
          "made FROM the base you use with a step that installs it, then map the items again: " +
          "a retry runs the run's own image";
        assert.equal(
          error.message,
          `Item 0 threw NotFound: Failed to spawn '${program}': entity not found: ${advice}`,
        );
        assert.match(error.remote.stack ?? "", /^NotFound: Failed to spawn 'ffmpeg'/);
        assert.ok(error.remote.stack?.includes(advice), "the stack's head says it too");
        assert.ok(
          inCliWords(error).includes("Use a base image that has it (--base-image), such as"),
          inCliWords(error),
        );
      } finally {
        await knot.clobber();
      }
    });
  },
);
