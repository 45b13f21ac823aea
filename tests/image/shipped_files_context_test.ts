// A module's files in an image's build context: copied into files/, let in by
// .dockerignore, copied beside /app/function.js by the Dockerfile in the layer
// before the function's; written again only when they change, removed when the
// function ships none, and a files/ folder the user put there is left alone.
import assert from "node:assert/strict";
import { join } from "node:path";
import { DockerImage } from "../../mod.ts";
import { tempWorld } from "./helpers.ts";

const JOB = `export async function score(x: number): Promise<number> {
  return x * JSON.parse(await Deno.readTextFile(new URL("./model.json", import.meta.url))).weight;
}
export const plain = (x: number) => x;
`;

Deno.test("an image's build context holds the module's files, which its Dockerfile copies beside the function before it", async () => {
  await using world = await tempWorld();
  const project = join(world.root, "project");
  await Deno.mkdir(join(project, "data"), { recursive: true });
  await Deno.writeTextFile(join(project, "job.ts"), JOB);
  await Deno.writeTextFile(join(project, "model.json"), '{"weight": 2}');
  await Deno.writeTextFile(join(project, "data", "a.txt"), "a");
  const create = (exportName: string, files?: string[]) =>
    DockerImage.create({
      name: "scorefiles",
      module: join(project, "job.ts"),
      exportName,
      ...(files !== undefined ? { files } : {}),
      baseImage: "denoland/deno:2.9.6",
      state: world.state,
      docker: world.docker,
      cloudknotDir: world.cloudknotDir,
      warn: () => {},
    });
  const image = await create("score", ["./model.json", "./data/"]);
  assert.ok(image.generated.includes("files"));
  assert.equal(
    await Deno.readTextFile(join(image.buildPath, "files", "data", "a.txt")),
    "a",
  );
  const dockerfile = await Deno.readTextFile(join(image.buildPath, "Dockerfile"));
  assert.match(
    dockerfile,
    /\nCOPY --chown=1000:1000 files\/ \/app\/\nCOPY --chown=1000:1000 function\.js \/app\/function\.js\n$/,
  );
  assert.match(await Deno.readTextFile(join(image.buildPath, ".dockerignore")), /^!files$/m);
  assert.equal(image.artifact?.files?.files.length, 2);

  // The same files: the folder is kept as it is. Restored by name, the image knows them.
  const copied = await Deno.stat(join(image.buildPath, "files", "model.json"));
  const again = await create("score", ["./model.json", "./data/"]);
  assert.equal(again.artifact?.hash, image.artifact?.hash);
  assert.deepEqual(
    (await Deno.stat(join(image.buildPath, "files", "model.json"))).mtime,
    copied.mtime,
  );
  const restored = await DockerImage.create({
    name: "scorefiles",
    state: world.state,
    cloudknotDir: world.cloudknotDir,
  });
  assert.equal(restored.artifact?.hash, image.artifact?.hash);

  // Without files, the folder goes and the Dockerfile copies none.
  const plain = await create("plain");
  assert.ok(!plain.generated.includes("files"));
  await assert.rejects(Deno.stat(join(image.buildPath, "files")), Deno.errors.NotFound);
  assert.doesNotMatch(await Deno.readTextFile(join(image.buildPath, "Dockerfile")), /files\//);
  // A files/ folder of the user's is left alone, and not sent to Docker.
  await Deno.mkdir(join(image.buildPath, "files"));
  await Deno.writeTextFile(join(image.buildPath, "files", "mine.txt"), "mine");
  const kept = await create("plain");
  assert.ok(!kept.generated.includes("files"));
  assert.equal(await Deno.readTextFile(join(image.buildPath, "files", "mine.txt")), "mine");
  assert.doesNotMatch(await Deno.readTextFile(join(image.buildPath, ".dockerignore")), /^!files/m);
});
