// Items a run's process could not start workers for: the handle, a later reader and a later
// collect() agree on what they are (src/job/pool.ts neverRan, src/targets/local/local_target.ts).
import assert from "node:assert/strict";
import { join } from "node:path";
import { ItemError, Knot } from "../../../mod.ts";
import { CLI, denoChild } from "../../support/deno_child.ts";

/** `cloudknot <args>` in a new process, with the knots in `dir`. */
function cli(dir: string, args: string[]) {
  return denoChild(["run", "-A", "--quiet", CLI, ...args], {
    CLOUDKNOT_LOCAL_DIR: dir,
    CLOUDKNOT_CONFIG_FILE: join(dir, "cloudknot.ini"),
  });
}

Deno.test("items whose workers could not load the function fail saying how to run them, a reader of the run sees them failed, not pending, and collect() runs the same attempt once that is fixed", async () => {
  const base = await Deno.makeTempDir({ prefix: "cloudknot-unstarted-" });
  try {
    const dir = join(base, "knots");
    const flag = join(base, "flag");
    const module = join(base, "gated.ts");
    // A module that cannot load until the flag file exists, as after a fix.
    await Deno.writeTextFile(
      module,
      `try { Deno.statSync(${
        JSON.stringify(flag)
      }); } catch { throw new Error("no flag yet"); }\n` +
        "export function same(x: number): number { console.log(`item ${x}`); return x; }\n",
    );
    await Deno.writeTextFile(flag, "");
    const knot = await Knot.create({
      name: "gated",
      dir,
      module,
      exportName: "same",
      retries: 3,
      permissions: { read: [flag] },
    });
    await Deno.remove(flag);
    const run = await knot.map([0, 1, 2], { progress: false });
    const settled = await run.settled();
    const advice =
      `Cannot load the function: .*no flag yet.*\\. The item never ran: once that is ` +
      `fixed, collect the run again \\(knot\\.collect\\("${run.runId}"\\) of knot gated\\) to run ` +
      `it with the same function, or, with a mended function the knot is created again with, ` +
      `map it again with run\\.retry\\(\\) on the run's handle`;
    for (const s of settled) {
      assert.equal(s.status, "rejected");
      const reason = (s as { reason: ItemError }).reason;
      assert.ok(reason instanceof ItemError);
      assert.equal(reason.kind, "infrastructure");
      assert.match(reason.message, new RegExp(advice));
    }
    assert.equal(run.counts.failed, 3);

    // A reader that does not finish the run (cloudknot jobs) sees what the handle saw, not
    // items pending for a retry no one runs.
    const jobs = await cli(dir, ["jobs", "gated", run.runId, "--json"]);
    assert.equal(jobs.code, 0, jobs.stderr);
    const view = JSON.parse(jobs.stdout);
    assert.equal(view.counts.failed, 3, jobs.stdout);
    assert.equal(view.counts.pending, 0, jobs.stdout);
    assert.deepEqual(
      view.items.map((item: { status: string }) => item.status),
      ["failed", "failed", "failed"],
    );

    // A collect() that finishes the run runs the attempt that never ran again: in the command
    // line's words, the error says how.
    const again = await cli(dir, ["results", "gated", run.runId]);
    assert.notEqual(again.code, 0);
    assert.match(
      again.stdout + again.stderr,
      new RegExp(
        `The item never ran: once that is fixed, run cloudknot results gated ${run.runId} to ` +
          `run it with the same function, or, with a mended function the knot is created again ` +
          `with, map it again with cloudknot retry gated ${run.runId}`,
      ),
    );

    // Fixed: it runs them, as their first attempt, which never ran before.
    await Deno.writeTextFile(flag, "");
    const finished = await knot.collect(run.runId, { progress: false });
    assert.deepEqual(await finished.results(), [0, 1, 2]);
    assert.equal(finished.itemView(0)!.attempts, 1);
    // The log holds two records of attempt 1 of each item, the one that never ran first: every
    // reader takes the last. Its logs are the attempt that ran; what the run used counts each
    // item's one attempt that ran, succeeded, not one that failed beside it.
    assert.deepEqual(await Array.fromAsync(finished.logs(2, { attempt: 1 })), ["item 2"]);
    const usage = await finished.usage();
    assert.deepEqual(
      usage.attempts.map((a) => [a.index, a.attempt, a.outcome]),
      [[0, 1, "succeeded"], [1, 1, "succeeded"], [2, 1, "succeeded"]],
    );
    const after = await cli(dir, ["jobs", "gated", run.runId, "--json"]);
    assert.equal(after.code, 0, after.stderr);
    assert.equal(JSON.parse(after.stdout).counts.succeeded, 3, after.stdout);
    await knot.clobber();
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
