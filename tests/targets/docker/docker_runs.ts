// What the docker target's test files share: a driver that logs nothing, the
// containers, records and ends of a run as a test reads them, and a run held
// by a sleeping first item on a knot that runs one container at a time.
import { join } from "node:path";
import { Knot, type MapRun } from "../../../mod.ts";
import { Docker } from "../../../src/docker/docker.ts";
import { listRecords, type RecordKey } from "../../../src/job/payload.ts";
import { readRecords } from "../../../src/job/record_segment.ts";
import { LocalStore } from "../../../src/store/local.ts";
import { CONTAINER_LABELS } from "../../../src/targets/docker/docker_target.ts";
import { job, rejected } from "../../fixtures/docker_job.ts";
import type { DockerKnots } from "../../support/docker_knots.ts";
import { endsWithin } from "../../support/ends_within.ts";

/** A docker driver that logs nothing. */
export const quiet: Docker = new Docker({ logger: () => {} });

/** The names of the containers with these labels, running or not. */
export async function containers(labels: Record<string, string>): Promise<string[]> {
  const args = ["ps", "--all", "--format", "{{.Names}}"];
  for (const [key, value] of Object.entries(labels)) args.push("--filter", `label=${key}=${value}`);
  const { stdout } = await quiet.command(args);
  return stdout.split("\n").filter((l) => l.trim() !== "");
}

/** The names of a run's containers that run now. */
export async function runningContainers(runId: string): Promise<string[]> {
  const { stdout } = await quiet.command([
    "ps",
    "--filter",
    `label=${CONTAINER_LABELS.run}=${runId}`,
    "--format",
    "{{.Names}}",
  ]);
  return stdout.split("\n").filter((l) => l.trim() !== "");
}

/** Every record of a run as its key says: item, attempt, stamp. */
export async function recordKeys(runDir: string): Promise<RecordKey[]> {
  return await Array.fromAsync(listRecords(new LocalStore(runDir)));
}

/** How many items of a run have a record, as its jobs and its driver wrote them. */
export async function recordedItems(store: LocalStore): Promise<number> {
  const items = new Set<number>();
  for await (const key of listRecords(store)) {
    for (const record of await readRecords(store, key)) items.add(record.index);
  }
  return items.size;
}

/** How each item ended: its value, or its error's kind. */
export function ends(settled: PromiseSettledResult<unknown>[]): string[] {
  return settled.map((s, i) => s.status === "fulfilled" ? `ok ${s.value}` : rejected(s, i).kind);
}

/** A run that {@linkcode sleepingRun} started, and how to open its knot again. */
export interface SleepingRun {
  /** What opens the knot by name from another handle: its name, target and directory. */
  options: { name: string; target: "docker"; dir: string };
  /** The handle that made the knot and drives the run. */
  knot: Knot<typeof job>;
  /** The run. */
  run: MapRun<unknown>;
  /** The label its containers carry. */
  labels: Record<string, string>;
}

/**
 * Creates knot `name` of `job` in `knots`, running one container at a time,
 * maps `inputs` on it one item per container, and resolves once the run's
 * first container exists: a first input `"sleep"` holds the others back for
 * two minutes.
 */
export async function sleepingRun(
  knots: DockerKnots,
  name: string,
  inputs: (number | string)[],
): Promise<SleepingRun> {
  const options = { name, target: "docker", dir: knots.dir } as const;
  const knot = await Knot.create({
    ...options,
    func: job,
    cloudknotDir: knots.dir,
    baseImage: knots.baseImage,
    docker: quiet,
    concurrency: 1,
  });
  const run = await knot.map(inputs, { itemsPerJob: 1, progress: false });
  const labels = { [CONTAINER_LABELS.run]: run.runId };
  while ((await containers(labels)).length < 1) await new Promise((r) => setTimeout(r, 100));
  return { options, knot, run, labels };
}

/**
 * Resolves once `count` items of run `runId` of knot `name` in `dir` have a
 * record (a job writes its records within a second of each item's end).
 */
export async function untilRecorded(
  dir: string,
  name: string,
  runId: string,
  count: number,
): Promise<void> {
  const store = new LocalStore(join(dir, name, "runs", runId));
  while ((await recordedItems(store)) < count) await new Promise((r) => setTimeout(r, 100));
}

/**
 * Runs `dying_client.ts` (see it) on knot `dying` in `dir` until its docker client kills it at
 * `when`, mapping `items` (as JSON) on `network` when given; fails unless it was killed so.
 */
export async function killedByDockerClient(
  dir: string,
  baseImage: string,
  when: "create" | "wait" | "rm" | "build",
  items: unknown[],
  network?: string,
): Promise<void> {
  const client = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--lock=tests/deno.lock",
      new URL("./dying_client.ts", import.meta.url).href,
      dir,
      baseImage,
      when,
      JSON.stringify(items),
      ...(network !== undefined ? [network] : []),
    ],
  }).spawn();
  const status = await endsWithin(client.status, 180_000, "the client to be killed").catch((e) => {
    client.kill("SIGKILL");
    throw e;
  });
  if (status.signal !== "SIGKILL") {
    throw new Error(`the client was not killed by its docker client: it ended with ${status.code}`);
  }
}
