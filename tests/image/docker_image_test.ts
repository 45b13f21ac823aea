// DockerImage on the real engine: build, push through the emulated ECR (a real
// registry behind htpasswd), pull, run one job in a container; layer reuse,
// adoption by name, clobber, and every bad input of the issue.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ArtifactError,
  BaseImageError,
  BuildContextConflictError,
  CloudknotInputError,
  DockerImage,
  DockerRepo,
} from "../../mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import { Docker, DockerBuildError } from "../../src/docker/mod.ts";
import { GENERATED_FILES } from "../../src/image/mod.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { startEmulator } from "../emulator/mod.ts";
import {
  ensureBrokenDenoImage,
  ensureNoDenoImage,
  runInContainer,
  tempWorld,
  valueOf,
} from "./helpers.ts";
import { sessionFor } from "../support/aws_session.ts";
import { rejects } from "../support/rejects.ts";

const quiet = new Docker({ logger: () => {} });

function id(): string {
  return crypto.randomUUID().slice(0, 8);
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

dockerTest(
  "build, push to the emulated ECR, pull into a clean tag, run one job; adopt by name; clobber",
  async (t) => {
    const base = await ensureBaseImage({ docker: quiet });
    const emu = await startEmulator({ runner: "docker" });
    await using world = await tempWorld();
    const session = await sessionFor(emu, { retry: { maxAttempts: 1 } });
    const name = `square-${id()}`;
    const pulled = `cloudknot-test/pulled-${id()}:clean`;
    let repo: DockerRepo | undefined;
    let image: DockerImage | undefined;
    try {
      repo = await DockerRepo.create({ name: `knots-${id()}`, session, state: world.state });
      image = await DockerImage.create({
        name,
        func: function squareOrThrow(x: number) {
          if (x < 0) throw new RangeError(`negative input ${x}`);
          return x * x + 1;
        },
        baseImage: base,
        state: world.state,
        docker: world.docker,
        session,
        cloudknotDir: world.cloudknotDir,
      });
      assert.equal(image.buildPath, join(world.cloudknotDir, "images", name));
      assert.deepEqual(image.generated, [
        "Dockerfile",
        ".dockerignore",
        "runtime.js",
        "worker.js",
        "function.js",
      ]);
      const dockerfile = await Deno.readTextFile(join(image.buildPath, "Dockerfile"));
      assert.match(dockerfile, new RegExp(`^FROM ${base}$`, "m"));
      assert.match(dockerfile, /^RUN \["deno", "--version"\]$/m);
      assert.match(dockerfile, /^USER 1000$/m);
      // The function comes last, so a new function rebuilds that layer only.
      assert.match(dockerfile, /\nCOPY --chown=1000:1000 function\.js \/app\/function\.js\n$/);

      const built = await image.build({ tags: ["v1", "stable"] });
      assert.deepEqual(built.images, [`cloudknot/${name}:v1`, `cloudknot/${name}:stable`]);
      assert.deepEqual(image.images, built.images);
      // One build made both tags.
      assert.equal(world.lines.filter((l) => /^Step 1\/|\[1\/\d+\]/.test(l.text)).length, 1);
      const info = (await quiet.inspectImage(built.images[0]!))!;
      assert.equal(info.Id, built.imageId);
      assert.equal((await quiet.inspectImage(built.images[1]!))!.Id, built.imageId);
      assert.equal(info.Config?.User, "1000");
      assert.equal(info.Architecture, "amd64");
      assert.deepEqual(info.Config?.Entrypoint, [
        "deno",
        "run",
        "-A",
        "--no-prompt",
        "--cached-only",
        "/app/runtime.js",
      ]);
      assert.equal(info.Config?.Labels?.["org.cloudknot.image"], name);
      assert.equal(info.Config?.WorkingDir, "/app");

      await t.step(
        "the image's DENO_DIR holds the runtime's compiled code, for the jobs' user",
        async () => {
          // Built by a RUN before the function's layer, as user 1000.
          assert.match(
            dockerfile,
            /\nUSER 1000\nRUN \["deno", "run", "-A", "--no-prompt", "--cached-only", "data:text\/javascript,[^\n]*await import\('file:\/\/\/app\/runtime\.js'\); await import\('file:\/\/\/app\/worker\.js'\);[^\n]*"\]\nENTRYPOINT /,
          );
          const probe = "const { DatabaseSync } = await import('node:sqlite');" +
            "const path = '/tmp/deno_dir/v8_code_cache_v2';" +
            "const rows = new DatabaseSync(path).prepare('select specifier from codecache').all();" +
            "console.log(JSON.stringify({ uid: Deno.statSync(path).uid, " +
            "specifiers: rows.map((r) => r.specifier) }));";
          const { stdout } = await quiet.command([
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "deno",
            built.imageId,
            "eval",
            probe,
          ]);
          const cache = JSON.parse(stdout.trim().split("\n").at(-1)!);
          assert.equal(cache.uid, 1000);
          // The runtime, its workers' entry, and the fetch a job's S3 reads load on first
          // use; not the function.
          assert.ok(cache.specifiers.includes("file:///app/runtime.js"), stdout);
          assert.ok(cache.specifiers.includes("file:///app/worker.js"), stdout);
          assert.ok(cache.specifiers.includes("ext:deno_fetch/26_fetch.js"), stdout);
          // The process API a job starts its workers with, and the Node timers as a
          // worker loads them for its global setImmediate.
          assert.ok(cache.specifiers.includes("ext:deno_process/40_process.js"), stdout);
          assert.ok(cache.specifiers.includes("node:timers"), stdout);
          assert.ok(!cache.specifiers.includes("file:///app/function.js"), stdout);
        },
      );

      await t.step("push logs in through ECR with an isolated DOCKER_CONFIG", async () => {
        const pushed = await image!.push({ repo: repo! });
        assert.equal(pushed.repoUri, repo!.repoUri);
        assert.deepEqual(pushed.tags, ["v1", "stable"]);
        assert.match(pushed.imageUri, new RegExp(`^${repo!.repoUri}@sha256:[0-9a-f]{64}$`));
        assert.equal(image!.imageUri, pushed.imageUri);
        assert.equal(image!.repoUri, repo!.repoUri);
        assert.equal(emu.count("ecr", "GetAuthorizationToken"), 1);
        const host = repo!.repoUri.split("/")[0]!;
        const config = JSON.parse(
          await Deno.readTextFile(
            join(world.cloudknotDir, "docker-config", host.replace(/:/g, "_"), "config.json"),
          ),
        );
        assert.ok(Object.keys(config.auths).some((k) => k.includes(host)), JSON.stringify(config));
        const { imageDetails } = await session.ecr.describeImages({ repositoryName: repo!.name });
        assert.equal(imageDetails?.length, 1);
        assert.equal(`${repo!.repoUri}@${imageDetails![0]!.imageDigest}`, pushed.imageUri);
        assert.deepEqual(imageDetails![0]!.imageTags?.sort(), ["stable", "v1"]);
        const section = await world.state.section(`docker-image ${name}`);
        assert.equal(section?.get("image-uri"), pushed.imageUri);
        assert.equal(section?.get("repo-uri"), repo!.repoUri);
        assert.equal(section?.get("region"), emu.region);
      });

      await t.step("pull by digest into a clean tag and run one job in the container", async () => {
        const config = await Deno.makeTempDir({ prefix: "cloudknot-pull-" });
        try {
          const puller = quiet.withEnv({ DOCKER_CONFIG: config });
          // Nothing of the image is left locally; the registry needs a login.
          await quiet.removeImage([
            ...image!.images,
            `${repo!.repoUri}:v1`,
            `${repo!.repoUri}:stable`,
          ]);
          assert.equal(await quiet.inspectImage(built.imageId), undefined);
          await assert.rejects(puller.pull(image!.imageUri!), /credentials|unauthorized|auth/i);
          const auth = (await session.ecr.getAuthorizationToken({})).authorizationData![0]!;
          const [user, password] = atob(auth.authorizationToken!).split(":");
          await puller.login(auth.proxyEndpoint!, { username: user!, password: password! });
          await puller.pull(image!.imageUri!);
          await puller.tag(image!.imageUri!, pulled);
          assert.equal((await quiet.inspectImage(pulled))?.Id, built.imageId);

          const ok = await runInContainer(quiet, pulled, [7, -3], { index: 0 });
          assert.equal(ok.code, 0, ok.stderr);
          assert.equal(valueOf(ok.record), 50);

          const failed = await runInContainer(quiet, pulled, [7, -3], { index: 1 });
          assert.equal(failed.code, 1);
          assert.equal(failed.record?.status, "error");
          if (failed.record?.status !== "error") return;
          assert.equal(failed.record.kind, "threw");
          assert.equal(failed.record.error.name, "RangeError");
          assert.equal(failed.record.error.message, "negative input -3");
          // The stack is the container's own: the function ran from /app/function.js,
          // whose map names this file by its portable name, at the throw's line.
          const throwLine = (await Deno.readTextFile(new URL(import.meta.url))).split("\n")
            .findIndex((line) => line.includes("throw new RangeError(`negative input")) + 1;
          assert.match(
            failed.record.error.stack ?? "",
            new RegExp(`\\(cloudknot:[0-9a-f]{12}/src/docker_image_test\\.ts:${throwLine}:\\d+\\)`),
          );
          assert.match(
            failed.stderr,
            /cloudknot job: the item failed: RangeError: negative input -3/,
          );
        } finally {
          await Deno.remove(config, { recursive: true });
        }
      });

      await t.step("a fresh StateFile instance restores the image by name", async () => {
        const restored = await DockerImage.create({
          name,
          state: new StateFile({ path: world.state.path }),
          docker: world.docker,
          session,
          cloudknotDir: world.cloudknotDir,
        });
        assert.equal(restored.buildPath, image!.buildPath);
        assert.equal(restored.baseImage, base);
        assert.deepEqual(restored.images, image!.images);
        assert.equal(restored.repoUri, image!.repoUri);
        assert.equal(restored.imageUri, image!.imageUri);
        assert.equal(restored.artifact?.hash, image!.artifact?.hash);
        assert.equal(restored.artifact?.kind, "func");
        // It builds and pushes again, here to a repoUri. Only the latest build's tags are
        // pushed: "stable" was removed from this machine above.
        await restored.build({ tags: "v1" });
        const again = await restored.push({ repoUri: repo!.repoUri });
        assert.deepEqual(again.tags, ["v1"]);
        assert.equal(
          (await world.state.section(`docker-image ${name}`))?.get("image-uri"),
          again.imageUri,
        );
      });

      await t.step("clobber removes the images, its files and its state only", async () => {
        const notes = join(image!.buildPath, "notes.txt");
        await Deno.writeTextFile(notes, "mine\n");
        const refs = [...image!.images, `${repo!.repoUri}:v1`, `${repo!.repoUri}:stable`];
        await image!.clobber();
        for (const ref of refs) assert.equal(await quiet.inspectImage(ref), undefined, ref);
        for (const file of GENERATED_FILES) {
          assert.equal(await exists(join(image!.buildPath, file)), false, file);
        }
        assert.equal(await Deno.readTextFile(notes), "mine\n");
        assert.equal(await world.state.section(`docker-image ${name}`), undefined);
        await assert.rejects(image!.build({ tags: "v2" }), /was clobbered/);
        // The pushed image stays: the repository owns it.
        const { imageDetails } = await session.ecr.describeImages({ repositoryName: repo!.name });
        assert.ok((imageDetails?.length ?? 0) >= 1);
        // The directory goes once it is empty, when cloudknot made it.
        const again = await DockerImage.create({
          name: `${name}-again`,
          func: (x: number) => x,
          baseImage: base,
          state: world.state,
          docker: world.docker,
          cloudknotDir: world.cloudknotDir,
        });
        assert.equal(again.buildPath, join(world.cloudknotDir, "images", `${name}-again`));
        await again.clobber();
        assert.equal(await exists(again.buildPath), false);
        assert.equal(await exists(image!.buildPath), true);
      });
    } finally {
      await image?.clobber().catch(() => {});
      await quiet.removeImage([pulled, image?.imageUri ?? "none"], { force: true, missingOk: true })
        .catch(() => {});
      await repo?.clobber({ env: () => undefined }).catch(() => {});
      await emu.close();
    }
  },
);

dockerTest(
  "two images of one name with two config files on one machine: a build held until pushed pushes itself though the other build took its local tag, and its clobber leaves that tag",
  async () => {
    const base = await ensureBaseImage({ docker: quiet });
    const emu = await startEmulator({ runner: "docker" });
    await using one = await tempWorld();
    await using two = await tempWorld();
    const session = await sessionFor(emu, { retry: { maxAttempts: 1 } });
    const name = `shared-${id()}`;
    const ref = `cloudknot/${name}:v1`;
    let repo: DockerRepo | undefined;
    try {
      repo = await DockerRepo.create({ name: `knots-${id()}`, session, state: one.state });
      const create = (world: typeof one, func: (x: number) => number) =>
        DockerImage.create({
          name,
          func,
          baseImage: base,
          state: world.state,
          docker: world.docker,
          session,
          cloudknotDir: world.cloudknotDir,
        });
      const first = await create(one, function square(x: number) {
        return x * x;
      });
      const second = await create(two, function cube(x: number) {
        return x * x * x;
      });
      const a = await first.build({ tags: "v1", hold: true });
      const b = await second.build({ tags: "v1", hold: true });
      assert.notEqual(a.imageId, b.imageId);
      assert.equal((await quiet.inspectImage(ref))?.Id, b.imageId);
      // The first one pushes its own build, not the one its local tag names now.
      const pushed = `${repo.repoUri}:v1`;
      await first.push({ repo });
      assert.equal((await quiet.inspectImage(pushed))?.Id, a.imageId);
      // Its clobber, as a failed create's undo, leaves the local tag the second build took.
      await first.clobber({ ownBuildOnly: true });
      assert.equal((await quiet.inspectImage(ref))?.Id, b.imageId);
      // And the second one pushes its own.
      await second.push({ repo });
      assert.equal((await quiet.inspectImage(pushed))?.Id, b.imageId);
      // Pushed, neither build is held any more.
      assert.deepEqual(await quiet.listImages({ reference: `cloudknot/${name}:hold-*` }), []);
      await second.clobber();
      assert.equal(await quiet.inspectImage(ref), undefined);
    } finally {
      const refs = (await quiet.listImages({ reference: `cloudknot/${name}` }))
        .map((i) => `${i.repository}:${i.tag}`);
      if (repo !== undefined) refs.push(`${repo.repoUri}:v1`);
      await quiet.removeImage(refs, { force: true, missingOk: true }).catch(() => {});
      await repo?.clobber({ env: () => undefined }).catch(() => {});
      await emu.close();
    }
  },
);

dockerTest("a changed function rebuilds only the last layer; a user's files are kept", async () => {
  const base = await ensureBaseImage({ docker: quiet });
  await using world = await tempWorld();
  const dir = join(world.root, "project");
  await Deno.mkdir(dir);
  await Deno.writeTextFile(join(dir, "README.md"), "my project\n");
  await Deno.writeTextFile(join(dir, "big.bin"), "x".repeat(1 << 20));
  const name = `layers-${id()}`;
  const common = {
    name,
    baseImage: base,
    dir,
    state: world.state,
    docker: world.docker,
    cloudknotDir: world.cloudknotDir,
  };
  let image = await DockerImage.create({ ...common, func: (x: number) => x + 1 });
  try {
    await image.build({ tags: "one" });
    // A summary in a terminal and in a notebook, not the function's source.
    assert.equal(
      Deno.inspect(image),
      `DockerImage ${name}\n  function:        func (func)\n  base image:      ${base}\n` +
        `  platform:        ${image.platform}\n  images:          cloudknot/${name}:one\n` +
        `  build directory: ${dir}`,
    );
    const shown = (image as unknown as Record<symbol, () => Record<string, string>>)[
      Symbol.for("Jupyter.display")
    ]!();
    assert.equal(shown["text/plain"], Deno.inspect(image));
    assert.doesNotMatch(shown["text/html"]!, /x \+ 1/);
    const first = (await quiet.inspectImage(`cloudknot/${name}:one`))!.RootFS.Layers!;

    // The "refresh function" flow: the same name, a function changed by one line.
    world.lines.length = 0;
    image = await DockerImage.create({ ...common, func: (x: number) => x + 2 });
    assert.equal(image.buildPath, dir);
    assert.match(await Deno.readTextFile(join(dir, "function.js")), /x \+ 2/);
    assert.equal(
      (await world.state.section(`docker-image ${name}`))?.get("function-hash"),
      image.artifact!.hash,
    );
    await image.build({ tags: "two" });
    const second = (await quiet.inspectImage(`cloudknot/${name}:two`))!.RootFS.Layers!;
    assert.equal(second.length, first.length);
    assert.notEqual(second.at(-1), first.at(-1));
    // Every step before the function's came from the cache. The layer the code-cache step
    // wrote is not compared: it differs from run to run, and another test building the same
    // runtime at the same moment leaves a second cached result of that step, which docker may
    // take instead; the layers before it are the same bytes. Taking that other result, docker
    // finds no cached LABEL step below it (the labels name this image) and writes them again:
    // labels are metadata, no layer, so they are not steps this test counts.
    assert.deepEqual(second.slice(0, -2), first.slice(0, -2));
    const log = world.lines.map((l) => l.text).join("\n");
    const steps = log.split(/^Step \d+\/\d+ : /m).slice(1);
    if (steps.length > 0) {
      assert.deepEqual(
        steps.filter((step) => !/^(FROM|LABEL) |Using cache/.test(step))
          .map((step) => step.split("\n")[0]),
        [`COPY --chown=1000:1000 function.js /app/function.js`],
        log,
      );
    } else assert.ok(log.split(/\bCACHED\b/).length - 1 >= 3, log); // BuildKit's words
    // The build context holds only cloudknot's files, not the 1 MiB file beside them.
    assert.ok(
      world.lines.some((l) => /Sending build context to Docker daemon\s+[0-9.]+kB/.test(l.text)) ||
        !world.lines.some((l) => /Sending build context/.test(l.text)),
    );
    const out = await runInContainer(quiet, `cloudknot/${name}:two`, [40]);
    assert.equal(valueOf(out.record), 42);
    assert.deepEqual(image.images, [`cloudknot/${name}:one`, `cloudknot/${name}:two`]);

    await image.clobber();
    assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(), [
      "README.md",
      "big.bin",
    ]);
    assert.equal(await quiet.inspectImage(`cloudknot/${name}:one`), undefined);
  } finally {
    await image.clobber();
  }
});

