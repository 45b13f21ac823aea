// A local knot keeps the options it was created with (concurrency, retries, timeout, memory):
// adopted by name in another process (the command line's `map --name`, or a program's
// Knot.create without func), it runs with them, as an AWS knot runs with its job definition's; an
// option given again with another value replaces it for the knot. A knot recorded before it kept
// them is adopted with their defaults; two processes adopting it at once with other options keep
// both in its record.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { holdingKnot } from "../../../src/store/knot_lock.ts";
import { findLocalKnot, localRuns } from "../../../src/targets/local/catalog.ts";
import type { LocalTarget } from "../../../src/targets/local/local_target.ts";
import { cli, type CliHome, withHome } from "../../cli/helpers.ts";

/** Waits the item's milliseconds, then returns them: 60000 outlasts any timeout here. */
const wait = async (ms: number) => {
  await new Promise((r) => setTimeout(r, ms));
  return ms;
};

/** The knot's record. */
async function record(dir: string, name: string) {
  return JSON.parse(await Deno.readTextFile(join(dir, name, "knot.json")));
}

/** `cloudknot map --name <name> --json -q <args>` over `items`, with the knot's runs in its folder. */
async function mapByName(home: CliHome, name: string, items: unknown[], args: string[] = []) {
  const out = await cli(home, ["map", "--name", name, "--json", "-q", ...args], {
    stdin: JSON.stringify(items),
    env: { CLOUDKNOT_LOCAL_RUNS: undefined },
  });
  assert.equal(out.code, 1, `an item times out: ${out.stderr}${out.stdout}`);
  const { runId, items: settled } = JSON.parse(out.stdout);
  return { runId, settled };
}

Deno.test("a local knot adopted by name in another process (map --name) runs with the retries, timeout, memory and concurrency it was created with, and one given again with another value replaces it", async () => {
  await withHome(async (home) => {
    const dir = home.env.CLOUDKNOT_LOCAL_DIR!;
    const knot = await Knot.create({
      name: "kept",
      dir,
      func: wait,
      concurrency: 7,
      retries: 2,
      timeout: 1,
      memory: 96,
    });
    try {
      const first = await mapByName(home, "kept", [0, 60_000]);
      assert.deepEqual(first.settled[0], { index: 0, value: 0 });
      const error = first.settled[1].error;
      assert.equal(error.attempt, 2, "the knot's two attempts");
      assert.match(error.message, /ran longer than its timeout of 1s and was killed/);
      const manifest = JSON.parse(
        await Deno.readTextFile(join(dir, "kept", "runs", first.runId, "run.json")),
      );
      assert.equal(manifest.attempts, 2);
      assert.equal(manifest.timeoutMs, 1000);
      assert.equal(manifest.memoryMiB, 96);
      // Another timeout given: the knot's now, its other options kept.
      const second = await mapByName(home, "kept", [60_000], ["--timeout", "2"]);
      assert.match(second.settled[0].error.message, /ran longer than its timeout of 2s/);
      assert.equal(second.settled[0].error.attempt, 2);
      assert.deepEqual((await record(dir, "kept")).options, {
        concurrency: 7,
        retries: 2,
        timeout: 2,
        memory: 96,
      });
      const adopted = await Knot.create({ name: "kept", dir });
      assert.match(
        Deno.inspect(adopted),
        /concurrency: 7 workers\n {2}retries: {5}2\n {2}timeout: {5}2 s\n {2}memory: {6}96 MiB/,
      );
    } finally {
      await knot.clobber();
    }
  });
});

