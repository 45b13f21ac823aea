import assert from "node:assert/strict";
import { encode } from "../../src/job/codec.ts";
import {
  INDEX_ENTRY_BYTES,
  layoutPayload,
  PayloadError,
  readItem,
  readItems,
  readManifest,
  SliceReader,
  writePayload,
} from "../../src/job/mod.ts";
import { LocalStore } from "../../src/store/mod.ts";

const manifest = {
  version: 1 as const,
  runId: "r",
  knot: "k",
  count: 0,
  starmap: false,
  createdAt: 0,
  attempts: 1,
};

Deno.test("each item is read with two ranged reads: its index entry and its bytes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = new LocalStore(dir);
    const items = ["a", { b: [1, 2, 3] }, "", new Map([[1, "x".repeat(1000)]])].map((v) =>
      encode(v)
    );
    await writePayload(store, items, { ...manifest, count: items.length });
    assert.equal((await readManifest(store))?.count, 4);
    const reader = new LocalStore(dir);
    let expected = 0;
    for (let i = 0; i < items.length; i++) {
      assert.deepEqual(await readItem(reader, i), items[i]);
      expected += INDEX_ENTRY_BYTES + items[i]!.byteLength;
      assert.equal(reader.bytesRead, expected, `bytes read after item ${i}`);
    }
    await assert.rejects(() => readItem(reader, 4), PayloadError);
    await assert.rejects(() => readItem(reader, -1), PayloadError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the layout is the items back to back and a 16-byte entry per item", () => {
  const { inputs, index } = layoutPayload([new Uint8Array([9, 9]), new Uint8Array([8])]);
  assert.deepEqual(inputs, new Uint8Array([9, 9, 8]));
  const view = new DataView(index.buffer);
  assert.deepEqual(
    [0, 8, 16, 24].map((o) => Number(view.getBigUint64(o, true))),
    [0, 2, 2, 1],
  );
});

Deno.test("a run whose payload is gone is a PayloadError", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(() => readItem(new LocalStore(dir), 0), /has no index object/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a slice read with whole reads the whole inputs object and gives the same items as ranged reads", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = new LocalStore(dir);
    const items = ["a", { b: [1, 2, 3] }, "", "x".repeat(300), 7].map((v) => encode(v));
    await writePayload(store, items, { ...manifest, count: items.length });
    const total = items.reduce((n, b) => n + b.byteLength, 0);
    const ranged = new LocalStore(dir);
    const whole = new LocalStore(dir);
    assert.deepEqual(await readItems(whole, 1, 4, { whole: true }), await readItems(ranged, 1, 4));
    assert.deepEqual(await readItems(whole, 1, 4, { whole: true }), items.slice(1, 4));
    // The ranged read takes items 1 to 3 only; the whole read every byte.
    const slice = items.slice(1, 4).reduce((n, b) => n + b.byteLength, 0);
    assert.equal(ranged.bytesRead, 3 * INDEX_ENTRY_BYTES + slice);
    assert.equal(whole.bytesRead, 2 * (3 * INDEX_ENTRY_BYTES + total));
    // An inputs object shorter than its index says is a PayloadError, as with ranged reads.
    await Deno.writeFile(`${dir}/inputs`, new Uint8Array(2));
    await assert.rejects(
      () => readItems(new LocalStore(dir), 3, 5, { whole: true }),
      /shorter than its index says \(items 3 to 4\)/,
    );
    await assert.rejects(() => readItems(new LocalStore(dir), 0, 6, { whole: true }), PayloadError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a slice larger than its window is read a window at a time as its items are asked for, and none is held once handed out", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Ten items of 100 bytes; a window of 250 bytes holds two of them.
    const items = Array.from({ length: 10 }, (_, i) => new Uint8Array(100).fill(i));
    await writePayload(new LocalStore(dir), items, {
      version: 1,
      runId: "r",
      knot: "k",
      count: 10,
      starmap: false,
      createdAt: 0,
      attempts: 1,
    });
    const reads: { key: string; length?: number }[] = [];
    const store = new LocalStore(dir);
    const get = store.get.bind(store);
    store.get = (key, options) => {
      reads.push({ key, ...(options?.range ? { length: options.range.length } : {}) });
      return get(key, options);
    };
    const slice = await SliceReader.open(store, 1, 9, { windowBytes: 250 });
    assert.deepEqual(await slice.read([1, 2]), items.slice(1, 3));
    assert.deepEqual(await slice.read([3]), items.slice(3, 4));
    assert.deepEqual(await slice.read([4, 5, 6, 7, 8]), items.slice(4, 9));
    const inputs = reads.filter((r) => r.key === "inputs");
    // The index once, then a window of two items at a time: never the slice's 800 bytes at once.
    assert.deepEqual(reads.filter((r) => r.key === "index"), [{ key: "index", length: 128 }]);
    assert.deepEqual(inputs.map((r) => r.length), [200, 200, 200, 200]);
    // An item asked for again (a worker that died before running it) is read again.
    assert.deepEqual(await slice.read([2]), items.slice(2, 3));
    assert.equal(reads.at(-1)!.length, 200);
    // A retried attempt's slice holds only the items it runs.
    reads.length = 0;
    const retried = await SliceReader.open(store, 2, 9, { wanted: [2, 5, 8] });
    assert.deepEqual(await retried.read([2, 5, 8]), [items[2], items[5], items[8]]);
    assert.deepEqual(reads.map((r) => r.key), ["index", "inputs"]);
    // Wanted items far apart: past gapBytes of items not wanted, a read stops and the next
    // begins at the next wanted item (a run's retry); without it, one read spans them all.
    for (
      const [gapBytes, lengths] of [[150, [200, 100, 100]], [250, [500, 100]], [undefined, [
        900,
      ]]] as const
    ) {
      reads.length = 0;
      const sparse = await SliceReader.open(store, 1, 10, {
        wanted: [1, 2, 5, 9],
        ...(gapBytes !== undefined ? { gapBytes } : {}),
      });
      assert.deepEqual(await sparse.read([1, 2, 5, 9]), [items[1], items[2], items[5], items[9]]);
      assert.deepEqual(reads.filter((r) => r.key === "inputs").map((r) => r.length), lengths);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
