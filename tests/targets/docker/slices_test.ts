// The docker target runs slices as AWS Batch children do, with real
// containers: a run of N items starts fewer containers than items, each with
// a Batch child's environment; a failing and a crashing item fail alone and
// their slice is retried without its neighbours; a container killed midway
// is retried and skips what it recorded; run.logs(i) shows only item i's
// lines; the knot's permissions bind the function in its container; a bad
// itemsPerJob starts nothing; what a failed slice's container ended with
// reaches every process that reads the run. Under CI=true these tests fail
// without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { CloudknotInputError, Knot } from "../../../mod.ts";
import { Docker } from "../../../src/docker/docker.ts";
import { LocalStore } from "../../../src/store/local.ts";
import { dockerRuns } from "../../../src/targets/docker/catalog.ts";
import { CONTAINER_LABELS } from "../../../src/targets/docker/docker_target.ts";
import { job, rejected } from "../../fixtures/docker_job.ts";
import { ensureBaseImage } from "../../support/base_image.ts";
import { withDockerKnots } from "../../support/docker_knots.ts";
import { readAllRecords } from "../../support/records.ts";
import { itemCounter } from "../../support/item_counter.ts";
import { dockerTest } from "../../support/docker_available.ts";

const quiet = new Docker({ logger: () => {} });

/** The containers started with these labels since `since` (epoch seconds), as docker's events say. */
async function started(since: number, labels: Record<string, string>): Promise<number> {
  const args = [
    "events",
    "--since",
    String(since),
    "--until",
    String(Math.ceil(Date.now() / 1000) + 1),
    "--filter",
    "type=container",
    "--filter",
    "event=start",
    "--format",
    "{{.ID}}",
  ];
  for (const [key, value] of Object.entries(labels)) args.push("--filter", `label=${key}=${value}`);
  const { stdout } = await quiet.command(args);
  return stdout.split("\n").filter((l) => l.trim() !== "").length;
}

/** Every record of a run (a job writes many in one segment). */
function records(runDir: string) {
  return readAllRecords(new LocalStore(runDir));
}

/** The attempts recorded of each item. */
async function attemptsOf(runDir: string): Promise<Record<number, number[]>> {
  const out: Record<number, number[]> = {};
  for (const r of await records(runDir)) (out[r.index] ??= []).push(r.attempt);
  for (const list of Object.values(out)) list.sort();
  return out;
}

