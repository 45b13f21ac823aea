// A heal that builds the knot's image anew with another digest moves the
// knot's tag in ECR and leaves the image it named untagged, as ECR does: gc
// keeps that image while the knot's older job definition revision (an older
// run's retry) runs it, and deletes it once that revision is deregistered,
// leaving the knot's new image and its runs whole.
import assert from "node:assert/strict";
import { Knot } from "../../../mod.ts";
import { deleteGarbage, findGarbage } from "../../../src/resources/mod.ts";
import { deleteBatchEnvironment } from "../../../src/targets/aws/batch/mod.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { withKnotBed } from "./helpers.ts";

function square(x: number): number {
  return x * x;
}

dockerTest(
  "a heal that builds the knot's image with another digest leaves the old image untagged, which gc keeps while an active revision runs it and deletes once none does",
  async () => {
    const name = "healedimage";
    await withKnotBed(name, async ({ emu, session, state, dir, common, baseImage }) => {
      const gc = { session, state, localDir: `${dir}/no-local-knots`, warn: () => {} };
      const knot = await Knot.create({ ...common, func: square, baseImage, memory: 512 });
      const repository = knot.aws!.repo.name;
      const firstUri = knot.aws!.imageUri;
      const firstDefinition = knot.aws!.jobDefinition;
      const old = firstUri.slice(firstUri.indexOf("@") + 1);

      // Its queue is deleted outside cloudknot; the heal builds its image without the cache.
      await deleteBatchEnvironment(session, { jobQueue: knot.aws!.jobQueue }, { pollMs: 20 });
      const healed = await Knot.create({
        ...common,
        func: square,
        baseImage,
        memory: 512,
        noImageCache: true,
      });
      const now = healed.aws!.imageUri.slice(healed.aws!.imageUri.indexOf("@") + 1);
      assert.notEqual(now, old, "the build without the cache has another digest");
      const tags = async () => {
        const out: Record<string, string[]> = {};
        for await (const i of session.ecr.describeImagesAll({ repositoryName: repository })) {
          out[i.imageDigest!] = i.imageTags ?? [];
        }
        return out;
      };
      const before = await tags();
      assert.deepEqual(before[old], [], "ECR keeps the image the moved tag named, untagged");
      assert.deepEqual(before[now], [name]);

      // The knot's first revision still runs the old image (an older run's retry does).
      emu.requests.clear();
      const live = await findGarbage(gc);
      assert.deepEqual(live.filter((g) => g.kind === "image"), []);
      assert.deepEqual(emu.mutatingRequests(), [], "a dry run changes nothing");

      await session.batch.deregisterJobDefinition({ jobDefinition: firstDefinition });
      emu.requests.clear();
      const items = await findGarbage(gc);
      const images = items.filter((g) => g.kind === "image");
      assert.deepEqual(images.map((g) => [g.id, g.owner]), [
        [`${repository}@${old}`, `knot ${name}`],
      ]);
      assert.deepEqual(emu.mutatingRequests(), [], "a dry run changes nothing");
      const done = await deleteGarbage(images, gc);
      assert.deepEqual(done.failed, []);
      assert.deepEqual(done.deleted.map((g) => g.id), [`${repository}@${old}`]);
      const after = await tags();
      assert.equal(old in after, false);
      assert.deepEqual(after[now], [name]);
      // The knot runs on its new image.
      const run = await healed.map([3], { progress: false });
      assert.deepEqual(await run.results(), [9]);
    });
  },
);
