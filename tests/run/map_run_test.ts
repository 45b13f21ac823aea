import assert from "node:assert/strict";
import { ItemError, MapError, MapRun } from "../../mod.ts";
import { estimateMachineRun } from "../../src/targets/machine_plan.ts";
import { runUntil } from "../support/run_until.ts";
import { inCliWords } from "../../src/cli/common/cli_words.ts";

function record(index: number, ok: boolean) {
  return ok
    ? {
      version: 1 as const,
      status: "ok" as const,
      index,
      attempt: 1,
      jobId: "j",
      endedAt: 0,
      value: index * 2,
    }
    : {
      version: 1 as const,
      status: "error" as const,
      kind: "threw" as const,
      index,
      attempt: 1,
      jobId: "j",
      endedAt: 0,
      error: { name: "Error", message: `bad ${index}` },
    };
}

/** A local run of knot `k` whose items get one attempt. */
function localRun(runId: string, total: number) {
  return MapRun.create<number>({ knot: "k", runId, target: "local", total, attempts: 1 });
}

Deno.test("a settled item never settles again and counts stay consistent", async () => {
  const { run, control } = MapRun.create<number>({
    knot: "k",
    runId: "r",
    target: "local",
    total: 2,
    attempts: 2,
  });
  control.started(0, 1);
  control.retrying({ ...record(0, false), kind: "crashed" } as never);
  assert.deepEqual(run.counts, {
    total: 2,
    pending: 2,
    running: 0,
    succeeded: 0,
    failed: 0,
    cancelled: 0,
    retried: 1,
  });
  control.started(0, 2);
  control.settle(record(0, true));
  control.settle(record(0, false));
  control.settle(record(1, false));
  const error = await run.results().catch((e) => e);
  assert.ok(error instanceof MapError);
  assert.deepEqual(error.results, [0, undefined]);
  assert.ok(error.errors[0] instanceof ItemError);
  assert.match(error.message, /1 of 2 items failed/);
  assert.deepEqual(run.counts, {
    total: 2,
    pending: 0,
    running: 0,
    succeeded: 1,
    failed: 1,
    cancelled: 0,
    retried: 1,
  });
  assert.equal(await run.item(0), 0);
  await assert.rejects(() => run.item(5), RangeError);
});

Deno.test("a run's MapError counts its cancelled items apart from its failed ones", async () => {
  const cancelled = (index: number) => ({
    ...record(index, false),
    kind: "cancelled" as const,
    error: { name: "CancelledError", message: "stop" },
  });
  const mixed = localRun("r", 4);
  mixed.control.settle(record(0, true));
  mixed.control.settle(record(1, false));
  mixed.control.settle(cancelled(2));
  mixed.control.settle(cancelled(3));
  const some = await mixed.run.results().catch((e) => e);
  assert.ok(some instanceof MapError);
  assert.match(some.message, /^1 of 4 items failed and 2 were cancelled;/);
  assert.deepEqual(some.failed, [1, 2, 3]);
  const stopped = MapRun.create<number>({
    knot: "k",
    runId: "r",
    target: "local",
    total: 2,
    attempts: 1,
  });
  stopped.control.settle(record(0, true));
  stopped.control.settle(cancelled(1));
  const only = await stopped.run.results().catch((e) => e);
  assert.match(only.message, /^1 of 2 items was cancelled;/);
});

Deno.test("a run's MapError says how to map its failed and cancelled items again when its handle can retry them, in words the command line turns into cloudknot retry", async () => {
  const make = (resubmit: boolean) => {
    const made = MapRun.create<number>(
      { knot: "squares", runId: "r7", target: "local", total: 2, attempts: 1 },
      resubmit ? { resubmit: () => Promise.reject(new Error("not here")) } : {},
    );
    made.control.settle(record(0, true));
    const cancelled = {
      ...record(1, false),
      kind: "cancelled" as const,
      error: { name: "CancelledError", message: "stop" },
    };
    made.control.settle(cancelled);
    return made.run;
  };
  const retriable = await make(true).results().catch((e) => e);
  assert.ok(retriable instanceof MapError);
  assert.match(
    retriable.message,
    /^1 of 2 items was cancelled; .* partial results; map them again with run\.retry\(\) on the run's handle \(knot\.collect\("r7"\) of knot squares\):\n/,
  );
  const cli = inCliWords(retriable);
  assert.ok(cli.split("\n")[0]!.endsWith("map them again with cloudknot retry squares r7:"), cli);
  // A handle made by hand has no way to retry: it says nothing of it.
  const bare = await make(false).results().catch((e) => e);
  assert.doesNotMatch(bare.message, /retry/);
});

