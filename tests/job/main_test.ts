// The job entry point as a container runs it: a real process, its job in the
// arguments and in the AWS Batch environment variables.
import assert from "node:assert/strict";
import { join } from "node:path";
import { encode } from "../../src/job/codec.ts";
import { artifactFromFunc, listRecords, readRecords, writePayload } from "../../src/job/mod.ts";
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

Deno.test("a promise nothing can settle fails the attempt with a record that says so, in a job's worker", async () => {
  const { dir, run, functionUrl } = await setup(async function stuck(x: number) {
    await new Promise(() => {});
    return x;
  }, [9, 10]);
  try {
    const { code } = await job(["--run", run.url, "--function", functionUrl, "--offset", "0"], {
      AWS_BATCH_JOB_ARRAY_INDEX: "0",
    });
    assert.equal(code, 1);
    const record = (await readRecord(run, 0, 1))!;
    assert.ok(record.status === "error", JSON.stringify(record));
    assert.equal(record.kind, "threw");
    assert.equal(record.error.name, "PromiseNeverSettledError");
    assert.match(record.error.message, /never settled/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an exception a callback threw where nothing could catch it fails its item at once, naming it, and the slice's next item runs", async () => {
  const { dir, run, functionUrl } = await setup(function parses(text: string) {
    // A callback-style bug: the callback throws before it resolves, so the
    // function's promise is never settled by it.
    return new Promise((resolve) => setTimeout(() => resolve(JSON.parse(text)), 5));
  }, ["{", "[1]"]);
  try {
    const args = ["--run", run.url, "--function", functionUrl, "--index", "0", "--slice", "2"];
    const { code, stderr } = await job([...args, "--concurrency", "1"], {});
    assert.equal(code, 1, stderr);
    const { values } = await recorded(run);
    assert.deepEqual([...values], [[1, [1]]]);
    const record = (await readRecord(run, 0, 1))!;
    assert.ok(record.status === "error", JSON.stringify(record));
    assert.equal(record.kind, "threw");
    assert.equal(record.error.name, "UncaughtExceptionError");
    assert.match(
      record.error.message,
      /^An exception was thrown where nothing caught it \(uncaught exception, as in a timer's or an event listener's callback\): SyntaxError: .*; catch it in that callback/,
    );
    // Where it was thrown: the callback's stack.
    assert.match(record.error.stack ?? "", /^SyntaxError: [^]*JSON\.parse/);
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

/** What the records of a slice's run say: each object's items, and each item's attempts. */
async function recorded(run: LocalStore) {
  const objects: number[][] = [];
  const attempts = new Map<number, number[]>();
  const values = new Map<number, unknown>();
  for await (const key of listRecords(run)) {
    const records = await readRecords(run, key);
    objects.push(records.map((r) => r.index));
    for (const r of records) {
      attempts.set(r.index, [...(attempts.get(r.index) ?? []), r.attempt].sort());
      if (r.status === "ok") values.set(r.index, r.value);
    }
  }
  return { objects, attempts: Object.fromEntries(attempts), values };
}

/** One function for the slice tests: its input says what it does. */
const sliceItem = async (x: { v: number; sleep?: number; kill?: boolean; say?: string }) => {
  if (x.say !== undefined) console.log(x.say);
  if (x.sleep !== undefined) await new Promise((r) => setTimeout(r, x.sleep));
  // Kills the job entry (the worker's parent), as a reclaimed host does, on the first attempt.
  if (x.kill && Deno.env.get("AWS_BATCH_JOB_ATTEMPT") === "1") {
    Deno.kill(Deno.ppid, "SIGKILL");
    Deno.exit(9);
  }
  return x.v * 10;
};

Deno.test("a slice's records go out as one object for many items", async () => {
  const items = Array.from({ length: 12 }, (_, v) => ({ v }));
  const { dir, run, functionUrl } = await setup(sliceItem, items);
  try {
    const args = ["--run", run.url, "--function", functionUrl, "--index", "0", "--slice", "12"];
    const { code, stderr } = await job([...args, "--concurrency", "2"], {});
    assert.equal(code, 0, stderr);
    const { objects, values } = await recorded(run);
    // One flush at the end, or a few if the machine is slow: never one object per item.
    assert.ok(objects.length < items.length / 2, `${objects.length} objects`);
    assert.deepEqual([...values].sort((a, b) => a[0] - b[0]).map(([, v]) => v), [
      ...items.map((x) => x.v * 10),
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a job told the inputs' size reads its slice from the whole object, beside the index", async () => {
  const items = Array.from({ length: 9 }, (_, v) => ({ v }));
  const { dir, run, functionUrl } = await setup(sliceItem, items);
  try {
    const inputs = (await Deno.stat(join(dir, "run", "inputs"))).size;
    const args = ["--run", run.url, "--function", functionUrl, "--index", "3", "--slice", "4"];
    const { code, stderr } = await job(args, { CLOUDKNOT_INPUTS_BYTES: String(inputs) });
    assert.equal(code, 0, stderr);
    const { values } = await recorded(run);
    assert.deepEqual([...values].sort((a, b) => a[0] - b[0]), [[3, 30], [4, 40], [5, 50], [6, 60]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a job killed with records written and records buffered: its retry runs only the items without one", async () => {
  // Items 0 and 1 are written while item 2 sleeps (their wait is 1 s); 2 to 4 are
  // buffered when item 5 kills the job; 5 and 6 never ran.
  const items = [
    { v: 0 },
    { v: 1 },
    { v: 2, sleep: 3000 },
    { v: 3 },
    { v: 4 },
    { v: 5, kill: true },
    { v: 6 },
  ];
  const { dir, run, functionUrl } = await setup(sliceItem, items);
  try {
    const args = ["--run", run.url, "--function", functionUrl, "--index", "0", "--slice", "7"];
    const env = { CLOUDKNOT_PERMISSIONS: JSON.stringify({ net: true, run: true }) };
    const killed = await job(args, { ...env, AWS_BATCH_JOB_ATTEMPT: "1" });
    assert.notEqual(killed.code, 0);
    assert.deepEqual((await recorded(run)).attempts, { 0: [1], 1: [1] });
    const retried = await job(args, { ...env, AWS_BATCH_JOB_ATTEMPT: "2" });
    assert.equal(retried.code, 0, retried.stderr);
    const { attempts, values } = await recorded(run);
    assert.deepEqual(attempts, { 0: [1], 1: [1], 2: [2], 3: [2], 4: [2], 5: [2], 6: [2] });
    assert.deepEqual(
      [...values].sort((a, b) => a[0] - b[0]).map(([, v]) => v),
      items.map((x) => x.v * 10),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGTERM stops the workers, writes the records held and exits 143", async () => {
  const items = [{ v: 0 }, { v: 1 }, { v: 2, say: "started 2", sleep: 60_000 }];
  const { dir, run, functionUrl } = await setup(sliceItem, items);
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", main, "--run", run.url, "--function", functionUrl]
        .concat(["--index", "0", "--slice", "3"]),
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    // Item 2 starts after the records of 0 and 1 reached the job (one worker, in order).
    let seen = "";
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    while (!seen.includes("started 2")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
    child.kill("SIGTERM");
    await reader.cancel();
    const status = await child.status;
    assert.equal(status.signal, null, "the job handles SIGTERM");
    assert.equal(status.code, 143);
    assert.match(await stderr, /stopped by SIGTERM after writing 2 records/);
    assert.deepEqual((await recorded(run)).attempts, { 0: [1], 1: [1] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
