import assert from "node:assert/strict";
import { join } from "node:path";
import { ItemFeed } from "../../../src/targets/local/item_feed.ts";
import { RunDir } from "../../../src/targets/local/run_dir.ts";
import type { FileSpan } from "../../../src/job/wire.ts";
import { manifest } from "./helpers.ts";

const MiB = 2 ** 20;

Deno.test("large items go as their place in the inputs and are freed once written; small ones taken at once come from memory", async () => {
  const base = await Deno.makeTempDir();
  const run = await RunDir.create(join(base, "run"), manifest);
  try {
    const items = [0, 1, 2].map((i) => new Uint8Array(MiB).fill(i + 1));
    const small = new Uint8Array([7]);
    await run.appendItems([...items, small]);
    const feed = new ItemFeed(run, true);
    assert.equal(feed.file, join(base, "run", "inputs"));
    let taken: (Uint8Array | FileSpan)[] = [];
    // A mix, out of order: places for the large ones, bytes for the small one.
    feed.offer(0, [...items, small], () => taken = feed.read([1, 3, 0]));
    assert.deepEqual(taken, [{ offset: MiB, length: MiB }, small, { offset: 0, length: MiB }]);
    assert.equal(taken[1], small, "from memory, as it is");
    // Written, so freed at once, taken or not: the workers read them from the file.
    assert.deepEqual(items.map((b) => b.byteLength), [0, 0, 0]);
    assert.equal(small.byteLength, 1, "small items are left to the garbage collector");
    // Later, the small one comes from the file; the large ones are still places.
    const later = feed.read([2, 3]);
    assert.deepEqual(later, [{ offset: 2 * MiB, length: MiB }, new Uint8Array([7])]);
    assert.notEqual(later[1], small);
  } finally {
    run.close();
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("small items read from the file share one buffer, freed once every attempt of them ended", async () => {
  const base = await Deno.makeTempDir();
  const run = await RunDir.create(join(base, "run"), manifest);
  try {
    // 40 items of 4 KiB: one read of 160 KiB.
    const items = Array.from({ length: 40 }, (_, i) => new Uint8Array(4096).fill(i));
    await run.appendItems(items);
    const feed = new ItemFeed(run, true);
    const read = feed.read(items.map((_, i) => i)) as Uint8Array[];
    assert.deepEqual(read, items);
    for (let i = 0; i < 39; i++) feed.ended(i);
    assert.equal(read[39]!.byteLength, 4096, "not before the last attempt ended");
    feed.ended(39);
    assert.equal(read[39]!.byteLength, 0);
    // Items sent again (their worker died) are done with the bytes they were sent before.
    const first = feed.read(items.map((_, i) => i)) as Uint8Array[];
    const again = feed.read(items.map((_, i) => i)) as Uint8Array[];
    assert.equal(first[0]!.byteLength, 0);
    assert.deepEqual(again, items);
  } finally {
    run.close();
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("items the run does not own are never freed", async () => {
  const base = await Deno.makeTempDir();
  const run = await RunDir.create(join(base, "run"), manifest);
  try {
    const items = [new Uint8Array(MiB).fill(1), new Uint8Array(MiB).fill(2)];
    await run.appendItems(items);
    const feed = new ItemFeed(run, false);
    let taken: (Uint8Array | FileSpan)[] = [];
    feed.offer(0, items, () => taken = feed.read([0]));
    feed.ended(0);
    assert.deepEqual(taken, [{ offset: 0, length: MiB }]);
    assert.deepEqual(items.map((b) => b.byteLength), [MiB, MiB]);
  } finally {
    run.close();
    await Deno.remove(base, { recursive: true });
  }
});
