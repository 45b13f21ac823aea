/**
 * What every emulated service shares: the call context handed to operation
 * handlers, the per-service protocol facts, and small helpers.
 *
 * @module
 */
import type { KnownCredentials, Principal } from "./credentials.ts";
import { type Protocol, ServiceError } from "./errors.ts";

/** The context of one authenticated call. */
export interface CallContext {
  /** The request id sent back to the client. */
  requestId: string;
  /** Who signed the request. */
  principal: Principal;
  /** The credentials that signed it. */
  credentials: KnownCredentials;
  /** The emulator's account id. */
  accountId: string;
  /** The emulator's region. */
  region: string;
  /** The request URL. */
  url: URL;
  /** The request method. */
  method: string;
  /** The request headers. */
  headers: Headers;
  /** The raw body. */
  body: Uint8Array;
}

/** Handles one modeled operation: parameters in, output object out. */
// deno-lint-ignore no-explicit-any
export type OperationHandler = (params: any, ctx: CallContext) => unknown;

/** A service whose operations are dispatched by name. */
export interface ModeledService {
  /** Handlers by operation name. */
  readonly operations: Record<string, OperationHandler>;
}

/** The protocol facts and error codes of one service. */
export interface ServiceSpec {
  /** The signing name. */
  name: string;
  /** The wire protocol. */
  protocol: Protocol;
  /** JSON 1.1: the `X-Amz-Target` prefix. */
  targetPrefix?: string;
  /** Query protocols: the `Version`. */
  apiVersion?: string;
  /** Query protocols: the response namespace. */
  xmlNamespace?: string;
  /** A fixed signing region (IAM: us-east-1). */
  fixedRegion?: string;
  /** The throttling error: status, code, message. */
  throttle: [number, string, string];
  /** The error for the `500` fault. */
  internal: [number, string, string];
  /** The error for the `503` fault. */
  unavailable: [number, string, string];
  /** The code for request-shape errors. */
  validationCode: string;
  /**
   * Operations sent without a signature (the model's `authtype: none`):
   * `true` for every operation of the service, or their names.
   */
  unsigned?: true | readonly string[];
}

