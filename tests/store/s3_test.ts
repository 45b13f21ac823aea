// S3Store: the ObjectStore interface over S3, against the emulator.
import assert from "node:assert/strict";
import { CloudknotInputError } from "../../mod.ts";
import { AwsSession } from "../../src/aws/mod.ts";
import { ensureBucket } from "../../src/resources/mod.ts";
import { deletePrefix, openS3Store, S3Store } from "../../src/store/mod.ts";
import { startEmulator } from "../emulator/mod.ts";
import { ROOT } from "../targets/aws/helpers.ts";

Deno.test("S3Store: put, ranged get, head, list, folders, delete and at() against S3", async () => {
  const emu = await startEmulator();
  const sent: { method: string; url: string; headers: Headers }[] = [];
  try {
    const session = await AwsSession.create({
      region: emu.region,
      endpoint: emu.endpoint,
      credentials: emu.credentials,
      env: () => undefined,
      readTextFile: () => Promise.resolve(undefined),
      fetch: (input, init) => {
        sent.push({
          method: init?.method ?? "GET",
          url: String(input),
          headers: new Headers(init?.headers),
        });
        return fetch(input, init);
      },
    });
    await session.s3.createBucket({ Bucket: "store-bucket" });
    const root = new S3Store({ session, bucket: "store-bucket", prefix: "ck/k", sse: "aws:kms" });
    assert.equal(root.url, `s3://store-bucket/ck/k?region=${emu.region}&sse=aws:kms`);
    const run = root.at("runs/r1");
    assert.equal(run.prefix, "ck/k/runs/r1");
    assert.equal(run.sse, "aws:kms");

    await run.put("inputs", new Uint8Array([1, 2, 3, 4, 5]));
    const put = sent.findLast((s) => s.method === "PUT")!;
    assert.match(put.url, /\/store-bucket\/ck\/k\/runs\/r1\/inputs$/);
    assert.equal(put.headers.get("x-amz-server-side-encryption"), "aws:kms");
    const written = Date.now();
    await run.put("index", "text", { metadata: { "cloudknot-run": '{"a":1}' } });
    const { lastModified, ...head } = (await run.head("index"))!;
    assert.deepEqual(head, { size: 4, metadata: { "cloudknot-run": '{"a":1}' } });
    // When it was written, as S3 says: HTTP dates have whole seconds.
    assert.ok(lastModified! >= Math.floor(written / 1000) * 1000 && lastModified! <= Date.now());
    assert.equal(await run.head("nothing"), undefined);

    assert.deepEqual(await run.get("inputs"), new Uint8Array([1, 2, 3, 4, 5]));
    assert.deepEqual(
      await run.get("inputs", { range: { offset: 1, length: 2 } }),
      new Uint8Array([2, 3]),
    );
    const ranged = sent.findLast((s) => s.method === "GET")!;
    assert.equal(ranged.headers.get("range"), "bytes=1-2");
    assert.deepEqual(
      await run.get("inputs", { range: { offset: 3, length: 10 } }),
      new Uint8Array([4, 5]),
    );
    assert.deepEqual(
      await run.get("inputs", { range: { offset: 9, length: 2 } }),
      new Uint8Array(),
    );
    const before = sent.length;
    assert.deepEqual(
      await run.get("inputs", { range: { offset: 0, length: 0 } }),
      new Uint8Array(),
    );
    assert.equal(sent.length, before, "an empty range needs no request");
    assert.equal(await run.get("missing"), undefined);
    assert.equal(run.bytesRead, 5 + 2 + 2);
    await assert.rejects(
      run.get("inputs", { range: { offset: -1, length: 1 } }),
      CloudknotInputError,
    );

    // More than one page of keys, listed in key order, relative to the store.
    const keys = Array.from({ length: 1005 }, (_, i) => `out/${i}-1`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((k) => run.put(k, "r")));
    }
    const listed = await Array.fromAsync(run.list("out/"));
    assert.equal(listed.length, 1005);
    assert.deepEqual(listed.map((o) => o.key), [...keys].sort());
    assert.ok(listed.every((o) => o.size === 1));
    const after = await Array.fromAsync(run.list("out/", { startAfter: "out/998-" }));
    assert.deepEqual(after.map((o) => o.key), ["out/998-1", "out/999-1"]);
    await root.at("runs/r2").put("inputs", "x");
    assert.deepEqual(await Array.fromAsync(root.folders("runs/")), ["r1", "r2"]);

    // Deleting 1,005 keys takes two DeleteObjects calls; missing keys are fine.
    emu.requests.clear();
    assert.equal(await deletePrefix(run, "out/"), 1005);
    assert.equal(emu.count("s3", "DeleteObjects"), 2);
    await run.delete(["out/0-1", "never-there"]);
    assert.deepEqual(await Array.fromAsync(run.list("out/")), []);
    await run.delete([]);

    // The store a URL names.
    const reopened = await openS3Store(run.url, { session });
    assert.deepEqual([reopened.bucket, reopened.prefix, reopened.sse], [
      "store-bucket",
      "ck/k/runs/r1",
      "aws:kms",
    ]);
    assert.deepEqual(await reopened.get("inputs"), new Uint8Array([1, 2, 3, 4, 5]));

    // Bad input.
    assert.throws(() => new S3Store({ session, bucket: "Bad_Bucket" }), CloudknotInputError);
    assert.throws(
      () => new S3Store({ session, bucket: "ok-bucket", prefix: "/abs" }),
      CloudknotInputError,
    );
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => new S3Store({ session, bucket: "ok-bucket", sse: "DES" as any }),
      CloudknotInputError,
    );
    await assert.rejects(run.put("../escape", "x"), CloudknotInputError);
    await assert.rejects(openS3Store("s3:///no-bucket", { session }), CloudknotInputError);
  } finally {
    await emu.close();
  }
});

