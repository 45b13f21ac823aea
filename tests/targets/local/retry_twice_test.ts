// A run retried already is retried through its latest retry: what a retry ran (and what
// succeeded there) never runs again, from the same handle, another handle of the run, or its
// collect() after a restart.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";

Deno.test("retrying a run twice, or a handle of it collected again, runs nothing its retry already ran", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-retry-twice-" });
  try {
    const log = join(dir, "calls.log");
    // Item 2 fails until a marker file exists; each call is logged.
    const marker = join(dir, "fixed");
    const knot = await Knot.create({
      name: "twice",
      dir,
      retries: 1,
      permissions: { write: [log], read: [marker] },
      func: async ({ x, log, marker }: { x: number; log: string; marker: string }) => {
        await Deno.writeTextFile(log, `${x}\n`, { append: true });
        const fixed = await Deno.stat(marker).then(() => true, () => false);
        if (x === 2 && !fixed) throw new Error("bad");
        return x * 10;
      },
    });
    const run = await knot.map([1, 2, 3].map((x) => ({ x, log, marker })), { progress: false });
    await run.settled();
    await Deno.writeTextFile(marker, "");
    const calls = async () => (await Deno.readTextFile(log)).trim().split("\n");
    assert.deepEqual((await calls()).sort(), ["1", "2", "3"]);

    assert.deepEqual(await (await run.retry({ progress: false })).results(), [10, 20, 30]);
    assert.equal((await calls()).length, 4);
    // Again from the same handle, from a handle collected again, and from a new knot's.
    assert.deepEqual(await (await run.retry({ progress: false })).results(), [10, 20, 30]);
    const again = await knot.collect(run.runId);
    assert.deepEqual(await (await again.retry({ progress: false })).results(), [10, 20, 30]);
    const adopted = await Knot.create({ name: "twice", dir });
    const collected = await adopted.collect(run.runId);
    const retried = await collected.retry({ progress: false });
    assert.deepEqual(await retried.results(), [10, 20, 30]);
    assert.equal((await calls()).length, 4, "item 2 ran once more, in the first retry only");
    assert.equal((await knot.runs()).length, 2);
    await knot.clobber();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
