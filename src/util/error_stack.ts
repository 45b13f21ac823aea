/**
 * Giving an error a stack that was made elsewhere (on the worker, or in an
 * encoded value), the way that keeps the error as small as one made here.
 *
 * @module
 */

/**
 * Gives an error the stack made elsewhere through V8's own `stack` setter,
 * which keeps `stack` the own, non-enumerable accessor it is on any error and
 * drops the frames captured where the error was made. Redefining `stack`
 * instead turns V8's error into a dictionary object: about 500 bytes more for
 * each. On an engine whose errors have no such setter (`stack` a plain
 * property), the error gets a hidden, writable `stack` of its own, as there.
 *
 * @example Usage
 * ```ts
 * import { setStack } from "./error_stack.ts";
 *
 * const error = new TypeError("x is not a function");
 * setStack(error, "TypeError: x is not a function\n    at job (job.ts:3:5)");
 * console.log(error.stack); // the stack given, not this one
 * ```
 *
 * @param error An error made here, whose `stack` is still its own.
 * @param stack The stack to show.
 */
export function setStack(error: Error, stack: string): void {
  const own = Object.getOwnPropertyDescriptor(error, "stack");
  if (own?.set !== undefined && !own.enumerable) {
    error.stack = stack;
    if (error.stack === stack) return;
  }
  Object.defineProperty(error, "stack", {
    value: stack,
    writable: true,
    enumerable: false,
    configurable: true,
  });
}
