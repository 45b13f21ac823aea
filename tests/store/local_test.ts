import assert from "node:assert/strict";
import { CloudknotInputError } from "../../mod.ts";
import { deletePrefix, LocalStore, openStore } from "../../src/store/mod.ts";

async function withStore(body: (store: LocalStore, dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await body(new LocalStore(dir), dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("put, get, ranged get and missing objects", async () => {
  await withStore(async (store) => {
    await store.put("a/b/c", new Uint8Array([0, 1, 2, 3, 4, 5]));
    assert.deepEqual(await store.get("a/b/c"), new Uint8Array([0, 1, 2, 3, 4, 5]));
    assert.deepEqual(
      await store.get("a/b/c", { range: { offset: 2, length: 3 } }),
      new Uint8Array([2, 3, 4]),
    );
    assert.deepEqual(
      await store.get("a/b/c", { range: { offset: 4, length: 10 } }),
      new Uint8Array([4, 5]),
    );
    assert.equal(await store.get("a/b/missing"), undefined);
    assert.equal(await store.get("nope/x", { range: { offset: 0, length: 1 } }), undefined);
    assert.equal(store.bytesRead, 6 + 3 + 2);
  });
});

Deno.test("list is in key order, limited to the prefix, and skips partial writes", async () => {
  await withStore(async (store, dir) => {
    for (const key of ["a/b", "a-b", "a/a/z", "b", "ab"]) await store.put(key, key);
    await Deno.writeTextFile(`${dir}/a/x.tmp-123`, "partial");
    const keys = (await Array.fromAsync(store.list("a"))).map((o) => o.key);
    assert.deepEqual(keys, ["a-b", "a/a/z", "a/b", "ab"]);
    assert.deepEqual((await Array.fromAsync(store.list("a/"))).map((o) => o.key), ["a/a/z", "a/b"]);
    assert.deepEqual(await Array.fromAsync(store.list("zzz/")), []);
    const [first] = await Array.fromAsync(store.list("ab"));
    assert.deepEqual(first, { key: "ab", size: 2 });
  });
});

Deno.test("delete ignores missing keys and deletePrefix empties a prefix", async () => {
  await withStore(async (store) => {
    await store.put("r/1", "x");
    await store.put("r/2", "y");
    await store.put("s/1", "z");
    await store.delete(["r/1", "r/404"]);
    assert.equal(await store.get("r/1"), undefined);
    assert.equal(await deletePrefix(store, "r/"), 1);
    assert.deepEqual((await Array.fromAsync(store.list(""))).map((o) => o.key), ["s/1"]);
  });
});

Deno.test("at() roots a store deeper and openStore opens file URLs", async () => {
  await withStore(async (store, dir) => {
    await store.at("runs/r1").put("inputs", "abc");
    assert.equal(new TextDecoder().decode(await store.get("runs/r1/inputs")), "abc");
    const opened = await openStore(store.at("runs/r1").url);
    assert.equal(new TextDecoder().decode(await opened.get("inputs")), "abc");
    assert.ok(opened.url.startsWith("file://") && opened.url.endsWith("/runs/r1"));
    assert.ok(dir.length > 0);
  });
});

Deno.test("invalid keys and URLs are typed errors", async () => {
  await withStore(async (store) => {
    for (const key of ["", "/abs", "a//b", "a/../b", "./a", "a\\b"]) {
      await assert.rejects(() => store.put(key, "x"), CloudknotInputError, key);
    }
    await assert.rejects(() => openStore("not a url"), /Invalid store URL/);
    await assert.rejects(() => openStore("gs://bucket/x"), /Unsupported store URL/);
  });
});

Deno.test("list skips objects deleted while it lists, as a prefix another process removes", async () => {
  await withStore(async (store, dir) => {
    const keys = Array.from(
      { length: 2000 },
      (_, i) => `run/records/${String(i).padStart(4, "0")}`,
    );
    for (const key of keys) await store.put(key, "x");
    // The listing reads the folder, then each object's size: the folder goes meanwhile.
    const listed = Array.fromAsync(store.list("run/")).catch((e: unknown) => e);
    await Deno.remove(`${dir}/run`, { recursive: true });
    const objects = await listed;
    assert.ok(Array.isArray(objects), `the listing failed: ${objects}`);
    const found = objects.map((o) => o.key);
    assert.ok(found.every((key) => keys.includes(key)), "only objects that were there");
  });
});
