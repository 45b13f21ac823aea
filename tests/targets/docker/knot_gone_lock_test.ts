// The lock held on a gone docker knot's folder while its leftovers are
// removed (whileKnotGone, as gc and a driver after a clobber take it): a
// create of the knot meanwhile waits for it, saying so, then makes the knot,
// which maps; a knot that is there is never touched. Under CI=true this test
// fails without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { whileKnotGone } from "../../../src/store/knot_lock.ts";
import { withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";

dockerTest(
  "a docker knot created while its gone folder is held for removing its leftovers waits for that, saying so, then is created and maps; a knot that is there is left alone",
  async () => {
    await withDockerKnots("cloudknot-docker-gone-lock-", async ({ dir, knotOptions }) => {
      const root = join(dir, "again");
      const held = Promise.withResolvers<void>();
      const release = Promise.withResolvers<void>();
      const removing = whileKnotGone(root, async () => {
        held.resolve();
        await release.promise;
      });
      await held.promise;
      const notices: string[] = [];
      let created = false;
      const creating = Knot.create({
        ...knotOptions,
        name: "again",
        func: (x: number) => x * 3,
        warn: (message) => notices.push(message),
      }).finally(() => created = true);
      while (notices.length === 0 && !created) await new Promise((r) => setTimeout(r, 50));
      assert.equal(created, false, "the create waited");
      assert.match(
        notices[0]!,
        /another process is creating, building or clobbering docker knot again .*; waiting for it to finish, then this one creates it with its own function/,
      );
      release.resolve();
      assert.equal(await removing, true);
      const knot = await creating;
      assert.deepEqual(await (await knot.map([1, 2], { progress: false })).results(), [3, 6]);

      // A knot there: nothing runs, and its folder stays whole.
      let ran = false;
      assert.equal(await whileKnotGone(root, () => Promise.resolve(void (ran = true))), false);
      assert.equal(ran, false);
      assert.ok(await Deno.stat(join(root, "knot.json")).then(() => true, () => false));
      await knot.clobber();
    });
  },
);
