/**
 * S3 object operations against a small loopback S3 (path style, every
 * signature checked with `@smithy/signature-v4`): single and multipart puts
 * from strings, bytes and streams (the store's `uploadObject`), ranged
 * streaming gets, keys with awkward characters, aborting a failed upload,
 * and chunked DeleteObjects.
 */
import assert from "node:assert/strict";
import { AwsError, AwsSession } from "../../src/aws/mod.ts";
import { uploadObject } from "../../src/store/s3_upload.ts";
import { verifySigV4, withServer } from "./loopback.ts";

const SECRET = "s3secret";
const MiB = 1024 * 1024;

interface MiniS3 {
  objects: Map<string, { bytes: Uint8Array<ArrayBuffer>; headers: Record<string, string> }>;
  log: string[];
  invalidSignatures: number;
  failPart?: number;
  completeWithError?: boolean;
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

function miniS3(state: MiniS3) {
  const uploads = new Map<string, Map<number, Uint8Array>>();
  let nextUpload = 0;
  return async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const body = new Uint8Array(await req.arrayBuffer());
    const check = await verifySigV4(req, body, SECRET);
    if (!check.valid || check.service !== "s3") state.invalidSignatures++;
    const [, bucket, ...rest] = url.pathname.split("/");
    const key = rest.map(decodeURIComponent).join("/");
    const q = url.searchParams;
    const op = `${req.method} ${[...q.keys()].join(",")}`;
    state.log.push(`${op} ${bucket}/${key}`);
    if (req.method === "POST" && q.has("uploads")) {
      const id = `up-${++nextUpload}`;
      uploads.set(id, new Map());
      return new Response(
        `<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`,
      );
    }
    if (req.method === "PUT" && q.has("partNumber")) {
      const n = Number(q.get("partNumber"));
      if (state.failPart === n) {
        return new Response(
          `<Error><Code>InvalidArgument</Code><Message>part ${n} rejected</Message></Error>`,
          { status: 400 },
        );
      }
      uploads.get(q.get("uploadId")!)!.set(n, body);
      return new Response(null, { headers: { etag: `"etag-${n}"` } });
    }
    if (req.method === "POST" && q.has("uploadId")) {
      if (state.completeWithError) {
        return new Response(
          `<Error><Code>InternalError</Code><Message>We encountered an internal error</Message></Error>`,
        );
      }
      const parts = uploads.get(q.get("uploadId")!)!;
      const xml = new TextDecoder().decode(body);
      const numbers = [...xml.matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) =>
        Number(m[1])
      );
      for (const [i, n] of numbers.entries()) {
        if (n < numbers.length && parts.get(n)!.byteLength < 5 * MiB) {
          throw new Error(`part ${i} too small`);
        }
      }
      state.objects.set(`${bucket}/${key}`, {
        bytes: concat(numbers.map((n) => parts.get(n)!)),
        headers: {},
      });
      return new Response(
        `<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><ETag>"multi"</ETag></CompleteMultipartUploadResult>`,
      );
    }
    if (req.method === "DELETE" && q.has("uploadId")) {
      uploads.delete(q.get("uploadId")!);
      return new Response(null, { status: 204 });
    }
    if (req.method === "POST" && q.has("delete")) {
      const keys = [...new TextDecoder().decode(body).matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) =>
        m[1]
      );
      return new Response(
        `<DeleteResult>${
          keys.map((k) => `<Deleted><Key>${k}</Key></Deleted>`).join("")
        }</DeleteResult>`,
      );
    }
    if (req.method === "PUT") {
      const headers: Record<string, string> = {};
      for (const h of ["content-type", "x-amz-server-side-encryption", "x-amz-meta-run"]) {
        if (req.headers.get(h)) headers[h] = req.headers.get(h)!;
      }
      state.objects.set(`${bucket}/${key}`, { bytes: body, headers });
      return new Response(null, {
        headers: {
          etag: '"single"',
          "x-amz-server-side-encryption": headers["x-amz-server-side-encryption"] ?? "AES256",
        },
      });
    }
    if (req.method === "GET" || req.method === "HEAD") {
      const obj = state.objects.get(`${bucket}/${key}`);
      if (!obj) {
        return req.method === "HEAD" ? new Response(null, { status: 404 }) : new Response(
          `<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`,
          { status: 404 },
        );
      }
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.get("range") ?? "");
      if (range) {
        const [from, to] = [Number(range[1]), Math.min(Number(range[2]), obj.bytes.byteLength - 1)];
        return new Response(req.method === "HEAD" ? null : obj.bytes.slice(from, to + 1), {
          status: 206,
          headers: {
            "content-range": `bytes ${from}-${to}/${obj.bytes.byteLength}`,
            ...obj.headers,
          },
        });
      }
      return new Response(req.method === "HEAD" ? null : obj.bytes, {
        headers: {
          ...obj.headers,
          "content-length": String(obj.bytes.byteLength),
          "x-amz-meta-run": "r1",
        },
      });
    }
    return new Response("unexpected", { status: 500 });
  };
}

