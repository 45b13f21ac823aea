// gc and the containers and images of docker knots whose folder is gone: a
// process driving a run, killed after the knot's clobber missed the container
// it had just started, leaves that container and the image it uses for ever.
// gc finds them, judging only the knots directory it looks at, and removes
// them with its usual confirmation, never those of a knot that is there (or
// there again) nor of another knots directory. Docker objects are real; each
// test labels and names its own, in a knots directory of its own.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../mod.ts";
import { Docker } from "../../src/docker/mod.ts";
import { deleteGarbage, findLocalGarbage, type GarbageItem } from "../../src/resources/mod.ts";
import {
  DOCKER_CONTAINER_LABELS,
  dockerImageName,
  IMAGE_NAME_LABEL,
} from "../../src/store/local_knots.ts";
import { StateFile } from "../../src/state/mod.ts";
import { knotImageIds, withDockerKnots } from "../support/docker_knots.ts";
import { dockerTest } from "../support/docker_available.ts";
import { HeldClobber, made, RACED_DRIVER } from "../targets/docker/raced_driver.ts";

const quiet = new Docker({ logger: () => {} });

/** The names of the containers labelled with a knot's folder. */
async function containersOf(root: string): Promise<string[]> {
  const { stdout } = await quiet.command([
    "ps",
    "--all",
    "--format",
    "{{.Names}}",
    "--filter",
    `label=${DOCKER_CONTAINER_LABELS.knot}=${root}`,
  ]);
  return stdout.split("\n").filter((l) => l !== "").sort();
}

/** Removes what a test left of the knots in these folders, whatever it did. */
async function cleanUp(roots: string[], extra: string[] = []): Promise<void> {
  for (const root of roots) {
    await quiet.removeContainer(await containersOf(root), { force: true, missingOk: true });
    const images = await knotImageIds(root);
    await quiet.removeImage(images, { force: true, missingOk: true }).catch(() => {});
  }
  await quiet.removeImage(extra, { force: true, missingOk: true }).catch(() => {});
}

/** A container of the knot in `root` that never ran, made with Docker's own command line. */
async function leftContainer(root: string, image: string, name: string): Promise<void> {
  await quiet.command([
    "create",
    "--name",
    name,
    "--label",
    `${DOCKER_CONTAINER_LABELS.knot}=${root}`,
    "--label",
    `${DOCKER_CONTAINER_LABELS.run}=20260101T000000Z-abcdef`,
    image,
  ]);
}

/** An image labelled as the image of the knot in `root`, built on `base`; returns its id. */
async function knotImage(root: string, base: string, context: string, tag?: string) {
  await Deno.mkdir(context, { recursive: true });
  await Deno.writeTextFile(
    join(context, "Dockerfile"),
    `FROM ${base}\nLABEL ${IMAGE_NAME_LABEL}="${await dockerImageName(root)}"\n`,
  );
  const { stdout } = await quiet.command([
    "build",
    "--quiet",
    ...(tag !== undefined ? ["--tag", tag] : []),
    context,
  ]);
  return stdout.trim();
}

dockerTest(
  "gc lists the container and the image a docker run's driver killed after its knot's clobber left, and deleteGarbage removes them",
  async () => {
    await withDockerKnots("cloudknot-gc-docker-", async ({ dir, knotOptions, baseImage }) => {
      const gates = join(dir, "gates");
      await Deno.mkdir(gates);
      const root = join(dir, "raced");
      const state = new StateFile({ path: join(dir, "cloudknot.ini") });
      const driver = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--lock=tests/deno.lock", RACED_DRIVER, dir, baseImage, gates, "hang"],
        stdout: "null",
        stderr: "null",
      }).spawn();
      try {
        await made(join(gates, "starting"), driver);
        // Clobbered as the driver starts the run's container, which it is killed before removing.
        const knot = await Knot.create({
          ...knotOptions,
          name: "raced",
          docker: new HeldClobber(gates, driver),
        });
        await knot.clobber();
        driver.kill("SIGKILL");
        await driver.status;
        const [container] = await containersOf(root);
        assert.ok(container !== undefined, "the clobber left the run's container");
        const [image] = await knotImageIds(root);
        assert.ok(image !== undefined, "and the image it uses");

        const found = await findLocalGarbage({ localDir: dir, state, docker: quiet });
        assert.deepEqual(found.map((g) => [g.kind, g.id, g.owner, g.dir]), [
          ["docker-container", container, "knot raced", root],
          ["docker-image", image, "knot raced", root],
        ]);
        assert.match(
          found[0]!.reason,
          /^docker knot raced is gone \(no folder .*raced\): a container of its run \S+/,
        );
        assert.match(
          found[1]!.reason,
          /an untagged image of one of its functions, which no other container uses/,
        );
        assert.deepEqual(await containersOf(root), [container], "finding deletes nothing");

        const done = await deleteGarbage(found, { state, docker: quiet });
        assert.deepEqual(done.failed, []);
        assert.deepEqual(done.deleted.map((g) => g.id), [container, image]);
        assert.deepEqual(await containersOf(root), []);
        assert.deepEqual(await knotImageIds(root), []);
        // The knot's folder, made to hold its lock meanwhile, is not left behind.
        assert.equal(await Deno.stat(root).then(() => true, () => false), false);
        assert.deepEqual(await findLocalGarbage({ localDir: dir, state, docker: quiet }), []);
        // Gone already when asked again: counted apart.
        const again = await deleteGarbage(found, { state, docker: quiet });
        assert.deepEqual(again.gone.map((g) => g.id), [container, image]);
      } finally {
        try {
          driver.kill("SIGKILL");
        } catch { /* it has ended */ }
        await driver.status;
        await cleanUp([root]);
      }
    });
  },
);

