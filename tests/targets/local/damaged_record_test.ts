// A record damaged on disk (its bytes changed after it was written) is the item's error in words
// about the file, not the codec's advice to a caller who passed it bytes, and a retry runs it.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot, MapError } from "../../../mod.ts";
import { RUN_FILES } from "../../../src/targets/local/run_dir.ts";
import { rejects } from "../../support/rejects.ts";

Deno.test("a record damaged on disk fails its item saying the run's log is damaged, and a retry runs it again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-damaged-record-" });
  try {
    const knot = await Knot.create({ name: "worn", dir, func: (x: number) => x + 1 });
    const run = await knot.map([1], { progress: false });
    assert.deepEqual(await run.results(), [2]);
    const records = join(dir, "worn", "runs", run.runId, RUN_FILES.records);
    const bytes = await Deno.readFile(records);
    // The first byte of the record after its 12-byte head: no longer UTF-8.
    bytes[12] = 0xff;
    await Deno.writeFile(records, bytes);
    const error = await rejects((await knot.collect(run.runId)).results(), MapError);
    const message = error.errors[0]!.message;
    assert.match(message, /The record of item 0 in the run's log is damaged \(a disk fault/);
    assert.match(message, /a retry of the run runs the item again/);
    assert.doesNotMatch(message, /encode\(\)/);
    const again = await (await knot.collect(run.runId)).retry({ progress: false });
    assert.deepEqual(await again.results(), [2]);
    await knot.clobber();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
