import assert from "node:assert/strict";
import { join } from "node:path";
import { CloudknotInputError, Knot, MapRun } from "../../mod.ts";
import { denoChild, startForLine } from "../support/deno_child.ts";
import { rejects } from "../support/rejects.ts";
import { formatProgress, showProgress, summarizeRun } from "../../src/run/mod.ts";

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
  // First, a line of its own that names the run: a program stopped by Ctrl-C leaves it on screen.
  assert.equal(
    writes[0],
    '\r\u001b[KRun r of knot pi: if this program stops first, knot.collect("r") picks it up\n',
  );
  assert.ok(writes.slice(1, -1).every((w) => !w.includes("\n")), "only the first line stays");
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
  assert.ok(lines.length >= 3);
  assert.ok(lines.every((l) => !l.includes("\r")));
  assert.equal(
    lines[0],
    'Run r of knot pi: if this program stops first, knot.collect("r") picks it up',
  );
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

Deno.test("map() and collect() refuse progress options they would ignore or misuse, before running anything", async () => {
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
    e = await refused({ display: true });
    assert.equal(e.message, "progress.display must be a function, not the boolean true");
    e = await refused({ isTerminal: 1 });
    assert.equal(e.message, "progress.isTerminal must be true or false, not the number 1");
    e = await refused({ announce: "no" });
    assert.equal(e.message, 'progress.announce must be true or false, not the string "no"');
    assert.deepEqual(await knot.runs(), []);
    // The options it takes still work.
    const lines: string[] = [];
    const run = await knot.map([1], {
      progress: { isTerminal: false, intervalMs: 10_000, log: (l) => lines.push(l) },
    });
    assert.deepEqual(await run.results(), [1]);
    await run.done;
    assert.match(lines.at(-1)!, /^k: 1\/1 done/);
    // collect() checks the same options, in its own words, and shows nothing of a finished run.
    e = await rejects(knot.collect(run.runId, { progres: false } as never), CloudknotInputError);
    assert.equal(e.message, `collect() has no option "progres": did you mean "progress"?`);
    e = await rejects(
      knot.collect(run.runId, { progress: { interval: 1 } } as never),
      CloudknotInputError,
    );
    assert.equal(
      e.message,
      `collect()'s progress has no option "interval": did you mean "intervalMs"?`,
    );
    lines.length = 0;
    const again = await knot.collect(run.runId, {
      progress: { isTerminal: false, log: (l) => lines.push(l) },
    });
    await again.done;
    assert.deepEqual(lines, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a run picked up part-way says where it stands at once, and measures its rate from the items it sees finish", async () => {
  // Mapped an hour ago by a process that died after 90 of 100 items.
  const { run, control } = MapRun.create({
    knot: "k",
    runId: "r",
    target: "local",
    total: 100,
    attempts: 1,
  }, { startedAt: Date.now() - 3_600_000 });
  for (let i = 0; i < 90; i++) control.settle(ok(i));
  const lines: string[] = [];
  showProgress(run, { isTerminal: false, log: (l) => lines.push(l), intervalMs: 60_000 });
  assert.deepEqual(lines, [
    'Run r of knot k: if this program stops first, knot.collect("r") picks it up',
    "k: 90/100 done · 0 running",
  ]);
  // Two more in the next 2 s: 1/s, not 92 items over an hour.
  const at = Date.now();
  control.settle(ok(90));
  control.settle(ok(91));
  assert.equal(
    formatProgress(run, at + 2000, { at, done: 90 }),
    "k: 92/100 done · 0 running · 1.0/s · ETA 8.0s",
  );
  for (let i = 92; i < 100; i++) control.settle(ok(i));
  await run.done;
  // The run took the hour since it started.
  assert.match(lines.at(-1)!, /^k: 100\/100 done · 0 running( · \d+\/s)? · took 1h00m$/);
});

Deno.test("collect() in a new process shows the progress of a dead process's run as it finishes it, its finished items counted", async () => {
  const base = await Deno.makeTempDir({ prefix: "cloudknot-collect-progress-" });
  try {
    const dir = join(base, "knots");
    const log = join(base, "executions.log");
    const { child: client, line: runId } = await startForLine(
      ["run", "-A", new URL("../fixtures/resumable_client.ts", import.meta.url).href, dir, log],
      "null",
    );
    const executed = async () => (await Deno.readTextFile(log).catch(() => "")).split("\n").length;
    while (await executed() < 60) await new Promise((r) => setTimeout(r, 20));
    client.kill("SIGKILL");
    await client.status;

    const collected = await denoChild([
      "run",
      "-A",
      new URL("../fixtures/collect_client.ts", import.meta.url).href,
      dir,
      "resumable",
      runId,
    ]);
    assert.equal(collected.code, 0, collected.stderr);
    assert.equal(collected.stdout.trim(), "300");
    const lines = collected.stderr.split("\n").filter((l) => l.startsWith("resumable: "));
    const first = lines[0]?.match(/^resumable: (\d+)\/300 done · \d+ running$/);
    assert.ok(first, `no first progress line: ${collected.stderr}`);
    const done = Number(first[1]);
    assert.ok(done > 0 && done < 300, `${done} items were done`);
    assert.match(lines.at(-1)!, /^resumable: 300\/300 done · 0 running · [\d.]+\/s · took /);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("a cancelled run's last progress line and summary count its cancelled items apart from its failures", async () => {
  const { run, control } = MapRun.create({
    knot: "k",
    runId: "r",
    target: "local",
    total: 4,
    attempts: 1,
  });
  const lines: string[] = [];
  showProgress(run, { isTerminal: false, log: (l) => lines.push(l), intervalMs: 60_000 });
  control.settle(ok(0));
  control.settle({ ...ok(1), status: "error", kind: "threw", error: { name: "E", message: "m" } });
  control.started(2, 1);
  await run.cancel("stop");
  assert.equal(run.counts.failed, 3);
  assert.equal(run.counts.cancelled, 2);
  assert.match(lines.at(-1)!, /^k: 4\/4 done · 1 failed · 2 cancelled · 0 running · /);
  assert.match(summarizeRun(run), /^k run r \(local\): 4\/4 done, 1 failed, 2 cancelled · /);
});

Deno.test("in a notebook progress is one display updated in place, never lines in later cells", async () => {
  const { run, control } = MapRun.create({
    knot: "nb",
    runId: "r",
    target: "local",
    total: 2,
    attempts: 1,
  });
  const shown: { line: string; update: boolean }[] = [];
  const lines: string[] = [];
  showProgress(run, {
    isTerminal: false,
    display: (line, update) => shown.push({ line, update }),
    redrawMs: 10,
  });
  // Shown at once, in the cell that mapped, under the run's id: an interrupted kernel keeps it.
  const named = 'Run r of knot nb: if this program stops first, knot.collect("r") picks it up\n';
  assert.deepEqual(shown, [{ line: `${named}nb: 0/2 done · 0 running`, update: false }]);
  control.started(0, 1);
  await new Promise((r) => setTimeout(r, 40));
  control.settle(ok(0));
  control.settle(ok(1));
  await run.done;
  assert.ok(shown.length >= 3);
  assert.ok(shown.slice(1).every((s) => s.update), "a display after the first is a new one");
  assert.ok(shown.some((s) => /1 running/.test(s.line)));
  assert.ok(shown.every((s) => s.line.startsWith(named)));
  assert.match(shown.at(-1)!.line, /\nnb: 2\/2 done · 0 running · .*took/);
  assert.deepEqual(lines, []);
});

Deno.test("the progress line says how many attempts failed and were retried, while the items are still running", () => {
  const { run, control } = MapRun.create({
    knot: "k",
    runId: "r",
    target: "local",
    total: 2,
    attempts: 3,
  });
  control.started(0, 1);
  control.started(1, 1);
  const crashed = {
    version: 1 as const,
    status: "error" as const,
    kind: "crashed" as const,
    attempt: 1,
    jobId: "j",
    endedAt: Date.now(),
    error: { name: "E", message: "m" },
  };
  control.retrying({ ...crashed, index: 0 });
  control.retrying({ ...crashed, index: 1 });
  control.started(0, 2);
  assert.equal(formatProgress(run, Date.now()), "k: 0/2 done · 1 running · 2 retried");
});

Deno.test("on a terminal narrower than the progress line the line is cut to fit, so a redraw never leaves a wrapped row behind", async () => {
  const { run, control } = MapRun.create({
    knot: "a-knot-with-a-rather-long-name",
    runId: "r",
    target: "local",
    total: 2,
    attempts: 1,
  });
  const writes: string[] = [];
  showProgress(run, {
    isTerminal: true,
    write: (t) => writes.push(t),
    columns: () => 30,
    redrawMs: 5,
  });
  control.started(0, 1);
  control.settle(ok(0));
  control.settle(ok(1));
  await run.done;
  // The line naming the run is written once, never redrawn: it may wrap, and is whole.
  assert.equal(
    writes[0],
    "\r\u001b[KRun r of knot a-knot-with-a-rather-long-name: if this program stops first, " +
      'knot.collect("r") picks it up\n',
  );
  const lines = writes.slice(1).filter((w) => w !== "\n").map((w) => w.replace("\r\u001b[K", ""));
  assert.ok(lines.length >= 2);
  for (const line of lines) assert.ok(line.length < 30, line);
  // The counts first: the knot's name goes when the line does not fit.
  assert.match(lines.at(-1)!, /^2\/2 done · 0 running/);
});

Deno.test("a run that has ended, or progress with announce: false, is not announced", async () => {
  const opts = { knot: "k", runId: "r", target: "local", total: 1, attempts: 1 } as const;
  const { run, control } = MapRun.create(opts);
  const lines: string[] = [];
  showProgress(run, { isTerminal: false, log: (l) => lines.push(l), announce: false });
  control.settle(ok(0));
  await run.done;
  assert.ok(lines.length > 0);
  assert.ok(lines.every((l) => !l.startsWith("Run r")), lines.join("\n"));
  const after: string[] = [];
  showProgress(run, { isTerminal: false, log: (l) => after.push(l) });
  assert.equal(after.length, 1);
  assert.match(after[0]!, /^k: 1\/1 done/);
});
