// Drives Deno's Jupyter kernel as a notebook user does: a cell interrupted
// mid-run, the kernel restarted, a knot created again with another function.
import assert from "node:assert/strict";
import { join } from "node:path";
import { jupyterTest } from "../support/jupyter_available.ts";
import { driveKernel, outputText } from "../support/notebook.ts";

const MOD = new URL("../../mod.ts", import.meta.url).href;

/** Runs fn with a temporary directory for the kernel's knots. */
async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-kernel-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

jupyterTest(
  "a map interrupted mid-run in a notebook is found by name in the restarted kernel, with its finished items, and finished there",
  () =>
    withDir(async (dir) => {
      const knots = join(dir, "knots");
      const gate = join(dir, "gate");
      // Item 0 ends at once; the others wait until the gate exists, so the
      // interrupt comes while they run, however slow the machine is.
      const create = `import { Knot } from "${MOD}";
const knot = await Knot.create({
  name: "interrupted",
  func: async (x: number) => {
    while (x > 0) {
      try { await Deno.stat(${
        JSON.stringify(gate)
      }); break; } catch { await new Promise((r) => setTimeout(r, 50)); }
    }
    return x * 10;
  },
  concurrency: 2,
  permissions: { read: [${JSON.stringify(dir)}] },
});`;
      const steps = await driveKernel([
        { code: create },
        {
          code: `const run = await knot.map([0, 1, 2, 3, 4], { progress: false });
for await (const s of run) console.log("settled", s.index);`,
          interruptOn: "settled 0",
          gone: knots,
        },
        { code: `${create}\nconsole.log(String(await knot.runs().then((r) => r.length)));` },
        {
          code: `await Deno.writeTextFile(${JSON.stringify(gate)}, "");
const runs = await knot.runs();
const old = await knot.collect(runs[0].runId);
console.log(JSON.stringify(await old.results()));
old`,
        },
      ], { CLOUDKNOT_LOCAL_DIR: knots });
      const [, map, again, collected] = steps;
      assert.ok(map!.restarted, "the interrupted cell did not end");
      assert.deepEqual(map!.left, [], "worker processes were left behind");
      assert.equal(outputText(again!.outputs, "error"), "");
      assert.equal(outputText(again!.outputs, "stdout").trim(), "1");
      assert.equal(outputText(collected!.outputs, "error"), "");
      assert.equal(outputText(collected!.outputs, "stdout").trim(), "[0,10,20,30,40]");
      // collect() finishing the dead kernel's run shows its progress in the notebook, as map()
      // does: one display, at once with the item done before, updated in place to its end.
      const shown = collected!.outputs.filter((o) =>
        o.output_type === "display_data" && o.display_id?.startsWith("cloudknot-progress-")
      );
      assert.equal(shown.length, 1, JSON.stringify(collected!.outputs));
      assert.match(
        shown[0]!.data!["text/plain"]!.join(""),
        /^Run \S+ of knot interrupted: if this program stops first, knot\.collect\("\S+"\) picks it up\ninterrupted: 1\/5 done · \d+ running$/,
      );
      const updates = collected!.outputs.filter((o) =>
        o.output_type === "update_display_data" && o.display_id === shown[0]!.display_id
      );
      assert.match(
        updates.at(-1)!.data!["text/plain"]!.join(""),
        /\ninterrupted: 5\/5 done · 0 running · .* · took /,
      );
      assert.doesNotMatch(outputText(collected!.outputs, "stderr"), /interrupted: /);
      // The item that had finished kept its one attempt.
      assert.match(
        outputText(collected!.outputs, "execute_result"),
        /interrupted run \S+ \(local\): 5\/5 done[^]*\n0 +succeeded +1 /,
      );
    }),
);

jupyterTest(
  "after the Knot.create cell runs again with an edited function, retrying an earlier run of the notebook runs the edited function",
  () =>
    withDir(async (dir) => {
      const create = (body: string) =>
        `import { Knot } from "${MOD}";
const knot = await Knot.create({ name: "edited", func: (x: number) => { ${body} }, concurrency: 1, retries: 1 });`;
      const steps = await driveKernel([
        { code: create(`if (x === 3) throw new Error("three"); return x + 1;`) },
        {
          code: `const run = await knot.map([1, 2, 3], { progress: false });
console.log(JSON.stringify((await run.settled()).map((s) => s.status)));`,
        },
        // The user fixes the function and runs the cell again.
        { code: create(`return x * 100;`) },
        {
          code: `const retried = await run.retry({ progress: false });
console.log(JSON.stringify(await retried.results()));
const collected = await (await knot.collect(run.runId)).retry({ progress: false });
console.log(JSON.stringify(await collected.results()));`,
        },
      ], { CLOUDKNOT_LOCAL_DIR: join(dir, "knots") });
      for (const step of steps) assert.equal(outputText(step.outputs, "error"), "");
      assert.equal(
        outputText(steps[1]!.outputs, "stdout").trim(),
        '["fulfilled","fulfilled","rejected"]',
      );
      // The earlier results are kept; the failed item ran the edited function,
      // from the notebook's handle as from one collected by name.
      assert.equal(outputText(steps[3]!.outputs, "stdout").trim(), "[2,3,300]\n[2,3,300]");
    }),
);

