/**
 * The typed errors every layer shares. Each message says what went wrong and
 * what to do about it. Layer-specific errors (`AwsError`, `DockerError`, …)
 * extend {@linkcode CloudknotError} in their own modules.
 *
 * @module
 */

/**
 * The base class of every error this library throws on purpose.
 *
 * @example Usage
 * ```ts
 * import { CloudknotError } from "@cloudknot/cloudknot";
 *
 * try {
 *   throw new CloudknotError("Something went wrong");
 * } catch (e) {
 *   if (e instanceof CloudknotError) console.error(e.message);
 * }
 * ```
 */
export class CloudknotError extends Error {
  /**
   * Makes an error with a message that says what to do.
   *
   * @param message What went wrong and what to do about it.
   * @param options The standard error options, such as `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A value the user passed is wrong: a bad name, conflicting options, a number
 * out of range. Thrown before anything is created or spent.
 *
 * @example Usage
 * ```ts
 * import { CloudknotInputError } from "@cloudknot/cloudknot";
 *
 * const e = new CloudknotInputError("retries must be an integer from 1 to 10", { field: "retries" });
 * console.log(e.field); // "retries"
 * ```
 */
export class CloudknotInputError extends CloudknotError {
  /** The option or argument that is wrong, when there is one. */
  readonly field?: string;

  /**
   * Makes an input error.
   *
   * @param message What is wrong and how to fix it.
   * @param options `field` names the offending option; `cause` chains an error.
   */
  constructor(message: string, options?: ErrorOptions & { field?: string }) {
    super(message, options);
    if (options?.field !== undefined) this.field = options.field;
  }
}

/**
 * A wait ran out of time, for example `result(timeout)` on a job that is
 * still running. The job itself goes on.
 *
 * @example Usage
 * ```ts
 * import { CloudknotTimeoutError } from "@cloudknot/cloudknot";
 *
 * const e = new CloudknotTimeoutError("Job 1234 did not finish within 5000 ms; call result() again to keep waiting");
 * console.log(e.name); // "CloudknotTimeoutError"
 * ```
 */
export class CloudknotTimeoutError extends CloudknotError {}

/**
 * An operation was cancelled through an `AbortSignal` or `cancel()`.
 *
 * @example Usage
 * ```ts
 * import { CancelledError } from "@cloudknot/cloudknot";
 *
 * const e = new CancelledError("The run was cancelled before item 3 finished");
 * console.log(e instanceof Error); // true
 * ```
 */
export class CancelledError extends CloudknotError {}
