// The lines of a slice's items, tagged by item in the stream they share and
// read back one item at a time.
import assert from "node:assert/strict";
import { itemLine, ItemLines, taggedLine } from "../../src/job/item_log.ts";

Deno.test("items' output interleaved in chunks comes out as whole lines, each tagged with its item", () => {
  const out: [number, string][] = [];
  const lines = new ItemLines((stream, bytes) =>
    out.push([stream, new TextDecoder().decode(bytes)])
  );
  const text = (s: string) => new TextEncoder().encode(s);
  lines.write(3, 1, text("hel"));
  lines.write(4, 1, text("other\nhalf"));
  lines.write(3, 1, text("lo\nwor"));
  lines.write(3, 2, text("warning\n"));
  lines.note(4, "cloudknot job: item 4 failed");
  lines.end(3);
  lines.end(4);
  assert.deepEqual(out, [
    [1, "[item 4] other\n"],
    [1, "[item 3] hello\n"],
    [2, "[item 3] warning\n"],
    [2, "[item 4] cloudknot job: item 4 failed\n"],
    [1, "[item 3] wor\n"],
    [1, "[item 4] half\n"],
  ]);
  const stream = out.map(([, line]) => line.slice(0, -1));
  assert.deepEqual(stream.map((l) => itemLine(l, 3, true)).filter((l) => l !== undefined), [
    "hello",
    "warning",
    "wor",
  ]);
});

Deno.test("an untagged line belongs to an item only when its job ran that item alone", () => {
  assert.equal(itemLine("plain", 0, false), "plain");
  assert.equal(itemLine("plain", 0, true), undefined);
  assert.equal(itemLine("[item 12] x", 1, true), undefined);
  assert.equal(itemLine("[item 12] x", 12, true), "x");
});

Deno.test("a tagged line reads apart as its item and what it printed; an untagged one as no item's", () => {
  assert.deepEqual(taggedLine("[item 12] x [item 3] y"), { index: 12, text: "x [item 3] y" });
  assert.deepEqual(taggedLine("[item 0] "), { index: 0, text: "" });
  assert.equal(taggedLine("plain [item 2] z"), undefined);
});

Deno.test("a note of the job's own over several lines, as an item's error with its stack, is the item's in every line", () => {
  const out: string[] = [];
  const lines = new ItemLines((_stream, bytes) => out.push(new TextDecoder().decode(bytes)));
  lines.note(7, "cloudknot job: the item failed: Error: boom\n    at f (function.js:3:9)");
  const stream = out.join("").split("\n").slice(0, -1);
  assert.deepEqual(stream.map((l) => itemLine(l, 7, true)), [
    "cloudknot job: the item failed: Error: boom",
    "    at f (function.js:3:9)",
  ]);
});
