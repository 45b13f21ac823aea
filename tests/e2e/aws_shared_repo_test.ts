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
