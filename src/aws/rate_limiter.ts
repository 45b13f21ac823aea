/**
 * {@linkcode rateLimiter}: a client-side limit on how many requests start in
 * any one window, whose waiting calls leave at once when their signal aborts.
 *
 * It replaces p-throttle (8.1.1, its latest version), which cannot drop one
 * queued call: each call it delays holds a timer of its own until its turn,
 * and its only cancellation, a `signal` of the whole throttle, rejects every
 * queued call and forgets the window's past starts, so a burst could then go
 * over the limit. An aborted request waiting its turn would keep that timer,
 * which a Deno test's sanitizers report as a timer that never completed.
 *
 * @module
 */

/**
 * A limiter that lets at most `limit` calls through in any `intervalMs`
 * window (a sliding window, as a token bucket of that size refilled over the
 * window accepts), first come first served. A call whose signal aborts while
 * it waits leaves the queue at once, rejecting with the signal's reason, and
 * the limiter holds a timer only while a call waits.
 *
 * @example Usage
 * ```ts
 * import { rateLimiter } from "./rate_limiter.ts";
 * import assert from "node:assert/strict";
 *
 * const turn = rateLimiter(1, 60_000);
 * await turn(); // the window's one start
 * const stop = new AbortController();
 * const waiting = turn(stop.signal); // waits for the next window
 * stop.abort(new Error("no longer needed"));
 * await assert.rejects(waiting, /no longer needed/); // at once, and no timer is left
 * ```
 *
 * @param limit The most calls that start in one window (at least 1).
 * @param intervalMs The window, in milliseconds.
 * @returns A function that resolves when the caller may start, or rejects
 * with its signal's reason once that aborts first.
 */
export function rateLimiter(
  limit: number,
  intervalMs = 1000,
): (signal?: AbortSignal) => Promise<void> {
  /** When the last `limit` calls started, oldest first. */
  const starts: number[] = [];
  /** The waiting calls, each as what lets it go. */
  const queue: (() => void)[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pump = () => {
    timer = undefined;
    while (queue.length > 0) {
      const now = Date.now();
      const due = starts.length < limit ? now : starts[0]! + intervalMs;
      if (due > now) {
        timer = setTimeout(pump, due - now);
        return;
      }
      if (starts.length >= limit) starts.shift();
      starts.push(now);
      queue.shift()!();
    }
  };
  return (signal) => {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const go = () => {
      if (leave) signal!.removeEventListener("abort", leave);
      resolve();
    };
    const leave = signal && (() => {
      queue.splice(queue.indexOf(go), 1);
      if (queue.length === 0) {
        clearTimeout(timer);
        timer = undefined;
      }
      reject(signal.reason);
    });
    if (leave) signal!.addEventListener("abort", leave, { once: true });
    queue.push(go);
    if (timer === undefined) pump();
    return promise;
  };
}