/** Every service the emulator speaks, by signing name. */
export const SERVICE_SPECS: Record<string, ServiceSpec> = {
  batch: {
    name: "batch",
    protocol: "rest-json",
    throttle: [429, "TooManyRequestsException", "Too Many Requests"],
    internal: [500, "ServerException", "Internal server error"],
    unavailable: [503, "ServerException", "Service unavailable"],
    validationCode: "ClientException",
  },
  ecr: {
    name: "ecr",
    protocol: "json",
    targetPrefix: "AmazonEC2ContainerRegistry_V20150921",
    throttle: [400, "ThrottlingException", "Rate exceeded"],
    internal: [500, "ServerException", "Internal server error"],
    unavailable: [503, "ServiceUnavailableException", "Service unavailable"],
    validationCode: "InvalidParameterException",
  },
  logs: {
    name: "logs",
    protocol: "json",
    targetPrefix: "Logs_20140328",
    throttle: [400, "ThrottlingException", "Rate exceeded"],
    internal: [500, "ServiceUnavailableException", "Internal server error"],
    unavailable: [503, "ServiceUnavailableException", "Service unavailable"],
    validationCode: "InvalidParameterException",
  },
  iam: {
    name: "iam",
    protocol: "query",
    apiVersion: "2010-05-08",
    xmlNamespace: "https://iam.amazonaws.com/doc/2010-05-08/",
    fixedRegion: "us-east-1",
    throttle: [400, "Throttling", "Rate exceeded"],
    internal: [500, "ServiceFailure", "Internal failure"],
    unavailable: [503, "ServiceUnavailable", "Service unavailable"],
    validationCode: "ValidationError",
  },
  sts: {
    name: "sts",
    protocol: "query",
    apiVersion: "2011-06-15",
    xmlNamespace: "https://sts.amazonaws.com/doc/2011-06-15/",
    throttle: [400, "Throttling", "Rate exceeded"],
    internal: [500, "InternalFailure", "Internal failure"],
    unavailable: [503, "ServiceUnavailable", "Service unavailable"],
    validationCode: "ValidationError",
    unsigned: ["AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"],
  },
  // The IAM Identity Center portal and its OIDC service: never signed.
  sso: {
    name: "sso",
    protocol: "rest-json",
    throttle: [429, "TooManyRequestsException", "Too many requests"],
    internal: [500, "InternalServerException", "Internal server error"],
    unavailable: [503, "InternalServerException", "Service unavailable"],
    validationCode: "InvalidRequestException",
    unsigned: true,
  },
  ssooidc: {
    name: "ssooidc",
    protocol: "rest-json",
    throttle: [429, "SlowDownException", "Slow down"],
    internal: [500, "InternalServerException", "Internal server error"],
    unavailable: [503, "InternalServerException", "Service unavailable"],
    validationCode: "InvalidRequestException",
    unsigned: true,
  },
  cloudformation: {
    name: "cloudformation",
    protocol: "query",
    apiVersion: "2010-05-15",
    xmlNamespace: "http://cloudformation.amazonaws.com/doc/2010-05-15/",
    throttle: [400, "Throttling", "Rate exceeded"],
    internal: [500, "InternalFailure", "Internal failure"],
    unavailable: [503, "ServiceUnavailable", "Service unavailable"],
    validationCode: "ValidationError",
  },
  ec2: {
    name: "ec2",
    protocol: "ec2",
    apiVersion: "2016-11-15",
    xmlNamespace: "http://ec2.amazonaws.com/doc/2016-11-15/",
    throttle: [503, "RequestLimitExceeded", "Request limit exceeded."],
    internal: [500, "InternalError", "An internal error has occurred"],
    unavailable: [503, "Unavailable", "The server is overloaded and cannot handle the request"],
    validationCode: "InvalidParameterValue",
  },
  s3: {
    name: "s3",
    protocol: "rest-xml",
    throttle: [503, "SlowDown", "Please reduce your request rate."],
    internal: [500, "InternalError", "We encountered an internal error. Please try again."],
    unavailable: [503, "ServiceUnavailable", "Service is unable to handle request."],
    validationCode: "InvalidArgument",
  },
};

/**
 * Makes the standard `ServiceError` for one of the spec's canned errors.
 *
 * @example Usage
 * ```ts ignore
 * cannedError(SERVICE_SPECS.batch.throttle);
 * ```
 */
export function cannedError([status, code, message]: [number, string, string]): ServiceError {
  return new ServiceError(code, message, status);
}

/**
 * A uniform page over a list: `token` is the index to start at, encoded.
 *
 * @example Usage
 * ```ts ignore
 * const { items, next } = paginate(all, params.nextToken, params.maxResults, 100);
 * ```
 */
export function paginate<T>(
  all: T[],
  token: string | undefined,
  max: number | undefined,
  defaultMax: number,
  invalid: () => ServiceError = () =>
    new ServiceError("InvalidParameterException", "Invalid token"),
): { items: T[]; next?: string } {
  let start = 0;
  if (token) {
    const m = token.match(/^emu-([0-9]+)$/);
    if (!m) throw invalid();
    start = Number(m[1]);
  }
  const n = max && max > 0 ? max : defaultMax;
  const items = all.slice(start, start + n);
  const next = start + n < all.length ? `emu-${start + n}` : undefined;
  return { items, next };
}

/**
 * Matches a glob with `*` (any run) and `?` (one character), case-sensitively.
 *
 * @example Usage
 * ```ts ignore
 * globMatch("Host EC2*", "Host EC2 (instance i-1) terminated."); // true
 * ```
 */
export function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(
    "^" + pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") +
      "$",
    "s",
  );
  return re.test(text);
}

/**
 * Resolves after `ms` milliseconds.
 *
 * @example Usage
 * ```ts ignore
 * await sleep(10);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