jupyterTest(
  "a map interrupted while it still read its inputs is, in the restarted kernel, a run that says it was cut short",
  () =>
    withDir(async (dir) => {
      const knots = join(dir, "knots");
      const create = `import { Knot } from "${MOD}";
const knot = await Knot.create({
  name: "cut",
  func: async (x: number) => {
    await Deno.writeTextFile(${JSON.stringify(dir)} + "/ran-" + x, "");
    return x * 10;
  },
  concurrency: 2,
  permissions: { write: [${JSON.stringify(dir)}] },
});`;
      // Three inputs are read and run; the fourth never comes.
      const steps = await driveKernel([
        { code: create },
        {
          code: `async function* inputs() {
  yield* [0, 1, 2];
  const ran = async () => (await Array.fromAsync(Deno.readDir(${JSON.stringify(dir)})))
    .filter((e) => e.name.startsWith("ran-")).length;
  while (await ran() < 3) await new Promise((r) => setTimeout(r, 20));
  console.log("waiting");
  await new Promise((r) => setTimeout(r, 600_000));
  yield 3;
}
await knot.map(inputs());`,
          interruptOn: "waiting",
        },
        {
          code: `${create}
const id = (await knot.runs())[0].runId;
const run = await knot.collect(id);
console.log(JSON.stringify([await run.results(), run.cutShort, (await knot.collect(id)).cutShort]));
run`,
        },
      ], { CLOUDKNOT_LOCAL_DIR: knots });
      assert.ok(steps[1]!.restarted, "the interrupted cell did not end");
      assert.equal(outputText(steps[2]!.outputs, "error"), "");
      assert.equal(outputText(steps[2]!.outputs, "stdout").trim(), "[[0,10,20],true,true]");
      assert.match(
        outputText(steps[2]!.outputs, "execute_result"),
        /cut run \S+ \(local\): 3\/3 done, cut short: the process that mapped it died after 3 inputs were read, map the rest again/,
      );
    }),
);

jupyterTest(
  "a map error caught in a notebook and shown as a cell's value is its message and the size of its fields in a few lines, not every item's error",
  () =>
    withDir(async (dir) => {
      const steps = await driveKernel([
        {
          code: `import { Knot } from "${MOD}";
const knot = await Knot.create({
  name: "odd",
  func: (x: number) => { if (x % 2) throw new Error("odd " + x); return x; },
  concurrency: 2,
  retries: 1,
});
const run = await knot.map(Array.from({ length: 200 }, (_, i) => i), { progress: false });
let error;
try { await run.results(); } catch (e) { error = e; }
error`,
        },
        { code: `error.errors[0]` },
      ], { CLOUDKNOT_LOCAL_DIR: join(dir, "knots") });
      for (const step of steps) assert.equal(outputText(step.outputs, "error"), "");
      const shown = outputText(steps[0]!.outputs, "execute_result");
      assert.match(
        shown,
        /^MapError: 100 of 200 items failed;[^]*\n {2}Item 1 threw Error: odd 1\n/,
      );
      assert.match(shown, /\n {2}errors: {2}100 ItemErrors, one per failed item\n/);
      assert.match(shown, /\n {2}failed: {2}\[ 1, 3, 5, 7, 9, … and 95 more \]$/);
      assert.ok(shown.split("\n").length < 20, shown);
      const item = outputText(steps[1]!.outputs, "execute_result");
      assert.match(
        item,
        /^ItemError: Item 1 threw Error: odd 1 \{ index: 1, attempt: 1, kind: "threw", jobId: "\S+:1" \}\n {2}\[cause\]: Error: odd 1\n/,
      );
      assert.doesNotMatch(item, /undefined|remote/);
    }),
);

jupyterTest(
  "a run still going when the Knot.create cell runs again with an edited function keeps its function, and the next map, started at once, runs the edited one",
  () =>
    withDir(async (dir) => {
      const gate = join(dir, "gate");
      // Every item waits until the gate exists, so the first run still goes
      // when the knot is made again and mapped again.
      const create = (body: string) =>
        `import { Knot } from "${MOD}";
const knot = await Knot.create({
  name: "going",
  func: async (x: number) => {
    while (true) {
      try { await Deno.stat(${
          JSON.stringify(gate)
        }); break; } catch { await new Promise((r) => setTimeout(r, 50)); }
    }
    ${body}
  },
  concurrency: 2,
  permissions: { read: [${JSON.stringify(dir)}] },
});`;
      const steps = await driveKernel([
        { code: create("return x + 1;") },
        { code: `const first = await knot.map([1, 2, 3]);` },
        { code: create("return x * 100;") },
        { code: `const second = await knot.map([1, 2, 3]);\nString(first.finished)` },
        {
          code: `await Deno.writeTextFile(${JSON.stringify(gate)}, "");
console.log(JSON.stringify([await first.results(), await second.results()]));`,
        },
      ], { CLOUDKNOT_LOCAL_DIR: join(dir, "knots") });
      for (const step of steps) assert.equal(outputText(step.outputs, "error"), "");
      assert.equal(outputText(steps[3]!.outputs, "execute_result"), '"false"');
      assert.equal(outputText(steps[4]!.outputs, "stdout").trim(), "[[2,3,4],[100,200,300]]");
      // Each map made one progress display, in its own cell.
      const made = (step: number) =>
        steps[step]!.outputs.filter((o) => o.output_type === "display_data").map((o) =>
          o.display_id
        );
      assert.equal(made(1).length, 1);
      assert.equal(made(3).length, 1);
      assert.notEqual(made(1)[0], made(3)[0]);
    }),
);
