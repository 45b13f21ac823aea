// DockerRepo against the emulated ECR: create with scan-on-push and
// encryption, adopt, clobber, the default repository's protection, tag-only
// removal, and names checked before any call.
import assert from "node:assert/strict";
import { CloudknotInputError, DefaultRepositoryError, DockerImage, DockerRepo } from "../../mod.ts";
import { Docker } from "../../src/docker/mod.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { startEmulator } from "../emulator/mod.ts";
import { tempWorld } from "./helpers.ts";
import { sessionFor } from "../support/aws_session.ts";

const noEnv = () => undefined;

/** What Deno's Jupyter kernel shows for a value. */
function display(value: object): Record<string, string> {
  return (value as Record<symbol, () => Record<string, string>>)[Symbol.for("Jupyter.display")]!();
}

Deno.test("DockerRepo creates, adopts and clobbers an ECR repository", async (t) => {
  const emu = await startEmulator();
  await using world = await tempWorld();
  try {
    const session = await sessionFor(emu, { retry: { maxAttempts: 1 } });
    const section = `docker-repos ${session.profile} ${session.region}`;

    await t.step("names and tags are checked before any call", async () => {
      const bad: [unknown, RegExp][] = [
        ["a", /Invalid ECR repository name "a"/],
        ["Knots", /Invalid ECR repository name/],
        ["knots_", /Invalid ECR repository name/],
        ["team//knots", /Invalid ECR repository name/],
        ["x".repeat(257), /Invalid ECR repository name/],
        ["", /needs a name/],
        [42, /needs a name/],
      ];
      for (const [name, message] of bad) {
        await assert.rejects(
          DockerRepo.create({ name: name as string, session, state: world.state }),
          (e) => e instanceof CloudknotInputError && message.test(e.message),
          String(name),
        );
      }
      const badTags: unknown[] = [{ "aws:owner": "me" }, { ok: "a\u0000b" }, { "": "x" }, ["x"]];
      for (const tags of badTags) {
        await assert.rejects(
          DockerRepo.create({
            name: "knots",
            tags: tags as Record<string, string>,
            session,
            state: world.state,
          }),
          (e) => e instanceof CloudknotInputError && e.field === "tags",
          JSON.stringify(tags),
        );
      }
      assert.deepEqual(emu.requests.entries, []);
    });

    await t.step("create: scan on push, AES256, tags, recorded in the config file", async () => {
      const repo = await DockerRepo.create({
        name: "team/knots",
        tags: { Team: "imaging" },
        session,
        state: world.state,
      });
      assert.equal(repo.adopted, false);
      assert.equal(repo.name, "team/knots");
      assert.equal(repo.registryId, emu.accountId);
      assert.match(repo.arn, /^arn:aws:ecr:us-east-1:\d{12}:repository\/team\/knots$/);
      const held = emu.ecr.repositories.get("team/knots")!;
      assert.equal(repo.repoUri, held.repositoryUri);
      assert.equal(
        Deno.inspect(repo),
        `DockerRepo team/knots\n  URI:     ${held.repositoryUri}\n  region:  us-east-1\n` +
          "  adopted: no, created here",
      );
      assert.match(display(repo)["text/html"]!, /<b>DockerRepo team\/knots<\/b>/);
      assert.deepEqual(held.imageScanningConfiguration, { scanOnPush: true });
      assert.deepEqual(held.encryptionConfiguration, { encryptionType: "AES256" });
      const { tags } = await session.ecr.listTagsForResource({ resourceArn: repo.arn });
      assert.deepEqual(Object.fromEntries(tags!.map((t) => [t.Key, t.Value])), {
        Project: "Cloudknot global config",
        ManagedBy: "cloudknot",
        Team: "imaging",
      });
      assert.equal(await world.state.get(section, "team/knots"), repo.repoUri);
    });

    await t.step("a lost CreateRepository answer still ends with the repository", async () => {
      // The answer never comes back. Whether the client sees OutcomeUnknown or (when fetch
      // transparently re-sends on a reused connection) RepositoryAlreadyExistsException,
      // DockerRepo looks the repository up instead of failing.
      emu.faults.add({ service: "ecr", operation: "CreateRepository", kind: "lost-response" });
      try {
        const repo = await DockerRepo.create({ name: "lost-answer", session, state: world.state });
        assert.equal(repo.repoUri, emu.ecr.repositories.get("lost-answer")?.repositoryUri);
        assert.equal(await world.state.get(section, "lost-answer"), repo.repoUri);
        assert.ok(emu.faults.list().some((f) => f.hits > 0));
        await repo.clobber({ env: noEnv });
      } finally {
        emu.faults.clear();
      }
    });

    await t.step(
      "a server error on CreateRepository is followed by a look and a second create",
      async () => {
        emu.faults.add({ service: "ecr", operation: "CreateRepository", kind: "503", times: 1 });
        try {
          const repo = await DockerRepo.create({
            name: "unavailable",
            session,
            state: world.state,
          });
          assert.equal(repo.repoUri, emu.ecr.repositories.get("unavailable")?.repositoryUri);
          assert.ok(emu.faults.list().every((f) => f.hits === 1));
          await repo.clobber({ env: noEnv });
        } finally {
          emu.faults.clear();
        }
      },
    );

    await t.step("create again adopts it", async () => {
      const before = emu.count("ecr", "CreateRepository");
      const repo = await DockerRepo.create({
        name: "team/knots",
        tags: { Stage: "test" },
        session,
        state: world.state,
      });
      assert.equal(repo.adopted, true);
      assert.equal(emu.count("ecr", "CreateRepository"), before);
      const { tags } = await session.ecr.listTagsForResource({ resourceArn: repo.arn });
      assert.equal(tags!.find((t) => t.Key === "Stage")?.Value, "test");
      assert.equal(tags!.find((t) => t.Key === "Team")?.Value, "imaging");
    });

    await t.step("clobber deletes it and forgets it", async () => {
      const repo = await DockerRepo.create({ name: "team/knots", session, state: world.state });
      await repo.clobber({ env: noEnv });
      assert.equal(emu.ecr.repositories.has("team/knots"), false);
      assert.equal(await world.state.get(section, "team/knots"), undefined);
      await assert.rejects(repo.removeImage("v1"), /was clobbered/);
      await repo.clobber({ env: noEnv }); // Twice is fine.
    });

    await t.step("clobber refuses the default repository", async () => {
      const cases: [string, () => Promise<void>, (n: string) => string | undefined][] = [
        ["cloudknot", async () => {}, noEnv],
        ["from-env", async () => {}, (n) => n === "CLOUDKNOT_ECR_REPO" ? "from-env" : undefined],
        [
          "from-config",
          () => world.state.set("aws", "ecr-repo", "from-config"),
          (n) => n === "CLOUDKNOT_ECR_REPO" ? "from-env" : undefined,
        ],
      ];
      for (const [name, setup, env] of cases) {
        await setup();
        const repo = await DockerRepo.create({ name, session, state: world.state });
        const deletes = emu.count("ecr", "DeleteRepository");
        const e = await repo.clobber({ env }).catch((e) => e);
        assert.ok(e instanceof DefaultRepositoryError, `${name}: ${e}`);
        assert.equal(e.repository, name);
        assert.match(e.message, /removeImage\(tag\)/);
        assert.equal(emu.count("ecr", "DeleteRepository"), deletes);
        assert.ok(emu.ecr.repositories.has(name));
        assert.equal(await DockerRepo.defaultName({ state: world.state, env }), name);
      }
    });
  } finally {
    await emu.close();
  }
});

