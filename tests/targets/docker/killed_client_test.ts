// A docker run whose client was killed midway, with real containers: its
// containers finish, and collect() from another process adopts them and runs
// each item once. Under CI=true these tests fail without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { CONTAINER_LABELS } from "../../../src/targets/docker/docker_target.ts";
import { withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { startForLine } from "../../support/deno_child.ts";
import { containers, quiet, recordKeys } from "./docker_runs.ts";

dockerTest(
  "a client killed midway leaves containers that finish; collect() from another process adopts them and runs each item once",
  async () => {
    await withDockerKnots("cloudknot-docker-kill-", async ({ dir, baseImage }) => {
      const { child: client, line: runId } = await startForLine([
        "run",
        "-A",
        "--lock=tests/deno.lock",
        new URL("../../fixtures/docker_client.ts", import.meta.url).href,
        dir,
        baseImage,
      ]);
      const runDir = join(dir, "resumable", "runs", runId);
      // Kill it once some items, but not all, are done.
      while ((await recordKeys(runDir).catch(() => [])).length < 2) {
        await new Promise((r) => setTimeout(r, 50));
      }
      client.kill("SIGKILL");
      await client.status;
      const before = (await recordKeys(runDir)).length;
      assert.ok(before >= 2 && before < 8, `${before} items were recorded`);

      const knot = await Knot.create({ name: "resumable", target: "docker", dir, docker: quiet });
      const run = await knot.collect(runId);
      assert.deepEqual(await run.results(), Array.from({ length: 8 }, (_, i) => i * 2));
      // Every item ran once: one record each, all of a first attempt.
      const keys = await recordKeys(runDir);
      assert.deepEqual(keys.map((k) => k.index).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7]);
      assert.ok(keys.every((k) => k.attempt === 1), "an item ran twice");
      assert.deepEqual(await containers({ [CONTAINER_LABELS.run]: runId }), []);
      await knot.clobber();
    });
  },
);
