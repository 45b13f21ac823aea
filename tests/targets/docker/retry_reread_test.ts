// A cancel whose `docker kill` fails (the daemon too slow to answer) leaves the
// run's containers running and says so; a docker retry after it reads the run
// again first, with real containers: it waits for those still running,
// warning once with the items they run, so an item that recorded a result
// after the cancel keeps it and runs no second time; the retry's signal stops
// that wait, and the containers go on. A handle that follows the run ends such
// an item as the container records it, as the retry does; the cancelling
// process lets go of the run only once its cancellations are saved, so such a
// handle, even one that could kill, takes nothing over and kills nothing.
// Under CI=true these tests fail without Docker.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Knot, type MapRun } from "../../../mod.ts";
import { Docker } from "../../../src/docker/docker.ts";
import { RUN_LOCK_FILES } from "../../../src/store/local_knots.ts";
import { job, rejected } from "../../fixtures/docker_job.ts";
import { withDockerKnots } from "../../support/docker_knots.ts";
import { dockerTest } from "../../support/docker_available.ts";
import { itemCounter } from "../../support/item_counter.ts";
import { runningContainers } from "./docker_runs.ts";

const quiet = new Docker({ logger: () => {} });

/** How each item ended: its value, or its error's kind. */
function ends(settled: PromiseSettledResult<unknown>[]): string[] {
  return settled.map((s, i) => s.status === "fulfilled" ? `ok ${s.value}` : rejected(s, i).kind);
}

/** How many lines the file has (none when there is no file). */
async function lines(file: string): Promise<number> {
  return (await Deno.readTextFile(file).catch(() => "")).split("\n").length - 1;
}

/** Waits until `ready()` holds, looking again every 50 ms. */
async function until(ready: () => boolean | Promise<boolean>): Promise<void> {
  while (!await ready()) await new Promise((r) => setTimeout(r, 50));
}

/**
 * A knot of the test job whose docker client cannot kill a container (nor,
 * with `list`, list the running ones) while `slow` exists (as a daemon too
 * slow to answer in time), and a counter its
 * items reach ("count i"), which holds every answer until `release()` and
 * counts each item's runs. The client notes each `docker wait` asked after it
 * refused a kill, so a test can tell a cancel that still waits for the
 * containers it could not kill: each wait lasts at most 4 s, then is asked
 * again, so one container waited for twice after the refusal is waited for
 * still.
 */
