// gc and the images of gone docker knots. It asks Docker about the images of docker knots in one `docker image
// inspect`; an image removed between the listing and that inspect makes the
// batched command fail, and gc then asks again, in one inspect, about the
// images still listed, leaving out the gone one and judging the rest. Docker objects are real: the images are this
// test's own (labelled with the names of knots of its own knots directory),
// and the one removed meanwhile is removed for real by `docker rmi`. An
// image of a gone knot whose name has capitals is found by its spelling.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Docker, type DockerCommandOptions } from "../../src/docker/mod.ts";
import { deleteGarbage, findLocalGarbage } from "../../src/resources/mod.ts";
import { dockerImageName, IMAGE_NAME_LABEL } from "../../src/store/local_knots.ts";
import { StateFile } from "../../src/state/mod.ts";
import { withDockerKnots } from "../support/docker_knots.ts";
import { dockerTest } from "../support/docker_available.ts";

const quiet = new Docker({ logger: () => {} });

/** An image labelled as the image of the knot in `root`, built on `base`; returns its id. */
async function knotImage(root: string, base: string, context: string): Promise<string> {
  await Deno.mkdir(context, { recursive: true });
  await Deno.writeTextFile(
    join(context, "Dockerfile"),
    `FROM ${base}\nLABEL ${IMAGE_NAME_LABEL}="${await dockerImageName(root)}"\n`,
  );
  return (await quiet.command(["build", "--quiet", context])).stdout.trim();
}

/**
 * Docker, which removes an image (for real) just before the first `docker
 * image inspect` of several images runs, as another process removing it
 * between gc's listing and its inspect would; it keeps what each inspect of
 * several images did.
 */
class VanishingImage extends Docker {
  batches: ("failed" | "answered")[] = [];
  #vanish: string | undefined;
  constructor(vanish: string) {
    super({ logger: () => {} });
    this.#vanish = vanish;
  }
  override async command(args: string[], options: DockerCommandOptions = {}) {
    const batch = args[0] === "image" && args[1] === "inspect" && args.length > 3;
    if (batch && this.#vanish !== undefined && args.includes(this.#vanish)) {
      await quiet.removeImage(this.#vanish);
      this.#vanish = undefined;
    }
    try {
      const result = await super.command(args, options);
      if (batch) this.batches.push("answered");
      return result;
    } catch (e) {
      if (batch) this.batches.push("failed");
      throw e;
    }
  }
}

dockerTest(
  "gc judges the images of gone docker knots when one of them is removed between its listing and the batched docker image inspect, asking again in one inspect about those still listed and leaving out the removed one",
  async () => {
    await withDockerKnots("cloudknot-gc-inspect-", async ({ dir, baseImage }) => {
      const state = new StateFile({ path: join(dir, "cloudknot.ini") });
      const [kept, vanished] = [join(dir, "kept"), join(dir, "vanished")];
      const ids: string[] = [];
      try {
        ids.push(await knotImage(kept, baseImage, join(dir, "context-kept")));
        ids.push(await knotImage(vanished, baseImage, join(dir, "context-vanished")));
        const [keptId, vanishedId] = ids as [string, string];
        assert.notEqual(keptId, vanishedId);
        const docker = new VanishingImage(vanishedId);
        const found = await findLocalGarbage({ localDir: dir, state, docker });
        // The batched inspect failed (the image was gone); those still listed (this test's
        // other image among them) were asked again in one inspect, not each alone.
        assert.equal(docker.batches[0], "failed");
        assert.ok(docker.batches.length >= 2, `asked again in one inspect: ${docker.batches}`);
        assert.equal(await quiet.inspectImage(vanishedId), undefined);
        assert.deepEqual(
          found.filter((g) => g.kind === "docker-image").map((g) => [g.id, g.dir]),
          [[keptId, kept]],
        );
      } finally {
        await quiet.removeImage(ids, { force: true, missingOk: true }).catch(() => {});
      }
    });
  },
);

dockerTest(
  "gc lists the image of a gone docker knot whose name has capital letters, with no container of it left, as that knot's",
  async () => {
    await withDockerKnots("cloudknot-gc-capitals-", async ({ dir, baseImage }) => {
      const state = new StateFile({ path: join(dir, "cloudknot.ini") });
      const root = join(dir, "CapsKnot");
      const ids: string[] = [];
      try {
        ids.push(await knotImage(root, baseImage, join(dir, "context-caps")));
        const found = await findLocalGarbage({ localDir: dir, state, docker: quiet });
        assert.deepEqual(
          found.filter((g) => g.kind === "docker-image").map((g) => [g.id, g.dir, g.owner]),
          [[ids[0], root, "knot CapsKnot"]],
        );
        const done = await deleteGarbage(found, { state, docker: quiet });
        assert.deepEqual(done.failed, []);
        assert.equal(await quiet.inspectImage(ids[0]!), undefined);
      } finally {
        await quiet.removeImage(ids, { force: true, missingOk: true }).catch(() => {});
      }
    });
  },
);
