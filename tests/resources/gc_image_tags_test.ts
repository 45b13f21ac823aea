// gc and the image tags knots push to a repository they share (the default
// one): the tags of a gone knot are garbage, owned by the knot whose job
// definition runs them; those any record names, those of a knot being made
// and those of another config file stay; deleting one removes that tag only.
import assert from "node:assert/strict";
import { deleteGarbage, findGarbage } from "../../src/resources/gc.ts";
import { configOwner } from "../../src/resources/owner.ts";
import { StateFile } from "../../src/state/mod.ts";
import { knotRevision, pushImage, tagsByDigest } from "../support/ecr_images.ts";
import { gcOptions, idsOf, makeDefaultRepo, withEmulator } from "./helpers.ts";

const REPO = "cloudknot";

Deno.test("gc finds the tags of a gone knot in the default repository, keeps every tag a record names, and deleting a tag keeps the image another tag names", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const owner = await configOwner(state);
    const uri = await makeDefaultRepo(session);
    // squares, updated once: two tags, both in its record.
    const squares = await pushImage(emu, REPO, ["squares", "squares-v2"], "squares");
    // A tag its record names no more, whose image its old job definition ran.
    const old = await pushImage(emu, REPO, ["squares-v0"], "squares old");
    await knotRevision(session, "squares", `${uri}@${old}`, owner);
    // cubes is gone: its record went, its deregistered job definition says it was ours.
    const cubes = await pushImage(emu, REPO, ["cubes"], "cubes");
    await knotRevision(session, "cubes", `${uri}@${cubes}`, owner);
    // One image under a gone knot's tag and an image record's tag.
    const shared = await pushImage(emu, REPO, ["halves", "halves-lib"], "halves");
    await knotRevision(session, "halves", `${uri}@${shared}`, owner);
    await state.setMany("knot squares", {
      target: "aws",
      region: session.region,
      "docker-repo": REPO,
      "image-tags": "squares squares-v2",
    });
    await state.setMany("docker-image halves-lib", { images: "cloudknot/halves-lib:halves-lib" });

    const items = await findGarbage(gcOptions(session, state));
    const tags = items.filter((g) => g.kind === "image-tag");
    assert.deepEqual(tags.map((g) => g.id).sort(), [
      `${REPO}:cubes`,
      `${REPO}:halves`,
      `${REPO}:squares-v0`,
    ]);
    const v0 = tags.find((g) => g.id === `${REPO}:squares-v0`)!;
    assert.equal(v0.owner, "knot squares");
    assert.match(v0.reason, /^knot squares's record names tag squares-v0 no more$/);
    const cubesTag = tags.find((g) => g.id === `${REPO}:cubes`)!;
    assert.equal(cubesTag.owner, "knot cubes");
    assert.equal(cubesTag.digest, cubes);
    assert.match(cubesTag.reason, /^knot cubes is gone/);

    const done = await deleteGarbage(items, gcOptions(session, state, { warn: () => {} }));
    assert.deepEqual(done.failed, []);
    assert.deepEqual(idsOf("image-tag", done.deleted), [
      `${REPO}:cubes`,
      `${REPO}:halves`,
      `${REPO}:squares-v0`,
    ]);
    assert.deepEqual(await tagsByDigest(session, REPO), {
      [squares]: ["squares", "squares-v2"],
      [shared]: ["halves-lib"],
    });
    assert.deepEqual(idsOf("image-tag", await findGarbage(gcOptions(session, state))), []);
  }, { registry: true });
});

