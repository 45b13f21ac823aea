// What a retry of many items asks S3: the run's inputs are read back a window
// at a time, never one request per item, with the jobs run in this process
// (the job entry's logic against the emulator's S3, no process per child).
import assert from "node:assert/strict";
import { encodeItems } from "../../../src/job/codec.ts";
import { RUN_KEYS } from "../../../src/job/payload.ts";
import { inlineJobRunner, startTestBed } from "./helpers.ts";

Deno.test("AWS target: retry() of a hundred failed items reads their inputs back with one ranged read of the index and one of the inputs, not two reads per item", async () => {
  // The function the jobs run fails on every 20th item until the retry.
  const failing = { on: true };
  const fn = (x: number) => {
    if (failing.on && x % 20 === 0) throw new Error(`item ${x} fails the first time`);
    return x + 1;
  };
  const bed = await startTestBed((x: number) => x + 1, {
    maxvCpus: 8,
    emulator: { runner: inlineJobRunner(fn, { capacity: 8 }) },
  });
  const { emu } = bed;
  try {
    const n = 2000;
    const items = Array.from({ length: n }, (_, i) => i);
    const run = await bed.target().map<number>({
      items: encodeItems(items),
      starmap: false,
      env: {},
    });
    await run.done;
    assert.equal(run.counts.failed, n / 20);
    failing.on = false;

    const prefix = `${bed.prefix}/runs/${run.runId}/`;
    const before = emu.requests.entries.length;
    const retry = await run.retry({ progress: false });
    const reads = emu.requests.entries.slice(before)
      .filter((e) => e.service === "s3" && e.operation === "GetObject");
    const of = (key: string) => reads.filter((e) => e.params.Key === prefix + key);
    assert.equal(of(RUN_KEYS.index).length, 1, "one ranged read of the index");
    assert.equal(of(RUN_KEYS.inputs).length, 1, "one ranged read of the inputs");

    // The retry ran exactly the failed items, and the merged handle has every result.
    assert.equal(retry.retryOf?.items.length, n / 20);
    assert.deepEqual(await retry.results(), items.map((x) => x + 1));
    await retry.done;
  } finally {
    await bed.close();
  }
});

Deno.test("AWS target: retry() of large items in clusters far apart reads each cluster with one ranged read, and none of the items between", async () => {
  // Items of 256 KiB; the function fails on those marked "F" until the retry.
  const failing = { on: true };
  const fn = (x: string) => {
    if (failing.on && x.startsWith("F")) throw new Error("a marked item fails the first time");
    return x.length;
  };
  const bed = await startTestBed((x: string) => x.length, {
    maxvCpus: 8,
    emulator: { runner: inlineJobRunner(fn, { capacity: 8 }) },
  });
  const { emu } = bed;
  try {
    // Three clusters of failing items: 0 to 4, 30 to 34, and 59, with 25 items (6 MiB) between.
    const marked = new Set([0, 1, 2, 3, 4, 30, 31, 32, 33, 34, 59]);
    const items = Array.from(
      { length: 60 },
      (_, i) => (marked.has(i) ? "F" : "o") + "x".repeat(256 * 1024),
    );
    const encoded = encodeItems(items);
    const run = await bed.target().map<number>({ items: encoded, starmap: false, env: {} });
    await run.done;
    assert.equal(run.counts.failed, marked.size);
    failing.on = false;

    const prefix = `${bed.prefix}/runs/${run.runId}/`;
    const served = () => emu.s3.bytesServed(bed.resources.bucket, prefix + RUN_KEYS.inputs);
    const before = { requests: emu.requests.entries.length, bytes: served() };
    const retry = await run.retry({ progress: false });
    const reads = emu.requests.entries.slice(before.requests)
      .filter((e) => e.service === "s3" && e.operation === "GetObject");
    const of = (key: string) => reads.filter((e) => e.params.Key === prefix + key);
    assert.equal(of(RUN_KEYS.index).length, 1, "one ranged read of the index");
    assert.equal(of(RUN_KEYS.inputs).length, 3, "one ranged read of the inputs per cluster");
    assert.equal(
      served() - before.bytes,
      [...marked].reduce((n, i) => n + encoded[i]!.byteLength, 0),
      "only the retried items' bytes",
    );
    assert.deepEqual(await retry.results(), items.map((x) => x.length));
    await retry.done;
  } finally {
    await bed.close();
  }
});
