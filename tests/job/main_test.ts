// The job entry point as a container runs it: a real process, its job in the
// arguments and in the AWS Batch environment variables.
import assert from "node:assert/strict";
import { join } from "node:path";
import { encode } from "../../src/job/codec.ts";
import { artifactFromFunc, writePayload } from "../../src/job/mod.ts";
import { LocalStore } from "../../src/store/mod.ts";
import { readRecord } from "../support/records.ts";

const main = new URL("../../src/job/main.ts", import.meta.url).href;

async function setup(func: (...args: never[]) => unknown, items: unknown[]) {
  const dir = await Deno.makeTempDir();
  const artifact = await artifactFromFunc(func);
  await Deno.writeTextFile(join(dir, "function.js"), artifact.source);
  const run = new LocalStore(join(dir, "run"));
  await writePayload(run, items.map((v) => encode(v)), {
    version: 1,
    runId: "r",
    knot: "k",
    count: items.length,
    starmap: false,
    createdAt: 0,
    attempts: 1,
  });
  return { dir, run, functionUrl: `file://${dir}/function.js` };
}

async function job(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", main, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("an array child reads its own item and writes its result record", async () => {
  const { dir, run, functionUrl } = await setup((x: number) => x * 3, [1, 2, 3, 4]);
  try {
    const { code } = await job(["--run", run.url, "--function", functionUrl, "--offset", "2"], {
      AWS_BATCH_JOB_ID: "abc:1",
      AWS_BATCH_JOB_ARRAY_INDEX: "1",
      AWS_BATCH_JOB_ATTEMPT: "2",
    });
    assert.equal(code, 0);
    const record = (await readRecord(run, 3, 2))!;
    assert.equal(record.status, "ok");
    assert.deepEqual(
      {
        value: record.status === "ok" && record.value,
        jobId: record.jobId,
        attempt: record.attempt,
      },
      { value: 12, jobId: "abc:1", attempt: 2 },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a throwing function exits 1 with an error record holding the remote stack", async () => {
  const { dir, run, functionUrl } = await setup(function fails(x: number) {
    throw new TypeError(`no ${x}`);
  }, [7]);
  try {
    const { code, stderr } = await job([
      "--run",
      run.url,
      "--function",
      functionUrl,
      "--index",
      "0",
    ], {});
    assert.equal(code, 1);
    assert.match(stderr, /TypeError: no 7/);
    const record = (await readRecord(run, 0, 1))!;
    assert.ok(record.status === "error");
    assert.equal(record.kind, "threw");
    assert.equal(record.error.name, "TypeError");
    assert.match(record.error.stack ?? "", /fails/);
    assert.equal(record.jobId, "local-0");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a promise the function rejected and never awaited fails the attempt, naming its reason", async () => {
  const { dir, run, functionUrl } = await setup(async function forgets(x: number) {
    Promise.reject(new RangeError(`lost ${x}`));
    await new Promise((resolve) => setTimeout(resolve, 20));
    return x;
  }, [7]);
  try {
    const { code } = await job(["--run", run.url, "--function", functionUrl, "--index", "0"], {});
    assert.equal(code, 1);
    const record = (await readRecord(run, 0, 1))!;
    assert.ok(record.status === "error");
    assert.equal(record.kind, "threw");
    assert.equal(record.error.name, "UnhandledRejectionError");
    assert.match(
      record.error.message,
      /^A promise was rejected and never awaited \(unhandled rejection\): RangeError: lost 7; await it/,
    );
    assert.match(record.error.stack ?? "", /forgets/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a promise the function rejected as it returned, and never awaited, fails the attempt too", async () => {
  const { dir, run, functionUrl } = await setup(function leaves(x: number) {
    Promise.reject(new RangeError(`left ${x}`));
    return x;
  }, [8]);
  try {
    const { code } = await job(["--run", run.url, "--function", functionUrl, "--index", "0"], {});
    assert.equal(code, 1);
    const record = (await readRecord(run, 0, 1))!;
    assert.ok(record.status === "error", JSON.stringify(record));
    assert.equal(record.error.name, "UnhandledRejectionError");
    assert.match(record.error.message, /RangeError: left 8; await it/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad usage exits 2 and says what is missing", async () => {
  const missing = await job(["--run", "file:///tmp/x"], {});
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--index N, or --offset N with AWS_BATCH_JOB_ARRAY_INDEX/);
  const unknown = await job(["--bogus"], {});
  assert.equal(unknown.code, 2);
});

Deno.test("an unreachable run exits 3 without a record", async () => {
  const { dir, functionUrl } = await setup((x: number) => x, [1]);
  try {
    const { code, stderr } = await job(
      ["--run", "gs://nowhere/run", "--function", functionUrl, "--index", "0"],
      {},
    );
    assert.equal(code, 3);
    assert.match(stderr, /Unsupported store URL/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