Deno.test("gc leaves out a tag no job definition says whose it is unless untagged, and never judges a tag another config file's job definition runs", async () => {
  await withEmulator(async ({ emu, session, state, dir }) => {
    await configOwner(state);
    const uri = await makeDefaultRepo(session);
    const other = new StateFile({ path: `${dir}/colleague` });
    const theirs = await pushImage(emu, REPO, ["theirs"], "theirs");
    await knotRevision(session, "theirs", `${uri}@${theirs}`, await configOwner(other), true);
    const before = await pushImage(emu, REPO, ["before"], "before");

    const skipped: string[] = [];
    const items = await findGarbage(
      gcOptions(session, state, { onSkip: (g) => skipped.push(g.id) }),
    );
    assert.deepEqual(idsOf("image-tag", items), []);
    assert.deepEqual(skipped.filter((id) => id.startsWith(`${REPO}:`)), [`${REPO}:before`]);
    const all = await findGarbage(gcOptions(session, state, { untagged: true }));
    assert.deepEqual(idsOf("image-tag", all), [`${REPO}:before`]);

    // The other config file, which records its knot, judges the same repository: its tag
    // stays, and the one no job definition names is not its own either.
    await other.setMany("knot theirs", { target: "aws", region: session.region });
    const otherSkipped: string[] = [];
    const otherItems = await findGarbage(
      gcOptions(session, other, { onSkip: (g) => otherSkipped.push(g.id) }),
    );
    assert.deepEqual(idsOf("image-tag", otherItems), []);
    assert.deepEqual(otherSkipped.filter((id) => id.startsWith(`${REPO}:`)), [`${REPO}:before`]);
    await deleteGarbage(all, gcOptions(session, state, { warn: () => {} }));
    const left = await tagsByDigest(session, REPO);
    assert.deepEqual(left, { [theirs]: ["theirs"] });
    assert.equal(before in left, false);
  }, { registry: true });
});

Deno.test("gc keeps the tags of a knot a live process is making, and of an image a live build holds", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const owner = await configOwner(state);
    const uri = await makeDefaultRepo(session);
    for (const knot of ["making", "held"]) {
      const digest = await pushImage(emu, REPO, [knot], knot);
      await knotRevision(session, knot, `${uri}@${digest}`, owner, true);
    }
    const hold = await state.hold("cloudknot/held:hold-0b7c2a4e-5f7d-4c8e-9a1b-2c3d4e5f6a7b");
    try {
      const during = await state.whileMaking(
        "knot Making",
        () => findGarbage(gcOptions(session, state)),
      );
      assert.deepEqual(idsOf("image-tag", during), []);
    } finally {
      await hold.release();
    }
    assert.deepEqual(idsOf("image-tag", await findGarbage(gcOptions(session, state))), [
      `${REPO}:held`,
      `${REPO}:making`,
    ]);
  }, { registry: true });
});

Deno.test("deleteGarbage counts what was gone before it came to delete it apart from what it deleted, and keeps a tag pushed again since it looked", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const owner = await configOwner(state);
    const uri = await makeDefaultRepo(session);
    const digests: Record<string, string> = {};
    for (const knot of ["lost", "moved", "stays"]) {
      digests[knot] = await pushImage(emu, REPO, [knot], knot);
      await knotRevision(session, knot, `${uri}@${digests[knot]}`, owner, true);
    }
    const items = await findGarbage(gcOptions(session, state));
    // Three active job definitions, three tags.
    assert.equal(items.filter((g) => g.kind === "job-definition").length, 3);
    assert.deepEqual(idsOf("image-tag", items), [`${REPO}:lost`, `${REPO}:moved`, `${REPO}:stays`]);

    // Meanwhile someone else removes one tag and a job definition, and pushes another anew.
    await session.ecr.batchDeleteImage({ repositoryName: REPO, imageIds: [{ imageTag: "lost" }] });
    await session.batch.deregisterJobDefinition({ jobDefinition: "lost-ck-jd:1" });
    const again = await pushImage(emu, REPO, ["moved"], "moved again");

    const done = await deleteGarbage(items, gcOptions(session, state, { warn: () => {} }));
    assert.deepEqual(
      done.gone.map((g) => `${g.kind} ${g.id}`).sort(),
      [`image-tag ${REPO}:lost`, "job-definition lost-ck-jd"],
    );
    assert.deepEqual(
      done.deleted.map((g) => `${g.kind} ${g.id}`).sort(),
      [`image-tag ${REPO}:stays`, "job-definition moved-ck-jd", "job-definition stays-ck-jd"],
    );
    assert.deepEqual(done.failed.map((f) => f.item.id), [`${REPO}:moved`]);
    assert.match(
      done.failed[0]!.error,
      /names another image than when gc looked.*look again \(findGarbage\(\), or cloudknot gc\) to judge it anew/,
    );
    // The image the tag named before stays, untagged, as ECR keeps it when a tag moves.
    assert.deepEqual(await tagsByDigest(session, REPO), {
      [again]: ["moved"],
      [digests.moved!]: [],
    });
  }, { registry: true });
});
