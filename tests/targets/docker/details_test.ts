// What a slice's container ended with (exit code, status reason, log file)
// reaches every process that reads the run, with real containers: the job
// writes its items' records in segments, which are never rewritten, so the
// driving process saves the container's details beside them and every
// reader merges them. Under CI=true these tests fail without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { Docker } from "../../../src/docker/docker.ts";
import { dockerRuns } from "../../../src/targets/docker/docker_knot.ts";
import { job, rejected } from "../../fixtures/docker_job.ts";
import { ensureBaseImage } from "../../support/base_image.ts";
import { dockerTest } from "../../support/docker_available.ts";

const quiet = new Docker({ logger: () => {} });

/** What a reader says of a failed item: its error and the container's details. */
function details(settled: { status: string }, index: number) {
  const e = rejected(settled, index);
  return {
    name: e.remote.name,
    attempt: e.attempt,
    exitCode: e.exitCode,
    statusReason: e.statusReason,
    logStream: e.logStream,
  };
}

dockerTest(
  "a crashed slice's container details reach a process following the run and one reading it later",
  async () => {
    const baseImage = await ensureBaseImage({ docker: quiet });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-details-" });
    try {
      const knot = await Knot.create({
        name: "details",
        target: "docker",
        func: job,
        dir,
        cloudknotDir: dir,
        baseImage,
        docker: quiet,
        concurrency: 1,
        vcpus: 1,
        retries: 1,
      });
      const root = join(dir, "details");
      const reader = () =>
        dockerRuns({
          root,
          record: JSON.parse(Deno.readTextFileSync(join(root, "knot.json"))),
        }, quiet);
      // One container runs the three items: the job records them in its segments, then exits 1.
      const run = await knot.map(["throw", "crash", 2], { itemsPerJob: 3, progress: false });
      // Another target follows the run while this one drives it.
      const stop = new AbortController();
      const following = await reader().collect(run.runId, { signal: stop.signal, finish: false });
      const driven = await run.settled();
      const followed = await following.settled();
      stop.abort();
      const later = await (await reader().collect(run.runId, { finish: false })).settled();

      assert.deepEqual(driven[2], { index: 2, status: "fulfilled", value: 4 });
      const own = [0, 1].map((i) => details(driven[i]!, i));
      assert.equal(own[0]!.name, "RangeError");
      assert.equal(own[1]!.name, "WorkerCrashedError");
      assert.equal(own[0]!.exitCode, 1, "the container's exit code");
      assert.equal(own[1]!.exitCode, 7, "the worker's own, recorded by the job");
      for (const d of own) {
        assert.equal(d.statusReason, "Essential container in task exited");
        assert.equal(d.logStream, join(root, "runs", run.runId, "logs", "0-1.log"));
      }
      assert.deepEqual([0, 1].map((i) => details(followed[i]!, i)), own, "the follower's");
      assert.deepEqual([0, 1].map((i) => details(later[i]!, i)), own, "a later reader's");
      await knot.clobber();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
