// The files option on AWS, against the emulator: a bad path is refused before
// any request that creates or changes anything; with real containers, the
// files are in the knot's image beside the function, a changed one updates
// the knot (a new image and job definition revision) and the same ones adopt it.
import assert from "node:assert/strict";
import { join } from "node:path";
import { CloudknotInputError, Knot } from "../../../mod.ts";
import { awsFunctionLabel } from "../../../src/cli/common/knot_view.ts";
import { readAwsKnot } from "../../../src/targets/aws/catalog.ts";
import { withEmulator } from "../../resources/helpers.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { withFargateKnot } from "./helpers.ts";

const SCORE = `export async function score(x: number): Promise<number> {
  const model = JSON.parse(await Deno.readTextFile(new URL("./model.json", import.meta.url)));
  const extra = Number(await Deno.readTextFile(new URL("./data/extra.txt", import.meta.url)));
  return model.weight * x + extra;
}
`;

/** A project folder with the module and its data files. */
async function project(root: string): Promise<string> {
  const dir = join(root, "project");
  await Deno.mkdir(join(dir, "data"), { recursive: true });
  await Deno.writeTextFile(join(dir, "job.ts"), SCORE);
  await Deno.writeTextFile(join(dir, "model.json"), '{"weight": 2}');
  await Deno.writeTextFile(join(dir, "data", "extra.txt"), "100");
  return join(dir, "job.ts");
}

Deno.test("files that leave the module's folder or are missing are refused before any AWS request that changes anything", async () => {
  const root = await Deno.makeTempDir({ prefix: "cloudknot-aws-files-" });
  try {
    const module = await project(root);
    await withEmulator(async ({ emu, session, state }) => {
      for (const files of [["../elsewhere.json"], ["./missing.json"], ["/etc/hostname"]]) {
        const error = await Knot.create({
          name: "awsfiles",
          target: "aws",
          module,
          exportName: "score",
          files,
          session,
          state,
          cloudknotDir: join(root, "home"),
        }).then(() => undefined, (e) => e);
        assert.ok(error instanceof CloudknotInputError, String(error));
        assert.equal(error.field, "files");
        assert.ok(error.message.includes(`"${files[0]}"`), error.message);
      }
      assert.deepEqual(emu.mutatingRequests(), []);
      assert.equal(await state.section("knot awsfiles"), undefined);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

dockerTest(
  "an AWS knot ships a module's files in its image: its jobs read them; a changed file updates the knot, the same ones adopt it",
  async () => {
    await withFargateKnot("awsfiles", async ({ dir, common }) => {
      const module = await project(dir);
      const options = {
        ...common,
        module,
        exportName: "score",
        files: ["./model.json", "./data/"],
      };
      const plan = await Knot.create({ ...options, dryRun: true });
      assert.match(String(plan), /2 files, 16 bytes/);
      const knot = await Knot.create(options);
      assert.deepEqual(await (await knot.map([1, 2], { progress: false })).results(), [102, 104]);
      // The knot's record keeps what it ships, which knot show gives.
      const shown = async () =>
        awsFunctionLabel((await readAwsKnot(common.state, common.name))!, undefined);
      assert.match(await shown(), /, with 2 files, 16 bytes\)$/);
      const same = await Knot.create(options);
      assert.equal(same.aws!.adopted, true);
      assert.equal(same.aws!.updated, false);
      assert.match(await shown(), /, with 2 files, 16 bytes\)$/);
      await Deno.writeTextFile(join(dir, "project", "model.json"), '{"weight": 3}');
      const changed = await Knot.create({ ...options, warn: () => {} });
      assert.equal(changed.aws!.updated, true);
      assert.deepEqual(await (await changed.map([1], { progress: false })).results(), [103]);
      await changed.clobber();
    });
  },
);
