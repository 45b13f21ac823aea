import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { formatProgress, summarizeRun } from "../../../src/run/mod.ts";
import { RUNNING_FILE } from "../../../src/targets/local/running_file.ts";
import { findLocalKnot } from "../../../src/targets/local/catalog.ts";
import { LocalTarget } from "../../../src/targets/local/local_target.ts";
import { pathExists } from "../../../src/util/read_text.ts";
import { CLI, denoChild, killChild, startForLine } from "../../support/deno_child.ts";
import { runUntil } from "../../support/run_until.ts";

/**
 * Starts `tests/fixtures/held_client.ts`: its 4 items run 2 at a time until `release` exists;
 * with `ends`, it writes there how each ended.
 */
function startHeld(dir: string, release: string, ends?: string) {
  return startForLine([
    "run",
    "-A",
    new URL("../../fixtures/held_client.ts", import.meta.url).href,
    dir,
    release,
    ...(ends === undefined ? [] : [ends]),
  ]);
}

Deno.test("a handle that follows a live run in another process shows the items that process runs, in its counts, progress line and view", async () => {
  const base = await Deno.makeTempDir({ prefix: "cloudknot-follow-" });
  try {
    const dir = join(base, "knots");
    const release = join(base, "release");
    const { child, line: runId } = await startHeld(dir, release);
    const knot = await Knot.create({ name: "held", dir });
    const followed = await knot.collect(runId, { progress: false });
    // The items end once released, or by themselves after 30 s: what the handle showed meanwhile
    // is kept.
    let line = "";
    let view = "";
    await runUntil(followed, () => followed.counts.running === 2 || followed.finished);
    if (followed.counts.running === 2) {
      line = formatProgress(followed, Date.now());
      view = summarizeRun(followed);
    }
    await Deno.writeTextFile(release, "");
    assert.match(line, /^held: 0\/4 done · 2 running/, "the other process's items were running");
    assert.match(view, /: 0\/4 done, 2 running · /);
    assert.deepEqual(await followed.results(), [0, 1, 2, 3]);
    assert.equal(followed.counts.running, 0);
    assert.equal((await child.status).code, 0);
    await knot.clobber();
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

/** `cloudknot jobs held <runId> --json` in a new process: its counts and each item's status. */
async function jobsElsewhere(dir: string, runId: string) {
  const out = await denoChild(["run", "-A", "--quiet", CLI, "jobs", "held", runId, "--json"], {
    CLOUDKNOT_LOCAL_DIR: dir,
    CLOUDKNOT_CONFIG_FILE: join(dir, "cloudknot.ini"),
  });
  assert.equal(out.code, 0, out.stderr);
  const view = JSON.parse(out.stdout);
  return {
    counts: view.counts,
    statuses: view.items.map((item: { status: string }) => item.status),
  };
}

Deno.test("cloudknot jobs shows the items a live run's process runs, and none once that process was killed, though its last word said they ran", async () => {
  const base = await Deno.makeTempDir({ prefix: "cloudknot-follow-dead-" });
  try {
    const dir = join(base, "knots");
    const { child, line: runId } = await startHeld(dir, join(base, "never"));
    // Followed here until it shows the items running (or they ended by themselves), then left.
    const stop = new AbortController();
    const knot = await Knot.create({ name: "held", dir });
    const followed = await knot.collect(runId, { progress: false, signal: stop.signal });
    await runUntil(followed, () => followed.counts.running === 2 || followed.finished);
    stop.abort();
    const live = await jobsElsewhere(dir, runId);
    assert.equal(live.counts.running, 2, "the other process's items were running");
    assert.deepEqual(live.statuses, ["running", "running", "pending", "pending"]);
    // Asked for the output of an item that has not started, cloudknot logs says why there is none.
    const logs = await denoChild(
      ["run", "-A", "--quiet", CLI, "logs", "held", runId, "--item", "3"],
      { CLOUDKNOT_LOCAL_DIR: dir, CLOUDKNOT_CONFIG_FILE: join(dir, "cloudknot.ini") },
    );
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, "");
    assert.match(
      logs.stderr,
      new RegExp(
        `^Item 3 of run ${runId} has not started yet, so it has no output yet: run this command again once it has started$`,
        "m",
      ),
    );
    await killChild(child);
    // What the killed process said last is still there, and not believed.
    const stale = JSON.parse(
      await Deno.readTextFile(join(dir, "held", "runs", runId, RUNNING_FILE)),
    );
    assert.equal(stale.length, 2);
    const dead = await jobsElsewhere(dir, runId);
    assert.deepEqual(dead.statuses, ["pending", "pending", "pending", "pending"]);
    assert.equal(dead.counts.running, 0);
    await knot.clobber();
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("a clobber stops a run another process runs: that process's items end cancelled, saying the knot was clobbered, before anything is removed", async () => {
  const base = await Deno.makeTempDir({ prefix: "cloudknot-follow-" });
  try {
    const dir = join(base, "knots");
    const ends = join(base, "ends.json");
    const { child } = await startHeld(dir, join(base, "release"), ends);
    const knot = await Knot.create({ name: "held", dir });
    await knot.clobber();
    // The other process let go of its run (its workers stopped) before the clobber went on.
    assert.equal((await child.status).code, 0);
    const ended: string[] = JSON.parse(await Deno.readTextFile(ends));
    assert.equal(ended.length, 4);
    for (const end of ended) {
      assert.match(
        end,
        /^cancelled: Item \d was cancelled: The run stopped because its knot held was clobbered/,
      );
    }
    assert.equal(await pathExists(join(dir, "held")), false);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("a clobber whose other process does not stop its run removes nothing, says to end that process, and takes back its request: the run goes on", async () => {
  const base = await Deno.makeTempDir({ prefix: "cloudknot-follow-" });
  try {
    const dir = join(base, "knots");
    const ends = join(base, "ends.json");
    const release = join(base, "release");
    const { child, line: runId } = await startHeld(dir, release, ends);
    // Stopped (SIGSTOP): it holds its run but cannot answer the request to cancel it.
    child.kill("SIGSTOP");
    try {
      const knot = await findLocalKnot("held", { dir });
      const target = new LocalTarget({
        knot: "held",
        root: knot.root,
        runsRoot: knot.runsRoot,
        artifact: knot.record.artifact,
        concurrency: 1,
        attempts: 1,
        permissions: {},
        clobberWaitMs: 500,
      });
      await assert.rejects(
        target.clobber(),
        new RegExp(
          `^CloudknotError: Knot held was not clobbered: the process that runs its run ${runId} ` +
            `\\(pid ${child.pid}\\) did not stop it within 0.5 s of being asked to cancel it. End that process, then ` +
            `clobber the knot again$`,
        ),
      );
      assert.equal(await pathExists(join(knot.runsRoot, "runs", runId, "run.json")), true);
    } finally {
      child.kill("SIGCONT");
    }
    // Going on, it finds no request: the knot was not clobbered, and its items end as they run.
    await Deno.writeTextFile(release, "");
    assert.equal((await child.status).code, 0);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(ends)), ["ok 0", "ok 1", "ok 2", "ok 3"]);
    await (await Knot.create({ name: "held", dir })).clobber();
    assert.equal(await pathExists(join(dir, "held")), false);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
