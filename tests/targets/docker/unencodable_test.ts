// A result the codec refuses for its kind, in a real container: its item ends
// at its first attempt and the container is not run again for it, as every
// attempt of the same function would return one alike. Under CI=true this
// test fails without Docker.
import assert from "node:assert/strict";
import { type ItemError, Knot } from "../../../mod.ts";
import { withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";

/** Returns a function for "function", a hollow URL for "URL", else the input. */
const answer = (kind: string): unknown =>
  kind === "function" ? { cb: () => 1 } : kind === "URL" ? new URL("https://example.com") : kind;

dockerTest(
  "a result the codec refuses for its kind fails its item at the first of 3 attempts, and its container is not run again for it",
  async () => {
    await withDockerKnots("cloudknot-docker-unencodable-", async ({ knotOptions }) => {
      const knot = await Knot.create({
        ...knotOptions,
        name: "unsendable",
        func: answer,
        retries: 3,
      });
      try {
        // One container for the three items: one that fails would have it run again.
        const run = await knot.map(["function", "URL", "ok"], { progress: false, itemsPerJob: 3 });
        const [cb, url, ok] = await run.settled();
        assert.deepEqual(ok, { index: 2, status: "fulfilled", value: "ok" });
        for (const settled of [cb, url]) {
          assert.equal(settled!.status, "rejected");
          const error = (settled as { reason: ItemError }).reason;
          assert.equal(error.kind, "unencodable");
          assert.equal(error.attempt, 1);
          assert.doesNotMatch(error.message, /\(attempt \d of 3\)/);
        }
        assert.match(
          (cb as { reason: ItemError }).reason.message,
          /^Item 0 returned a value that cannot be sent back: Cannot encode a function at \$\.cb: /,
        );
        assert.equal(run.counts.retried, 0);
        assert.deepEqual(
          (await run.usage()).attempts.map((a) => [a.index, a.attempt]).sort(),
          [[0, 1], [1, 1], [2, 1]],
        );
      } finally {
        await knot.clobber();
      }
    });
  },
);