async function slowDaemonKnot(
  dir: string,
  baseImage: string,
  name: string,
  options: { list: boolean; warned?: (message: string) => void },
) {
  const slow = join(dir, "daemon-slow");
  const refused = join(dir, "kill-refused");
  const waited = join(dir, "waited-after-refusal");
  const listings = join(dir, "listings");
  const client = join(dir, "docker-slow");
  await Deno.writeTextFile(
    client,
    `#!/bin/sh
if [ -e "${slow}" ] && { [ "$1" = kill ] || { ${options.list} && [ "$1" = ps ] && [ "$3" != --all ]; }; }; then
  echo "$1" >> "${refused}"
  echo "Error response from daemon: context deadline exceeded" >&2
  exit 1
fi
if [ -e "${refused}" ] && [ "$1" = wait ]; then echo "$2" >> "${waited}"; fi
if [ "$1" = ps ]; then echo >> "${listings}"; fi
exec docker "$@"
`,
    { mode: 0o755 },
  );
  const counter = itemCounter(() => true);
  const { hits, release } = counter;
  const warnings: string[] = [];
  const opened = { name, target: "docker", func: job, dir, cloudknotDir: dir, baseImage } as const;
  const knot = await Knot.create({
    ...opened,
    // Each docker call may take 4 s here: waiting for a longer attempt asks again.
    docker: new Docker({ binary: client, logger: () => {}, timeouts: { other: 4_000 } }),
    concurrency: 2,
    retries: 1,
    // The containers reach the counter on this machine's loopback.
    network: "host",
    warn: (message) => {
      options.warned?.(message);
      warnings.push(message);
    },
  });
  /**
   * Whether a container was waited for twice since a kill was refused: the
   * process waits for a container it could not kill. Its items are let end
   * then, so that the wait ends.
   */
  const waitsForUnkilled = async () => {
    const names = (await Deno.readTextFile(waited).catch(() => "")).split("\n");
    const twice = names.some((n, i) => n !== "" && names.indexOf(n) !== i);
    if (twice) release();
    return twice;
  };
  /**
   * Maps three items, two at once, and cancels the run while items 0 and 1
   * run and the daemon is slow: the handle calls all three cancelled, saying
   * (when `check`) it does not know how items 0 and 1 end, and their
   * containers go on. `beforeCancel` is called once items 0 and 1 run; with
   * `staySlow`, the daemon is still slow once the cancel ended (until
   * `endsAsRecorded`).
   */
  const cancelledRun = async (
    check: boolean,
    options: { beforeCancel?: (run: MapRun<string>) => Promise<void>; staySlow?: boolean } = {},
  ): Promise<MapRun<string>> => {
    const run = await knot.map(["count 0", "count 1", "count 2"], {
      env: { COUNTER: counter.url },
      itemsPerJob: 1,
      progress: false,
    }) as MapRun<string>;
    await until(() => hits.has("0") && hits.has("1"));
    await options.beforeCancel?.(run);
    await Deno.writeTextFile(slow, "");
    let cancelled = false;
    // What the cancel rejected with, if it did.
    const cancelling = run.cancel("enough").then(() => undefined, (e: unknown) => e)
      .finally(() => cancelled = true);
    // A cancel that waits for the containers it could not kill waits for their items to end.
    await until(async () => cancelled || (await waitsForUnkilled(), false));
    const failed = await cancelling;
    if (check) assert.equal(failed, undefined, "the cancel ends");
    if (!options.staySlow) await Deno.remove(slow);
    // A run whose process still waits for those containers is done once they end.
    let ended = false;
    run.done.finally(() => ended = true);
    await until(async () => ended || (await waitsForUnkilled(), false));
    const settled = await run.settled();
    assert.deepEqual(ends(settled), ["cancelled", "cancelled", "cancelled"]);
    if (!check) {
      warnings.length = 0;
      return run;
    }
    assert.equal((await runningContainers(run.runId)).length, 2, "items 0 and 1 still run");
    for (const index of [0, 1]) {
      assert.match(
        rejected(settled[index]!, index).message,
        new RegExp(
          `^Item ${index} was cancelled: enough; docker could not kill its docker container \\S+, so whether the item ended before it stopped is not known: once the container has stopped, collect the run again \\(knot\\.collect\\("\\S+"\\) of knot \\S+\\) to read how it ended$`,
        ),
      );
    }
    assert.equal(rejected(settled[2]!, 2).message, "Item 2 was cancelled: enough", "never started");
    assert.deepEqual(warnings.length, 1);
    assert.match(
      warnings.shift()!,
      new RegExp(
        `^Items 0 and 1 of run ${run.runId} of knot \\S+ are called cancelled without knowing ` +
          `how they ended: docker could not kill their docker containers \\(.+\\): Error ` +
          `response from daemon: context deadline exceeded, which may ` +
          `still record a result as they run; .*\\(run\\.retry\\(\\) waits for them\\)$`,
      ),
    );
    return run;
  };
  /**
   * Once the run's containers have stopped, a handle that reads the run later finds items 0
   * and 1 ended as their containers recorded them, and item 2 cancelled; none ran again.
   */
  const readLater = async (runId: string) => {
    await until(async () => (await runningContainers(runId)).length === 0);
    const later = await knot.collect(runId, { progress: false });
    assert.deepEqual(ends(await later.settled()), ["ok ran 0", "ok ran 1", "cancelled"]);
    assert.deepEqual(Object.fromEntries(hits), { "0": 1, "1": 1 }, "nothing ran again");
  };
  return {
    knot,
    hits,
    warnings,
    release,
    waitsForUnkilled,
    cancelledRun,
    readLater,
    /**
     * Once `handle` has looked at its cancelled run twice more (Docker's list of the run's
     * containers, then its records) while items 0 and 1 still run, lets them end: the handle ends
     * them as their containers record them, and item 2 cancelled, as a later reader does. The
     * daemon (slow until then: `staySlow`) answers again.
     */
    endsAsRecorded: async (handle: MapRun<string>) => {
      const listed = await lines(listings);
      await until(async () => handle.finished || await lines(listings) >= listed + 2);
      assert.equal((await runningContainers(handle.runId)).length, 2, "items 0 and 1 still run");
      release();
      assert.deepEqual(ends(await handle.settled()), ["ok ran 0", "ok ran 1", "cancelled"]);
      await Deno.remove(slow);
      await readLater(handle.runId);
    },
    /** The knot, clobbered through a handle whose docker client has Docker's own time limits. */
    clobber: async () => await (await Knot.create({ ...opened, docker: quiet })).clobber(),
    /** How many times the daemon refused a call for being slow. */
    refusals: () => lines(refused),
    /** The folder of the knots. */
    dir,
    /** The folder of a run of the knot. */
    runDir: (runId: string) => join(dir, name, "runs", runId),
    close: () => counter.close(),
  };
}

