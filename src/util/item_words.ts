/**
 * A run's items named in words, for messages.
 *
 * @module
 */

/**
 * Items in words, to begin a sentence: `Item 3`, `Items 3, 4 and 5`,
 * `Items 3, 4, 5, … (12 in all)`.
 *
 * @example Usage
 * ```ts
 * import { itemsInWords } from "./item_words.ts";
 *
 * console.log(itemsInWords([3, 4, 5])); // "Items 3, 4 and 5"
 * ```
 *
 * @param indexes The items' positions in the run's inputs (at least one).
 * @returns The words.
 */
export function itemsInWords(indexes: readonly number[]): string {
  if (indexes.length === 1) return `Item ${indexes[0]}`;
  if (indexes.length <= 5) {
    return `Items ${indexes.slice(0, -1).join(", ")} and ${indexes.at(-1)}`;
  }
  return `Items ${indexes.slice(0, 3).join(", ")}, … (${indexes.length} in all)`;
}

/**
 * The warning of a retry that waits for a run's items whose jobs (AWS) or
 * containers (docker) have not ended, after a cancel that did not see them
 * stop: which items, why, and how to stop waiting (the command line turns
 * "abort the retry's signal" into Ctrl-C).
 *
 * @example Usage
 * ```ts
 * import { retryWaitWarning } from "./item_words.ts";
 *
 * console.log(retryWaitWarning([1], { runId: "r", knot: "k" }, "its AWS Batch job still runs", "it", "jobs"));
 * // "Item 1 of run r of knot k has not ended: its AWS Batch job still runs (after a cancel …"
 * ```
 *
 * @param items The items that have not ended (at least one).
 * @param run The run's id and its knot's name.
 * @param still What still runs, in words (`its AWS Batch job still runs or stops`).
 * @param unseen What the cancel did not see stop: `it` or `them`.
 * @param goOn What goes on when the wait is stopped (`jobs`, `containers`).
 * @returns The warning.
 */
export function retryWaitWarning(
  items: readonly number[],
  run: { runId: string; knot: string },
  still: string,
  unseen: "it" | "them",
  goOn: string,
): string {
  const one = items.length === 1;
  return `${itemsInWords(items)} of run ${run.runId} of knot ${run.knot} ${
    one ? "has" : "have"
  } not ended: ${still} (after a cancel that did not see ${unseen} stop, for example). The ` +
    `retry waits for ${one ? "it" : "them"} to end, so that it runs again only the items ` +
    `without a result then; to stop waiting, abort the retry's signal (the ${goOn} go on)`;
}
