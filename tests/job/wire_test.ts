import assert from "node:assert/strict";
import {
  doneFrame,
  doneHead,
  encodeRunFrame,
  encodeRunFrames,
  FRAME,
  markedHead,
  MarkedStreamReader,
  newMark,
  readDone,
  RunFrameReader,
} from "../../src/job/wire.ts";

const text = (s: string) => new TextEncoder().encode(s);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Reads a stream cut into chunks of `size` bytes. */
function readMarked(mark: Uint8Array, stream: Uint8Array, size: number) {
  const reader = new MarkedStreamReader(mark);
  const events: (string | { type: number; body: number[] })[] = [];
  let pending: number[] = [];
  const flush = () => {
    if (pending.length > 0) events.push(new TextDecoder().decode(Uint8Array.from(pending)));
    pending = [];
  };
  const handler = {
    text: (b: Uint8Array) => pending.push(...b),
    frame: (type: number, body: Uint8Array) => {
      flush();
      events.push({ type, body: [...body] });
    },
  };
  for (let i = 0; i < stream.byteLength; i += size) {
    reader.push(stream.slice(i, i + size), handler);
  }
  reader.end(handler);
  flush();
  return events;
}

Deno.test("a worker's output is split into text and frames however the chunks are cut", () => {
  const mark = newMark();
  const other = newMark();
  const record = new Uint8Array(3000).fill(7);
  const stream = concat(
    text("hello\n"),
    // Text with the mark's first byte, and another worker's mark, is text.
    text("\u001e not a mark\n"),
    markedHead(other, FRAME.end, 0),
    doneFrame(mark, 4, 2, 1, record),
    markedHead(mark, FRAME.end, 0),
    text("tail \u001e"),
  );
  const expected = readMarked(mark, stream, stream.byteLength);
  assert.equal(expected.length, 4);
  assert.equal(typeof expected[0], "string");
  assert.ok((expected[0] as string).startsWith("hello\n\u001e not a mark\n"));
  const done = expected[1] as { type: number; body: number[] };
  assert.equal(done.type, FRAME.done);
  const parsed = readDone(Uint8Array.from(done.body));
  assert.deepEqual([parsed.index, parsed.attempt, parsed.kind], [4, 2, "threw"]);
  assert.deepEqual([...parsed.record], [...record]);
  assert.deepEqual(expected[2], { type: FRAME.end, body: [] });
  assert.equal(expected[3], "tail \u001e");
  for (const size of [1, 2, 5, 16, 17, 21, 22, 100, 1000]) {
    assert.deepEqual(readMarked(mark, stream, size), expected, `chunks of ${size}`);
  }
});

Deno.test("batches reach the worker whole however stdin is cut", () => {
  const attempts = [
    { index: 0, attempt: 1, bytes: text("a") },
    { index: 70000, attempt: 3, bytes: new Uint8Array(0) },
    { index: 2, attempt: 1, bytes: new Uint8Array(5000).fill(1) },
    // A large item's place in the inputs file, which the worker reads itself.
    { index: 3, attempt: 2, bytes: { offset: 2 ** 40 + 5, length: 3 << 20 } },
  ];
  const stream = concat(encodeRunFrame(attempts), encodeRunFrame(attempts.slice(0, 1)));
  for (const size of [1, 3, 9, 4096, stream.byteLength]) {
    const reader = new RunFrameReader();
    const batches = [];
    for (let i = 0; i < stream.byteLength; i += size) {
      batches.push(...reader.push(stream.slice(i, i + size)));
    }
    assert.equal(batches.length, 2, `chunks of ${size}`);
    assert.deepEqual(
      batches[0]!.map((a) => [a.index, a.attempt, a.bytes instanceof Uint8Array && a.bytes.length]),
      [[0, 1, 1], [70000, 3, 0], [2, 1, 5000], [3, 2, false]],
    );
    assert.deepEqual(batches[0]![2]!.bytes, new Uint8Array(5000).fill(1));
    assert.deepEqual(batches[0]![3]!.bytes, { offset: 2 ** 40 + 5, length: 3 << 20 });
    assert.deepEqual(batches[1]!.map((a) => a.index), [0]);
  }
});

Deno.test("batches read in place reach the worker whole, however much each read gets", () => {
  const big = new Uint8Array(300_000).map((_, i) => i % 251);
  const attempts = [
    { index: 0, attempt: 1, bytes: text("a") },
    { index: 1, attempt: 2, bytes: big },
    { index: 2, attempt: 1, bytes: new Uint8Array(0) },
  ];
  const stream = concat(encodeRunFrame(attempts), encodeRunFrame(attempts.slice(1, 2)));
  for (const size of [7, 4096, 70_000, stream.byteLength]) {
    const reader = new RunFrameReader();
    const seen: number[][] = [];
    let i = 0;
    while (i < stream.byteLength) {
      // A read gets what the pipe has, up to the room given.
      const room = reader.space(16);
      const n = Math.min(size, room.byteLength, stream.byteLength - i);
      room.set(stream.subarray(i, i + n));
      i += n;
      for (const batch of reader.commit(n)) {
        // Views of the reader's buffer: checked before the next read.
        for (const a of batch) {
          assert.deepEqual(a.bytes, attempts.find((x) => x.index === a.index)!.bytes);
        }
        seen.push(batch.map((a) => a.index));
      }
    }
    assert.deepEqual(seen, [[0, 1, 2], [1]], `reads of ${size}`);
  }
});

Deno.test("large frames written in parts are the same bytes as one frame", () => {
  const big = new Uint8Array(300_000).fill(3);
  const attempts = [
    { index: 1, attempt: 1, bytes: big },
    { index: 2, attempt: 2, bytes: text("x") },
    { index: 3, attempt: 1, bytes: { offset: 123, length: 1 << 20 } },
  ];
  const parts = encodeRunFrames(attempts);
  assert.ok(parts.length > 1);
  assert.ok(parts.includes(big), "the item's bytes are written as they are");
  assert.deepEqual(concat(...parts), encodeRunFrame(attempts));
  const mark = newMark();
  assert.deepEqual(
    concat(doneHead(mark, 7, 1, 0, big.byteLength), big),
    doneFrame(mark, 7, 1, 0, big),
  );
  // A frame made in a reused buffer is the same bytes; one too large gets its own.
  const reused = new Uint8Array(100);
  const small = doneFrame(mark, 9, 2, 1, text("record"), reused);
  assert.equal(small.buffer, reused.buffer);
  assert.deepEqual(small, doneFrame(mark, 9, 2, 1, text("record")));
  assert.deepEqual(doneFrame(mark, 7, 1, 0, big, reused), doneFrame(mark, 7, 1, 0, big));
});
