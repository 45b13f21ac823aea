/**
 * Ends one of the emulator's AWS lags (README: "Behaving like AWS") when a
 * test has seen the client meet it, instead of after a time.
 *
 * A test that must see a lag while it lasts (EC2 refusing while a deleted
 * compute environment's network is held, Batch not seeing a new role yet, a
 * new bucket not visible, a log line not delivered yet) starts the emulator with the lag far longer than
 * the test runs ({@linkcode LONG_LAG_MS}), so that it cannot end on its own
 * before the client meets it however loaded the machine is, and ends it with
 * {@linkcode endLagWhen} once the client has met it: the test then waits for
 * nothing, and the client must still cope with the lag for it to pass.
 *
 * @module
 */
import type { Emulator } from "../emulator/mod.ts";

/**
 * A lag no test outlasts (10 minutes): it ends when the test ends it.
 *
 * @example Usage
 * ```ts ignore
 * const emu = await startEmulator({ networkReleaseMs: LONG_LAG_MS });
 * ```
 */
export const LONG_LAG_MS = 600_000;

/**
 * The networks that deleted compute environments (and stopped Fargate
 * tasks) hold are released now, as when AWS has terminated the instances.
 *
 * @example Usage
 * ```ts ignore
 * releaseNetwork(emu); // DeleteSecurityGroup succeeds from now on
 * ```
 *
 * @param emu The emulator.
 */
export function releaseNetwork(emu: Emulator): void {
  for (const use of emu.ec2.networkUses) {
    if (use.until !== Infinity) use.until = 0;
  }
}

/**
 * IAM has caught up: Batch and ECS see every role and instance profile
 * change made so far.
 *
 * @example Usage
 * ```ts ignore
 * propagateIam(emu); // a compute environment validated from now on is VALID
 * ```
 *
 * @param emu The emulator.
 */
export function propagateIam(emu: Emulator): void {
  for (const role of emu.iam.roles.values()) role.changedAt = { trust: 0, permissions: 0 };
  for (const profile of emu.iam.instanceProfiles.values()) profile.changedAt = 0;
}

/**
 * Every bucket is visible now, as S3 is once a new bucket has propagated.
 *
 * @example Usage
 * ```ts ignore
 * showBuckets(emu); // HeadBucket of a new eu-west-1 bucket answers 200
 * ```
 *
 * @param emu The emulator.
 */
export function showBuckets(emu: Emulator): void {
  for (const bucket of emu.s3.buckets.values()) bucket.visibleAt = 0;
}

/**
 * Every line jobs wrote so far reaches CloudWatch Logs now (the emulator
 * started with a `logDeliveryDelayMs`).
 *
 * @example Usage
 * ```ts ignore
 * deliverLogs(emu); // GetLogEvents returns every line written so far
 * ```
 *
 * @param emu The emulator.
 */
export function deliverLogs(emu: Emulator): void {
  const now = Date.now();
  for (const group of emu.logs.groups.values()) {
    for (const stream of group.streams.values()) {
      for (const event of stream.events) event.ingestionTime = Math.min(event.ingestionTime, now);
    }
  }
}

/** What {@linkcode endLagWhen} returns. */
export interface LagEnd extends Disposable {
  /** Whether the lag was ended (`seen` held). */
  readonly ended: boolean;
  /** Stops watching (idempotent); `using` calls it. */
  stop(): void;
}

/**
 * Watches for `seen` (checked every `pollMs`) and then calls `end` once: the
 * way to end a long lag right after the client met it. Stop it (or declare it
 * with `using`) before the test ends, so that its timer does not outlive it.
 *
 * @example Usage
 * ```ts ignore
 * using held = endLagWhen(
 *   () => emu.requests.entries.some((e) => e.errorCode === "DependencyViolation"),
 *   () => releaseNetwork(emu),
 * );
 * await pars.clobber();
 * assert.ok(held.ended);
 * ```
 *
 * @param seen Whether the client has met the lag.
 * @param end Ends the lag.
 * @param pollMs How often `seen` is checked.
 * @returns The watch.
 */
export function endLagWhen(seen: () => boolean, end: () => void, pollMs = 10): LagEnd {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let ended = false;
  let stopped = false;
  const check = () => {
    timer = undefined;
    if (stopped) return;
    if (seen()) {
      ended = true;
      end();
      return;
    }
    timer = setTimeout(check, pollMs);
  };
  check();
  const stop = () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  return {
    get ended() {
      return ended;
    },
    stop,
    [Symbol.dispose]: stop,
  };
}
