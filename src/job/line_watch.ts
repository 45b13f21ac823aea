/**
 * Looks for a pattern in the lines of a byte stream read in chunks, such as
 * a worker's stderr: a line split across two reads is still seen whole.
 *
 * @module
 */

/**
 * The longest partial line kept between chunks, in characters: V8's
 * out-of-memory line is under 100 characters, so a longer line without a
 * newline is output of no interest, and keeping only its end bounds memory.
 */
const MAX_CARRY = 4096;

/**
 * Tests a pattern against each line of a stream read chunk by chunk. The
 * last partial line of a chunk is carried over to the next, and the bytes
 * of a character split across chunks are decoded together.
 *
 * @example Usage
 * ```ts
 * import { LineWatch } from "./line_watch.ts";
 *
 * const watch = new LineWatch(/Fatal JavaScript out of memory/);
 * const bytes = new TextEncoder().encode("<--- Last few GCs --->\nFatal JavaScript out of memory: Reached heap limit\n");
 * console.log(watch.push(bytes.subarray(0, 30))); // false
 * console.log(watch.push(bytes.subarray(30))); // true
 * ```
 */
export class LineWatch {
  #pattern: RegExp;
  #decoder = new TextDecoder();
  #carry = "";

  /**
   * Makes a watch.
   *
   * @param pattern What to look for in a line (without the `g` or `y` flag).
   */
  constructor(pattern: RegExp) {
    this.#pattern = pattern;
  }

  /**
   * Reads the next chunk.
   *
   * @param chunk The bytes read.
   * @returns Whether a line seen so far, or the partial line at the end of
   *   this chunk, matches.
   */
  push(chunk: Uint8Array): boolean {
    const text = this.#carry + this.#decoder.decode(chunk, { stream: true });
    const end = text.lastIndexOf("\n");
    const rest = text.slice(end + 1);
    this.#carry = rest.length > MAX_CARRY ? rest.slice(-MAX_CARRY) : rest;
    return this.#pattern.test(text);
  }
}
