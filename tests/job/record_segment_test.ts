// Record segments: many records of one job attempt in one object, and the one
// reader every record object goes through.
import assert from "node:assert/strict";
import { encodeRecord, type JobRecord } from "../../src/job/record.ts";
import { listRecords, RUN_KEYS } from "../../src/job/payload.ts";
import {
  decodeRecords,
  decodeSegment,
  encodeSegment,
  mayHoldItems,
  readRecords,
  SegmentError,
} from "../../src/job/record_segment.ts";
import { LocalStore } from "../../src/store/mod.ts";

const ok = (index: number, value: unknown): JobRecord => ({
  version: 1,
  status: "ok",
  index,
  attempt: 1,
  jobId: "j",
  endedAt: 0,
  value,
});

Deno.test("a segment holds complete records, text and binary, read back in order", () => {
  const records = [ok(3, "three"), ok(4, new Uint8Array([1, 2, 3])), ok(7, undefined)];
  const decoded = decodeSegment(encodeSegment(records.map((r) => encodeRecord(r).bytes)));
  assert.deepEqual(decoded, records);
});

Deno.test("bytes that are not a segment, or a segment cut short, are refused as such", () => {
  const whole = encodeSegment([encodeRecord(ok(0, 1)).bytes, encodeRecord(ok(1, 2)).bytes]);
  assert.throws(() => decodeSegment(encodeRecord(ok(0, 1)).bytes), SegmentError);
  assert.throws(() => decodeSegment(new TextEncoder().encode('{"x":1}\n')), SegmentError);
  assert.throws(
    () => decodeSegment(whole.subarray(0, whole.byteLength - 3)),
    (e: unknown) => e instanceof SegmentError && /cut short/.test(e.message),
  );
});

Deno.test("a segment's key names its stamp, items, attempt and number, and no single record reads it", () => {
  const key = RUN_KEYS.segment(1_700_000_000_000, 40, 59, 2, 3);
  assert.equal(key, "out/1700000000000-s40-59-2-3");
  assert.deepEqual(RUN_KEYS.parseRecord(`runs/r/${key}`), {
    key: `runs/r/${key}`,
    index: 40,
    attempt: 2,
    stamp: 1_700_000_000_000,
    segment: { last: 59, seq: 3 },
  });
  // The parser of versions before segments skips the key rather than misread it.
  const before = /^(?:.*\/)?out\/(?:(\d{13})-)?(\d+)-(\d+)$/;
  assert.equal(before.exec(key), null);
  // Single records still parse as they did.
  assert.equal(RUN_KEYS.parseRecord(RUN_KEYS.stampedRecord(5, 6, 1))?.segment, undefined);
  assert.equal(RUN_KEYS.parseRecord(RUN_KEYS.record(6, 1))?.index, 6);
  // A segment sorts by its stamp among single records.
  assert.ok(RUN_KEYS.stampedRecord(1_700_000_000_001, 0, 1) > key);
  assert.ok(RUN_KEYS.stampedRecord(1_699_999_999_999, 99, 1) < key);
});

Deno.test("mayHoldItems reads a segment's range and a single record's item", () => {
  const segment = RUN_KEYS.parseRecord(RUN_KEYS.segment(1, 10, 19, 1, 0))!;
  assert.equal(mayHoldItems(segment, 0, 10), false);
  assert.equal(mayHoldItems(segment, 0, 11), true);
  assert.equal(mayHoldItems(segment, 19, 20), true);
  assert.equal(mayHoldItems(segment, 20, 30), false);
  const single = RUN_KEYS.parseRecord(RUN_KEYS.stampedRecord(1, 5, 1))!;
  assert.equal(mayHoldItems(single, 5, 6), true);
  assert.equal(mayHoldItems(single, 6, 7), false);
});

Deno.test("readRecords reads segments, stamped records and records of earlier versions alike", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const run = new LocalStore(dir);
    await run.put(RUN_KEYS.record(0, 1), encodeRecord(ok(0, "old")).bytes);
    await run.put(RUN_KEYS.stampedRecord(1_000, 1, 1), encodeRecord(ok(1, "single")).bytes);
    await run.put(
      RUN_KEYS.segment(2_000, 2, 3, 1, 0),
      encodeSegment([encodeRecord(ok(3, "b")).bytes, encodeRecord(ok(2, "a")).bytes]),
    );
    const read: JobRecord[] = [];
    for await (const key of listRecords(run)) read.push(...await readRecords(run, key));
    assert.deepEqual(
      read.map((r) => [r.index, r.status === "ok" && r.value]).sort(),
      [[0, "old"], [1, "single"], [2, "a"], [3, "b"]],
    );
    const gone = RUN_KEYS.parseRecord(RUN_KEYS.segment(3_000, 4, 5, 1, 1))!;
    assert.deepEqual(await readRecords(run, gone), []);
    assert.equal(
      decodeRecords(RUN_KEYS.parseRecord(RUN_KEYS.record(0, 1))!, encodeRecord(ok(0, 1)).bytes)
        .length,
      1,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
