// run.retry() on the local target: real worker processes, one running out of
// its heap, one throwing; the retry runs only those, with more memory, and its
// handle covers the whole input, in this process and from a new handle.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot, MapError } from "../../../mod.ts";
import { withKnot } from "./helpers.ts";

/** Item "oom" fills the heap with ~125 MB of objects; item "flag:<path>" throws until <path> exists. */
const work = async (x: string | number) => {
  if (x === "oom") {
    const keep: unknown[] = [];
    for (let i = 0; i < 1_400_000; i++) keep.push({ i, s: `item ${i}` });
    return keep.length;
  }
  if (typeof x === "string" && x.startsWith("flag:")) {
    try {
      await Deno.stat(x.slice(5));
    } catch {
      throw new Error("not yet");
    }
    return "flagged";
  }
  return (x as number) * 2;
};

Deno.test("retry() reruns only the failed items, doubling the memory of the one that ran out, and the merged results are complete", async () => {
  // The flag item stats a file: the function may read (workers get no permissions but net by default).
  const options = {
    name: "retries",
    func: work,
    retries: 1,
    memory: 96,
    permissions: { read: true },
  };
  await withKnot(options, async (knot, dir) => {
    const flag = join(dir, "flag");
    const inputs = [1, "oom", 3, `flag:${flag}`, 5];
    const run = await knot.map(inputs, { progress: false });
    const first = await run.results().then(() => assert.fail("two items must fail"), (e) => e);
    assert.ok(first instanceof MapError);
    assert.deepEqual(first.errors.map((e) => e.index), [1, 3]);
    assert.deepEqual(first.results, [2, undefined, 6, undefined, 10]);

    await Deno.writeTextFile(flag, "");
    const retried = await run.retry({ memory: "double", progress: false });
    assert.notEqual(retried.runId, run.runId);
    assert.deepEqual(retried.retryOf, { runId: run.runId, items: [1, 3] });
    assert.equal(retried.total, 5);
    assert.deepEqual(await retried.results(), [2, 1_400_000, 6, "flagged", 10]);

    // The retry is a run of its own with the two items, the one that ran out with 192 MiB.
    const runs = await knot.runs();
    assert.equal(runs.length, 2);
    const retryManifest = runs.find((m) => m.runId === retried.runId)!;
    assert.equal(retryManifest.count, 2);
    assert.deepEqual(retryManifest.groups, [{ offset: 0, size: 1, resources: { memory: 192 } }]);

    // From a new handle (as another process would get it), the retry covers the whole input.
    const again = await Knot.create({ name: "retries", dir });
    const collected = await again.collect(retried.runId);
    assert.equal(collected.total, 5);
    assert.deepEqual(await collected.results(), [2, 1_400_000, 6, "flagged", 10]);

    // Its usage has every attempt of both runs, at input indices, and a cost report in CPU-seconds.
    const usage = await collected.usage();
    assert.deepEqual(
      usage.attempts.map((a) => [a.index, a.outcome]).sort(),
      [[0, "succeeded"], [1, "failed"], [1, "succeeded"], [2, "succeeded"], [3, "failed"], [
        3,
        "succeeded",
      ], [4, "succeeded"]],
    );
    assert.ok(
      usage.attempts.every((a) => a.startedAt !== undefined && a.stoppedAt! >= a.startedAt),
    );
    const cost = await collected.cost();
    assert.equal(cost.attempts, 7);
    assert.ok(cost.cpuSeconds! > 0);
    assert.match(String(collected), /CPU-seconds/);
  });
});

Deno.test("retry() of a run where nothing failed is the run itself, and bad options are refused first", async () => {
  await withKnot({ name: "fine", func: (x: number) => x }, async (knot) => {
    const run = await knot.map([1, 2], { progress: false });
    assert.equal(await run.retry({ progress: false }), run);
    await assert.rejects(
      () => run.retry({ memory: 0 }),
      /memory must be a positive integer of MiB or "double"/,
    );
    await assert.rejects(() => run.retry({ timeout: -1 }), /timeout must be a positive number/);
    assert.equal((await knot.runs()).length, 1);
  });
});

