// A docker knot's network option that names no network of the Docker engine is refused before
// anything is built, made or run, naming the network and what to do, in real Docker: at
// Knot.create (no knot folder, no image), and at a map once the network is gone (no run folder,
// no container). Under CI=true this test fails without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { CloudknotInputError, Knot } from "../../../mod.ts";
import { CONTAINER_LABELS } from "../../../src/targets/docker/docker_target.ts";
import { Docker } from "../../../src/docker/docker.ts";
import { refuseMissingNetwork } from "../../../src/targets/docker/knot_options.ts";
import { knotImageIds, withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { rejects } from "../../support/rejects.ts";
import { containers, quiet } from "./docker_runs.ts";

const square = (x: number) => x * x;

/** A create that must be refused; a knot it made all the same is clobbered, its image with it. */
const refused = (created: Promise<Knot<typeof square>>) =>
  rejects(created.then(async (knot) => await knot.clobber()), CloudknotInputError);

dockerTest(
  "Knot.create with a network the Docker engine lacks is refused before the knot's folder or image is made, saying to create the network or give another",
  async () => {
    await withDockerKnots("cloudknot-docker-network-", async ({ dir, knotOptions }) => {
      const network = `cloudknot-test-no-net-${crypto.randomUUID().slice(0, 8)}`;
      const root = join(dir, "no-net");
      const error = await refused(
        Knot.create({ ...knotOptions, name: "no-net", func: square, network }),
      );
      assert.equal(error.field, "network");
      assert.equal(
        error.message,
        `The network option of docker knot no-net is "${network}", but this Docker engine has ` +
          `no network ${network}: create it first (docker network create ${network}), or give ` +
          `Knot.create a network it has (docker network ls lists them), such as "bridge"`,
      );
      assert.equal(await Deno.stat(root).then(() => true, () => false), false, "no knot folder");
      assert.deepEqual(await knotImageIds(root), [], "no image built");
      // The network of a container that is not there, likewise.
      const other = await refused(
        Knot.create({
          ...knotOptions,
          name: "no-net",
          func: square,
          network: `container:${network}`,
        }),
      );
      assert.match(other.message, /has no container cloudknot-test-no-net-/);
      assert.equal(await Deno.stat(root).then(() => true, () => false), false, "no knot folder");
    });
  },
);

dockerTest(
  "a map of a docker knot whose network was removed since it was opened is refused before its run folder or any container is made",
  async () => {
    await withDockerKnots("cloudknot-docker-network-", async ({ dir, knotOptions }) => {
      const network = `cloudknot-test-net-${crypto.randomUUID().slice(0, 8)}`;
      await quiet.command(["network", "create", network]);
      let knot: Knot<typeof square> | undefined;
      try {
        knot = await Knot.create({ ...knotOptions, name: "net-gone", func: square, network });
      } finally {
        await quiet.command(["network", "rm", network]);
      }
      try {
        const error = await rejects(knot.map([1, 2], { progress: false }), CloudknotInputError);
        assert.equal(error.field, "network");
        assert.match(error.message, new RegExp(`has no network ${network}: create it first`));
        const runs = await Array.fromAsync(Deno.readDir(join(dir, "net-gone", "runs"))).catch(
          () => [],
        );
        assert.deepEqual(runs, [], "no run folder");
        assert.deepEqual(
          await containers({ [CONTAINER_LABELS.knot]: join(dir, "net-gone") }),
          [],
          "no container",
        );
      } finally {
        await knot.clobber();
      }
    });
  },
);

dockerTest(
  'the network "default", the Docker engine\'s default mode that docker run takes and docker network inspect does not know, and "bridge" are not refused',
  async () => {
    for (const network of ["default", "bridge", "host"]) {
      await refuseMissingNetwork(new Docker(), network, "squares");
    }
  },
);
