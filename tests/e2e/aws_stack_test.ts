// An item's error on AWS names the user's code: against the emulator with
// real Docker containers, a module that throws from a helper gives an
// ItemError whose remote stack names the helper's and the module's file and
// line on the machine that built the image (the container has neither file);
// a func written in TypeScript names its file and the throw's line there too
// (its artifact carries a map made from Deno's emit cache). Other processes
// (a Knot adopted by name, `cloudknot results`) name the same files, from the
// knots' records.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ItemError, Knot, MapError } from "../../mod.ts";
import { StateFile } from "../../src/state/mod.ts";
import { startEmulator } from "../emulator/mod.ts";
import { THROWING_FRAMES } from "../fixtures/throwing_frames.ts";
import { refuseNegative } from "../fixtures/typed_func.ts";
import { TYPED_FUNC_FRAME } from "../fixtures/typed_func_frames.ts";
import { sessionFor } from "../support/aws_session.ts";
import { stacksElsewhere } from "../support/deno_child.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";

dockerTest(
  "an item's error on AWS names the file and line of a module's throw and of a TypeScript func's",
  async () => {
    const emu = await startEmulator({ runner: "docker", ceValidDelayMs: 30 });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-e2e-stack-" });
    try {
      const common = {
        target: "aws" as const,
        baseImage: await ensureBaseImage(),
        repoName: "e2e-stack-images",
        session: await sessionFor(emu),
        state: new StateFile({ path: join(dir, "cloudknot") }),
        cloudknotDir: join(dir, "home"),
        pollInterval: 100,
      };
      const module = await Knot.create({
        ...common,
        name: "stack-module",
        module: new URL("../fixtures/throwing_job.ts", import.meta.url),
        exportName: "measure",
      });
      const moduleRun = await module.map([-1], { progress: false });
      const moduleError = await moduleRun.results().then(() => undefined, (e) => e);
      assert.ok(moduleError instanceof MapError, String(moduleError));
      const [thrown] = moduleError.errors as ItemError[];
      assert.ok(thrown instanceof ItemError);
      assert.equal(thrown.remote.message, "negative reading -1");
      assert.match(thrown.remote.stack ?? "", THROWING_FRAMES);
      assert.match((thrown.cause as Error).stack ?? "", THROWING_FRAMES);
      assert.doesNotMatch(thrown.remote.stack ?? "", /function\.js/);

      // Processes that did not make the artifact read where its sources are from the knot's record.
      const env = {
        ...emu.env,
        CLOUDKNOT_CONFIG_FILE: join(dir, "cloudknot"),
        // Nothing from this machine's AWS files.
        AWS_CONFIG_FILE: join(dir, "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, "aws-credentials"),
        NO_COLOR: "1",
      };
      const adopt = { target: "aws", cloudknotDir: common.cloudknotDir };
      const moduleElsewhere = await stacksElsewhere(
        { name: "stack-module", ...adopt },
        moduleRun.runId,
        env,
      );
      assert.match(moduleElsewhere.adopted, THROWING_FRAMES);
      assert.match(moduleElsewhere.results, THROWING_FRAMES);

      const func = await Knot.create({ ...common, name: "stack-func", func: refuseNegative });
      const funcRun = await func.map([{ value: -2 }], { progress: false });
      const funcError = await funcRun.results().then(() => undefined, (e) => e);
      assert.ok(funcError instanceof MapError, String(funcError));
      const [refused] = funcError.errors as ItemError[];
      assert.equal(refused!.remote.message, "negative reading -2");
      assert.match(refused!.remote.stack ?? "", TYPED_FUNC_FRAME);
      assert.doesNotMatch(refused!.remote.stack ?? "", /function\.js/);
      const funcElsewhere = await stacksElsewhere(
        { name: "stack-func", ...adopt },
        funcRun.runId,
        env,
      );
      assert.match(funcElsewhere.adopted, TYPED_FUNC_FRAME);
      assert.match(funcElsewhere.results, TYPED_FUNC_FRAME);
      // The knots share their Pars, repository and bucket: the last one takes them.
      await module.clobber({ image: true });
      await func.clobber({ pars: true, repo: true, image: true, bucket: true });
    } finally {
      await emu.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
