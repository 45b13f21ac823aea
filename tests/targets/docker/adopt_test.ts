// A docker run whose driving process was killed between two docker calls is
// finished by another process's collect(), each item's attempts counted as
// its driver would have: a container created but never started is started
// (or, when it cannot start, fails its attempt as Batch's
// CannotStartContainerError), one that ran and exited before it was adopted
// is read, a slice whose container was removed without a record (or never
// made) runs its attempt anew, a container whose records were written but
// which was not yet removed is removed, a container still running after one
// of its items recorded a failure is waited for, and the items a container
// killed meanwhile left without a record get Batch's crash record. The
// killed driver is a real process, killed by its docker client
// (dying_client.ts). Under CI=true these tests fail without Docker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot } from "../../../mod.ts";
import { Docker } from "../../../src/docker/docker.ts";
import { LocalStore } from "../../../src/store/local.ts";
import { CONTAINER_LABELS } from "../../../src/targets/docker/docker_target.ts";
import { rejected } from "../../fixtures/docker_job.ts";
import { ensureBaseImage } from "../../support/base_image.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { readAllRecords } from "../../support/records.ts";
import { CLI, denoChild } from "../../support/deno_child.ts";
import { killedByDockerClient } from "./docker_runs.ts";

const quiet = new Docker({ logger: () => {} });
/** How long a taken-over run may take before the test calls it hung (it takes seconds). */
const HUNG_MS = 180_000;

