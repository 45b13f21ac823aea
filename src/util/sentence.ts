/**
 * Joining a message we did not write (AWS's, the system's, a parser's) to a
 * sentence of our own.
 *
 * @module
 */

/**
 * A message followed by a sentence of ours, with one full stop between them
 * whether or not the message ends with its own: `The key is unknown.` and
 * `The key is unknown` both give `The key is unknown. Check the keys`. A
 * message that ends with `?` or `!` keeps it.
 *
 * @example Usage
 * ```ts
 * import { thenSentence } from "./sentence.ts";
 *
 * console.log(thenSentence("It does not exist in our records.", "Check the keys"));
 * // "It does not exist in our records. Check the keys"
 * ```
 *
 * @param message The message, as it was given.
 * @param next The sentence that follows it.
 * @returns Both, as two sentences.
 */
export function thenSentence(message: string, next: string): string {
  const trimmed = message.trimEnd();
  if (trimmed === "") return next;
  return `${/[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`} ${next}`;
}