/**
 * Runs `body` with a {@linkcode slowDaemonKnot} of this name in a folder of its own, then clobbers
 * the knot; its counter is closed either way.
 */
function withSlowDaemonKnot(
  name: string,
  options: { list: boolean; warned?: (message: string) => void },
  body: (k: Awaited<ReturnType<typeof slowDaemonKnot>>) => Promise<void>,
): Promise<void> {
  return withDockerKnots("cloudknot-docker-reread-", async ({ dir, baseImage }) => {
    const k = await slowDaemonKnot(dir, baseImage, name, options);
    try {
      await body(k);
      // Not through the slow client: `docker rmi` of a busy machine may take more than 4 s.
      await k.clobber();
    } finally {
      await k.close();
    }
  });
}

dockerTest(
  "a retry after a cancel that did not stop the run's containers waits for them, warning once with their items, and runs no item twice: those that recorded a result after the cancel keep it",
  async () => {
    // The daemon can neither list the containers to kill nor kill one.
    await withSlowDaemonKnot("reread", { list: true }, async (k) => {
      const run = await k.cancelledRun(false);
      let settled = false;
      const retried = run.retry({ progress: false }).finally(() => settled = true);
      // Its wait is seen (the warning), or a second run of an item that still runs, or a wait
      // for the containers a cancel could not kill (its items are let end then).
      await until(async () =>
        k.warnings.length > 0 || settled || [...k.hits.values()].some((n) => n > 1) ||
        await k.waitsForUnkilled()
      );
      const warned = [...k.warnings];
      k.release();
      const merged = await retried;
      const ended = await merged.settled();
      assert.deepEqual(
        Object.fromEntries(k.hits),
        { "0": 1, "1": 1, "2": 1 },
        "no item ran twice",
      );
      assert.deepEqual(ends(ended), ["ok ran 0", "ok ran 1", "ok ran 2"]);
      assert.deepEqual(merged.retryOf?.items, [2], "only the item without a result was retried");
      assert.equal(warned.length, 1, "the retry said it waits");
      assert.match(
        warned[0]!,
        new RegExp(
          `^Items 0 and 1 of run ${run.runId} of knot reread have not ended: their docker ` +
            `containers \\(.+\\) still run .*The retry waits for them to end.*abort the retry's ` +
            `signal \\(the containers go on\\)$`,
        ),
      );
      assert.equal(k.warnings.length, 1, "warned once");
    });
  },
);

dockerTest(
  "a cancel whose docker kill fails ends at once, saying it does not know how the items of the containers it could not kill end; a retry's signal stops its wait for them: it rejects with the signal's reason, and the containers go on to record their items",
  async () => {
    // The daemon lists the containers, but cannot kill them.
    await withSlowDaemonKnot("reread-abort", { list: false }, async (k) => {
      const run = await k.cancelledRun(true);
      const stop = new AbortController();
      let settled = false;
      const retried = run.retry({ progress: false, signal: stop.signal })
        .finally(() => settled = true);
      await until(() =>
        k.warnings.length > 0 || settled || [...k.hits.values()].some((n) => n > 1)
      );
      assert.equal(k.warnings.length, 1, "the retry waits");
      const reason = new Error("no more waiting");
      stop.abort(reason);
      await assert.rejects(retried, (e) => e === reason);
      assert.equal((await runningContainers(run.runId)).length, 2, "the containers go on");
      k.release();
      await k.readLater(run.runId);
    });
  },
);

