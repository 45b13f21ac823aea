/**
 * Waits that end early when a signal aborts: a sleep, which clears its
 * timer, and a promise waited for (`untilAborted`).
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

/** What {@linkcode untilAborted} resolves to when its signal aborted first. */
export const ABORTED: unique symbol = Symbol("aborted");

/**
 * Waits for a promise, or until the signal aborts, whichever comes first (an
 * aborted signal resolves it at once): the promise itself goes on.
 *
 * @example Usage
 * ```ts
 * import { ABORTED, untilAborted } from "./sleep.ts";
 *
 * const stop = new AbortController();
 * setTimeout(() => stop.abort(), 10);
 * const never = new Promise<number>(() => {});
 * console.log(await untilAborted(never, stop.signal) === ABORTED); // true, after about 10 ms
 * ```
 *
 * @param promise What to wait for.
 * @param signal Ends the wait early.
 * @returns The promise's value, or {@linkcode ABORTED}.
 */
export function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T | typeof ABORTED> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.resolve(ABORTED);
  const { promise: aborted, resolve } = Promise.withResolvers<typeof ABORTED>();
  const abort = () => resolve(ABORTED);
  signal.addEventListener("abort", abort, { once: true });
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener("abort", abort));
}
