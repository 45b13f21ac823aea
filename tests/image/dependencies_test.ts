// A func that imports an npm package inside itself: the package is fetched
// when its image's build context is written, the image holds it, and a job
// runs with no network at all (`--network none`), then on AWS Batch (the
// emulator) in containers that reach nothing but the AWS endpoint.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../mod.ts";
import {
  DependencyError,
  dockerfileFor,
  DockerImage,
  GENERATED_FILES,
  mayImportPackages,
} from "../../src/image/mod.ts";
import { startEmulator } from "../emulator/mod.ts";
import { sessionFor } from "../support/aws_session.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { runInContainer, tempWorld } from "./helpers.ts";

/**
 * The README's first example (the import goes inside the function), which
 * also says whether the npm registry can be reached from where it runs.
 */
async function classify(seed: number) {
  const { default: isNumber } = await import("npm:is-number@7.0.0");
  const registry = await fetch("https://registry.npmjs.org/is-number", {
    signal: AbortSignal.timeout(5000),
  }).then(async (r) => {
    await r.body?.cancel();
    return "reached";
  }, () => "unreachable");
  return { seed, ok: isNumber(seed), registry };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("mayImportPackages: only sources that name an npm, jsr or remote specifier", () => {
  assert.equal(mayImportPackages(classify.toString()), true);
  assert.equal(mayImportPackages('() => import("jsr:@std/path@1")'), true);
  assert.equal(mayImportPackages("() => import(`https://example.com/x.js`)"), true);
  assert.equal(mayImportPackages("(x) => x * 2"), false);
  assert.equal(mayImportPackages('() => "npm is a registry"'), false);
});

Deno.test("a func's npm imports are fetched into the build context, which the Dockerfile copies into the image's Deno cache; a func without imports gets none", async () => {
  await using world = await tempWorld();
  const image = await DockerImage.create({
    name: "classify",
    func: classify,
    baseImage: "denoland/deno:2.9.6",
    state: world.state,
    docker: world.docker,
    cloudknotDir: world.cloudknotDir,
  });
  // A build context with packages holds every file cloudknot generates, its
  // folder of packages too (docker_image_test.ts names those of one without).
  assert.deepEqual(image.generated, GENERATED_FILES.filter((f) => f !== "files"));
  assert.ok(GENERATED_FILES.includes("deno_dir"));
  const cache = join(image.buildPath, "deno_dir", "npm", "registry.npmjs.org", "is-number");
  assert.ok(await exists(join(cache, "7.0.0", "package.json")));
  assert.ok(await exists(join(cache, "registry.json")));
  const dockerfile = await Deno.readTextFile(join(image.buildPath, "Dockerfile"));
  assert.match(dockerfile, /^ENV DENO_DIR=\/tmp\/deno_dir /m);
  assert.match(dockerfile, /"--cached-only", "\/app\/runtime\.js"\]$/m);
  assert.match(
    dockerfile,
    /\nCOPY --chown=1000:1000 deno_dir \/tmp\/deno_dir\nCOPY --chown=1000:1000 function\.js/,
  );
  assert.match(await Deno.readTextFile(join(image.buildPath, ".dockerignore")), /^!deno_dir$/m);

  // The same function again: nothing is fetched, the folder stays as it is.
  const marker = join(image.buildPath, "deno_dir", "kept");
  await Deno.writeTextFile(marker, "");
  await DockerImage.create({
    name: "classify",
    func: classify,
    state: world.state,
    cloudknotDir: world.cloudknotDir,
  });
  assert.ok(await exists(marker));

  // A function without imports: the folder goes, and the Dockerfile copies none.
  const plain = await DockerImage.create({
    name: "classify",
    func: (x: number) => x + 1,
    state: world.state,
    docker: world.docker,
    cloudknotDir: world.cloudknotDir,
  });
  assert.deepEqual(plain.generated, [
    "Dockerfile",
    ".dockerignore",
    "runtime.js",
    "worker.js",
    "function.js",
  ]);
  assert.equal(await exists(join(image.buildPath, "deno_dir")), false);
  assert.doesNotMatch(
    await Deno.readTextFile(join(image.buildPath, "Dockerfile")),
    /COPY.*deno_dir/,
  );
});

Deno.test("a package that cannot be fetched stops DockerImage.create with a DependencyError, and nothing is written", async () => {
  await using world = await tempWorld();
  const error = await DockerImage.create({
    name: "missing",
    // Made from text, so that this test module does not import it itself.
    func: new Function(
      'return async () => await import("npm:@cloudknot-test/no-such-package-anywhere@1.0.0")',
    )(),
    state: world.state,
    cloudknotDir: world.cloudknotDir,
  }).then(() => undefined, (e) => e);
  assert.ok(error instanceof DependencyError, String(error));
  assert.match(error.message, /check each import specifier.*HTTPS_PROXY/s);
  assert.match(error.message, /no-such-package-anywhere' does not exist/);
  assert.equal(await exists(join(world.cloudknotDir, "images", "missing")), false);
  assert.equal(await world.state.section("docker-image missing"), undefined);
});

dockerTest(
  "an image of a func that imports an npm package runs its job with no network at all",
  async () => {
    await using world = await tempWorld();
    const base = await ensureBaseImage();
    const image = await DockerImage.create({
      name: "classify-offline",
      func: classify,
      baseImage: base,
      state: world.state,
      docker: world.docker,
      cloudknotDir: world.cloudknotDir,
    });
    try {
      const { images } = await image.build({ tags: "v1" });
      const out = await runInContainer(world.docker, images[0]!, [41], { network: "none" });
      assert.equal(out.code, 0, out.stderr);
      assert.deepEqual(out.record?.status === "ok" && out.record.value, {
        seed: 41,
        ok: true,
        registry: "unreachable",
      });

      // Without the packages in the image, the same job cannot run offline: the
      // test above would fail on an image that fetches at run time.
      await Deno.remove(join(image.buildPath, "deno_dir"), { recursive: true });
      await Deno.writeTextFile(
        join(image.buildPath, "Dockerfile"),
        dockerfileFor(base, "classify-offline"),
      );
      const { images: bare } = await image.build({ tags: "bare" });
      const failed = await runInContainer(world.docker, bare[0]!, [41], { network: "none" });
      assert.equal(failed.code, 1);
      assert.ok(failed.record?.status === "error");
      assert.match(failed.record.error.message, /is-number/);
    } finally {
      await image.clobber();
    }
  },
);

dockerTest(
  "on AWS Batch, a knot whose func imports an npm package runs its items in containers that reach only the AWS endpoint",
  async () => {
    const emu = await startEmulator({
      runner: "docker",
      dockerNetwork: "isolated",
      ceValidDelayMs: 30,
    });
    await using world = await tempWorld();
    try {
      const knot = await Knot.create({
        name: "offline",
        target: "aws",
        func: classify,
        baseImage: await ensureBaseImage(),
        repoName: "offline-knot-images",
        retries: 1,
        session: await sessionFor(emu),
        state: world.state,
        cloudknotDir: world.cloudknotDir,
        pollInterval: 100,
      });
      try {
        const run = await knot.map([1, 2, 3], { progress: false });
        assert.deepEqual(
          await run.results(),
          [1, 2, 3].map((seed) => ({ seed, ok: true, registry: "unreachable" })),
        );
      } finally {
        await knot.clobber({ pars: true, repo: true, image: true, bucket: true });
      }
    } finally {
      await emu.close();
    }
  },
);
