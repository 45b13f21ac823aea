// A docker run on a full disk: a map() whose inputs do not fit rejects saying
// so and what to do, and keeps nothing; the items of a run that filled the
// disk fail saying what to do, and once there is room, retry() finishes them;
// a container whose output could not be kept stays on Docker until a reader
// keeps it, and a success its container recorded before stands.
// Needs Docker and a tmpfs mount (root); under CI=true it fails without them.
import assert from "node:assert/strict";
import { basename, dirname, join } from "node:path";
import { CloudknotError, type ItemError, Knot } from "../../../mod.ts";
import { Docker } from "../../../src/docker/docker.ts";
import { inCliWords } from "../../../src/cli/common/cli_words.ts";
import { job } from "../../fixtures/docker_job.ts";
import { ensureBaseImage } from "../../support/base_image.ts";
import { checkDocker } from "../../support/docker_available.ts";
import { requirementTest } from "../../support/requirement.ts";
import { tmpfsStatus, withTmpfs } from "../../support/tmpfs.ts";

const quiet = new Docker({ logger: () => {} });
const docker = await checkDocker(quiet);
const dockerTmpfsTest = requirementTest("Docker and a tmpfs mount (root)", {
  ok: docker.ok && tmpfsStatus.ok,
  reason: docker.reason ?? tmpfsStatus.reason,
});

/**
 * Fills what is left of the disk under `dir` with files of each size in turn
 * (64 KiB, unless told), then frees `keep` of the last ones.
 */
async function fill(dir: string, keep: number, sizes = [64 * 1024]): Promise<string[]> {
  const files: string[] = [];
  for (const size of sizes) {
    for (let i = 0;; i++) {
      const file = join(dir, `filler-${size}-${i}`);
      try {
        await Deno.writeFile(file, new Uint8Array(size));
      } catch {
        break;
      }
      files.push(file);
    }
  }
  for (const file of files.splice(files.length - keep)) await Deno.remove(file);
  return files;
}

dockerTmpfsTest(
  "on a full disk a docker map() rejects saying what to do and keeps nothing; a run that filled it is finished by retry() once there is room",
  async () => {
    const baseImage = await ensureBaseImage({ docker: quiet });
    await withTmpfs(4 * 1024 * 1024, async (dir) => {
      const knot = await Knot.create({
        name: "full",
        target: "docker",
        func: job,
        dir,
        baseImage,
        docker: quiet,
        concurrency: 1,
        retries: 1,
      });
      const items = Array.from({ length: 8 }, (_, i) => `${i}`.repeat(40_000));
      // No room for the inputs: map() rejects, and keeps nothing of the run.
      const full = await fill(dir, 0);
      const e = await knot.map(items, { itemsPerJob: 1, progress: false }).catch((e) => e);
      assert.ok(e instanceof CloudknotError, String(e));
      assert.equal(e.name, "RunStoreError");
      assert.match(e.message, /No space left on device.*Free space on that disk.*map them again/);
      assert.deepEqual(await knot.runs(), []);
      for (const file of full) await Deno.remove(file);
      // Room for the inputs, not for every result.
      const filler = await fill(dir, 8);
      const run = await knot.map(items, { itemsPerJob: 1, progress: false });
      const settled = await run.settled();
      assert.ok(
        settled.some((s) => s.status === "rejected"),
        "every item fitted: the disk was not full",
      );
      // Read again while the disk is still full: the handle takes the run over and its items end
      // saying so (or as recorded), never with an uncaught error that ends the process.
      const reread = await (await knot.collect(run.runId)).settled();
      assert.equal(reread.length, items.length);
      for (const file of filler) await Deno.remove(file);
      // Once there is room, a retry finishes the items left.
      const retried = await run.retry({ progress: false });
      assert.deepEqual(await retried.results(), items);
      // The disk fills while the container runs: its item fails saying what to do, and once
      // there is room, a retry from another handle finishes it.
      const napping = await knot.map(["nap"], { progress: false });
      const labels = `label=org.cloudknot.run=${napping.runId}`;
      while ((await quiet.command(["ps", "--quiet", "--filter", labels])).stdout.trim() === "") {
        await new Promise((r) => setTimeout(r, 100));
      }
      const filled = await fill(dir, 0);
      const [napped] = await napping.settled();
      assert.equal(napped!.status, "rejected");
      const reason = (napped as { reason: ItemError }).reason;
      assert.equal(reason.kind, "infrastructure");
      assert.match(reason.message, /No space left on device.*Free space on that disk/);
      assert.match(reason.message, /run\.retry\(\)/);
      for (const file of filled) await Deno.remove(file);
      const again = await (await Knot.create({ name: "full", target: "docker", dir }))
        .collect(napping.runId);
      assert.deepEqual(await (await again.retry({ progress: false })).results(), ["rested"]);
      await knot.clobber();
    });
  },
);

