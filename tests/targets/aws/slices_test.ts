// Many items per Batch job, end to end against the emulator: each child runs
// the real job entry point (src/job/main.ts) as a process, which runs its
// slice on the worker pool, and the AWS target settles every item from the
// records and from what Batch says about the children.
import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeItems } from "../../../src/job/codec.ts";
import { listRecords, readManifest } from "../../../src/job/payload.ts";
import { readAllRecords } from "../../support/records.ts";
import { waitFor } from "../../emulator/test_helpers.ts";
import { runUntil } from "../../support/run_until.ts";
import { endsWithin } from "../../support/ends_within.ts";
import type { ItemError } from "../../../src/job/item_error.ts";
import { validateMapOptions } from "../../../src/knot_options.ts";
import { CloudknotInputError } from "../../../src/util/errors.ts";
import { BatchJob } from "../../../src/targets/aws/batch/batch_job.ts";
import { job, jobsNamed, registerDefinition, startTestBed, type TestBed } from "./helpers.ts";

/** The attempts of each item that wrote a record, by item. */
async function recordedAttempts(bed: TestBed, runId: string): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  const store = bed.target().store.at(`runs/${runId}`);
  for (const { index, attempt } of await readAllRecords(store)) {
    out.set(index, [...(out.get(index) ?? []), attempt].sort());
  }
  return out;
}

/**
 * That a run's one job of two items exited 0 after one attempt (Batch could
 * have retried it) and that attempt left both items' records.
 */
async function assertRanOnce(bed: TestBed, runId: string): Promise<void> {
  const jobs = () => [...bed.emu.batch.jobs.values()].filter((j) => j.jobName.includes(runId));
  await waitFor(() => jobs().every((j) => j.status === "SUCCEEDED" || j.status === "FAILED"));
  assert.deepEqual(jobs().map((j) => [j.status, j.attempts.length]), [["SUCCEEDED", 1]]);
  assert.deepEqual(Object.fromEntries(await recordedAttempts(bed, runId)), { 0: [1], 1: [1] });
}

Deno.test("itemsPerJob is checked with the other map options, as a typed error", () => {
  for (const bad of [0, 1.5, -3, 1e9, "many", null]) {
    assert.throws(
      () => validateMapOptions({ itemsPerJob: bad as never }),
      (e: unknown) =>
        e instanceof CloudknotInputError && e.field === "itemsPerJob" &&
        /itemsPerJob must be "auto" or an integer from 1 to 100,000/.test(e.message),
    );
  }
  assert.throws(
    () => validateMapOptions({ itemsPerJob: 4 }, "local"),
    (e: unknown) =>
      e instanceof CloudknotInputError && /option of targets "aws" and "docker"/.test(e.message),
  );
  validateMapOptions({ itemsPerJob: "auto" });
  validateMapOptions({ itemsPerJob: 250 });
});

