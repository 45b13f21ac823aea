// collect(): another process re-opens a run from S3 and Batch and gets the
// same results; runs() lists the knot's runs; the state file keeps the
// newest 100 runs.
import assert from "node:assert/strict";
import { join } from "node:path";
import { CloudknotInputError, type ItemSettled } from "../../../mod.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import { killAt } from "../../support/kill_at.ts";
import { job, jobsNamed, mapInChild, ROOT, startTestBed } from "./helpers.ts";

function summarize(settled: ItemSettled<unknown>[]): unknown[] {
  return settled.map((s) =>
    s.status === "fulfilled"
      ? { value: s.value ?? null }
      : { kind: s.reason.kind, message: s.reason.message }
  );
}

Deno.test("AWS target: collect() from a fresh process gets the same results, even while the run goes on", async () => {
  const bed = await startTestBed(job);
  const { emu } = bed;
  try {
    const target = bed.target();
    const run = await target.map<unknown>({
      items: encodeItems([3, { sleep: 1500 }, { throw: "z" }, { nothing: true }]),
      starmap: false,
      env: {},
    });
    // A new Deno process, started while the run is going on, adopts it.
    const script = `
      import { AwsSession } from "./src/aws/mod.ts";
      import { StateFile } from "./src/state/mod.ts";
      import { AwsTarget } from "./src/targets/aws/aws_target.ts";
      const session = await AwsSession.create();
      const target = new AwsTarget({
        session, state: new StateFile(), knot: "squares", bucket: ${
      JSON.stringify(bed.resources.bucket)
    },
        prefix: "cloudknot/squares", jobQueue: ${JSON.stringify(bed.resources.jobQueue)},
        jobDefinition: ${JSON.stringify(bed.resources.jobDefinition)}, attempts: 1,
        profile: "default", region: session.region, pollIntervalMs: 50, maxPollIntervalMs: 200,
      });
      const run = await target.collect(${JSON.stringify(run.runId)});
      const settled = await run.settled();
      console.log(JSON.stringify({
        running: (await target.runs()).map((m) => m.runId),
        settled: settled.map((s) => s.status === "fulfilled"
          ? { value: s.value ?? null }
          : { kind: s.reason.kind, message: s.reason.message }),
      }));
    `;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", "--quiet", script],
      cwd: ROOT,
      env: { ...emu.env, CLOUDKNOT_CONFIG_FILE: join(bed.dir, "cloudknot") },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const mine = summarize(await run.settled());
    await run.done;
    const out = await child;
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const theirs = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.deepEqual(theirs.settled, mine);
    assert.deepEqual(mine, [
      { value: 9 },
      { value: "slept" },
      { kind: "threw", message: "Item 2 threw TypeError: bad item z" },
      { value: null },
    ]);
    assert.deepEqual(theirs.running, [run.runId]);
  } finally {
    await bed.close();
  }
});