dockerTest(
  "a docker run runs its items in slices, fewer containers than items: failures stay in their item, a failed slice is retried without its neighbours, logs(i) is item i's, permissions bind the function",
  async (t) => {
    await withDockerKnots("cloudknot-slices-", async ({ dir, baseImage }) => {
      const options = {
        name: "slices",
        target: "docker" as const,
        func: job,
        dir,
        cloudknotDir: dir,
        baseImage,
        docker: quiet,
        concurrency: 2,
        vcpus: 2,
        retries: 2,
        timeout: 60,
      };
      const knot = await Knot.create(options);
      const root = join(dir, "slices");
      const since = Math.floor(Date.now() / 1000);
      const inputs = [0, 1, 2, "throw", "crash", 5, 6, "env", "read", 9];
      const run = await knot.map(inputs, { env: { MODE: "slices" }, progress: false });
      const settled = await run.settled();
      const runDir = join(root, "runs", run.runId);
      const attempts = await attemptsOf(runDir);

      await t.step("results of the items that returned come back in order", () => {
        for (const index of [0, 1, 2, 5, 6, 9]) {
          assert.deepEqual(settled[index], { index, status: "fulfilled", value: index * index });
        }
      });

      await t.step(
        "auto cuts 10 items on 2 containers at once into 4 slices; the one that failed ran twice: 5 containers",
        async () => {
          // [6, 9) failed only for item 8's refused permission: it is not retried.
          assert.equal(await started(since, { [CONTAINER_LABELS.run]: run.runId }), 5);
        },
      );

      await t.step("each item sees the job variables an item of a Batch slice sees", () => {
        // Item 7 is in the third slice, [6, 9): job id <run>:2; its worker is told its own index.
        assert.deepEqual(settled[7], {
          index: 7,
          status: "fulfilled",
          value: ["7", "1", `${run.runId}:2`, "60", "slices"],
        });
      });

      await t.step("a throw and a crash fail their own items, each retried once", () => {
        const threw = rejected(settled[3]!, 3);
        assert.equal(threw.remote.name, "RangeError");
        assert.equal(threw.attempt, 2);
        const crashed = rejected(settled[4]!, 4);
        assert.equal(crashed.kind, "crashed");
        assert.equal(crashed.remote.name, "WorkerCrashedError");
        assert.equal(crashed.attempt, 2);
      });

      await t.step("a retried slice skips the items it recorded as succeeded", () => {
        assert.deepEqual(attempts[3], [1, 2]);
        assert.deepEqual(attempts[4], [1, 2]);
        assert.deepEqual(attempts[5], [1], "item 5 shares a slice with 3 and 4 and ran once");
        assert.deepEqual(attempts[6], [1]);
        assert.deepEqual(attempts[7], [1]);
        assert.deepEqual(attempts[8], [1], "item 8 was refused a permission: not retried");
      });

      await t.step("a file the knot's permissions do not grant is refused in the container", () => {
        const e = rejected(settled[8]!, 8);
        assert.equal(e.remote.name, "NotCapable");
        assert.equal(e.kind, "refused");
        assert.equal(e.attempt, 1);
        assert.match(e.message, /Requires read access to "\/etc\/hostname"/);
        assert.match(e.message, /permissions/);
      });

      await t.step("logs(i) shows item i's lines only, from the log its slice shares", async () => {
        assert.deepEqual(await Array.fromAsync(run.logs(1)), ["squaring 1"]);
        assert.deepEqual(await Array.fromAsync(run.logs(5)), ["squaring 5"]);
        const threw = await Array.fromAsync(run.logs(3, { attempt: 1 }));
        assert.ok(threw.some((l) => l.includes("no such item")), threw.join("\n"));
        assert.ok(!threw.some((l) => l.includes("squaring")), threw.join("\n"));
      });

      await t.step("a dry run says how many containers run how many items each", async () => {
        const plan = await knot.map(inputs, { dryRun: true });
        const step = plan.steps.find((s) => s.kind === "containers")!;
        assert.equal(step.details?.containers, 4);
        assert.equal(step.details?.["items per container"], 3);
        assert.equal(step.details?.["items in flight per container"], 2);
      });

      await t.step("a bad itemsPerJob is refused before any container starts", async () => {
        const before = Math.floor(Date.now() / 1000);
        const runs = (await knot.runs()).length;
        for (const itemsPerJob of [0, 1.5, "many"]) {
          await assert.rejects(
            knot.map([1, 2], { itemsPerJob: itemsPerJob as number, progress: false }),
            (e) => e instanceof CloudknotInputError && /itemsPerJob must be/.test(e.message),
          );
        }
        assert.equal((await knot.runs()).length, runs, "no run was written");
        assert.equal(await started(before, { [CONTAINER_LABELS.knot]: root }), 0);
      });

      await t.step(
        "a failed slice's container details reach a process following the run and one reading it later",
        async () => {
          const reader = () =>
            dockerRuns({
              root,
              record: JSON.parse(Deno.readTextFileSync(join(root, "knot.json"))),
            }, quiet);
          // One container runs the three items: the job records them in its segments, then exits 1.
          const failing = await knot.map(["throw", "crash", 2], {
            itemsPerJob: 3,
            progress: false,
          });
          // Another target follows the run while this one drives it.
          const stop = new AbortController();
          const following = await reader().collect(failing.runId, {
            signal: stop.signal,
            finish: false,
          });
          const driven = await failing.settled();
          const followed = await following.settled();
          stop.abort();
          const later = await (await reader().collect(failing.runId, { finish: false })).settled();
          assert.deepEqual(driven[2], { index: 2, status: "fulfilled", value: 4 });
          const details = (settled: { status: string }[], index: number) => {
            const e = rejected(settled[index]!, index);
            const { attempt, exitCode, statusReason, logStream } = e;
            return { name: e.remote.name, attempt, exitCode, statusReason, logStream };
          };
          const log = join(root, "runs", failing.runId, "logs", "0-2.log");
          const reason = "Essential container in task exited";
          const own = [0, 1].map((i) => details(driven, i));
          assert.deepEqual(own, [
            // The container's exit code; the crashed worker's own, as the job recorded it.
            { name: "RangeError", attempt: 2, exitCode: 1, statusReason: reason, logStream: log },
            {
              name: "WorkerCrashedError",
              attempt: 2,
              exitCode: 7,
              statusReason: reason,
              logStream: log,
            },
          ]);
          assert.deepEqual([0, 1].map((i) => details(followed, i)), own, "the follower's");
          assert.deepEqual([0, 1].map((i) => details(later, i)), own, "a later reader's");
          // A run no process drives, without them (as a run of an earlier version): read at once.
          await Deno.remove(join(root, "runs", failing.runId, "containers"), { recursive: true });
          const bare = await reader().collect(failing.runId, { finish: false });
          assert.ok(bare.finished, "every item is settled by the records alone");
          assert.equal(details(await bare.settled(), 0).name, "RangeError");
        },
      );

      await t.step(
        "granted the file, the function reads it; the knot keeps its permissions, and a retry given them runs the item its run refused",
        async () => {
          const granted = await Knot.create({
            ...options,
            permissions: { read: ["/etc/hostname"] },
          });
          const [hostname] = await (await granted.map(["read"], { progress: false })).results();
          assert.equal(typeof hostname, "string");
          assert.ok((hostname as string).length > 0);
          const record = JSON.parse(await Deno.readTextFile(join(root, "knot.json")));
          assert.deepEqual(record.permissions, { read: ["/etc/hostname"] });
          const adopted = await Knot.create({
            name: "slices",
            target: "docker",
            dir,
            docker: quiet,
          });
          const [again] = await (await adopted.map(["read"], { progress: false })).results();
          assert.equal(typeof again, "string", "the adopted knot keeps its grant");
          // A retry from a process that only reads the knot's runs keeps the run's permissions.
          const mixed = await granted.map(["read", "throw"], { itemsPerJob: 2, progress: false });
          await mixed.settled();
          const runs = dockerRuns({
            root,
            record: JSON.parse(await Deno.readTextFile(join(root, "knot.json"))),
          }, quiet);
          const retried = await (await runs.collect(mixed.runId)).retry({ progress: false });
          await retried.settled();
          const manifest = JSON.parse(
            await Deno.readTextFile(join(root, "runs", retried.runId, "run.json")),
          );
          assert.deepEqual(manifest.container.permissions, { read: ["/etc/hostname"] });
          // Refused under the knot that does not grant it, the item runs with a retry that does.
          const refused = await knot.map(["read"], { progress: false });
          assert.equal(rejected((await refused.settled())[0]!, 0).kind, "refused");
          const allowed = await refused.retry({
            permissions: { read: ["/etc/hostname"] },
            progress: false,
          });
          assert.equal(typeof (await allowed.results())[0], "string");
          const allowedManifest = JSON.parse(
            await Deno.readTextFile(join(root, "runs", allowed.runId, "run.json")),
          );
          assert.deepEqual(allowedManifest.container.permissions, { read: ["/etc/hostname"] });
        },
      );

      await knot.clobber();
    });
  },
);

