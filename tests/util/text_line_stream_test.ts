import assert from "node:assert/strict";
import { TextLineStream } from "../../src/util/text_line_stream.ts";

async function split(chunks: string[], allowCR = false): Promise<string[]> {
  return await Array.fromAsync(
    ReadableStream.from(chunks).pipeThrough(new TextLineStream({ allowCR })),
  );
}

Deno.test("TextLineStream splits on \\n and \\r\\n, across chunk borders", async () => {
  assert.deepEqual(await split(["a\nb", "c\r", "\nd\r\n", "\ne"]), ["a", "bc", "d", "", "e"]);
});

Deno.test("TextLineStream keeps empty lines and a last line without newline", async () => {
  assert.deepEqual(await split(["\n\nx"]), ["", "", "x"]);
  assert.deepEqual(await split(["x\n"]), ["x"]);
  assert.deepEqual(await split([]), []);
  assert.deepEqual(await split([""]), []);
});

Deno.test("TextLineStream keeps a lone \\r inside a line unless allowCR", async () => {
  assert.deepEqual(await split(["a\rb\n"]), ["a\rb"]);
  assert.deepEqual(await split(["a\rb\n"], true), ["a", "b"]);
});

Deno.test("TextLineStream with allowCR counts \\r\\n split over chunks as one ending", async () => {
  assert.deepEqual(await split(["a\r", "\nb\r", "c\r\n"], true), ["a", "b", "c"]);
  assert.deepEqual(await split(["50%\r100%\r", "done"], true), ["50%", "100%", "done"]);
});

Deno.test("TextLineStream splits many lines from a real child process", async () => {
  const child = new Deno.Command("sh", {
    args: ["-c", "i=0; while [ $i -lt 5000 ]; do echo line$i; i=$((i+1)); done"],
    stdout: "piped",
  }).spawn();
  const lines = await Array.fromAsync(
    child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(new TextLineStream()),
  );
  await child.status;
  assert.equal(lines.length, 5000);
  assert.equal(lines[0], "line0");
  assert.equal(lines[4999], "line4999");
});