Deno.test("AWS target: collect() without run.json finds the jobs by name; runs() lists every run", async () => {
  const bed = await startTestBed(job);
  const { emu } = bed;
  try {
    const target = bed.target({ maxArraySize: 3 });
    const first = await target.map<number>({ items: encodeItems([1, 2]), starmap: false, env: {} });
    await first.done;
    const second = await target.map<number>({
      items: encodeItems([1, 2, 3, 4, 5, 6, 7]),
      starmap: false,
      env: {},
    });
    await second.done;
    // As if the client had stopped before writing run.json: only the index's manifest is left.
    const objects = emu.s3.buckets.get(bed.resources.bucket)!.objects;
    const manifestKey = `cloudknot/squares/runs/${second.runId}/run.json`;
    assert.ok(objects.delete(manifestKey));
    const again = await target.collect<number>(second.runId);
    assert.deepEqual(await again.results(), [1, 4, 9, 16, 25, 36, 49]);
    await again.done;
    const repaired = JSON.parse(new TextDecoder().decode(objects.get(manifestKey)!.body));
    assert.deepEqual(
      repaired.jobs.map((j: { offset: number; size: number; array: boolean }) => [
        j.offset,
        j.size,
        j.array,
      ]),
      [[0, 3, true], [3, 3, true], [6, 1, false]],
    );
    // A job the queue does not show by name (as Batch forgets jobs days after they end), with no
    // job of the run submitted for the whole submission window (here 0 ms): its item is read from
    // its record all the same.
    assert.ok(objects.delete(manifestKey));
    const last = [...emu.batch.jobs.values()].find((j) =>
      j.jobName === `squares-${second.runId}-2`
    )!;
    last.jobName = "renamed";
    const reader = bed.target({ maxArraySize: 3, submitWindowMs: 0 });
    assert.deepEqual(await (await reader.collect<number>(second.runId)).results(), [
      1,
      4,
      9,
      16,
      25,
      36,
      49,
    ]);
    // Without its record either, the item ends with an error that says so.
    const record = new RegExp(
      `^cloudknot/squares/runs/${second.runId}/out/(\\d+-)?(6-1|s6-6-1-\\d+)$`,
    );
    const records = [...objects.keys()].filter((key) => record.test(key));
    assert.equal(records.length, 1);
    objects.delete(records[0]!);
    const partial = await bed.target({ maxArraySize: 3, submitWindowMs: 0 })
      .collect<number>(second.runId);
    const settled = await partial.settled();
    assert.deepEqual(settled.slice(0, 6).map((s) => s.status), Array(6).fill("fulfilled"));
    const missing = settled[6]!;
    assert.ok(missing.status === "rejected");
    assert.equal(missing.reason.remote.name, "MissingJobError");
    assert.match(
      missing.reason.remote.message,
      new RegExp(
        `^No AWS Batch job of run ${second.runId} runs item 6, and none of the run's jobs was ` +
          `submitted after \\S+: the map that submitted the run stopped part-way \\(killed, or its ` +
          `SubmitJob failed\\) before it submitted this item's job, so it never ran; map it ` +
          `again with run\\.retry\\(\\) on the run's handle \\(knot\\.collect\\("${second.runId}"\\) ` +
          `of knot squares\\)$`,
      ),
    );
    await partial.done;
    assert.equal(objects.has(manifestKey), false);
    // What the message says finishes the rest: run.retry() maps the item again, and the whole
    // input's results are there.
    const retried = await partial.retry({ progress: false });
    assert.deepEqual(await retried.results(), [1, 4, 9, 16, 25, 36, 49]);
    await retried.done;
    assert.deepEqual(retried.retryOf, { runId: second.runId, items: [6] });
    const runs = await target.runs();
    assert.deepEqual(runs.map((m) => [m.runId, m.count]), [
      [first.runId, 2],
      [second.runId, 7],
      [retried.runId, 1],
    ]);
    await assert.rejects(target.collect("20000101T000000Z-000000"), CloudknotInputError);
    await assert.rejects(target.collect("../x"), CloudknotInputError);
  } finally {
    await bed.close();
  }
});

Deno.test("AWS target: the state file keeps the newest 100 runs and forgets the jobs of older ones", async () => {
  const bed = await startTestBed(job);
  try {
    const old = Array.from(
      { length: 100 },
      (_, i) => `20200101T0000${String(i).padStart(2, "0")}Z-aaaaaa`,
    );
    await bed.state.update((doc) => {
      doc.set("knot squares", new Map([["runs", old.join(" ")]]));
      doc.set(
        "batch-jobs default us-east-1",
        new Map([["old-job-0", `squares-${old[0]}-0`], ["old-job-1", `squares-${old[1]}-0`]]),
      );
    });
    const run = await bed.target().map<number>({
      items: encodeItems([2]),
      starmap: false,
      env: {},
    });
    const doc = await bed.state.read();
    const runs = doc.get("knot squares")!.get("runs")!.split(" ");
    assert.equal(runs.length, 100);
    assert.equal(runs[0], old[1]);
    assert.equal(runs.at(-1), run.runId);
    const jobs = doc.get("batch-jobs default us-east-1")!;
    assert.equal(jobs.has("old-job-0"), false);
    assert.equal(jobs.get("old-job-1"), `squares-${old[1]}-0`);
    assert.equal(jobs.size, 2);
    assert.deepEqual(await run.results(), [4]);
    await run.done;
  } finally {
    await bed.close();
  }
});

