// The files option on the docker target, with a real image build and real
// containers: the data files a module reads beside itself by import.meta.url
// are copied into the image beside /app/function.js, a changed one rebuilds
// the image, and without them the item's error says to ship them.
import assert from "node:assert/strict";
import { join } from "node:path";
import { type ItemError, Knot } from "../../../mod.ts";
import { assertRefusedLeaveNoFolder } from "../../support/refused_create.ts";
import { knotImage, withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";

const SCORE = `export async function score(x: number): Promise<number> {
  const model = JSON.parse(await Deno.readTextFile(new URL("./model.json", import.meta.url)));
  const extra = Number(await Deno.readTextFile(new URL("./data/extra.txt", import.meta.url)));
  return model.weight * x + extra;
}
`;

dockerTest(
  "a docker knot ships a module's files into its image beside the function; a changed file rebuilds it; without them the item says to ship them",
  async () => {
    await withDockerKnots("cloudknot-docker-files-", async ({ dir, knotOptions }) => {
      const project = join(dir, "project");
      await Deno.mkdir(join(project, "data"), { recursive: true });
      await Deno.writeTextFile(join(project, "job.ts"), SCORE);
      await Deno.writeTextFile(join(project, "model.json"), '{"weight": 2}');
      await Deno.writeTextFile(join(project, "data", "extra.txt"), "100");
      // Private to its owner here: the job's user reads it in the image all the same.
      await Deno.chmod(join(project, "model.json"), 0o600);
      const options = {
        ...knotOptions,
        name: "dfiles",
        module: join(project, "job.ts"),
        exportName: "score",
        files: ["./model.json", "./data/"],
        concurrency: 1,
        retries: 1,
      };
      const knot = await Knot.create(options);
      assert.deepEqual(await (await knot.map([1, 2], { progress: false })).results(), [102, 104]);
      const image = await knotImage(dir, "dfiles");
      await Deno.writeTextFile(join(project, "model.json"), '{"weight": 3}');
      const changed = await Knot.create(options);
      assert.deepEqual(await (await changed.map([1], { progress: false })).results(), [103]);
      const record = JSON.parse(await Deno.readTextFile(join(dir, "dfiles", "knot.json")));
      assert.deepEqual(record.files, { count: 2, bytes: 13 + 3 });
      await changed.clobber();
      assert.equal(typeof image, "string");

      const bare = await Knot.create({
        ...options,
        name: "dnofiles",
        files: undefined,
        warn: () => {},
      });
      const [settled] = await (await bare.map([1], { progress: false })).settled();
      const reason = (settled as { reason: ItemError }).reason;
      // The function's folder, /app, is readable: the file is not there.
      assert.equal(reason.remote.name, "NotFound");
      assert.ok(reason.message.includes("readfile '/app/model.json'"), reason.message);
      assert.match(reason.message, /not shipped with it\. Ship the file with the files option/);
      await bare.clobber();
    });
  },
);

dockerTest(
  "a docker knot refused for its files or its module leaves no folder, and the create with them right then works",
  async () => {
    await withDockerKnots("cloudknot-docker-refused-", async ({ dir, knotOptions }) => {
      const project = join(dir, "project");
      await Deno.mkdir(project, { recursive: true });
      await Deno.writeTextFile(join(project, "job.ts"), SCORE);
      await Deno.writeTextFile(join(project, "model.json"), '{"weight": 2}');
      await Deno.mkdir(join(project, "data"));
      await Deno.writeTextFile(join(project, "data", "extra.txt"), "100");
      const options = {
        ...knotOptions,
        name: "drefused",
        module: join(project, "job.ts"),
        exportName: "score",
        concurrency: 1,
        retries: 1,
      };
      await assertRefusedLeaveNoFolder(options, join(dir, "drefused"));

      const knot = await Knot.create({ ...options, files: ["./model.json", "./data/"] });
      assert.deepEqual(await (await knot.map([1], { progress: false })).results(), [102]);
      await knot.clobber();
    });
  },
);