dockerTest(
  "a container killed midway is retried as Batch retries a child: its items already recorded do not run again",
  async () => {
    const baseImage = await ensureBaseImage({ docker: quiet });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-slices-kill-" });
    // Counts each item's runs; item 2's first run hangs until its container is killed.
    const counter = itemCounter((item, run) => item === "2" && run === 1);
    const { hits, release } = counter;
    try {
      const knot = await Knot.create({
        name: "killed",
        target: "docker",
        func: job,
        dir,
        cloudknotDir: dir,
        baseImage,
        docker: quiet,
        concurrency: 1,
        vcpus: 1,
        retries: 2,
        // The containers reach the counter on this machine's loopback.
        network: "host",
      });
      const run = await knot.map(["count 0", "count 1", "count 2", "count 3"], {
        env: { COUNTER: counter.url },
        itemsPerJob: 4,
        progress: false,
      });
      const runDir = join(dir, "killed", "runs", run.runId);
      const labels = [
        "ps",
        "--filter",
        `label=${CONTAINER_LABELS.run}=${run.runId}`,
        "--format",
        "{{.Names}}",
      ];
      // Kill the slice's container once items 0 and 1 are recorded and item 2 runs.
      for (;;) {
        const recorded = new Set((await records(runDir)).map((r) => r.index));
        if (hits.get("2") === 1 && recorded.has(0) && recorded.has(1)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const names = (await quiet.command(labels)).stdout.split("\n").filter((l) => l !== "");
      assert.equal(names.length, 1, "one container runs the whole slice");
      await quiet.command(["kill", names[0]!]);
      release();
      assert.deepEqual(await run.results(), ["ran 0", "ran 1", "ran 2", "ran 3"]);
      assert.deepEqual(Object.fromEntries(hits), { "0": 1, "1": 1, "2": 2, "3": 1 });
      assert.deepEqual(await attemptsOf(runDir), { 0: [1], 1: [1], 2: [1, 2], 3: [1, 2] });
      // The killed attempt left no record of its own for items 2 and 3: they got Batch's.
      const crash = (await records(runDir)).find((r) => r.index === 2 && r.attempt === 1)!;
      assert.equal(crash.status, "error");
      assert.equal(crash.status === "error" && crash.error.name, "JobCrashedError");
      assert.equal(crash.status === "error" && crash.exitCode, 137);
      assert.equal(run.counts.retried, 2);
      await knot.clobber();
    } finally {
      await counter.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
