// A knot clobbered while its run goes on, against the emulator with real
// containers: every reader of the run (the handle that mapped it, another
// handle adopted by name, `cloudknot results` in another process) reads the
// items the clobber stopped as cancelled by the clobber, not as crashed, and
// the items that had finished keep their results.
import assert from "node:assert/strict";
import { join } from "node:path";
import { CloudknotInputError, Knot } from "../../../mod.ts";
import { StateFile } from "../../../src/state/mod.ts";
import { describeJobs } from "../../../src/targets/aws/batch/jobs.ts";
import { knotClobberedWhy } from "../../../src/targets/aws/catalog.ts";
import { sessionFor } from "../../support/aws_session.ts";
import { ensureBaseImage } from "../../support/base_image.ts";
import { rejects } from "../../support/rejects.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { withAwsHome } from "../../cli/aws_helpers.ts";
import { lines, ndjson, spawnCli } from "../../cli/helpers.ts";

async function nap(ms: number): Promise<number> {
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  return ms;
}

dockerTest(
  "a knot clobbered while its run goes on: every reader, in this process or another, reads the stopped items as cancelled by the clobber, and the finished ones keep their results",
  async () => {
    await withAwsHome(async (home) => {
      const { emu } = home;
      const session = await sessionFor(emu);
      const state = new StateFile({ path: home.configFile });
      const common = {
        name: "napping",
        target: "aws" as const,
        session,
        state,
        cloudknotDir: join(home.dir, "ck"),
        pollInterval: 50,
        warn: () => {},
      };
      const knot = await Knot.create({
        ...common,
        func: nap,
        baseImage: await ensureBaseImage(),
        compute: "FARGATE",
        vcpus: 0.25,
        memory: 512,
      });
      const run = await knot.map([0, 0, 600_000, 600_000], { progress: false, itemsPerJob: 1 });
      // Another handle adopts the knot by name and follows the run.
      const other = await Knot.create(common);
      const seen = await other.collect(run.runId);
      const deadline = Date.now() + 120_000;
      // Items 0 and 1 recorded, and their containers exited: a child whose container is
      // still exiting when the clobber stops it ends FAILED in Batch, its item's result kept.
      const exited = () =>
        [...emu.batch.jobs.values()].filter((j) =>
          j.jobName.startsWith(`napping-${run.runId}-`) && j.parent !== undefined &&
          j.status === "SUCCEEDED"
        ).length;
      while (seen.counts.succeeded < 2 || seen.counts.running < 2 || exited() < 2) {
        if (Date.now() > deadline) throw new Error(`the run did not get going: ${seen}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      // And another process waits for its results on the command line.
      const results = spawnCli(home, ["results", "napping", run.runId]);
      const stderr = lines(results.stderr);
      const said: string[] = [];
      while (!said.at(-1)?.startsWith(`Waiting for run ${run.runId}`)) {
        const { value, done } = await stderr.read();
        if (done) throw new Error(`cloudknot results did not wait: ${said.join("\n")}`);
        said.push(value);
      }
      const printed = new Response(results.stdout).text();

      await knot.clobber();

      const settled = await seen.settled();
      assert.deepEqual(settled.slice(0, 2), [
        { index: 0, status: "fulfilled", value: 0 },
        { index: 1, status: "fulfilled", value: 0 },
      ]);
      for (const s of settled.slice(2)) {
        assert.ok(s.status === "rejected");
        assert.equal(s.reason.kind, "cancelled", s.reason.message);
        assert.ok(
          s.reason.message.endsWith(`was stopped by cloudknot: ${knotClobberedWhy("napping")}`),
          s.reason.message,
        );
        assert.equal(s.reason.exitCode, 143);
        // Named apart from other cancels: no retry runs them, as the knot is gone.
        assert.equal(s.reason.remote.name, "KnotClobberedError");
      }
      // So no retry is offered: the run's own handle refuses one, saying to make the knot again.
      const refused = await rejects(run.retry(), CloudknotInputError);
      assert.match(
        refused.message,
        /its knot napping was clobbered while it ran\. Create the knot again/,
      );
      // The handle that mapped reads the same.
      const mine = await run.settled();
      assert.deepEqual(mine.map((s) => s.status === "rejected" ? s.reason.kind : s.value), [
        0,
        0,
        "cancelled",
        "cancelled",
      ]);
      // So does `cloudknot results`, in its own process.
      const out = ndjson(await printed);
      const summary: string[] = [];
      for (let line = await stderr.read(); !line.done; line = await stderr.read()) {
        summary.push(line.value);
      }
      assert.equal((await results.status).code, 1);
      // Its summary says to make the knot again and map them, never to retry them.
      assert.ok(
        summary.includes(
          "2 of 4 items were cancelled as knot napping was clobbered while the run ran: 2, 3; make " +
            "the knot again (cloudknot knot create, or cloudknot map of its module), then map them again",
        ),
        summary.join("\n"),
      );
      assert.ok(!summary.some((l) => l.includes("cloudknot retry")), summary.join("\n"));
      assert.deepEqual(out.slice(0, 2), [{ index: 0, value: 0 }, { index: 1, value: 0 }]);
      for (const line of out.slice(2)) {
        const error = line.error as Record<string, unknown>;
        assert.equal(error.kind, "cancelled", JSON.stringify(line));
        // In the command line's words: the command that makes the knot again.
        assert.match(
          String(error.summary),
          /was stopped by cloudknot: Knot napping was clobbered: to run these items again, create the knot with cloudknot knot create napping MODULE EXPORT --target aws and map them again$/,
        );
      }
      // What Batch says of each child, as `cloudknot jobs` reads it: the clobber's reason.
      const children = [...emu.batch.jobs.values()]
        .filter((j) => j.jobName.startsWith(`napping-${run.runId}-`) && j.parent !== undefined);
      const described = await describeJobs(session.batch, children.map((c) => c.jobId));
      assert.deepEqual(
        [...described.values()].map((d) => [d.arrayProperties?.index, d.status, d.statusReason])
          .sort(),
        [
          [0, "SUCCEEDED", "Essential container in task exited"],
          [1, "SUCCEEDED", "Essential container in task exited"],
          [2, "FAILED", `cloudknot: ${knotClobberedWhy("napping")}`],
          [3, "FAILED", `cloudknot: ${knotClobberedWhy("napping")}`],
        ],
      );
    }, { runner: "docker", ceValidDelayMs: 30, concurrency: 4 });
  },
);

dockerTest(
  "a knot clobbered while its jobs still wait in RUNNABLE ends their items as a KnotClobberedError, whose run no retry runs again",
  async () => {
    await withAwsHome(async (home) => {
      const { emu } = home;
      const knot = await Knot.create({
        name: "queued",
        target: "aws",
        session: await sessionFor(emu),
        state: new StateFile({ path: home.configFile }),
        cloudknotDir: join(home.dir, "ck"),
        pollInterval: 50,
        warn: () => {},
        func: nap,
        baseImage: await ensureBaseImage(),
      });
      const run = await knot.map([0, 0], { progress: false, itemsPerJob: 1 });
      // The account's vCPU quota leaves no room: the jobs wait in RUNNABLE.
      const deadline = Date.now() + 60_000;
      while (
        ![...emu.batch.jobs.values()].some((j) =>
          j.jobName.startsWith(`queued-${run.runId}`) && j.status === "RUNNABLE"
        )
      ) {
        if (Date.now() > deadline) throw new Error("the jobs never waited in RUNNABLE");
        await new Promise((r) => setTimeout(r, 50));
      }
      await knot.clobber();
      for (const s of await run.settled()) {
        assert.ok(s.status === "rejected");
        assert.equal(s.reason.kind, "cancelled", s.reason.message);
        assert.equal(s.reason.remote.name, "KnotClobberedError", s.reason.message);
      }
      const refused = await rejects(run.retry(), CloudknotInputError);
      assert.match(refused.message, /its knot queued was clobbered while it ran\. Create the knot/);
    }, { runner: "docker", ceValidDelayMs: 30, vcpuQuota: 0 });
  },
);
