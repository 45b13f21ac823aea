// A failed docker item's error, with real containers: its stack names the
// user's files in any process that opens the knot from its record (a Knot
// adopted by name, cloudknot results), and an item whose container could not
// load the function never ran and says how to map it again.
// Under CI=true these tests fail without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { rejected } from "../../fixtures/docker_job.ts";
import { withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { THROWING_FRAMES } from "../../fixtures/throwing_frames.ts";
import { refuseNegative } from "../../fixtures/typed_func.ts";
import { TYPED_FUNC_FRAME } from "../../fixtures/typed_func_frames.ts";
import { stacksElsewhere } from "../../support/deno_child.ts";
import { inCliWords } from "../../../src/cli/common/cli_words.ts";
import { quiet } from "./docker_runs.ts";

dockerTest(
  "a failed item names the user's files in another process, for a module and a TypeScript func: a Knot adopted by name, and cloudknot results",
  async () => {
    await withDockerKnots("cloudknot-docker-stack-", async ({ dir, baseImage }) => {
      const common = {
        target: "docker" as const,
        dir,
        cloudknotDir: dir,
        baseImage,
        docker: quiet,
        retries: 1,
      };
      const module = await Knot.create({
        ...common,
        name: "throws",
        module: new URL("../../fixtures/throwing_job.ts", import.meta.url),
        exportName: "measure",
      });
      const func = await Knot.create({ ...common, name: "typed-throws", func: refuseNegative });
      const failed = [
        {
          name: module.name,
          run: await module.map([-1], { progress: false }),
          frames: THROWING_FRAMES,
        },
        {
          name: func.name,
          run: await func.map([{ value: -1 }], { progress: false }),
          frames: TYPED_FUNC_FRAME,
        },
      ];
      for (const { name, run, frames } of failed) {
        const error = await run.results().then(() => undefined, (e) => e);
        assert.match(error.errors[0].remote.stack, frames);
        // The processes below did not make the artifact: they read its sources' roots from the record.
        const elsewhere = await stacksElsewhere(
          { name, target: "docker", cloudknotDir: dir },
          run.runId,
          { CLOUDKNOT_LOCAL_DIR: dir },
        );
        assert.match(elsewhere.adopted, frames);
        assert.match(elsewhere.results, frames);
      }
      await module.clobber();
      await func.clobber();
    });
  },
);

dockerTest(
  "an item whose container could not load the function never ran, and its error says how to map it again, naming the knot and the run",
  async () => {
    await withDockerKnots("cloudknot-docker-unstarted-", async ({ dir, knotOptions }) => {
      // A module that cannot load in a run whose env says BREAK, as one broken by its input data.
      const module = join(dir, "breakable.ts");
      await Deno.writeTextFile(
        module,
        'if (Deno.env.get("BREAK") === "1") throw new Error("broken on purpose");\n' +
          "export function same(x: number): number { return x; }\n",
      );
      const knot = await Knot.create({
        ...knotOptions,
        name: "unloadable",
        module,
        exportName: "same",
        permissions: { env: ["BREAK"] },
      });
      const run = await knot.map([1, 2], { env: { BREAK: "1" }, itemsPerJob: 2, progress: false });
      for (const [index, s] of (await run.settled()).entries()) {
        const e = rejected(s, index);
        assert.equal(e.kind, "infrastructure");
        assert.match(e.message, /Cannot load the function: .*broken on purpose/);
        const advice = `The item never ran: once that is fixed, map it again with run.retry() on ` +
          `the run's handle (knot.collect("${run.runId}") of knot unloadable)`;
        assert.ok(e.message.includes(advice), e.message);
        const words = `The item never ran: once that is fixed, map it again with cloudknot retry ` +
          `unloadable ${run.runId}`;
        assert.ok(inCliWords(e).includes(words), inCliWords(e));
      }
      await knot.clobber();
    });
  },
);
