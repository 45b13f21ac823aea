// `cloudknot knot show` of a docker knot gives its image and the runtime
// protocol the image's org.cloudknot.runtime label names: this version's as it
// is, and another one's (or none: an image built before runtime protocols)
// with what its next map does. Under CI=true this test fails without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { Docker } from "../../../src/docker/docker.ts";
import { RUNTIME_PROTOCOL, runtimeProtocolWords } from "../../../src/job/runtime_protocol.ts";
import { cliInProcess } from "../../support/cli_in_process.ts";
import { asBuiltBeforeProtocols, knotImage, withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";

const quiet = new Docker({ logger: () => {} });

dockerTest(
  "knot show gives a docker knot's image and its runtime protocol, and says when it is another version's",
  async () => {
    await withDockerKnots("cloudknot-docker-show-", async ({ dir, knotOptions }) => {
      const knot = await Knot.create({ ...knotOptions, name: "shown", func: (x: number) => x });
      const image = await knotImage(dir, "shown");
      const show = (...args: string[]) =>
        cliInProcess(["knot", "show", "shown", ...args], {
          CLOUDKNOT_LOCAL_DIR: dir,
          HOME: dir,
        }).ended;
      const ours = runtimeProtocolWords(RUNTIME_PROTOCOL);
      let older: string | undefined;
      try {
        const current = await show();
        assert.equal(current.code, 0, current.stderr);
        assert.match(current.stdout, new RegExp(`^image +${image}$`, "m"));
        assert.match(current.stdout, new RegExp(`^runtime +${ours}$`, "m"));
        assert.doesNotMatch(current.stdout, /another cloudknot version/);
        assert.deepEqual(JSON.parse((await show("--json")).stdout).runtime, {
          protocol: RUNTIME_PROTOCOL,
          current: true,
          advice: null,
        });

        // The image as a version from before runtime protocols built it.
        older = await asBuiltBeforeProtocols(quiet, image, join(dir, "older"));
        const before = runtimeProtocolWords(undefined);
        const advice = `Knot shown's image runs the job runtime of another cloudknot version ` +
          `(${before}; this version's is ${ours}): the next map or retry on it builds it again ` +
          "from its build directory with this version's runtime first, and keeps its runs.";
        const old = await show();
        assert.equal(old.code, 0, old.stderr);
        assert.match(
          old.stdout,
          new RegExp(`^runtime +${before}, not this version's ${ours}$`, "m"),
        );
        assert.ok(old.stdout.endsWith(`\n\n${advice}\n`), old.stdout);
        const oldJson = JSON.parse((await show("--json")).stdout);
        assert.equal(oldJson.image, image);
        assert.deepEqual(oldJson.runtime, { protocol: null, current: false, advice });
      } finally {
        await knot.clobber();
        if (older !== undefined) {
          await quiet.removeImage(older, { force: true, missingOk: true });
        }
      }
    });
  },
);
