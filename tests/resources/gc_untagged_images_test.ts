// gc and the untagged images a moved tag leaves: ECR keeps the image a tag
// named when the tag is pushed again to another image. Such an image is kept
// while an active job definition revision of a recorded knot runs it, is
// garbage of its knot once only deregistered revisions or gone knots run it,
// needs `untagged` when no job definition says whose it is, and is never
// judged when another config file's knot runs it; deleting it by digest keeps
// an image tagged again since gc looked.
import assert from "node:assert/strict";
import { deleteGarbage, findGarbage } from "../../src/resources/gc.ts";
import { configOwner } from "../../src/resources/owner.ts";
import { StateFile } from "../../src/state/mod.ts";
import { knotRevision, pushImage, pushIndex, tagsByDigest } from "../support/ecr_images.ts";
import { gcOptions, idsOf, makeDefaultRepo, withEmulator } from "./helpers.ts";

const REPO = "cloudknot";

Deno.test("gc keeps an untagged image an active revision of a recorded knot runs, and finds it once only deregistered revisions or gone knots run it", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const owner = await configOwner(state);
    const uri = await makeDefaultRepo(session);
    // squares, healed with a build of another digest: its tag moved, revision 1 still runs
    // the old image (an older run's retry), revision 2 the new one.
    const before = await pushImage(emu, REPO, ["squares"], "squares 1");
    const first = await knotRevision(session, "squares", `${uri}@${before}`, owner, true);
    const after = await pushImage(emu, REPO, ["squares"], "squares 2");
    await knotRevision(session, "squares", `${uri}@${after}`, owner, true);
    await state.setMany("knot squares", {
      target: "aws",
      region: session.region,
      "docker-repo": REPO,
      "image-uri": `${uri}@${after}`,
    });
    // cubes was healed so too, then went: its record and job definitions are gone.
    const cubesBefore = await pushImage(emu, REPO, ["cubes"], "cubes 1");
    await knotRevision(session, "cubes", `${uri}@${cubesBefore}`, owner, false);
    const cubesAfter = await pushImage(emu, REPO, ["cubes"], "cubes 2");
    await knotRevision(session, "cubes", `${uri}@${cubesAfter}`, owner, false);
    // halves is gone but its revision was never deregistered: still garbage.
    const halvesBefore = await pushImage(emu, REPO, ["halves"], "halves 1");
    await knotRevision(session, "halves", `${uri}@${halvesBefore}`, owner, true);
    await pushImage(emu, REPO, ["halves"], "halves 2");
    assert.deepEqual((await tagsByDigest(session, REPO))[before], [], "ECR keeps the old image");

    emu.requests.clear();
    const live = await findGarbage(gcOptions(session, state));
    assert.deepEqual(idsOf("image", live), [`${REPO}@${cubesBefore}`, `${REPO}@${halvesBefore}`]);
    const cubes = live.find((g) => g.id === `${REPO}@${cubesBefore}`)!;
    assert.equal(cubes.owner, "knot cubes");
    assert.equal(cubes.digest, cubesBefore);
    assert.equal(cubes.reason, "untagged; knot cubes is gone");
    assert.deepEqual(emu.mutatingRequests(), [], "finding garbage changes nothing");

    // Once revision 1 is deregistered, no retry can run the old image: it is garbage.
    await session.batch.deregisterJobDefinition({ jobDefinition: first });
    const items = await findGarbage(gcOptions(session, state));
    assert.deepEqual(
      idsOf("image", items),
      [
        `${REPO}@${before}`,
        `${REPO}@${cubesBefore}`,
        `${REPO}@${halvesBefore}`,
      ].sort(),
    );
    const old = items.find((g) => g.id === `${REPO}@${before}`)!;
    assert.equal(old.owner, "knot squares");
    assert.equal(old.reason, "untagged; only deregistered job definitions of knot squares ran it");

    const done = await deleteGarbage(items, gcOptions(session, state, { warn: () => {} }));
    assert.deepEqual(done.failed, []);
    assert.deepEqual(idsOf("image", done.deleted), idsOf("image", items));
    const left = await tagsByDigest(session, REPO);
    assert.deepEqual(left[after], ["squares"], "the knot's tagged image stays");
    for (const digest of [before, cubesBefore, halvesBefore]) assert.equal(digest in left, false);
    assert.deepEqual(idsOf("image", await findGarbage(gcOptions(session, state))), []);
  }, { registry: true });
});