dockerTest(
  "an amd64 image built where Docker runs on arm64 is said to be built under emulation",
  async () => {
    const base = await ensureBaseImage({ docker: quiet });
    await using world = await tempWorld();
    // The machine's docker, except that its engine says it runs on arm64.
    const fake = join(world.root, "docker-on-arm64");
    await Deno.writeTextFile(
      fake,
      `#!/bin/sh\nif [ "$1" = version ]; then echo '{"Client":{"Version":"27","ApiVersion":"1.47"},` +
        `"Server":{"Version":"27","ApiVersion":"1.47","Os":"linux","Arch":"arm64"}}'; exit 0; fi\n` +
        `exec docker "$@"\n`,
    );
    await Deno.chmod(fake, 0o755);
    const name = `emulated-${id()}`;
    const common = {
      name,
      func: (x: number) => x + 1,
      baseImage: base,
      state: world.state,
      cloudknotDir: world.cloudknotDir,
    };
    const image = await DockerImage.create({
      ...common,
      docker: new Docker({ binary: fake, logger: () => {} }),
    });
    let native: DockerImage | undefined;
    try {
      const warnings: string[] = [];
      await image.build({ tags: "one", warn: (m) => warnings.push(m) });
      assert.equal(warnings.length, 1);
      assert.match(
        warnings[0]!,
        /Docker runs on arm64 and image emulated-\w+ is built for linux\/amd64 .* under emulation/,
      );
      // Where Docker's own CPU is the image's, nothing is said.
      native = await DockerImage.create({ ...common, docker: quiet });
      const none: string[] = [];
      await native.build({ tags: "two", warn: (m) => none.push(m) });
      assert.deepEqual(none, []);
    } finally {
      // Each object removes the tags it built.
      await image.clobber();
      await native?.clobber();
    }
  },
);