dockerTest("removeImage removes one tag and keeps the image for the others", async () => {
  const base = await ensureBaseImage({ docker: new Docker({ logger: () => {} }) });
  const emu = await startEmulator({ runner: "docker" });
  await using world = await tempWorld();
  let image: DockerImage | undefined;
  try {
    const session = await sessionFor(emu, { retry: { maxAttempts: 1 } });
    const repo = await DockerRepo.create({ name: "shared", session, state: world.state });
    image = await DockerImage.create({
      name: `tagged-${crypto.randomUUID().slice(0, 8)}`,
      func: (x: number) => x,
      baseImage: base,
      state: world.state,
      docker: world.docker,
      session,
      cloudknotDir: world.cloudknotDir,
    });
    await image.build({ tags: ["v1", "v2"] });
    const { digest } = await image.push({ repo });

    emu.requests.clear();
    for (const tag of ["latest", "bad tag", ""]) {
      await assert.rejects(
        repo.removeImage(tag),
        (e) => e instanceof CloudknotInputError && e.field === "tags",
      );
    }
    assert.deepEqual(emu.mutatingRequests(), []);

    assert.equal(await repo.removeImage("v2"), true);
    const { imageDetails } = await session.ecr.describeImages({ repositoryName: "shared" });
    assert.deepEqual(imageDetails?.map((i) => [i.imageDigest, i.imageTags]), [[digest, ["v1"]]]);
    assert.equal(await repo.removeImage("v2"), false);

    await repo.clobber({ env: noEnv });
    assert.equal(emu.ecr.repositories.has("shared"), false);
  } finally {
    await image?.clobber();
    await emu.close();
  }
});