/** `work`, or a failure saying it hung when it has not ended after `ms`. */
async function unlessHung<T>(work: Promise<T>, what: string, ms = HUNG_MS): Promise<T> {
  const signal = AbortSignal.timeout(ms);
  let onAbort!: () => void;
  const hung = new Promise<never>((_, reject) => {
    onAbort = () => reject(new Error(`${what} had not ended after ${ms / 1000} s: it hangs`));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work, hung]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** Runs dying_client.ts until its docker client kills it at `when`; returns its run's id. */
async function killedDriver(
  dir: string,
  baseImage: string,
  when: "create" | "wait" | "rm",
  items?: unknown[],
  network?: string,
) {
  await killedByDockerClient(dir, baseImage, when, items ?? squares.map((_, i) => i), network);
  const runs = await Array.fromAsync(Deno.readDir(join(dir, "dying", "runs")));
  assert.equal(runs.length, 1);
  return runs[0]!.name;
}

/** The run's containers, by the first item of their slice: name, attempt and state. */
async function containers(runId: string) {
  const { stdout } = await quiet.command([
    "ps",
    "--all",
    "--filter",
    `label=${CONTAINER_LABELS.run}=${runId}`,
    "--format",
    `{{.Names}}\t{{.Label "${CONTAINER_LABELS.index}"}}\t{{.Label "${CONTAINER_LABELS.attempt}"}}\t{{.State}}`,
  ]);
  const out: Record<number, { name: string; attempt: number; state: string }> = {};
  for (const line of stdout.split("\n").filter((l) => l.trim() !== "")) {
    const [name, index, attempt, state] = line.split("\t");
    out[Number(index)] = { name: name!, attempt: Number(attempt), state: state! };
  }
  return out;
}

/** The attempts recorded of each item of a run. */
async function attemptsOf(runDir: string): Promise<Record<number, number[]>> {
  return attemptsIn(await readAllRecords(new LocalStore(runDir)));
}

/**
 * Removes every container of the knots under `dir`, so nothing waits on them, and the knot's
 * image when its clobber did not (a test that ended before it): the knot's record names it.
 */
async function removeContainers(dir: string): Promise<void> {
  const { stdout } = await quiet.command([
    "ps",
    "--all",
    "--quiet",
    "--filter",
    `label=${CONTAINER_LABELS.knot}=${join(dir, "dying")}`,
  ]);
  const ids = stdout.split("\n").filter((l) => l.trim() !== "");
  await quiet.removeContainer(ids, { force: true, missingOk: true });
  const record = await Deno.readTextFile(join(dir, "dying", "knot.json")).catch(() => undefined);
  const image: unknown = record === undefined ? undefined : JSON.parse(record).image;
  if (typeof image === "string") await quiet.removeImage(image, { force: true, missingOk: true });
}

const squares = Array.from({ length: 8 }, (_, i) => i * i);
const once = Object.fromEntries(squares.map((_, i) => [i, [1]]));

dockerTest(
  "a run whose driver was killed between docker create and docker start is finished by collect() from another process: a created container is started, one that exited is read, a removed one runs anew, each item once",
  async () => {
    const baseImage = await ensureBaseImage({ docker: quiet });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-docker-adopt-" });
    try {
      const runId = await killedDriver(dir, baseImage, "create");
      const runDir = join(dir, "dying", "runs", runId);
      // The driver created the containers of the 3 slices it ran at once and started none.
      const left = await containers(runId);
      assert.deepEqual(
        Object.entries(left).map(([from, c]) => [Number(from), c.attempt, c.state]),
        [[0, 1, "created"], [2, 1, "created"], [4, 1, "created"]],
      );
      const state = (await quiet.inspectContainer(left[0]!.name))!.State;
      assert.equal(state.Running, false);
      assert.ok(state.StartedAt?.startsWith("0001-"), "docker says it never started");
      assert.deepEqual(await attemptsOf(runDir), {}, "nothing ran");
      // Slice [2, 4) runs and exits before another process adopts it; slice [4, 6) loses its
      // container without a record; slice [6, 8) never had one; slice [0, 2) stays created.
      await quiet.command(["start", left[2]!.name]);
      assert.equal((await quiet.command(["wait", left[2]!.name])).stdout.trim(), "0");
      await quiet.removeContainer(left[4]!.name, { force: true });

      const knot = await Knot.create({ name: "dying", target: "docker", dir, docker: quiet });
      const run = await knot.collect(runId);
      assert.deepEqual(await unlessHung(run.results(), "the taken-over run"), squares);
      assert.deepEqual(await attemptsOf(runDir), once, "each item ran once, in attempt 1");
      assert.deepEqual(await containers(runId), {}, "no container of the run is left");
      for (const i of [0, 2, 4, 6]) {
        assert.deepEqual(await Array.fromAsync(run.logs(i)), [`squaring ${i}`]);
      }
      await knot.clobber();
    } finally {
      await removeContainers(dir);
      await Deno.remove(dir, { recursive: true });
    }
  },
);

dockerTest(
  "a run whose driver was killed after a container's records were written, before it was removed, is finished by collect(): the container is removed, its items do not run again",
  async () => {
    const baseImage = await ensureBaseImage({ docker: quiet });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-docker-adopt-rm-" });
    try {
      const runId = await killedDriver(dir, baseImage, "rm");
      const runDir = join(dir, "dying", "runs", runId);
      const left = await containers(runId);
      assert.deepEqual(
        Object.entries(left).map(([from, c]) => [Number(from), c.attempt, c.state]),
        [[0, 1, "exited"]],
      );
      assert.deepEqual(await attemptsOf(runDir), { 0: [1], 1: [1] });

      const knot = await Knot.create({ name: "dying", target: "docker", dir, docker: quiet });
      const run = await knot.collect(runId);
      assert.deepEqual(await unlessHung(run.results(), "the taken-over run"), squares);
      assert.deepEqual(await attemptsOf(runDir), once, "each item ran once, in attempt 1");
      assert.deepEqual(await containers(runId), {}, "no container of the run is left");
      assert.deepEqual(await Array.fromAsync(run.logs(1)), ["squaring 1"]);
      await knot.clobber();
    } finally {
      await removeContainers(dir);
      await Deno.remove(dir, { recursive: true });
    }
  },
);

/**
 * Runs a slice of a throw then an 8 s nap (one item at a time) whose driver is killed once its
 * container started; once the throw is recorded, `meanwhile` is done to the container, then
 * another process collects the run, which must finish: the nap's result, the throw's error.
 * Returns the run's records.
 */
async function throwThenNap(meanwhile: (container: string) => Promise<void>) {
  const baseImage = await ensureBaseImage({ docker: quiet });
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-docker-adopt-nap-" });
  try {
    const runId = await killedDriver(dir, baseImage, "wait", ["throw", "nap"]);
    const runDir = join(dir, "dying", "runs", runId);
    await unlessHung(
      (async () => {
        while ((await attemptsOf(runDir))[0] === undefined) {
          await new Promise((r) => setTimeout(r, 100));
        }
      })(),
      "the failure's record",
    );
    await meanwhile((await containers(runId))[0]!.name);

    const knot = await Knot.create({ name: "dying", target: "docker", dir, docker: quiet });
    const run = await knot.collect(runId);
    const settled = await unlessHung(run.settled(), "the taken-over run");
    assert.deepEqual(settled[1], { index: 1, status: "fulfilled", value: "rested" });
    assert.equal(rejected(settled[0]!, 0).remote.name, "RangeError");
    assert.deepEqual(await containers(runId), {}, "no container of the run is left");
    const records = await readAllRecords(new LocalStore(runDir));
    await knot.clobber();
    return records;
  } finally {
    await removeContainers(dir);
    await Deno.remove(dir, { recursive: true });
  }
}

/** The attempts recorded of each item, of these records. */
function attemptsIn(records: { index: number; attempt: number }[]): Record<number, number[]> {
  const out: Record<number, number[]> = {};
  for (const r of records) (out[r.index] ??= []).push(r.attempt);
  for (const list of Object.values(out)) list.sort();
  return out;
}

dockerTest(
  "a run whose driver was killed while a slice's container runs on after one of its items failed is finished by collect(): the container is waited for, its other item runs once",
  async () => {
    const records = await throwThenNap(async (name) => {
      const state = (await quiet.inspectContainer(name))!.State;
      assert.equal(state.Status, "running", "it still runs the nap");
    });
    assert.deepEqual(
      attemptsIn(records),
      { 0: [1, 2], 1: [1] },
      "the nap ran once, in the container that ran on; the throw was retried",
    );
  },
);

dockerTest(
  "a container killed after its driver was killed gives the items it left without a record Batch's crash record when another process takes the run over; they are retried, not run anew unrecorded",
  async () => {
    // The nap's container is killed while no process drives the run.
    const records = await throwThenNap(async (name) => {
      await quiet.command(["kill", name]);
      assert.equal((await quiet.command(["wait", name])).stdout.trim(), "137");
    });
    assert.deepEqual(attemptsIn(records), { 0: [1, 2], 1: [1, 2] });
    const crash = records.find((r) => r.index === 1 && r.attempt === 1)!;
    assert.equal(crash.status === "error" && crash.error.name, "JobCrashedError");
    assert.equal(crash.status === "error" && crash.exitCode, 137);
  },
);

dockerTest(
  "a created container that cannot start when another process takes its run over fails its attempt as Batch's CannotStartContainerError, retried; the run finishes",
  async () => {
    const baseImage = await ensureBaseImage({ docker: quiet });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-docker-adopt-start-" });
    const network = `cloudknot-adopt-${crypto.randomUUID().slice(0, 8)}`;
    await quiet.command(["network", "create", network]);
    try {
      const runId = await killedDriver(dir, baseImage, "create", undefined, network);
      // Docker cannot start a container whose network is gone.
      await quiet.command(["network", "rm", network]);
      const knot = await Knot.create({ name: "dying", target: "docker", dir, docker: quiet });
      const run = await knot.collect(runId);
      const settled = await unlessHung(run.settled(), "the taken-over run");
      for (const [i, s] of settled.entries()) {
        const e = rejected(s, i);
        assert.equal(e.remote.name, "JobFailedError");
        assert.match(e.message, /could not start/);
        assert.equal(e.attempt, 2, "the attempt that could not start counts");
      }
      assert.deepEqual(await containers(runId), {}, "no container of the run is left");
      await knot.clobber();
    } finally {
      await removeContainers(dir);
      await quiet.command(["network", "rm", network]).catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
);

/** `cloudknot jobs dying <runId> --json` in a new process, which only looks: each item's status. */
async function jobsStatuses(dir: string, runId: string): Promise<string[]> {
  const out = await denoChild(["run", "-A", "--quiet", CLI, "jobs", "dying", runId, "--json"], {
    CLOUDKNOT_LOCAL_DIR: dir,
    CLOUDKNOT_CONFIG_FILE: join(dir, "cloudknot.ini"),
  });
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout).items.map((item: { status: string }) => item.status);
}

dockerTest(
  "cloudknot jobs shows a killed driver's container that still runs as its items running, and none once it exited",
  async () => {
    const baseImage = await ensureBaseImage({ docker: quiet });
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-docker-adopt-ps-" });
    try {
      // Killed once the first slice's container started: its two items sleep for two minutes.
      const runId = await killedDriver(dir, baseImage, "wait", ["sleep", "sleep", 1, 2]);
      const left = await containers(runId);
      assert.equal(left[0]?.state, "running");
      assert.deepEqual(await jobsStatuses(dir, runId), [
        "running",
        "running",
        "pending",
        "pending",
      ]);
      // Gone without a record (as killed by hand): its items run nowhere.
      await quiet.command(["kill", left[0]!.name]);
      await quiet.command(["wait", left[0]!.name]);
      assert.deepEqual(await jobsStatuses(dir, runId), [
        "pending",
        "pending",
        "pending",
        "pending",
      ]);
    } finally {
      await removeContainers(dir);
      await Deno.remove(dir, { recursive: true });
    }
  },
);
