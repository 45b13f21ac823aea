import assert from "node:assert/strict";
import { join } from "node:path";
import { RunDir } from "../../../src/targets/local/run_dir.ts";
import { manifest } from "./helpers.ts";

Deno.test("a torn record at the end of the log is skipped, then cut off by the next writer", async () => {
  const base = await Deno.makeTempDir();
  try {
    const dir = join(base, "run");
    const run = await RunDir.create(dir, manifest);
    await run.appendItems([new Uint8Array([1]), new Uint8Array([2, 3])]);
    run.appendRecords([
      { index: 0, attempt: 1, kind: "ok", record: new Uint8Array([9]) },
      { index: 1, attempt: 1, kind: "threw", record: new Uint8Array(100).fill(5) },
    ]);
    assert.deepEqual(run.readItems([1, 0]).map((b) => [...b]), [[2, 3], [1]]);
    run.close();
    // A writer killed in the middle of its next write.
    const path = join(dir, "records");
    const whole = (await Deno.stat(path)).size;
    await Deno.writeFile(path, new Uint8Array([0xce, 0, 1, 0, 2, 0, 0, 0, 50, 0, 0, 0, 1]), {
      append: true,
    });
    const reader = (await RunDir.open(dir))!.run;
    const seen: number[] = [];
    assert.equal(reader.scanRecords(0, (e) => seen.push(e.index)), whole);
    assert.deepEqual(seen, [0, 1]);
    assert.equal(reader.takeOver(), true);
    assert.equal(reader.itemCount, 2);
    reader.scanRecords(0, () => {});
    assert.equal((await Deno.stat(path)).size, whole);
    reader.appendRecords([{ index: 1, attempt: 2, kind: "ok", record: new Uint8Array([8]) }]);
    const after: string[] = [];
    reader.scanRecords(0, (e) => after.push(`${e.index}/${e.attempt}/${e.kind}`));
    assert.deepEqual(after, ["0/1/ok", "1/1/threw", "1/2/ok"]);
    // While it is owned, no one else takes it over.
    const other = (await RunDir.open(dir))!.run;
    assert.equal(other.takeOver(), false);
    assert.equal(other.isLive(), true);
    other.close();
    reader.close();
    assert.equal(other.isLive(), false);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("records of every size are read back as written, small ones and large ones in one append", async () => {
  const base = await Deno.makeTempDir();
  try {
    const run = await RunDir.create(join(base, "run"), manifest);
    const records = [
      { index: 3, attempt: 1, kind: "ok" as const, record: new Uint8Array([1, 2]) },
      { index: 70000, attempt: 2, kind: "threw" as const, record: new Uint8Array(0) },
    ];
    const large = [
      ...records,
      { index: 5, attempt: 3, kind: "crashed" as const, record: new Uint8Array(300_000).fill(7) },
    ];
    run.appendRecords(records);
    run.appendRecords(large);
    const seen: string[] = [];
    run.scanRecords(0, (e) => seen.push(`${e.index}/${e.attempt}/${e.kind}/${e.record.join("")}`));
    assert.deepEqual(
      seen,
      [...records, ...large].map((e) => `${e.index}/${e.attempt}/${e.kind}/${e.record.join("")}`),
    );
    run.close();
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
