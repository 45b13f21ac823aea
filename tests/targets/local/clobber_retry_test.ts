// A run whose knot its own handle clobbered while it ran keeps nothing to run again: its error
// gives no retry advice, and retry() says so in words, not as a missing index object.
import assert from "node:assert/strict";
import { CloudknotInputError, Knot, MapError } from "../../../mod.ts";
import { rejects } from "../../support/rejects.ts";

Deno.test("a run cut off by its knot's clobber says to create the knot and map again, and retry() refuses in those words", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-clobber-retry-" });
  try {
    const knot = await Knot.create({
      name: "gone",
      dir,
      concurrency: 1,
      func: async (x: number) => {
        await new Promise((resolve) => setTimeout(resolve, 60_000));
        return x;
      },
    });
    const run = await knot.map([1, 2], { progress: false });
    await knot.clobber();
    const failed = await rejects(run.results(), MapError);
    assert.match(failed.message, /^2 of 2 items were cancelled; /);
    assert.doesNotMatch(failed.message, /run\.retry/);
    assert.match(failed.message, /knot gone was clobbered while it ran, so nothing of it is kept/);
    const refused = await rejects(run.retry(), CloudknotInputError);
    assert.equal(
      refused.message,
      `Run ${run.runId} cannot be retried: its knot gone was clobbered while it ran. Create the ` +
        "knot again and map the inputs again",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
