// A run of a stream of inputs shows its id and progress while the stream is read, as its items
// run meanwhile: a stream that takes hours (a database cursor) is not silent until its end, and
// a program stopped while reading it has said which run to collect.
import assert from "node:assert/strict";
import { Knot } from "../../../mod.ts";

Deno.test("map() of a stream shows the run's id and progress before the stream ends, once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-stream-progress-" });
  try {
    const knot = await Knot.create({ name: "stream", dir, concurrency: 1, func: (x: number) => x });
    let read = 0;
    const lines: { line: string; read: number }[] = [];
    const slow = async function* () {
      for (let i = 0; i < 5; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        read++;
        yield i;
      }
    };
    const run = await knot.map(slow(), {
      progress: { isTerminal: false, intervalMs: 50, log: (line) => lines.push({ line, read }) },
    });
    assert.deepEqual(await run.results(), [0, 1, 2, 3, 4]);
    const header = lines.filter(({ line }) => line.includes(run.runId));
    assert.equal(header.length, 1, JSON.stringify(lines));
    assert.ok(header[0]!.read < 5, `shown after ${header[0]!.read} of 5 inputs were read`);
    assert.match(lines.at(-1)!.line, /stream: 5\/5 done/);
    await knot.clobber();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("map() of a stream that fails while it is read rejects, and the progress shown of its run stops", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-stream-progress-" });
  try {
    const knot = await Knot.create({ name: "broken", dir, func: (x: number) => x });
    const lines: string[] = [];
    const broken = async function* () {
      yield 1;
      await new Promise((resolve) => setTimeout(resolve, 100));
      yield 2;
      throw new Error("source broke");
    };
    await assert.rejects(
      knot.map(broken(), {
        progress: { isTerminal: false, intervalMs: 10, log: (line) => lines.push(line) },
      }),
      /source broke/,
    );
    // No line after the rejection: the display's timer is gone (the sanitizers check it too).
    const after = lines.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(lines.length, after);
    await knot.clobber();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