dockerTest("a module that imports an npm package runs in a container with no network", async () => {
  const base = await ensureBaseImage({ docker: quiet });
  await using world = await tempWorld();
  const image = await DockerImage.create({
    module: new URL("../fixtures/npm_job.ts", import.meta.url),
    exportName: "classify",
    name: `npm-${id()}`,
    baseImage: base,
    state: world.state,
    docker: world.docker,
    cloudknotDir: world.cloudknotDir,
  });
  try {
    assert.equal(image.artifact?.kind, "module");
    await image.build({ tags: "v1" });
    const ref = image.images[0]!;
    const number = await runInContainer(quiet, ref, ["12", "twelve"], { network: "none" });
    assert.equal(number.code, 0, number.stderr);
    assert.equal(valueOf(number.record), "number");
    const other = await runInContainer(quiet, ref, ["12", "twelve"], {
      index: 1,
      network: "none",
    });
    assert.equal(valueOf(other.record), "other");
  } finally {
    await image.clobber();
  }
});

dockerTest("a base image without a working deno fails at build with a hint", async (t) => {
  await using world = await tempWorld();
  const common = {
    func: (x: number) => x,
    state: world.state,
    docker: world.docker,
    cloudknotDir: world.cloudknotDir,
  };
  const made: DockerImage[] = [];
  try {
    await t.step("no deno on PATH", async () => {
      const baseImage = await ensureNoDenoImage(quiet);
      const image = await DockerImage.create({ ...common, name: `nodeno-${id()}`, baseImage });
      made.push(image);
      const e = await image.build({ tags: "v1" }).catch((e) => e);
      assert.ok(e instanceof BaseImageError, String(e));
      assert.equal(e.problem, "no-deno");
      assert.equal(e.baseImage, baseImage);
      assert.match(e.message, /has no deno on PATH: use denoland\/deno:\d+\.\d+\.\d+ or a base/);
      assert.match(e.message, /executable file not found/);
      assert.ok(e.cause instanceof DockerBuildError);
      assert.match(e.step ?? "", /RUN \["deno", "--version"\]/);
      assert.deepEqual(image.images, []);
    });
    await t.step("a deno that does not run: the failing step's output is reported", async () => {
      const baseImage = await ensureBrokenDenoImage(quiet);
      const image = await DockerImage.create({ ...common, name: `brokendeno-${id()}`, baseImage });
      made.push(image);
      const e = await image.build({ tags: "v1" }).catch((e) => e);
      assert.ok(e instanceof BaseImageError, String(e));
      assert.equal(e.problem, "deno-failed");
      assert.ok(e.stepOutput.some((l) => /Illegal option/.test(l)), e.stepOutput.join("\n"));
      assert.match(e.message, /Illegal option/);
      assert.match(e.message, /does not run/);
    });
    await t.step("a base image that is not here and cannot be pulled", async () => {
      const baseImage = `cloudknot-test/does-not-exist-${id()}:1`;
      const image = await DockerImage.create({ ...common, name: `missing-${id()}`, baseImage });
      made.push(image);
      const e = await image.build({ tags: "v1" }).catch((e) => e);
      assert.ok(e instanceof BaseImageError, String(e));
      assert.equal(e.problem, "unavailable");
      assert.match(e.message, /cannot be pulled/);
    });
  } finally {
    for (const image of made) await image.clobber();
  }
});

