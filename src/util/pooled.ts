/**
 * A bounded-concurrency loop: a task per item, at most `width` at a time.
 *
 * Hand-written rather than `p-map` or `p-limit`: these callers must learn
 * the outcome of every task they started (a submitted Batch job has to be
 * stopped, a fetched record kept) before they go on, and `p-map` rejects on
 * the first failure (or abort) without waiting for the tasks still running;
 * with `p-limit` the stop rule would still be written here, around each
 * call, so it would add a dependency and take no code away.
 *
 * @module
 */

/** Options of {@linkcode forEachPooled}. */
export interface ForEachPooledOptions {
  /**
   * Start no new task once one has failed (the tasks already running still
   * finish). Otherwise every item gets its task and every failure is kept.
   *
   * @default {false}
   */
  stopOnError?: boolean;
  /** Start no new task once this aborts (the running ones still finish). */
  signal?: AbortSignal;
}

/**
 * Runs `task` on the items in their order, at most `width` at a time, and
 * resolves once every task that started has settled. It never rejects: the
 * failures come back, in the order they happened, for the caller to judge.
 * The items may arrive as they are made (an async iterable): tasks start
 * while later items are still being made, and a failure to make them is
 * returned like a task's.
 *
 * @example Usage
 * ```ts
 * import { forEachPooled } from "./pooled.ts";
 *
 * const squares: number[] = [];
 * const errors = await forEachPooled([1, 2, 3], 2, async (n, index) => {
 *   squares[index] = n * n;
 * });
 * console.log(squares, errors); // [ 1, 4, 9 ] []
 * ```
 *
 * @param items The items.
 * @param width How many tasks may run at once (fewer when there are fewer items).
 * @param task The work on one item and its index (what it resolves to is not kept).
 * @param options Whether a failure or a signal stops new tasks.
 * @returns The failures, in the order they happened.
 */
export async function forEachPooled<T>(
  items: readonly T[] | AsyncIterable<T>,
  width: number,
  task: (item: T, index: number) => Promise<unknown>,
  options: ForEachPooledOptions = {},
): Promise<unknown[]> {
  const errors: unknown[] = [];
  const stopped = () =>
    options.signal?.aborted === true || (options.stopOnError === true && errors.length > 0);
  let next = 0;
  if (!Array.isArray(items)) {
    const source = (items as AsyncIterable<T>)[Symbol.asyncIterator]();
    let ended = false;
    const pull = async (): Promise<IteratorResult<T>> => {
      if (ended) return { done: true, value: undefined };
      try {
        const result = await source.next();
        if (result.done) ended = true;
        return result;
      } catch (e) {
        if (!ended) errors.push(e);
        ended = true;
        return { done: true, value: undefined };
      }
    };
    const worker = async () => {
      while (!stopped()) {
        const result = await pull();
        // Stopped while the item was being read: it starts no task either.
        if (result.done || stopped()) return;
        const index = next++;
        try {
          await task(result.value, index);
        } catch (e) {
          errors.push(e);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, width) }, worker));
    if (!ended) await source.return?.();
    return errors;
  }
  const list = items as readonly T[];
  const worker = async () => {
    while (next < list.length && !stopped()) {
      const index = next++;
      try {
        await task(list[index]!, index);
      } catch (e) {
        errors.push(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, list.length) }, worker));
  return errors;
}
