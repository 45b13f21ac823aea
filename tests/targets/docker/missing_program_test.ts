// An item whose function runs a program its knot's image lacks, in a real
// container: its error says the image lacks it and to use a base image that
// has it, in the library's and the command line's words. Under CI=true this
// test fails without Docker.
import assert from "node:assert/strict";
import { type ItemError, Knot } from "../../../mod.ts";
import { inCliWords } from "../../../src/cli/common/cli_words.ts";
import { failureSummary } from "../../../src/cli/common/item_output.ts";
import { withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";

/** Runs a program by its name. */
const runProgram = async (program: string) => {
  await new Deno.Command(program, { stdout: "null", stderr: "null" }).output();
  return "ran";
};

dockerTest(
  "an item whose function runs a program the knot's image lacks fails at its first attempt saying to use a base image that has it and map again, not retry, with Deno's error at its head",
  async () => {
    await withDockerKnots("cloudknot-docker-program-", async ({ knotOptions }) => {
      const knot = await Knot.create({
        ...knotOptions,
        name: "no-program",
        func: runProgram,
        retries: 3,
        permissions: { run: true },
      });
      try {
        const program = "ffmpeg";
        const run = await knot.map([program], { progress: false });
        const [settled] = await run.settled();
        assert.equal(settled!.status, "rejected");
        const error = (settled as { reason: ItemError }).reason;
        assert.equal(error.remote.name, "NotFound");
        // Every attempt would fail alike: the container ran one, of 3.
        assert.equal(error.attempt, 1);
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
        // A retry runs the run's own image, which lacks it too: neither the run's error nor
        // the command line's summary says to retry.
        const mapError = await run.results().then(() => assert.fail("item 0 failed"), (e) => e);
        assert.doesNotMatch(mapError.message, /map them again with run\.retry/);
        assert.equal(
          failureSummary(run, [0]),
          "1 of 1 items ran a program the knot's image lacks: 0; use a base image that has it " +
            "(--base-image), then map them again",
        );
      } finally {
        await knot.clobber();
      }
    });
  },
);
