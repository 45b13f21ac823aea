// S3 keys are sent as they are, or not at all: a key with "." or ".." segments
// would be rewritten by URL normalisation into another object's key, so it is
// refused before any request; and listed keys come back exactly, whatever
// characters they hold, because ListObjectsV2 asks for url-encoded keys.
import assert from "node:assert/strict";
import { CloudknotInputError } from "../../mod.ts";
import { rejects, withEmulator } from "../resources/helpers.ts";

Deno.test("a key with . or .. segments is refused before any request, naming what it would become", async () => {
  await withEmulator(async ({ emu, session }) => {
    await session.s3.createBucket({ Bucket: "keys" });
    await session.s3.putObject({ Bucket: "keys", Key: "b/c", Body: "b/c's own" });
    emu.requests.clear();
    for (const [key, rewritten] of [["a/../b/./c", "b/c"], ["x/.", "x/"], ["..", ""]] as const) {
      const put = await rejects(session.s3.putObject({ Bucket: "keys", Key: key, Body: "x" }));
      assert.ok(put instanceof CloudknotInputError, String(put));
      assert.equal(put.field, "Key");
      assert.match(
        put.message,
        new RegExp(`^S3 key "${key.replaceAll(".", "\\.")}" has a "\\." or "\\.\\." segment`),
      );
      assert.match(put.message, new RegExp(`\\(to "${rewritten}"\\)`));
      const get = await rejects(session.s3.getObject({ Bucket: "keys", Key: key }));
      assert.ok(get instanceof CloudknotInputError, String(get));
      await rejects(session.s3.deleteObject({ Bucket: "keys", Key: key }));
    }
    assert.deepEqual(emu.requests.entries, []);
    // The object the key would have become is untouched.
    const kept = await session.s3.getObject({ Bucket: "keys", Key: "b/c" });
    assert.equal(await new Response(kept.Body).text(), "b/c's own");
    // Dots inside a segment are ordinary characters.
    await session.s3.putObject({ Bucket: "keys", Key: "a/..b/c./.d", Body: "dots" });
    const listed = await session.s3.listObjectsV2({ Bucket: "keys", Prefix: "a/" });
    assert.deepEqual(listed.Contents?.map((o) => o.Key), ["a/..b/c./.d"]);
  });
});

Deno.test("listed keys and prefixes come back exactly, with characters XML cannot carry", async () => {
  await withEmulator(async ({ session }) => {
    await session.s3.createBucket({ Bucket: "keys" });
    const keys = [
      "odd/carriage\rreturn",
      "odd/control\u0001char",
      "odd/space and+plus",
      "odd/percent%20and&amp;<tag>",
      "odd/sub dir+/x",
      "odd/ünïcödé ✓",
    ];
    for (const Key of keys) await session.s3.putObject({ Bucket: "keys", Key, Body: Key });
    const all = await session.s3.listObjectsV2({ Bucket: "keys", Prefix: "odd/" });
    assert.deepEqual(all.Contents?.map((o) => o.Key), [...keys].sort());
    assert.equal(all.Prefix, "odd/");
    const grouped = await session.s3.listObjectsV2({
      Bucket: "keys",
      Prefix: "odd/sub dir+",
      Delimiter: "/",
    });
    assert.deepEqual(grouped.CommonPrefixes, [{ Prefix: "odd/sub dir+/" }]);
    assert.equal(grouped.Prefix, "odd/sub dir+");
    assert.equal(grouped.Delimiter, "/");
    // Each listed key reads its own object.
    for (const o of all.Contents ?? []) {
      const got = await session.s3.getObject({ Bucket: "keys", Key: o.Key! });
      assert.equal(await new Response(got.Body).text(), o.Key);
    }
  });
});
