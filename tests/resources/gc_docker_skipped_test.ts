// gc without Docker (not installed, or its daemon down): it still finds and
// deletes this machine's other garbage, and says that it skipped Docker, so
// the containers and images of gone docker knots were not looked for. Needs
// no Docker: the docker client is one that is not there, or points at a
// socket no daemon answers.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Docker } from "../../src/docker/mod.ts";
import { deleteGarbage, findLocalGarbage } from "../../src/resources/mod.ts";
import { LOCK_GRACE_MS } from "../../src/resources/_run_leftovers.ts";
import { StateFile } from "../../src/state/mod.ts";
import { cli, withHome } from "../cli/helpers.ts";

/** A half-made artifact folder of a knot, older than gc's grace: garbage that needs no Docker. */
async function halfMadeArtifact(knots: string): Promise<string> {
  const folder = join(knots, "halfmade", "artifacts", `.${"a".repeat(64)}.tmp-x1y2`);
  await Deno.mkdir(folder, { recursive: true });
  const past = new Date(Date.now() - 2 * LOCK_GRACE_MS);
  await Deno.utime(folder, past, past);
  return folder;
}

Deno.test("gc without a docker client finds and deletes the rest of this machine's garbage, and says it skipped Docker", async () => {
  const base = await Deno.makeTempDir({ prefix: "cloudknot-gc-no-docker-" });
  try {
    const knots = join(base, "knots");
    const folder = await halfMadeArtifact(knots);
    const state = new StateFile({ path: join(base, "cloudknot") });
    // The mark of a build killed before its push: judged by asking Docker for its tag, so not now.
    const hold = `cloudknot/squares:hold-${crypto.randomUUID()}`;
    await Deno.writeTextFile(await state.holdFile(hold), "");
    assert.deepEqual(await state.holdsLeft(), [hold]);
    const docker = new Docker({ binary: join(base, "no-docker"), logger: () => {} });
    const said: string[] = [];
    const found = await findLocalGarbage({
      localDir: knots,
      state,
      docker,
      warn: (m) => said.push(m),
    });
    assert.deepEqual(found.map((g) => [g.kind, g.id]), [["artifact-folder", folder]]);
    assert.equal(said.length, 1, said.join("\n"));
    assert.match(
      said[0]!,
      /^gc skipped Docker: Docker is not installed \(no ".*no-docker"\), so it did not look for the containers and images of docker knots whose folder is gone, nor for the image tags that builds killed before their push left; look again once Docker answers$/,
    );
    const done = await deleteGarbage(found, { state, docker });
    assert.deepEqual(done.failed, []);
    assert.deepEqual(done.deleted.map((g) => g.id), [folder]);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("cloudknot gc --local with no Docker daemon to answer lists and deletes the rest, saying on stderr that it skipped Docker", async () => {
  await withHome(async (home) => {
    const env = { HOME: join(home.dir, "home"), DOCKER_HOST: "unix:///nonexistent/docker.sock" };
    const folder = await halfMadeArtifact(home.env.CLOUDKNOT_LOCAL_DIR!);
    const skipped =
      /gc skipped Docker: (the Docker daemon is not running|Docker is not installed) .*, so it did not look for the containers and images of docker knots whose folder is gone/;

    const dry = await cli(home, ["gc", "--local"], { env });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /artifact-folder .*\.tmp-x1y2 +knot halfmade/);
    assert.match(dry.stderr, skipped);

    const done = await cli(home, ["gc", "--local", "--yes", "--json"], { env });
    assert.equal(done.code, 0, done.stderr);
    assert.deepEqual(JSON.parse(done.stdout).deleted.map((g: { id: string }) => g.id), [folder]);
    assert.match(done.stderr, skipped);
  });
});

Deno.test("cloudknot gc --json with no Docker daemon to answer says in its JSON document that it skipped Docker, and why, also when it found nothing", async () => {
  await withHome(async (home) => {
    const env = { HOME: join(home.dir, "home"), DOCKER_HOST: "unix:///nonexistent/docker.sock" };
    const why = /^(the Docker daemon is not running|Docker is not installed) /;

    // Nothing to collect, and Docker not looked at: the document tells the two apart.
    const none = await cli(home, ["gc", "--local", "--json"], { env });
    assert.equal(none.code, 0, none.stderr);
    const empty = JSON.parse(none.stdout);
    assert.deepEqual(empty.items, []);
    assert.match(empty.dockerSkipped, why);

    const folder = await halfMadeArtifact(home.env.CLOUDKNOT_LOCAL_DIR!);
    const dry = await cli(home, ["gc", "--local", "--json"], { env });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(JSON.parse(dry.stdout).dockerSkipped, why);

    const done = await cli(home, ["gc", "--local", "--yes", "--json"], { env });
    assert.equal(done.code, 0, done.stderr);
    const result = JSON.parse(done.stdout);
    assert.deepEqual(result.deleted.map((g: { id: string }) => g.id), [folder]);
    assert.match(result.dockerSkipped, why);
  });
});
