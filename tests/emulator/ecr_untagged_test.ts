// Emulated ECR and untagged images, through the official SDK: a tag pushed
// again to another image leaves the image it named untagged (listed and
// described without tags, deleted by digest with every tag it has), and an
// image an image index names is kept until the index goes
// (ImageReferencedByManifestList), whose manifest BatchGetImage returns.
import assert from "node:assert/strict";
import { pushImage, pushIndex } from "../support/ecr_images.ts";
import { startEmulator } from "./mod.ts";
import * as sdk from "./sdk_deps.ts";
import { sdkConfig } from "./test_helpers.ts";

Deno.test("emulated ECR keeps the image a moved tag named untagged, and an image an index names until the index goes", async () => {
  const emu = await startEmulator({ registry: true });
  try {
    const ecr = new sdk.ecr.ECRClient(sdkConfig(emu));
    const repositoryName = "knots";
    await ecr.send(new sdk.ecr.CreateRepositoryCommand({ repositoryName }));
    const first = await pushImage(emu, repositoryName, ["squares", "v1"], "first");
    const second = await pushImage(emu, repositoryName, ["squares"], "second");

    // The tag moved; the image keeps its other tag. Once that one moves too, it is untagged.
    const third = await pushImage(emu, repositoryName, ["v1"], "third");
    const untagged = await ecr.send(
      new sdk.ecr.ListImagesCommand({ repositoryName, filter: { tagStatus: "UNTAGGED" } }),
    );
    assert.deepEqual(untagged.imageIds, [{ imageDigest: first }]);
    const described = await ecr.send(
      new sdk.ecr.DescribeImagesCommand({ repositoryName, imageIds: [{ imageDigest: first }] }),
    );
    assert.equal(described.imageDetails?.[0]?.imageDigest, first);
    assert.equal(described.imageDetails?.[0]?.imageTags, undefined);
    const tagged = await ecr.send(
      new sdk.ecr.DescribeImagesCommand({ repositoryName, filter: { tagStatus: "TAGGED" } }),
    );
    assert.deepEqual(
      tagged.imageDetails?.map((i) => [i.imageDigest, i.imageTags]).sort(),
      [[second, ["squares"]], [third, ["v1"]]].sort(),
    );

    // An image index (a multi-platform image) and its untagged parts.
    const part = await pushImage(emu, repositoryName, [], "amd64");
    const index = await pushIndex(emu, repositoryName, ["multi"], [part]);
    const refused = await ecr.send(
      new sdk.ecr.BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageDigest: part }] }),
    );
    assert.deepEqual(refused.imageIds, []);
    assert.deepEqual(refused.failures, [{
      imageId: { imageDigest: part },
      failureCode: "ImageReferencedByManifestList",
      failureReason: "Requested image referenced by manifest list",
    }]);
    const got = await ecr.send(
      new sdk.ecr.BatchGetImageCommand({
        repositoryName,
        imageIds: [{ imageDigest: index }, { imageTag: "nosuch" }],
      }),
    );
    assert.equal(got.images?.length, 1);
    assert.equal(got.images![0]!.imageId?.imageDigest, index);
    assert.equal(got.images![0]!.imageManifestMediaType, "application/vnd.oci.image.index.v1+json");
    assert.deepEqual(
      JSON.parse(got.images![0]!.imageManifest!).manifests.map((m: { digest: string }) => m.digest),
      [part],
    );
    assert.deepEqual(got.failures?.map((f) => [f.imageId?.imageTag, f.failureCode]), [
      ["nosuch", "ImageNotFound"],
    ]);

    // The index by digest goes with its tag; its part is untagged and can go then.
    const gone = await ecr.send(
      new sdk.ecr.BatchDeleteImageCommand({ repositoryName, imageIds: [{ imageDigest: index }] }),
    );
    assert.deepEqual(gone.imageIds, [{ imageDigest: index, imageTag: "multi" }]);
    const after = await ecr.send(
      new sdk.ecr.BatchDeleteImageCommand({
        repositoryName,
        imageIds: [{ imageDigest: part }, { imageDigest: first }],
      }),
    );
    assert.deepEqual(after.failures, []);
    assert.deepEqual(after.imageIds, [{ imageDigest: part }, { imageDigest: first }]);
    const left = await ecr.send(new sdk.ecr.ListImagesCommand({ repositoryName }));
    assert.deepEqual(
      left.imageIds?.map((i) => `${i.imageTag}@${i.imageDigest}`).sort(),
      [`squares@${second}`, `v1@${third}`].sort(),
    );
  } finally {
    await emu.close();
  }
});
