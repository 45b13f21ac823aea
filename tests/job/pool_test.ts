import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { encode } from "../../src/job/codec.ts";
import { decodeRecord } from "../../src/job/record.ts";
import { type EndedAttempt, neverRan, type PoolSink, WorkerPool } from "../../src/job/pool.ts";
import { processesWith } from "../support/processes.ts";

/** Writes a function artifact, after the module's own `top` code, and returns its URL. */
async function artifact(dir: string, source: string, top = ""): Promise<string> {
  const path = join(dir, "function.js");
  await Deno.writeTextFile(
    path,
    `${top}export default ${source};\nexport const kind = "module";\n`,
  );
  return pathToFileURL(path).href;
}

/** A pool of one worker giving each item 3 attempts, whose items are their indices. */
function oneWorker(functionUrl: string, sink: Pick<PoolSink, "store" | "ended">): WorkerPool {
  return new WorkerPool({
    functionUrl,
    starmap: false,
    concurrency: 1,
    attempts: 3,
    jobId: "r:{index}",
    source: { read: (indices) => indices.map((i) => encode(i)) },
    sink: { started: () => {}, output: () => {}, ...sink },
  });
}

Deno.test("the pool runs a slice from any source into any sink, as a container would", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Items 100 to 139 of a run; item 117 crashes its worker, 123 throws once.
    const functionUrl = await artifact(
      dir,
      `async (x) => {
        const attempt = Deno.env.get("AWS_BATCH_JOB_ATTEMPT");
        if (x === 117) Deno.exit(5);
        if (x === 123 && attempt === "1") throw new Error("once");
        console.log("item " + x);
        return { x, job: Deno.env.get("AWS_BATCH_JOB_ID"), attempt };
      }`,
    );
    const stored: EndedAttempt[] = [];
    const started: number[] = [];
    const output = new Map<number, string>();
    let reads = 0;
    const pool = new WorkerPool({
      functionUrl,
      starmap: false,
      concurrency: 2,
      attempts: 2,
      jobId: "child-7",
      // An asynchronous source, like ranged reads from S3.
      source: {
        read: async (indices) => {
          reads++;
          await new Promise((r) => setTimeout(r, 1));
          return indices.map((i) => encode(i));
        },
      },
      sink: {
        started: (index) => started.push(index),
        output: (index, _attempt, _stream, bytes) =>
          output.set(index, (output.get(index) ?? "") + new TextDecoder().decode(bytes)),
        store: async (ended) => {
          await new Promise((r) => setTimeout(r, 1));
          stored.push(...ended);
        },
        ended: () => {},
      },
    });
    pool.addRange(100, 140);
    pool.close();
    await pool.done;
    assert.ok(reads > 0);
    const finals = stored.filter((a) => a.final);
    assert.deepEqual(finals.map((a) => a.index).sort((a, b) => a - b), [
      ...Array.from({ length: 40 }, (_, i) => 100 + i),
    ]);
    for (const a of finals) {
      const record = a.record ?? decodeRecord(a.bytes);
      if (a.index === 117) {
        assert.equal(record.status === "error" && record.kind, "crashed");
        assert.equal(record.attempt, 2);
        continue;
      }
      assert.equal(record.status, "ok", `item ${a.index}`);
      const value = (record as { value: { x: number; job: string; attempt: string } }).value;
      assert.deepEqual(value, {
        x: a.index,
        job: "child-7",
        attempt: a.index === 123 ? "2" : "1",
      });
      assert.equal(output.get(a.index)?.trim().split("\n").at(-1), `item ${a.index}`);
    }
    assert.ok(started.includes(100) && started.includes(139));
    assert.deepEqual(
      stored.filter((a) => !a.final).map((a) => [a.index, a.kind]).sort(),
      [[117, "crashed"], [123, "threw"]],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a sink that cannot store fails those attempts for good, with its error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const functionUrl = await artifact(dir, "(x) => x");
    const reported: EndedAttempt[] = [];
    const pool = oneWorker(functionUrl, {
      store: (ended) => {
        if (ended.some((a) => a.index === 1)) throw new RangeError("disk full");
      },
      ended: (a) => reported.push(a),
    });
    pool.addRange(0, 3);
    pool.close();
    await pool.done;
    // Records are stored in batches: every attempt of the batch that could
    // not be stored ends with the sink's error, the others with their record.
    assert.deepEqual(reported.map((a) => a.index).sort(), [0, 1, 2]);
    for (const a of reported) {
      assert.equal(a.final, true);
      if (a.kind === "infrastructure") {
        assert.equal(a.record?.error.message, "disk full");
        assert.equal(decodeRecord(a.bytes).status, "error");
      } else assert.equal(decodeRecord(a.bytes).status, "ok");
    }
    assert.equal(reported.find((a) => a.index === 1)!.kind, "infrastructure");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("attempts whose records were kept when the pool is cancelled are reported as they ended, and no retry runs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const functionUrl = await artifact(
      dir,
      `(x) => { if (x % 2 === 1) throw new Error("odd " + x); return x; }`,
    );
    const stored: EndedAttempt[] = [];
    const reported: EndedAttempt[] = [];
    // The first batch holding a failure is kept, then waits until the pool is cancelled.
    const holding = Promise.withResolvers<void>();
    const release = Promise.withResolvers<void>();
    let held = false;
    const pool = oneWorker(functionUrl, {
      store: async (ended) => {
        stored.push(...ended);
        if (held || ended.every((a) => a.kind === "ok")) return;
        held = true;
        holding.resolve();
        await release.promise;
      },
      ended: (a) => reported.push(a),
    });
    pool.addRange(0, 20);
    pool.close();
    await holding.promise;
    pool.cancel("stopped");
    release.resolve();
    await pool.done;
    const key = (a: EndedAttempt) => `${a.index}.${a.attempt} ${a.kind} final=${a.final}`;
    // Every record kept is reported, those kept before the cancel reached the pool too.
    assert.deepEqual(reported.map(key), stored.map(key));
    const failed = reported.filter((a) => a.kind !== "ok");
    assert.ok(failed.length > 0);
    // A failed attempt with attempts left is not made final by the cancel (its
    // record says it may be retried, as a reader of the records takes it), nor retried.
    for (const a of failed) assert.equal(a.final, false, key(a));
    assert.ok(reported.every((a) => a.attempt === 1), reported.map(key).join(", "));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const shell of [undefined, null]) {
  const how = shell === null ? "with stdout and stderr apart" : "through the shell (one stream)";
  Deno.test(`each attempt's output is its own, in the order printed, ${how}`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      // Attempts run back to back on one worker, printing through every
      // API, some more than a pipe holds; every 7th prints nothing.
      const functionUrl = await artifact(
        dir,
        `async (x) => {
          const { writeSync } = await import("node:fs");
          const process = (await import("node:process")).default;
          if (x % 7 === 0) return x;
          console.log("out " + x);
          console.error("err " + x);
          Deno.stdout.writeSync(new TextEncoder().encode("raw " + x + "\\n"));
          writeSync(2, "fs " + x + "\\n");
          process.stdout.write("node " + x + "\\n");
          if (x % 50 === 1) console.log(("big " + x + "\\n").repeat(40000));
          return x;
        }`,
      );
      // Each attempt's output, per stream.
      const output = new Map<number, string>();
      const pool = new WorkerPool({
        functionUrl,
        starmap: false,
        concurrency: 1,
        attempts: 1,
        jobId: "r:{index}",
        source: { read: (indices) => indices.map((i) => encode(i)) },
        sink: {
          started: () => {},
          output: (index, _attempt, stream, bytes) =>
            output.set(
              index * 2 + stream - 1,
              (output.get(index * 2 + stream - 1) ?? "") + new TextDecoder().decode(bytes),
            ),
          store: () => {},
          ended: () => {},
        },
        ...(shell === null ? { shell } : {}),
      });
      pool.addRange(0, 300);
      pool.close();
      await pool.done;
      for (let x = 0; x < 300; x++) {
        const text = (output.get(x * 2) ?? "") + (output.get(x * 2 + 1) ?? "");
        const lines = text.split("\n").filter((l) => l !== "");
        if (x % 7 === 0) {
          assert.deepEqual(lines, [], `item ${x}`);
          continue;
        }
        const expected = ["out", "err", "raw", "fs", "node"].map((p) => `${p} ${x}`);
        if (x % 50 === 1) expected.push(...Array(40000).fill(`big ${x}`));
        if (shell === null) assert.deepEqual(lines.sort(), expected.sort(), `item ${x}`);
        else {
          // One stream, in the order printed.
          assert.equal(output.get(x * 2 + 1), undefined);
          assert.deepEqual(lines, expected, `item ${x}`);
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("large items go to a worker about a mebibyte at a time, however fast they run", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const functionUrl = await artifact(dir, "(b) => b.byteLength");
    const item = encode(new Uint8Array(300 * 1024));
    const reads: number[] = [];
    const lengths: number[] = [];
    const pool = new WorkerPool({
      functionUrl,
      starmap: false,
      concurrency: 1,
      attempts: 1,
      jobId: "r:{index}",
      source: {
        read: (indices) => {
          reads.push(indices.length);
          return indices.map(() => item);
        },
      },
      sink: {
        started: () => {},
        output: () => {},
        store: () => {},
        ended: (a) => lengths.push(decodeRecord(a.bytes).status === "ok" ? a.index : -1),
      },
    });
    pool.addRange(0, 60);
    pool.close();
    await pool.done;
    assert.equal(lengths.length, 60);
    assert.ok(!lengths.includes(-1));
    // 300 KiB items: at most three to a batch (the first batch is one item).
    assert.ok(Math.max(...reads) <= 3, `batches of ${reads.join(", ")} items`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a pool's deno flags reach its workers: with --cached-only a package not in the cache is not downloaded", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A package that is in no cache: with --cached-only, Deno refuses it without asking the
    // registry; without the flag it would ask the registry and fail differently.
    const functionUrl = await artifact(
      dir,
      "(x) => x",
      `import "npm:cloudknot-no-such-package@0.0.1";\n`,
    );
    const stored: EndedAttempt[] = [];
    const pool = new WorkerPool({
      functionUrl,
      starmap: false,
      concurrency: 1,
      attempts: 1,
      jobId: "cached",
      denoFlags: ["--cached-only"],
      env: { DENO_DIR: join(dir, "deno_dir") },
      source: { read: (indices) => Promise.resolve(indices.map((i) => encode(i))) },
      sink: {
        started: () => {},
        output: () => {},
        store: (ended) => {
          stored.push(...ended);
          return Promise.resolve();
        },
        ended: () => {},
      },
    });
    pool.addRange(0, 1);
    pool.close();
    const failed = await pool.done.then(() => undefined, (e: Error) => e);
    const said = [
      failed?.message ?? "",
      ...stored.map((a) => JSON.stringify(a.record ?? decodeRecord(a.bytes))),
    ]
      .join("\n");
    assert.match(said, /--cached-only|not found in cache|cached-only/i, said);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("workers read items sent as a place in the source's file, mixed with items sent as bytes, and may read no other file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // The function returns its item, whether V8's collector is in its reach,
    // and whether it may read a file next to the inputs.
    const functionUrl = await artifact(
      dir,
      `(x) => {
        let other;
        try {
          Deno.readFileSync(${JSON.stringify(join(dir, "other"))});
          other = "read";
        } catch (e) {
          other = e.name;
        }
        return { x, gc: typeof globalThis.__cloudknotGc, other };
      }`,
    );
    await Deno.writeTextFile(join(dir, "other"), "secret");
    // Items 0 to 5: the even ones are in the file, the odd ones go as bytes.
    const values = [
      new Uint8Array(300 * 1024).map((_, i) => i % 251),
      "small",
      { text: "é".repeat(100_000), map: new Map([[1, new Float64Array([0.5, -0])]]) },
      7n,
      new Uint8Array(1 << 20).fill(9).subarray(10, 20),
      [1, 2],
    ];
    const encoded = values.map((v) => encode(v));
    const spans: { offset: number; length: number }[] = [];
    const file = join(dir, "inputs");
    let at = 0;
    const parts: Uint8Array[] = [new Uint8Array(17)];
    at = 17;
    encoded.forEach((bytes, i) => {
      spans[i] = { offset: at, length: bytes.byteLength };
      parts.push(bytes);
      at += bytes.byteLength;
    });
    await Deno.writeFile(file, new Uint8Array(parts.flatMap((p) => [...p])));
    const records = new Map<number, ReturnType<typeof decodeRecord>>();
    const pool = new WorkerPool({
      functionUrl,
      starmap: false,
      concurrency: 2,
      attempts: 1,
      jobId: "r:{index}",
      source: {
        file,
        read: (indices) =>
          indices.map((i) =>
            i === 6 ? { offset: at - 10, length: 100 } : i % 2 === 0 ? spans[i]! : encoded[i]!
          ),
      },
      sink: {
        started: () => {},
        output: () => {},
        store: () => {},
        ended: (a) => records.set(a.index, a.record ?? decodeRecord(a.bytes)),
      },
    });
    pool.addRange(0, 7);
    pool.close();
    await pool.done;
    for (let i = 0; i < values.length; i++) {
      const record = records.get(i)!;
      assert.equal(record.status, "ok", `item ${i}`);
      assert.deepEqual(
        (record as { value: unknown }).value,
        { x: values[i], gc: "undefined", other: "NotCapable" },
        `item ${i}`,
      );
    }
    // A place past the end of the file fails its item, naming the file.
    const bad = records.get(6)!;
    assert.equal(bad.status === "error" && bad.kind, "infrastructure");
    assert.match(
      bad.status === "error" ? bad.error.message : "",
      /Cannot read the item from .*inputs/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "without setpriv, each worker runs beside a watcher of its own, and none is left once the pool is done, a crashed worker's neither",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      // The workers' shell looks for setpriv on this PATH and finds none, as on macOS.
      const bin = join(dir, "bin");
      await Deno.mkdir(bin);
      const stop = join(dir, "stop");
      // Item 1 crashes its worker; the others run until the stop file exists.
      const functionUrl = await artifact(
        dir,
        `async (x) => {
          if (x === 1) Deno.exit(3);
          while (true) {
            try {
              Deno.statSync(${JSON.stringify(stop)});
              return x;
            } catch {
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
          }
        }`,
      );
      const started = new Set<number>();
      const reported: EndedAttempt[] = [];
      const pool = new WorkerPool({
        functionUrl,
        starmap: false,
        concurrency: 2,
        attempts: 1,
        jobId: "w:{index}",
        env: { PATH: bin },
        permissions: { read: [dir] },
        source: { read: (indices) => indices.map((i) => encode(i)) },
        sink: {
          started: (index) => started.add(index),
          output: () => {},
          store: () => {},
          ended: (a) => reported.push(a),
        },
      });
      pool.addRange(0, 3);
      pool.close();
      let done = false;
      pool.done.then(() => done = true);
      // Item 2 starts in the worker that replaced item 1's, once that one is gone.
      while (!(started.has(0) && started.has(2)) && !done) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const mine = async (text: string) =>
        (await processesWith(text)).filter((p) => p.ppid === Deno.pid);
      const workers = (await mine("worker_main")).map((p) => p.pid).sort();
      // A watcher's last argument is the worker it kills.
      const watched = (await mine("cloudknot-watcher")).map((p) => Number(p.args.split(" ").at(-1)))
        .sort();
      assert.equal(workers.length, 2);
      assert.deepEqual(
        watched,
        workers,
        "each worker running has one watcher, and no other is left",
      );
      await Deno.writeTextFile(stop, "");
      await pool.done;
      assert.deepEqual(
        reported.map((a) => [a.index, a.kind]).sort(),
        [[0, "ok"], [1, "crashed"], [2, "ok"]],
      );
      assert.deepEqual(await mine("cloudknot-watcher"), [], "a watcher outlived its worker");
      assert.deepEqual(await mine("worker_main"), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("when no worker can start, every item ends once, for good, as an attempt that never ran whose error says how to run it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const functionUrl = await artifact(dir, "(x) => x");
    const reported: EndedAttempt[] = [];
    const pool = new WorkerPool({
      functionUrl,
      starmap: false,
      concurrency: 2,
      attempts: 3,
      jobId: "r:{index}",
      source: { read: (indices) => indices.map((i) => encode(i)) },
      sink: {
        started: () => {},
        output: () => {},
        store: () => {},
        ended: (a) => reported.push(a),
      },
      deno: join(dir, "no-deno-here"),
      unstarted: "collect the run again",
    });
    pool.addRange(0, 4);
    pool.close();
    await pool.done;
    assert.deepEqual(reported.map((a) => a.index).sort(), [0, 1, 2, 3]);
    for (const a of reported) {
      const record = a.record ?? decodeRecord(a.bytes);
      assert.equal(a.final, true);
      assert.equal(record.attempt, 1);
      assert.ok(neverRan(record), JSON.stringify(record));
      assert.match(
        record.status === "error" ? record.error.message : "",
        /^(Cannot start a worker process|Worker processes exit before they start).*\. The item never ran: collect the run again$/,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an attempt that fails once the pool gave up starting workers is not its item's end: its next attempt ends as one that never ran", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // The function's module throws as it loads once the broken file exists.
    const broken = join(dir, "broken");
    const functionUrl = await artifact(
      dir,
      "(x) => x",
      `try { Deno.statSync(${JSON.stringify(broken)}); } catch { globalThis.ok = true; }\n` +
        `if (!globalThis.ok) throw new Error("the module is broken");\n`,
    );
    const reading = Promise.withResolvers<void>();
    const read = Promise.withResolvers<Uint8Array[]>();
    const reported: EndedAttempt[] = [];
    const pool = new WorkerPool({
      functionUrl,
      starmap: false,
      concurrency: 2,
      attempts: 3,
      jobId: "r:{index}",
      permissions: { read: [dir] },
      source: {
        read: () => {
          reading.resolve();
          return read.promise;
        },
      },
      sink: {
        started: () => {},
        output: () => {},
        store: () => {},
        ended: (a) => reported.push(a),
      },
      unstarted: "collect the run again",
    });
    let done = false;
    pool.done.then(() => done = true);
    // Item 0's first attempt is being read for the one worker that started.
    pool.add(0);
    await reading.promise;
    // A second worker starts for item 1 and cannot load the function: the pool gives up.
    await Deno.writeTextFile(broken, "");
    pool.add(1);
    pool.close();
    while (!reported.some((a) => a.index === 1) && !done) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Then item 0's first attempt fails: it had attempts left, so it is not final;
    // its second ends for good as an attempt that never ran.
    read.reject(new Error("read failed"));
    await pool.done;
    const key = (a: EndedAttempt) => `${a.index}.${a.attempt} ${a.kind} final=${a.final}`;
    assert.deepEqual(reported.map(key), [
      "1.1 infrastructure final=true",
      "0.1 infrastructure final=false",
      "0.2 infrastructure final=true",
    ]);
    for (const a of reported.filter((a) => a.final)) {
      const record = a.record ?? decodeRecord(a.bytes);
      assert.ok(neverRan(record), JSON.stringify(record));
      assert.match(
        record.status === "error" ? record.error.message : "",
        /^Cannot load the function: .*the module is broken.*\. The item never ran: collect the run again$/,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