Deno.test("openStore opens s3:// URLs with a session from the environment, as a job does", async () => {
  const emu = await startEmulator();
  try {
    const session = await AwsSession.create({
      region: emu.region,
      endpoint: emu.endpoint,
      credentials: emu.credentials,
      env: () => undefined,
      readTextFile: () => Promise.resolve(undefined),
    });
    await session.s3.createBucket({ Bucket: "env-bucket" });
    await new S3Store({ session, bucket: "env-bucket", prefix: "runs/r" }).put("greeting", "hi");
    const script = `
      import { openStore } from "./src/store/mod.ts";
      const store = await openStore("s3://env-bucket/runs/r");
      console.log(new TextDecoder().decode(await store.get("greeting")));
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--quiet", script],
      cwd: ROOT,
      env: {
        ...emu.env,
        AWS_CONFIG_FILE: "/nonexistent/config",
        AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.equal(new TextDecoder().decode(out.stdout).trim(), "hi");
  } finally {
    await emu.close();
  }
});

Deno.test("a job with no AWS_REGION, as on ECS with EC2, opens its store in the region its URL names", async () => {
  const emu = await startEmulator({ region: "eu-west-1" });
  try {
    const session = await AwsSession.create({
      region: emu.region,
      endpoint: emu.endpoint,
      credentials: emu.credentials,
      env: () => undefined,
      readTextFile: () => Promise.resolve(undefined),
    });
    // As a knot makes it: outside us-east-1 a new bucket is waited for until S3 shows it.
    await ensureBucket(session, { bucket: "ec2-bucket" });
    const store = new S3Store({ session, bucket: "ec2-bucket", prefix: "runs/r" });
    await store.put("greeting", "hi");
    const script = `
      import { openStore } from "./src/store/mod.ts";
      const store = await openStore(Deno.args[0]);
      console.log(new TextDecoder().decode(await store.get("greeting")));
    `;
    const { AWS_REGION: _, AWS_DEFAULT_REGION: __, ...noRegion } = emu.env;
    const run = (env: Record<string, string>) =>
      new Deno.Command(Deno.execPath(), {
        args: ["eval", "--quiet", script, store.url],
        cwd: ROOT,
        env: {
          ...env,
          AWS_CONFIG_FILE: "/nonexistent/config",
          AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
        },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
    const host = Object.fromEntries(
      ["PATH", "HOME", "DENO_DIR"].flatMap((k) => {
        const v = Deno.env.get(k);
        return v === undefined ? [] : [[k, v]];
      }),
    );
    const out = await run({ ...noRegion, ...host });
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.equal(new TextDecoder().decode(out.stdout).trim(), "hi");
    // A user's AWS_REGION for their own code does not move the store.
    const other = await run({ ...noRegion, ...host, AWS_REGION: "ap-south-1" });
    assert.equal(other.code, 0, new TextDecoder().decode(other.stderr));
  } finally {
    await emu.close();
  }
});
