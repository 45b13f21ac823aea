// Cancelling a docker run, with real containers: cancel() kills the run's
// containers and settles every item as cancelled, from the handle that drives
// the run or from one that follows it; what a slice's job recorded before its
// container was killed is kept; and a handle that follows a run, like
// cloudknot jobs in another process, shows the items its containers run.
// Under CI=true these tests fail without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { Docker } from "../../../src/docker/docker.ts";
import { CONTAINER_LABELS } from "../../../src/targets/docker/docker_target.ts";
import { job, rejected } from "../../fixtures/docker_job.ts";
import { withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { CLI, denoChild } from "../../support/deno_child.ts";
import { runUntil } from "../../support/run_until.ts";
import { assertCancelledView } from "../../support/cancelled_view.ts";
import { containers, ends, sleepingRun, untilRecorded } from "./docker_runs.ts";

dockerTest(
  "an attempt outlasts the driver's time limit on one docker call; cancel() kills the run's containers and settles every item as cancelled",
  async () => {
    await withDockerKnots("cloudknot-docker-", async ({ dir, baseImage }) => {
      const knot = await Knot.create({
        name: "cancelled",
        target: "docker",
        func: job,
        dir,
        cloudknotDir: dir,
        baseImage,
        // Each docker call may take 4 s here: waiting for a longer attempt asks again.
        docker: new Docker({ logger: () => {}, timeouts: { other: 4_000 } }),
        concurrency: 2,
      });
      const napped = await knot.map(["nap"], { progress: false });
      assert.deepEqual(await napped.results(), ["rested"]);
      const run = await knot.map(["sleep", "sleep", "sleep"], { progress: false });
      const labels = { [CONTAINER_LABELS.run]: run.runId };
      while ((await containers(labels)).length < 2) await new Promise((r) => setTimeout(r, 100));
      await run.cancel("enough");
      const settled = await run.settled();
      for (const [i, s] of settled.entries()) assert.equal(rejected(s, i).kind, "cancelled");
      assert.deepEqual(await containers(labels), [], "no container of the run is left");
      // The cancellation is recorded: a later collect sees it and starts nothing.
      const collected = await knot.collect(run.runId);
      const again = await collected.settled();
      for (const [i, s] of again.entries()) assert.equal(rejected(s, i).kind, "cancelled");
      assert.deepEqual(await containers(labels), []);
      await knot.clobber();
    });
  },
);

dockerTest(
  "cancel() keeps what a slice's job recorded before its container was killed: its items that succeeded are successes on the handle and for a later collect()",
  async () => {
    await withDockerKnots("cloudknot-docker-", async ({ dir, knotOptions }) => {
      const knot = await Knot.create({
        ...knotOptions,
        name: "cancel-keeps",
        func: job,
        concurrency: 1,
      });
      // One container runs the four items one after another: the last sleeps for two minutes.
      const run = await knot.map([1, 2, 3, "sleep"], { itemsPerJob: 4, progress: false });
      await untilRecorded(dir, "cancel-keeps", run.runId, 3);
      await run.cancel("enough");
      const expected = ["ok 1", "ok 4", "ok 9", "cancelled"];
      assert.deepEqual(ends(await run.settled()), expected);
      const later = await knot.collect(run.runId, { progress: false });
      assert.deepEqual(ends(await later.settled()), expected);
      assert.deepEqual(later.counts, run.counts);
      await knot.clobber();
    });
  },
);

dockerTest(
  "cancel() from a handle that follows a run reads what the driver's job recorded before its container was killed: every handle and every later reader see those items succeed",
  async () => {
    await withDockerKnots("cloudknot-docker-", async ({ dir, knotOptions }) => {
      const options = { ...knotOptions, name: "follower-keeps" } as const;
      const knot = await Knot.create({ ...options, func: job, concurrency: 1 });
      const run = await knot.map([1, 2, 3, "sleep"], { itemsPerJob: 4, progress: false });
      // Another handle (as another process's: the run's lock is held by the first), which has
      // read the run once and stopped following it: only its cancel reads the run again.
      const stopped = new AbortController();
      stopped.abort();
      const followed = await (await Knot.create(options)).collect(run.runId, {
        signal: stopped.signal,
      });
      await untilRecorded(dir, "follower-keeps", run.runId, 3);
      await followed.cancel("cancelled by the follower");
      const expected = ["ok 1", "ok 4", "ok 9", "cancelled"];
      assert.deepEqual(ends(await followed.settled()), expected);
      assert.deepEqual(ends(await run.settled()), expected, "the driving handle");
      const later = await (await Knot.create(options)).collect(run.runId, { progress: false });
      assert.deepEqual(ends(await later.settled()), expected);
      assert.deepEqual(later.counts, followed.counts);
      await knot.clobber();
    });
  },
);

dockerTest(
  "cancel() from a handle that follows a run another handle drives stops it there too: every handle and every later reader see the same cancelled items",
  async () => {
    await withDockerKnots("cloudknot-docker-", async (knots) => {
      // One container at a time: the first sleeps, the others wait for it.
      const { options, knot, run, labels } = await sleepingRun(knots, "cancelled-elsewhere", [
        "sleep",
        1,
        2,
        3,
      ]);
      // Another handle (as another process's: the run's lock is held by the first).
      const followed = await (await Knot.create(options)).collect(run.runId);
      await followed.cancel("cancelled by the follower");
      const kinds = (settled: PromiseSettledResult<unknown>[]) =>
        settled.map((s, i) => s.status === "fulfilled" ? "ok" : rejected(s, i).kind);
      const cancelled = ["cancelled", "cancelled", "cancelled", "cancelled"];
      assert.deepEqual(kinds(await followed.settled()), cancelled);
      assert.deepEqual(kinds(await run.settled()), cancelled, "the driving handle went on");
      const later = await (await Knot.create(options)).collect(run.runId);
      assert.deepEqual(kinds(await later.settled()), cancelled);
      assert.deepEqual(await containers(labels), [], "no container of the run is left");
      await knot.clobber();
    });
  },
);

dockerTest(
  "a handle that follows a docker run another handle drives, and cloudknot jobs in another process, show the items its containers run",
  async () => {
    await withDockerKnots("cloudknot-docker-", async ({ dir, knotOptions }) => {
      const options = { ...knotOptions, name: "followed-running" } as const;
      const knot = await Knot.create({ ...options, func: job, concurrency: 2 });
      // Two containers of one item each run (each sleeps for two minutes); the third waits.
      const run = await knot.map(["sleep", "sleep", 1], { itemsPerJob: 1, progress: false });
      await runUntil(run, () => run.counts.running === 2);
      // Another handle (as another process's: the run's lock is held by the first) follows it.
      const stop = new AbortController();
      const followed = await (await Knot.create(options)).collect(run.runId, {
        signal: stop.signal,
        progress: false,
      });
      // (The items end by themselves after two minutes: a handle that never shows them running
      // fails here then.)
      await runUntil(followed, () => followed.counts.running === 2 || followed.finished);
      assert.deepEqual(
        followed.items.map((item) => item.status),
        ["running", "running", "pending"],
      );
      stop.abort();
      const jobs = await denoChild(
        ["run", "-A", "--quiet", CLI, "jobs", "followed-running", run.runId, "--json"],
        { CLOUDKNOT_LOCAL_DIR: dir, CLOUDKNOT_CONFIG_FILE: join(dir, "cloudknot.ini") },
      );
      assert.equal(jobs.code, 0, jobs.stderr);
      const view = JSON.parse(jobs.stdout);
      assert.equal(view.counts.running, 2, jobs.stdout);
      assert.deepEqual(
        view.items.map((item: { status: string }) => item.status),
        ["running", "running", "pending"],
      );
      await run.cancel("enough");
      await knot.clobber();
    });
  },
);

dockerTest(
  "the job view shows items cancelled before their container started as cancelled with no attempt, and the one cancelled as it ran with its attempt, on the handle and on a later collect()",
  async () => {
    await withDockerKnots("cloudknot-docker-", async (knots) => {
      const { knot, run } = await sleepingRun(knots, "cancel-view", ["sleep", "sleep", "sleep"]);
      let ran: number | undefined;
      await runUntil(run, () => (ran = run.items.find((i) => i.status === "running")?.index) === 0);
      await run.cancel("enough");
      const later = await knot.collect(run.runId, { progress: false });
      await later.done;
      assertCancelledView([run, later], ran!);
      await knot.clobber();
    });
  },
);
