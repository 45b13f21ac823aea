// A stream uploaded to S3 in parts: the parts are the stream's bytes cut at
// the part size, however the stream's pieces are cut, and each byte is copied
// once on its way into a part (not once more for every part cut from a large
// piece).
import assert from "node:assert/strict";
import type { S3Objects } from "../../src/aws/services/s3.ts";
import { uploadObject } from "../../src/store/s3_upload.ts";
import { startEmulator } from "../emulator/mod.ts";
import { sessionFor } from "../support/aws_session.ts";

const MiB = 1024 * 1024;
const PART = 5 * MiB;

/** An S3 client that keeps the parts it is sent, in order. */
function partsS3() {
  const parts: Uint8Array[] = [];
  const log: string[] = [];
  const s3 = {
    putObject: () => {
      log.push("PutObject");
      return Promise.resolve({});
    },
    createMultipartUpload: () => {
      log.push("CreateMultipartUpload");
      return Promise.resolve({ UploadId: "u1" });
    },
    uploadPart: (input: { PartNumber: number; Body: Uint8Array }) => {
      log.push(`UploadPart ${input.PartNumber}`);
      parts.push(input.Body);
      return Promise.resolve({ ETag: `"${input.PartNumber}"` });
    },
    completeMultipartUpload: () => {
      log.push("CompleteMultipartUpload");
      return Promise.resolve({ ETag: '"done"' });
    },
    abortMultipartUpload: () => {
      log.push("AbortMultipartUpload");
      return Promise.resolve({});
    },
  };
  return { s3: s3 as unknown as S3Objects, parts, log };
}

/** Pieces of the given sizes, each byte a function of its place in the whole. */
function piecesOf(sizes: number[]): Uint8Array[] {
  let at = 0;
  return sizes.map((size) => {
    const piece = new Uint8Array(size);
    for (let i = 0; i < size; i++) piece[i] = (at + i) * 31 % 251;
    at += size;
    return piece;
  });
}

function streamOf(pieces: Uint8Array[]): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream({
    pull(controller) {
      if (next === pieces.length) return controller.close();
      controller.enqueue(pieces[next++]!);
    },
  });
}

function joined(pieces: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Uneven pieces: tiny ones, ones that end a byte short of or past a part, ones of several parts. */
const SIZES = [3, PART - 4, 1, 12 * MiB + 7, 2 * MiB, 17, PART, 11 * MiB + 3, 1, 1, 2];

Deno.test("a stream goes up as parts that are exactly its bytes cut at the part size, for pieces of any size", async () => {
  for (const multipartThreshold of [0, 16 * MiB]) {
    const pieces = piecesOf(SIZES);
    const whole = joined(pieces);
    const { s3, parts, log } = partsS3();
    const out = await uploadObject(s3, { Bucket: "b", Key: "k", Body: streamOf(pieces) }, {
      multipartThreshold,
      partSize: PART,
    });
    assert.deepEqual(out, { ETag: '"done"' });
    const expected = Math.ceil(whole.byteLength / PART);
    assert.deepEqual(log, [
      "CreateMultipartUpload",
      ...Array.from({ length: expected }, (_, i) => `UploadPart ${i + 1}`),
      "CompleteMultipartUpload",
    ]);
    parts.forEach((part, i) => {
      const start = i * PART;
      const end = Math.min(start + PART, whole.byteLength);
      assert.equal(part.byteLength, end - start, `part ${i + 1} of ${parts.length}`);
      assert.deepEqual(part, whole.subarray(start, end), `part ${i + 1}'s bytes`);
    });
  }
});

Deno.test("a stream's bytes are copied once on their way into its parts, however large its pieces", async () => {
  // One piece of 40 MiB and small ones around it, cut into 5 MiB parts.
  const pieces = piecesOf([7, 40 * MiB + 5, 3, PART + 1]);
  const total = pieces.reduce((n, p) => n + p.byteLength, 0);
  const { s3, parts } = partsS3();
  let copied = 0;
  const proto = Uint8Array.prototype;
  const { set, slice } = proto;
  // Counts every byte a Uint8Array copy moves while the upload runs (the
  // pieces and the fake S3 client copy nothing themselves).
  Object.defineProperty(proto, "set", {
    configurable: true,
    writable: true,
    value: function (this: Uint8Array, source: ArrayLike<number>, offset?: number) {
      copied += source.length;
      return set.call(this, source, offset);
    },
  });
  Object.defineProperty(proto, "slice", {
    configurable: true,
    writable: true,
    value: function (this: Uint8Array, start?: number, end?: number) {
      const out = slice.call(this, start, end);
      copied += out.byteLength;
      return out;
    },
  });
  try {
    await uploadObject(s3, { Bucket: "b", Key: "k", Body: streamOf(pieces) }, {
      multipartThreshold: 0,
      partSize: PART,
    });
  } finally {
    delete (proto as { set?: unknown }).set;
    delete (proto as { slice?: unknown }).slice;
  }
  assert.equal(parts.reduce((n, p) => n + p.byteLength, 0), total);
  assert.ok(copied <= total, `${copied} bytes copied for ${total} bytes uploaded`);
});

Deno.test("a stream longer than S3's 10,000 parts of the part size allow goes up whole: its parts grow as it goes", async () => {
  // S3 takes parts 1 to 10,000 (8 MiB parts: 78 GiB at most); `maxParts`
  // lowers that limit here, so that 13 parts' worth of bytes must fit in 4.
  const emu = await startEmulator({ realism: false });
  try {
    const session = await sessionFor(emu);
    await session.s3.createBucket({ Bucket: "parts" });
    const pieces = piecesOf(Array(13).fill(PART));
    const whole = joined(pieces) as Uint8Array<ArrayBuffer>;
    await uploadObject(session.s3, { Bucket: "parts", Key: "k", Body: streamOf(pieces) }, {
      multipartThreshold: 0,
      partSize: PART,
      maxParts: 4,
    });
    const parts = emu.requests.filter({ service: "s3", operation: "UploadPart" });
    assert.ok(parts.length <= 4, `${parts.length} parts`);
    assert.deepEqual(emu.s3.buckets.get("parts")!.objects.get("k")!.body, whole);
    // A byte array too large for them goes up the same way.
    emu.requests.clear();
    await uploadObject(session.s3, { Bucket: "parts", Key: "a", Body: whole }, {
      multipartThreshold: 0,
      partSize: PART,
      maxParts: 4,
    });
    assert.ok(emu.requests.filter({ service: "s3", operation: "UploadPart" }).length <= 4);
    assert.deepEqual(emu.s3.buckets.get("parts")!.objects.get("a")!.body, whole);
  } finally {
    await emu.close();
  }
});
