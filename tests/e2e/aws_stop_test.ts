// TerminateJob of a running child, against the emulator with real Docker
// containers: Batch stops the task through ECS, which sends SIGTERM and only
// after the container stop timeout SIGKILL (the emulator's `stopTimeoutMs`).
// The job entry then writes the records it holds and exits 143, so the items
// its slice finished keep their results, and the item it was running has no
// record and fails with the job.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ItemError, Knot } from "../../mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import { openS3Store } from "../../src/store/mod.ts";
import { startEmulator } from "../emulator/mod.ts";
import { sessionFor } from "../support/aws_session.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { readAllRecords } from "../support/records.ts";

/** Numbers return at once; `"slow"` says it started, then sleeps far longer than the test. */
async function work(x: number | string): Promise<number> {
  if (x === "slow") {
    console.log("slow started");
    await new Promise((r) => setTimeout(r, 600_000));
  }
  return (x as number) * 10;
}

dockerTest(
  "a child terminated while it runs gets SIGTERM first: it writes the records of the items it finished and exits 143",
  async () => {
    // Far longer than the job needs to write and exit: a SIGKILL would show as 137.
    const emu = await startEmulator({
      runner: "docker",
      ceValidDelayMs: 30,
      stopTimeoutMs: 20_000,
    });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-e2e-stop-" });
    try {
      const session = await sessionFor(emu);
      const knot = await Knot.create({
        name: "stopper",
        target: "aws",
        func: work,
        baseImage: await ensureBaseImage(),
        repoName: "stopper-images",
        vcpus: 1,
        session,
        state: new StateFile({ path: join(dir, "cloudknot") }),
        cloudknotDir: join(dir, "home"),
        pollInterval: 100,
      });
      // One child of three items, one at a time: 1 and 2 end before "slow" starts.
      const run = await knot.map([1, 2, "slow"], { itemsPerJob: 3, progress: false });
      const started = () =>
        [...emu.logs.groups.values()].some((g) =>
          [...g.streams.values()].some((s) =>
            s.events.some((e) => e.message.includes("slow started"))
          )
        );
      while (!started()) await new Promise((r) => setTimeout(r, 20));
      // The child is the run's one job (a slice of its own).
      const child = [...emu.batch.jobs.values()].find((j) => j.jobName.includes(run.runId))!;
      await session.batch.terminateJob({ jobId: child.jobId, reason: "Stopped by the test" });

      const [one, two, slow] = await run.settled();
      assert.deepEqual(one, { index: 0, status: "fulfilled", value: 10 });
      assert.deepEqual(two, { index: 1, status: "fulfilled", value: 20 });
      assert.equal(slow!.status, "rejected");
      const reason = (slow as { reason: ItemError }).reason;
      assert.ok(reason instanceof ItemError, String(reason));
      await emu.waitForJobs();
      // What Batch says of the attempt: the container exited 143 (SIGTERM, handled), not 137.
      const attempts = emu.batch.jobs.get(child.jobId)!.attempts;
      assert.equal(attempts.length, 1);
      assert.equal(attempts[0]!.container.exitCode, 143);
      assert.equal(attempts[0]!.statusReason, "Stopped by the test");
      // The finished items' records are in S3; the item that was running has none.
      const aws = knot.aws!;
      const store = await openS3Store(`s3://${aws.bucket}/${aws.prefix}/runs/${run.runId}`, {
        session,
      });
      const records = await readAllRecords(store);
      assert.deepEqual(records.map((r) => [r.index, r.status]).sort(), [[0, "ok"], [1, "ok"]]);
      await run.done;
      await knot.clobber();
    } finally {
      await emu.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
