// The docker target's job contract, with real containers: a knot's image runs
// on the local Docker engine as AWS Batch runs a job (command, environment,
// payload layout, stamped records, exit codes), failures are typed and
// retried as on Batch (a throw, a crash, OOM, a timeout), each attempt's log
// is kept, and clobber leaves nothing behind. Base images come from
// tests/support/base_image.ts; under CI=true these tests fail without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { CONTAINER_LABELS } from "../../../src/targets/docker/docker_target.ts";
import { job, rejected } from "../../fixtures/docker_job.ts";
import { knotImage, withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { inCliWords } from "../../../src/cli/common/cli_words.ts";
import { containers, quiet, recordKeys } from "./docker_runs.ts";

dockerTest(
  "a docker knot runs its image as Batch would: results in order, typed and retried failures, OOM, timeout, logs; clobber leaves nothing",
  async (t) => {
    await withDockerKnots("cloudknot-docker-", async ({ dir, knotOptions }) => {
      // A timeout no item reaches, however loaded the machine: each item here ends on its own (a
      // value, a throw, a crash, its memory), so what it proves never races the clock. The
      // timeout case is a run of its own, below, of an item that never ends.
      const knot = await Knot.create({
        ...knotOptions,
        name: "contract",
        func: job,
        concurrency: 2,
        retries: 2,
        timeout: 3600,
        memory: 128,
      });
      assert.equal(knot.target, "docker");
      const root = join(dir, "contract");
      const image = await knotImage(dir, "contract");
      assert.ok(await quiet.inspectImage(image), "the image was built locally");
      // The same knot, adopted with a 4 s timeout: its one item sleeps two minutes, so its timeout
      // ends it whatever the machine's load.
      const timedKnot = await Knot.create({
        name: "contract",
        target: "docker",
        dir,
        retries: 2,
        timeout: 4,
      });

      const inputs = [1, "throw", 2, "crash", "oom", "env", 3];
      // One item per container, as a Batch child of one item (slices: slices_test.ts).
      const run = await knot.map(inputs, {
        env: { MODE: "test" },
        itemsPerJob: 1,
        progress: false,
      });
      const timed = await timedKnot.map(["sleep"], { itemsPerJob: 1, progress: false });
      assert.equal(run.target, "docker");
      const [settled, timedSettled] = await Promise.all([run.settled(), timed.settled()]);
      const runDir = join(root, "runs", run.runId);

      await t.step("results come back in input order", () => {
        for (const [index, value] of [[0, 1], [2, 4], [6, 9]] as const) {
          assert.deepEqual(settled[index], { index, status: "fulfilled", value });
        }
      });

      await t.step("each container gets a Batch array child's environment", () => {
        assert.deepEqual(settled[5], {
          index: 5,
          status: "fulfilled",
          value: ["5", "1", `${run.runId}:5`, "3600", "test"],
        });
      });

      await t.step(
        "a throw is retried, then fails with the function's error and exit code 1",
        () => {
          const e = rejected(settled[1]!, 1);
          assert.equal(e.kind, "threw");
          assert.equal(e.remote.name, "RangeError");
          assert.equal(e.attempt, 2);
          assert.equal(e.exitCode, 1);
        },
      );

      await t.step("a worker that exits without a record is a crash, retried", () => {
        const e = rejected(settled[3]!, 3);
        assert.equal(e.kind, "crashed");
        // The container's entry runs the item in a worker process, which Deno.exit() ends.
        assert.equal(e.remote.name, "WorkerCrashedError");
        assert.equal(e.attempt, 2);
        assert.equal(e.exitCode, 7);
      });

      await t.step("an OOM-killed container gives Batch's OutOfMemoryError", () => {
        const e = rejected(settled[4]!, 4);
        assert.equal(e.kind, "crashed");
        assert.equal(e.remote.name, "OutOfMemoryError");
        assert.equal(e.exitCode, 137);
        assert.match(e.message, /memory limit is 128 MiB/);
      });

      await t.step("an attempt past the timeout is killed, recorded as a timeout, retried", () => {
        const e = rejected(timedSettled[0]!, 0);
        assert.equal(e.kind, "timeout");
        assert.equal(e.remote.name, "TimeoutError");
        assert.match(
          e.remote.message,
          /^The attempt ran longer than its timeout of 4s and was killed\. Make the item faster, or give it more time with the timeout option of Knot\.create or run\.retry: /,
        );
        // The container is told its knot and run: the advice names them, in both words.
        assert.ok(
          e.remote.message.includes(
            `run.retry({ timeout: 8 }) on the run's handle (knot.collect("${timed.runId}") of ` +
              `knot contract) maps the run's failed items again`,
          ),
          e.remote.message,
        );
        assert.ok(
          inCliWords(e).includes(
            `cloudknot retry contract ${timed.runId} --timeout 8 maps the run's failed items again`,
          ),
          inCliWords(e),
        );
        assert.equal(e.attempt, 2);
        assert.equal(e.exitCode, 124);
      });

      await t.step("the counts show one retry per failed item", () => {
        assert.equal(run.counts.retried, 3);
        assert.equal(run.counts.failed, 3);
        assert.equal(run.counts.succeeded, 4);
        assert.deepEqual(
          [timed.counts.retried, timed.counts.failed, timed.counts.succeeded],
          [1, 1, 0],
        );
      });

      await t.step("each attempt's output is kept as its log", async () => {
        assert.ok((await Array.fromAsync(run.logs(0))).includes("squaring 1"));
        const second = await Array.fromAsync(run.logs(1, { attempt: 2 }));
        assert.ok(second.some((l) => l.includes("no such item")), second.join("\n"));
      });

      await t.step("the run's directory is private and holds stamped records", async () => {
        assert.equal((await Deno.stat(runDir)).mode! & 0o777, 0o700);
        const keys = await recordKeys(runDir);
        // 4 items that ended at once, 3 that took two attempts.
        assert.equal(keys.length, 10);
        assert.ok(keys.every((k) => k.stamp !== undefined), "every key is stamped");
      });

      await t.step("what the run used is read from its records, as CPU-seconds here", async () => {
        const usage = await run.usage();
        assert.equal(usage.attempts.length, 10);
        assert.equal(usage.attempts.filter((a) => a.outcome === "retried").length, 3);
        const cost = (await run.cost()).toString();
        assert.match(cost, /^Cost of contract run \S+ \(docker\):/);
        assert.match(cost, /CPU-seconds/);
        assert.match(cost, /running on this machine's Docker engine costs no money/);
      });

      await t.step("no container is left once the run is done", async () => {
        assert.deepEqual(await containers({ [CONTAINER_LABELS.run]: run.runId }), []);
        assert.deepEqual(await containers({ [CONTAINER_LABELS.run]: timed.runId }), []);
      });

      await t.step("collect() from a new handle reads the run and runs nothing", async () => {
        const again = await Knot.create({ name: "contract", target: "docker", dir });
        const collected = await again.collect(run.runId);
        assert.deepEqual(await collected.settled(), settled);
        assert.equal((await recordKeys(runDir)).length, 10);
        assert.deepEqual(
          (await again.runs()).map((r) => r.runId).sort(),
          [run.runId, timed.runId].sort(),
        );
      });

      await t.step(
        "retry() runs the failed items again as a new run, with their own memory",
        async () => {
          const retried = await run.retry({ memory: "double", progress: false });
          const again = await retried.settled();
          assert.deepEqual(again[2], { index: 2, status: "fulfilled", value: 4 });
          assert.equal(rejected(again[1]!, 1).remote.name, "RangeError");
          // The item that ran out of memory got twice the knot's.
          assert.match(rejected(again[4]!, 4).message, /memory limit is 256 MiB/);
        },
      );

      await t.step("clobber removes the containers, the image and the knot's data", async () => {
        await knot.clobber();
        assert.deepEqual(await containers({ [CONTAINER_LABELS.knot]: root }), []);
        assert.equal(await quiet.inspectImage(image), undefined);
        await assert.rejects(Deno.stat(root), Deno.errors.NotFound);
      });
    });
  },
);
