import assert from "node:assert/strict";
import { join } from "node:path";
import { ItemFeed } from "../../../src/targets/local/item_feed.ts";
import { RunDir } from "../../../src/targets/local/run_dir.ts";
import { manifest } from "./helpers.ts";

const MiB = 2 ** 20;

Deno.test("items taken at once come from memory, the others from the file, and large buffers are freed once done with", async () => {
  const base = await Deno.makeTempDir();
  const run = await RunDir.create(join(base, "run"), manifest);
  try {
    const items = [0, 1, 2].map((i) => new Uint8Array(MiB).fill(i + 1));
    const small = new Uint8Array([7]);
    await run.appendItems([...items, small]);
    const feed = new ItemFeed(run, true);
    let taken: Uint8Array[] = [];
    feed.offer(0, [...items, small], () => taken = feed.read([0, 1]));
    // Taken from memory, as they are; item 2 was not taken: written, so freed.
    assert.equal(taken[0], items[0]);
    assert.equal(taken[1], items[1]);
    assert.equal(items[2]!.byteLength, 0);
    assert.equal(small.byteLength, 1, "small items are left to the garbage collector");
    // Lent ones are freed when their attempt ends, not before.
    feed.ended(0);
    assert.equal(items[0]!.byteLength, 0);
    assert.equal(items[1]!.byteLength, MiB);
    // Item 2 from the file: its bytes, in a buffer of the feed's, freed when done.
    const [again] = feed.read([2]);
    assert.deepEqual(again, new Uint8Array(MiB).fill(3));
    feed.ended(2);
    assert.equal(again!.byteLength, 0);
    // An item sent again (its worker died) frees the bytes it was sent before.
    const [first] = feed.read([1]);
    assert.equal(items[1]!.byteLength, 0);
    assert.deepEqual(first, new Uint8Array(MiB).fill(2));
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
    let taken: Uint8Array[] = [];
    feed.offer(0, items, () => taken = feed.read([0]));
    feed.ended(0);
    assert.equal(taken[0], items[0]);
    assert.deepEqual(items.map((b) => b.byteLength), [MiB, MiB]);
  } finally {
    run.close();
    await Deno.remove(base, { recursive: true });
  }
});
