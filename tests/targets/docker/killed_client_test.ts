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
import { cliHere, lines, restOf, spawnCli } from "../../cli/helpers.ts";
import { containers, quiet, recordKeys } from "./docker_runs.ts";

/**
 * Starts `tests/fixtures/docker_client.ts`, running `concurrency` containers at once: the client
 * and the id of its run, once its map has returned.
 */
function startClient(dir: string, baseImage: string, concurrency = 2) {
  return startForLine([
    "run",
    "-A",
    "--lock=tests/deno.lock",
    new URL("../../fixtures/docker_client.ts", import.meta.url).href,
    dir,
    baseImage,
    String(concurrency),
  ]);
}

/**
 * Starts `tests/fixtures/docker_client.ts`, running `concurrency` containers
 * at once, and kills it once 2 of its 8 items have a record.
 */
async function killedMidway(dir: string, baseImage: string, concurrency = 2): Promise<string> {
  const { child: client, line: runId } = await startClient(dir, baseImage, concurrency);
  const runDir = join(dir, "resumable", "runs", runId);
  while ((await recordKeys(runDir).catch(() => [])).length < 2) {
    await new Promise((r) => setTimeout(r, 50));
  }
  client.kill("SIGKILL");
  await client.status;
  return runId;
}

/** The `<first item>-<attempt>` of each container of a run, running or not. */
async function containerAttempts(runId: string): Promise<string[]> {
  const { stdout } = await quiet.command([
    "ps",
    "--all",
    "--filter",
    `label=${CONTAINER_LABELS.run}=${runId}`,
    "--format",
    `{{.Label "${CONTAINER_LABELS.index}"}}-{{.Label "${CONTAINER_LABELS.attempt}"}}`,
  ]);
  return stdout.split("\n").filter((l) => l.trim() !== "").sort();
}

/** The `<first item>-<attempt>` of each log a run keeps in its directory, and their text. */
async function keptLogs(runDir: string): Promise<Map<string, string>> {
  const logs = new Map<string, string>();
  for (const entry of await Array.fromAsync(Deno.readDir(join(runDir, "logs"))).catch(() => [])) {
    logs.set(
      entry.name.replace(/\.log$/, ""),
      await Deno.readTextFile(join(runDir, "logs", entry.name)),
    );
  }
  return logs;
}

dockerTest(
  "a client killed midway leaves containers that finish; collect() from another process adopts them and runs each item once",
  async () => {
    await withDockerKnots("cloudknot-docker-kill-", async ({ dir, baseImage }) => {
      const runId = await killedMidway(dir, baseImage);
      const runDir = join(dir, "resumable", "runs", runId);
      const before = (await recordKeys(runDir)).length;
      assert.ok(before >= 2 && before < 8, `${before} items were recorded`);

      const knot = await Knot.create({ name: "resumable", target: "docker", dir, docker: quiet });
      // Its summary shows its image and what its containers run with.
      assert.match(
        Deno.inspect(knot),
        /^ {2}image: +cloudknot\/\S+:local\n {2}folder: +\S+resumable\n {2}concurrency: +\d+ containers? at once\n {2}retries: +\d+$/m,
      );
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

dockerTest(
  "a run whose client was killed, cancelled from another process, leaves no container on Docker and keeps each container's log in the run",
  async () => {
    await withDockerKnots("cloudknot-docker-kill-", async ({ dir, baseImage }) => {
      const runId = await killedMidway(dir, baseImage);
      const left = await containerAttempts(runId);
      assert.ok(left.length > 0, "the killed client left no container");

      const home = {
        dir,
        env: { CLOUDKNOT_LOCAL_DIR: dir, CLOUDKNOT_CONFIG_FILE: join(dir, "config.ini") },
      };
      // `knot show` tells the run no process drives from one that runs.
      const shown = JSON.parse(
        (await cliHere(home, ["knot", "show", "resumable", "--json"])).stdout,
      );
      assert.equal(shown.runs[0].status, "stopped");
      // `cloudknot cancel` reads the run, without running what is left of it, and cancels it.
      const cancelled = await cliHere(home, ["cancel", "resumable", runId]);
      assert.equal(cancelled.code, 0, cancelled.stderr);
      assert.match(cancelled.stdout, /Cancelled run .* items cancelled/);
      assert.deepEqual(await containers({ [CONTAINER_LABELS.run]: runId }), []);
      const logs = await keptLogs(join(dir, "resumable", "runs", runId));
      for (const attempt of left) {
        assert.match(logs.get(attempt) ?? "", /item \d+ started/, `the log of ${attempt}`);
      }
    });
  },
);

dockerTest(
  "a run whose client was killed and whose containers all ended before it was read: collect() returns every result, keeps each container's log and leaves no container",
  async () => {
    await withDockerKnots("cloudknot-docker-kill-", async ({ dir, baseImage }) => {
      // Every item's container has started (8 at once) when the client is killed.
      const runId = await killedMidway(dir, baseImage, 8);
      const runDir = join(dir, "resumable", "runs", runId);
      // The containers the client started run on, and end.
      const running = ["ps", "--quiet", "--filter", `label=${CONTAINER_LABELS.run}=${runId}`];
      while ((await quiet.command(running)).stdout.trim() !== "") {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal((await recordKeys(runDir)).length, 8, "an item had not started");
      const left = await containerAttempts(runId);
      assert.ok(left.length > 0, "the killed client left no container");

      const knot = await Knot.create({ name: "resumable", target: "docker", dir, docker: quiet });
      const run = await knot.collect(runId, { progress: false });
      assert.deepEqual(await run.results(), Array.from({ length: 8 }, (_, i) => i * 2));
      await run.done;
      assert.deepEqual(await containers({ [CONTAINER_LABELS.run]: runId }), []);
      const logs = await keptLogs(runDir);
      for (const attempt of left) {
        assert.match(logs.get(attempt) ?? "", /item \d+ started/, `the log of ${attempt}`);
      }
      await knot.clobber();
    });
  },
);

dockerTest(
  "results following a docker run that another process drives ends when a third clobbers the knot, its items cancelled as clobbered, with no command to run on the knot gone",
  async () => {
    await withDockerKnots("cloudknot-docker-kill-", async ({ dir, baseImage }) => {
      const { child: driver, line: runId } = await startClient(dir, baseImage);
      const home = {
        dir,
        env: { CLOUDKNOT_LOCAL_DIR: dir, CLOUDKNOT_CONFIG_FILE: join(dir, "config.ini") },
      };
      const follower = spawnCli(home, ["results", "resumable", runId]);
      const followed = lines(follower.stdout);
      assert.deepEqual(JSON.parse((await followed.read()).value!), { index: 0, value: 0 });
      // Stopped while the clobber runs: it finds the run's directory gone when it goes on.
      Deno.kill(follower.pid, "SIGSTOP");
      const knot = await Knot.create({ name: "resumable", target: "docker", dir, docker: quiet });
      await knot.clobber();
      Deno.kill(follower.pid, "SIGCONT");
      const { lines: rest, status, stderr } = await restOf(follower, followed);
      assert.equal(status.code, 1, stderr);
      assert.ok(rest.some((l) => l.error !== undefined), JSON.stringify(rest));
      assert.match(
        stderr,
        /items were cancelled as knot resumable was clobbered while the run ran/,
      );
      assert.doesNotMatch(stderr, /cloudknot (retry|logs) resumable/);
      await driver.status;
    });
  },
);
