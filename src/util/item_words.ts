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
