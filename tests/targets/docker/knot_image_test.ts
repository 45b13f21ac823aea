// The image a docker knot's runs use, with real containers: one removed is
// built again at map() (and its containers never pull from a registry), a run
// keeps the function it started with when its knot is created again with
// another, and a knot whose image was named the way versions before named it
// is adopted with that image. Under CI=true these tests fail without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { inCliWords } from "../../../src/cli/common/cli_words.ts";
import { Docker } from "../../../src/docker/docker.ts";
import { job, rejected } from "../../fixtures/docker_job.ts";
import { knotImage, withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { quiet } from "./docker_runs.ts";

dockerTest(
  "a knot whose image was removed builds it again at map() or retry(), not when opened (its clobber builds nothing), and its containers never pull an image from a registry",
  async () => {
    await withDockerKnots("cloudknot-docker-", async ({ dir, baseImage }) => {
      // A docker client that notes each `docker run` it passes on; with a `remove-at` file, it
      // removes the image that file names just before the `docker run` of that number.
      const runs = join(dir, "runs.log");
      const removeAt = join(dir, "remove-at");
      const client = join(dir, "docker-noting-runs");
      await Deno.writeTextFile(
        client,
        `#!/bin/sh
if [ "$1" = run ]; then
  echo "$*" >> ${runs}
  if [ -f ${removeAt} ] && [ "$(wc -l < ${runs})" -eq "$(head -n 1 ${removeAt})" ]; then
    docker rmi --force "$(tail -n 1 ${removeAt})" > /dev/null
  fi
fi
exec docker "$@"
`,
        { mode: 0o755 },
      );
      const knot = await Knot.create({
        name: "rebuilt",
        target: "docker",
        func: job,
        dir,
        cloudknotDir: dir,
        baseImage,
        docker: new Docker({ binary: client, logger: () => {} }),
        // One container at a time: the second item's starts once the first one's ended.
        concurrency: 1,
      });
      const image = await knotImage(dir, "rebuilt");
      await quiet.removeImage(image, { force: true });
      const run = await knot.map([1, 2, 3], { itemsPerJob: 1, progress: false });
      assert.deepEqual(await run.results(), [1, 4, 9]);
      assert.ok(await quiet.inspectImage(image), "the image was built again");
      const started = (await Deno.readTextFile(runs)).trim().split("\n");
      assert.equal(started.length, 3);
      for (const line of started) assert.match(line, / --pull never /);
      // Removed while a run runs, before its second container starts: the attempts left fail
      // at once, saying what happened and what to do.
      await Deno.writeTextFile(removeAt, `5\n${image}\n`);
      const removed = await knot.map([1, 2], { itemsPerJob: 1, progress: false });
      const [first, after] = await removed.settled();
      assert.deepEqual(first, { index: 0, status: "fulfilled", value: 1 });
      const error = rejected(after!, 1);
      assert.ok(error.message.includes(`its image ${image} is gone from Docker`), error.message);
      assert.match(error.message, /Knot\.create\(\{ name: "rebuilt", target: "docker" \}\)/);
      assert.match(error.message, /cloudknot retry rebuilt/);
      // On the command line, the command alone.
      assert.match(
        inCliWords(error),
        /is gone from Docker \(removed while the run ran\): run cloudknot retry rebuilt, which builds the knot's image again from its build directory and runs the items again; /,
      );
      assert.doesNotMatch(error.message, /registry/);
      // What docker said, once, as Batch's status reason; not docker's whole command line, twice.
      assert.match(error.message, /; CannotStartContainerError: .*No such image/);
      assert.doesNotMatch(error.message, /--mount/);
      // As it says: the knot opened again builds its image, and the retry runs the item.
      const again = await Knot.create({ name: "rebuilt", target: "docker", dir, docker: quiet });
      const retried = await (await again.collect(removed.runId)).retry({ progress: false });
      assert.deepEqual(await retried.results(), [1, 4]);
      // Opened by name only to be clobbered, a knot whose image is gone builds nothing.
      await quiet.removeImage(image, { force: true });
      const doomed = await Knot.create({ name: "rebuilt", target: "docker", dir, docker: quiet });
      assert.equal(await quiet.inspectImage(image), undefined, "opening it built its image");
      await doomed.clobber();
      assert.equal(await quiet.inspectImage(image), undefined);
    });
  },
);

dockerTest(
  "a run keeps running the function it started with when its knot is created again with another one, and clobber removes the image of each",
  async () => {
    await withDockerKnots("cloudknot-docker-", async ({ dir, knotOptions }) => {
      // One container at a time: the later items start after the knot changed.
      const options = { ...knotOptions, name: "swapped", concurrency: 1 };
      const knot = await Knot.create({
        ...options,
        func: async (x: number) => {
          await new Promise((resolve) => setTimeout(resolve, 1000));
          return `first ${x}`;
        },
      });
      const image = await knotImage(dir, "swapped");
      const first = (await quiet.inspectImage(image))!.Id;
      const run = await knot.map([1, 2, 3], { itemsPerJob: 1, progress: false });
      assert.equal(await run.item(0), "first 1");
      const changed = await Knot.create({ ...options, func: (x: number) => `second ${x}` });
      const second = (await quiet.inspectImage(image))!.Id;
      assert.notEqual(second, first);
      assert.deepEqual(await run.results(), ["first 1", "first 2", "first 3"]);
      // Runs mapped from then on run the new function.
      const next = await changed.map([4], { progress: false });
      assert.deepEqual(await next.results(), ["second 4"]);
      // The clobber removes the image of each function the knot had, not only its last.
      await changed.clobber();
      assert.equal(
        await quiet.inspectImage(first),
        undefined,
        "its first function's image is gone",
      );
      assert.equal(
        await quiet.inspectImage(second),
        undefined,
        "its second function's image is gone",
      );
    });
  },
);

dockerTest(
  "a docker knot made before images were named after their knots directory is adopted with its image, runs it and clobbers it",
  async () => {
    await withDockerKnots("cloudknot-docker-legacy-", async ({ dir, knotOptions }) => {
      // A name of this test's own: an image named the way knots were before is shared by the engine.
      const name = `legacy-${crypto.randomUUID().slice(0, 8)}`;
      await Knot.create({ ...knotOptions, name, func: (x: number) => `kept ${x}` });
      // The knot as a version before wrote it: its image, its record and its image's record all
      // name the image cloudknot/<name>-docker:local.
      const root = join(dir, name);
      const image = await knotImage(dir, name);
      const bare = (ref: string) => ref.slice("cloudknot/".length, -":local".length);
      const legacy = `cloudknot/${name}-docker:local`;
      await quiet.command(["tag", image, legacy]);
      await quiet.removeImage(image);
      const id = (await quiet.inspectImage(legacy))!.Id;
      const record = JSON.parse(await Deno.readTextFile(join(root, "knot.json")));
      await Deno.writeTextFile(
        join(root, "knot.json"),
        JSON.stringify({ ...record, image: legacy }),
      );
      const ini = await Deno.readTextFile(join(root, "image.ini"));
      await Deno.writeTextFile(join(root, "image.ini"), ini.replaceAll(bare(image), bare(legacy)));
      try {
        const adopted = await Knot.create({ ...knotOptions, name });
        const run = await adopted.map([1], { progress: false });
        assert.deepEqual(await run.results(), ["kept 1"]);
        assert.equal(await knotImage(dir, name), legacy, "its record keeps its image");
        assert.equal((await quiet.inspectImage(legacy))?.Id, id, "its image was not built again");
        assert.equal(
          await quiet.inspectImage(image),
          undefined,
          "no image of another name was built",
        );
        await adopted.clobber();
        assert.equal(await quiet.inspectImage(id), undefined, "the clobber removed its image");
      } finally {
        await quiet.removeImage([legacy, id], { force: true, missingOk: true });
      }
    });
  },
);
