// Waiting for a run handle to reach a state, looked at on each of its updates
// (never after a delay).
import type { MapRun } from "../../mod.ts";

/**
 * Resolves once `check` holds, looked at now and on each update of `run`.
 *
 * @example Usage
 * ```ts ignore
 * await runUntil(run, () => run.counts.succeeded >= 1_000);
 * ```
 *
 * @param run The run handle.
 * @param check What must hold.
 */
export function runUntil(run: MapRun<unknown>, check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (check()) return resolve();
    const off = run.onUpdate(() => {
      if (!check()) return;
      off();
      resolve();
    });
  });
}