dockerTest(
  "gc never lists the containers and images of a docker knot that is there, of a knot of another knots directory, nor an image tagged for another or used by another container",
  async () => {
    await withDockerKnots("cloudknot-gc-docker-kept-", async ({ dir, baseImage }) => {
      const state = new StateFile({ path: join(dir, "cloudknot.ini") });
      const knots = join(dir, "knots");
      const other = join(dir, "other-knots");
      const here = join(knots, "here");
      const gone = join(knots, "gone");
      const elsewhere = join(other, "gone");
      const tagged = join(knots, "tagged");
      const used = join(knots, "used");
      const id = crypto.randomUUID().slice(0, 8);
      const foreign = `cloudknot-gc-test-${id}:foreign`;
      try {
        await Deno.mkdir(here, { recursive: true });
        await Deno.mkdir(other, { recursive: true });
        // Knots whose folder is there: one with a container of its own, and its image.
        const hereImage = await knotImage(here, baseImage, join(dir, "ctx-here"));
        await leftContainer(here, hereImage, `cloudknot-gc-here-${id}`);
        // The same name in another knots directory, gone: its container and image.
        const elsewhereImage = await knotImage(elsewhere, baseImage, join(dir, "ctx-elsewhere"));
        await leftContainer(elsewhere, elsewhereImage, `cloudknot-gc-elsewhere-${id}`);
        // Gone knots of this directory: an image also tagged for someone else, one another
        // container uses, and one that is garbage.
        const taggedImage = await knotImage(tagged, baseImage, join(dir, "ctx-tagged"), foreign);
        const usedImage = await knotImage(used, baseImage, join(dir, "ctx-used"));
        await quiet.command(["create", "--name", `cloudknot-gc-user-${id}`, usedImage]);
        const goneImage = await knotImage(gone, baseImage, join(dir, "ctx-gone"));
        await leftContainer(gone, goneImage, `cloudknot-gc-gone-${id}`);

        const found = await findLocalGarbage({ localDir: knots, state, docker: quiet });
        assert.deepEqual(found.map((g) => [g.kind, g.id, g.dir]), [
          ["docker-container", `cloudknot-gc-gone-${id}`, gone],
          ["docker-image", goneImage, gone],
        ]);
        // The other directory's are judged there only.
        const there = await findLocalGarbage({ localDir: other, state, docker: quiet });
        assert.deepEqual(there.map((g) => [g.kind, g.id]), [
          ["docker-container", `cloudknot-gc-elsewhere-${id}`],
          ["docker-image", elsewhereImage],
        ]);

        // A knot in that folder again before the deletion: it keeps them.
        await Deno.mkdir(gone);
        const kept = await deleteGarbage(found, { state, docker: quiet });
        assert.deepEqual(kept.deleted, []);
        assert.equal(kept.failed.length, 2);
        for (const { error } of kept.failed) {
          assert.match(error, /was kept: a knot is in .*gone again/);
        }
        assert.deepEqual(await containersOf(gone), [`cloudknot-gc-gone-${id}`]);
        assert.deepEqual(await knotImageIds(gone), [goneImage]);
        // Gone again: deleted; the image after its container.
        await Deno.remove(gone);
        const done = await deleteGarbage(found, { state, docker: quiet });
        assert.deepEqual(done.failed, []);
        assert.deepEqual(done.deleted.map((g: GarbageItem) => g.kind), [
          "docker-container",
          "docker-image",
        ]);
        assert.deepEqual(await containersOf(gone), []);
        assert.deepEqual(await knotImageIds(gone), []);
        assert.deepEqual(await containersOf(here), [`cloudknot-gc-here-${id}`]);
        assert.deepEqual(await knotImageIds(here), [hereImage]);
        assert.deepEqual(await knotImageIds(tagged), [taggedImage]);
        assert.deepEqual(await knotImageIds(used), [usedImage]);
      } finally {
        await quiet.removeContainer([`cloudknot-gc-user-${id}`], { force: true, missingOk: true });
        await cleanUp([here, gone, elsewhere, tagged, used], [foreign]);
      }
    });
  },
);