Deno.test("unawaited item rejections are never unhandled", async () => {
  const { run, control } = MapRun.create<number>({
    knot: "k",
    runId: "r",
    target: "local",
    total: 1,
    attempts: 1,
  });
  control.settle(record(0, false));
  await run.done;
  assert.equal(run.promises.length, 1);
  assert.equal((await run.settled())[0]!.status, "rejected");
});

Deno.test("several iterators each see every item in completion order", async () => {
  const { run, control } = MapRun.create<number>({
    knot: "k",
    runId: "r",
    target: "local",
    total: 3,
    attempts: 1,
  });
  const a = Array.fromAsync(run);
  control.settle(record(2, true));
  const b = Array.fromAsync(run);
  control.settle(record(0, true));
  control.settle(record(1, false));
  for (const seen of [await a, await b]) assert.deepEqual(seen.map((s) => s.index), [2, 0, 1]);
});

Deno.test("done waits for tracked work such as stopping workers", async () => {
  const { run, control } = MapRun.create<number>({
    knot: "k",
    runId: "r",
    target: "local",
    total: 1,
    attempts: 1,
  });
  let stopped = false;
  control.track(
    new Promise<void>((r) =>
      setTimeout(() => {
        stopped = true;
        r();
      }, 20)
    ),
  );
  control.settle(record(0, true));
  await run.results();
  assert.ok(stopped);
});

Deno.test("cancelling a run still reading its inputs, with none yet, finishes it empty", async () => {
  const { run } = MapRun.create<number>(
    { knot: "k", runId: "r", target: "local", total: 0, attempts: 1 },
    { open: true },
  );
  // Resolves on its own: nothing else keeps this test's event loop busy.
  await run.cancel("stop");
  assert.ok(run.finished);
  assert.deepEqual(await run.settled(), []);
});

Deno.test("a run and an estimate shown in an array or an object indent their lines as Deno indents nested values", async () => {
  const { run, control } = MapRun.create({
    knot: "k",
    runId: "r",
    target: "local",
    total: 1,
    attempts: 1,
  }, { startedAt: 0 });
  control.settle(record(0, true));
  const top = Deno.inspect(run);
  assert.match(top, /^k run r \(local\): 1\/1 done[^]*\nitem +status/);
  assert.equal(Deno.inspect([run]), `[\n  ${top.replaceAll("\n", "\n  ")}\n]`);
  const estimate = await estimateMachineRun(10, 60, 2, "local");
  const shown = Deno.inspect(estimate);
  assert.equal(
    Deno.inspect({ estimate }),
    `{\n  estimate: ${shown.replaceAll("\n", "\n  ")}\n}`,
  );
});

Deno.test("retry() refuses a misspelt option or progress option before it runs anything", async () => {
  let resubmits = 0;
  const { run, control } = MapRun.create<number>({
    knot: "k",
    runId: "r",
    target: "local",
    total: 1,
    attempts: 1,
  }, {
    resubmit: () => {
      resubmits++;
      throw new Error("retried");
    },
  });
  control.settle(record(0, false));
  await assert.rejects(
    () => run.retry({ memroy: "double" } as never),
    /^CloudknotInputError: retry\(\) has no option "memroy": did you mean "memory"\?/,
  );
  await assert.rejects(
    () => run.retry({ progress: { interval: 1000 } } as never),
    /^CloudknotInputError: retry\(\)'s progress has no option "interval": did you mean "intervalMs"\?/,
  );
  await assert.rejects(
    () => run.retry({ progress: "quiet" } as never),
    /progress must be true, false or progress options, not the string "quiet"/,
  );
  assert.equal(resubmits, 0);
});

Deno.test("logs() of an attempt an ended item never ran is a RangeError, not an empty output", async () => {
  const { run, control } = MapRun.create<number>({
    knot: "k",
    runId: "r",
    target: "local",
    total: 1,
    attempts: 3,
  }, {
    logs: async function* (_index, attempt) {
      yield `attempt ${attempt}`;
    },
  });
  control.settle({ ...record(0, true), attempt: 2 });
  assert.deepEqual(await Array.fromAsync(run.logs(0)), ["attempt 2"]);
  assert.deepEqual(await Array.fromAsync(run.logs(0, { attempt: 1 })), ["attempt 1"]);
  for (const attempt of [3, 0, 1.5]) {
    await assert.rejects(
      () => Array.fromAsync(run.logs(0, { attempt })),
      RangeError,
      "Item 0 ran 2 attempts: attempt takes 1 to 2",
    );
  }
});

