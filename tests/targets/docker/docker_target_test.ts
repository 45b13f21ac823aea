// The docker target, with real containers: a knot's image runs on the local
// Docker engine with the job contract of AWS Batch (command, environment,
// payload layout, stamped records, exit codes), failures are typed and
// retried as on Batch, and cancel, clobber and a client killed midway leave
// nothing behind and lose nothing; a module's stack frames name its files in
// any process that opens the knot from its record. Base images come from
// tests/support/base_image.ts; under CI=true these tests fail without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { Docker } from "../../../src/docker/docker.ts";
import { listRecords } from "../../../src/job/payload.ts";
import { readRecords } from "../../../src/job/record_segment.ts";
import { LocalStore } from "../../../src/store/local.ts";
import { CONTAINER_LABELS } from "../../../src/targets/docker/docker_target.ts";
import { job, rejected } from "../../fixtures/docker_job.ts";
import { knotImage, withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { THROWING_FRAMES } from "../../fixtures/throwing_frames.ts";
import { refuseNegative } from "../../fixtures/typed_func.ts";
import { TYPED_FUNC_FRAME } from "../../fixtures/typed_func_frames.ts";
import { CLI, denoChild, stacksElsewhere, startForLine } from "../../support/deno_child.ts";
import { runUntil } from "../../support/run_until.ts";
import { inCliWords } from "../../../src/cli/common/cli_words.ts";

const quiet = new Docker({ logger: () => {} });

/** The names of the containers with these labels, running or not. */
async function containers(labels: Record<string, string>): Promise<string[]> {
  const args = ["ps", "--all", "--format", "{{.Names}}"];
  for (const [key, value] of Object.entries(labels)) args.push("--filter", `label=${key}=${value}`);
  const { stdout } = await quiet.command(args);
  return stdout.split("\n").filter((l) => l.trim() !== "");
}

/** Every record of a run as its key says: item, attempt, stamp. */
async function recordKeys(runDir: string) {
  return await Array.fromAsync(listRecords(new LocalStore(runDir)));
}

/** How many items of a run have a record, as its jobs and its driver wrote them. */
async function recordedItems(store: LocalStore): Promise<number> {
  const items = new Set<number>();
  for await (const key of listRecords(store)) {
    for (const record of await readRecords(store, key)) items.add(record.index);
  }
  return items.size;
}

/** How each item ended: its value, or its error's kind. */
function ends(settled: PromiseSettledResult<unknown>[]): string[] {
  return settled.map((s, i) => s.status === "fulfilled" ? `ok ${s.value}` : rejected(s, i).kind);
}

dockerTest(
  "a docker knot runs its image as Batch would: results in order, typed and retried failures, OOM, timeout, logs; clobber leaves nothing",
  async (t) => {
    await withDockerKnots("cloudknot-docker-", async ({ dir, knotOptions }) => {
      const knot = await Knot.create({
        ...knotOptions,
        name: "contract",
        func: job,
        concurrency: 2,
        retries: 2,
        timeout: 4,
        memory: 128,
      });
      assert.equal(knot.target, "docker");
      const root = join(dir, "contract");
      const image = await knotImage(dir, "contract");
      assert.ok(await quiet.inspectImage(image), "the image was built locally");

      const inputs = [1, "throw", 2, "crash", "oom", "sleep", "env", 3];
      // One item per container, as a Batch child of one item (slices: slices_test.ts).
      const run = await knot.map(inputs, {
        env: { MODE: "test" },
        itemsPerJob: 1,
        progress: false,
      });
      assert.equal(run.target, "docker");
      const settled = await run.settled();
      const runDir = join(root, "runs", run.runId);

      await t.step("results come back in input order", () => {
        for (const [index, value] of [[0, 1], [2, 4], [7, 9]] as const) {
          assert.deepEqual(settled[index], { index, status: "fulfilled", value });
        }
      });

      await t.step("each container gets a Batch array child's environment", () => {
        assert.deepEqual(settled[6], {
          index: 6,
          status: "fulfilled",
          value: ["6", "1", `${run.runId}:6`, "4", "test"],
        });
      });

      await t.step(
        "a throw is retried, then fails with the function's error and exit code 1",
        () => {
          const e = rejected(settled[1]!, 1);
          assert.equal(e.kind, "threw");
          assert.equal(e.remote.name, "RangeError");
          assert.equal(e.attempt, 2);
          assert.equal(e.exitCode, 1);
        },
      );

      await t.step("a worker that exits without a record is a crash, retried", () => {
        const e = rejected(settled[3]!, 3);
        assert.equal(e.kind, "crashed");
        // The container's entry runs the item in a worker process, which Deno.exit() ends.
        assert.equal(e.remote.name, "WorkerCrashedError");
        assert.equal(e.attempt, 2);
        assert.equal(e.exitCode, 7);
      });

      await t.step("an OOM-killed container gives Batch's OutOfMemoryError", () => {
        const e = rejected(settled[4]!, 4);
        assert.equal(e.kind, "crashed");
        assert.equal(e.remote.name, "OutOfMemoryError");
        assert.equal(e.exitCode, 137);
        assert.match(e.message, /memory limit is 128 MiB/);
      });

      await t.step("an attempt past the timeout is killed, recorded as a timeout, retried", () => {
        const e = rejected(settled[5]!, 5);
        assert.equal(e.kind, "timeout");
        assert.equal(e.remote.name, "TimeoutError");
        assert.match(
          e.remote.message,
          /^The attempt ran longer than its timeout of 4s and was killed\. Make the item faster, or give it more time with the timeout option of Knot\.create, map or retry: /,
        );
        // The container is told its knot and run: the advice names them, in both words.
        assert.ok(
          e.remote.message.includes(
            `run.retry({ timeout: 8 }) on the run's handle (knot.collect("${run.runId}") of ` +
              `knot contract) maps the run's failed items again`,
          ),
          e.remote.message,
        );
        assert.ok(
          inCliWords(e).includes(
            `cloudknot retry contract ${run.runId} --timeout 8 maps the run's failed items again`,
          ),
          inCliWords(e),
        );
        assert.equal(e.attempt, 2);
        assert.equal(e.exitCode, 124);
      });

      await t.step("the counts show one retry per failed item", () => {
        assert.equal(run.counts.retried, 4);
        assert.equal(run.counts.failed, 4);
        assert.equal(run.counts.succeeded, 4);
      });

      await t.step("each attempt's output is kept as its log", async () => {
        assert.ok((await Array.fromAsync(run.logs(0))).includes("squaring 1"));
        const second = await Array.fromAsync(run.logs(1, { attempt: 2 }));
        assert.ok(second.some((l) => l.includes("no such item")), second.join("\n"));
      });

      await t.step("the run's directory is private and holds stamped records", async () => {
        assert.equal((await Deno.stat(runDir)).mode! & 0o777, 0o700);
        const keys = await recordKeys(runDir);
        // 4 items that ended at once, 4 that took two attempts.
        assert.equal(keys.length, 12);
        assert.ok(keys.every((k) => k.stamp !== undefined), "every key is stamped");
      });

      await t.step("what the run used is read from its records, as CPU-seconds here", async () => {
        const usage = await run.usage();
        assert.equal(usage.attempts.length, 12);
        assert.equal(usage.attempts.filter((a) => a.outcome === "retried").length, 4);
        assert.match((await run.cost()).toString(), /CPU-seconds/);
      });

      await t.step("no container is left once the run is done", async () => {
        assert.deepEqual(await containers({ [CONTAINER_LABELS.run]: run.runId }), []);
      });

      await t.step("collect() from a new handle reads the run and runs nothing", async () => {
        const again = await Knot.create({ name: "contract", target: "docker", dir });
        const collected = await again.collect(run.runId);
        assert.deepEqual(await collected.settled(), settled);
        assert.equal((await recordKeys(runDir)).length, 12);
        assert.deepEqual((await again.runs()).map((r) => r.runId), [run.runId]);
      });

      await t.step(
        "retry() runs the failed items again as a new run, with their own memory",
        async () => {
          const retried = await run.retry({ memory: "double", progress: false });
          const again = await retried.settled();
          assert.deepEqual(again[2], { index: 2, status: "fulfilled", value: 4 });
          assert.equal(rejected(again[1]!, 1).remote.name, "RangeError");
          // The item that ran out of memory got twice the knot's.
          assert.match(rejected(again[4]!, 4).message, /memory limit is 256 MiB/);
        },
      );

      await t.step("clobber removes the containers, the image and the knot's data", async () => {
        await knot.clobber();
        assert.deepEqual(await containers({ [CONTAINER_LABELS.knot]: root }), []);
        assert.equal(await quiet.inspectImage(image), undefined);
        await assert.rejects(Deno.stat(root), Deno.errors.NotFound);
      });
    });
  },
);

dockerTest(
  "an attempt outlasts the driver's time limit on one docker call; cancel() kills the run's containers and settles every item as cancelled",
  async () => {
    await withDockerKnots("cloudknot-docker-", async ({ dir, baseImage }) => {
      const knot = await Knot.create({
        name: "cancelled",
        target: "docker",
        func: job,
        dir,
        cloudknotDir: dir,
        baseImage,
        // Each docker call may take 4 s here: waiting for a longer attempt asks again.
        docker: new Docker({ logger: () => {}, timeouts: { other: 4_000 } }),
        concurrency: 2,
      });
      const napped = await knot.map(["nap"], { progress: false });
      assert.deepEqual(await napped.results(), ["rested"]);
      const run = await knot.map(["sleep", "sleep", "sleep"], { progress: false });
      const labels = { [CONTAINER_LABELS.run]: run.runId };
      while ((await containers(labels)).length < 2) await new Promise((r) => setTimeout(r, 100));
      await run.cancel("enough");
      const settled = await run.settled();
      for (const [i, s] of settled.entries()) assert.equal(rejected(s, i).kind, "cancelled");
      assert.deepEqual(await containers(labels), [], "no container of the run is left");
      // The cancellation is recorded: a later collect sees it and starts nothing.
      const collected = await knot.collect(run.runId);
      const again = await collected.settled();
      for (const [i, s] of again.entries()) assert.equal(rejected(s, i).kind, "cancelled");
      assert.deepEqual(await containers(labels), []);
      await knot.clobber();
    });
  },
);

dockerTest(
  "cancel() keeps what a slice's job recorded before its container was killed: its items that succeeded are successes on the handle and for a later collect()",
  async () => {
    await withDockerKnots("cloudknot-docker-", async ({ dir, knotOptions }) => {
      const knot = await Knot.create({
        ...knotOptions,
        name: "cancel-keeps",
        func: job,
        concurrency: 1,
      });
      // One container runs the four items one after another: the last sleeps for two minutes.
      const run = await knot.map([1, 2, 3, "sleep"], { itemsPerJob: 4, progress: false });
      const store = new LocalStore(join(dir, "cancel-keeps", "runs", run.runId));
      // The job writes its records within a second of each item's end.
      while ((await recordedItems(store)) < 3) await new Promise((r) => setTimeout(r, 100));
      await run.cancel("enough");
      const expected = ["ok 1", "ok 4", "ok 9", "cancelled"];
      assert.deepEqual(ends(await run.settled()), expected);
      const later = await knot.collect(run.runId, { progress: false });
      assert.deepEqual(ends(await later.settled()), expected);
      assert.deepEqual(later.counts, run.counts);
      await knot.clobber();
    });
  },
);

dockerTest(
  "cancel() from a handle that follows a run reads what the driver's job recorded before its container was killed: every handle and every later reader see those items succeed",
  async () => {
    await withDockerKnots("cloudknot-docker-", async ({ dir, knotOptions }) => {
      const options = { ...knotOptions, name: "follower-keeps" } as const;
      const knot = await Knot.create({ ...options, func: job, concurrency: 1 });
      const run = await knot.map([1, 2, 3, "sleep"], { itemsPerJob: 4, progress: false });
      // Another handle (as another process's: the run's lock is held by the first), which has
      // read the run once and stopped following it: only its cancel reads the run again.
      const stopped = new AbortController();
      stopped.abort();
      const followed = await (await Knot.create(options)).collect(run.runId, {
        signal: stopped.signal,
      });
      const store = new LocalStore(join(dir, "follower-keeps", "runs", run.runId));
      while ((await recordedItems(store)) < 3) await new Promise((r) => setTimeout(r, 100));
      await followed.cancel("cancelled by the follower");
      const expected = ["ok 1", "ok 4", "ok 9", "cancelled"];
      assert.deepEqual(ends(await followed.settled()), expected);
      assert.deepEqual(ends(await run.settled()), expected, "the driving handle");
      const later = await (await Knot.create(options)).collect(run.runId, { progress: false });
      assert.deepEqual(ends(await later.settled()), expected);
      assert.deepEqual(later.counts, followed.counts);
      await knot.clobber();
    });
  },
);

dockerTest(
  "cancel() from a handle that follows a run another handle drives stops it there too: every handle and every later reader see the same cancelled items",
  async () => {
    await withDockerKnots("cloudknot-docker-", async ({ dir, baseImage }) => {
      const options = { name: "cancelled-elsewhere", target: "docker", dir } as const;
      const knot = await Knot.create({
        ...options,
        func: job,
        cloudknotDir: dir,
        baseImage,
        docker: quiet,
        concurrency: 1,
      });
      // One container at a time: the first sleeps, the others wait for it.
      const run = await knot.map(["sleep", 1, 2, 3], { itemsPerJob: 1, progress: false });
      const labels = { [CONTAINER_LABELS.run]: run.runId };
      while ((await containers(labels)).length < 1) await new Promise((r) => setTimeout(r, 100));
      // Another handle (as another process's: the run's lock is held by the first).
      const followed = await (await Knot.create(options)).collect(run.runId);
      await followed.cancel("cancelled by the follower");
      const kinds = (settled: PromiseSettledResult<unknown>[]) =>
        settled.map((s, i) => s.status === "fulfilled" ? "ok" : rejected(s, i).kind);
      const cancelled = ["cancelled", "cancelled", "cancelled", "cancelled"];
      assert.deepEqual(kinds(await followed.settled()), cancelled);
      assert.deepEqual(kinds(await run.settled()), cancelled, "the driving handle went on");
      const later = await (await Knot.create(options)).collect(run.runId);
      assert.deepEqual(kinds(await later.settled()), cancelled);
      assert.deepEqual(await containers(labels), [], "no container of the run is left");
      await knot.clobber();
    });
  },
);

/**
 * Maps three items on a knot that runs one container at a time, then clobbers
 * the knot from another handle (as another process's) with the docker driver
 * `clobbering` gives for the run, and checks that the run ends each item
 * saying the knot was clobbered, and leaves no file nor container behind.
 */
async function clobberedUnderRun(
  name: string,
  clobbering: (run: { settled(): Promise<unknown> }) => Docker,
): Promise<void> {
  await withDockerKnots("cloudknot-docker-", async ({ dir, baseImage }) => {
    const options = { name, target: "docker", dir } as const;
    const knot = await Knot.create({
      ...options,
      func: job,
      cloudknotDir: dir,
      baseImage,
      docker: quiet,
      concurrency: 1,
    });
    const run = await knot.map(["sleep", 1, 2], { itemsPerJob: 1, progress: false });
    const labels = { [CONTAINER_LABELS.run]: run.runId };
    while ((await containers(labels)).length < 1) await new Promise((r) => setTimeout(r, 100));
    await (await Knot.create({ ...options, docker: clobbering(run) })).clobber();
    const settled = await run.settled();
    for (const [i, s] of settled.entries()) {
      assert.match(rejected(s, i).message, /its knot was clobbered/, rejected(s, i).message);
    }
    await assert.rejects(Deno.stat(join(dir, name)), Deno.errors.NotFound);
    assert.deepEqual(await containers(labels), [], "no container of the run is left");
  });
}

dockerTest(
  "clobber() from another handle while a run is driven ends the run there and leaves no file of the knot behind",
  () => clobberedUnderRun("clobbered-elsewhere", () => quiet),
);

dockerTest(
  "a run driven while another handle clobbers its knot ends each item saying the knot was clobbered, also when its attempts fail to start on the removed image before the knot's folder goes",
  () =>
    clobberedUnderRun("clobbered-slowly", (run) => {
      // The clobber goes on past the run's containers and the knot's image only once every
      // item of the run has ended: each attempt left, started on the image it removed, fails.
      class Clobbering extends Docker {
        override async command(...call: Parameters<Docker["command"]>) {
          if (call[0][0] === "images") await run.settled();
          return await super.command(...call);
        }
      }
      return new Clobbering({ logger: () => {} });
    }),
);

dockerTest(
  "a client killed midway leaves containers that finish; collect() from another process adopts them and runs each item once",
  async () => {
    await withDockerKnots("cloudknot-docker-kill-", async ({ dir, baseImage }) => {
      const { child: client, line: runId } = await startForLine([
        "run",
        "-A",
        "--lock=tests/deno.lock",
        new URL("../../fixtures/docker_client.ts", import.meta.url).href,
        dir,
        baseImage,
      ]);
      const runDir = join(dir, "resumable", "runs", runId);
      // Kill it once some items, but not all, are done.
      while ((await recordKeys(runDir).catch(() => [])).length < 2) {
        await new Promise((r) => setTimeout(r, 50));
      }
      client.kill("SIGKILL");
      await client.status;
      const before = (await recordKeys(runDir)).length;
      assert.ok(before >= 2 && before < 8, `${before} items were recorded`);

      const knot = await Knot.create({ name: "resumable", target: "docker", dir, docker: quiet });
      const run = await knot.collect(runId);
      assert.deepEqual(await run.results(), Array.from({ length: 8 }, (_, i) => i * 2));
      // Every item ran once: one record each, all of a first attempt.
      const keys = await recordKeys(runDir);
      assert.deepEqual(keys.map((k) => k.index).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7]);
      assert.ok(keys.every((k) => k.attempt === 1), "an item ran twice");
      assert.deepEqual(await containers({ [CONTAINER_LABELS.run]: runId }), []);
      await knot.clobber();
    });
  },
);

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

