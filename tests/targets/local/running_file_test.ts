import assert from "node:assert/strict";
import { join } from "node:path";
import { MapRun } from "../../../mod.ts";
import type { RunningAttempt } from "../../../src/job/pool.ts";
import {
  FollowedRunning,
  publishRunning,
  readRunning,
  RUNNING_FILE,
} from "../../../src/targets/local/running_file.ts";

Deno.test("a run's running file says what its workers run, and is gone once the run is done", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let running: RunningAttempt[] = [{ index: 7, attempt: 2, startedAt: 1_000 }];
    const done = Promise.withResolvers<void>();
    publishRunning(dir, () => running, done.promise);
    const path = join(dir, RUNNING_FILE);
    while (readRunning(dir).length === 0) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(readRunning(dir), running);
    running = [{ index: 3, attempt: 1, startedAt: 2_000 }, { index: 1, attempt: 1, startedAt: 0 }];
    while (readRunning(dir)[0]?.index !== 1) await new Promise((r) => setTimeout(r, 20));
    // By item.
    assert.deepEqual(readRunning(dir), [running[1], running[0]]);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    done.resolve();
    await done.promise;
    await new Promise((r) => setTimeout(r, 0));
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a running file that is missing or damaged says nothing runs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.deepEqual(readRunning(dir), []);
    const cases: [string, RunningAttempt[]][] = [
      ["[[1, 1, 5]", []],
      ["{}", []],
      ['[[1, "1", 5], [2, 1], 7, [3, 1, 4]]', [{ index: 3, attempt: 1, startedAt: 4 }]],
    ];
    for (const [text, expected] of cases) {
      await Deno.writeTextFile(join(dir, RUNNING_FILE), text);
      assert.deepEqual(readRunning(dir), expected, text);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a following handle shows running the items the running process lists, from when they started, and pending again the ones it no longer lists without a record", () => {
  const { run, control } = MapRun.create<number>({
    knot: "k",
    runId: "r",
    target: "local",
    total: 3,
    attempts: 2,
  });
  const followed = new FollowedRunning(control);
  followed.show([{ index: 0, attempt: 1, startedAt: 5_000 }, {
    index: 2,
    attempt: 2,
    startedAt: 6_000,
  }]);
  assert.deepEqual(
    { running: run.counts.running, pending: run.counts.pending },
    { running: 2, pending: 1 },
  );
  assert.deepEqual(run.itemView(2), {
    index: 2,
    status: "running",
    attempts: 2,
    startedAt: 6_000,
  });
  control.settle({
    version: 1,
    status: "ok",
    index: 0,
    attempt: 1,
    jobId: "j",
    endedAt: 7_000,
    value: 0,
  });
  // Item 0 ended (its record says so), item 2 stopped without one (its process died).
  followed.show([{ index: 0, attempt: 1, startedAt: 5_000 }]);
  assert.deepEqual(run.counts, {
    total: 3,
    pending: 2,
    running: 0,
    succeeded: 1,
    failed: 0,
    cancelled: 0,
    retried: 0,
  });
  assert.equal(run.itemView(2)!.status, "pending");
});
