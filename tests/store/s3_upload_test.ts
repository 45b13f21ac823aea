// A stream uploaded to S3 in parts: the parts are the stream's bytes cut at
// the part size, however the stream's pieces are cut, and each byte is copied
// once on its way into a part (not once more for every part cut from a large
// piece). Parts go up a few at once, the stream read no further ahead than
// them; a part that fails aborts the upload.
import assert from "node:assert/strict";
import { AwsError } from "../../src/aws/core/error.ts";
import { signRequest } from "../../src/aws/core/request.ts";
import type { S3Objects } from "../../src/aws/services/s3.ts";
import { DEFAULT_QUEUE_SIZE, uploadObject } from "../../src/store/s3_upload.ts";
import { CloudknotInputError } from "../../src/util/errors.ts";
import { type Emulator, startEmulator } from "../emulator/mod.ts";
import { waitFor } from "../emulator/test_helpers.ts";
import { sessionFor } from "../support/aws_session.ts";
import { holdAnswer } from "../support/held_answer.ts";

const MiB = 1024 * 1024;
const PART = 5 * MiB;

/**
 * An S3 client that keeps the parts it is sent, by their numbers, and the
 * parts CompleteMultipartUpload lists.
 */
function partsS3() {
  const parts: Uint8Array[] = [];
  const completed: { PartNumber: number; ETag: string }[] = [];
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
      parts[input.PartNumber - 1] = input.Body;
      return Promise.resolve({ ETag: `"${input.PartNumber}"` });
    },
    completeMultipartUpload: (
      input: { MultipartUpload: { Parts: { PartNumber: number; ETag: string }[] } },
    ) => {
      log.push("CompleteMultipartUpload");
      completed.push(...input.MultipartUpload.Parts);
      return Promise.resolve({ ETag: '"done"' });
    },
    abortMultipartUpload: () => {
      log.push("AbortMultipartUpload");
      return Promise.resolve({});
    },
  };
  return { s3: s3 as unknown as S3Objects, parts, completed, log };
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

/** The multipart uploads S3 keeps unfinished in a bucket (ListMultipartUploads). */
async function unfinishedUploads(emu: Emulator, bucket: string): Promise<string[]> {
  const signed = await signRequest({
    method: "GET",
    url: new URL(`/${bucket}?uploads`, emu.endpoint),
    headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
    body: null,
    credentials: emu.credentials,
    service: "s3",
    region: emu.region,
    datetime: new Date().toISOString().replace(/[:-]|\.\d{3}/g, ""),
  });
  const res = await fetch(signed.url, { method: "GET", headers: signed.headers });
  const xml = await res.text();
  assert.equal(res.status, 200, xml);
  return [...xml.matchAll(/<UploadId>([^<]*)<\/UploadId>/g)].map((m) => m[1]!);
}

Deno.test("the parts of a multipart upload go up several at once: others go up while S3 holds its answer to one", async () => {
  const emu = await startEmulator({ realism: false });
  try {
    const session = await sessionFor(emu);
    await session.s3.createBucket({ Bucket: "parts" });
    const pieces = piecesOf(Array(6).fill(PART));
    const whole = joined(pieces);
    const answered = () => emu.requests.filter({ service: "s3", operation: "UploadPart" }).length;
    const held = await holdAnswer(
      emu,
      { service: "s3", operation: "UploadPart" },
      () =>
        uploadObject(session.s3, { Bucket: "parts", Key: "k", Body: streamOf(pieces) }, {
          multipartThreshold: 0,
          partSize: PART,
        }),
    );
    try {
      // One part goes up one after the other would wait for the held answer for ever.
      await waitFor(() => answered() >= 1);
    } finally {
      await held.answer();
    }
    assert.equal(answered(), 6);
    // The parts are listed in order in CompleteMultipartUpload (S3 refuses
    // them otherwise), so the object is the stream's bytes.
    assert.deepEqual(emu.s3.buckets.get("parts")!.objects.get("k")!.body, whole);
    assert.deepEqual(await unfinishedUploads(emu, "parts"), []);
  } finally {
    await emu.close();
  }
});

Deno.test("at most queueSize parts go up at once, and a stream is read no further ahead than the parts going up", async () => {
  for (const queueSize of [1, 3, DEFAULT_QUEUE_SIZE]) {
    const pieces = piecesOf(Array(12 * 5).fill(MiB));
    const whole = joined(pieces);
    let read = 0;
    let finished = 0;
    let going = 0;
    let most = 0;
    let aheadMost = 0;
    const { s3, parts, completed } = partsS3();
    const upload = s3.uploadPart.bind(s3);
    s3.uploadPart = async (input, options) => {
      going++;
      most = Math.max(most, going);
      // Answered a timer later: every part that may go up at once has been taken by then.
      await new Promise((r) => setTimeout(r, 0));
      const out = await upload(input, options);
      going--;
      finished += input.Body.byteLength;
      return out;
    };
    let next = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (next === pieces.length) return controller.close();
        read += pieces[next]!.byteLength;
        aheadMost = Math.max(aheadMost, read - finished);
        controller.enqueue(pieces[next++]!);
      },
    }, { highWaterMark: 0 });
    await uploadObject(s3, { Bucket: "b", Key: "k", Body: stream }, {
      multipartThreshold: 0,
      partSize: PART,
      queueSize,
    });
    assert.equal(most, queueSize, `the parts going up at once, of ${queueSize}`);
    // The parts going up and the one being read: queueSize parts in all.
    assert.ok(
      aheadMost <= queueSize * PART,
      `${aheadMost / MiB} MiB read ahead of the parts done, with ${queueSize} at once`,
    );
    assert.deepEqual(joined(parts), whole);
    assert.deepEqual(
      completed,
      Array.from({ length: 12 }, (_, i) => ({ PartNumber: i + 1, ETag: `"${i + 1}"` })),
    );
  }
});