Deno.test("gc leaves out an untagged image no job definition says whose it is unless untagged, and never judges one another config file's knot ran", async () => {
  await withEmulator(async ({ emu, session, state, dir }) => {
    await configOwner(state);
    const uri = await makeDefaultRepo(session);
    await state.setMany("knot squares", { target: "aws", region: session.region });
    const nobody = await pushImage(emu, REPO, ["squares"], "before owner tags");
    await pushImage(emu, REPO, ["squares"], "squares now");
    const other = new StateFile({ path: `${dir}/colleague` });
    const theirs = await pushImage(emu, REPO, ["theirs"], "theirs 1");
    await knotRevision(session, "theirs", `${uri}@${theirs}`, await configOwner(other), false);
    await pushImage(emu, REPO, ["theirs"], "theirs 2");

    const skipped: { kind: string; id: string; reason: string }[] = [];
    emu.requests.clear();
    const items = await findGarbage(gcOptions(session, state, { onSkip: (g) => skipped.push(g) }));
    assert.deepEqual(idsOf("image", items), []);
    assert.deepEqual(idsOf("image", skipped), [`${REPO}@${nobody}`]);
    assert.equal(
      skipped.find((g) => g.kind === "image")!.reason,
      "untagged; no job definition says whose it is",
    );
    const all = await findGarbage(gcOptions(session, state, { untagged: true }));
    assert.deepEqual(idsOf("image", all), [`${REPO}@${nobody}`]);
    assert.deepEqual(emu.mutatingRequests(), [], "finding garbage changes nothing");

    const done = await deleteGarbage(all, gcOptions(session, state, { warn: () => {} }));
    assert.deepEqual(done.failed, []);
    const left = await tagsByDigest(session, REPO);
    assert.equal(nobody in left, false);
    assert.deepEqual(left[theirs], [], "another config file's untagged image stays");
  }, { registry: true });
});

Deno.test("deleteGarbage keeps an untagged image tagged again since gc looked, and counts one deleted meanwhile as gone", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const owner = await configOwner(state);
    const uri = await makeDefaultRepo(session);
    const digests: Record<string, string> = {};
    for (const knot of ["retagged", "lost"]) {
      digests[knot] = await pushImage(emu, REPO, [knot], `${knot} 1`);
      await knotRevision(session, knot, `${uri}@${digests[knot]}`, owner, false);
      await pushImage(emu, REPO, [knot], `${knot} 2`);
    }
    const items = (await findGarbage(gcOptions(session, state))).filter((g) => g.kind === "image");
    assert.deepEqual(idsOf("image", items), [
      `${REPO}@${digests.lost}`,
      `${REPO}@${digests.retagged}`,
    ]);

    // Meanwhile someone pushes the old image again under a tag, and deletes the other.
    const again = await pushImage(emu, REPO, ["rollback"], "retagged 1");
    assert.equal(again, digests.retagged);
    await session.ecr.batchDeleteImage({
      repositoryName: REPO,
      imageIds: [{ imageDigest: digests.lost! }],
    });

    const done = await deleteGarbage(items, gcOptions(session, state, { warn: () => {} }));
    assert.deepEqual(done.deleted, []);
    assert.deepEqual(done.gone.map((g) => g.id), [`${REPO}@${digests.lost}`]);
    assert.deepEqual(done.failed.map((f) => f.item.id), [`${REPO}@${digests.retagged}`]);
    assert.match(
      done.failed[0]!.error,
      /was kept: it has gained the tag rollback since gc looked.*look again \(findGarbage\(\), or cloudknot gc\) to judge it anew/,
    );
    assert.deepEqual((await tagsByDigest(session, REPO))[digests.retagged!], ["rollback"]);
  }, { registry: true });
});