Deno.test("AWS target: a Batch child runs a slice of items on the worker pool", async (t) => {
  // 4 vCPUs of 1-vCPU jobs: "auto" makes at most 8 children.
  const bed = await startTestBed(job, { attempts: 2, maxvCpus: 4 });
  try {
    const { emu } = bed;
    const target = bed.target({ attempts: 2 });

    await t.step(
      "a failing and a crashing item fail alone: their neighbours succeed, only they are retried",
      async () => {
        const items = [1, { throw: "x" }, 3, { exit: 7 }, 5, 6];
        const run = await target.map<number>({
          items: encodeItems(items),
          starmap: false,
          env: {},
          itemsPerJob: 3,
        });
        const settled = await run.settled();
        assert.deepEqual(jobsNamed(emu, `squares-${run.runId}-`).map((j) => j.arraySize), [2]);
        assert.deepEqual(
          settled.map((s) => s.status === "fulfilled" ? s.value : undefined),
          [1, undefined, 9, undefined, 25, 36],
        );
        const threw = settled[1]!.status === "rejected" && settled[1]!.reason as ItemError;
        const crashed = settled[3]!.status === "rejected" && settled[3]!.reason as ItemError;
        assert.ok(threw && crashed);
        assert.equal(threw.kind, "threw");
        assert.match(threw.message, /TypeError: bad item x/);
        assert.equal(crashed.kind, "crashed");
        assert.equal(crashed.exitCode, 7);
        assert.match(crashed.message, /exited with code 7/);
        // Each child was retried once, and its retry ran only the item that had failed.
        const attempts = await recordedAttempts(bed, run.runId);
        assert.deepEqual(Object.fromEntries(attempts), {
          0: [1],
          1: [1, 2],
          2: [1],
          3: [1, 2],
          4: [1],
          5: [1],
        });
        assert.equal(threw.attempt, 2);
        assert.equal(crashed.attempt, 2);
        // The inputs are small: every attempt of each child read them whole, with no range.
        const inputGets = emu.requests.filter({ service: "s3", operation: "GetObject" })
          .filter((e) => e.params.Key === `cloudknot/squares/runs/${run.runId}/inputs`);
        assert.deepEqual(inputGets.map((e) => e.params.Range), [
          undefined,
          undefined,
          undefined,
          undefined,
        ]);
        await run.done;
      },
    );

    await t.step(
      "a child retried after its Spot host was reclaimed skips the items it had recorded",
      async () => {
        const items = [1, 2, { slowFirst: true }, 3];
        // The host goes while the third item sleeps (longer than the test runs): once the
        // handle has settled the first two from their records, however long the container
        // takes to get there on a loaded machine.
        const recorded = Promise.withResolvers<void>();
        emu.batch.injectSpotReclaim({ attempt: 1, until: recorded.promise });
        let run;
        try {
          run = await target.map<unknown>({
            items: encodeItems(items),
            starmap: false,
            env: {},
            itemsPerJob: 4,
          });
          const mapped = run;
          // Or the run ended without them: the assertions below say how. The third item sleeps
          // until the host goes, so a handle that never settles the first two would wait for
          // ever: the bound fails the step there instead, and `finally` lets the host go.
          await endsWithin(
            runUntil(
              mapped,
              () =>
                mapped.finished ||
                (mapped.settledItem(0) !== undefined && mapped.settledItem(1) !== undefined),
            ),
            120_000,
            "the first two items settled from their records while the third runs",
          );
        } finally {
          recorded.resolve();
        }
        assert.deepEqual(await run.results(), [1, 4, "in time", 9]);
        const attempts = await recordedAttempts(bed, run.runId);
        // The first two ran once; the other two only in the second attempt.
        assert.deepEqual(Object.fromEntries(attempts), { 0: [1], 1: [1], 2: [2], 3: [2] });
        const [child] = jobsNamed(emu, `squares-${run.runId}-`);
        const detail = emu.batch.jobs.get(child!.jobId)!;
        assert.match(detail.attempts[0]!.statusReason ?? "", /^Host EC2 .* terminated\.$/);
        await run.done;
      },
    );

    await t.step(
      "a child's records arrive as few objects: one PutObject per segment, one GetObject each to poll or collect",
      async () => {
        const items = Array.from({ length: 12 }, (_, i) => i);
        const squares = items.map((x) => x * x);
        const outRequests = (operation: string) =>
          emu.requests.filter({ service: "s3", operation }).filter((e) =>
            String(e.params.Key).includes(`/runs/${run.runId}/out/`)
          );
        emu.requests.clear();
        const run = await target.map<number>({
          items: encodeItems(items),
          starmap: false,
          env: {},
          itemsPerJob: 12,
        });
        assert.deepEqual(await run.results(), squares);
        await run.done;
        const objects = await Array.fromAsync(listRecords(target.store.at(`runs/${run.runId}`)));
        // One flush when the child ends, or a few on a slow machine: never one per item.
        assert.ok(objects.length <= items.length / 3, `${objects.length} objects`);
        assert.equal(outRequests("PutObject").length, objects.length);
        const gets = outRequests("GetObject").map((e) => e.params.Key);
        assert.equal(gets.length, objects.length);
        assert.equal(new Set(gets).size, gets.length);
        // collect() from a target that never saw the run reads the same segments.
        emu.requests.clear();
        const again = await bed.target({ attempts: 2 }).collect<number>(run.runId);
        assert.deepEqual(await again.results(), squares);
        assert.equal(outRequests("GetObject").length, objects.length);
        await again.done;
      },
    );

    await t.step(
      '"auto" makes at most 2 × maxvCpus ÷ vCPUs children, and collect() elsewhere maps items the same way',
      async () => {
        const items = Array.from({ length: 20 }, (_, i) => i);
        const run = await target.map<number>({
          items: encodeItems(items),
          starmap: false,
          env: {},
        });
        assert.deepEqual(await run.results(), items.map((x) => x * x));
        const sizes = jobsNamed(emu, `squares-${run.runId}-`).map((j) => j.arraySize ?? 1);
        assert.equal(sizes.length, 1);
        assert.ok(sizes[0]! <= 8, `${sizes[0]} children`);
        const manifest = await readManifest(target.store.at(`runs/${run.runId}`));
        assert.equal(manifest?.itemsPerJob, 3);
        assert.equal(manifest?.jobs?.[0]?.slice, 3);
        await run.done;
        const again = await bed.target({ attempts: 2 }).collect<number>(run.runId);
        assert.deepEqual(await again.results(), items.map((x) => x * x));
        const usage = await again.usage();
        // What the run used is counted per child, not once per item.
        assert.equal(usage.attempts.length, sizes[0]);
        // A BatchJob reads its items by slice too: the parent all of them, a child its own.
        const [{ jobId }] = jobsNamed(emu, `squares-${run.runId}-`) as [{ jobId: string }];
        const options = { session: bed.session, pollIntervalMs: 50 };
        const [parent, child] = await BatchJob.fromIds([jobId, `${jobId}:1`], options);
        assert.deepEqual(await parent!.result(), items.map((x) => x * x));
        assert.deepEqual(await child!.result(), [9, 16, 25]);
      },
    );

    await t.step("itemsPerJob 1 starts one child per item, as before slices", async () => {
      const items = [1, 2, 3];
      const run = await target.map<number>({
        items: encodeItems(items),
        starmap: false,
        env: {},
        itemsPerJob: 1,
      });
      assert.deepEqual(await run.results(), [1, 4, 9]);
      assert.deepEqual(jobsNamed(emu, `squares-${run.runId}-`).map((j) => j.arraySize), [3]);
      const manifest = await readManifest(target.store.at(`runs/${run.runId}`));
      assert.equal(manifest?.itemsPerJob, undefined);
      await run.done;
    });

    await t.step(
      "run.logs(i) shows only item i's lines of the stream its child shares",
      async () => {
        const items = [{ log: ["a0", "b0"] }, { log: ["a1"] }, { log: ["a2", "b2", "c2"] }];
        const run = await target.map<number>({
          items: encodeItems(items),
          starmap: false,
          env: {},
          itemsPerJob: 3,
        });
        assert.deepEqual(await run.results(), [2, 1, 3]);
        assert.deepEqual(await Array.fromAsync(run.logs(1)), ["a1"]);
        assert.deepEqual(await Array.fromAsync(run.logs(2)), ["a2", "b2", "c2"]);
        await run.done;
      },
    );

    await t.step(
      "a knot's permissions apply in its container: a file it was not granted is refused, at once and for good",
      async () => {
        const granted = join(bed.dir, "granted.txt");
        const secret = join(bed.dir, "secret.txt");
        await Deno.writeTextFile(granted, "yes");
        await Deno.writeTextFile(secret, "no");
        // Batch could retry the job twice: a refused item makes it exit 0, with its record final.
        const definition = await registerDefinition(bed, "ck-def-permissions", {
          attempts: 3,
          environment: {
            CLOUDKNOT_PERMISSIONS: JSON.stringify({ net: true, read: [granted] }),
          },
        });
        const run = await bed.target({ jobDefinition: definition, attempts: 3 }).map<string>({
          items: encodeItems([{ read: granted }, { read: secret }]),
          starmap: false,
          env: {},
          itemsPerJob: 2,
        });
        const [read, refused] = await run.settled();
        assert.deepEqual(read, { index: 0, status: "fulfilled", value: "yes" });
        assert.ok(refused?.status === "rejected");
        const error = refused.reason as ItemError;
        assert.equal(error.remote.name, "NotCapable");
        assert.equal(error.kind, "refused");
        assert.equal(error.attempt, 1);
        assert.match(
          error.message,
          /Requires read access to ".*secret\.txt": the knot's permissions do not allow it, so the item is not retried/,
        );
        await run.done;
        await assertRanOnce(bed, run.runId);
      },
    );

    await t.step(
      "an item whose function runs a program missing where it runs fails at once: Batch does not retry its child",
      async () => {
        // Batch could retry the job twice: the item's record is final, and the job exits 0.
        const definition = await registerDefinition(bed, "ck-def-program", {
          attempts: 3,
          environment: { CLOUDKNOT_PERMISSIONS: JSON.stringify({ net: true, run: true }) },
        });
        const run = await bed.target({ jobDefinition: definition, attempts: 3 }).map<string>({
          items: encodeItems([{ spawn: "cloudknot-no-such-program" }, 4]),
          starmap: false,
          env: {},
          itemsPerJob: 2,
        });
        const [missing, squared] = await run.settled();
        assert.deepEqual(squared, { index: 1, status: "fulfilled", value: 16 });
        assert.ok(missing?.status === "rejected");
        const error = missing.reason as ItemError;
        assert.equal(error.remote.name, "NotFound");
        assert.equal(error.kind, "threw");
        assert.equal(error.attempt, 1);
        assert.match(error.message, /the program cloudknot-no-such-program is not /);
        await run.done;
        await assertRanOnce(bed, run.runId);
      },
    );

    await t.step(
      "an item whose result the codec refuses for its kind fails at once: Batch does not retry its child",
      async () => {
        // Batch could retry the job twice: the item's record is final, and the job exits 0.
        const definition = await registerDefinition(bed, "ck-def-unsendable", { attempts: 3 });
        const run = await bed.target({ jobDefinition: definition, attempts: 3 }).map<number>({
          items: encodeItems([{ unsendable: 1 }, 4]),
          starmap: false,
          env: {},
          itemsPerJob: 2,
        });
        const [unsendable, squared] = await run.settled();
        assert.deepEqual(squared, { index: 1, status: "fulfilled", value: 16 });
        assert.ok(unsendable?.status === "rejected");
        const error = unsendable.reason as ItemError;
        assert.equal(error.kind, "unencodable");
        assert.equal(error.attempt, 1);
        assert.match(error.message, /Cannot encode a function at \$\.cb: /);
        await run.done;
        await assertRanOnce(bed, run.runId);
      },
    );
  } finally {
    await bed.close();
  }
});
