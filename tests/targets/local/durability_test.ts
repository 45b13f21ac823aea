import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type ItemError,
  Knot,
  RunDataGoneError,
  RunStoreError,
  UnsafeDirectoryError,
} from "../../../mod.ts";
import { killChild, startUntil } from "../../support/deno_child.ts";
import { processesWith } from "../../support/processes.ts";
import { requirementTest } from "../../support/requirement.ts";
import { growTmpfs, tmpfsTest, withTmpfs } from "../../support/tmpfs.ts";
import { killedResumable, lines, withKnot } from "./helpers.ts";

const rootTest = requirementTest("root (to give a directory to another user)", {
  ok: Deno.uid() === 0,
  reason: "the tests do not run as root",
});

Deno.test("a client killed midway leaves a run that collect() finishes, each missing item run once", async () => {
  const base = await Deno.makeTempDir({ prefix: "cloudknot-kill-" });
  try {
    const dir = join(base, "knots");
    const log = join(base, "executions.log");
    // Killed once some items, but not all, are done.
    const { runId, recorded } = await killedResumable(dir, log, 60);
    assert.deepEqual(new Set(recorded.values()), new Set(["ok"]));
    assert.ok(recorded.size > 0 && recorded.size < 300, `${recorded.size} items were recorded`);

    const knot = await Knot.create({ name: "resumable", dir });
    const run = await knot.collect(runId);
    const results = await run.results();
    assert.deepEqual(results, Array.from({ length: 300 }, (_, i) => i * 2));
    // This process's workers ran exactly the items without a record, once each.
    const mine = (await lines(log)).map((l) => l.split(" ").map(Number))
      .filter(([, ppid]) => ppid === Deno.pid).map(([i]) => i!);
    assert.equal(new Set(mine).size, mine.length, "an item ran twice");
    for (const i of mine) assert.ok(!recorded.has(i), `item ${i} had a record and ran again`);
    assert.equal(mine.length + recorded.size, 300);
    // Finished: collecting again reads it and runs nothing.
    const executions = (await lines(log)).length;
    const again = await knot.collect(runId);
    assert.deepEqual(await again.results(), results);
    assert.equal((await lines(log)).length, executions);
    await knot.clobber();
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

/**
 * Starts the orphaned-workers client (`mode` as its fixture says), kills it
 * with SIGKILL once items 0 and 1 run, waits until none of its workers (nor
 * the programs they started, nor their watchers) is left, then finishes the
 * run with `collect()` in this process. Without a setpriv that takes
 * `--pdeathsig`, each worker must have had a watcher.
 */
async function killClientOfRunningItems(mode?: string): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "cloudknot-orphans-" });
  try {
    const dir = join(base, "knots");
    const marks = join(base, "marks");
    await Deno.mkdir(marks);
    const client = await startUntil([
      "run",
      "-A",
      new URL("../../fixtures/orphaned_workers_client.ts", import.meta.url).href,
      dir,
      marks,
      ...(mode !== undefined ? [mode] : []),
    ], "started");
    const watchers = (await processesWith("cloudknot-watcher")).filter((p) =>
      p.ppid === client.pid
    );
    const unwatched = mode === undefined || mode === "run-list";
    assert.equal(watchers.length, unwatched ? 0 : 2, JSON.stringify(watchers));
    await killChild(client);
    // The workers and the programs they started are the processes whose
    // command line names this test's directory.
    const left = async () => [
      ...await processesWith(base),
      ...(await processesWith("cloudknot-watcher")).filter((p) =>
        watchers.some((w) => w.pid === p.pid)
      ),
    ];
    let workers = await left();
    for (let i = 0; i < 200 && workers.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      workers = await left();
    }
    assert.deepEqual(workers, [], "workers outlived the client that mapped");
    // Another process finishes the run: the items run again, now to their end.
    await Deno.writeTextFile(join(marks, "stop"), "");
    const runId = await Deno.readTextFile(join(marks, "run"));
    const knot = await Knot.create({ name: "orphans", dir });
    assert.deepEqual(await (await knot.collect(runId)).results(), [0, 1, 2, 3]);
    await knot.clobber();
  } finally {
    for (const { pid } of await processesWith(base)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
    await Deno.remove(base, { recursive: true });
  }
}

Deno.test({
  name:
    "the workers of a client killed with SIGKILL stop at once, a CPU-bound attempt too, and collect() finishes the run",
  ignore: Deno.build.os !== "linux",
  // Item 0 spins in a synchronous loop and item 1 awaits, each in a worker of its own.
  fn: () => killClientOfRunningItems(),
});

Deno.test({
  name:
    "without setpriv, as on macOS, the workers of a client killed with SIGKILL stop at once, a CPU-bound attempt too, and collect() finishes the run",
  ignore: Deno.build.os !== "linux",
  fn: () => killClientOfRunningItems("no-setpriv"),
});

Deno.test({
  name:
    "with a setpriv too old for --pdeathsig, workers start without it, and those of a client killed with SIGKILL stop at once, a CPU-bound attempt too",
  ignore: Deno.build.os !== "linux",
  fn: () => killClientOfRunningItems("old-setpriv"),
});

Deno.test({
  name:
    "without setpriv, the programs a knot allowed to run only listed programs started go with its workers when the client is killed",
  ignore: Deno.build.os !== "linux",
  fn: () => killClientOfRunningItems("run-list,no-setpriv"),
});

tmpfsTest(
  "a full disk fails only the items whose records do not fit; results in stay readable",
  async () => {
    await withTmpfs(2 * 1024 * 1024, async (dir) => {
      const knot = await Knot.create({
        name: "full",
        dir,
        concurrency: 2,
        retries: 1,
        func: (i: number) => `${i}:${"x".repeat(300_000)}`,
      });
      const run = await knot.map(Array.from({ length: 20 }, (_, i) => i), { progress: false });
      const settled = await run.settled();
      const ok = settled.filter((s) => s.status === "fulfilled");
      const failed = settled.filter((s) => s.status === "rejected");
      assert.ok(ok.length > 0, "no result fitted");
      assert.ok(failed.length > 0, "every result fitted: the disk was not full");
      const runDir = join(dir, "full", "runs", run.runId);
      for (const f of failed) {
        const reason = (f as { reason: ItemError }).reason;
        assert.equal(reason.kind, "infrastructure");
        assert.equal(reason.remote.name, "RunStoreError");
        assert.ok(reason.message.includes(runDir), reason.message);
        assert.match(reason.message, /No space left on device/);
        assert.match(reason.message, /CLOUDKNOT_LOCAL_RUNS/);
        // It says how to run it once there is room.
        assert.ok(
          reason.message.includes(
            `Free space on that disk (the results already there stay readable), then collect ` +
              `the run again (knot.collect("${run.runId}") of knot full) once its process is ` +
              `done, to run the items that could not be written`,
          ),
          reason.message,
        );
      }
      for (const s of ok) {
        assert.equal((s as { value: string }).value.split(":")[0], String(s.index));
      }
      // Room is made; a new handle reads every result that was written.
      await growTmpfs(dir, 64 * 1024 * 1024);
      const again = await knot.collect(run.runId, { progress: false });
      const later = await again.settled();
      for (const s of ok) assert.deepEqual(later[s.index], s);
      // It did as the errors said: the items whose records were lost ran again, where there
      // was room now, as the rest is readable.
      assert.equal(later.filter((s) => s.status === "fulfilled").length, 20);
      await knot.clobber();
    });
  },
);

tmpfsTest(
  "a knot whose function does not fit on a full disk is refused saying what to do, and leaves no part of it behind",
  async () => {
    const modules = await Deno.makeTempDir({ prefix: "cloudknot-big-module-" });
    try {
      // A function whose artifact is 600 kB, on a disk with less room than that.
      const module = join(modules, "big.ts");
      await Deno.writeTextFile(
        module,
        `const text = "${
          "x".repeat(600_000)
        }";\nexport function f(): number {\n  return text.length;\n}\n`,
      );
      await withTmpfs(1024 * 1024, async (dir) => {
        await Deno.writeFile(join(dir, "filler"), new Uint8Array(700 * 1024));
        const e = await Knot.create({ name: "big", dir, module, exportName: "f" }).then(
          () => assert.fail("the knot was created"),
          (e: Error) => e,
        );
        assert.equal(e.name, "CloudknotError");
        assert.match(
          e.message,
          new RegExp(
            `^Cannot save the function of local knot big in ${join(dir, "big")}: No space left ` +
              `on device.*Free space on that disk, or pass the knot a dir on another disk \\(the ` +
              `dir option or CLOUDKNOT_LOCAL_DIR\\), then create the knot again$`,
          ),
        );
        const left: string[] = [];
        const walk = async (at: string): Promise<void> => {
          for await (const entry of Deno.readDir(at)) {
            if (entry.isDirectory) await walk(join(at, entry.name));
            else left.push(entry.name);
          }
        };
        await walk(join(dir, "big"));
        assert.deepEqual(left.filter((name) => name.includes(".tmp-")), []);
      });
    } finally {
      await Deno.remove(modules, { recursive: true });
    }
  },
);

Deno.test("a run whose data is gone says so", async () => {
  await withKnot({ name: "gone", func: (x: number) => x }, async (knot, dir) => {
    const run = await knot.map([1, 2], { progress: false });
    await run.done;
    await Deno.remove(join(dir, "gone", "runs", run.runId), { recursive: true });
    await assert.rejects(
      () => knot.collect(run.runId),
      (e) => e instanceof RunDataGoneError && /is gone: .* no longer exists/.test(e.message),
    );
    assert.deepEqual(await knot.runs(), []);
  });
});

Deno.test("a knot directory others may enter is refused, and nothing is written to it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const squatted = join(dir, "squat");
    await Deno.mkdir(squatted);
    await Deno.chmod(squatted, 0o777);
    await assert.rejects(
      () => Knot.create({ name: "squat", dir, func: (x: number) => x }),
      (e) =>
        e instanceof UnsafeDirectoryError && e.path === squatted &&
        /its mode is 0777, so other users may enter it/.test(e.message),
    );
    assert.deepEqual(await Array.fromAsync(Deno.readDir(squatted)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

rootTest(
  "a runs directory another user made first is refused, and nothing is read or written",
  async () => {
    const dir = await Deno.makeTempDir();
    const previous = Deno.env.get("CLOUDKNOT_LOCAL_RUNS");
    try {
      const runs = join(dir, "shared-runs");
      Deno.env.set("CLOUDKNOT_LOCAL_RUNS", runs);
      // The victim's knot and its runs' directory (which another user squats).
      const knot = await Knot.create({
        name: "victim",
        dir: join(dir, "knots"),
        func: (x: number) => x,
      });
      await knot.map([1], { progress: false }).then((r) => r.done);
      const [id] = await Array.fromAsync(Deno.readDir(runs));
      await Deno.remove(join(runs, id!.name), { recursive: true });
      await Deno.mkdir(join(runs, id!.name), { mode: 0o777 });
      await Deno.chmod(join(runs, id!.name), 0o777);
      await Deno.chown(join(runs, id!.name), 65534, 65534);
      await assert.rejects(
        () => Knot.create({ name: "victim", dir: join(dir, "knots") }),
        (e) =>
          e instanceof UnsafeDirectoryError &&
          /it belongs to user 65534, not to you \(user 0\)/.test(e.message),
      );
      assert.deepEqual(await Array.fromAsync(Deno.readDir(join(runs, id!.name))), []);
    } finally {
      if (previous === undefined) Deno.env.delete("CLOUDKNOT_LOCAL_RUNS");
      else Deno.env.set("CLOUDKNOT_LOCAL_RUNS", previous);
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("a flood of item output goes to the run's log, and the client's memory stays bounded", async () => {
  await withKnot({
    name: "flood",
    concurrency: 1,
    func: (mib: number) => {
      const chunk = new TextEncoder().encode(`${"y".repeat(1023)}\n`.repeat(1024));
      for (let i = 0; i < mib; i++) Deno.stdout.writeSync(chunk);
      console.error("done");
      return mib;
    },
  }, async (knot, dir) => {
    // Warm up, so the baseline includes a run's fixed costs.
    await (await knot.map([1], { progress: false })).done;
    const before = Deno.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 5);
    const run = await knot.map([200], { progress: false });
    assert.deepEqual(await run.results(), [200]);
    clearInterval(timer);
    // Were the output kept, the client would grow by more than the 200 MiB.
    const grown = (peak - before) / 2 ** 20;
    assert.ok(grown < 64, `the client grew by ${grown.toFixed(0)} MiB for 200 MiB of output`);
    const output = await Deno.stat(join(dir, "flood", "runs", run.runId, "output"));
    assert.ok(output.size >= 200 * 2 ** 20, `the log has ${output.size} bytes`);
  });
});

tmpfsTest(
  "on a full disk a knot is still adopted by name and its run's results read",
  async () => {
    await withTmpfs(1024 * 1024, async (dir) => {
      const knot = await Knot.create({ name: "full-adopt", dir, func: (i: number) => i * 2 });
      const run = await knot.map([1, 2, 3], { progress: false });
      assert.deepEqual(await run.results(), [2, 4, 6]);
      // Fill what is left of the disk.
      await assert.rejects(
        Deno.writeFile(join(dir, "filler"), new Uint8Array(2 * 1024 * 1024)),
        /No space left on device/,
      );
      const adopted = await Knot.create({ name: "full-adopt", dir });
      assert.deepEqual(await (await adopted.collect(run.runId)).results(), [2, 4, 6]);
      await Deno.remove(join(dir, "filler"));
      await knot.clobber();
    });
  },
);

tmpfsTest(
  "on a full disk each failed item's error is about its own output or record, not a neighbour's",
  async () => {
    await withTmpfs(1024 * 1024, async (dir) => {
      const knot = await Knot.create({
        name: "full-output",
        dir,
        concurrency: 2,
        retries: 1,
        func: (i: number) => {
          console.log(`${i} `.repeat(500));
          return i;
        },
      });
      const run = await knot.map(Array.from({ length: 1500 }, (_, i) => i), { progress: false });
      const settled = await run.settled();
      const failed = settled.filter((s) => s.status === "rejected");
      assert.ok(failed.length > 0, "every output fitted: the disk was not full");
      for (const f of failed) {
        const reason = (f as { reason: ItemError }).reason;
        assert.equal(reason.kind, "infrastructure");
        assert.match(
          reason.message,
          new RegExp(
            `Cannot write the (output of item ${f.index} |records of items? (\\d+, )*${f.index}[ ,])`,
          ),
        );
      }
      await knot.clobber();
    });
  },
);

Deno.test("a run whose manifest is damaged is left out of runs(), and collect() of it says so", async () => {
  await withKnot({ name: "damaged", func: (x: number) => x }, async (knot, dir) => {
    const damaged = await knot.map([1], { progress: false });
    await damaged.results();
    const kept = await knot.map([2], { progress: false });
    await kept.results();
    const manifest = join(dir, "damaged", "runs", damaged.runId, "run.json");
    await Deno.writeTextFile(manifest, "{ torn");
    assert.deepEqual((await knot.runs()).map((r) => r.runId), [kept.runId]);
    const e = await knot.collect(damaged.runId).catch((e) => e);
    assert.ok(e instanceof Error, String(e));
    assert.match(e.message, /manifest of the run in .* \(run\.json\) is damaged/);
  });
});

Deno.test("a knot whose knot.json is damaged says so when adopted, and made again with its function keeps its runs", async () => {
  await withKnot({ name: "torn-record", func: (x: number) => x + 1 }, async (knot, dir) => {
    const run = await knot.map([1, 2], { progress: false });
    await run.results();
    await Deno.writeTextFile(join(dir, "torn-record", "knot.json"), "{ torn");
    const e = await Knot.create({ name: "torn-record", dir }).catch((e) => e);
    assert.ok(e instanceof Error, String(e));
    assert.match(e.message, /knot\.json\) is damaged.*Create the knot again with its function/);
    const again = await Knot.create({ name: "torn-record", dir, func: (x: number) => x + 1 });
    assert.deepEqual((await again.runs()).map((r) => r.runId), [run.runId]);
    assert.deepEqual(await (await again.collect(run.runId)).results(), [2, 3]);
  });
});

Deno.test("RunStoreError names the directory and what to do", () => {
  const e = new RunStoreError(
    "/r",
    "write the records of item 1",
    new Error("No space left on device"),
  );
  assert.match(e.message, /^Cannot write the records of item 1 in \/r: No space left on device\./);
});

Deno.test("a record with bytes that are not UTF-8 is reported damaged; a result holding U+FFFD is kept", async () => {
  await withKnot({
    name: "utf8",
    func: (x: number) => x === 1 ? "\uFFFD replacement" : `item ${x}`,
  }, async (knot, dir) => {
    const run = await knot.map([0, 1, 2], { progress: false });
    assert.deepEqual(await run.results(), ["item 0", "\uFFFD replacement", "item 2"]);
    // One byte of item 2's record turns into one that UTF-8 never has.
    const log = join(dir, "utf8", "runs", run.runId, "records");
    const bytes = await Deno.readFile(log);
    const needle = new TextEncoder().encode("item 2");
    const at = bytes.findIndex((_, i) => needle.every((b, k) => bytes[i + k] === b)) + 5;
    assert.ok(at > 0);
    bytes[at] = 0xff;
    await Deno.writeFile(log, bytes);
    const collected = await knot.collect(run.runId);
    await collected.done;
    assert.equal(await collected.item(1), "\uFFFD replacement");
    await assert.rejects(
      () => collected.item(2),
      (e) => (e as ItemError).kind === "infrastructure" && /is damaged/.test((e as Error).message),
    );
  });
});
