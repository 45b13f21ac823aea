// How each item of a run ended, in a line a test compares: the same for a
// handle and for a later collect() of the run when they agree.
import type { ItemSettled } from "../../mod.ts";

/**
 * How each item ended: `ok <value>`, or its error's kind.
 *
 * @example Usage
 * ```ts ignore
 * assert.deepEqual(itemEnds(await run.settled()), ["ok 1", "ok 4", "cancelled"]);
 * ```
 *
 * @param settled What `run.settled()` gave.
 * @returns One line per item, in item order.
 */
export function itemEnds(settled: ItemSettled<unknown>[]): string[] {
  return settled.map((s) => s.status === "fulfilled" ? `ok ${s.value}` : s.reason.kind);
}
