import assert from "node:assert/strict";
import { join } from "node:path";
import { CodecError } from "../../../src/job/codec/error.ts";
import { withKnot } from "./helpers.ts";

Deno.test("map() runs the first items before it reads the next: an async iterable is read lazily", async () => {
  const flags = await Deno.makeTempDir();
  try {
    await withKnot({
      name: "lazy",
      permissions: { write: [flags] },
      func: async (job: { i: number; flag: string }) => {
        await Deno.writeTextFile(job.flag, "");
        return job.i;
      },
    }, async (knot) => {
      // Each input is only made once the item before it has run: if map()
      // read every input before running any, it would wait forever.
      async function* inputs() {
        for (let i = 0; i < 5; i++) {
          const flag = join(flags, `ran-${i}`);
          yield { i, flag };
          while (!(await Deno.stat(flag).then(() => true, () => false))) {
            await new Promise((r) => setTimeout(r, 10));
          }
        }
      }
      const run = await knot.map(inputs(), { progress: false });
      assert.deepEqual(await run.results(), [0, 1, 2, 3, 4]);
    });
  } finally {
    await Deno.remove(flags, { recursive: true });
  }
});

Deno.test("a bad input found while items run rejects map(), stops the run and removes it", async () => {
  await withKnot({ name: "late-bad", func: (x: unknown) => x }, async (knot) => {
    function* inputs() {
      for (let i = 0; i < 3000; i++) yield i;
      yield { cb: () => 1 };
    }
    await assert.rejects(
      () => knot.map(inputs(), { progress: false }),
      (e) => e instanceof CodecError && e.index === 3000 && /^Item 3000: /.test(e.message),
    );
    assert.deepEqual(await knot.runs(), []);
  });
});
