// `knot show` of a docker knot asks Docker once for all the runs it shows: one listing of the
// knot's running containers, shared by the reading of each run whose process is gone, however
// many there are. Under CI=true this test fails without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Docker } from "../../../src/docker/docker.ts";
import { writeManifest } from "../../../src/job/payload.ts";
import { LocalStore } from "../../../src/store/local.ts";
import { snapshotRuns } from "../../../src/cli/common/knot_view.ts";
import type { LocalKnotInfo } from "../../../src/targets/local/catalog.ts";
import type { DockerKnotRecord } from "../../../src/targets/docker/catalog.ts";
import type { DockerRunManifest } from "../../../src/targets/docker/docker_target.ts";
import { newRunId } from "../../../src/targets/target.ts";
import { dockerTest } from "../../support/docker_available.ts";

/** A docker driver that keeps the arguments of each docker command it runs. */
class Counting extends Docker {
  readonly calls: string[][] = [];

  override async command(...call: Parameters<Docker["command"]>) {
    this.calls.push(call[0]);
    return await super.command(...call);
  }
}

/**
 * A docker knot in `root` with `count` runs whose process is gone before any container ran: a
 * map killed once it had written its run's manifest leaves it so.
 */
async function knotWithStoppedRuns(root: string, count: number): Promise<LocalKnotInfo> {
  const name = "shown";
  const record: DockerKnotRecord = {
    name,
    target: "docker",
    // No image is read: a knot show reads the runs.
    image: `cloudknot/${name}-docker-listing:local`,
    hash: "0".repeat(64),
    kind: "func",
    functionName: "square",
    createdAt: Date.now(),
    updatedAt: Date.now(),
  };
  const runsRoot = join(root, "runs");
  await Deno.mkdir(runsRoot, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(join(root, "knot.json"), JSON.stringify(record));
  for (let i = 0; i < count; i++) {
    const runId = newRunId(Date.now() - i * 1000);
    const dir = join(runsRoot, runId);
    await Deno.mkdir(dir, { mode: 0o700 });
    const manifest: DockerRunManifest = {
      version: 1,
      runId,
      knot: name,
      count: 2,
      starmap: false,
      createdAt: Date.now(),
      attempts: 1,
      env: {},
      container: { image: record.image, network: "bridge", concurrency: 1 },
    };
    await writeManifest(new LocalStore(dir), manifest);
  }
  return { record: record as unknown as LocalKnotInfo["record"], root, runsRoot };
}

dockerTest(
  "knot show lists a docker knot's running containers once for all its runs, however many stopped",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-docker-show-listing-" });
    try {
      const commands = async (runs: number) => {
        const knot = await knotWithStoppedRuns(join(dir, `runs-${runs}`), runs);
        const docker = new Counting({ logger: () => {} });
        const snapshots = await snapshotRuns(knot, { docker });
        assert.equal(snapshots.length, runs);
        // Each is stopped, with no container running: as knot show says it.
        for (const s of snapshots) {
          assert.equal(s.stopped, true);
          assert.equal(s.runningContainers, undefined);
        }
        return docker.calls.map((args) => args[0]);
      };
      assert.deepEqual(await commands(1), ["ps"]);
      assert.deepEqual(await commands(5), ["ps"], "one docker ps, not one per run");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
