/**
 * The one way tests catch a rejection: `rejects(p)` gives the rejection for
 * a test to look at, and fails when `p` resolves.
 *
 * @module
 */

/**
 * Awaits a promise that must reject and returns what it rejected with. Given a
 * class, anything else it rejects with is rethrown, so the test fails on it.
 *
 * @example Usage
 * ```ts
 * import { rejects } from "./rejects.ts";
 *
 * const e = await rejects(Promise.reject(new RangeError("no")), RangeError);
 * console.log(e.message); // "no"
 * ```
 *
 * @param p The promise.
 * @param type The class the rejection must be an instance of.
 * @returns The rejection.
 */
// deno-lint-ignore no-explicit-any
export async function rejects<E = Record<string, any> & Error>(
  p: Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  type?: abstract new (...args: any[]) => E,
): Promise<E> {
  try {
    await p;
  } catch (e) {
    if (type !== undefined && !(e instanceof type)) throw e;
    return e as E;
  }
  throw new Error("Expected the promise to reject");
}
