import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CloudknotError,
  CloudknotInputError,
  ItemError,
  Knot,
  MapError,
  type MapRun,
} from "../../../mod.ts";
import { CodecError } from "../../../src/job/codec.ts";
import { THROWING_FRAMES } from "../../fixtures/throwing_frames.ts";
import { processesWith } from "../../support/processes.ts";
import { withKnot } from "./helpers.ts";
import { rejects } from "../../support/rejects.ts";

Deno.test("map returns every result in input order", async () => {
  await withKnot({ name: "squares", func: (x: number) => x * x }, async (knot) => {
    const inputs = Array.from({ length: 40 }, (_, i) => i);
    const run = await knot.map(inputs, { progress: false });
    assert.deepEqual(await run.results(), inputs.map((x) => x * x));
    assert.deepEqual(run.counts, {
      total: 40,
      pending: 0,
      running: 0,
      succeeded: 40,
      failed: 0,
      cancelled: 0,
      retried: 0,
    });
  });
});

Deno.test("items and results carry structured values both ways", async () => {
  await withKnot({
    name: "structured",
    func: (x: { when: Date; tags: Set<string>; n: bigint }) =>
      new Map([["year", x.when.getUTCFullYear()], ["size", x.tags.size + Number(x.n)]]),
  }, async (knot) => {
    const run = await knot.map([{
      when: new Date(Date.UTC(2020, 1)),
      tags: new Set(["a", "b"]),
      n: 3n,
    }], {
      progress: false,
    });
    const [result] = await run.results();
    assert.deepEqual(result, new Map([["year", 2020], ["size", 5]]));
  });
});

Deno.test("large items, read by the workers from the run's inputs, and small ones mixed with them come back as they were", async () => {
  const flag = join(await Deno.makeTempDir(), "second");
  try {
    await withKnot({
      name: "large-items",
      // Every item fails the first time, so retry() runs them again: from a
      // run that did not encode them (they are read back from the inputs).
      permissions: { read: [flag] },
      func: (x: unknown) => {
        try {
          Deno.statSync(Deno.env.get("FLAG")!);
        } catch {
          throw new Error("first time");
        }
        const views = x as { a?: Uint8Array; b?: Float32Array };
        return { x, shared: views?.a !== undefined && views.a.buffer === views.b?.buffer };
      },
    }, async (knot) => {
      const buffer = new ArrayBuffer(200 * 1024);
      new Uint8Array(buffer).forEach((_, i, a) => a[i] = i % 253);
      const resizable = new ArrayBuffer(70 * 1024, { maxByteLength: 1 << 20 });
      new Uint8Array(resizable).fill(5);
      const inputs: unknown[] = [
        new Uint8Array(1 << 20).map((_, i) => i % 249),
        1,
        { a: new Uint8Array(buffer, 10, 100), b: new Float32Array(buffer, 1024, 8) },
        "small",
        "ü".repeat(80_000),
        resizable,
        new Uint8Array(64 * 1024 - 100),
        [new BigInt64Array([1n, -2n]), new Map([["k", new Uint8Array(100_000).fill(1)]])],
      ];
      const first = await knot.map(inputs, { progress: false, env: { FLAG: flag } });
      assert.ok((await first.settled()).every((s) => s.status === "rejected"));
      await Deno.writeTextFile(flag, "");
      const run = await first.retry({ progress: false });
      const results = await run.results() as { x: unknown; shared: boolean }[];
      assert.deepEqual(results.map((r) => r.x), inputs);
      assert.equal(results[2]!.shared, true, "two views of one buffer still share it");
      assert.equal((results[5]!.x as ArrayBuffer).resizable, true);
    });
  } finally {
    await Deno.remove(join(flag, ".."), { recursive: true });
  }
});

Deno.test("a function returning undefined resolves to undefined", async () => {
  await withKnot({ name: "nothing", func: (_x: number) => undefined }, async (knot) => {
    const run = await knot.map([1, 2], { progress: false });
    assert.deepEqual(await run.results(), [undefined, undefined]);
  });
});

Deno.test("starmap spreads each item into the arguments", async () => {
  await withKnot({ name: "adder", func: (a: number, b: number) => a + b }, async (knot) => {
    const run = await knot.map([[1, 2], [3, 4]], { starmap: true, progress: false });
    assert.deepEqual(await run.results(), [3, 7]);
    await assert.rejects(
      () => knot.map([[1, 2], 3 as unknown as [number, number]], { starmap: true }),
      (e) => e instanceof CloudknotInputError && /Item 1 is not an array/.test(e.message),
    );
  });
});

Deno.test("each attempt sees the AWS Batch variables and the run's env", async () => {
  await withKnot({
    name: "env-check",
    func: (_x: number) => ({
      id: Deno.env.get("AWS_BATCH_JOB_ID"),
      index: Deno.env.get("AWS_BATCH_JOB_ARRAY_INDEX"),
      attempt: Deno.env.get("AWS_BATCH_JOB_ATTEMPT"),
      extra: Deno.env.get("MY_SETTING"),
    }),
  }, async (knot) => {
    const run = await knot.map([10, 11, 12], { env: { MY_SETTING: "on" }, progress: false });
    const results = await run.results();
    results.forEach((r, i) => {
      assert.equal(r.id, `${run.runId}:${i}`);
      assert.equal(r.index, String(i));
      assert.equal(r.attempt, "1");
      assert.equal(r.extra, "on");
    });
  });
});

Deno.test("empty inputs resolve to [] and create no run, and its retry is the run itself", async () => {
  await withKnot({ name: "empty", func: (x: number) => x }, async (knot) => {
    const run = await knot.map([], { progress: false });
    assert.deepEqual(await run.results(), []);
    assert.deepEqual(await knot.runs(), []);
    // Nothing failed: as for a run whose items all succeeded.
    assert.equal(await run.retry(), run);
    assert.deepEqual(await knot.runs(), []);
  });
});

Deno.test("generators and async iterables are accepted as inputs", async () => {
  await withKnot({ name: "iterables", func: (x: number) => x + 1 }, async (knot) => {
    function* gen() {
      yield 1;
      yield 2;
    }
    async function* agen() {
      yield 5;
    }
    assert.deepEqual(await (await knot.map(gen(), { progress: false })).results(), [2, 3]);
    assert.deepEqual(await (await knot.map(agen(), { progress: false })).results(), [6]);
  });
});

Deno.test("a non-cloneable item fails map() naming its index, before anything runs", async () => {
  await withKnot({ name: "bad-item", func: (x: unknown) => x }, async (knot) => {
    await assert.rejects(
      () => knot.map([1, { ok: true }, { cb: () => 1 }], { progress: false }),
      (e) => e instanceof CodecError && e.index === 2 && /\$\.cb/.test(e.message),
    );
    assert.deepEqual(await knot.runs(), [], "no run was written");
  });
});