Deno.test("a part that fails stops the upload: no part starts after it, those going up finish, then the upload is aborted and the first failure rethrown", async () => {
  const { s3, log } = partsS3();
  const upload = s3.uploadPart.bind(s3);
  s3.uploadPart = async (input, options) => {
    log.push(`start ${input.PartNumber}`);
    await new Promise((r) => setTimeout(r, 0));
    if (input.PartNumber === 2 || input.PartNumber === 3) {
      log.push(`fail ${input.PartNumber}`);
      throw new Error(`part ${input.PartNumber} was refused`);
    }
    const out = await upload(input, options);
    log.push(`end ${input.PartNumber}`);
    return out;
  };
  await assert.rejects(
    uploadObject(s3, { Bucket: "b", Key: "k", Body: streamOf(piecesOf(Array(12).fill(PART))) }, {
      multipartThreshold: 0,
      partSize: PART,
      queueSize: 3,
    }),
    /part 2 was refused/,
  );
  const failed = log.indexOf("fail 2");
  assert.ok(failed > 0, log.join(", "));
  assert.deepEqual(log.slice(failed).filter((e) => e.startsWith("start")), [], log.join(", "));
  const started = log.filter((e) => e.startsWith("start")).map((e) => e.slice(6));
  const settled = log.filter((e) => /^(end|fail) /.test(e)).map((e) => e.split(" ")[1]);
  assert.deepEqual(settled.toSorted(), started.toSorted(), "every part started was waited for");
  assert.equal(log.at(-1), "AbortMultipartUpload");
  assert.ok(!log.includes("CompleteMultipartUpload"));
});

Deno.test("a part S3 refuses aborts the multipart upload: the upload rejects with S3's error and leaves no parts and no object", async () => {
  const emu = await startEmulator({ realism: false });
  try {
    const session = await sessionFor(emu, { retry: { maxAttempts: 1 } });
    await session.s3.createBucket({ Bucket: "parts" });
    emu.requests.clear();
    emu.faults.add({ service: "s3", operation: "UploadPart", kind: "500", times: 1 });
    await assert.rejects(
      uploadObject(session.s3, {
        Bucket: "parts",
        Key: "k",
        Body: streamOf(piecesOf(Array(13).fill(PART))),
      }, { multipartThreshold: 0, partSize: PART }),
      (e) => e instanceof AwsError && e.status === 500,
    );
    const parts = emu.requests.filter({ service: "s3", operation: "UploadPart" });
    // The refused part and those going up beside it; none after.
    assert.ok(parts.length <= DEFAULT_QUEUE_SIZE, `${parts.length} parts sent`);
    const [abort] = emu.requests.filter({ service: "s3", operation: "AbortMultipartUpload" });
    assert.ok(abort !== undefined, "the upload was aborted");
    assert.ok(parts.every((p) => p.seq < abort.seq), "the parts going up were waited for");
    assert.deepEqual(await unfinishedUploads(emu, "parts"), []);
    assert.equal(emu.s3.buckets.get("parts")!.objects.has("k"), false);
  } finally {
    await emu.close();
  }
});

Deno.test("a CompleteMultipartUpload that S3 answers 200 with an error in its body is sent again until the upload completes, and past three tries rejects with S3's error and aborts", async () => {
  const emu = await startEmulator({ realism: false });
  try {
    const session = await sessionFor(emu);
    await session.s3.createBucket({ Bucket: "parts" });
    const upload = (key: string) =>
      uploadObject(session.s3, {
        Bucket: "parts",
        Key: key,
        Body: streamOf(piecesOf(Array(2).fill(PART))),
      }, { multipartThreshold: 0, partSize: PART });
    const completes = () =>
      emu.requests.filter({ service: "s3", operation: "CompleteMultipartUpload" }).length;
    emu.faults.add({
      service: "s3",
      operation: "CompleteMultipartUpload",
      kind: "200-error",
      times: 2,
    });
    await upload("k");
    assert.equal(completes(), 3);
    assert.equal(emu.s3.buckets.get("parts")!.objects.get("k")?.body.length, 2 * PART);

    emu.requests.clear();
    emu.faults.add({ service: "s3", operation: "CompleteMultipartUpload", kind: "200-error" });
    await assert.rejects(
      upload("never"),
      (e) => e instanceof AwsError && e.code === "InternalError" && e.status === 200,
    );
    assert.equal(completes(), 4);
    assert.equal(emu.s3.buckets.get("parts")!.objects.has("never"), false);
    assert.deepEqual(await unfinishedUploads(emu, "parts"), []);
  } finally {
    await emu.close();
  }
});

Deno.test("a queueSize below one part is refused before anything is sent", async () => {
  for (const queueSize of [0, -1, 1.5, Number.NaN]) {
    const { s3, log } = partsS3();
    await assert.rejects(
      uploadObject(s3, { Bucket: "b", Key: "k", Body: new Uint8Array(2 * PART) }, {
        multipartThreshold: 0,
        partSize: PART,
        queueSize,
      }),
      (e) => e instanceof CloudknotInputError && /queueSize/.test(e.message),
    );
    assert.deepEqual(log, [], `queueSize ${queueSize}`);
  }
});
