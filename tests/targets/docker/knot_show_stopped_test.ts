// `knot show` of a docker run whose driver was killed while its containers still run, in real
// Docker: the run is stopped, and the command says its containers still run, that `results`
// takes it over and that `cancel` or a clobber stops them. The driver is a real process, killed
// by its docker client (dying_client.ts). Under CI=true this test fails without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { CONTAINER_LABELS } from "../../../src/targets/docker/docker_target.ts";
import { withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { cliHere } from "../../cli/helpers.ts";
import { killedByDockerClient, quiet } from "./docker_runs.ts";

dockerTest(
  "knot show says that a docker run whose driver was killed is stopped while its containers still run, that results takes it over and that cancel or a clobber stops them",
  async () => {
    await withDockerKnots("cloudknot-docker-show-", async ({ dir, baseImage }) => {
      // Killed at its first `docker wait`: the container of its one item runs on for 2 minutes.
      await killedByDockerClient(dir, baseImage, "wait", ["sleep"]);
      const [runId] = (await Array.fromAsync(Deno.readDir(join(dir, "dying", "runs"))))
        .map((e) => e.name);
      const labels = ["--filter", `label=${CONTAINER_LABELS.run}=${runId}`];
      try {
        assert.notEqual((await quiet.command(["ps", "--quiet", ...labels])).stdout.trim(), "");
        const home = {
          dir,
          env: { CLOUDKNOT_LOCAL_DIR: dir, CLOUDKNOT_CONFIG_FILE: join(dir, "config.ini") },
        };
        const json = JSON.parse((await cliHere(home, ["knot", "show", "dying", "--json"])).stdout);
        assert.equal(json.runs[0].status, "stopped");
        assert.equal(json.runs[0].runningContainers, 1);
        const shown = await cliHere(home, ["knot", "show", "dying"]);
        assert.equal(shown.code, 0, shown.stderr);
        assert.match(shown.stdout, new RegExp(`${runId} .* stopped, containers run`));
        assert.ok(
          shown.stdout.replace(/\s+/g, " ").includes(
            `Run ${runId} stopped: the process that ran it is gone (killed, or its machine ` +
              `restarted), but its docker containers still run, and no result was lost. ` +
              `\`cloudknot results dying ${runId}\` takes it over: it waits for the containers, ` +
              `keeps what they record, runs the unfinished items here and prints every result; ` +
              `\`cloudknot cancel dying ${runId}\` stops the containers and ends the unfinished ` +
              `items as cancelled; \`cloudknot knot clobber dying\` stops them with the knot.`,
          ),
          shown.stdout,
        );
      } finally {
        const knot = await Knot.create({ name: "dying", target: "docker", dir, docker: quiet });
        await knot.clobber();
      }
      assert.equal((await quiet.command(["ps", "--all", "--quiet", ...labels])).stdout.trim(), "");
    });
  },
);