async function withS3<T>(state: MiniS3, fn: (s: AwsSession) => Promise<T>): Promise<T> {
  return await withServer(miniS3(state), async (url) => {
    const s = await AwsSession.create({
      region: "eu-west-1",
      endpoint: url,
      credentials: { accessKeyId: "AKIDS3", secretAccessKey: SECRET, sessionToken: "tok" },
      env: () => undefined,
      readTextFile: () => Promise.resolve(undefined),
      retry: { maxAttempts: 1 },
    });
    return await fn(s);
  });
}

function newState(): MiniS3 {
  return { objects: new Map(), log: [], invalidSignatures: 0 };
}

function pattern(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + (i >> 8)) & 255;
  return out;
}

function streamOf(bytes: Uint8Array, chunk: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
}

const KEY = "runs/r 1/a+b(1)!'*~ü.json";

Deno.test("small puts go up in one request with their headers; awkward keys survive", async () => {
  const state = newState();
  await withS3(state, async (s) => {
    const out = await s.s3.putObject({
      Bucket: "bkt",
      Key: KEY,
      Body: '{"x":1}',
      ContentType: "application/json",
      ServerSideEncryption: "AES256",
      Metadata: { run: "r1" },
    });
    assert.deepEqual(out, { ETag: '"single"', ServerSideEncryption: "AES256" });
    const stored = state.objects.get(`bkt/${KEY}`)!;
    assert.equal(new TextDecoder().decode(stored.bytes), '{"x":1}');
    assert.deepEqual(stored.headers, {
      "content-type": "application/json",
      "x-amz-server-side-encryption": "AES256",
      "x-amz-meta-run": "r1",
    });
    const head = await s.s3.headObject({ Bucket: "bkt", Key: KEY });
    assert.equal(head.ContentLength, 7);
    assert.deepEqual(head.Metadata, { run: "r1" });
    const small = await uploadObject(s.s3, {
      Bucket: "bkt",
      Key: "s",
      Body: streamOf(pattern(1000), 100),
    });
    assert.equal(small.ETag, '"single"');
  });
  assert.deepEqual(state.log, [`PUT  bkt/${KEY}`, `HEAD  bkt/${KEY}`, "PUT  bkt/s"]);
  assert.equal(state.invalidSignatures, 0);
});

Deno.test("large byte arrays and streams go up as multipart uploads in parts of at least 5 MiB", async () => {
  const state = newState();
  const data = pattern(12 * MiB + 123);
  await withS3(state, async (s) => {
    const a = await uploadObject(s.s3, { Bucket: "bkt", Key: "big/bytes", Body: data }, {
      multipartThreshold: 6 * MiB,
      partSize: 5 * MiB,
    });
    assert.equal(a.ETag, '"multi"');
    const b = await uploadObject(s.s3, {
      Bucket: "bkt",
      Key: "big/stream",
      Body: streamOf(data, 64 * 1024 + 7),
    }, {
      multipartThreshold: 6 * MiB,
      partSize: 5 * MiB,
    });
    assert.equal(b.ETag, '"multi"');
  });
  assert.deepEqual(state.objects.get("bkt/big/bytes")!.bytes, data);
  assert.deepEqual(state.objects.get("bkt/big/stream")!.bytes, data);
  const parts = state.log.filter((l) => l.startsWith("PUT partNumber"));
  assert.equal(parts.length, 6);
  assert.equal(state.invalidSignatures, 0);
});

