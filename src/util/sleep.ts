/**
 * A wait that ends early, and clears its timer, when a signal aborts.
 *
 * @module
 */

/**
 * Waits, clearing its timer when the signal aborts (it resolves early then,
 * never rejects: a caller that must stop calls `signal.throwIfAborted()`).
 *
 * @example Usage
 * ```ts
 * import { sleep } from "./sleep.ts";
 *
 * const stop = new AbortController();
 * setTimeout(() => stop.abort(), 10);
 * await sleep(60_000, stop.signal); // returns after about 10 ms
 * ```
 *
 * @param ms How long to wait, in milliseconds.
 * @param signal Ends the wait early.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
