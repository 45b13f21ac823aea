import assert from "node:assert/strict";
import { CloudknotInputError, Knot, MapRun } from "../../mod.ts";
import { rejects } from "../support/rejects.ts";
import { formatProgress, showProgress } from "../../src/run/mod.ts";

function ok(index: number) {
  return {
    version: 1 as const,
    status: "ok" as const,
    index,
    attempt: 1,
    jobId: "j",
    endedAt: Date.now(),
    value: index,
  };
}

Deno.test("on a terminal the progress line is redrawn in place and ends with a newline", async () => {
  const { run, control } = MapRun.create({
    knot: "pi",
    runId: "r",
    target: "local",
    total: 3,
    attempts: 1,
  });
  const writes: string[] = [];
  showProgress(run, { isTerminal: true, write: (t) => writes.push(t), redrawMs: 5 });
  control.started(0, 1);
  await new Promise((r) => setTimeout(r, 30));
  control.settle(ok(0));
  control.settle(ok(1));
  control.settle(ok(2));
  await run.done;
  assert.ok(writes.length >= 3);
  assert.ok(writes.slice(0, -1).every((w) => w.startsWith("\r\u001b[K")));
  assert.match(writes.at(-2)!, /pi: 3\/3 done · 0 running · .*took/);
  assert.equal(writes.at(-1), "\n");
  assert.ok(writes.some((w) => /1 running/.test(w)));
});

Deno.test("off a terminal progress is plain lines at an interval, then a last line", async () => {
  const { run, control } = MapRun.create({
    knot: "pi",
    runId: "r",
    target: "local",
    total: 2,
    attempts: 1,
  });
  const lines: string[] = [];
  showProgress(run, { isTerminal: false, log: (l) => lines.push(l), intervalMs: 10 });
  control.started(0, 1);
  await new Promise((r) => setTimeout(r, 40));
  control.settle(ok(0));
  control.settle({ ...ok(1), status: "error", kind: "threw", error: { name: "E", message: "m" } });
  await run.done;
  assert.ok(lines.length >= 2);
  assert.ok(lines.every((l) => !l.includes("\r")));
  assert.match(lines.at(-1)!, /^pi: 2\/2 done · 1 failed · 0 running/);
});

Deno.test("the progress line has the rate and an ETA while running", () => {
  const { run, control } = MapRun.create({
    knot: "k",
    runId: "r",
    target: "local",
    total: 4,
    attempts: 1,
  }, {
    startedAt: Date.now() - 2000,
  });
  control.started(0, 1);
  control.settle(ok(0));
  control.started(1, 1);
  const line = formatProgress(run, run.startedAt + 2000);
  assert.match(line, /^k: 1\/4 done · 1 running · 0\.5\/s · ETA 6\.0s$/);
});

Deno.test("map() refuses progress options it would ignore or misuse, before running anything", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const knot = await Knot.create({ name: "k", func: (x: number) => x, dir });
    const refused = (progress: unknown) =>
      rejects(knot.map([1], { progress } as never), CloudknotInputError);
    let e = await refused({ interval: 1000 });
    assert.equal(
      e.message,
      `map()'s progress has no option "interval": did you mean "intervalMs"?`,
    );
    assert.equal(e.field, "progress.interval");
    e = await refused({ intervalMs: -1 });
    assert.equal(
      e.message,
      "progress.intervalMs must be a positive number of milliseconds, not the number -1",
    );
    assert.equal(e.field, "progress.intervalMs");
    e = await refused({ redrawMs: Infinity });
    assert.match(e.message, /^progress\.redrawMs must be a positive number of milliseconds/);
    e = await refused({ write: "stderr" });
    assert.equal(e.message, 'progress.write must be a function, not the string "stderr"');
    e = await refused({ isTerminal: 1 });
    assert.equal(e.message, "progress.isTerminal must be true or false, not the number 1");
    assert.deepEqual(await knot.runs(), []);
    // The options it takes still work.
    const lines: string[] = [];
    const run = await knot.map([1], {
      progress: { isTerminal: false, intervalMs: 10_000, log: (l) => lines.push(l) },
    });
    assert.deepEqual(await run.results(), [1]);
    await run.done;
    assert.match(lines.at(-1)!, /^k: 1\/1 done/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