dockerTmpfsTest(
  "on a full disk a docker knot adopted by name reads its finished runs: results, logs and runs()",
  async () => {
    const baseImage = await ensureBaseImage({ docker: quiet });
    await withTmpfs(4 * 1024 * 1024, async (dir) => {
      const knot = await Knot.create({
        name: "full",
        target: "docker",
        func: job,
        dir,
        baseImage,
        docker: quiet,
        concurrency: 1,
      });
      const run = await knot.map([1, 2, 3], { progress: false });
      assert.deepEqual(await run.results(), [1, 4, 9]);
      // Not a page left: the knot's record cannot be rewritten.
      const full = await fill(dir, 0, [64 * 1024, 4 * 1024]);
      const adopted = await Knot.create({ name: "full", target: "docker", dir, docker: quiet });
      assert.deepEqual((await adopted.runs()).map((r) => r.runId), [run.runId]);
      const again = await adopted.collect(run.runId);
      assert.deepEqual(await again.results(), [1, 4, 9]);
      assert.deepEqual(await Array.fromAsync(again.logs(1)), ["squaring 2"]);
      for (const file of full) await Deno.remove(file);
      await knot.clobber();
    });
  },
);

/**
 * A number: its square. A knot's folder `root` (where the container sees only its run's folder):
 * prints a long line, waits (with `after`) until an item of its run has a record, then fills the
 * disk of its run's folder.
 */
const filling = async (x: number | { root: string; after?: boolean }) => {
  if (typeof x === "number") return x * x;
  console.log(`filling ${"x".repeat(200_000)}`);
  const [run] = await Array.fromAsync(Deno.readDir(`${x.root}/runs`));
  const dir = `${x.root}/runs/${run!.name}`;
  const recorded = async () =>
    (await Array.fromAsync(Deno.readDir(`${dir}/out`)).catch(() => [])).some((e) =>
      !e.name.includes(".tmp")
    );
  while (x.after && !await recorded()) await new Promise((r) => setTimeout(r, 50));
  for (const size of [64 * 1024, 4 * 1024, 512]) {
    for (let i = 0;; i++) {
      try {
        await Deno.writeFile(`${dir}/filler-${size}-${i}`, new Uint8Array(size));
      } catch {
        break;
      }
    }
  }
  return "filled";
};

/**
 * Creates the knot of {@linkcode filling} whose folder is `root`, with one attempt per slice,
 * its function allowed to read and write its folder.
 */
async function fillingKnot(
  root: string,
  baseImage: string,
  warn: (message: string) => void,
): Promise<Knot<typeof filling>> {
  return await Knot.create({
    name: basename(root),
    target: "docker",
    func: filling,
    dir: dirname(root),
    baseImage,
    docker: quiet,
    retries: 1,
    permissions: { read: [root], write: [root] },
    warn,
  });
}

/** Removes what {@linkcode filling} wrote in a run's folder. */
async function unfill(runDir: string): Promise<void> {
  for await (const entry of Deno.readDir(runDir)) {
    if (entry.name.startsWith("filler-")) await Deno.remove(join(runDir, entry.name));
  }
}

