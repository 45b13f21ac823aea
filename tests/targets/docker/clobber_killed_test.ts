// A docker knot's clobber killed between the removal of the knot's image and
// the removal of its record: the knot's record stays, with the clobber's
// mark, and adopting the knot again (as `cloudknot knot clobber` does)
// finishes the clobber, never building the image again from a build
// directory the clobber may have half removed ("no image to restore"). The
// kill is real: a process that clobbers the knot kills itself with SIGKILL
// once Docker has removed the image. Under CI=true this test fails without
// Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { Docker } from "../../../src/docker/docker.ts";
import { knotImage, knotImageIds, withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { killClobberAfterImage } from "./killed_clobber.ts";

const quiet = new Docker({ logger: () => {} });
const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

dockerTest(
  "a docker knot whose clobber was killed once its image was removed is clobbered for good when it is adopted again, with a notice, without building its image again",
  async () => {
    await withDockerKnots(
      "cloudknot-docker-clobber-killed-",
      async ({ dir, knotOptions, baseImage }) => {
        const root = join(dir, "cut");
        try {
          await Knot.create({ ...knotOptions, name: "cut", func: (x: number) => x + 1 });
          const image = await knotImage(dir, "cut");
          await killClobberAfterImage({ dir, name: "cut", image, baseImage });
          assert.equal(await quiet.inspectImage(image), undefined, "its image was removed");
          assert.ok(await exists(join(root, "knot.json")), "its record stays");
          assert.ok(await exists(join(root, "clobbering")), "with the clobber's mark");

          // Adopted again, as `cloudknot knot clobber cut` does: the clobber is finished.
          const notices: string[] = [];
          const knot = await Knot.create({
            ...knotOptions,
            name: "cut",
            warn: (message) => notices.push(message),
          });
          assert.deepEqual(notices.length, 1, notices.join("\n"));
          assert.match(
            notices[0]!,
            /^cloudknot: the clobber of docker knot cut \(in .*cut\) was stopped part-way before; it is finished now/,
          );
          assert.equal(await exists(root), false, "the knot's folder is gone");
          assert.deepEqual(await knotImageIds(root), [], "no image was built again");
          await knot.clobber();
          await assert.rejects(
            () => knot.map([1], { progress: false }),
            /Knot cut was clobbered: create it again with Knot.create\(\)/,
          );
          await assert.rejects(
            () => Knot.create({ ...knotOptions, name: "cut" }),
            /There is no docker knot named "cut" to adopt/,
          );
        } finally {
          await quiet.removeImage(await knotImageIds(root), { force: true, missingOk: true })
            .catch(() => {});
        }
      },
    );
  },
);
