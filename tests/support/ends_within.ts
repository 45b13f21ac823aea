/**
 * A guard against a test hanging on a regression: what it awaits must come
 * within a bound far above its usual time, or the test fails there, saying
 * what did not come, instead of running to the file's limit (900 s) and being
 * killed with no word of where it stood. Never a measure of speed.
 *
 * @module
 */

/**
 * Resolves as `promise` does, or rejects once `ms` have passed without it.
 *
 * @example Usage
 * ```ts ignore
 * const status = await endsWithin(child.status, 120_000, "the command ending after Ctrl-C");
 * ```
 *
 * @param promise What must come.
 * @param ms The bound, in milliseconds.
 * @param what What it is, for the failure's message.
 * @returns What `promise` resolves to.
 */
export async function endsWithin<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not come within ${ms / 1000} s (a hang)`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
