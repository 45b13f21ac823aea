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

Deno.test("the map's signal stops reading a never-ending input, also while it waits for its next item: map() resolves with the items read, and the input is closed", async () => {
  await withKnot({ name: "endless", func: (x: number) => x * 2 }, async (knot) => {
    // Waiting: three items, then nothing until the test lets it go on.
    const waiting = { read: 0, closed: false, gate: Promise.withResolvers<void>() };
    const ac = new AbortController();
    const mapped = knot.map(
      (async function* () {
        try {
          for (let i = 0;; i++) {
            if (i === 3) await waiting.gate.promise;
            waiting.read = i + 1;
            yield i;
          }
        } finally {
          waiting.closed = true;
        }
      })(),
      { signal: ac.signal, progress: false },
    );
    // The fourth item is asked for once the first three are taken.
    while (waiting.read < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    ac.abort("enough");
    const run = await mapped;
    assert.equal(run.total, 3);
    for (const s of await run.settled()) {
      // Each ran, or was cancelled if it had not ended yet.
      if (s.status === "rejected") assert.match(String(s.reason), /enough/);
    }
    // Once it yields again, it is closed: its finally blocks run, no fourth item is taken.
    waiting.gate.resolve();
    while (!waiting.closed) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(run.total, 3);

    // Never waiting: items keep coming until the signal.
    const busy = { read: 0, closed: false };
    const stop = new AbortController();
    const endless = knot.map(
      (async function* () {
        try {
          for (let i = 0;; i++) {
            if (i === 20) stop.abort("that will do");
            busy.read = i + 1;
            yield i;
          }
        } finally {
          busy.closed = true;
        }
      })(),
      { signal: stop.signal, progress: false },
    );
    const second = await endless;
    assert.equal(busy.closed, true, "the input was left open");
    // The run is the items read before the signal: the one read as it aborted is not taken.
    assert.ok(second.total >= 20 && second.total <= busy.read, `${second.total} of ${busy.read}`);
    await second.settled();
  });
});
