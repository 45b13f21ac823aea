/**
 * The typed errors every layer shares, and the kinds the Python original
 * named (configuration, a resource that exists, a resource that cannot be
 * made, failed work). Each message says what went wrong and what to do
 * about it. Layer-specific errors (`AwsError`, `DockerError`, …)
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

/**
 * The configuration is unusable: the cloudknot config file, or the AWS
 * settings (profile, region, credentials, endpoints). The Python original's
 * `CloudknotConfigurationError`; `AwsConfigError` and `StateFileError` are
 * kinds of it.
 *
 * @example Usage
 * ```ts
 * import { CloudknotConfigurationError } from "@cloudknot/cloudknot";
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 *
 * try {
 *   await AwsSession.create({ profile: "nowhere", env: () => undefined, readTextFile: () => Promise.resolve(undefined) });
 * } catch (e) {
 *   console.log(e instanceof CloudknotConfigurationError); // true
 * }
 * ```
 */
export class CloudknotConfigurationError extends CloudknotError {}

/**
 * A resource with the name cloudknot needs exists and cannot be used: it was
 * not made by cloudknot, or another account owns the name. The Python
 * original's `ResourceExistsException`; `ResourceConflictError` and
 * `BucketTakenError` are kinds of it.
 *
 * @example Usage
 * ```ts
 * import { ResourceConflictError, ResourceExistsError } from "@cloudknot/cloudknot";
 *
 * const e = new ResourceConflictError("Role lab-job-role exists", { resource: "lab-job-role" });
 * console.log(e instanceof ResourceExistsError); // true
 * ```
 */
export class ResourceExistsError extends CloudknotError {}

/**
 * A resource could not be made, or reached a state it cannot be used in (a
 * compute environment that is INVALID, no default VPC). The Python
 * original's `CannotCreateResourceException`; `NoDefaultVpcError` and
 * `BatchResourceError` are kinds of it.
 *
 * @example Usage
 * ```ts
 * import { CannotCreateResourceError, NoDefaultVpcError } from "@cloudknot/cloudknot";
 *
 * console.log(new NoDefaultVpcError("eu-west-1") instanceof CannotCreateResourceError); // true
 * ```
 */
export class CannotCreateResourceError extends CloudknotError {}

/**
 * Work failed: one item (`ItemError`) or some items of a run (`MapError`),
 * on any target. On AWS it is what `BatchJob.result()` throws for a failed
 * job, as the Python original's `BatchJobFailedError` was; that name is an
 * alias of this class.
 *
 * @example Usage
 * ```ts
 * import { BatchJobFailedError, JobFailedError, MapError } from "@cloudknot/cloudknot";
 *
 * const e = new MapError([], [1]);
 * console.log(e instanceof JobFailedError, e instanceof BatchJobFailedError); // true true
 * ```
 */
export class JobFailedError extends CloudknotError {}

/**
 * The Python original's name for {@linkcode JobFailedError}: what
 * `BatchJob.result()` and `knot.jobs[i].result()` throw when the job failed
 * (an `ItemError` for a single job, a `MapError` for an array job).
 *
 * @example Usage
 * ```ts ignore
 * import { BatchJobFailedError } from "@cloudknot/cloudknot";
 *
 * try {
 *   await (await knot.jobs()).at(-1)!.result();
 * } catch (e) {
 *   if (e instanceof BatchJobFailedError) console.error(e.message);
 * }
 * ```
 */
export const BatchJobFailedError: typeof JobFailedError = JobFailedError;
/** The type of {@linkcode BatchJobFailedError}: a {@linkcode JobFailedError}. */
export type BatchJobFailedError = JobFailedError;
