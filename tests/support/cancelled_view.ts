// The job view of a run whose items were all cancelled: the one that ran as it was cancelled with
// its attempt, the others, which never started, with none; and never called failed.
import assert from "node:assert/strict";
import type { MapRun } from "../../mod.ts";

/**
 * Checks that each handle's job view shows every item of the run cancelled:
 * item `ran` with the one attempt it started, the others with none.
 *
 * @example Usage
 * ```ts ignore
 * assertCancelledView([run, await knot.collect(run.runId)], 0);
 * ```
 *
 * @param handles Handles of the run (the one that cancelled it, a later reading).
 * @param ran The item that was running when the run was cancelled.
 */
export function assertCancelledView(handles: MapRun<unknown>[], ran: number): void {
  for (const handle of handles) {
    assert.deepEqual(
      handle.items.map(({ index, status, attempts }) => ({ index, status, attempts })),
      handle.items.map((_, index) => ({
        index,
        status: "cancelled",
        attempts: index === ran ? 1 : 0,
      })),
    );
    const total = handle.total;
    assert.match(String(handle), new RegExp(`: ${total}/${total} done, ${total} cancelled · `));
    assert.doesNotMatch(String(handle), /failed/);
  }
}
