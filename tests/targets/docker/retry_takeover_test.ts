// A docker retry that took over a run whose driving process was killed lets go
// of it when its signal aborts, as that process did: it rejects with the
// signal's reason while the container it adopted still runs, which goes on, no
// container of the run starts after the abort, and a later reading takes the
// run over again and finishes it with every result, each item run once. Under CI=true this test fails without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { Docker } from "../../../src/docker/docker.ts";
import { RUN_LOCK_FILES } from "../../../src/store/local_knots.ts";
import { CONTAINER_LABELS } from "../../../src/targets/docker/docker_target.ts";
import { job } from "../../fixtures/docker_job.ts";
import { withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { startForLine } from "../../support/deno_child.ts";
import { endsWithin } from "../../support/ends_within.ts";
import { itemCounter } from "../../support/item_counter.ts";
import { containers, ends, quiet, runningContainers } from "./docker_runs.ts";
import { RETRYING_CLIENT } from "./retrying_client.ts";

/** Waits until `ready()` holds, looking again every 50 ms. */
async function until(ready: () => boolean | Promise<boolean>): Promise<void> {
  while (!await ready()) await new Promise((r) => setTimeout(r, 50));
}

/** Whether a process holds the lock of the run in `runDir` (drives it). */
function driven(runDir: string): boolean {
  const file = Deno.openSync(join(runDir, RUN_LOCK_FILES.docker), { read: true, write: true });
  try {
    const free = file.tryLockSync(true);
    return !free;
  } finally {
    file.close();
  }
}

dockerTest(
  "a retry whose signal aborts once it took over the retry of its run that a killed process drove rejects with the signal's reason before the container it adopted ends, which goes on; none starts after the abort, and a later reading finishes the run with every result",
  async () => {
    await withDockerKnots("cloudknot-docker-retry-takeover-", async ({ dir, knotOptions }) => {
      // Every item's answer is held until the test releases them: an item ends only then.
      const counter = itemCounter(() => true);
      // This process's docker client notes each container it starts, and each it waits for.
      const calls = join(dir, "calls");
      const client = join(dir, "docker-noting-calls");
      await Deno.writeTextFile(
        client,
        `#!/bin/sh\ncase "$1" in run|wait) echo "$1 $2" >> "${calls}";; esac\nexec docker "$@"\n`,
        { mode: 0o755 },
      );
      const noted = async () =>
        (await Deno.readTextFile(calls).catch(() => "")).split("\n").filter((l) => l !== "");
      const starts = async () => (await noted()).filter((l) => l.startsWith("run ")).length;
      const knot = await Knot.create({
        ...knotOptions,
        name: "taken",
        func: job,
        docker: new Docker({ binary: client, logger: () => {} }),
        concurrency: 1,
        retries: 1,
        // The containers reach the counter on this machine's loopback.
        network: "host",
      });
      try {
        // The first run, cancelled while item 0 runs: every item is cancelled.
        const inputs = ["count 0", "count 1", "count 2", "count 3"];
        const first = await knot.map(inputs, {
          env: { COUNTER: counter.url },
          itemsPerJob: 1,
          progress: false,
        });
        await until(() => counter.hits.has("0"));
        await first.cancel("again later");
        assert.deepEqual(ends(await first.settled()), inputs.map(() => "cancelled"));

        // Another process retries it, one container (of two items) at a time, and is killed
        // while item 0 runs: the retry's second container never started.
        const { child: retrying, line: retryId } = await startForLine([
          "run",
          "-A",
          "--lock=tests/deno.lock",
          RETRYING_CLIENT,
          dir,
          "taken",
          first.runId,
          "host",
        ]);
        await until(() => counter.hits.get("0") === 2);
        retrying.kill("SIGKILL");
        await retrying.status;
        const runDir = join(dir, "taken", "runs", retryId);
        const left = await runningContainers(retryId);
        assert.equal(left.length, 1, "item 0's container runs on");

        // This process retries the run again: it takes the killed process's retry over, and
        // waits for the container of items 0 and 1 before it starts the next one.
        const before = await starts();
        const stop = new AbortController();
        const retried = first.retry({ progress: false, signal: stop.signal });
        retried.catch(() => {});
        await until(async () => (await noted()).includes(`wait ${left[0]}`));
        assert.ok(driven(runDir), "the retry drives the run");
        const reason = new Error("no more waiting");
        stop.abort(reason);
        await endsWithin(
          assert.rejects(retried, (e) => e === reason),
          60_000,
          "the aborted retry's rejection",
        );
        // The slice it adopted had not ended: its container runs on, and no process drives
        // the run.
        assert.deepEqual(await runningContainers(retryId), left, "items 0 and 1 still run");
        assert.equal(counter.hits.get("1"), undefined, "item 1 has not run in the retry");
        assert.equal(driven(runDir), false, "the retry let go of the run");

        counter.release();
        await until(async () => (await runningContainers(retryId)).length === 0);
        // No container of the run started after the abort (nor before it, here): items 2 and 3
        // have none.
        assert.equal(await starts(), before, "a container was started after the abort");
        assert.deepEqual(await containers({ [CONTAINER_LABELS.run]: retryId }), left);

        // A later reading takes the run over again and finishes it: every result, each item of
        // the retry run once.
        const later = await knot.collect(retryId, { progress: false });
        assert.deepEqual(await later.results(), ["ran 0", "ran 1", "ran 2", "ran 3"]);
        assert.deepEqual(Object.fromEntries(counter.hits), { "0": 2, "1": 1, "2": 1, "3": 1 });
        assert.deepEqual(await containers({ [CONTAINER_LABELS.run]: retryId }), []);
      } finally {
        await counter.close();
        await (await Knot.create({ name: "taken", target: "docker", dir, docker: quiet }))
          .clobber();
      }
    });
  },
);
