// `image build|push|list|clobber` through a real process, with the local
// Docker engine and the emulator's ECR (backed by a real registry).
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { inCliWords } from "../../src/cli/common/cli_words.ts";
import { imagePush } from "../../src/cli/commands/image_push.ts";
import { Docker } from "../../src/docker/mod.ts";
import { DockerImage } from "../../src/image/docker_image.ts";
import { StateFile } from "../../src/state/mod.ts";
import { CloudknotInputError } from "../../src/util/errors.ts";
import { sessionFor } from "../support/aws_session.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { withAwsHome } from "./aws_helpers.ts";
import { cli, cliHere, JOBS, withHome } from "./helpers.ts";

dockerTest("image build, list, push and clobber", async () => {
  const baseImage = await ensureBaseImage();
  const docker = new Docker({ logger: () => {} });
  await withAwsHome(async (home) => {
    const env = { CLOUDKNOT_BASE_IMAGE: baseImage };
    assert.equal((await cli(home, ["configure", "--region", "us-east-1"])).code, 0);
    const empty = await cli(home, ["image", "list", "--json"], { env });
    assert.deepEqual(JSON.parse(empty.stdout), []);

    const built = await cli(home, [
      "image",
      "build",
      JOBS,
      "square",
      "--name",
      "cli-square",
      "--tag",
      "v1",
      "--tag",
      "stable",
      "--json",
    ], { env });
    assert.equal(built.code, 0, built.stderr);
    const info = JSON.parse(built.stdout);
    assert.equal(info.name, "cli-square");
    assert.deepEqual(info.images, ["cloudknot/cli-square:v1", "cloudknot/cli-square:stable"]);
    assert.equal(info.baseImage, baseImage);
    assert.equal(info.buildPath, join(home.env.HOME!, ".cloudknot", "images", "cli-square"));
    assert.match(info.imageId, /^sha256:[0-9a-f]{64}$/);
    assert.match(built.stderr, /Successfully tagged cloudknot\/cli-square:stable/);
    assert.equal((await docker.inspectImage("cloudknot/cli-square:v1"))?.Id, info.imageId);

    // The default tag is the function's hash; --quiet keeps Docker's output out.
    const again = await cli(
      home,
      ["image", "build", JOBS, "square", "--name", "cli-square", "-q"],
      {
        env,
      },
    );
    assert.equal(again.code, 0, again.stderr);
    const hashTag = /^Built cloudknot\/cli-square:([0-9a-f]{12}) \(sha256:([0-9a-f]{12})\)$/m.exec(
      again.stdout,
    );
    assert.ok(hashTag, again.stdout);
    assert.equal(hashTag[2], info.imageId.slice(7, 19), "the same function makes the same image");
    assert.equal(again.stderr, "");

    const list = await cli(home, ["image", "list", "--json"]);
    const [listed] = JSON.parse(list.stdout);
    assert.equal(listed.name, "cli-square");
    assert.equal(listed.images.length, 3);
    assert.equal(listed.imageUri, null);

    const pushed = await cli(home, [
      "image",
      "push",
      "cli-square",
      "--repo",
      "cli-knots",
      "--json",
    ]);
    assert.equal(pushed.code, 0, pushed.stderr);
    const push = JSON.parse(pushed.stdout);
    const repo = home.emu.ecr.repositories.get("cli-knots")!;
    assert.equal(push.repoUri, repo.repositoryUri);
    assert.match(push.imageUri, new RegExp(`^${repo.repositoryUri}@sha256:[0-9a-f]{64}$`));
    // Every tag that names the latest build's image.
    assert.deepEqual(push.tags.sort(), [hashTag[1], "stable", "v1"].sort());
    assert.match(pushed.stderr, /Login Succeeded/);
    assert.ok(
      (await Deno.stat(join(home.env.HOME!, ".cloudknot", "docker-config"))).isDirectory,
      "the login went to ~/.cloudknot/docker-config",
    );
    const session = await sessionFor(home.emu);
    const { imageDetails } = await session.ecr.describeImages({ repositoryName: "cli-knots" });
    assert.equal(imageDetails?.[0]?.imageDigest, push.digest);
    const table = await cli(home, ["image", "list"]);
    assert.match(table.stdout, /^NAME +LOCAL +PUSHED$/m);
    assert.ok(table.stdout.includes(push.imageUri), table.stdout);

    const noYes = await cli(home, ["image", "clobber", "cli-square"]);
    assert.equal(noYes.code, 2);
    const clobbered = await cli(home, ["image", "clobber", "cli-square", "--yes"]);
    assert.equal(clobbered.code, 0, clobbered.stderr);
    assert.match(clobbered.stdout, /^Clobbered image cli-square: removed cloudknot\/cli-square:v1/);
    assert.equal(await docker.inspectImage("cloudknot/cli-square:v1"), undefined);
    assert.deepEqual(JSON.parse((await cli(home, ["image", "list", "--json"])).stdout), []);
    const missing = await cli(home, ["image", "clobber", "cli-square", "--yes"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: There is no image named "cli-square"/m);
    // The pushed image stays with its repository.
    assert.equal(home.emu.ecr.repositories.has("cli-knots"), true);
  }, { registry: true });
});

dockerTest("image build: a base image without deno is a one-line error", async () => {
  await withAwsHome(async (home) => {
    const r = await cli(home, [
      "image",
      "build",
      JOBS,
      "square",
      "--base-image",
      "cloudknot-test/no-such-base:1",
      "-q",
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: Cannot use the base image cloudknot-test\/no-such-base:1: it is not on this machine/,
    );
    assert.equal(r.stderr.trimEnd().split("\n").length, 1);
    // The line ends with the cause, the last line of Docker's output, without --debug.
    assert.match(
      r.stderr,
      /pass another --base-image\. (?!Output)\S.* \(run with --debug for the details\)\n$/,
    );
    const missing = await cli(home, ["image", "build", "nope.ts"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: Module nope.ts does not exist/);
  });
});

dockerTest(
  "image build --file ships a data file beside the function in the image, and without it warns in command-line words",
  async () => {
    const baseImage = await ensureBaseImage();
    const docker = new Docker({ logger: () => {} });
    await withAwsHome(async (home) => {
      const project = join(home.dir, "project");
      await Deno.mkdir(project);
      await Deno.writeTextFile(
        join(project, "job.ts"),
        "export async function score(x: number): Promise<number> {\n" +
          '  return x * JSON.parse(await Deno.readTextFile(new URL("./model.json", import.meta.url))).w;\n}\n',
      );
      await Deno.writeTextFile(join(project, "model.json"), '{"w": 7}');
      const env = { CLOUDKNOT_BASE_IMAGE: baseImage };
      const module = join(project, "job.ts");
      const bare = await cli(
        home,
        ["image", "build", module, "score", "--name", "cli-bare", "-q"],
        {
          env,
        },
      );
      assert.equal(bare.code, 0, bare.stderr);
      assert.match(
        bare.stderr,
        /names its own location[^]*Ship the files it reads beside the function with --file/,
      );
      const built = await cli(home, [
        "image",
        "build",
        module,
        "score",
        "--name",
        "cli-files",
        "--tag",
        "v1",
        "--file",
        "./model.json",
        "-q",
      ], { env });
      assert.equal(built.code, 0, built.stderr);
      assert.equal(built.stderr, "");
      const cat = await new Deno.Command("docker", {
        // The base image of the tests holds deno and its libraries, no cat.
        args: [
          "run",
          "--rm",
          "--entrypoint",
          "deno",
          "cloudknot/cli-files:v1",
          "eval",
          'Deno.stdout.writeSync(Deno.readFileSync("/app/model.json"))',
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(
        new TextDecoder().decode(cat.stdout),
        '{"w": 7}',
        new TextDecoder().decode(cat.stderr),
      );
      for (const name of ["cli-bare", "cli-files"]) {
        assert.equal((await cli(home, ["image", "clobber", name, "--yes"])).code, 0);
      }
      assert.equal(await docker.inspectImage("cloudknot/cli-files:v1"), undefined);
    });
  },
);

Deno.test("image build and push refuse in the command line's words: a build directory with files of the user's, an image that lives in another --dir, and an image without a build, before any repository is made", async () => {
  await withHome(async (home) => {
    const taken = join(home.dir, "taken");
    await Deno.mkdir(taken);
    await Deno.writeTextFile(join(taken, "Dockerfile"), "FROM scratch\n");
    const build = (name: string, dir: string) =>
      cliHere(home, ["image", "build", JOBS, "square", "--name", name, "--dir", dir, "-q"]);
    const conflict = await build("cli-taken", taken);
    assert.equal(conflict.code, 1);
    assert.equal(
      conflict.stderr,
      `error: The build directory ${taken} already holds Dockerfile, which cloudknot did not ` +
        "write: move it away, or choose another --dir\n",
    );
    // An image the config file keeps in one build directory, never built.
    const kept = join(home.dir, "kept");
    await Deno.writeTextFile(
      home.env.CLOUDKNOT_CONFIG_FILE!,
      `[docker-image cli-kept]\nbuild-path = ${kept}\nkind = module\nimages = \n`,
    );
    const moved = await build("cli-kept", join(home.dir, "elsewhere"));
    assert.equal(moved.code, 1);
    assert.equal(
      moved.stderr,
      `error: Image "cli-kept" already lives in ${kept}: omit --dir to use it, or run cloudknot ` +
        `image clobber cli-kept first to move it to ${join(home.dir, "elsewhere")}\n`,
    );
    // Refused before AWS is asked: no region, keys or endpoint are set.
    for (const name of ["cli-kept", "nosuch"]) {
      const push = await cliHere(home, ["image", "push", name]);
      assert.equal(push.code, 1);
      assert.equal(
        push.stderr,
        `error: Image ${name} has no build to push in ${home.env.CLOUDKNOT_CONFIG_FILE}: build ` +
          "it first (cloudknot image build)\n",
      );
    }
  });
});

Deno.test("pushing an image whose build is gone from this machine says to build it again with image build", async () => {
  const state = new StateFile({ path: join(await Deno.makeTempDir(), "cloudknot") });
  try {
    await Deno.writeTextFile(
      state.path,
      `[docker-image gone]\nbuild-path = ${join(dirname(state.path), "gone")}\nkind = module\n` +
        "images = cloudknot/gone:v1\n",
    );
    // A Docker engine that has no image.
    const docker = new class extends Docker {
      override inspectImage() {
        return Promise.resolve(undefined);
      }
    }({ logger: () => {} });
    const image = await DockerImage.create({ name: "gone", state, docker });
    const error = await image.push({
      repoUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/cloudknot",
    })
      .then(() => undefined, (e: Error) => e);
    assert.ok(error instanceof CloudknotInputError);
    assert.equal(
      inCliWords(error, imagePush),
      "The image cloudknot/gone:v1 is no longer on this machine: build it again with cloudknot " +
        "image build before pushing it",
    );
  } finally {
    await Deno.remove(dirname(state.path), { recursive: true });
  }
});
