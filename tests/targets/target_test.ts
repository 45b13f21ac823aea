// The target contract's shared helpers (src/targets/target.ts).
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

Deno.test("reading a request's chunks with a stop signal holds no memory per chunk read", async () => {
  // Run apart with --expose-gc, so that the heap is measured after V8 collected what it can.
  const script = `
    import { requestChunks } from ${
    JSON.stringify(new URL("../../src/targets/target.ts", import.meta.url).href)
  };
    async function* source(n) {
      for (let i = 0; i < n; i++) yield [new Uint8Array(8)];
    }
    const heap = async () => {
      for (let i = 0; i < 3; i++) {
        globalThis.gc();
        await new Promise((turn) => setTimeout(turn, 0));
      }
      return Deno.memoryUsage().heapUsed;
    };
    const stop = new AbortController();
    // A first reading warms what a reading loads once.
    for await (const _ of requestChunks(source(1000), stop.signal));
    const before = await heap();
    let read = 0;
    let grown = 0;
    // Measured while the reading goes on: what it holds for the chunks read so far.
    for await (const chunk of requestChunks(source(100_001), stop.signal)) {
      read += chunk.length;
      if (read === 100_000) grown = (await heap()) - before;
    }
    console.log(JSON.stringify({ read, grown }));
  `;
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/read.ts`;
    await Deno.writeTextFile(file, script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-lock", "--v8-flags=--expose-gc", file],
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      stderr: "inherit",
    }).output();
    assert.equal(out.code, 0);
    const { read, grown } = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(read, 100_001);
    // 100,000 chunks read: a few bytes held for each would already be hundreds of KiB (a race
    // against one promise for the whole reading held about 600 bytes for each).
    assert.ok(grown < 1024 * 1024, `the heap grew ${grown} bytes over 100,000 chunks read`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
