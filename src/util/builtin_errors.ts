/**
 * The built-in error classes of JavaScript that are made from a message
 * alone, by name: what a decoded or restored error becomes when its name is
 * one of them (`AggregateError` and `DOMException` take other arguments).
 *
 * @module
 */

/**
 * `Error`, `TypeError`, `RangeError`, `SyntaxError`, `ReferenceError`,
 * `EvalError` and `URIError`, by name.
 *
 * @example Usage
 * ```ts
 * import { ERROR_CLASSES } from "./builtin_errors.ts";
 *
 * console.log(new ERROR_CLASSES["TypeError"]!("bad") instanceof TypeError); // true
 * ```
 */
export const ERROR_CLASSES: Readonly<Record<string, new (message?: string) => Error>> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};
