// A docker knot whose image runs the job runtime of another cloudknot version
// (its org.cloudknot.runtime label names another protocol, or none: an image
// built before runtime protocols), with real containers: opened by name, it is
// built again from its build directory with this version's runtime, with a
// warning that says why, and runs; an image of this version's is adopted as
// it is. Under CI=true these tests fail without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { Docker } from "../../../src/docker/docker.ts";
import {
  RUNTIME_PROTOCOL,
  RUNTIME_PROTOCOL_LABEL,
  runtimeProtocolWords,
} from "../../../src/job/runtime_protocol.ts";
import { asBuiltBeforeProtocols, knotImage, withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";

const quiet = new Docker({ logger: () => {} });

/** The runtime label of a local image, and its id. */
async function labelled(image: string): Promise<{ id: string; runtime: string | undefined }> {
  const info = await quiet.inspectImage(image);
  assert.ok(info, `image ${image} is on this engine`);
  return { id: info.Id, runtime: info.Config?.Labels?.[RUNTIME_PROTOCOL_LABEL] };
}

dockerTest(
  "a docker knot opened by name whose image runs another version's job runtime is built again from its build directory with a warning, and runs",
  async () => {
    await withDockerKnots("cloudknot-docker-skew-", async ({ dir, knotOptions }) => {
      const knot = await Knot.create({
        ...knotOptions,
        name: "skew",
        func: (x: number) => x * x,
      });
      const image = await knotImage(dir, "skew");
      assert.equal((await labelled(image)).runtime, String(RUNTIME_PROTOCOL));
      try {
        // Opened again by name, an image of this version's runtime is adopted as it is.
        const quietly: string[] = [];
        const same = await Knot.create({
          ...knotOptions,
          name: "skew",
          warn: (m) => quietly.push(m),
        });
        assert.deepEqual(await (await same.map([2], { progress: false })).results(), [4]);
        assert.deepEqual(quietly.filter((m) => /job runtime/.test(m)), []);

        // The image as a version from before runtime protocols built it: no runtime label (an
        // empty one, as Docker keeps a label's last value).
        await asBuiltBeforeProtocols(quiet, image, join(dir, "older"));
        const older = await labelled(image);
        assert.equal(older.runtime, "");

        const warned: string[] = [];
        const adopted = await Knot.create({
          ...knotOptions,
          name: "skew",
          warn: (m) => warned.push(m),
        });
        assert.deepEqual(warned.filter((m) => /job runtime/.test(m)), [
          `cloudknot: docker knot skew's image ${image} ran the job runtime of another ` +
          `cloudknot version (${runtimeProtocolWords(undefined)}; this version's is ` +
          `${runtimeProtocolWords(RUNTIME_PROTOCOL)}): it is built again from its build ` +
          "directory with this version's; its runs are kept, and their retries run on it",
        ]);
        const rebuilt = await labelled(image);
        assert.equal(rebuilt.runtime, String(RUNTIME_PROTOCOL));
        assert.notEqual(rebuilt.id, older.id);
        assert.deepEqual(await (await adopted.map([3], { progress: false })).results(), [9]);
        await quiet.removeImage(older.id, { force: true, missingOk: true });
      } finally {
        await knot.clobber();
      }
    });
  },
);