Deno.test("gc judges the parts of a multi-platform image with its index: they go after an index that goes, and stay with one that stays", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const owner = await configOwner(state);
    const uri = await makeDefaultRepo(session);
    // cubes, pushed as an image index with its image and an attestation, then healed: its
    // first revision, deregistered, ran the old index; its tag names the new one.
    const oldParts = [
      await pushImage(emu, REPO, [], "cubes amd64 1"),
      await pushImage(emu, REPO, [], "cubes attestation 1"),
    ];
    const oldIndex = await pushIndex(emu, REPO, ["cubes"], oldParts);
    await knotRevision(session, "cubes", `${uri}@${oldIndex}`, owner, false);
    const newPart = await pushImage(emu, REPO, [], "cubes amd64 2");
    const newIndex = await pushIndex(emu, REPO, ["cubes"], [newPart]);
    await knotRevision(session, "cubes", `${uri}@${newIndex}`, owner, true);
    await state.setMany("knot cubes", { target: "aws", region: session.region });
    // squares is recorded and its tagged index's part is named by nothing: it stays.
    await state.setMany("knot squares", { target: "aws", region: session.region });
    const livePart = await pushImage(emu, REPO, [], "squares amd64");
    await pushIndex(emu, REPO, ["squares"], [livePart]);

    const all = await findGarbage(gcOptions(session, state, { untagged: true }));
    const found = all.filter((g) => g.kind === "image");
    // The index first, then its parts, which ECR deletes only once the index is gone.
    assert.deepEqual(found[0]?.id, `${REPO}@${oldIndex}`);
    assert.deepEqual(
      found.slice(1).map((g) => g.id).sort(),
      oldParts.map((d) => `${REPO}@${d}`).sort(),
    );
    for (const part of found.slice(1)) {
      assert.equal(part.owner, "knot cubes");
      assert.equal(
        part.reason,
        `part of the image index ${oldIndex}, which goes: untagged; only deregistered job ` +
          "definitions of knot cubes ran it",
      );
    }

    const done = await deleteGarbage(found, gcOptions(session, state, { warn: () => {} }));
    assert.deepEqual(done.failed, []);
    assert.equal(done.deleted.length, 3);
    const left = await tagsByDigest(session, REPO);
    for (const digest of [oldIndex, ...oldParts]) assert.equal(digest in left, false);
    assert.deepEqual(left[newIndex], ["cubes"]);
    assert.deepEqual(left[newPart], []);
    assert.deepEqual(left[livePart], []);
  }, { registry: true });
});

Deno.test("deleteGarbage keeps an untagged image an image index names since gc looked, saying why", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    await makeDefaultRepo(session);
    const part = await pushImage(emu, REPO, [], "amd64");
    const [item] = (await findGarbage(gcOptions(session, state, { untagged: true })))
      .filter((g) => g.kind === "image");
    assert.equal(item?.id, `${REPO}@${part}`);
    // Meanwhile a multi-platform push names it.
    await pushIndex(emu, REPO, ["multi"], [part]);
    const done = await deleteGarbage([item!], gcOptions(session, state, { warn: () => {} }));
    assert.deepEqual(done.failed.map((f) => f.item.id), [`${REPO}@${part}`]);
    assert.match(done.failed[0]!.error, /was kept: a multi-platform image \(manifest list\)/);
    assert.equal(part in await tagsByDigest(session, REPO), true);
  }, { registry: true });
});