dockerTest(
  "a knot whose image was removed builds it again at map(), and its containers never pull an image from a registry",
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
      assert.doesNotMatch(error.message, /registry/);
      // What docker said, once, as Batch's status reason; not docker's whole command line, twice.
      assert.match(error.message, /; CannotStartContainerError: .*No such image/);
      assert.doesNotMatch(error.message, /--mount/);
      // As it says: the knot opened again builds its image, and the retry runs the item.
      const again = await Knot.create({ name: "rebuilt", target: "docker", dir, docker: quiet });
      const retried = await (await again.collect(removed.runId)).retry({ progress: false });
      assert.deepEqual(await retried.results(), [1, 4]);
      await knot.clobber();
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
  "two knots of one name in two knots directories each run their own function, and clobbering one leaves the other's images",
  async (t) => {
    await withDockerKnots("cloudknot-docker-twin-a-", async (a) => {
      await withDockerKnots("cloudknot-docker-twin-b-", async (b) => {
        const name = "twin";
        // The first knot's earlier function: its image, untagged when the knot is created again
        // with another, is still the knot's (a run started before may run it by id).
        await Knot.create({ ...a.knotOptions, name, func: (x: number) => `earlier ${x}` });
        const earlier = (await quiet.inspectImage(await knotImage(a.dir, name)))!.Id;
        const first = await Knot.create({
          ...a.knotOptions,
          name,
          func: (x: number) => `first ${x}`,
        });
        const second = await Knot.create({
          ...b.knotOptions,
          name,
          func: (x: number) => `second ${x}`,
        });
        const firstImage = await knotImage(a.dir, name);
        const secondImage = await knotImage(b.dir, name);
        try {
          await t.step("each knot's map runs its own function", async () => {
            const firstRun = await first.map([1], { progress: false });
            assert.deepEqual(await firstRun.results(), ["first 1"]);
            const secondRun = await second.map([1], { progress: false });
            assert.deepEqual(await secondRun.results(), ["second 1"]);
          });
          const current = (await quiet.inspectImage(firstImage))?.Id;
          await t.step(
            "clobbering one leaves the other's images, and the other maps with them",
            async () => {
              await second.clobber();
              assert.equal(
                await quiet.inspectImage(secondImage),
                undefined,
                "its own image is gone",
              );
              assert.equal(
                (await quiet.inspectImage(firstImage))?.Id,
                current,
                "the other's is kept",
              );
              assert.ok(await quiet.inspectImage(earlier), "the other's earlier image is kept");
              const run = await first.map([2], { progress: false });
              assert.deepEqual(await run.results(), ["first 2"]);
            },
          );
        } finally {
          await second.clobber();
          await first.clobber();
        }
      });
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

dockerTest(
  "a handle that follows a docker run another handle drives, and cloudknot jobs in another process, show the items its containers run",
  async () => {
    await withDockerKnots("cloudknot-docker-", async ({ dir, knotOptions }) => {
      const options = { ...knotOptions, name: "followed-running" } as const;
      const knot = await Knot.create({ ...options, func: job, concurrency: 2 });
      // Two containers of one item each run (each sleeps for two minutes); the third waits.
      const run = await knot.map(["sleep", "sleep", 1], { itemsPerJob: 1, progress: false });
      await runUntil(run, () => run.counts.running === 2);
      // Another handle (as another process's: the run's lock is held by the first) follows it.
      const stop = new AbortController();
      const followed = await (await Knot.create(options)).collect(run.runId, {
        signal: stop.signal,
        progress: false,
      });
      // (The items end by themselves after two minutes: a handle that never shows them running
      // fails here then.)
      await runUntil(followed, () => followed.counts.running === 2 || followed.finished);
      assert.deepEqual(
        followed.items.map((item) => item.status),
        ["running", "running", "pending"],
      );
      stop.abort();
      const jobs = await denoChild(
        ["run", "-A", "--quiet", CLI, "jobs", "followed-running", run.runId, "--json"],
        { CLOUDKNOT_LOCAL_DIR: dir, CLOUDKNOT_CONFIG_FILE: join(dir, "cloudknot.ini") },
      );
      assert.equal(jobs.code, 0, jobs.stderr);
      const view = JSON.parse(jobs.stdout);
      assert.equal(view.counts.running, 2, jobs.stdout);
      assert.deepEqual(
        view.items.map((item: { status: string }) => item.status),
        ["running", "running", "pending"],
      );
      await run.cancel("enough");
      await knot.clobber();
    });
  },
);
