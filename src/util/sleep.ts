/**
 * A wait that ends early, and clears its timer, when a signal aborts.
 *
 * @module
 */

/** Waits, clearing its timer when the signal aborts (resolves early then). */
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