Deno.test("a local knot recorded before knots kept their options is adopted with the defaults, and its record is not rewritten", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-test-" });
  try {
    const knot = await Knot.create({ name: "old", dir, func: (x: number) => x + 1 });
    // The record as a version that kept no options wrote it.
    const path = join(dir, "old", "knot.json");
    const { options: _, ...old } = await record(dir, "old");
    const text = JSON.stringify({ ...old, updatedAt: 1 }, null, 2);
    await Deno.writeTextFile(path, text);
    const adopted = await Knot.create({ name: "old", dir });
    const shown = Deno.inspect(adopted);
    assert.match(shown, new RegExp(`concurrency: ${navigator.hardwareConcurrency ?? 1} worker`));
    assert.match(shown, /retries: {5}3\n/);
    assert.doesNotMatch(shown, /timeout:|memory:/);
    assert.deepEqual(await (await adopted.map([1, 2], { progress: false })).results(), [2, 3]);
    assert.equal(await Deno.readTextFile(path), text, "adopting as it is writes nothing");
    await knot.clobber();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A process adopting the local knot `both` in `dir` with `options` (JSON); a wait is told in `gate`. */
const ADOPTER = `
import { Knot } from ${JSON.stringify(new URL("../../../mod.ts", import.meta.url).href)};
const [dir, options, gate] = Deno.args;
await Knot.create({
  name: "both",
  dir,
  ...JSON.parse(options),
  warn: (message: string) => {
    if (/another process/.test(message)) Deno.writeTextFileSync(gate, message);
    else console.error(message);
  },
});
`;

Deno.test("two processes adopting a local knot at once with other options take turns writing its record, which keeps both", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-test-" });
  const exists = (path: string) => Deno.stat(path).then(() => true, () => false);
  try {
    const knot = await Knot.create({ name: "both", dir, func: (x: number) => x, retries: 2 });
    const root = join(dir, "both");
    // Held here until both have read the record and wait to write theirs.
    await holdingKnot(root, async () => {
      const children = [{ memory: 80 }, { timeout: 5 }].map((options, i) => ({
        gate: join(dir, `waiting-${i}`),
        child: new Deno.Command(Deno.execPath(), {
          args: [
            "eval",
            "--ext=ts",
            ADOPTER,
            dir,
            JSON.stringify(options),
            join(dir, `waiting-${i}`),
          ],
          stderr: "inherit",
        }).spawn(),
      }));
      for (const { gate, child } of children) {
        let ended = false;
        child.status.then(() => ended = true);
        while (!await exists(gate)) {
          assert.equal(ended, false, "the process ended without waiting to write the record");
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      assert.match(
        await Deno.readTextFile(children[0]!.gate),
        /another process \(\d+\) is writing the record of local knot both .*; waiting for it, then this one writes its own/,
      );
      return children;
    }, { make: false, onWait: () => {} }).then(async (children) => {
      for (const { child } of children) assert.equal((await child.status).code, 0);
    });
    assert.deepEqual((await record(dir, "both")).options, { retries: 2, memory: 80, timeout: 5 });
    await knot.clobber();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * A process adopting the local knot `k` in `dir` with `options` (JSON) that maps 1 and 2 and
 * prints the results (JSON); a wait for the knot's lock is told in `gate`.
 */
const MAPPER = `
import { Knot } from ${JSON.stringify(new URL("../../../mod.ts", import.meta.url).href)};
const [dir, options, gate] = Deno.args;
const knot = await Knot.create({
  name: "k",
  dir,
  ...JSON.parse(options),
  warn: (message: string) => {
    if (/another process/.test(message)) Deno.writeTextFileSync(gate, message);
    else console.error(message);
  },
});
console.log(JSON.stringify(await (await knot.map([1, 2], { progress: false })).results()));
`;

/**
 * Starts `MAPPER` adopting knot `k` in `dir` with `options` while this process holds the knot's
 * lock, waits until it waits for the lock (it read the knot's record before), runs `meanwhile`
 * still holding it, then lets go and resolves to how the process ended.
 */
async function adoptWhileHeld(
  dir: string,
  options: Record<string, unknown>,
  meanwhile: () => Promise<void>,
): Promise<Deno.CommandOutput> {
  const gate = join(dir, "waiting");
  const child = await holdingKnot(join(dir, "k"), async () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", MAPPER, dir, JSON.stringify(options), gate],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let ended = false;
    child.status.then(() => ended = true);
    while (!await Deno.stat(gate).then(() => true, () => false)) {
      assert.equal(ended, false, "the process ended without waiting for the knot's lock");
      await new Promise((r) => setTimeout(r, 50));
    }
    await meanwhile();
    return child;
  }, { make: false, onWait: () => {} });
  return await child.output();
}

Deno.test("a local knot adopted by name with an option while another process creates it again with another function keeps that function, with the option, and the adopter runs it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-test-" });
  try {
    const knot = await Knot.create({ name: "k", dir, func: (x: number) => x + 1, retries: 2 });
    // Another knot's function, as a create of k with it writes it: its artifact, then its record.
    const other = await Knot.create({ name: "other", dir, func: (x: number) => x * 10 });
    const made = await record(dir, "other");
    const out = await adoptWhileHeld(dir, { concurrency: 2 }, async () => {
      await Deno.copyFile(join(dir, "other", made.artifact), join(dir, "k", made.artifact));
      const now = await record(dir, "k");
      await Deno.writeTextFile(
        join(dir, "k", "knot.json"),
        JSON.stringify(
          {
            ...now,
            artifact: made.artifact,
            hash: made.hash,
            kind: made.kind,
            functionName: made.functionName,
          },
          null,
          2,
        ),
      );
    });
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.equal(new TextDecoder().decode(out.stdout).trim(), "[10,20]", "the knot's function now");
    const kept = await record(dir, "k");
    assert.equal(kept.hash, made.hash);
    assert.equal(kept.artifact, made.artifact);
    assert.deepEqual(kept.options, { retries: 2, concurrency: 2 });
    await other.clobber();
    await knot.clobber();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a local knot adopted by name that another process clobbers while it waits to write its record is not made again: the adoption says it was clobbered, and to create it again with its function", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-test-" });
  try {
    const knot = await Knot.create({ name: "k", dir, func: (x: number) => x + 1 });
    const out = await adoptWhileHeld(dir, { memory: 80 }, () => knot.clobber());
    assert.equal(out.code, 1);
    assert.match(
      new TextDecoder().decode(out.stderr),
      /KnotClobberedWhileOpeningError: Knot k was clobbered by another process while this one was opening it \(in .*\): its record and its function are gone\. Create it again with its function \(Knot\.create\(\{ name: "k", func \}\), or module and exportName\)/,
    );
    assert.equal(await Deno.stat(join(dir, "k")).then(() => true, () => false), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a local knot that keeps a memory above this machine's (or a concurrency above the most) is refused as it opens by name, saying what it keeps, this machine's limit and the option to give instead; one given replaces it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-test-" });
  try {
    const knot = await Knot.create({ name: "big", dir, func: (x: number) => x + 1 });
    const total = Math.floor(Deno.systemMemoryInfo().total / 2 ** 20);
    // As a bigger machine's create wrote it.
    const path = join(dir, "big", "knot.json");
    const text = JSON.stringify(
      { ...await record(dir, "big"), options: { memory: total + 1024, concurrency: 2 } },
      null,
      2,
    );
    await Deno.writeTextFile(path, text);
    await assert.rejects(
      () => Knot.create({ name: "big", dir }),
      (e: Error & { field?: string }) => {
        assert.equal(
          e.message,
          `Local knot big keeps memory ${total + 1024}, as it was given before, but this ` +
            `machine has ${total.toLocaleString("en-US")} MiB of memory (each worker's heap ` +
            `limit): give Knot.create memory: ${total} or less, which the knot then keeps`,
        );
        assert.equal(e.field, "memory");
        return true;
      },
    );
    assert.equal(await Deno.readTextFile(path), text, "nothing is written");
    const given = await Knot.create({ name: "big", dir, memory: 64 });
    assert.deepEqual(await (await given.map([1], { progress: false })).results(), [2]);
    assert.deepEqual((await record(dir, "big")).options, { memory: 64, concurrency: 2 });
    // A concurrency above the most a knot runs (the record edited): refused the same way.
    await Deno.writeTextFile(
      path,
      JSON.stringify({ ...await record(dir, "big"), options: { concurrency: 5000 } }),
    );
    await assert.rejects(
      () => Knot.create({ name: "big", dir }),
      /^CloudknotInputError: Local knot big keeps concurrency 5000, as it was given before, but a knot runs at most 1024: give Knot.create concurrency: 1024 or less, which the knot then keeps$/,
    );
    await knot.clobber();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the command line's reader of a local knot's runs (cloudknot retry, and a run another process left) runs the knot's own concurrency of workers", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-test-" });
  try {
    // Other than this machine's cores, which a knot that keeps none runs.
    const workers = (navigator.hardwareConcurrency ?? 1) + 1;
    const knot = await Knot.create({
      name: "k",
      dir,
      func: (x: number) => x,
      concurrency: workers,
    });
    const reader = localRuns(await findLocalKnot("k", { dir })) as LocalTarget;
    assert.deepEqual(
      reader.summary().find(([key]) => key === "concurrency"),
      ["concurrency", `${workers} workers`],
    );
    await knot.clobber();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
