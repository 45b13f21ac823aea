// The record feed lists what is new: records are stamped with when they were
// written, so a listing from the newest stamp seen costs about one
// ListObjectsV2 per 1,000 new records, however many the run already holds.
import assert from "node:assert/strict";
import { RUN_KEYS } from "../../../../src/job/mod.ts";
import { S3Store } from "../../../../src/store/mod.ts";
import { RecordFeed } from "../../../../src/targets/aws/batch/record_feed.ts";
import { startEmulator } from "../../../emulator/mod.ts";
import { sessionFor } from "../../../support/aws_session.ts";

const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);

Deno.test("record feed: each listing returns the new records and those of the lag before them, in as many calls as pages", async () => {
  const emu = await startEmulator({ ceValidDelayMs: 10, tickMs: 10 });
  try {
    const session = await sessionFor(emu);
    await session.s3.createBucket({ Bucket: "feed" });
    const run = new S3Store({ session, bucket: "feed", prefix: "runs/r" });
    const put = (stamp: number, index: number, attempt = 1) =>
      run.put(RUN_KEYS.stampedRecord(stamp, index, attempt), "x");
    const lists = () => emu.count("s3", "ListObjectsV2");
    const feed = new RecordFeed(run, { lagMs: 999 });

    // 2,500 records written a millisecond apart: the first listing lists all.
    for (let i = 0; i < 2500; i += 250) {
      await Promise.all(Array.from({ length: 250 }, (_, j) => put(T0 + i + j, i + j)));
    }
    let before = lists();
    const first = await Array.fromAsync(feed.next());
    assert.equal(first.length, 2500);
    assert.deepEqual(first.slice(0, 2).map((k) => [k.index, k.attempt, k.stamp]), [
      [0, 1, T0],
      [1, 1, T0 + 1],
    ]);
    assert.equal(lists() - before, 3);

    // Nothing new: one call, for the last second's records.
    before = lists();
    const idle = await Array.fromAsync(feed.next());
    assert.equal(lists() - before, 1);
    assert.deepEqual(idle.map((k) => k.index), Array.from({ length: 1000 }, (_, i) => 1500 + i));

    // 1,500 new records, 10 s later: those and the last second's, not all 4,000.
    for (let i = 0; i < 1500; i += 250) {
      await Promise.all(
        Array.from({ length: 250 }, (_, j) => put(T0 + 10_000 + i + j, 2500 + i + j)),
      );
    }
    before = lists();
    const fresh = await Array.fromAsync(feed.next());
    assert.equal(fresh.length, 2500);
    assert.equal(fresh[0]!.index, 1500);
    assert.equal(fresh[1000]!.index, 2500);
    assert.equal(lists() - before, 3);
  } finally {
    await emu.close();
  }
});

Deno.test("record feed: a record stamped before the lag is found by a listing from a time before it", async () => {
  const emu = await startEmulator({ ceValidDelayMs: 10, tickMs: 10 });
  try {
    const session = await sessionFor(emu);
    await session.s3.createBucket({ Bucket: "feed" });
    const run = new S3Store({ session, bucket: "feed", prefix: "runs/r" });
    const feed = new RecordFeed(run, { lagMs: 2000 });
    await run.put(RUN_KEYS.stampedRecord(T0 + 60_000, 1, 1), "x");
    assert.deepEqual((await Array.fromAsync(feed.next())).map((k) => k.index), [1]);
    // A slow upload that began a minute earlier lands after that listing.
    await run.put(RUN_KEYS.stampedRecord(T0, 0, 1), "x");
    assert.deepEqual((await Array.fromAsync(feed.next())).map((k) => k.index), [1]);
    const since = await Array.fromAsync(feed.next({ since: T0 }));
    assert.deepEqual(since.map((k) => k.index), [0, 1]);
    assert.equal(feed.start(T0), T0 - 2000);
  } finally {
    await emu.close();
  }
});

Deno.test("record feed: records without a stamp (jobs of an earlier version) make every listing list them all", async () => {
  const emu = await startEmulator({ ceValidDelayMs: 10, tickMs: 10 });
  try {
    const session = await sessionFor(emu);
    await session.s3.createBucket({ Bucket: "feed" });
    const run = new S3Store({ session, bucket: "feed", prefix: "runs/r" });
    const feed = new RecordFeed(run);
    await run.put(RUN_KEYS.record(12, 1), "x");
    await run.put(RUN_KEYS.stampedRecord(T0, 3, 1), "x");
    assert.deepEqual((await Array.fromAsync(feed.next())).map((k) => [k.index, k.stamp]), [
      [12, undefined],
      [3, T0],
    ]);
    assert.equal(feed.start(), undefined);
    await run.put(RUN_KEYS.record(2, 1), "x");
    assert.deepEqual((await Array.fromAsync(feed.next())).map((k) => k.index), [12, 3, 2]);
  } finally {
    await emu.close();
  }
});
