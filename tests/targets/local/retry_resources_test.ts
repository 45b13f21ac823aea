// run.retry() on the local target checks the memory and timeout it gives the
// retried items against the local target's own bounds (this machine's memory,
// the timers' limit) as Knot.create checks a knot's, in the same words, before
// it writes anything: no run folder, no record. Real worker processes.
import assert from "node:assert/strict";
import { CloudknotInputError, Knot } from "../../../mod.ts";
import { fileTree } from "../../support/file_tree.ts";
import { withKnot } from "./helpers.ts";

const failsOnTwo = (x: number) => {
  if (x === 2) throw new Error("two");
  return x;
};

Deno.test("retry() with memory above this machine's or a timeout past the timers' limit is refused in Knot.create's words, writing nothing", async () => {
  await withKnot({ name: "bounded", func: failsOnTwo, retries: 1 }, async (knot, dir) => {
    const run = await knot.map([1, 2], { progress: false });
    await run.results().then(() => assert.fail("item 2 fails"), () => {});
    const before = await fileTree(dir);
    const total = Math.floor(Deno.systemMemoryInfo().total / 2 ** 20);
    const tooMuch = total + 1;
    const words = `memory must be an integer of MiB from 1 to this machine's ${
      total.toLocaleString("en-US")
    } (each worker's heap limit), not the number ${tooMuch}`;
    const refused = (message: string) => (e: unknown) => {
      assert.ok(e instanceof CloudknotInputError, String(e));
      assert.equal(e.message, message);
      return true;
    };
    await assert.rejects(run.retry({ memory: tooMuch, progress: false }), refused(words));
    // Knot.create refuses such memory in the same words.
    await assert.rejects(
      Knot.create({ name: "other", func: failsOnTwo, dir, memory: tooMuch }),
      refused(words),
    );
    await assert.rejects(
      run.retry({ timeout: 3_000_000, progress: false }),
      refused(
        "timeout must be a positive number of seconds, at most 2,147,483 (24.8 days), not the number 3000000",
      ),
    );
    assert.deepEqual(await fileTree(dir), before, "nothing was written");
    assert.equal((await knot.runs()).length, 1, "no retry run");

    // Within the bounds, the retry runs (item 2 fails again, in a run of its own).
    const retried = await run.retry({ memory: 256, progress: false });
    await retried.results().then(() => assert.fail("item 2 fails again"), () => {});
    assert.equal((await knot.runs()).length, 2);
  });
});

Deno.test("a retry of a local run keeps the run's memory and timeout, also from a handle that adopted the knot without them", async () => {
  await withKnot(
    { name: "keeps", func: failsOnTwo, retries: 1, memory: 64, timeout: 30 },
    async (knot, dir) => {
      const run = await knot.map([1, 2], { progress: false });
      await run.results().then(() => assert.fail("item 2 fails"), () => {});
      // Another handle, as `cloudknot retry` opens the knot: no memory, no timeout.
      const adopted = await Knot.create({ name: "keeps", dir });
      const retried = await (await adopted.collect(run.runId, { progress: false }))
        .retry({ progress: false });
      await retried.settled();
      const manifest = (await adopted.runs()).find((m) => m.runId === retried.runId) as unknown as {
        memoryMiB?: number;
        timeoutMs?: number;
      };
      assert.equal(manifest.memoryMiB, 64);
      assert.equal(manifest.timeoutMs, 30_000);
    },
  );
});
