import assert from "node:assert/strict";
import { OOM_LINE } from "../../src/job/oom_line.ts";
import { LineWatch } from "../../src/job/line_watch.ts";

const OOM = "Fatal JavaScript out of memory: Reached heap limit";

/** A stream's reads: the text cut at each of `cuts` (character offsets). */
function chunks(text: string, cuts: number[]): Uint8Array[] {
  const bytes = new TextEncoder().encode(text);
  const at = [0, ...cuts, bytes.length];
  return at.slice(1).map((end, i) => bytes.subarray(at[i], end));
}

Deno.test("V8's out-of-memory line split across reads is seen once its pieces arrive", () => {
  const text = `<--- Last few GCs --->\n${OOM}\n`;
  const start = text.indexOf("Fatal");
  // No piece matches on its own: "…out of mem" | "ory: Reached heap li" | "mit".
  const cuts = [start + 27, start + 47];
  const pieces = chunks(text, cuts);
  for (const piece of pieces) assert.ok(!OOM_LINE.test(new TextDecoder().decode(piece)));
  const watch = new LineWatch(OOM_LINE);
  assert.deepEqual(pieces.map((piece) => watch.push(piece)), [false, true, true]);
});

Deno.test("a line that ended in an earlier read is not joined to the next one", () => {
  const watch = new LineWatch(/heap out of memory/);
  assert.equal(watch.push(new TextEncoder().encode("JavaScript heap\n")), false);
  assert.equal(watch.push(new TextEncoder().encode(" out of memory\n")), false);
});

Deno.test("a character whose bytes are split between reads is decoded whole", () => {
  const watch = new LineWatch(/über limit/);
  const [a, b] = chunks("über limit\n", [1]); // inside "ü" (two bytes)
  assert.equal(watch.push(a!), false);
  assert.equal(watch.push(b!), true);
});

Deno.test("a long line without a newline keeps only its end between reads", () => {
  const watch = new LineWatch(/Fatal JavaScript out of memory/);
  const noise = new TextEncoder().encode("x".repeat(64 * 1024));
  for (let i = 0; i < 64; i++) assert.equal(watch.push(noise), false);
  assert.equal(watch.push(new TextEncoder().encode("Fatal JavaScript out")), false);
  assert.equal(watch.push(new TextEncoder().encode(" of memory\n")), true);
});
