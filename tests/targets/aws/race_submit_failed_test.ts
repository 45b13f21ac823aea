// A map whose submission FAILED part-way (an error, not a kill: Batch
// refused its second SubmitJob, or that one's answer was lost every time it
// was sent), then read: the map records in the run's manifest that it gave
// up, with the jobs it had submitted (and stopped), so every reader, with
// its config file or another, ends the items it never submitted at once,
// saying so and how to map them again, instead of waiting the 10-minute
// submission window for jobs that never come.
import assert from "node:assert/strict";
import { join } from "node:path";
import { SubmitError } from "../../../mod.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import { StateFile } from "../../../src/state/mod.ts";
import { job, jobsNamed, startTestBed, type TestBed } from "./helpers.ts";

const HOUR = 3_600_000;

/** Collects run `runId` with a reader that would wait an hour for missing jobs, after its third poll round (or its end). */
async function readThreeRounds(bed: TestBed, runId: string, state?: StateFile) {
  let rounds = 0;
  const third = Promise.withResolvers<void>();
  const warned: string[] = [];
  const reader = bed.target({
    submitWindowMs: HOUR,
    submitGraceMs: HOUR,
    warn: (m) => warned.push(m),
    onPoll: () => ++rounds === 3 && third.resolve(),
    ...(state !== undefined ? { state } : {}),
  });
  const stop = new AbortController();
  const run = await reader.collect<number>(runId, { signal: stop.signal });
  // A run whose every item ended polls no more.
  await Promise.race([third.promise, run.done]);
  return { run, stop, warned };
}

for (
  const [how, nth, fail] of [
    [
      "Batch refused its second SubmitJob (its job definition deregistered meanwhile)",
      // Batch reads the job definition when the request lands: the second is held.
      2,
      (bed: TestBed) =>
        bed.session.batch.deregisterJobDefinition({ jobDefinition: bed.resources.jobDefinition })
          .then(() => {}),
    ],
    [
      "its second SubmitJob's answer was a server error every time it was sent",
      // A fault hits a request when it arrives: the first is held, so the next ones are hit.
      1,
      (bed: TestBed) => {
        bed.emu.faults.add({ service: "batch", operation: "SubmitJob", kind: "500" });
        return Promise.resolve();
      },
    ],
  ] as const
) {
  Deno.test(`a map that gave up part-way because ${how}: readers with its config file and with another end the items it never submitted at once, saying to map them again`, async () => {
    const bed = await startTestBed(job);
    const first = Promise.withResolvers<void>();
    try {
      // Jobs of items 0–1, 2–3 and 4, one at a time: the nth is held until the second is
      // bound to fail (the ones before it go on at once).
      if (nth > 1) {
        bed.emu.faults.add({
          service: "batch",
          operation: "SubmitJob",
          kind: "latency",
          delayMs: 0,
          times: nth - 1,
        });
      }
      const held = bed.emu.faults.add({
        service: "batch",
        operation: "SubmitJob",
        kind: "latency",
        until: first.promise,
        times: 1,
      });
      const mapping = bed.target({ maxArraySize: 2, submitConcurrency: 1 }).map<number>({
        items: encodeItems([1, 2, 3, 4, 5]),
        starmap: false,
        env: {},
        itemsPerJob: 1,
      }).then(() => undefined, (e) => e);
      while (bed.emu.faults.list().find((f) => f.id === held)?.hits !== 1) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await fail(bed);
      first.resolve();
      const error = await mapping;
      assert.ok(error instanceof SubmitError, String(error));
      assert.match(error.message, /after 1 of 3 jobs .*the submitted jobs were stopped/);
      const [manifest] = await bed.target().runs();
      const runId = manifest!.runId;
      assert.equal(jobsNamed(bed.emu, `${bed.knot}-${runId}-`).length, 1);
      for (const state of [undefined, new StateFile({ path: join(bed.dir, "other") })]) {
        const { run, stop, warned } = await readThreeRounds(bed, runId, state);
        for (const index of [2, 3, 4]) {
          const ended = run.settledItem(index);
          assert.equal(ended?.status, "rejected", `item ${index} is ended at once`);
          assert.equal(ended.reason.remote?.name, "MissingJobError");
          assert.match(
            ended.reason.message,
            /the map that submitted the run gave up at .*, when its SubmitJob failed \(.+\), before it submitted this item's job, so it was never submitted and never ran; fix the cause and map it again with run\.retry\(\)/,
          );
        }
        assert.deepEqual(warned.filter((m) => /no AWS Batch job yet/.test(m)), []);
        stop.abort();
      }
    } finally {
      first.resolve();
      await bed.close();
    }
  });
}
