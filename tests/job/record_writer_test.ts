// How a job writes its records: buffered, then as segments, into a real
// directory store.
import assert from "node:assert/strict";
import { encodeRecord, type JobRecord } from "../../src/job/record.ts";
import { listRecords, type RecordKey } from "../../src/job/payload.ts";
import { readRecords } from "../../src/job/record_segment.ts";
import { RecordWriter } from "../../src/job/record_writer.ts";
import { LocalStore } from "../../src/store/mod.ts";

const bytesOf = (index: number, value: unknown = index) =>
  encodeRecord({ version: 1, status: "ok", index, attempt: 2, jobId: "j", endedAt: 0, value })
    .bytes;

async function withStore(fn: (run: LocalStore) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(new LocalStore(dir));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function objects(run: LocalStore): Promise<{ key: RecordKey; records: JobRecord[] }[]> {
  const out = [];
  for await (const key of listRecords(run)) out.push({ key, records: await readRecords(run, key) });
  return out;
}

Deno.test("records wait in the buffer and go out as one segment when the writer closes", async () => {
  await withStore(async (run) => {
    const writer = new RecordWriter(run, 2, { maxWaitMs: 60_000 });
    for (const i of [5, 3, 4]) await writer.add(i, bytesOf(i));
    assert.deepEqual(await objects(run), []);
    await writer.close();
    const [only, ...rest] = await objects(run);
    assert.equal(rest.length, 0);
    assert.deepEqual(only!.key.segment, { last: 5, seq: 0 });
    assert.equal(only!.key.index, 3);
    assert.equal(only!.key.attempt, 2);
    assert.deepEqual(only!.records.map((r) => r.index), [5, 3, 4]);
    assert.equal(writer.written, 3);
  });
});

Deno.test("a full buffer (by count or by bytes) is written at once, and a large record alone", async () => {
  await withStore(async (run) => {
    const writer = new RecordWriter(run, 2, { maxRecords: 2, maxBytes: 4096, maxWaitMs: 60_000 });
    await writer.add(0, bytesOf(0));
    await writer.add(1, bytesOf(1));
    // The count was reached: one segment of two.
    assert.deepEqual((await objects(run)).map((o) => o.records.length), [2]);
    const large = bytesOf(2, "x".repeat(5000));
    await writer.add(2, large);
    // Too large to buffer: its own stamped key, as a single record.
    const all = await objects(run);
    assert.equal(all.length, 2);
    const single = all.find((o) => o.key.segment === undefined)!;
    assert.equal(single.key.index, 2);
    assert.equal(single.records[0]!.index, 2);
    await writer.add(3, bytesOf(3, "y".repeat(2100)));
    await writer.add(4, bytesOf(4, "z".repeat(2100)));
    // Past maxBytes together: written.
    assert.equal((await objects(run)).length, 3);
    await writer.close();
    assert.equal(writer.written, 5);
  });
});

Deno.test("a record that waited maxWaitMs is written without more records coming", async () => {
  await withStore(async (run) => {
    const writer = new RecordWriter(run, 1, { maxWaitMs: 20 });
    await writer.add(7, bytesOf(7));
    await writer.add(8, bytesOf(8));
    while ((await objects(run)).length === 0) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual((await objects(run))[0]!.records.map((r) => r.index), [7, 8]);
    // A flush of one record uses the record's own key.
    await writer.add(9, bytesOf(9));
    await writer.close();
    const last = (await objects(run)).find((o) => o.key.index === 9)!;
    assert.equal(last.key.segment, undefined);
  });
});

Deno.test("a write that fails is reported by close(), and records after close() go out at once", async () => {
  await withStore(async (run) => {
    let fail = true;
    class FullDisk extends LocalStore {
      override put(key: string, body: Uint8Array | string): Promise<void> {
        return fail ? Promise.reject(new Error("disk full")) : super.put(key, body);
      }
    }
    const flaky = new FullDisk(new URL(run.url).pathname);
    const writer = new RecordWriter(flaky, 1, { maxWaitMs: 60_000 });
    await writer.add(0, bytesOf(0));
    await writer.add(1, bytesOf(1));
    await assert.rejects(() => writer.close(), /disk full/);
    assert.equal(writer.written, 0);
    fail = false;
    await writer.add(2, bytesOf(2));
    assert.deepEqual((await objects(run)).map((o) => o.key.index), [2]);
  });
});