Deno.test("bad input to DockerImage gets typed errors before anything runs", async (t) => {
  await using world = await tempWorld();
  // Any docker call would fail with DockerNotInstalledError instead of the expected error.
  const noDocker = new Docker({ binary: join(world.root, "no-docker"), logger: () => {} });
  const common = { state: world.state, docker: noDocker, cloudknotDir: world.cloudknotDir };
  const square = (x: number) => x * x;

  await t.step("func and module together, or neither", async () => {
    await assert.rejects(
      DockerImage.create({ ...common, func: square, module: "./x.ts" }),
      (e) => e instanceof CloudknotInputError && /either func or module/.test(e.message),
    );
    await assert.rejects(
      DockerImage.create({ ...common }),
      (e) =>
        e instanceof CloudknotInputError && /Pass func, or module and exportName/.test(e.message),
    );
    await assert.rejects(
      DockerImage.create({ ...common, exportName: "f" }),
      (e) => e instanceof CloudknotInputError && e.field === "exportName",
    );
    await assert.rejects(
      DockerImage.create({ ...common, name: "never-made" }),
      (e) => e instanceof CloudknotInputError && /no image named "never-made"/.test(e.message),
    );
  });

  await t.step("names", async () => {
    await assert.rejects(
      DockerImage.create({ ...common, func: square, name: "Bad_Name" }),
      (e) => e instanceof CloudknotInputError && /Invalid image name "Bad_Name"/.test(e.message),
    );
    await assert.rejects(
      DockerImage.create({ ...common, func: (x: number) => x }),
      (e) => e instanceof CloudknotInputError && /anonymous function: pass name/.test(e.message),
    );
    const named = await DockerImage.create({
      ...common,
      func: function fitHTTPModel(x: number) {
        return x;
      },
      baseImage: "example.com/deno:1",
    });
    assert.equal(named.name, "fit-http-model");
    assert.equal(named.localName, "cloudknot/fit-http-model");
    await named.clobber();
  });

  await t.step("a module whose graph cannot be captured names the module", async () => {
    const module = join(world.root, "broken_job.ts");
    await Deno.writeTextFile(
      module,
      'import { x } from "./missing.ts";\nexport default () => x;\n',
    );
    const e = await DockerImage.create({ ...common, module, name: "broken" }).catch((e) => e);
    assert.ok(e instanceof ArtifactError, String(e));
    assert.equal(e.module, module);
    assert.match(e.message, /broken_job\.ts/);
    assert.equal(await world.state.section("docker-image broken"), undefined);
  });

  const dir = join(world.root, "mine");
  let image: DockerImage | undefined;
  await t.step("files the user wrote are not overwritten without overwrite: true", async () => {
    await Deno.mkdir(dir);
    await Deno.writeTextFile(join(dir, "Dockerfile"), "FROM scratch\n");
    await Deno.writeTextFile(join(dir, "function.js"), "// mine\n");
    const e = await DockerImage.create({ ...common, func: square, name: "mine", dir })
      .catch((e) => e);
    assert.ok(e instanceof BuildContextConflictError, String(e));
    assert.deepEqual(e.files, ["Dockerfile", "function.js"]);
    assert.match(e.message, /overwrite: true/);
    // Nothing was written.
    assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((f) => f.name).sort(), [
      "Dockerfile",
      "function.js",
    ]);
    image = await DockerImage.create({
      ...common,
      func: square,
      name: "mine",
      dir,
      overwrite: true,
    });
    assert.match(await Deno.readTextFile(join(dir, "Dockerfile")), /^FROM denoland\/deno:/m);
    // A second create with another dir for the same name is refused.
    await assert.rejects(
      DockerImage.create({ ...common, func: square, name: "mine", dir: world.root }),
      (e) => e instanceof CloudknotInputError && /already lives in/.test(e.message),
    );
  });

  await t.step("tags are checked before any docker call", async () => {
    for (const tags of ["latest", ["v1", "latest"]]) {
      await assert.rejects(
        image!.build({ tags }),
        (e) => e instanceof CloudknotInputError && /"latest" is refused/.test(e.message),
      );
    }
    for (const tags of ["-v1", "a b", "x".repeat(129), "v1:2", [], ""]) {
      await assert.rejects(
        image!.build({ tags }),
        (e) => e instanceof CloudknotInputError && e.field === "tags",
        JSON.stringify(tags),
      );
    }
  });

  await t.step(
    "push needs a build and exactly one valid repository, a DockerRepo as repo",
    async () => {
      await assert.rejects(
        image!.push({ repoUri: "127.0.0.1:5000/knots" }),
        (e) => e instanceof CloudknotInputError && /has not been built/.test(e.message),
      );
      await assert.rejects(
        image!.push({}),
        (e) => e instanceof CloudknotInputError && /exactly one of repo/.test(e.message),
      );
      // A repository's name given as repo: what repo takes, and how to pass that name.
      const named = await rejects(image!.push({ repo: "nonexist" as never }));
      assert.ok(named instanceof CloudknotInputError);
      assert.equal(named.field, "repo");
      assert.equal(
        named.message,
        'repo must be a DockerRepo, not the string "nonexist": pass repo: await ' +
          'DockerRepo.create({ name: "nonexist" }) (which finds or makes the repository), or the ' +
          "repository's URI as repoUri",
      );
      for (const repoUri of ["knots", "127.0.0.1:5000/Knots", "127.0.0.1:5000/knots:v1"]) {
        await assert.rejects(
          image!.push({ repoUri }),
          (e) => e instanceof CloudknotInputError && e.field === "repoUri",
          repoUri,
        );
      }
    },
  );

  await t.step("clobber removes files that overwrite: true replaced", async () => {
    await image!.clobber();
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
  });
});