Deno.test("a failed part aborts the multipart upload and the error comes through", async () => {
  const state = newState();
  state.failPart = 2;
  await withS3(state, async (s) => {
    const e = await uploadObject(s.s3, { Bucket: "bkt", Key: "big/x", Body: pattern(11 * MiB) }, {
      multipartThreshold: 6 * MiB,
      partSize: 5 * MiB,
    })
      .then(() => undefined, (e) => e);
    assert.ok(e instanceof AwsError);
    assert.equal(e.code, "InvalidArgument");
    assert.equal(e.operation, "UploadPart");
  });
  // The three parts go up at once; the upload is aborted once they are all answered.
  assert.deepEqual(state.log.map((l) => l.split(" ")[0] + " " + l.split(" ")[1]), [
    "POST uploads",
    "PUT partNumber,uploadId",
    "PUT partNumber,uploadId",
    "PUT partNumber,uploadId",
    "DELETE uploadId",
  ]);
});

Deno.test("CompleteMultipartUpload answering 200 with an error body is an error", async () => {
  const state = newState();
  state.completeWithError = true;
  await withS3(state, async (s) => {
    const e = await uploadObject(s.s3, { Bucket: "bkt", Key: "big/y", Body: pattern(6 * MiB) }, {
      multipartThreshold: 5 * MiB,
      partSize: 5 * MiB,
    })
      .then(() => undefined, (e) => e);
    assert.ok(e instanceof AwsError);
    assert.equal(e.code, "InternalError");
    assert.equal(e.operation, "CompleteMultipartUpload");
  });
  assert.equal(state.log.at(-1)!.split(" ")[0], "DELETE");
});

Deno.test("ranged gets return 206 and a streaming body", async () => {
  const state = newState();
  const data = pattern(4096);
  await withS3(state, async (s) => {
    await s.s3.putObject({ Bucket: "bkt", Key: KEY, Body: data });
    const part = await s.s3.getObject({ Bucket: "bkt", Key: KEY, Range: "bytes=100-1099" });
    assert.equal(part.status, 206);
    assert.equal(part.ContentRange, "bytes 100-1099/4096");
    const chunks: Uint8Array[] = [];
    for await (const chunk of part.Body!) chunks.push(chunk);
    assert.deepEqual(concat(chunks), data.slice(100, 1100));
    const whole = await s.s3.getObject({ Bucket: "bkt", Key: KEY });
    assert.deepEqual(await whole.bytes(), data);
    const missing = await s.s3.getObject({ Bucket: "bkt", Key: "nope" }).then(
      () => undefined,
      (e) => e,
    );
    assert.equal(missing.code, "NoSuchKey");
    const head = await s.s3.headObject({ Bucket: "bkt", Key: "nope" }).then(
      () => undefined,
      (e) => e,
    );
    assert.equal(head.code, "NotFound");
  });
});

Deno.test("deleteKeys sends at most 1000 keys per DeleteObjects call", async () => {
  const state = newState();
  await withS3(state, async (s) => {
    const keys = Array.from({ length: 2345 }, (_, i) => `k/${i}`);
    const out = await s.s3.deleteKeys("bkt", keys);
    assert.equal(out.Deleted?.length, 2345);
    assert.deepEqual(out.Errors, []);
    const tooMany = await s.s3.deleteObjects({
      Bucket: "bkt",
      Delete: { Objects: keys.map((Key) => ({ Key })) },
    }).then(() => undefined, (e) => e);
    assert.match(
      String(tooMany),
      /DeleteObjects takes at most 1000 keys, got 2345; use deleteKeys\(\)/,
    );
  });
  assert.equal(state.log.filter((l) => l.startsWith("POST delete")).length, 3);
});

Deno.test("a part size under 5 MiB is refused before anything is sent", async () => {
  const state = newState();
  await withS3(state, async (s) => {
    await assert.rejects(
      uploadObject(s.s3, { Bucket: "b", Key: "k", Body: "x" }, { partSize: MiB }),
      /partSize must be at least 5242880 bytes/,
    );
  });
  assert.deepEqual(state.log, []);
});
