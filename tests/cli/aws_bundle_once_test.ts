// `cloudknot map` of a module on an existing AWS knot bundles the module once: the comparison of
// its function with the knot's own hands its bundle to the update that builds the knot's new
// image, or to the heal that makes again what was deleted of the knot
// (tests/targets/aws/bundle_once_test.ts counts the library's own paths alike).
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCommandLine } from "../../src/cli/main.ts";
import { ensureBaseImage } from "../support/base_image.ts";
import { dockerTest } from "../support/docker_available.ts";
import { type AwsHome, withAwsHome } from "./aws_helpers.ts";
import { cli, recordingIo } from "./helpers.ts";
import { countingDeno } from "../support/counting_deno.ts";
import { sessionFor } from "../support/aws_session.ts";
import { StateFile } from "../../src/state/mod.ts";
import { deleteBatchEnvironment } from "../../src/targets/aws/batch/mod.ts";

/** A FARGATE AWS knot the CLI made of the module `sizes.ts`, whose `size` adds 1. */
interface SizesKnot {
  home: AwsHome;
  /** The knot's name. */
  knot: string;
  /** The hash of the function the knot was made with. */
  before: string;
  /** Writes the module again, its `size` adding `add`. */
  write(add: number): Promise<void>;
  /**
   * Makes a `cloudknot map` of the module on the knot, with no input (so no job runs), that
   * runs in process and counts the bundles its `deno` makes.
   */
  mapper(): Promise<{ map(): Promise<number>; bundles(): Promise<number>; stderr(): string }>;
}

/** Runs `body` with a knot named `<prefix>-<random>` made by the CLI, clobbered after. */
async function withSizesKnot(prefix: string, body: (k: SizesKnot) => Promise<void>): Promise<void> {
  await withAwsHome(async (home) => {
    const env = { CLOUDKNOT_BASE_IMAGE: await ensureBaseImage() };
    assert.equal((await cli(home, ["configure", "--region", "us-east-1"], { env })).code, 0);
    const knot = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
    const module = join(home.dir, "sizes.ts");
    const write = (add: number) =>
      Deno.writeTextFile(
        module,
        `export function size(x: number): number {\n  return x + ${add};\n}\n`,
      );
    await write(1);
    const fargate = ["--compute", "FARGATE", "--vcpus", "0.25", "--memory", "512"];
    const made = await cli(
      home,
      ["knot", "create", knot, module, "size", "--target", "aws", ...fargate, "-q", "--json"],
      { env },
    );
    assert.equal(made.code, 0, made.stderr);
    const before = JSON.parse(made.stdout).function.hash as string;
    const mapper = async () => {
      const none = join(home.dir, "none.json");
      await Deno.writeTextFile(none, "[]");
      const { deno, runs: bundles } = await countingDeno(home.dir);
      const { io, out } = recordingIo({ ...home.env, ...env });
      const map = () =>
        runCommandLine(
          ["map", module, "size", "--name", knot, "--target", "aws", "--inputs", none, "-q"],
          { io: { ...io, deno } },
        );
      return { map, bundles, stderr: () => out.stderr };
    };
    try {
      await body({ home, knot, before, write, mapper });
    } finally {
      const clobbered = await cli(home, ["knot", "clobber", knot, "--yes", "--image"]);
      assert.equal(clobbered.code, 0, clobbered.stderr);
    }
  }, { registry: true });
}

dockerTest(
  "cloudknot map of another module on an existing AWS knot bundles it once, and updates the knot to it",
  async () => {
    await withSizesKnot("bnd-cli", async ({ home, knot, before, write, mapper }) => {
      // Another function: map compares it with the knot's (one bundle), and the update builds
      // the knot's new image of that same bundle; no input, so no job runs.
      await write(2);
      const { map, bundles, stderr } = await mapper();
      const code = await map();
      assert.equal(code, 0, stderr());
      assert.equal(await bundles(), 1, stderr());
      assert.match(stderr(), new RegExp(`knot ${knot} now runs module size `));
      const shown = await cli(home, ["knot", "show", knot, "--json"]);
      const after = JSON.parse(shown.stdout).function.hash as string;
      assert.notEqual(after, before, "the knot runs the new function");

      // Its own function again: compared (one bundle more), and adopted with no image built.
      const again = await map();
      assert.equal(again, 0, stderr());
      assert.equal(await bundles(), 2, stderr());
      assert.equal(
        JSON.parse((await cli(home, ["knot", "show", knot, "--json"])).stdout)
          .function.hash,
        after,
      );
    });
  },
);

dockerTest(
  "cloudknot map of another module on an AWS knot whose job queue was deleted outside cloudknot bundles it once, and makes the knot again running it",
  async () => {
    await withSizesKnot("bnd-heal", async ({ home, knot, before, write, mapper }) => {
      const state = new StateFile({ path: home.configFile });
      const jobQueue = (await state.get(`knot ${knot}`, "job-queue"))!;
      await deleteBatchEnvironment(await sessionFor(home.emu), { jobQueue }, { pollMs: 20 });
      // Another function: map compares it with the knot's (one bundle), and the heal that
      // makes the queue again builds the knot's image of that same bundle.
      await write(2);
      const { map, bundles, stderr } = await mapper();
      const code = await map();
      assert.equal(code, 0, stderr());
      assert.equal(await bundles(), 1, stderr());
      assert.ok(home.emu.batch.jobQueues.has(jobQueue.split("/").pop()!), "made again");
      const shown = JSON.parse((await cli(home, ["knot", "show", knot, "--json"])).stdout);
      assert.notEqual(shown.function.hash, before, "the knot runs the new function");
    });
  },
);
