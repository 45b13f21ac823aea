/**
 * The bounded-concurrency loop the AWS target submits, stops and fetches
 * with: its width, its order, and what stops it taking new work.
 */
import assert from "node:assert/strict";
import { forEachPooled } from "../../src/util/pooled.ts";

/** A task that waits until released, so a test decides when each one ends. */
function gate() {
  const waiting: (() => void)[] = [];
  return {
    wait: () => new Promise<void>((resolve) => waiting.push(resolve)),
    get count() {
      return waiting.length;
    },
    releaseAll: () => waiting.splice(0).forEach((resolve) => resolve()),
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("forEachPooled runs at most width tasks at once, in item order, each with its index", async () => {
  const g = gate();
  const started: [string, number][] = [];
  const done = forEachPooled(["a", "b", "c", "d", "e"], 2, async (item, index) => {
    started.push([item, index]);
    await g.wait();
  });
  await tick();
  assert.deepEqual(started, [["a", 0], ["b", 1]]);
  while (started.length < 5 || g.count > 0) {
    g.releaseAll();
    await tick();
  }
  assert.deepEqual(await done, []);
  assert.deepEqual(started, [["a", 0], ["b", 1], ["c", 2], ["d", 3], ["e", 4]]);
});

Deno.test("forEachPooled with stopOnError starts nothing after a failure but waits for the running tasks", async () => {
  const g = gate();
  const started: number[] = [];
  let finished = 0;
  const done = forEachPooled([0, 1, 2, 3, 4, 5], 3, async (n) => {
    started.push(n);
    if (n === 0) throw new Error("first");
    await g.wait();
    finished++;
  }, { stopOnError: true });
  await tick();
  g.releaseAll();
  const errors = await done;
  assert.deepEqual(errors.map((e) => (e as Error).message), ["first"]);
  assert.deepEqual(started, [0, 1, 2]);
  assert.equal(finished, 2, "the two tasks running at the failure finished");
});

Deno.test("forEachPooled without stopOnError runs every task and returns every failure in the order they happened", async () => {
  const started: number[] = [];
  const errors = await forEachPooled([0, 1, 2, 3], 2, async (n) => {
    started.push(n);
    await tick();
    if (n % 2 === 1) throw n;
  });
  assert.deepEqual(started, [0, 1, 2, 3]);
  assert.deepEqual(errors, [1, 3]);
});

Deno.test("forEachPooled starts no new task once its signal aborts", async () => {
  const stop = new AbortController();
  const started: number[] = [];
  const errors = await forEachPooled([0, 1, 2, 3], 1, async (n) => {
    started.push(n);
    if (n === 1) stop.abort();
    await tick();
  }, { signal: stop.signal });
  assert.deepEqual(started, [0, 1]);
  assert.deepEqual(errors, []);
});

Deno.test("forEachPooled starts no task for an item it was still reading when its signal aborted", async () => {
  // As a run's poller reads the listing of its records: a signal that aborts while a page is on
  // its way must not let a fetch start for a key of that page (whose request has no signal of its
  // own, and whose retries would wait on timers after the poller was stopped).
  const stop = new AbortController();
  const reading = Promise.withResolvers<void>();
  const read = Promise.withResolvers<void>();
  async function* keys() {
    yield 0;
    reading.resolve();
    await read.promise;
    yield 1;
  }
  const started: number[] = [];
  const pooled = forEachPooled(keys(), 1, async (n) => {
    started.push(n);
    await tick();
  }, { signal: stop.signal });
  await reading.promise;
  stop.abort();
  read.resolve();
  assert.deepEqual(await pooled, []);
  assert.deepEqual(started, [0]);
});

Deno.test("forEachPooled with no items or no width runs nothing", async () => {
  let calls = 0;
  const task = () => Promise.resolve(void calls++);
  assert.deepEqual(await forEachPooled([], 4, task), []);
  assert.deepEqual(await forEachPooled([1, 2], 0, task), []);
  assert.equal(calls, 0);
});
