// Two knots on AWS that share a repository of their own (repoName): clobbering
// one with `repo: true` keeps the repository for the other, whose jobs still
// pull their image from it, and removes only its own image tags.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import { startEmulator } from "../emulator/mod.ts";
import { sessionFor } from "../support/aws_session.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { pushImage } from "../support/ecr_images.ts";

dockerTest(
  "a repository two knots share is kept for the other when one is clobbered with repo",
  async () => {
    const emu = await startEmulator({ runner: "docker", ceValidDelayMs: 30, realism: false });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-shared-repo-" });
    const warnings: string[] = [];
    try {
      const common = {
        target: "aws" as const,
        baseImage: await ensureBaseImage(),
        repoName: "team-knots",
        memory: 512,
        session: await sessionFor(emu),
        state: new StateFile({ path: join(dir, "cloudknot") }),
        cloudknotDir: join(dir, "home"),
        pollInterval: 50,
        warn: (message: string) => warnings.push(message),
      };
      const double = await Knot.create({ name: "double", func: (x: number) => 2 * x, ...common });
      const triple = await Knot.create({ name: "triple", func: (x: number) => 3 * x, ...common });
      await double.clobber({ repo: true });
      assert.match(
        warnings.join("\n"),
        /repository team-knots was kept, .* knot triple still uses it/,
      );
      assert.ok(emu.ecr.repositories.has("team-knots"));
      const tags = await Array.fromAsync(
        common.session.ecr.listImagesAll({ repositoryName: "team-knots" }),
      );
      assert.deepEqual(tags.map((i) => i.imageTag).filter(Boolean).sort(), ["triple"]);
      // The other knot's jobs still pull their image.
      assert.deepEqual(await (await triple.map([1, 2], { progress: false })).results(), [3, 6]);
      await triple.clobber({ repo: true });
      assert.ok(!emu.ecr.repositories.has("team-knots"));
    } finally {
      await emu.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);

dockerTest(
  "a repository with images that are not the knot's is adopted as it is, and a clobber with repo keeps them",
  async () => {
    const emu = await startEmulator({ runner: "docker", ceValidDelayMs: 30, realism: false });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-foreign-repo-" });
    const warnings: string[] = [];
    try {
      const session = await sessionFor(emu);
      // A teammate's repository, made without cloudknot, with an image of theirs.
      await session.ecr.createRepository({ repositoryName: "team-images" });
      await pushImage(emu, "team-images", ["teammate-model"], "theirs");
      emu.requests.clear();
      const knot = await Knot.create({
        name: "solo",
        func: (x: number) => x + 1,
        target: "aws",
        baseImage: await ensureBaseImage(),
        repoName: "team-images",
        memory: 512,
        session,
        state: new StateFile({ path: join(dir, "cloudknot") }),
        cloudknotDir: join(dir, "home"),
        pollInterval: 50,
        warn: (message: string) => warnings.push(message),
      });
      // Adopted as it is: not tagged as cloudknot's.
      assert.ok(
        !emu.mutatingRequests().some((r) => r.service === "ecr" && r.operation === "TagResource"),
      );
      assert.deepEqual(await (await knot.map([1], { progress: false })).results(), [2]);
      await knot.clobber({ repo: true });
      assert.match(
        warnings.join("\n"),
        /repository team-images was kept, with only knot solo's image tags removed: it holds images that are not knot solo's \(tags teammate-model\)/,
      );
      const tags = await Array.fromAsync(
        session.ecr.listImagesAll({ repositoryName: "team-images" }),
      );
      assert.deepEqual(tags.map((i) => i.imageTag).filter(Boolean), ["teammate-model"]);
    } finally {
      await emu.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);
