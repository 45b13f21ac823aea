// A paginator's signal (every service's `*All`, such as `batch.listJobsAll`)
// stops a listing of many pages: between pages, and with the page request in
// flight aborted; no further page is requested.
import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import { sessionFor } from "../support/aws_session.ts";

Deno.test("an abort part-way through a listing of many pages stops it: the page in flight is aborted, or, between pages, no next page is requested", async () => {
  const emu = await startEmulator();
  const release = Promise.withResolvers<void>();
  try {
    const session = await sessionFor(emu);
    const Bucket = "paged";
    await session.s3.createBucket({ Bucket });
    for (let i = 0; i < 6; i++) {
      await session.s3.putObject({ Bucket, Key: `k${i}`, Body: new Uint8Array([i]) });
    }
    const pages = () => emu.count("s3", "ListObjectsV2");
    const listing = (signal: AbortSignal) =>
      session.s3.listObjectsV2All({ Bucket, MaxKeys: 1 }, { signal });

    // Between pages: aborted while its caller reads the second page's item.
    const between = new AbortController();
    const before = pages();
    const read: string[] = [];
    await assert.rejects(async () => {
      for await (const object of listing(between.signal)) {
        read.push(object.Key!);
        if (read.length === 2) between.abort(new Error("stopped between pages"));
      }
    }, /stopped between pages/);
    assert.deepEqual(read, ["k0", "k1"]);
    assert.equal(pages() - before, 2, "no third page requested");

    // In flight: the third page's request is held, then aborted.
    const inFlight = new AbortController();
    const start = pages();
    const iterator = listing(inFlight.signal)[Symbol.asyncIterator]();
    assert.equal((await iterator.next()).value?.Key, "k0");
    assert.equal((await iterator.next()).value?.Key, "k1");
    const held = emu.faults.add({
      service: "s3",
      operation: "ListObjectsV2",
      kind: "latency",
      until: release.promise,
      times: 1,
    });
    const third = iterator.next();
    while (emu.faults.list().find((f) => f.id === held)?.hits !== 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    inFlight.abort(new Error("stopped in flight"));
    await assert.rejects(third, /stopped in flight/);
    release.resolve();
    assert.deepEqual(await iterator.next(), { done: true, value: undefined });
    // The emulator logs the held request once it answers it.
    const logged = () =>
      emu.requests.filter({ service: "s3", operation: "ListObjectsV2" })
        .some((e) => e.fault === "latency");
    while (!logged()) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(pages() - start, 3, "no page after the aborted one");
  } finally {
    release.resolve();
    await emu.close();
  }
});