dockerTmpfsTest(
  "a docker container whose output a full disk could not keep stays on Docker, the run's end and its item's error saying so and what keeps it; once there is room, collect() keeps its whole output in the run and removes it",
  async () => {
    const baseImage = await ensureBaseImage({ docker: quiet });
    await withTmpfs(4 * 1024 * 1024, async (dir) => {
      const root = join(dir, "kept");
      const warnings: string[] = [];
      const knot = await fillingKnot(root, baseImage, (message) => warnings.push(message));
      try {
        const run = await knot.map([{ root }], { progress: false });
        const { runId } = run;
        const runDir = join(root, "runs", runId);
        const container = `cloudknot-${runId}-0-1`;
        const [settled] = await run.settled();
        const reason = (settled as { reason: ItemError }).reason;
        assert.equal(reason.kind, "infrastructure", reason.message);
        const advice = `collect the run again (knot.collect("${runId}") of knot kept) or retry ` +
          `it with run.retry() on the run's handle (knot.collect("${runId}") of knot kept)`;
        assert.match(reason.message, /No space left on device.*Free space on that disk/);
        assert.ok(
          reason.message.endsWith(
            `then ${advice}: either first keeps in the run the output of its docker container ` +
              `${container}, which Docker keeps until then with the only copy of it, and ` +
              `removes the container`,
          ),
          reason.message,
        );
        // In the command line's words: its commands.
        assert.match(
          inCliWords(reason),
          new RegExp(
            `then run cloudknot results kept ${runId} or retry it with cloudknot retry kept ` +
              `${runId}: either first keeps in the run the output of its docker container`,
          ),
        );
        assert.deepEqual(warnings, [
          `cloudknot: docker run ${runId} of knot kept could not keep the output of its docker ` +
          `container ${container} in ${runDir} (its disk is full): Docker keeps it, with the ` +
          `only copy of it. Once there is room, ${advice}: either keeps that output in the run ` +
          `and removes the container`,
        ]);
        assert.deepEqual(await containerNames(runId), [container]);
        // Nothing of the log is kept in the run: a part of it would stand for the whole.
        assert.equal(await Deno.stat(join(runDir, "logs", "0-1.log")).then(() => 1, () => 0), 0);
        await unfill(runDir);
        const again = await (await Knot.create({ name: "kept", target: "docker", dir }))
          .collect(runId, { progress: false });
        await again.settled();
        assert.deepEqual(await containerNames(runId), []);
        const [line] = await Array.fromAsync(again.logs(0));
        assert.equal(line, `filling ${"x".repeat(200_000)}`);
      } finally {
        await knot.clobber();
      }
    });
  },
);

dockerTmpfsTest(
  "a docker item whose container recorded its success before the disk filled under its slice stays a success, for its handle and every later reader",
  async () => {
    const baseImage = await ensureBaseImage({ docker: quiet });
    await withTmpfs(4 * 1024 * 1024, async (dir) => {
      const root = join(dir, "stands");
      const knot = await fillingKnot(root, baseImage, () => {});
      try {
        // One container runs both, one after the other: item 1 fills the disk once item 0's
        // record is written, and neither item 1's record nor the container's log can be kept.
        const run = await knot.map([3, { root, after: true }], { itemsPerJob: 2, progress: false });
        const [first, second] = await run.settled();
        assert.deepEqual(first, { index: 0, status: "fulfilled", value: 9 });
        const reason = (second as { reason: ItemError }).reason;
        assert.equal(reason.kind, "infrastructure", reason.message);
        assert.match(reason.message, /No space left on device/);
        await unfill(join(root, "runs", run.runId));
        const again = await (await Knot.create({ name: "stands", target: "docker", dir }))
          .collect(run.runId, { progress: false });
        assert.deepEqual((await again.settled())[0], { index: 0, status: "fulfilled", value: 9 });
      } finally {
        await knot.clobber();
      }
    });
  },
);

/** The names of a run's containers, running or not. */
async function containerNames(runId: string): Promise<string[]> {
  const { stdout } = await quiet.command([
    "ps",
    "--all",
    "--filter",
    `label=org.cloudknot.run=${runId}`,
    "--format",
    "{{.Names}}",
  ]);
  return stdout.split("\n").filter((l) => l !== "");
}
