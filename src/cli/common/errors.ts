/**
 * The command line's own error: bad usage, which exits with code 2.
 *
 * @module
 */
import { CloudknotError } from "../../util/errors.ts";

/**
 * The command line was used wrongly: an unknown command or option, a missing
 * argument, a value that is not a number. The command line prints the
 * message and the command's usage line, and exits with code 2.
 *
 * @example Usage
 * ```ts
 * import { UsageError } from "./errors.ts";
 *
 * const e = new UsageError("Unknown option --colour", { command: "knot list" });
 * console.log(e.command); // "knot list"
 * ```
 */
export class UsageError extends CloudknotError {
  /** The command whose usage to show (such as `"knot list"`); none for the top level. */
  readonly command?: string;

  /**
   * Makes a usage error.
   *
   * @param message What is wrong.
   * @param options `command` names the command whose usage line to print.
   */
  constructor(message: string, options: ErrorOptions & { command?: string } = {}) {
    super(message, options);
    if (options.command !== undefined) this.command = options.command;
  }
}
