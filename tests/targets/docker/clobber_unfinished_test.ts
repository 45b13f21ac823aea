// A docker knot whose clobber was killed part-way (for real: the clobbering
// process kills itself once Docker removed the knot's image) shows as such in
// `cloudknot knot show` and `cloudknot knot list`, with the command that
// finishes it, and as being clobbered while a process holds the knot's lock;
// `Knot.create` of a new knot of its name finishes that clobber, then creates
// the knot anew, which maps. One killed once it removed the knot's record (or
// its lock's file too) is listed as a clobber unfinished, never as a create
// unfinished, and `cloudknot knot clobber` finishes it. Under CI=true these
// tests fail without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { Docker } from "../../../src/docker/docker.ts";
import { holdingKnot } from "../../../src/store/knot_lock.ts";
import { dockerImageName, IMAGE_NAME_LABEL } from "../../../src/store/local_knots.ts";
import { cliInProcess } from "../../support/cli_in_process.ts";
import { knotImage, withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";
import {
  clobberWhileCreateArrives,
  killClobberAfterImage,
  killClobberAfterRemoving,
} from "./killed_clobber.ts";

const quiet = new Docker({ logger: () => {} });
const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

/** The ids of the images labelled as the image of the knot in `root`. */
async function imagesOf(root: string): Promise<string[]> {
  const { stdout } = await quiet.command([
    "images",
    "--quiet",
    "--no-trunc",
    "--filter",
    `label=${IMAGE_NAME_LABEL}=${await dockerImageName(root)}`,
  ]);
  return [...new Set(stdout.split("\n").filter((l) => l !== ""))];
}

dockerTest(
  "knot show and knot list say a docker knot's clobber is unfinished, and how to finish it, and a create of the knot finishes it, then creates the knot anew",
  async () => {
    await withDockerKnots(
      "cloudknot-docker-clobber-unfinished-",
      async ({ dir, knotOptions, baseImage }) => {
        const root = join(dir, "cut");
        const cli = (...args: string[]) =>
          cliInProcess(args, { CLOUDKNOT_LOCAL_DIR: dir, HOME: dir }).ended;
        try {
          await Knot.create({ ...knotOptions, name: "cut", func: (x: number) => x + 1 });
          const image = await knotImage(dir, "cut");
          const whole = await cli("knot", "show", "cut", "--json");
          assert.equal(whole.code, 0, whole.stderr);
          assert.equal(JSON.parse(whole.stdout).clobberStarted, null);
          await killClobberAfterImage({ dir, name: "cut", image, baseImage });
          assert.ok(await exists(join(root, "clobbering")), "the clobber's mark stays");

          const finish = "run `cloudknot knot clobber cut` again to finish it.";
          const show = await cli("knot", "show", "cut");
          assert.equal(show.code, 0, show.stderr);
          assert.match(
            show.stdout,
            /\n\nA clobber of knot cut stopped part-way \(it began at .+ and has not finished\): /,
          );
          assert.ok(show.stdout.includes(finish), show.stdout);
          const shown = JSON.parse((await cli("knot", "show", "cut", "--json")).stdout);
          assert.equal(typeof shown.clobberStarted, "string");
          assert.equal(shown.clobberRunning, false);

          const list = await cli("knot", "list");
          assert.equal(list.code, 0, list.stderr);
          assert.match(list.stdout, /^cut +docker \(clobber unfinished\) /m);
          const listed = JSON.parse((await cli("knot", "list", "--json")).stdout);
          assert.equal(listed[0].clobberRunning, false);

          // While a process holds the knot's lock (as a clobber, or a create finishing it, does).
          await holdingKnot(root, async () => {
            const busy = await cli("knot", "show", "cut");
            assert.match(
              busy.stdout,
              /\n\nKnot cut is being clobbered by another process \(began at /,
            );
            assert.ok(!busy.stdout.includes(finish), busy.stdout);
            const busyList = await cli("knot", "list");
            assert.match(busyList.stdout, /^cut +docker \(being clobbered\) /m);
          }, { make: false, onWait: () => assert.fail("nothing else holds the lock") });

          // A new knot of its name: the clobber is finished first, then the knot is created.
          const notices: string[] = [];
          const knot = await Knot.create({
            ...knotOptions,
            name: "cut",
            func: (x: number) => x * 10,
            warn: (message) => notices.push(message),
          });
          assert.equal(notices.length, 1, notices.join("\n"));
          assert.match(
            notices[0]!,
            /^cloudknot: the clobber of docker knot cut \(in .*cut\) was stopped part-way before; it is finished now \(its containers, images, runs and record removed\), and the knot is created anew$/,
          );
          assert.equal(await exists(join(root, "clobbering")), false, "the mark is gone");
          assert.deepEqual(await (await knot.map([1, 2], { progress: false })).results(), [10, 20]);
          const after = JSON.parse((await cli("knot", "show", "cut", "--json")).stdout);
          assert.equal(after.clobberStarted, null);
          assert.equal(after.runs.length, 1, "only the new knot's run");
          await knot.clobber();
          assert.equal(await exists(root), false);
        } finally {
          await quiet.removeImage(await imagesOf(root), { force: true, missingOk: true })
            .catch(() => {});
        }
      },
    );
  },
);

dockerTest(
  "a docker knot whose clobber was killed once it removed the knot's record, or its lock's file too, is listed as a clobber unfinished, not a create, and knot clobber finishes it",
  async () => {
    await withDockerKnots(
      "cloudknot-docker-clobber-unrecorded-",
      async ({ dir, knotOptions, baseImage }) => {
        const root = join(dir, "cut");
        const cli = (...args: string[]) =>
          cliInProcess(args, { CLOUDKNOT_LOCAL_DIR: dir, HOME: dir }).ended;
        try {
          for (const removed of ["knot.json", "knot.lock"]) {
            await Knot.create({ ...knotOptions, name: "cut", func: (x: number) => x + 1 });
            await killClobberAfterRemoving({ dir, name: "cut", baseImage }, removed);
            assert.equal(await exists(join(root, "knot.json")), false, removed);
            assert.ok(
              await exists(join(root, "clobbering")),
              `the clobber's mark stays (${removed})`,
            );

            const words = new RegExp(
              "A clobber of docker knot cut stopped part-way \\(it began at .+ and has not " +
                "finished\\), after it removed the knot's record, leaving its folder \\S+cut: run " +
                "`cloudknot knot clobber cut` again to finish it",
            );
            const list = await cli("knot", "list");
            assert.equal(list.code, 0, list.stderr);
            assert.match(list.stdout, /^cut +docker \(clobber unfinished\) /m, removed);
            assert.match(list.stderr, words, removed);
            const [listed] = JSON.parse((await cli("knot", "list", "--json")).stdout);
            assert.equal(listed.unfinished, true);
            assert.equal(typeof listed.clobberStarted, "string");
            assert.equal(listed.clobberRunning, false);
            assert.equal(listed.creating, false);
            const show = await cli("knot", "show", "cut");
            assert.match(show.stderr, words, removed);

            const clobber = await cli("knot", "clobber", "cut", "--yes");
            assert.equal(clobber.code, 0, clobber.stderr);
            assert.equal(await exists(root), false, `the clobber finished (${removed})`);
            assert.deepEqual(await imagesOf(root), []);
          }
        } finally {
          await quiet.removeImage(await imagesOf(root), { force: true, missingOk: true })
            .catch(() => {});
        }
      },
    );
  },
);

dockerTest(
  "a create of a docker knot that arrives once the knot's clobber removed its lock's file keeps what it wrote: the clobber leaves the folder to it",
  async () => {
    await withDockerKnots(
      "cloudknot-docker-clobber-arrived-",
      async ({ dir, knotOptions, baseImage }) => {
        const root = join(dir, "raced");
        try {
          await Knot.create({ ...knotOptions, name: "raced", func: (x: number) => x + 1 });
          await clobberWhileCreateArrives({ dir, name: "raced", baseImage });
          assert.ok(await exists(join(root, "arrived")), "what the create wrote stays");
          assert.ok(await exists(join(root, "knot.lock")), "and its lock's file");
          assert.equal(
            await exists(join(root, "knot.json")),
            false,
            "the clobbered knot's record is gone",
          );
          assert.equal(
            await exists(join(root, "clobbering")),
            false,
            "and so is its clobber's mark",
          );
        } finally {
          await quiet.removeImage(await imagesOf(root), { force: true, missingOk: true })
            .catch(() => {});
        }
      },
    );
  },
);
