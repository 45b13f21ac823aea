/**
 * Kills a client process (SIGKILL) at a chosen request to the emulator, as a
 * crash, an out-of-memory kill or a closed laptop would: the request is held
 * by a latency fault until the process is dead, then answered to no one, as
 * AWS processes a request whose client died after sending it. The kill point
 * is the request, not a time, so the test is the same however slow the
 * machine is.
 *
 * @module
 */
import type { Emulator } from "../emulator/mod.ts";

/** Where to kill. */
export interface KillPoint {
  /** The service, as the emulator names it (`batch`, `s3`, `iam`, …). */
  service: string;
  /** The operation (`CreateJobQueue`, `PutBucketPolicy`, …). */
  operation: string;
  /** Which matching request (1 for the first). @default {1} */
  nth?: number;
  /** The signal it is sent: SIGINT stands for a user's Ctrl-C. @default {"SIGKILL"} */
  signal?: Deno.Signal;
}

/** What the killed process had written. */
export interface Killed {
  /** Its stdout until the kill. */
  stdout: string;
  /** Its stderr until the kill. */
  stderr: string;
  /** Its exit code. */
  code: number;
}

/**
 * Starts a child, kills it with SIGKILL once the emulator has received the
 * `nth` request of `at` (after `whileHeld`, when given, has run while the
 * child waits for its answer), and waits until the emulator has processed
 * that request (after `whileDead`, when given, has run while the child is
 * dead and the request not yet processed: what another process sees in
 * the moment before a dead client's request lands). Fails when the child
 * ends before it makes the request.
 *
 * @example Usage
 * ```ts ignore
 * await killAt(emu, at, () => spawnCli(home, ["configure"]));
 * ```
 *
 * @param emu The emulator the child talks to.
 * @param at The request at which it is killed.
 * @param spawn Starts the child, with piped stdout and stderr.
 * @param whileHeld Runs while the child is held at that request, alive.
 * @param whileDead Runs once the child is dead, before its request is processed.
 * @returns What it printed.
 */
export async function killAt(
  emu: Emulator,
  at: KillPoint,
  spawn: () => Deno.ChildProcess,
  whileHeld?: () => Promise<void>,
  whileDead?: () => Promise<void>,
): Promise<Killed> {
  const nth = at.nth ?? 1;
  // The requests before the nth go on at once; the nth is held until the child is dead.
  const passed = nth > 1
    ? emu.faults.add({ ...at, kind: "latency", delayMs: 0, times: nth - 1 })
    : undefined;
  const { promise: dead, resolve: answer } = Promise.withResolvers<void>();
  const id = emu.faults.add({ ...at, kind: "latency", until: dead, times: 1 });
  const child = spawn();
  const stdout = new Response(child.stdout).text();
  const stderr = new Response(child.stderr).text();
  let ended = false;
  const status = child.status.then((s) => {
    ended = true;
    return s;
  });
  const held = () => emu.faults.list().find((f) => f.id === id)?.hits === 1;
  try {
    while (!held() && !ended) await new Promise((r) => setTimeout(r, 10));
    if (!held()) {
      throw new Error(
        `the process ended before ${at.service} ${at.operation} #${nth}:\n${await stderr}`,
      );
    }
    await whileHeld?.();
    child.kill(at.signal ?? "SIGKILL");
    await status;
    await whileDead?.();
    // The held request is processed now, answered to no one, as AWS would.
    answer();
    const processed = () =>
      emu.requests.filter({ service: at.service, operation: at.operation })
        .filter((e) => e.fault === "latency").length >= nth;
    while (!processed()) await new Promise((r) => setTimeout(r, 10));
  } finally {
    if (passed !== undefined) emu.faults.clear(passed);
    emu.faults.clear(id);
    if (!ended) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
    await status;
    answer();
  }
  return { stdout: await stdout, stderr: await stderr, code: (await status).code };
}
