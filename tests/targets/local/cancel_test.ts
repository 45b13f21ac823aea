import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot, MapError, type MapRun } from "../../../mod.ts";
import { itemEnds as ends } from "../../support/item_ends.ts";
import { runUntil } from "../../support/run_until.ts";
import { assertCancelledView } from "../../support/cancelled_view.ts";
import { withKnot } from "./helpers.ts";
import { cliHere, withHome } from "../../cli/helpers.ts";

/** The `MapError` a run's results() rejects with. */
async function mapError(run: MapRun<unknown>): Promise<MapError<unknown>> {
  const error = await run.results().then(() => undefined, (e) => e);
  assert.ok(error instanceof MapError);
  return error;
}

Deno.test("a handle that cancels a run another handle ran reads the log first: an item that process finished before it let go is a success on the cancelling handle, as for every later collect()", async () => {
  const marks = await Deno.makeTempDir({ prefix: "cloudknot-marks-" });
  try {
    await withKnot({
      name: "cancel-reads-log",
      concurrency: 1,
      permissions: { read: [marks] },
      // Ends once the test says so.
      func: async (marks: string) => {
        while (true) {
          try {
            await Deno.stat(`${marks}/go`);
            return 1;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        }
      },
    }, async (knot, dir) => {
      const run = await knot.map([marks], { progress: false });
      // A handle of another process that read the run while its item ran, and
      // stopped following it (its signal), as one between two looks does.
      const stop = new AbortController();
      const other = await Knot.create({ name: "cancel-reads-log", dir });
      const follower = await other.collect(run.runId, { signal: stop.signal, progress: false });
      stop.abort();
      assert.equal(follower.counts.succeeded, 0);
      // The item ends, and the process that ran the run lets go of it.
      await Deno.writeTextFile(join(marks, "go"), "");
      await run.done;
      await follower.cancel("stopped after the run ended");
      const later = ends(await (await knot.collect(run.runId, { progress: false })).settled());
      assert.deepEqual(later, ["ok 1"]);
      assert.deepEqual(ends(await follower.settled()), later);
    });
  } finally {
    await Deno.remove(marks, { recursive: true });
  }
});

Deno.test("a run cancelled mid-flight says what its log says: an item whose success was recorded is a success on the handle and for every later collect()", async () => {
  await withKnot({
    name: "cancel-agrees",
    concurrency: 2,
    retries: 2,
    // Every fifth item fails its attempts, so records of failed attempts are in flight too.
    func: (x: number) => {
      if (x % 5 === 0) throw new Error(`item ${x} fails`);
      return x;
    },
  }, async (knot) => {
    const run = await knot.map(Array.from({ length: 20_000 }, (_, i) => i), { progress: false });
    // Cancelled while the workers are answering batch after batch.
    await runUntil(run, () => run.counts.succeeded >= 1_000);
    await run.cancel("stopped mid-flight");
    const handle = ends(await run.settled());
    assert.ok(run.counts.cancelled > 0, JSON.stringify(run.counts));
    const later = await knot.collect(run.runId, { progress: false });
    assert.deepEqual(later.counts, run.counts);
    const collected = ends(await later.settled());
    const differ = handle.flatMap((end, i) =>
      end === collected[i] ? [] : [`${i}: ${end} / ${collected[i]}`]
    );
    assert.deepEqual(differ, [], "items the handle and a later collect() end differently");
    const [ours, theirs] = [await mapError(run), await mapError(later)];
    assert.deepEqual(ours.failed, theirs.failed);
    assert.equal(ours.message.split("\n")[0], theirs.message.split("\n")[0]);
  });
});

Deno.test("the job view shows items cancelled before they started as cancelled with no attempt, and the one cancelled as it ran with its attempt, on the handle and on a later collect()", async () => {
  await withKnot({
    name: "cancel-view",
    concurrency: 1,
    // Runs until it is cancelled.
    func: () => new Promise<number>(() => setInterval(() => {}, 1000)),
  }, async (knot) => {
    const run = await knot.map([0, 1, 2], { progress: false });
    await runUntil(run, () => run.counts.running === 1);
    await run.cancel("stopped by the test");
    const later = await knot.collect(run.runId, { progress: false });
    await later.done;
    assertCancelledView([run, later], 0);
    for (const handle of [run, later]) {
      const view = String(handle);
      assert.match(view, /^1 +cancelled +0 +Item 1 was cancelled: stopped by the test$/m);
      assert.match(view, /^0 +cancelled +1 +\d+\.\ds +Item 0 was cancelled: stopped by the test$/m);
      // An item that never started printed nothing, and its logs say so when asked for attempt 1.
      assert.deepEqual(await Array.fromAsync(handle.logs(1)), []);
      await assert.rejects(
        () => Array.fromAsync(handle.logs(1, { attempt: 1 })),
        RangeError,
        "Item 1 was cancelled before it started: it ran no attempt, so it has no output",
      );
    }
  });
});

Deno.test("logs of an attempt of an item a retry cancelled before it started there say so and where its earlier attempts are, on the retry's handle and on the command line", async () => {
  const marks = await Deno.makeTempDir({ prefix: "cloudknot-marks-" });
  try {
    await withHome(async (home) => {
      await withKnot({
        name: "cancel-retried",
        concurrency: 1,
        permissions: { read: [marks] },
        // Fails until the test says so, then runs until it is cancelled.
        func: async (marks: string) => {
          await Deno.stat(`${marks}/go`);
          return await new Promise<number>(() => setInterval(() => {}, 1000));
        },
      }, async (knot, dir) => {
        const run = await knot.map([marks, marks], { progress: false });
        await run.settled();
        await Deno.writeTextFile(join(marks, "go"), "");
        const merged = await knot.collect(run.runId, { progress: false }).then((r) =>
          r.retry({ progress: false })
        );
        await runUntil(merged, () => merged.counts.running === 1);
        await merged.cancel("stopped by the test");
        await merged.done;
        const unstarted = merged.items.find((i) => i.attempts === 0)!.index;
        const earlier = `its earlier attempts are run ${run.runId}'s`;
        await assert.rejects(
          () => Array.fromAsync(merged.logs(unstarted, { attempt: 1 })),
          (e: Error) =>
            e instanceof RangeError &&
            e.message.startsWith(
              `Item ${unstarted} was cancelled before it started in run ${merged.runId}: `,
            ) &&
            e.message.includes(
              `${earlier}, read with (await knot.collect("${run.runId}")).logs(${unstarted}, ` +
                "{ attempt })",
            ),
        );
        const r = await cliHere(
          home,
          ["logs", "cancel-retried", merged.runId, "--item", String(unstarted), "--attempt", "1"],
          { env: { CLOUDKNOT_LOCAL_DIR: dir, CLOUDKNOT_LOCAL_RUNS: undefined } },
        );
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, new RegExp(`ended before it started \\(cancelled\\)`));
        assert.ok(
          r.stderr.replace(/\s+/g, " ").includes(
            `${earlier}, read with cloudknot logs cancel-retried ${run.runId} --item ` +
              `${unstarted} --attempt N`,
          ),
          r.stderr,
        );
      });
    });
  } finally {
    await Deno.remove(marks, { recursive: true });
  }
});
