/**
 * The errors of the aws layer: {@linkcode AwsError} for anything an AWS call
 * returned (or failed to return), {@linkcode AwsConfigError} for a bad or
 * missing profile, region, endpoint or credential setting.
 *
 * @module
 */
import { CloudknotConfigurationError, CloudknotError } from "../../util/errors.ts";

/** Options of the {@linkcode AwsError} constructor. */
export interface AwsErrorOptions {
  /** The service id, e.g. `Batch`. */
  service: string;
  /** The operation name, e.g. `SubmitJob`. */
  operation: string;
  /** The wire error code, e.g. `NoSuchEntity`, or `NetworkError` / `OutcomeUnknown`. */
  code: string;
  /** The HTTP status, when a response came back. */
  status?: number;
  /** The request id AWS assigned, when a response came back. */
  requestId?: string;
  /** Whether the retry policy considers the error worth retrying. */
  retryable?: boolean;
  /** The underlying error, such as a network error. */
  cause?: unknown;
  /** When AWS refused the credentials: whether others can come while the program runs. */
  credentialsRenewable?: boolean;
}

/**
 * An AWS call failed: the service answered with an error, the network failed,
 * or the outcome of a non-idempotent call is unknown (`code: "OutcomeUnknown"`).
 * The message reads `Service.Operation: Code: message (request id …)`.
 *
 * @example Usage
 * ```ts
 * import { AwsError } from "@cloudknot/cloudknot/aws";
 *
 * const e = new AwsError("Role r does not exist", {
 *   service: "IAM", operation: "GetRole", code: "NoSuchEntity", status: 404, requestId: "abc",
 * });
 * console.log(e.message); // "IAM.GetRole: NoSuchEntity: Role r does not exist (request id abc)"
 * ```
 */
export class AwsError extends CloudknotError {
  /** The service id, e.g. `Batch`. */
  readonly service: string;
  /** The operation name, e.g. `SubmitJob`. */
  readonly operation: string;
  /** The wire error code, with any namespace prefix removed. */
  readonly code: string;
  /** The HTTP status, when a response came back. */
  readonly status?: number;
  /** The request id, when a response came back. */
  readonly requestId?: string;
  /** Whether retrying the same call may succeed. */
  readonly retryable: boolean;
  /**
   * The service's own message, without the prefix this class adds (for a
   * refusal of the credentials, an `AwsSession`'s clients add what to check
   * after it: `credential_advice.ts`).
   */
  readonly awsMessage: string;
  /**
   * Set when AWS refused the credentials that signed the request (expired,
   * unknown to AWS, or a signature it did not accept) on a session's client:
   * whether the session can get other credentials while this program runs.
   * `true` for the shared files' keys, which it reads again, and for sources
   * that renew themselves (SSO, `credential_process`, a role); `false` for
   * keys from the environment (a program keeps the environment it started
   * with) and credentials given in code that it never asks for again. A
   * wait ends at once on `false`, since waiting cannot help.
   */
  readonly credentialsRenewable?: boolean;

  /**
   * Makes an AWS error.
   *
   * @param message The service's message.
   * @param options Where and how the call failed.
   */
  constructor(message: string, options: AwsErrorOptions) {
    const rid = options.requestId ? ` (request id ${options.requestId})` : "";
    super(
      `${options.service}.${options.operation}: ${options.code}: ${
        message || "(no message)"
      }${rid}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.service = options.service;
    this.operation = options.operation;
    this.code = options.code;
    if (options.status !== undefined) this.status = options.status;
    if (options.requestId !== undefined) this.requestId = options.requestId;
    this.retryable = options.retryable ?? false;
    this.awsMessage = message;
    if (options.credentialsRenewable !== undefined) {
      this.credentialsRenewable = options.credentialsRenewable;
    }
  }
}

/**
 * The AWS settings are wrong or incomplete: an unknown profile, no region, an
 * endpoint override that is not a URL, unusable credentials. The message says
 * which setting to fix.
 *
 * @example Usage
 * ```ts
 * import { AwsConfigError } from "@cloudknot/cloudknot/aws";
 *
 * const e = new AwsConfigError("No AWS region is set; set AWS_REGION", { setting: "region" });
 * console.log(e.setting); // "region"
 * ```
 */
export class AwsConfigError extends CloudknotConfigurationError {
  /** The setting that is wrong: `profile`, `region`, `endpoint`, `credentials`. */
  readonly setting: string;
  /**
   * Makes a configuration error.
   *
   * @param message What is wrong and how to fix it.
   * @param options `setting` names the setting; `cause` chains an error.
   */
  constructor(message: string, options: ErrorOptions & { setting: string }) {
    super(message, options);
    this.setting = options.setting;
  }
}
