// repo list counts the tags of gone knots in the repositories the config file
// uses, and points to the gc that deletes them; gc --yes then removes those
// tags alone.
import assert from "node:assert/strict";
import { configOwner } from "../../src/resources/owner.ts";
import { StateFile } from "../../src/state/mod.ts";
import { sessionFor } from "../support/aws_session.ts";
import { knotRevision, pushImage } from "../support/ecr_images.ts";
import { type AwsHome, withAwsHome } from "./aws_helpers.ts";
import { cli } from "./helpers.ts";

/** Configures `home` in us-east-1 and makes its default repository. */
async function configured(home: AwsHome) {
  assert.equal((await cli(home, ["configure", "--region", "us-east-1"])).code, 0);
  const session = await sessionFor(home.emu);
  const state = new StateFile({ path: home.configFile });
  const owner = await configOwner(state);
  const { repository } = await session.ecr.createRepository({ repositoryName: "cloudknot" });
  return { session, state, owner, uri: repository!.repositoryUri! };
}

Deno.test("repo list counts the default repository's tags of gone knots and points to cloudknot gc, which deletes them and keeps the rest", async () => {
  await withAwsHome(async (home) => {
    const { session, state, owner, uri } = await configured(home);
    await pushImage(home.emu, "cloudknot", ["squares"], "squares");
    await state.setMany("knot squares", { target: "aws", region: "us-east-1" });
    for (const knot of ["cubes", "halves"]) {
      const digest = await pushImage(home.emu, "cloudknot", [knot], knot);
      await knotRevision(session, knot, `${uri}@${digest}`, owner);
    }
    await pushImage(home.emu, "cloudknot", ["nobody"], "nobody");

    const list = await cli(home, ["repo", "list", "--json"]);
    assert.equal(list.code, 0, list.stderr);
    const [row] = JSON.parse(list.stdout);
    assert.equal(row.name, "cloudknot");
    assert.equal(row.images, 4);
    assert.equal(row.garbageTags, 2);
    assert.equal(row.unownedTags, 1);
    const table = await cli(home, ["repo", "list"]);
    assert.match(
      table.stdout,
      /^cloudknot +4 +\S+ +default, not tagged, 2 tags no record names: cloudknot gc, 1 tag of no known owner: cloudknot gc --untagged$/m,
    );

    const gc = await cli(home, ["gc", "--yes"]);
    assert.equal(gc.code, 0, gc.stderr);
    assert.match(gc.stdout, /^image-tag +cloudknot:cubes +knot cubes +knot cubes is gone/m);
    assert.match(gc.stderr, /^Deleted 2 of 2$/m);
    assert.match(
      gc.stderr,
      /^Left out 1 image tag no record names that no job definition says whose it is/m,
    );
    const after = JSON.parse((await cli(home, ["repo", "list", "--json"])).stdout)[0];
    assert.equal(after.images, 2);
    assert.equal(after.garbageTags, 0);
    const { imageIds } = await session.ecr.listImages({ repositoryName: "cloudknot" });
    assert.deepEqual(imageIds!.map((i) => i.imageTag).sort(), ["nobody", "squares"]);
  }, { registry: true });
});

Deno.test("repo list counts the untagged images gc deletes beside the tags, and cloudknot gc --yes deletes the one of a gone knot by its digest", async () => {
  await withAwsHome(async (home) => {
    const { session, state, owner, uri } = await configured(home);
    await state.setMany("knot squares", { target: "aws", region: "us-east-1" });
    // squares's tag was pushed again: the image it named is untagged, and nothing says whose.
    const unknown = await pushImage(home.emu, "cloudknot", ["squares"], "squares 1");
    await pushImage(home.emu, "cloudknot", ["squares"], "squares 2");
    // cubes's too, then cubes went: its deregistered job definition says it was ours.
    const cubes = await pushImage(home.emu, "cloudknot", ["cubes"], "cubes 1");
    await knotRevision(session, "cubes", `${uri}@${cubes}`, owner);
    await pushImage(home.emu, "cloudknot", ["cubes"], "cubes 2");

    const [row] = JSON.parse((await cli(home, ["repo", "list", "--json"])).stdout);
    assert.equal(row.images, 4);
    assert.equal(row.garbageTags, 0);
    assert.equal(row.unownedTags, 1, "the tag cubes no record names");
    assert.equal(row.garbageImages, 1);
    assert.equal(row.unownedImages, 1);
    const table = await cli(home, ["repo", "list"]);
    assert.match(
      table.stdout,
      /, 1 untagged image no live job definition runs: cloudknot gc, 1 untagged image of no known owner: cloudknot gc --untagged$/m,
    );

    home.emu.requests.clear();
    const dry = await cli(home, ["gc"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(
      dry.stdout,
      new RegExp(`^image +cloudknot@${cubes} +knot cubes +untagged; knot cubes is gone$`, "m"),
    );
    assert.match(
      dry.stderr,
      /1 untagged image no record names that no job definition says whose it is/,
    );
    assert.deepEqual(home.emu.mutatingRequests(), [], "a dry run changes nothing");

    const gc = await cli(home, ["gc", "--yes"]);
    assert.equal(gc.code, 0, gc.stderr);
    assert.match(gc.stderr, /^Deleted 1 of 1$/m);
    const after = JSON.parse((await cli(home, ["repo", "list", "--json"])).stdout)[0];
    assert.equal(after.images, 3);
    assert.equal(after.garbageImages, 0);
    assert.equal(after.unownedImages, 1);
    const { imageIds } = await session.ecr.listImages({
      repositoryName: "cloudknot",
      filter: { tagStatus: "UNTAGGED" },
    });
    assert.deepEqual(imageIds, [{ imageDigest: unknown }]);
  }, { registry: true });
});
