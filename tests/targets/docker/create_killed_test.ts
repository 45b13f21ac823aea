// A docker Knot.create killed between making the knot's folder and writing its record, in real
// Docker: the folder it leaves (its lock's file and build directory, no knot.json) is listed by
// knot list as an unfinished create, knot show and an adoption by name say so and what to do,
// knot clobber removes it, and a create of the name makes the knot there. The create is a real
// process, killed by its docker client at the build (dying_client.ts). Under CI=true this test
// fails without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { CloudknotInputError, Knot } from "../../../mod.ts";
import { job } from "../../fixtures/docker_job.ts";
import { knotImageIds, withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { rejects } from "../../support/rejects.ts";
import { cliHere } from "../../cli/helpers.ts";
import { killedByDockerClient, quiet } from "./docker_runs.ts";

dockerTest(
  "a docker knot create killed before it recorded the knot: knot list shows it as an unfinished create, knot show and an adoption say so and what to do, knot clobber removes what it left, and a create of the name makes the knot",
  async () => {
    await withDockerKnots(
      "cloudknot-docker-create-killed-",
      async ({ dir, baseImage, knotOptions }) => {
        const root = join(dir, "dying");
        await killedByDockerClient(dir, baseImage, "build", []);
        const left = (await Array.fromAsync(Deno.readDir(root))).map((e) => e.name).sort();
        assert.ok(left.includes("knot.lock") && !left.includes("knot.json"), left.join(", "));
        const home = {
          dir,
          env: { CLOUDKNOT_LOCAL_DIR: dir, CLOUDKNOT_CONFIG_FILE: join(dir, "config.ini") },
        };
        const advice = `Docker knot dying was never finished: a \`cloudknot knot create\` or ` +
          `\`cloudknot map\` of it stopped (it was killed, or failed) before it recorded the knot, leaving its ` +
          `folder ${root}. \`cloudknot knot create dying MODULE EXPORT --target docker\` makes ` +
          `it there anew; \`cloudknot knot clobber dying\` removes what it left (its folder, and ` +
          `its image if it was built)`;
        const listed = await cliHere(home, ["knot", "list"]);
        assert.equal(listed.code, 0, listed.stderr);
        assert.match(listed.stdout, /^dying +docker \(create unfinished\) +- +- +-$/m);
        assert.ok(listed.stderr.replace(/\s+/g, " ").includes(advice), listed.stderr);
        const json = JSON.parse((await cliHere(home, ["knot", "list", "--json"])).stdout);
        assert.deepEqual(json.find((k: { name: string }) => k.name === "dying"), {
          name: "dying",
          target: "docker",
          dir: root,
          unfinished: true,
          creating: false,
          clobberStarted: null,
          clobberRunning: false,
          runs: 0,
          lastRun: null,
        });
        const shown = await cliHere(home, ["knot", "show", "dying"]);
        assert.equal(shown.code, 1);
        assert.ok(shown.stderr.replace(/\s+/g, " ").includes(advice), shown.stderr);
        const adopted = await rejects(
          Knot.create({ name: "dying", target: "docker", dir, docker: quiet }),
          CloudknotInputError,
        );
        assert.match(adopted.message, /^Docker knot "dying" was never finished: .*Pass func/);
        const clobbered = await cliHere(home, ["knot", "clobber", "dying", "--yes"]);
        assert.equal(clobbered.code, 0, clobbered.stderr);
        assert.equal(await Deno.stat(root).then(() => true, () => false), false, "its folder went");
        assert.deepEqual(await knotImageIds(root), []);
        assert.doesNotMatch((await cliHere(home, ["knot", "list"])).stdout, /dying/);

        // Killed again: a create of the name makes the knot in the folder it left.
        await killedByDockerClient(dir, baseImage, "build", []);
        const knot = await Knot.create({ ...knotOptions, name: "dying", func: job });
        try {
          assert.deepEqual(await (await knot.map([3], { progress: false })).results(), [9]);
          assert.match(
            (await cliHere(home, ["knot", "list"])).stdout,
            /^dying +docker +job \(\w+, [0-9a-f]{8}\) +1 +\S+$/m,
          );
        } finally {
          await knot.clobber();
        }
      },
    );
  },
);