dockerTest(
  "a handle that follows a run and read its cancellation while a container the cancel could not kill ran on ends that container's items as it records them, as every later reader does",
  async () => {
    // The daemon lists the containers, but cannot kill them.
    await withSlowDaemonKnot("follow-cancel", { list: false }, async (k) => {
      let follower: MapRun<string> | undefined;
      // A second handle follows the run while the first drives it. The daemon stays slow: a
      // follower that takes the run over (once the first lets go of it) cannot kill either.
      const run = await k.cancelledRun(true, {
        beforeCancel: async (driven) => {
          follower = await k.knot.collect(driven.runId, { progress: false }) as MapRun<string>;
        },
        staySlow: true,
      });
      assert.notEqual(follower, run);
      // The cancellations are written: the follower reads them while items 0 and 1 still run.
      await k.endsAsRecorded(follower!);
    });
  },
);

dockerTest(
  "a handle that takes over a run another handle cancelled, and cannot kill the containers that run on either, waits for them and ends their items as they record them, as every later reader does",
  async () => {
    // The daemon lists the containers, but cannot kill them.
    await withSlowDaemonKnot("take-over-cancel", { list: false }, async (k) => {
      const run = await k.cancelledRun(true, { staySlow: true });
      // As if the cancelling process was killed before it wrote the cancellations of items 0 and
      // 1: its cancel file is left, and item 2's cancellation.
      const out = join(k.runDir(run.runId), "out");
      let removed = 0;
      for await (const entry of Deno.readDir(out)) {
        if (!/^\d{13}-[01]-\d+$/.test(entry.name)) continue;
        await Deno.remove(join(out, entry.name));
        removed++;
      }
      assert.equal(removed, 2);
      const refused = await k.refusals();
      const taken = await k.knot.collect(run.runId, { progress: false }) as MapRun<string>;
      // It drives the run, finds it cancelled and cannot kill the containers.
      await until(async () => taken.finished || await k.refusals() > refused);
      await k.endsAsRecorded(taken);
      assert.match(
        rejected((await taken.settled())[2]!, 2).message,
        /^Item 2 was cancelled: enough$/,
      );
    });
  },
);

dockerTest(
  "a cancel whose docker kill fails lets go of its run only once its cancellations are saved: a handle that follows the run, and could kill, takes nothing over and ends the items of the containers left running as they record them",
  async () => {
    /** At the cancel's warning, what a process that looks to take the run over finds. */
    let found: { lock: boolean; cancellations: number } | undefined;
    let runDir = "";
    // The cancel warns once it has stopped driving the run and before it saves the cancellations:
    // a follower that tries the run's lock then (as it does every 200 ms) reads what is saved.
    const warned = () => {
      const file = Deno.openSync(join(runDir, RUN_LOCK_FILES.docker), { read: true, write: true });
      const lock = file.tryLockSync(true);
      file.close();
      let cancellations = 0;
      // No record at all yet: no folder of records.
      const out = join(runDir, "out");
      for (const entry of existsSync(out) ? Deno.readDirSync(out) : []) {
        if (/^\d{13}-[0-2]-\d+$/.test(entry.name)) cancellations++;
      }
      found = { lock, cancellations };
    };
    // The daemon lists the containers, but cannot kill them, for the cancelling handle only.
    await withSlowDaemonKnot("cancel-gap", { list: false, warned }, async (k) => {
      // Another handle follows the run, whose docker client kills what it is asked to.
      const other = await Knot.create({
        name: "cancel-gap",
        target: "docker",
        dir: k.dir,
        cloudknotDir: k.dir,
        docker: quiet,
      });
      let follower: MapRun<string> | undefined;
      await k.cancelledRun(true, {
        beforeCancel: async (driven) => {
          runDir = k.runDir(driven.runId);
          follower = await other.collect(driven.runId, { progress: false }) as MapRun<string>;
        },
      });
      assert.deepEqual(found, { lock: false, cancellations: 0 }, "the run was still held");
      // Items 0 and 1 still run; once they end, the follower ends them as they recorded them.
      assert.equal((await runningContainers(follower!.runId)).length, 2, "items 0 and 1 run on");
      k.release();
      assert.deepEqual(ends(await follower!.settled()), ["ok ran 0", "ok ran 1", "cancelled"]);
      await k.readLater(follower!.runId);
    });
  },
);
