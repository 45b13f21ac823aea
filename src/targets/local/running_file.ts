/**
 * Which items of a local run are running now, for a handle in another
 * process that follows the run: it reads the run's records, which say how
 * items ended, never that one started.
 *
 * The process that runs the run keeps `running.json` in the run's directory:
 * the attempts its workers run (one per busy worker), rewritten when they
 * changed, at most once a second, from a look at the workers (never a write
 * per item), and removed when the run is done. A follower trusts it only
 * while that process holds the run's lock: the file of a process that died
 * is stale, and its items are running nowhere.
 *
 * @module
 */
import { join } from "node:path";
import type { RunningAttempt } from "../../job/pool.ts";
import type { RunControl } from "../../run/map_run.ts";

/** The file, in a run's directory. */
export const RUNNING_FILE = "running.json";
/** The least time between two writes of the file, in milliseconds. */
const WRITE_EVERY_MS = 1000;
/** How often the workers are looked at, in milliseconds. */
const LOOK_EVERY_MS = 250;

/**
 * Keeps a run's `running.json` while the run runs in this process: its
 * attempts running now, written when they changed and at most once a second;
 * the file is removed once `done` resolves. A write that fails is skipped
 * (a follower then shows what it saw last), never an error of the run.
 *
 * @example Usage
 * ```ts ignore
 * import { publishRunning } from "./running_file.ts";
 *
 * publishRunning(dir, () => pool.running(), run.done);
 * ```
 *
 * @param dir The run's directory.
 * @param running The attempts running now (a look at the workers).
 * @param done Resolves when the run is done here.
 */
export function publishRunning(
  dir: string,
  running: () => readonly RunningAttempt[],
  done: Promise<unknown>,
): void {
  const path = join(dir, RUNNING_FILE);
  let written = "[]";
  let writtenAt = -Infinity;
  let stopped = false;
  const look = () => {
    if (stopped) return;
    const now = performance.now();
    if (now - writtenAt < WRITE_EVERY_MS) return;
    const attempts = [...running()].sort((a, b) => a.index - b.index);
    const text = JSON.stringify(attempts.map((a) => [a.index, a.attempt, Math.round(a.startedAt)]));
    if (text === written) return;
    writtenAt = now;
    written = text;
    try {
      // Written whole, then renamed: a reader never sees half of it.
      Deno.writeTextFileSync(`${path}.tmp`, text, { mode: 0o600 });
      Deno.renameSync(`${path}.tmp`, path);
    } catch {
      // A follower shows what it saw last; the run goes on.
    }
  };
  const timer = setInterval(look, LOOK_EVERY_MS);
  // Only while the run keeps the process alive anyway.
  Deno.unrefTimer(timer);
  done.finally(() => {
    stopped = true;
    clearInterval(timer);
    for (const file of [path, `${path}.tmp`]) {
      try {
        Deno.removeSync(file);
      } catch {
        // Never written, or the run's directory is gone.
      }
    }
  });
}

/**
 * The attempts a run's `running.json` says are running; none when there is
 * no such file or it cannot be read.
 *
 * @example Usage
 * ```ts ignore
 * import { readRunning } from "./running_file.ts";
 *
 * const attempts = readRunning(dir); // [{ index: 4, attempt: 1, startedAt: 1764806400000 }]
 * ```
 *
 * @param dir The run's directory.
 * @returns The attempts, by item.
 */
export function readRunning(dir: string): RunningAttempt[] {
  let entries: unknown;
  try {
    entries = JSON.parse(Deno.readTextFileSync(join(dir, RUNNING_FILE)));
  } catch {
    return [];
  }
  if (!Array.isArray(entries)) return [];
  return entries.flatMap((entry) => {
    if (!Array.isArray(entry)) return [];
    const [index, attempt, startedAt] = entry;
    return [index, attempt, startedAt].every(Number.isSafeInteger)
      ? [{ index, attempt, startedAt }]
      : [];
  });
}

/**
 * Shows, on a handle that follows a run another process runs, the items that
 * process runs: each attempt it lists is marked running (from when it
 * started there), and an item it no longer lists, without a record yet, is
 * pending again.
 *
 * @example Usage
 * ```ts ignore
 * import { FollowedRunning, readRunning } from "./running_file.ts";
 *
 * const followed = new FollowedRunning(control);
 * followed.show(files.isLive() ? readRunning(dir) : []);
 * ```
 */
export class FollowedRunning {
  #control: RunControl;
  /** The items this shows running, with their attempt. */
  #shown = new Map<number, number>();

  /**
   * Shows a run's running items on its handle.
   *
   * @param control The handle's control.
   */
  constructor(control: RunControl) {
    this.#control = control;
  }

  /**
   * Shows these attempts running, and no others.
   *
   * @param attempts What the process running the run lists; none when no process runs it.
   */
  show(attempts: readonly RunningAttempt[]): void {
    const listed = new Map(attempts.map((a) => [a.index, a]));
    for (const index of this.#shown.keys()) {
      if (listed.has(index)) continue;
      this.#shown.delete(index);
      this.#control.idle(index);
    }
    for (const a of listed.values()) {
      if (this.#shown.get(a.index) === a.attempt || this.#control.isSettled(a.index)) continue;
      this.#shown.set(a.index, a.attempt);
      this.#control.started(a.index, a.attempt, undefined, a.startedAt);
    }
  }
}