Deno.test("AWS target: a map killed while its SubmitJob is in flight: collect() waits for the job instead of calling its items never submitted, and reads them once the job lands", async () => {
  const bed = await startTestBed(job);
  const { emu } = bed;
  try {
    // The killed client maps 3 items as 2 jobs, one at a time: it dies with the second one's
    // SubmitJob sent and not yet answered.
    let polled = Promise.withResolvers<void>();
    const warned: string[] = [];
    const reader = bed.target({ onPoll: () => polled.resolve(), warn: (m) => warned.push(m) });
    let collected: Awaited<ReturnType<typeof reader.collect<number>>> | undefined;
    await killAt(
      emu,
      { service: "batch", operation: "SubmitJob", nth: 2 },
      () => mapInChild(bed, [1, 2, 3]),
      undefined,
      // The client is dead; its second SubmitJob has not reached Batch yet.
      async () => {
        const [manifest] = await reader.runs();
        assert.ok(manifest !== undefined && manifest.jobs === undefined);
        collected = await reader.collect<number>(manifest.runId);
        await polled.promise;
        polled = Promise.withResolvers<void>();
        await polled.promise;
        // Item 2's job is not there yet: it waits, neither failed nor told to be mapped again.
        assert.equal(collected.counts.failed, 0);
        assert.ok(collected.counts.succeeded < 3);
        // The map's mark beside the config file says it died: only the job it sent may come.
        assert.deepEqual(warned.map((m) => m.replace(/until \S+;/, "until T;")), [
          `Item 2 of run ${manifest.runId} of knot squares has no AWS Batch job yet: the map that ` +
          "submitted the run with this config file ended before it submitted its job (it was " +
          "killed, or crashed), and only a job it sent just before may still come. Waiting for " +
          "its job until T; do not map it again meanwhile",
        ]);
      },
    );
    // The dead client's SubmitJob landed: its job runs, once, and the reader reads its item.
    assert.deepEqual(await collected!.results(), [1, 4, 9]);
    await collected!.done;
    assert.equal(jobsNamed(emu, `squares-${collected!.runId}-`).length, 2);
    // The reader wrote the run's manifest with both jobs: later readers need no look by name.
    const manifest = emu.s3.buckets.get(bed.resources.bucket)!.objects
      .get(`cloudknot/squares/runs/${collected!.runId}/run.json`);
    assert.deepEqual(
      JSON.parse(new TextDecoder().decode(manifest!.body)).jobs.map((j: { offset: number }) =>
        j.offset
      ),
      [0, 2],
    );
  } finally {
    await bed.close();
  }
});

Deno.test("AWS target: collect() of a run without run.json looks its jobs up by name once, and its first poll round does not look again at once", async () => {
  const bed = await startTestBed(job);
  const { emu } = bed;
  try {
    const run = await bed.target({ maxArraySize: 2 }).map<number>({
      items: encodeItems([1, 2, 3]),
      starmap: false,
      env: {},
      itemsPerJob: 1,
    });
    await run.done;
    // No run.json, and neither item 2's job (not listed by name) nor its record: the reader
    // looks for the job each round.
    const objects = emu.s3.buckets.get(bed.resources.bucket)!.objects;
    assert.ok(objects.delete(`cloudknot/squares/runs/${run.runId}/run.json`));
    [...emu.batch.jobs.values()].find((j) => j.jobName === `squares-${run.runId}-1`)!.jobName =
      "renamed";
    const record = new RegExp(
      `^cloudknot/squares/runs/${run.runId}/out/(\\d+-)?(2-1|s2-2-1-\\d+)$`,
    );
    const records = [...objects.keys()].filter((key) => record.test(key));
    assert.equal(records.length, 1);
    objects.delete(records[0]!);
    const lookups = () =>
      emu.requests.filter({ service: "batch", operation: "ListJobs" })
        .filter((r) => r.params.filters !== undefined).length;
    const before = lookups();
    const rounds = [Promise.withResolvers<void>(), Promise.withResolvers<void>()];
    let round = 0;
    const stop = new AbortController();
    const reader = bed.target({
      submitWindowMs: 3_600_000,
      warn: () => {},
      onPoll: () => rounds[round++]?.resolve(),
    });
    const collected = await reader.collect<number>(run.runId, { signal: stop.signal });
    assert.equal(lookups() - before, 1, "the open looks the run's jobs up by name");
    await rounds[0]!.promise;
    assert.equal(lookups() - before, 1, "the first round takes the open's look");
    await rounds[1]!.promise;
    assert.equal(lookups() - before, 2, "the next round looks again");
    assert.equal(collected.settledItem(2), undefined);
    stop.abort();
  } finally {
    await bed.close();
  }
});