Deno.test("attemptsWithoutRecord() names the attempts the target says ended without the item's record, and a retry's handle asks the run that ran each item", async () => {
  // Attempt 1 of item 0 of each run ended without its record; attempt 1 of item 1 wrote one.
  const make = (runId: string, total: number) =>
    MapRun.create<number>({ knot: "k", runId, target: "aws", total, attempts: 3 }, {
      withoutRecord: (index, attempt) => index === 0 && attempt === 1,
    });
  const earlier = make("r1", 3);
  earlier.control.settle({ ...record(0, true), attempt: 2 });
  earlier.control.settle({ ...record(1, true), attempt: 2 });
  earlier.control.settle(record(2, false));
  assert.deepEqual(earlier.run.attemptsWithoutRecord(0), [1]);
  assert.deepEqual(earlier.run.attemptsWithoutRecord(1), []);
  assert.deepEqual(earlier.run.attemptsWithoutRecord(3), []);
  const retried = make("r2", 1);
  retried.control.settle({ ...record(0, true), attempt: 3 });
  const merged = MapRun.merge(earlier.run, retried.run, [2]);
  await merged.done;
  assert.deepEqual([0, 1, 2].map((i) => merged.attemptsWithoutRecord(i)), [[1], [], [1]]);
  // A target that does not tell: none.
  assert.deepEqual(localRun("r3", 1).run.attemptsWithoutRecord(0), []);
});

Deno.test("a retry's handle shows a retried item running while the retry runs it, and pending again once it stops without a record", async () => {
  const earlier = localRun("r1", 3);
  earlier.control.settle(record(0, true));
  earlier.control.settle(record(1, false));
  earlier.control.settle(record(2, false));
  const retried = localRun("r2", 2);
  const merged = MapRun.merge(earlier.run, retried.run, [1, 2]);
  const status = (i: number) => merged.itemView(i)!.status;
  const until = (check: () => boolean) => runUntil(merged, check);
  retried.control.started(0, 1, undefined, 1_000);
  await until(() => status(1) === "running");
  assert.equal(merged.itemView(1)!.startedAt, 1_000);
  // Item 1 stops without a record (as a handle that follows the retry sees it when the process
  // running it dies) as item 2 starts: the merged handle looks at both at once.
  retried.control.idle(0);
  retried.control.started(1, 1);
  await until(() => status(2) === "running");
  assert.equal(status(1), "pending");
  assert.deepEqual({ running: merged.counts.running, pending: merged.counts.pending }, {
    running: 1,
    pending: 1,
  });
  retried.control.settle(record(0, true));
  retried.control.settle({ ...record(1, true), index: 1 });
  assert.deepEqual(await merged.results(), [0, 0, 2]);
});

Deno.test("a retry's handle follows each retried item as its attempt starts and stops, at once", async () => {
  const earlier = localRun("r1", 4);
  for (let i = 0; i < 4; i++) earlier.control.settle(record(i, i === 0));
  const retried = MapRun.create<number>({
    knot: "k",
    runId: "r2",
    target: "local",
    total: 3,
    attempts: 2,
  });
  const merged = MapRun.merge(earlier.run, retried.run, [1, 2, 3]);
  const view = (i: number) => {
    const v = merged.itemView(i)!;
    return { status: v.status, attempts: v.attempts };
  };
  // No event of the retry waits for a later look: each is the merged handle's before the next.
  retried.control.started(2, 1, "j3", 1_000);
  assert.deepEqual(view(3), { status: "running", attempts: 1 });
  assert.equal(merged.itemView(3)!.startedAt, 1_000);
  retried.control.retrying({ ...record(2, false), kind: "crashed", index: 2 } as never);
  assert.deepEqual(view(3), { status: "pending", attempts: 1 });
  retried.control.started(2, 2, "j3");
  assert.deepEqual(view(3), { status: "running", attempts: 2 });
  retried.control.started(0, 1);
  retried.control.idle(0);
  assert.deepEqual(view(1), { status: "pending", attempts: 1 });
  assert.deepEqual(view(2), { status: "pending", attempts: 0 });
  assert.deepEqual({ running: merged.counts.running, pending: merged.counts.pending }, {
    running: 1,
    pending: 2,
  });
  for (let k = 0; k < 3; k++) retried.control.settle({ ...record(k, true), index: k });
  assert.deepEqual(await merged.results(), [0, 0, 2, 4]);
});