Deno.test("retry({ signal }) of a run still going rejects with the signal's reason once it aborts, without waiting for the run, which goes on", async () => {
  // Item "wait:<path>" runs until <path> exists.
  const waits = async (x: string | number) => {
    if (typeof x === "number") return x * 2;
    for (;;) {
      try {
        await Deno.stat(x.slice(5));
        return "flagged";
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  await withKnot(
    { name: "waited", func: waits, permissions: { read: true } },
    async (knot, dir) => {
      const flag = join(dir, "flag");
      const run = await knot.map([`wait:${flag}`, 1], { progress: false });
      const stop = new AbortController();
      const retrying = run.retry({ signal: stop.signal, progress: false });
      stop.abort(new Error("stopped waiting"));
      await assert.rejects(retrying, /^Error: stopped waiting$/);
      assert.equal(run.finished, false, "the run goes on");
      await Deno.writeTextFile(flag, "");
      assert.deepEqual(await run.results(), ["flagged", 2]);
    },
  );
});

Deno.test("retry() from a knot adopted with the default retries gives the items the attempts their run had, and the retry's handle counts the attempts it ran again", async () => {
  const refuse = (x: number) => {
    if (x < 0) throw new RangeError("negative");
    return x;
  };
  await withKnot({ name: "two-tries", func: refuse, retries: 2 }, async (knot, dir) => {
    const run = await knot.map([1, -1], { progress: false });
    const first = await run.results().then(() => assert.fail("item 1 must fail"), (e) => e);
    assert.equal(first.errors[0].attempt, 2);
    // As `cloudknot retry` opens it: by name, with the default three retries.
    const adopted = await Knot.create({ name: "two-tries", dir });
    const retried = await (await adopted.collect(run.runId)).retry({ progress: false });
    const again = await retried.results().then(() => assert.fail("item 1 must fail"), (e) => e);
    assert.equal(again.errors[0].remote.name, "RangeError");
    assert.equal(again.errors[0].attempt, 2, "the run's two attempts, not the default three");
    assert.equal(run.counts.retried, 1);
    assert.equal(retried.counts.retried, 1, "the retry's own attempt run again");
    const collected = await adopted.collect(retried.runId);
    await collected.done;
    assert.equal(collected.counts.retried, 1);
  });
});

Deno.test("a finished retry collected again shows every item settled as collect() returns, as the jobs and knot show commands read it", async () => {
  const refuse = (x: number) => {
    if (x < 0) throw new RangeError("negative");
    return x;
  };
  await withKnot({ name: "settled-at-once", func: refuse, retries: 1 }, async (knot, dir) => {
    const run = await knot.map([1, -1, 2, -2], { progress: false });
    await run.results().then(() => assert.fail("items 1 and 3 must fail"), (e) => e);
    const retried = await run.retry({ progress: false });
    await retried.results().then(() => assert.fail("they fail again"), (e) => e);

    const adopted = await Knot.create({ name: "settled-at-once", dir });
    const collected = await adopted.collect(retried.runId);
    // Read at once, with no await in between, as a view of the run is.
    const { pending, running, succeeded, failed } = collected.counts;
    assert.deepEqual({ pending, running, succeeded, failed }, {
      pending: 0,
      running: 0,
      succeeded: 2,
      failed: 2,
    });
    assert.ok(collected.finished);
    assert.deepEqual(collected.items.map((v) => v.status), [
      "succeeded",
      "failed",
      "succeeded",
      "failed",
    ]);
  });
});

Deno.test("a retry runs with the permissions its run had, also from a handle of the knot created again with others", async () => {
  const options = { name: "retry-grants", func: work, retries: 1, permissions: { read: true } };
  await withKnot(options, async (knot, dir) => {
    const flag = join(dir, "flag");
    const run = await knot.map([`flag:${flag}`], { progress: false });
    assert.equal((await run.settled())[0]!.status, "rejected");
    await Deno.writeTextFile(flag, "");
    // Created again without leave to read, the flag item could never see the flag.
    const again = await Knot.create({ ...options, dir, permissions: { net: true } });
    const retried = await (await again.collect(run.runId)).retry({ progress: false });
    assert.deepEqual(await retried.results(), ["flagged"]);
  });
});

Deno.test("retry({ permissions }) runs an item refused a permission with it granted, where a plain retry is refused alike; bad permissions are refused before anything runs", async () => {
  const readFile = (path: string) => Deno.readTextFile(path);
  await withKnot({ name: "retry-allow", func: readFile, retries: 2 }, async (knot, dir) => {
    const secret = join(dir, "secret.txt");
    await Deno.writeTextFile(secret, "hidden");
    const run = await knot.map([secret], { progress: false });
    const error = await run.results().then(() => assert.fail("item 0 is refused"), (e) => e);
    assert.ok(error instanceof MapError);
    assert.equal(error.errors[0]!.kind, "refused");
    // The advice names the option a retry needs, not a plain retry, which would be refused alike.
    assert.ok(
      error.message.includes(
        `map them again with run.retry({ permissions }) on the run's handle ` +
          `(knot.collect("${run.runId}") of knot retry-allow), its permissions granting what ` +
          "each refused item's error names",
      ),
      error.message,
    );
    await assert.rejects(
      () => run.retry({ permissions: { disk: true } as never, progress: false }),
      /permissions has an unknown kind "disk"/,
    );
    assert.equal((await knot.runs()).length, 1, "nothing ran for the refused options");
    const plain = await run.retry({ progress: false });
    assert.equal((await plain.settled())[0]!.status, "rejected", "the run's permissions again");
    const granted = await plain.retry({ permissions: { read: [secret] }, progress: false });
    assert.deepEqual(await granted.results(), ["hidden"]);
    // Another handle of the retry reads the same whole input.
    assert.deepEqual(await (await knot.collect(granted.runId)).results(), ["hidden"]);
  });
});

Deno.test("logs() on a retry's handle reads the retry's attempts of a retried item, and the error for an earlier one names the run whose handle reads it", async () => {
  await withKnot({
    name: "retried-logs",
    retries: 2,
    permissions: { read: true },
    // Throws until the flag file exists, saying so in each attempt's output.
    func: async (flag: string) => {
      const there = await Deno.stat(flag).then(() => true, () => false);
      console.log(
        `attempt ${Deno.env.get("AWS_BATCH_JOB_ATTEMPT")}: ${there ? "flag" : "no flag"}`,
      );
      if (!there) throw new Error("not yet");
      return "flagged";
    },
  }, async (knot, dir) => {
    const flag = join(dir, "flag");
    const run = await knot.map([flag], { progress: false });
    await run.results().then(() => assert.fail("the item must fail"), () => {});
    await Deno.writeTextFile(flag, "");
    const retried = await run.retry({ progress: false });
    assert.deepEqual(await retried.results(), ["flagged"]);
    assert.deepEqual(await Array.fromAsync(retried.logs(0)), ["attempt 1: flag"]);
    await assert.rejects(
      () => Array.fromAsync(retried.logs(0, { attempt: 2 })),
      RangeError,
      `Item 0 ran 1 attempt in run ${retried.runId}: attempt takes 1. Run ${retried.runId} ` +
        `retries it: its earlier attempts are run ${run.runId}'s, read with ` +
        `(await knot.collect("${run.runId}")).logs(0, { attempt })`,
    );
    // As the error says (from a handle collected again too).
    const collected = await knot.collect(retried.runId);
    await assert.rejects(() => Array.fromAsync(collected.logs(0, { attempt: 2 })), /run .*'s/);
    const earlier = await knot.collect(run.runId);
    assert.deepEqual(await Array.fromAsync(earlier.logs(0, { attempt: 2 })), [
      "attempt 2: no flag",
    ]);
  });
});
