// `cloudknot jobs <knot> <run> --json` writes its document an item at a time, where it made one
// string of every item's view.
import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../cli.ts";
import { recordingIo } from "./helpers.ts";
import { Knot } from "../../mod.ts";

const MESSAGE = 32 * 1024;

Deno.test("jobs --json writes the document one JSON.stringify made, in writes of a few items", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-jobs-output-" });
  try {
    const env = { CLOUDKNOT_LOCAL_DIR: join(dir, "knots") };
    const knot = await Knot.create({
      name: "wordy-errors",
      func: (n: number) => {
        // An error of 32 KiB: each item's view holds its message.
        if (n % 2 === 1) throw new RangeError(String(n % 10).repeat(32 * 1024));
        return n;
      },
      dir: env.CLOUDKNOT_LOCAL_DIR,
    });
    const run = await knot.map(Array.from({ length: 16 }, (_, i) => i), { progress: false });
    await run.settled();
    const expected = JSON.stringify({
      knot: "wordy-errors",
      runId: run.runId,
      target: "local",
      total: 16,
      attempts: run.attempts,
      startedAt: new Date(run.startedAt).toISOString(),
      endedAt: new Date(run.endedAt!).toISOString(),
      counts: run.counts,
      items: run.items.map((item) => ({
        ...item,
        startedAt: new Date(item.startedAt!).toISOString(),
        endedAt: new Date(item.endedAt!).toISOString(),
      })),
    }) + "\n";
    assert.equal(run.counts.failed, 8);

    const json = recordingIo(env);
    assert.equal(await main(["jobs", "wordy-errors", run.runId, "--json"], json.io), 0);
    assert.equal(json.out.stdout.length, expected.length);
    assert.ok(json.out.stdout === expected, "byte for byte the document of one JSON.stringify");
    assert.ok(expected.length > 8 * MESSAGE);
    const largest = Math.max(...json.out.writes);
    assert.ok(
      largest < 4 * MESSAGE,
      `a write of ${largest} characters holds more than a few items`,
    );
    await knot.clobber();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("jobs shows items cancelled before they started as cancelled with no attempt, and logs --attempt 1 of one says it ended before it started", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-jobs-cancelled-" });
  try {
    const env = { CLOUDKNOT_LOCAL_DIR: join(dir, "knots") };
    const knot = await Knot.create({
      name: "cancelled-view",
      concurrency: 1,
      // Runs until it is cancelled.
      func: () => new Promise<number>(() => setInterval(() => {}, 1000)),
      dir: env.CLOUDKNOT_LOCAL_DIR,
    });
    const run = await knot.map([0, 1], { progress: false });
    await new Promise<void>((resolve) => {
      const off = run.onUpdate(() => run.counts.running === 1 && (off(), resolve()));
    });
    await run.cancel("stopped by the test");
    const jobs = recordingIo(env);
    assert.equal(await main(["jobs", "cancelled-view", run.runId, "--json"], jobs.io), 0);
    const items = JSON.parse(jobs.out.stdout).items;
    assert.deepEqual(
      items.map(({ index, status, attempts }: typeof items[0]) => ({ index, status, attempts })),
      [{ index: 0, status: "cancelled", attempts: 1 }, {
        index: 1,
        status: "cancelled",
        attempts: 0,
      }],
    );
    const logs = recordingIo(env);
    const code = await main(
      ["logs", "cancelled-view", run.runId, "--item", "1", "--attempt", "1"],
      logs.io,
    );
    assert.equal(code, 1);
    assert.equal(
      logs.out.stderr.trim(),
      `error: Item 1 of run ${run.runId} ended before it started (cancelled), so it has no output`,
    );
    await knot.clobber();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
