// The set-up the long-wait tests share: a two-item run on a test bed, polled
// often, whose first item has succeeded and whose second waits for its file,
// with the warnings its wait is told and its poll rounds counted.
import assert from "node:assert/strict";
import { join } from "node:path";
import { AwsSession } from "../../../src/aws/mod.ts";
import type { MapRun } from "../../../src/run/map_run.ts";
import { encodeItems } from "../../../src/job/codec.ts";
import { releaseFile, type TestBed } from "./helpers.ts";

/** More failed rounds than `RunPollerOptions.maxFailedRounds` (30) lets any other failure have. */
const ROUNDS = 40;

/** A short pause between two looks at a run. */
export const pause = (): Promise<unknown> => new Promise((r) => setTimeout(r, 20));

/** A two-item run whose first item has succeeded and whose second waits for its file. */
export interface LongWait {
  /** The run. */
  run: MapRun<string>;
  /** What the wait warned of, in order. */
  warnings: string[];
  /** Ends the second item's job: it returns "two". */
  releaseSecond(): Promise<void>;
  /** Waits {@linkcode ROUNDS} more poll rounds, or until the run has finished. */
  rideOut(): Promise<void>;
  /**
   * Asserts that the first item is still the only one settled, and that it
   * succeeded: `what` says what the wait went through.
   */
  assertNoneFailed(what: string): void;
  /**
   * Asserts that the run ends with both results, its jobs submitted once, and
   * that the wait warned twice: once when it could not go on, once when it could.
   */
  assertEveryResultOnce(): Promise<void>;
}

/**
 * Starts a two-item run of `bed`'s knot (whose function is `waitsForFile`)
 * with `session`, polling every 10 to 40 ms; returns once the first item
 * has succeeded.
 */
export async function startLongWait(bed: TestBed, session: AwsSession): Promise<LongWait> {
  const warnings: string[] = [];
  let rounds = 0;
  const target = bed.target({
    session,
    pollIntervalMs: 10,
    maxPollIntervalMs: 40,
    warn: (m) => warnings.push(m),
    onPoll: () => rounds++,
  });
  const [first, second] = [join(bed.dir, "first"), join(bed.dir, "second")];
  const run = await target.map<string>({
    items: encodeItems([first, second]),
    starmap: false,
    env: {},
  });
  await releaseFile(first, "one");
  while (run.counts.succeeded === 0) await pause();
  return {
    run,
    warnings,
    releaseSecond: () => releaseFile(second, "two"),
    async rideOut() {
      const from = rounds;
      while (rounds < from + ROUNDS && !run.finished) await pause();
    },
    assertNoneFailed(what) {
      assert.deepEqual(
        { failed: run.counts.failed, succeeded: run.counts.succeeded },
        { failed: 0, succeeded: 1 },
        `no item is failed by a wait ${what}: ${run.items.map((i) => i.error)}`,
      );
    },
    async assertEveryResultOnce() {
      assert.deepEqual(await run.results(), ["one", "two"]);
      assert.equal(bed.emu.count("batch", "SubmitJob"), 1, "nothing is submitted twice");
      assert.equal(warnings.length, 2, warnings.join("\n"));
    },
  };
}

/**
 * A session of the profile `dev` against `bed`'s emulator, reading its
 * environment (and so its `~/.aws` files) from `env`, that retries each call
 * a few times, as every client does, then fails the round.
 */
export async function profileSession(
  bed: TestBed,
  env: Record<string, string>,
): Promise<AwsSession> {
  return await AwsSession.create({
    profile: "dev",
    endpoint: bed.emu.endpoint,
    region: bed.emu.region,
    env: (n) => env[n],
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
  });
}