Deno.test("a throwing function gives its item an ItemError with the remote stack", async () => {
  await withKnot({
    name: "thrower",
    retries: 1,
    func: function explode(x: number) {
      if (x === 2) throw new RangeError(`bad value ${x}`);
      return x;
    },
  }, async (knot) => {
    const run = await knot.map([1, 2, 3], { progress: false });
    const error = await run.results().then(() => null, (e) => e);
    assert.ok(error instanceof MapError);
    assert.deepEqual(error.results, [1, undefined, 3]);
    assert.deepEqual(error.failed, [1]);
    const [item] = error.errors;
    assert.ok(item instanceof ItemError);
    assert.equal(item.kind, "threw");
    assert.equal(item.remote.name, "RangeError");
    assert.equal(item.remote.message, "bad value 2");
    assert.match(item.remote.stack ?? "", /explode/);
    assert.ok(item.cause instanceof RangeError);
    assert.match(item.message, /Item 1 threw RangeError: bad value 2/);
    await assert.rejects(() => run.item(1), ItemError);
    assert.equal(await run.item(0), 1);
  });
});

Deno.test("a function using a name from its enclosing scope is refused by create, naming it", async () => {
  const factor = 3;
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-closure-" });
  try {
    await assert.rejects(
      () => Knot.create({ name: "closure", dir, func: (x: number) => x * factor }),
      (e) => e instanceof CloudknotInputError && /"factor"/.test(e.message),
    );
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), [], "nothing was written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a name only found when the item runs fails that item and says why", async () => {
  // An indirect eval hides the name from the check at create time.
  const func = (x: number) => x * (0, eval)("factor");
  await withKnot({ name: "closure", retries: 1, func }, async (knot) => {
    const run = await knot.map([1], { progress: false });
    const [settled] = await run.settled();
    assert.equal(settled!.status, "rejected");
    const reason = (settled as { reason: ItemError }).reason;
    assert.match(reason.message, /factor is not defined/);
    assert.match(reason.message, /only the function's own source is shipped/);
  });
});

Deno.test("a crashing worker fails only its item, is replaced, and the item is retried", async () => {
  await withKnot({
    name: "crash-once",
    retries: 2,
    concurrency: 1,
    func: (x: number) => {
      if (x === 1 && Deno.env.get("AWS_BATCH_JOB_ATTEMPT") === "1") Deno.exit(9);
      return x * 10;
    },
  }, async (knot) => {
    const run = await knot.map([0, 1, 2], { progress: false });
    assert.deepEqual(await run.results(), [0, 10, 20]);
    assert.equal(run.counts.retried, 1);
  });
});

Deno.test("a crash after its retries gives the exit code", async () => {
  await withKnot({
    name: "crash-always",
    retries: 2,
    func: (_x: number) => Deno.exit(7),
  }, async (knot) => {
    const run = await knot.map([0], { progress: false });
    const [settled] = await run.settled();
    const reason = (settled as { reason: ItemError }).reason;
    assert.equal(reason.kind, "crashed");
    assert.equal(reason.exitCode, 7);
    assert.equal(reason.attempt, 2);
    assert.match(reason.message, /exited with code 7, as Deno\.exit\(7\) .* \(attempt 2 of 2\)$/);
  });
});

Deno.test("an item whose function ends its process with Deno.exit(0) or process.exit fails saying that the exit ended its worker, and to return or throw instead", async () => {
  await withKnot({
    name: "exits",
    retries: 1,
    concurrency: 1,
    func: async (x: number) => {
      if (x === 1) Deno.exit(0);
      if (x === 2) (await import("node:process")).default.exit(5);
      return x;
    },
  }, async (knot) => {
    const run = await knot.map([0, 1, 2, 3], { progress: false });
    const settled = await run.settled();
    assert.deepEqual(settled[0], { index: 0, status: "fulfilled", value: 0 });
    assert.deepEqual(settled[3], { index: 3, status: "fulfilled", value: 3 });
    for (const [index, code] of [[1, 0], [2, 5]] as const) {
      const s = settled[index]!;
      assert.ok(s.status === "rejected", JSON.stringify(s));
      const reason = s.reason as ItemError;
      assert.equal(reason.kind, "crashed");
      assert.equal(reason.exitCode, code);
      assert.equal(
        reason.message,
        `Item ${index} crashed: its process exited with code ${code}, as Deno.exit(${code}) or ` +
          `process.exit(${code}) in the function (or in code it calls) makes it do: return the ` +
          `item's result, or throw to fail it, instead of ending the process`,
      );
      assert.equal(
        reason.remote.message,
        `The worker process running the item exited with code ${code}, as Deno.exit(${code}) ` +
          `or process.exit(${code}) makes it do`,
      );
    }
  });
});

Deno.test("running out of memory fails only that item, as out of memory with the limit and what to raise", async () => {
  await withKnot({
    name: "oom",
    retries: 1,
    memory: 64,
    func: (x: number) => {
      if (x === 0) {
        const hog: number[][] = [];
        while (true) hog.push(new Array(1e6).fill(x));
      }
      return x;
    },
  }, async (knot) => {
    const run = await knot.map([0, 1], { progress: false });
    const [first, second] = await run.settled();
    assert.equal(first!.status, "rejected");
    const reason = (first as { reason: ItemError }).reason;
    assert.equal(reason.kind, "crashed");
    assert.equal(reason.remote.name, "OutOfMemoryError");
    assert.match(
      reason.message,
      /^Item 0 ran out of memory: V8 stopped the attempt at its limit of 64 MiB .*give the item more than 64 MiB with the memory option of Knot\.create or run\.retry, or make the item smaller/,
    );
    assert.doesNotMatch(reason.message, /--memory|command line/);
    assert.deepEqual(second, { index: 1, status: "fulfilled", value: 1 });
    // Retried with double the memory, the message names the memory the attempt had.
    const again = await run.retry({ memory: "double", progress: false });
    const [retried] = await again.settled();
    const retriedReason = (retried as { reason: ItemError }).reason;
    assert.match(
      retriedReason.message,
      /V8 stopped the attempt at its limit of 128 MiB .*give the item more than 128 MiB/,
    );
    assert.doesNotMatch(retriedReason.message, /the knot's/);
  });
});

Deno.test("a memory too small for a worker to start fails the items saying so and to retry them with more, as collecting the run again keeps its memory", async () => {
  await withKnot(
    { name: "tiny-heap", retries: 1, memory: 2, func: (x: number) => x },
    async (knot) => {
      const run = await knot.map([0], { progress: false });
      const [first] = await run.settled();
      const reason = (first as { reason: ItemError }).reason;
      assert.ok(reason instanceof ItemError, JSON.stringify(first));
      assert.match(
        reason.message,
        new RegExp(
          `run out of memory before they start.*the limit of 2 MiB is too small for Deno\\. The ` +
            `item never ran: map it again with more memory, run\\.retry\\(\\{ memory: 64 \\}\\) ` +
            `on the run's handle \\(knot\\.collect\\("${run.runId}"\\) of knot tiny-heap\\)$`,
        ),
      );
      // As it says, the retry runs it.
      const again = await run.retry({ memory: 64, progress: false });
      assert.deepEqual(await again.results(), [0]);
    },
  );
});

Deno.test("V8's out-of-memory line written in pieces still reports out of memory", async () => {
  await withKnot({
    name: "oom-split",
    func: async (_x: number) => {
      // Three writes, apart in time, so the worker's stderr is read in
      // pieces, none of which says "out of memory" on its own.
      for (const piece of ["\nFatal JavaScript out of mem", "ory: Reached heap li", "mit\n"]) {
        Deno.stderr.writeSync(new TextEncoder().encode(piece));
        await new Promise((r) => setTimeout(r, 300));
      }
      Deno.exit(133);
    },
  }, async (knot) => {
    const run = await knot.map([0], { progress: false });
    const [settled] = await run.settled();
    const reason = (settled as { reason: ItemError }).reason;
    assert.equal(reason.kind, "crashed");
    assert.equal(reason.remote.name, "OutOfMemoryError");
    assert.match(reason.message, /the worker exited with code 133/);
  });
});

Deno.test("an unhandled rejection fails its item with the reason in the item's error", async () => {
  await withKnot({
    name: "forgets",
    retries: 1,
    func: async (x: number) => {
      if (x === 0) Promise.reject(new Error("nobody awaited me"));
      await new Promise((r) => setTimeout(r, 10));
      return x;
    },
  }, async (knot) => {
    const run = await knot.map([0, 1], { progress: false });
    const [first, second] = await run.settled();
    const reason = first!.status === "rejected" ? first!.reason as ItemError : undefined;
    assert.ok(reason instanceof ItemError);
    assert.equal(reason.kind, "threw");
    assert.match(
      reason.message,
      /^Item 0 threw UnhandledRejectionError: A promise was rejected and never awaited \(unhandled rejection\): Error: nobody awaited me/,
    );
    assert.deepEqual(second, { index: 1, status: "fulfilled", value: 1 });
  });
});

/**
 * Maps `inputs` (numbers the function returns, but the one at `index`) and
 * returns the error of the item at `index`, checking that every other item
 * returned its input: the items after the failing one in its worker ran.
 */
async function onlyFailure(
  knot: Knot<(x: number) => Promise<unknown>>,
  inputs: number[],
  index: number,
): Promise<ItemError> {
  const settled = await (await knot.map(inputs, { progress: false })).settled();
  const failed = settled[index]!;
  assert.ok(
    failed.status === "rejected" && failed.reason instanceof ItemError,
    JSON.stringify(failed),
  );
  assert.deepEqual(
    settled.filter((s) => s.index !== index),
    inputs.filter((_, i) => i !== index).map((x, i) => ({
      index: i < index ? i : i + 1,
      status: "fulfilled",
      value: x,
    })),
  );
  return failed.reason;
}

Deno.test("a function whose promise can never settle fails its item saying so, and its worker runs the next items", async () => {
  await withKnot({
    name: "never-settles",
    retries: 1,
    // One worker: the items after the stuck one run in the same process.
    concurrency: 1,
    func: async (x: number) => {
      // Nothing will ever resolve it: a resolve() never called.
      if (x === 1) await new Promise(() => {});
      return x;
    },
  }, async (knot) => {
    const reason = await onlyFailure(knot, [0, 1, 2, 3], 1);
    assert.equal(reason.kind, "threw");
    assert.equal(reason.remote.name, "PromiseNeverSettledError");
    assert.match(reason.message, /never settled/);
    assert.match(reason.message, /resolve/);
  });
});

Deno.test("a function that reads stdin finds it empty, and the items queued behind it in its worker run", async () => {
  await withKnot({
    name: "reads-stdin",
    // One worker, and a timeout in case an item's frames were taken.
    concurrency: 1,
    retries: 1,
    timeout: 10,
    func: async (x: number) => {
      if (x !== 3) return x;
      const read = await Deno.stdin.read(new Uint8Array(100));
      const { default: process } = await import("node:process");
      return [read, prompt("?"), process.stdin.read()];
    },
  }, async (knot) => {
    const run = await knot.map(Array.from({ length: 20 }, (_, i) => i), { progress: false });
    const results = await run.results();
    assert.deepEqual(results[3], [null, null, null]);
    assert.deepEqual(
      results.filter((_, i) => i !== 3),
      Array.from({ length: 20 }, (_, i) => i).filter((i) => i !== 3),
    );
  });
});

Deno.test("a promise left rejected as the function returns fails that item, and only that item", async () => {
  await withKnot({
    name: "leaves-late",
    // One worker: every item runs in the same process, one after another
    // (the first alone, then the rest in one batch, once the pool knows
    // they are short).
    concurrency: 1,
    func: (x: number) => {
      if (x === 3) {
        Promise.reject(new Error("late"));
        return 1;
      }
      // A neighbour that waits a turn of its own, where a rejection left by
      // the item before it would surface if nothing had waited for it.
      return x % 2 === 0 ? new Promise((resolve) => setTimeout(() => resolve(x), 1)) : x;
    },
  }, async (knot) => {
    const run = await knot.map([0, 1, 2, 3, 4, 5, 6], { progress: false });
    const settled = await run.settled();
    const reason = settled[3]!.status === "rejected" ? settled[3]!.reason as ItemError : undefined;
    assert.ok(reason instanceof ItemError, JSON.stringify(settled[3]));
    assert.equal(reason.kind, "threw");
    assert.equal(reason.remote.name, "UnhandledRejectionError");
    assert.match(reason.message, /never awaited \(unhandled rejection\): Error: late/);
    assert.deepEqual(
      settled.filter((s) => s.index !== 3),
      [0, 1, 2, 4, 5, 6].map((x) => ({ index: x, status: "fulfilled", value: x })),
    );
  });
});
Deno.test("an exception a timer's callback throws fails its item with what was thrown, and its worker runs the next items", async () => {
  await withKnot({
    name: "timer-throws",
    retries: 1,
    // One worker: the items after the failing one run in the same process.
    concurrency: 1,
    func: async (x: number) => {
      if (x !== 1) return x;
      // The callback was to resolve the promise; it throws first.
      return await new Promise((resolve) =>
        setTimeout(() => resolve(new URL("not a url").href), 1)
      );
    },
  }, async (knot) => {
    const reason = await onlyFailure(knot, [0, 1, 2, 3], 1);
    assert.equal(reason.kind, "threw");
    assert.equal(reason.exitCode, undefined);
    assert.equal(reason.remote.name, "UncaughtExceptionError");
    assert.match(
      reason.message,
      /^Item 1 threw UncaughtExceptionError: An exception was thrown where nothing caught it \(uncaught exception, as in a timer's or an event listener's callback\): TypeError: Invalid URL: 'not a url'; catch it in that callback/,
    );
    // The thrown error itself, with its stack, is the remote error's cause.
    assert.ok(reason.cause instanceof Error);
    assert.ok((reason.cause as Error).cause instanceof TypeError);
  });
});

Deno.test("an exception or a rejection the function handles itself, with a listener of its own or node:process's, does not fail its item", async () => {
  await withKnot({
    name: "handles-own",
    retries: 1,
    concurrency: 1,
    func: async (how: string) => {
      const { default: process } = await import("node:process");
      let seen = "";
      const settled = new Promise((resolve) => {
        if (how === "uncaughtException") {
          process.once("uncaughtException", (e: Error) => resolve(seen = e.message));
          return;
        }
        const type = how === "error listener" ? "error" : "unhandledrejection";
        globalThis.addEventListener(type, (e) => {
          e.preventDefault();
          resolve(
            seen =
              (e instanceof ErrorEvent ? e.error : (e as PromiseRejectionEvent).reason).message,
          );
        }, { once: true });
      });
      if (how === "rejection listener") Promise.reject(new Error(`lost by ${how}`));
      else {
        setTimeout(() => {
          throw new Error(`lost by ${how}`);
        }, 1);
      }
      await settled;
      // A turn later: the runtime's own look at the event came and went.
      await new Promise((r) => setTimeout(r, 1));
      return seen;
    },
  }, async (knot) => {
    const hows = ["error listener", "uncaughtException", "rejection listener"];
    const run = await knot.map(hows, { progress: false });
    assert.deepEqual(await run.results(), hows.map((how) => `lost by ${how}`));
  });
});

Deno.test("a timer the function leaves running does not keep its run from ending, and prints into the logs of the items its worker runs next", async () => {
  await withKnot({
    name: "leaves-timer",
    retries: 1,
    // One worker: item 1 runs in the process item 0 left its timer in.
    concurrency: 1,
    func: async (x: number) => {
      if (x === 0) {
        setInterval(() => console.log("tick from item 0"), 1);
        return x;
      }
      // A later deadline than the timer's next: Deno runs the timer first, into item 1's log.
      await new Promise((r) => setTimeout(r, 20));
      return x;
    },
  }, async (knot) => {
    const run = await knot.map([0, 1], { progress: false });
    assert.deepEqual(await run.results(), [0, 1]);
    // Item 0's own log may get a tick too, before its attempt ends: only item 1's is sure to.
    assert.ok((await Array.fromAsync(run.logs(1))).includes("tick from item 0"));
  });
});

Deno.test("a result that cannot be sent back fails its item, with the path inside the returned value", async () => {
  await withKnot({
    name: "never-sendable",
    retries: 2,
    func: (_x: number) => ({ cb: () => 1 }),
  }, async (knot) => {
    const run = await knot.map([0], { progress: false });
    const [only] = await run.settled();
    const reason = only!.status === "rejected" ? only!.reason as ItemError : undefined;
    assert.ok(reason instanceof ItemError);
    assert.equal(reason.kind, "unencodable");
    // The path is inside the returned value, not inside the record that carries it.
    assert.match(
      reason.message,
      /^Item 0 returned a value that cannot be sent back: Cannot encode a function at \$\.cb: functions cannot cross between processes; return data instead, /,
    );
    assert.doesNotMatch(reason.message, /send data/);
  });
});

Deno.test("a returned class instance is advised to return a plain object, not told about the worker", async () => {
  await withKnot({
    name: "instance-result",
    func: (_x: number) =>
      new (class Point {
        x = 1;
      })(),
  }, async (knot) => {
    const run = await knot.map([0], { progress: false });
    const [only] = await run.settled();
    const reason = only!.status === "rejected" ? only!.reason as ItemError : undefined;
    assert.ok(reason instanceof ItemError);
    assert.equal(reason.kind, "unencodable");
    assert.match(
      reason.message,
      /Cannot encode an instance of class Point at \$: its prototype would be lost on the way back; return a plain object/,
    );
    assert.doesNotMatch(reason.message, /on the worker|the job needs/);
  });
});

Deno.test("an attempt past the timeout is killed and retried, on each worker, and each item ends once", async () => {
  await withKnot({
    name: "slow",
    retries: 2,
    timeout: 1,
    // Items that never end: the timeout stops every attempt, however loaded the machine is.
    func: async (_x: number) => await new Promise((r) => setTimeout(r, 60_000)),
  }, async (knot) => {
    const run = await knot.map([0, 1, 2], { progress: false });
    const seen: number[] = [];
    for await (const settled of run) seen.push(settled.index);
    assert.deepEqual(seen.sort(), [0, 1, 2]);
    for (const [index, settled] of (await run.settled()).entries()) {
      assert.equal(settled.status, "rejected", `item ${index}`);
      const reason = (settled as PromiseRejectedResult).reason as ItemError;
      assert.equal(reason.kind, "timeout", `item ${index}`);
      assert.equal(reason.attempt, 2, `item ${index} was retried`);
    }
    assert.equal(run.counts.retried, 3);
    assert.equal(run.counts.failed, 3);
  });
});

Deno.test("an attempt killed past the timeout says to make the item faster or to retry the run with twice the timeout", async () => {
  await withKnot({
    name: "too-slow",
    retries: 1,
    timeout: 1,
    func: async (_x: number) => await new Promise((r) => setTimeout(r, 60_000)),
  }, async (knot) => {
    const run = await knot.map([0], { progress: false });
    const [settled] = await run.settled();
    assert.equal(settled!.status, "rejected");
    const reason = (settled as PromiseRejectedResult).reason as ItemError;
    assert.equal(reason.kind, "timeout");
    assert.equal(
      reason.remote.message,
      "The attempt ran longer than its timeout of 1s and was killed. Make the item faster, or " +
        "give it more time with the timeout option of Knot.create or run.retry: " +
        `run.retry({ timeout: 2 }) on the run's handle (knot.collect("${run.runId}") of knot ` +
        `${knot.name}) maps the run's failed items again`,
    );
  });
});

Deno.test("every item ends with exactly one result or one error in a mixed run", async () => {
  // No timeout: each item ends on its own (a value, a throw, a crash), so none races the clock on
  // a loaded machine; attempts killed at their timeout are the test above's.
  await withKnot({
    name: "mixed",
    retries: 2,
    concurrency: 3,
    func: (x: number) => {
      const attempt = Number(Deno.env.get("AWS_BATCH_JOB_ATTEMPT"));
      switch (x % 4) {
        case 0:
          return x;
        case 1:
          throw new Error(`throw ${x}`);
        case 2:
          Deno.exit(3);
          break;
        case 3:
          if (attempt === 1) Deno.exit(4);
          return -x;
      }
    },
  }, async (knot) => {
    const inputs = Array.from({ length: 20 }, (_, i) => i);
    const run = await knot.map(inputs, { progress: false });
    const seen = new Map<number, number>();
    for await (const settled of run) seen.set(settled.index, (seen.get(settled.index) ?? 0) + 1);
    const settled = await run.settled();
    assert.equal(settled.length, 20);
    assert.deepEqual([...seen.keys()].sort((a, b) => a - b), inputs);
    assert.ok([...seen.values()].every((n) => n === 1));
    for (const s of settled) {
      const kind = s.status === "rejected" ? s.reason.kind : "ok";
      const expected = ["ok", "threw", "crashed", "ok"][s.index % 4];
      assert.equal(kind, expected, `item ${s.index}`);
      if (s.status === "fulfilled") assert.equal(s.value, s.index % 4 === 0 ? s.index : -s.index);
    }
    assert.deepEqual(run.counts, {
      total: 20,
      pending: 0,
      running: 0,
      succeeded: 10,
      failed: 10,
      cancelled: 0,
      retried: 15,
    });
  });
});

Deno.test("an AbortSignal cancels the run and kills its workers", async () => {
  await withKnot({
    name: "cancel",
    concurrency: 2,
    func: async (x: number) => {
      await new Promise((r) => setTimeout(r, x === 0 ? 0 : 60_000));
      return x;
    },
  }, async (knot) => {
    const controller = new AbortController();
    const run = await knot.map([0, 1, 2, 3], { signal: controller.signal, progress: false });
    await run.item(0);
    controller.abort("stop now");
    const settled = await run.settled();
    assert.equal(settled[0]!.status, "fulfilled");
    for (const s of settled.slice(1)) {
      assert.equal(s.status, "rejected");
      assert.equal((s as { reason: ItemError }).reason.kind, "cancelled");
      assert.match((s as { reason: ItemError }).reason.message, /stop now/);
    }
  });
});

Deno.test("a signal aborted before map() rejects with its reason at once, reads no input, even a never-ending one, and makes nothing", async () => {
  await withKnot({ name: "pre-aborted", func: (x: number) => x }, async (knot, dir) => {
    let read = 0;
    async function* endless() {
      for (let i = 0;; i++) {
        read++;
        // A tripwire, so a map that reads on fails here instead of never ending.
        if (read > 1000) throw new Error("map() read past 1,000 items of a never-ending input");
        yield i;
      }
    }
    const reason = new Error("stopped before");
    for (const inputs of [[1, 2, 3], endless()]) {
      const mapped = knot.map(inputs, { signal: AbortSignal.abort(reason), progress: false });
      await assert.rejects(mapped, (e) => e === reason);
    }
    // Without a reason of its own, the signal's default one: an AbortError, as fetch() rejects with.
    await assert.rejects(
      knot.map(endless(), { signal: AbortSignal.abort(), progress: false }),
      (e) => e instanceof DOMException && e.name === "AbortError",
    );
    assert.equal(read, 0);
    assert.deepEqual(await knot.runs(), []);
    const runDirs = await Array.fromAsync(Deno.readDir(join(dir, "pre-aborted", "runs")))
      .catch(() => []);
    assert.deepEqual(runDirs, []);
  });
});

Deno.test("cancel() from a handle that follows a run another handle drives stops it there too: every handle and every later reader agree", async () => {
  await withKnot({
    name: "cancelled-elsewhere",
    concurrency: 1,
    // Item 0 ends at once; the others take 5 s each, so the follower's cancel stops some of them
    // however long it takes to come on a loaded machine (the items left take 95 s), and the
    // cancel, which kills the running one, keeps the test short.
    func: async (x: number) => {
      await new Promise((r) => setTimeout(r, x === 0 ? 0 : 5_000));
      return x;
    },
  }, async (knot, dir) => {
    const run = await knot.map(Array.from({ length: 20 }, (_, i) => i), { progress: false });
    await run.item(0);
    // Another handle (as another process's: the run's lock is held by the first).
    const followed = await (await Knot.create({ name: "cancelled-elsewhere", dir }))
      .collect(run.runId);
    await followed.cancel("cancelled by the follower");
    const kinds = (settled: PromiseSettledResult<unknown>[]) =>
      settled.map((s) => s.status === "fulfilled" ? "ok" : (s.reason as ItemError).kind);
    const seen = kinds(await followed.settled());
    assert.ok(seen.includes("cancelled"), seen.join(" "));
    assert.deepEqual(kinds(await run.settled()), seen, "the driving handle went on");
    const later = await (await Knot.create({ name: "cancelled-elsewhere", dir })).collect(
      run.runId,
    );
    assert.deepEqual(kinds(await later.settled()), seen);
  });
});

Deno.test("cancel() ends a run, and a run is iterable in completion order", async () => {
  // Completion order is forced without timing: "late" waits for the flag file
  // that this test writes once it has seen "early" settle, and "forever" never
  // ends until cancelled.
  const flags = await Deno.makeTempDir();
  const flag = join(flags, "early-seen");
  await withKnot({
    name: "cancel-handle",
    concurrency: 2,
    permissions: { read: [flags] },
    func: async (job: { name: string; flag: string }) => {
      if (job.name === "late") {
        while (!(await Deno.stat(job.flag).then(() => true, () => false))) {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      if (job.name === "forever") await new Promise((r) => setTimeout(r, 600_000));
      return job.name;
    },
  }, async (knot) => {
    const jobs = ["late", "early", "forever"].map((name) => ({ name, flag }));
    const run = await knot.map(jobs, { progress: false });
    const order: string[] = [];
    for await (const s of run) {
      if (s.status === "fulfilled") order.push(s.value);
      if (s.status === "fulfilled" && s.value === "early") await Deno.writeTextFile(flag, "");
      if (order.length === 2) break;
    }
    assert.deepEqual(order, ["early", "late"]);
    await run.cancel();
    assert.deepEqual(run.counts, {
      total: 3,
      pending: 0,
      running: 0,
      succeeded: 2,
      failed: 1,
      cancelled: 1,
      retried: 0,
    });
    assert.match(run.toString(), /3\/3 done, 1 cancelled/);
    const later = await knot.collect(run.runId);
    const [, , forever] = await later.settled();
    assert.equal(forever!.status, "rejected");
    assert.equal((forever as { reason: ItemError }).reason.kind, "cancelled");
  });
  await Deno.remove(flags, { recursive: true });
});

Deno.test("a module export is captured with its npm imports and runs without network", async () => {
  const module = join(import.meta.dirname!, "../../fixtures/npm_job.ts");
  for (
    const [exportName, inputs, expected] of [
      ["classify", [1, "x"], ["number", "other"]],
      ["default", [21], [42]],
    ] as const
  ) {
    await withKnot({ name: `module-${exportName}`, module, exportName }, async (knot) => {
      assert.equal(knot.artifact.kind, "module");
      assert.doesNotMatch(knot.artifact.source, /from\s+["']npm:/);
      const run = await knot.map(inputs as readonly unknown[], { progress: false });
      assert.deepEqual(await run.results(), expected);
    });
  }
});

Deno.test("a module's thrown error names the user's file and line in the item's remote stack", async () => {
  const module = join(import.meta.dirname!, "../../fixtures/throwing_job.ts");
  await withKnot({ name: "module-throws", module, exportName: "measure" }, async (knot) => {
    const run = await knot.map([1, -1], { progress: false });
    const error = await run.results().then(() => null, (e) => e);
    assert.ok(error instanceof MapError, String(error));
    const [item] = error.errors;
    assert.ok(item instanceof ItemError);
    assert.equal(item.remote.message, "negative reading -1");
    assert.match(item.remote.stack ?? "", THROWING_FRAMES);
    assert.match((item.cause as Error).stack ?? "", THROWING_FRAMES);
    assert.doesNotMatch(item.remote.stack ?? "", /artifacts\/[0-9a-f]{64}\.js/);
  });
});

Deno.test("a knot is adopted by name and its runs are collected from another process", async () => {
  await withKnot({ name: "adoptable", func: (x: number) => x + 100 }, async (knot, dir) => {
    const run = await knot.map([1, 2], { progress: false });
    await run.done;
    const script = `
      import { Knot } from ${JSON.stringify(new URL("../../../mod.ts", import.meta.url).href)};
      const knot = await Knot.create({ name: "adoptable", dir: ${JSON.stringify(dir)} });
      const [manifest] = await knot.runs();
      const run = await knot.collect(manifest.runId);
      console.log(JSON.stringify({ runId: manifest.runId, results: await run.results() }));
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      stderr: "inherit",
    }).output();
    assert.equal(out.code, 0);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), {
      runId: run.runId,
      results: [101, 102],
    });
  });
});

Deno.test("collect() of a run id that is a path, such as another knot's run, is refused as no run of this knot", async () => {
  await withKnot({ name: "first", func: (x: number) => x + 1 }, async (first, dir) => {
    const run = await first.map([1], { progress: false });
    await run.results();
    const second = await Knot.create({ name: "second", dir, func: (x: number) => x * 2 });
    for (const id of [`../../first/runs/${run.runId}`, "..", `${run.runId}/`]) {
      const e = await second.collect(id).catch((e) => e);
      assert.ok(e instanceof CloudknotInputError, `${id}: ${e}`);
      assert.match(e.message, /has no local run/);
    }
    await second.clobber();
  });
});

Deno.test("per-attempt output is kept in the run's store", async () => {
  await withKnot({
    name: "logs",
    retries: 1,
    func: (x: number) => {
      console.log(`out ${x}`);
      console.error(`err ${x}`);
      return x;
    },
  }, async (knot) => {
    const run = await knot.map([5, 6], { progress: false });
    await run.results();
    const lines = await Array.fromAsync(run.logs(1));
    assert.deepEqual(lines.sort(), ["err 6", "out 6"]);
    assert.deepEqual((await Array.fromAsync(run.logs(0))).sort(), ["err 5", "out 5"]);
    const collected = await knot.collect(run.runId);
    await collected.done;
    assert.deepEqual((await Array.fromAsync(collected.logs(1))).sort(), ["err 6", "out 6"]);
  });
});

Deno.test("bad knot options are typed errors", async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ name: "1abc", func: () => 1 }, /Invalid knot name "1abc"/],
    [{ name: "a_b", func: () => 1 }, /no underscores/],
    [{ name: "a".repeat(56), func: () => 1 }, /56 characters and the limit is 55/],
    [{ name: "ok", func: () => 1, retries: 0 }, /retries must be an integer from 1 to 10/],
    [{ name: "ok", func: () => 1, retries: 11 }, /retries must be an integer from 1 to 10/],
    [{ name: "ok", func: () => 1, timeout: -1 }, /timeout must be a positive number/],
    [
      { name: "ok", func: () => 1, concurrency: 0 },
      /concurrency must be an integer from 1 to 1024/,
    ],
    [{ name: "ok", func: () => 1, module: "./x.ts" }, /either func or module/],
    [{ name: "ok", func: 42 }, /func must be a function/],
    [{ name: "ok", func: class A {} }, /not a class/],
    [
      { name: "ok", func: Math.max },
      /no source text to ship \(it is a built-in or bound function named "max"\)/,
    ],
    [
      { name: "ok", func: ((x: number) => x).bind(null) },
      /\(it is a bound function\): pass a function/,
    ],
    [
      {
        name: "ok",
        func: function sq(x: number) {
          return x * x;
        }.bind(null),
      },
      /\(it is a bound function of "sq"\): pass a function/,
    ],
    [{ name: "never-created" }, /no local knot named "never-created"/],
  ];
  const dir = await Deno.makeTempDir();
  try {
    for (const [options, pattern] of cases) {
      await assert.rejects(
        () => Knot.create({ ...options, dir } as never),
        (e) => e instanceof CloudknotInputError && pattern.test(e.message),
        String(pattern),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("collect() refuses what is not a run id, saying where run ids come from", async () => {
  await withKnot({ name: "collect-ids", func: (x: number) => x }, async (knot) => {
    for (const runId of [5, "", "  ", undefined]) {
      await assert.rejects(
        () => knot.collect(runId as string),
        (e) =>
          e instanceof CloudknotInputError && e.field === "runId" &&
          /^collect\(\) takes the id of one of the knot's runs \(run\.runId, or the runId of an entry of knot\.runs\(\)\), not /
            .test(e.message),
        String(runId),
      );
    }
  });
});

Deno.test("a knot or runs directory with a comma is refused before anything is made", async () => {
  const base = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => Knot.create({ name: "comma", dir: join(base, "a,b"), func: (x: number) => x }),
      (e) => e instanceof CloudknotInputError && /a,b.*CLOUDKNOT_LOCAL_DIR/.test(e.message),
    );
    const previous = Deno.env.get("CLOUDKNOT_LOCAL_RUNS");
    Deno.env.set("CLOUDKNOT_LOCAL_RUNS", join(base, "runs,here"));
    try {
      await assert.rejects(
        () => Knot.create({ name: "comma", dir: join(base, "knots"), func: (x: number) => x }),
        (e) =>
          e instanceof CloudknotInputError && /runs,here.*CLOUDKNOT_LOCAL_RUNS/.test(e.message),
      );
    } finally {
      if (previous === undefined) Deno.env.delete("CLOUDKNOT_LOCAL_RUNS");
      else Deno.env.set("CLOUDKNOT_LOCAL_RUNS", previous);
    }
    assert.deepEqual(await Array.fromAsync(Deno.readDir(base)), []);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("the job view is a table in a terminal and HTML in a notebook", async () => {
  await withKnot({
    name: "view",
    retries: 1,
    func: (x: number) => {
      if (x) throw new Error("nope <b>");
      return x;
    },
  }, async (knot) => {
    const run: MapRun<number> = await knot.map([0, 1], { progress: false });
    await run.done;
    const text = run.toString();
    assert.match(text, /^view run \S+ \(local\): 2\/2 done, 1 failed/);
    assert.match(text, /item\s+status\s+attempts/);
    const bundle = Reflect.get(run, Symbol.for("Jupyter.display")).call(run) as Record<
      string,
      string
    >;
    assert.match(bundle["text/html"]!, /<table>/);
    assert.match(bundle["text/html"]!, /nope &#60;b&#62;/);
    assert.equal(bundle["text/plain"], text);
  });
});

Deno.test("map() with inputs or options of the wrong type is a typed error naming them, before any run", async () => {
  await withKnot({ name: "types", func: (x: number) => x }, async (knot) => {
    const cases: [() => Promise<unknown>, string, RegExp][] = [
      [
        () => knot.map("abc" as never),
        "inputs",
        /^inputs must be an array or another iterable of items, not the string "abc": wrap one string item in an array, as \[text\]$/,
      ],
      [() => knot.map(42 as never), "inputs", /not the number 42/],
      [() => knot.map(null as never), "inputs", /not null/],
      [() => knot.map([1], { starmap: "yes" } as never), "starmap", /true or false/],
      [() => knot.map([1], { jobType: "weird" } as never), "jobType", /"array" or "independent"/],
      // Local items run in workers, not Batch jobs: the option would be ignored.
      [
        () => knot.map([1], { jobType: "independent" }),
        "jobType",
        /^jobType is an option of target "aws" \(array jobs or one job per item\), not of "local": leave it out$/,
      ],
      [() => knot.map([1], { env: { A: 1 } } as never), "env", /env\.A must be a string/],
      [() => knot.map([1], { env: { A: "x\0y" } }), "env", /env\.A holds a NUL character/],
      [() => knot.map([1], { progres: false } as never), "progres", /did you mean "progress"/],
      // A dry run's option, which a run would ignore.
      [
        () => knot.map([1], { itemSeconds: 5 } as never),
        "itemSeconds",
        /^itemSeconds is read only by a dry run, for its cost estimate: map\(inputs, \{ dryRun: true, itemSeconds \}\), or knot\.estimate\(inputs, \{ itemSeconds \}\); a run would ignore it$/,
      ],
      [() => knot.map([1], "fast" as never), undefined as never, /map\(\) takes an options object/],
    ];
    for (const [call, field, message] of cases) {
      const e = await call().catch((e) => e);
      assert.ok(e instanceof CloudknotInputError, String(e));
      assert.equal(e.field, field, e.message);
      assert.match(e.message, message);
    }
    // No run was started.
    assert.deepEqual(await knot.runs(), []);
  });
});

Deno.test("clobber() while a run is still running cancels it first, then removes every file of the knot", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-test-" });
  try {
    const knot = await Knot.create({
      name: "clobber-running",
      dir,
      concurrency: 2,
      func: async (x: number) => {
        await new Promise((r) => setTimeout(r, 600_000));
        return x;
      },
    });
    const run = await knot.map([1, 2, 3, 4, 5, 6], { progress: false });
    await knot.clobber();
    assert.equal(run.finished, true);
    const settled = await run.settled();
    assert.deepEqual(settled.map((s) => s.status), Array(6).fill("rejected"));
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a knots directory (dir, CLOUDKNOT_LOCAL_DIR) that is a file, or under one, is refused naming the option", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-test-" });
  try {
    const file = join(dir, "notes.txt");
    await Deno.writeTextFile(file, "");
    for (const [given, verb] of [[file, "used"], [join(file, "knots"), "made"]]) {
      const refused = await rejects(
        Knot.create({ name: "filed", dir: given, func: (x: number) => x }),
        CloudknotInputError,
      );
      assert.equal(
        refused.message,
        `The knots directory ${given} cannot be ${verb}: ${file} is a file, not a directory. ` +
          "Choose another directory (the dir option or CLOUDKNOT_LOCAL_DIR)",
      );
      assert.equal(refused.field, "dir");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("map() on a handle of a knot another handle clobbered says so, and brings back no folder of the knot", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-test-" });
  try {
    const first = await Knot.create({ name: "clobbered-aside", dir, func: (x: number) => x + 1 });
    const second = await Knot.create({ name: "clobbered-aside", dir });
    await first.clobber();
    const refused = await rejects(second.map([1, 2], { progress: false }), CloudknotError);
    assert.equal(
      refused.message,
      'Knot clobbered-aside was clobbered since this handle opened it, its function with it: create it again (Knot.create({ name: "clobbered-aside", func })) and map the items again',
    );
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("clobber() of a local knot refuses options it does not take, and misspelt ones, before it deletes anything", async () => {
  await withKnot({ name: "clobber-options", func: (x: number) => x }, async (knot) => {
    const run = await knot.map([1], { progress: false });
    await run.results();
    const kept = await rejects(knot.clobber({ keepData: true }), CloudknotInputError);
    assert.equal(kept.field, "keepData");
    assert.equal(
      kept.message,
      "clobber() of a local knot deletes its runs, its function and its record, and takes no " +
        "options: keepData is an option of a knot on AWS; leave them out",
    );
    const typo = await rejects(
      knot.clobber({ keepdata: true } as unknown as { keepData: boolean }),
      CloudknotInputError,
    );
    assert.equal(typo.message, 'clobber() has no option "keepdata": did you mean "keepData"?');
    const odd = await rejects(
      knot.clobber({ repo: "yes" } as unknown as { repo: boolean }),
      CloudknotInputError,
    );
    assert.equal(odd.field, "repo");
    // Nothing was deleted: the run is still there.
    assert.deepEqual((await knot.runs()).map((r) => r.runId), [run.runId]);
  });
});

Deno.test("a run's cost, timeline, report and logs refuse an option they do not take, naming the one meant", async () => {
  await withKnot({ name: "run-options", func: (x: number) => x }, async (knot) => {
    const run = await knot.map([1], { progress: false });
    await run.results();
    const cases: [Promise<unknown>, string][] = [
      [
        run.cost({ price: {} } as never),
        'run.cost() has no option "price": did you mean "prices"?',
      ],
      [
        run.timeline({ widht: 600 } as never),
        'run.timeline() has no option "widht": did you mean "width"?',
      ],
      [
        run.report({ failurs: 5 } as never),
        'run.report() has no option "failurs": did you mean "failures"?',
      ],
      [
        Array.fromAsync(run.logs(0, { attemp: 1 } as never)),
        'run.logs() has no option "attemp": did you mean "attempt"?',
      ],
    ];
    for (const [call, message] of cases) {
      assert.equal((await rejects(call, CloudknotInputError)).message, message);
    }
  });
});

/** The pids of the processes running `sleep <seconds>` (Deno gives the program's whole path). */
async function sleepers(seconds: string): Promise<number[]> {
  return (await processesWith(seconds)).filter(({ args }) => {
    const [program, arg] = args.split(" ");
    return program?.endsWith("sleep") && arg === seconds;
  }).map((p) => p.pid);
}

/** The processes whose command line names `dir`: a knot's workers there. */
async function workersIn(dir: string): Promise<number[]> {
  return (await processesWith(dir)).filter((p) => p.args.includes("worker_main")).map((p) => p.pid);
}

Deno.test({
  name:
    "the programs a function started die with its worker: on a timeout, and when the run ends with one left running",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    // Durations no other process uses, so the test finds only its own.
    const awaited = `${900 + Math.floor(Math.random() * 90)}.25`;
    const left = `${900 + Math.floor(Math.random() * 90)}.75`;
    // Where the timed item notes the pid of its program once it runs: an attempt its timeout
    // kills before it started the program is tried again, until one did.
    const notes = await Deno.makeTempDir({ prefix: "cloudknot-test-" });
    const ran = join(notes, "ran");
    const func = async ([mode, seconds, note]: [string, string, string]) => {
      if (mode === "await") {
        // The attempt after the one whose program ran (and whose timeout killed it) ends.
        const pid = await Deno.readTextFile(note).catch(() => undefined);
        if (pid !== undefined) return Number(pid);
      }
      const sleep = new Deno.Command("sleep", { args: [seconds], stdout: "null", stderr: "null" })
        .spawn();
      if (mode !== "await") return "left running";
      // Whole or not at all, however the attempt is killed.
      await Deno.writeTextFile(`${note}.part`, String(sleep.pid));
      await Deno.rename(`${note}.part`, note);
      return (await sleep.status).code;
    };
    const options = { func, permissions: { run: ["sleep"], read: [notes], write: [notes] } };
    try {
      await withKnot(
        { ...options, name: "children", timeout: 3, retries: 4 },
        async (knot, dir) => {
          // The item left running returns at once, so it runs on a knot with no timeout: none
          // races it, however loaded the machine is.
          const untimed = await Knot.create({ ...options, name: "children-left", dir });
          const [timed, leaving] = await Promise.all([
            knot.map([["await", awaited, ran]], { progress: false }),
            untimed.map([["leave", left, ran]], { progress: false }).then((run) => run.settled()),
          ]);
          const [value] = await timed.results();
          assert.equal(value, Number(await Deno.readTextFile(ran)), "the timed item's program ran");
          // Every attempt before the last was killed for its timeout, the one that started the
          // program among them.
          const attempts = (await timed.usage()).attempts;
          assert.ok(attempts.length >= 2, JSON.stringify(attempts));
          for (const a of attempts.slice(0, -1)) {
            assert.equal(a.outcome, "retried");
            assert.match(a.reason ?? "", /^TimeoutError: .*longer than its timeout of 3s/);
          }
          assert.deepEqual(leaving[0], { index: 0, status: "fulfilled", value: "left running" });
          // SIGKILL is delivered at once, but a process takes a moment to go: on a loaded machine
          // seconds, so the test looks until they are gone, and gives up only after two minutes.
          const deadline = Date.now() + 120_000;
          while (
            Date.now() < deadline &&
            (await sleepers(awaited)).length + (await sleepers(left)).length > 0
          ) {
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          assert.deepEqual(
            await sleepers(awaited),
            [],
            "the awaited program outlived its timed-out worker",
          );
          assert.deepEqual(
            await sleepers(left),
            [],
            "the program left running outlived its worker",
          );
          await untimed.clobber();
        },
      );
    } finally {
      await Deno.remove(notes, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "the programs a function started die with its worker when the process that mapped is killed, which a terminal's Ctrl-C would have done, also while the function spins",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    // Durations no other process uses, so the test finds only its own.
    const awaited = `${900 + Math.floor(Math.random() * 90)}.5`;
    const spun = `${900 + Math.floor(Math.random() * 90)}.125`;
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-test-" });
    const script = join(dir, "client.ts");
    await Deno.writeTextFile(
      script,
      `import { Knot } from ${JSON.stringify(new URL("../../../mod.ts", import.meta.url).href)};
const knot = await Knot.create({
  name: "orphans",
  dir: ${JSON.stringify(dir)},
  concurrency: 2,
  permissions: { run: ["sleep"] },
  func: async ([mode, s]: [string, string]) => {
    const sleep = new Deno.Command("sleep", { args: [s] });
    if (mode === "await") return (await sleep.output()).code;
    sleep.spawn();
    // A synchronous loop: no timer of the worker runs while it spins.
    const end = Date.now() + 120_000;
    while (Date.now() < end) continue;
    return "spun";
  },
});
const items = [["await", ${JSON.stringify(awaited)}], ["spin", ${JSON.stringify(spun)}]];
await (await knot.map(items, { progress: false })).results();
`,
    );
    const client = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        "--config",
        new URL("../../../deno.json", import.meta.url).pathname,
        "--lock",
        new URL("../../deno.lock", import.meta.url).pathname,
        script,
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const left = async () => [...await sleepers(awaited), ...await sleepers(spun)];
    try {
      // A bounded wait for the items' programs to start, then for them to go.
      for (let i = 0; i < 300 && (await left()).length < 2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if ((await left()).length < 2) {
        client.kill("SIGKILL");
        const { stderr } = await client.output();
        assert.fail(`the items' programs never started: ${new TextDecoder().decode(stderr)}`);
      }
      client.kill("SIGKILL");
      await client.stderr.cancel();
      await client.status;
      for (let i = 0; i < 100 && (await left()).length + (await workersIn(dir)).length > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.deepEqual(await sleepers(awaited), [], "the awaited program outlived the client");
      assert.deepEqual(await sleepers(spun), [], "the spinning item's program outlived the client");
      assert.deepEqual(await workersIn(dir), [], "a worker outlived the client");
    } finally {
      for (const pid of [...await left(), ...await workersIn(dir)]) Deno.kill(pid, "SIGKILL");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("a function that silences Deno.stdout by replacing its methods still returns its results, and its worker goes on", async () => {
  const func = (x: number) => {
    Deno.stdout.writeSync = (bytes: Uint8Array) => bytes.byteLength;
    Deno.stdout.write = (bytes: Uint8Array) => Promise.resolve(bytes.byteLength);
    return x * 2;
  };
  // One worker, so the second item runs after the first silenced it; a timeout, so a lost record fails.
  await withKnot(
    { name: "silenced", func, concurrency: 1, timeout: 20, retries: 1 },
    async (knot) => {
      const run = await knot.map([1, 2], { progress: false });
      assert.deepEqual(await run.results(), [2, 4]);
    },
  );
});

Deno.test("a map() still reading its first input when the knot is clobbered rejects saying so, and leaves no run behind", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-test-" });
  try {
    const knot = await Knot.create({ name: "clobber-starting", dir, func: (x: number) => x });
    const first = Promise.withResolvers<void>();
    const inputs = async function* () {
      await first.promise;
      yield 1;
      yield 2;
    };
    const mapping = knot.map(inputs(), { progress: false });
    const clobbering = knot.clobber();
    first.resolve();
    const e = await mapping.then(() => undefined, (e: Error) => e);
    assert.ok(e instanceof CloudknotInputError, String(e));
    assert.equal(
      e.message,
      "Knot clobber-starting was clobbered while map() was starting: create it again with " +
        "Knot.create()",
    );
    await clobbering;
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
