// The submission mark a map on AWS holds beside the config file, when the
// map is killed (SIGKILL) part-way and no reader of the run comes: gc lists
// and removes it once the run's submission window is over from the last job
// the map submitted, and never while that window runs, nor the mark of a
// live map, nor for another config file.
import assert from "node:assert/strict";
import { join } from "node:path";
import { deleteGarbage, findLocalGarbage } from "../../../src/resources/mod.ts";
import { SUBMIT_WINDOW_MS, submitMarkName } from "../../../src/resources/_submit_marks.ts";
import { StateFile } from "../../../src/state/mod.ts";
import { Docker } from "../../../src/docker/mod.ts";
import { killAt } from "../../support/kill_at.ts";
import { forgetKnotSubmitMarks } from "../../../src/targets/aws/submit_mark.ts";
import { job, mapInChild, startTestBed } from "./helpers.ts";

/** Makes a mark's file look untouched for twice the submission window. */
async function age(file: string): Promise<void> {
  const past = new Date(Date.now() - 2 * SUBMIT_WINDOW_MS);
  await Deno.utime(file, past, past);
}

Deno.test("gc removes the submission mark a killed map left once the run's submission window is over since its last job, and keeps it before, while a map holds it, and for another config file", async () => {
  const bed = await startTestBed(job);
  const live = Promise.withResolvers<void>();
  try {
    const local = {
      state: bed.state,
      localDir: join(bed.dir, "knots"),
      docker: new Docker({ logger: () => {} }),
    };
    const marks = async (state = bed.state) =>
      (await findLocalGarbage({ ...local, state })).filter((g) => g.kind === "submit-mark");
    // Killed with its second job's SubmitJob sent: its mark's file was touched when the first
    // job was submitted, after the mark was taken.
    let mark = "";
    await killAt(
      bed.emu,
      { service: "batch", operation: "SubmitJob", nth: 2 },
      () => mapInChild(bed, [1, 2, 3], { maxArraySize: 2 }),
      async () => {
        const [manifest] = await bed.target().runs();
        mark = await bed.state.holdFile(submitMarkName(bed.knot, manifest!.runId));
        const [first] = [...bed.emu.batch.jobs.values()];
        const touched = (await Deno.stat(mark)).mtime!.getTime();
        assert.ok(touched >= first!.createdAt, "the mark is touched as a job is submitted");
      },
    );
    const [manifest] = await bed.target().runs();
    const name = submitMarkName(bed.knot, manifest!.runId);
    // Within the run's submission window a reader may still need it.
    assert.deepEqual(await marks(), []);
    await age(mark);
    const found = await marks();
    assert.deepEqual(found.map((g) => [g.kind, g.id, g.owner]), [
      ["submit-mark", name, `knot ${bed.knot}`],
    ]);
    assert.match(found[0]!.reason, /a map killed while it submitted run .* left/);
    // Another config file's gc knows nothing of it.
    assert.deepEqual(await marks(new StateFile({ path: join(bed.dir, "other") })), []);

    // A map that lives, held at its first SubmitJob: its mark is never garbage, however old.
    const held = bed.emu.faults.add({
      service: "batch",
      operation: "SubmitJob",
      kind: "latency",
      until: live.promise,
      times: 1,
    });
    const child = mapInChild(bed, [4], { maxArraySize: 2 });
    const out = Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
    while (bed.emu.faults.list().find((f) => f.id === held)?.hits !== 1) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const runs = await bed.target().runs();
    const liveName = submitMarkName(bed.knot, runs.at(-1)!.runId);
    assert.notEqual(liveName, name);
    await age(await bed.state.holdFile(liveName));
    assert.deepEqual((await marks()).map((g) => g.id), [name]);
    const asked = await deleteGarbage(
      [{ kind: "submit-mark", id: liveName, reason: "asked" }],
      local,
    );
    assert.match(asked.failed[0]?.error ?? "", /was kept: a live process holds it/);
    live.resolve();
    assert.equal((await child.status).code, 0, (await out).join("\n"));

    // The dead map's mark is removed, and nothing else.
    const result = await deleteGarbage(found, local);
    assert.deepEqual(result.deleted.map((g) => g.id), [name]);
    assert.equal(await Deno.stat(mark).then(() => true, () => false), false);
    assert.deepEqual(await bed.state.holdsLeft(), []);
    assert.deepEqual(await marks(), []);
  } finally {
    live.resolve();
    await bed.close();
  }
});

Deno.test("a reader that finds every job of a killed map's run removes the mark the map left", async () => {
  const bed = await startTestBed(job);
  try {
    // Killed with its last job's SubmitJob sent: every job reaches Batch, the manifest does not
    // get them.
    await killAt(
      bed.emu,
      { service: "batch", operation: "SubmitJob", nth: 2 },
      () => mapInChild(bed, [1, 2, 3], { maxArraySize: 2 }),
    );
    const [manifest] = await bed.target().runs();
    const mark = await bed.state.holdFile(submitMarkName(bed.knot, manifest!.runId));
    assert.equal(await Deno.stat(mark).then(() => true, () => false), true);
    const run = await bed.target().collect(manifest!.runId);
    assert.deepEqual(await run.results(), [1, 4, 9]);
    assert.equal(await Deno.stat(mark).then(() => true, () => false), false);
    assert.deepEqual(await bed.state.holdsLeft(), []);
  } finally {
    await bed.close();
  }
});

Deno.test("a knot's marks that no map holds are forgotten at its clobber, and no other knot's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-marks-" });
  try {
    const state = new StateFile({ path: join(dir, "cloudknot") });
    const names = [
      submitMarkName("squares", "20260101T000000Z-aaaaaa"),
      submitMarkName("squares", "20260101T000000Z-bbbbbb"),
      submitMarkName("squares-2", "20260101T000000Z-cccccc"),
    ];
    // Marks their maps left (killed): files whose lock no process holds.
    for (const name of names) await Deno.writeTextFile(await state.holdFile(name), "");
    assert.deepEqual((await state.holdsLeft()).sort(), [...names].sort());
    await forgetKnotSubmitMarks(state, "squares");
    assert.deepEqual(await state.holdsLeft(), [names[2]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