Deno.test("gc deletes the parts of a gone knot's multi-platform image after the last tag of its index, and keeps those of an index a tag it keeps names", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const owner = await configOwner(state);
    const uri = await makeDefaultRepo(session);
    // cubes is gone: its tagged index's tags both go, then its parts.
    const parts = [
      await pushImage(emu, REPO, [], "cubes amd64"),
      await pushImage(emu, REPO, [], "cubes attestation"),
    ];
    const index = await pushIndex(emu, REPO, ["cubes", "cubes-v2"], parts);
    await knotRevision(session, "cubes", `${uri}@${index}`, owner);
    // halves is gone too, but its index has a tag a record names: the index and its part stay.
    const halvesPart = await pushImage(emu, REPO, [], "halves amd64");
    const halves = await pushIndex(emu, REPO, ["halves", "halves-lib"], [halvesPart]);
    await knotRevision(session, "halves", `${uri}@${halves}`, owner);
    await state.setMany("docker-image halves-lib", { images: "cloudknot/halves-lib:halves-lib" });

    const items = await findGarbage(gcOptions(session, state));
    assert.deepEqual(idsOf("image-tag", items), [
      `${REPO}:cubes`,
      `${REPO}:cubes-v2`,
      `${REPO}:halves`,
    ]);
    assert.deepEqual(idsOf("image", items), parts.map((d) => `${REPO}@${d}`).sort());
    for (const part of items.filter((g) => g.kind === "image")) {
      assert.equal(part.owner, "knot cubes");
      assert.equal(
        part.reason,
        `part of the image index ${index}, which goes: untagged; knot cubes is gone`,
      );
    }

    const done = await deleteGarbage(items, gcOptions(session, state, { warn: () => {} }));
    assert.deepEqual(done.failed, []);
    assert.deepEqual(idsOf("image", done.deleted), idsOf("image", items));
    const left = await tagsByDigest(session, REPO);
    for (const digest of [index, ...parts]) assert.equal(digest in left, false);
    assert.deepEqual(left[halves], ["halves-lib"]);
    assert.deepEqual(left[halvesPart], []);
    assert.deepEqual(idsOf("image", await findGarbage(gcOptions(session, state))), []);
  }, { registry: true });
});

Deno.test("gc lists each repository's images once and the job definitions once to judge both the tags and the untagged images of gone knots", async () => {
  await withEmulator(async ({ emu, session, state }) => {
    const owner = await configOwner(state);
    const uri = await makeDefaultRepo(session);
    const { repository } = await session.ecr.createRepository({ repositoryName: "tools" });
    // squares keeps its image in tools; halves, gone, left its tag there.
    await pushImage(emu, "tools", ["squares"], "squares");
    await state.setMany("knot squares", {
      target: "aws",
      region: session.region,
      "docker-repo": "tools",
    });
    const halves = await pushImage(emu, "tools", ["halves"], "halves");
    await knotRevision(session, "halves", `${repository!.repositoryUri}@${halves}`, owner);
    // cubes, gone, was healed once: its tag and the image the heal left untagged stay.
    const cubesBefore = await pushImage(emu, REPO, ["cubes"], "cubes 1");
    await knotRevision(session, "cubes", `${uri}@${cubesBefore}`, owner);
    const cubesAfter = await pushImage(emu, REPO, ["cubes"], "cubes 2");
    await knotRevision(session, "cubes", `${uri}@${cubesAfter}`, owner);

    emu.requests.clear();
    const items = await findGarbage(gcOptions(session, state));
    assert.deepEqual(idsOf("image-tag", items), [`${REPO}:cubes`, "tools:halves"]);
    assert.deepEqual(idsOf("image", items), [`${REPO}@${cubesBefore}`]);
    const listed = [
      ...emu.requests.filter({ service: "ecr", operation: "DescribeImages" }),
      ...emu.requests.filter({ service: "ecr", operation: "ListImages" }),
    ].map((e) => e.params.repositoryName).sort();
    assert.deepEqual(listed, [REPO, "tools"], "one listing of each repository's images");
    // Those of every status, which say whose each image is (gc judges the ACTIVE ones apart).
    const definitions = emu.requests.filter({
      service: "batch",
      operation: "DescribeJobDefinitions",
    })
      .filter((e) => e.params.status === undefined);
    assert.equal(definitions.length, 1, "one listing of the job definitions");
  }, { registry: true });
});
