/**
 * The knot lifecycle of the live suite, one function for both places it runs:
 * a real AWS account (`deno task test:live`, the maintainer's check before a
 * release) and the emulator with every AWS behaviour of its README on (every
 * `deno task test`). Only the place differs: its session, and the base image
 * the knots' images are built from.
 *
 * The steps: a Pars; a knot on EC2 mapping 20 items, five per child, one of
 * which fails its first attempt and is retried alone; an item's logs; a knot on Fargate; both
 * knots clobbered with the Pars, their repositories and images; and `gc`
 * finding nothing of the run left. Each step has a deadline, and the knots
 * are small (`maxVcpus: 2`), so what a run can cost is bounded; whatever
 * happens, everything the run made is clobbered at the end.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Knot, Pars } from "../../mod.ts";
import type { AwsSession } from "../../src/aws/mod.ts";
import { deleteGarbage, findGarbage } from "../../src/resources/mod.ts";
import { StateFile } from "../../src/state/mod.ts";

/** Where the lifecycle runs. */
export interface Place {
  /** What it is, for the log: an account and region, or the emulator. */
  name: string;
  /** The session every call goes through. */
  session: AwsSession;
  /** The base image of the knots' images (default: the official Deno image). */
  baseImage?: string;
}

/**
 * Each step's deadline, in minutes: with `maxVcpus: 2` a run keeps at most
 * two vCPUs busy, so these bound what it costs (see docs/development.md).
 */
export const STEP_MINUTES = {
  pars: 5,
  knot: 20,
  map: 30,
  clobber: 30,
  gc: 5,
} as const;

/** The function both knots run: item 3 fails its first attempt, to show a retry. */
function liveSquare(x: number): number {
  if (x === 3 && Deno.env.get("AWS_BATCH_JOB_ATTEMPT") === "1") {
    throw new Error("the first attempt of item 3 fails on purpose");
  }
  console.log(`squaring ${x}`);
  return x * x;
}

/** Runs `work`, and fails when it takes longer than its deadline. */
async function step<T>(
  log: (line: string) => void,
  what: string,
  minutes: number,
  work: () => Promise<T>,
): Promise<T> {
  log(`live: ${what} (at most ${minutes} minutes)`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`live: ${what} took more than its ${minutes} minutes`)),
      minutes * 60_000,
    );
  });
  try {
    return await Promise.race([work(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs the lifecycle in a place, and clobbers what it made whatever happens.
 *
 * @param place The session and base image.
 * @param log Where progress and warnings go.
 */
export async function lifecycle(place: Place, log: (line: string) => void): Promise<void> {
  const { session } = place;
  const id = `live-${crypto.randomUUID().slice(0, 8)}`;
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-live-" });
  const state = new StateFile({ path: join(dir, "cloudknot"), env: () => undefined });
  const common = {
    target: "aws" as const,
    func: liveSquare,
    pars: `${id}-pars`,
    ...(place.baseImage !== undefined ? { baseImage: place.baseImage } : {}),
    maxVcpus: 2,
    session,
    state,
    cloudknotDir: join(dir, "home"),
    pollInterval: 1000,
    warn: log,
  };
  const knots: Knot[] = [];
  log(`live: ${id} in ${place.name}`);
  try {
    await step(
      log,
      "a Pars",
      STEP_MINUTES.pars,
      () => Pars.create({ name: `${id}-pars`, session, state }),
    );

    const ec2 = await step(log, "a knot on EC2", STEP_MINUTES.knot, () =>
      Knot.create({
        ...common,
        name: `${id}-ec2`,
        repoName: `${id}-ec2`,
        compute: "EC2",
        instanceTypes: ["c5.large", "m5.large"],
        vcpus: 1,
        memory: 1024,
        retries: 2,
        timeout: 300,
      }));
    knots.push(ec2);
    const inputs = Array.from({ length: 20 }, (_, i) => i);
    // Items per job "auto" on maxVcpus 2 of 1-vCPU jobs: four children of five items, each
    // running its slice on the worker pool in its container.
    const run = await step(log, "a map of 20 items on EC2", STEP_MINUTES.map, async () => {
      const run = await ec2.map(inputs, { progress: false });
      assert.deepEqual(await run.results(), inputs.map((x) => x * x));
      return run;
    });
    // Item 3 failed once and was retried (its child ran again, skipping 0, 1, 2 and 4); the others ran once.
    assert.equal(run.items[3]!.attempts, 2);
    assert.ok(run.items.every((item) => item.index === 3 || item.attempts === 1));
    // Twenty items ran in four containers.
    assert.equal(new Set(run.items.map((item) => item.jobId)).size, 4);
    const lines = await step(
      log,
      "an item's logs",
      STEP_MINUTES.gc,
      () => Array.fromAsync(run.logs(5)),
    );
    assert.ok(lines.includes("squaring 5"), lines.join("\n"));

    const fargate = await step(log, "a knot on Fargate", STEP_MINUTES.knot, () =>
      Knot.create({
        ...common,
        name: `${id}-fg`,
        repoName: `${id}-fg`,
        compute: "FARGATE",
        vcpus: 0.25,
        memory: 512,
        retries: 1,
      }));
    knots.push(fargate);
    await step(log, "a map of 3 items on Fargate", STEP_MINUTES.map, async () => {
      const run = await fargate.map([10, 11, 12], { progress: false });
      assert.deepEqual(await run.results(), [100, 121, 144]);
    });

    await step(log, "clobbering both knots and the Pars", STEP_MINUTES.clobber, async () => {
      await fargate.clobber({ repo: true, image: true });
      await ec2.clobber({ pars: true, repo: true, image: true });
    });
    assert.equal(await state.section(`pars ${id}-pars`), undefined, "the Pars was clobbered");
    await step(log, "gc finds nothing of the run", STEP_MINUTES.gc, async () => {
      const left = (await findGarbage({ session, state })).filter((g) => g.id.includes(id));
      assert.deepEqual(left, []);
    });
  } finally {
    await cleanUp(place, state, id, knots, log);
    await Deno.remove(dir, { recursive: true });
  }
}

/** After a failed step: clobbers what is left of the run, then deletes what gc still finds. */
async function cleanUp(
  place: Place,
  state: StateFile,
  id: string,
  knots: Knot[],
  log: (line: string) => void,
): Promise<void> {
  const { session } = place;
  for (const knot of knots) {
    if ((await state.section(`knot ${knot.name}`)) === undefined) continue;
    log(`live: cleaning up knot ${knot.name}`);
    await knot.clobber({ repo: true, image: true }).catch((e) => log(`live: ${e}`));
  }
  if ((await state.section(`pars ${id}-pars`)) !== undefined) {
    log(`live: cleaning up Pars ${id}-pars`);
    const pars = await Pars.create({ name: `${id}-pars`, session, state });
    await pars.clobber({ force: true, warn: log }).catch((e) => log(`live: ${e}`));
  }
  const left = (await findGarbage({ session, state })).filter((g) => g.id.includes(id));
  if (left.length > 0) {
    log(`live: deleting what is left: ${left.map((g) => `${g.kind} ${g.id}`).join(", ")}`);
    const { failed } = await deleteGarbage(left, { session, state, warn: log });
    for (const f of failed) log(`live: could not delete ${f.item.kind} ${f.item.id}: ${f.error}`);
  }
}
