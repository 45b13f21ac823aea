// How the command line prints a run's items: the same bytes as one string of them all would
// be, written a piece at a time, so that a run whose results pass V8's string limit prints too.
import assert from "node:assert/strict";
import { MapRun } from "../../mod.ts";
import { itemJson, writeItems } from "../../src/cli/common/item_output.ts";
import type { CliOutput } from "../../src/cli/common/io.ts";

const MIB = 1024 * 1024;

/** An output that keeps what is written and the length of each write. */
function recordingOutput() {
  const writes: number[] = [];
  let text = "";
  const output: CliOutput = {
    write: (t) => {
      writes.push(t.length);
      text += t;
      return Promise.resolve();
    },
    isTerminal: () => false,
  };
  return { output, writes, text: () => text };
}

/** A run of `total` items whose values are strings of a mebibyte, one of them failed. */
function bigRun(total: number, order: number[]) {
  const { run, control } = MapRun.create<string>({
    knot: "big",
    runId: "r1",
    target: "local",
    total,
    attempts: 1,
  });
  for (const index of order) {
    control.settle(
      index === 1
        ? {
          version: 1,
          status: "error",
          kind: "threw",
          index,
          attempt: 1,
          jobId: "j",
          endedAt: 1,
          error: { name: "RangeError", message: "odd" },
        }
        : {
          version: 1,
          status: "ok",
          index,
          attempt: 1,
          jobId: "j",
          endedAt: 1,
          value: String(index).repeat(MIB),
        },
    );
  }
  return run;
}

Deno.test("results --json writes the document it always did, an item at a time", async () => {
  const run = bigRun(8, [0, 1, 2, 3, 4, 5, 6, 7]);
  const out = recordingOutput();
  assert.deepEqual(await writeItems(run, out.output, { json: true }), [1]);
  const settled = await run.settled();
  const whole = JSON.stringify({
    knot: "big",
    runId: "r1",
    target: "local",
    total: 8,
    succeeded: 7,
    failed: 1,
    items: settled.map(itemJson),
  }) + "\n";
  assert.equal(out.text().length, whole.length);
  assert.ok(out.text() === whole, "byte for byte the document of one JSON.stringify");
  const largest = Math.max(...out.writes);
  assert.ok(largest < 2 * MIB, `a write of ${largest} characters holds more than one item`);
});

Deno.test("results in input order writes the lines a late first item lets out a few at a time", async () => {
  // Item 0 finishes last: every other line waits for it, then all are let out at once.
  const run = bigRun(8, [7, 6, 5, 4, 3, 2, 1, 0]);
  const out = recordingOutput();
  assert.deepEqual(await writeItems(run, out.output), [1]);
  const settled = await run.settled();
  assert.ok(
    out.text() === settled.map((s) => JSON.stringify(itemJson(s)) + "\n").join(""),
    "the lines of every item, in input order",
  );
  const largest = Math.max(...out.writes);
  assert.ok(largest < 2 * MIB, `a write of ${largest} characters holds more than one item`);
});
