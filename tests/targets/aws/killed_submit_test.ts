// A map killed (SIGKILL) part-way through submitting its run's jobs, then
// read: a reader with the map's config file sees from the map's submission
// mark that it died, waits only for a SubmitJob it may have sent, then ends
// the items it never submitted, so that a retry runs them at once, not when
// the 10-minute submission window is over. A reader that cannot know (a map
// still submitting, another config file) waits as before.
import assert from "node:assert/strict";
import { join } from "node:path";
import { StateFile } from "../../../src/state/mod.ts";
import type { AwsTarget } from "../../../src/targets/aws/aws_target.ts";
import type { MapRun } from "../../../mod.ts";
import { killAt } from "../../support/kill_at.ts";
import { job, jobsNamed, mapInChild, startTestBed, type TestBed } from "./helpers.ts";

const HOUR = 3_600_000;

/**
 * Collects run `runId` with a reader that waits an hour for the jobs of a
 * map it cannot see die, and not at all for those of one it sees dead, and
 * gives the handle after its third poll round.
 */
async function readThreeRounds(
  bed: TestBed,
  runId: string,
  options: { state?: StateFile; warn?: (m: string) => void } = {},
): Promise<{ run: MapRun<number>; stop: AbortController; reader: AwsTarget }> {
  let rounds = 0;
  const third = Promise.withResolvers<void>();
  const reader = bed.target({
    submitWindowMs: HOUR,
    submitGraceMs: 0,
    warn: options.warn ?? (() => {}),
    onPoll: () => ++rounds === 3 && third.resolve(),
    ...(options.state !== undefined ? { state: options.state } : {}),
  });
  const stop = new AbortController();
  const run = await reader.collect<number>(runId, { signal: stop.signal });
  await third.promise;
  return { run, stop, reader };
}

Deno.test("a map killed part-way through its submission: a reader with its config file ends the items it never submitted once its last SubmitJob landed, a reader of a map still submitting and one with another config file keep waiting, and run.retry() runs only those items", async () => {
  const bed = await startTestBed(job);
  try {
    const items = [1, 2, 3, 4, 5];
    // Jobs of items 0–1, 2–3 and 4, submitted one at a time: killed with the second's SubmitJob
    // sent, before it sent the third.
    let runId = "";
    await killAt(
      bed.emu,
      { service: "batch", operation: "SubmitJob", nth: 2 },
      () => mapInChild(bed, items, { maxArraySize: 2 }),
      // The map is alive, held at its second SubmitJob: a reader with its config file waits.
      async () => {
        const [manifest] = await bed.target().runs();
        runId = manifest!.runId;
        const warned: string[] = [];
        const { run, stop } = await readThreeRounds(bed, runId, { warn: (m) => warned.push(m) });
        for (const index of [2, 3, 4]) assert.equal(run.settledItem(index), undefined);
        assert.match(warned.join("\n"), /the map that submits the run is still submitting it/);
        stop.abort();
      },
    );
    // Dead, its second SubmitJob landed: a reader with its config file reads the jobs it
    // submitted, and ends item 4, which no job runs, without waiting for the hour.
    const { run } = await readThreeRounds(bed, runId);
    const ended = run.settledItem(4);
    assert.equal(ended?.status, "rejected", "item 4 is ended at once");
    assert.equal(ended.reason.remote?.name, "MissingJobError");
    assert.match(ended.reason.message, /never ran; map it again with run\.retry\(\)/);
    await run.done;
    assert.deepEqual(
      run.items.map((i) => i.status),
      ["succeeded", "succeeded", "succeeded", "succeeded", "failed"],
    );
    // A reader with another config file sees no mark: it cannot know, and waits.
    const other = new StateFile({ path: join(bed.dir, "other") });
    const elsewhere = await readThreeRounds(bed, runId, { state: other });
    assert.equal(elsewhere.run.settledItem(4), undefined);
    elsewhere.stop.abort();
    // The retry reads the run again (its reader too sees the map dead) and runs item 4 alone.
    const whole = await run.retry({ progress: false });
    assert.deepEqual(await whole.results(), [1, 4, 9, 16, 25]);
    assert.notEqual(whole.runId, runId);
    assert.equal(jobsNamed(bed.emu, `${bed.knot}-${runId}-`).length, 2);
    assert.deepEqual(
      jobsNamed(bed.emu, `${bed.knot}-${whole.runId}-`).map((j) => j.arraySize),
      [undefined],
      "one job of one item",
    );
  } finally {
    await bed.close();
  }
});
