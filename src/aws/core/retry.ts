/**
 * The retry policy: which failures are worth another attempt, which make the
 * outcome of a non-idempotent call unknown, the backoff and clock-skew
 * correction. The code lists follow the AWS SDK's service error
 * classification.
 *
 * @module
 */

/** Error codes that mean "slow down": the request was refused, so it is always safe to retry. */
export const THROTTLING_CODES: ReadonlySet<string> = new Set([
  "BandwidthLimitExceeded",
  "EC2ThrottledException",
  "LimitExceededException",
  "PriorRequestNotComplete",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ThrottledException",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "TransactionInProgressException",
]);

/** Error codes that mean the request timed out before the service acted on it. */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
]);

/** Error codes that may mean our clock is off (checked against the server's `Date`). */
export const CLOCK_SKEW_CODES: ReadonlySet<string> = new Set([
  "AuthFailure",
  "InvalidSignatureException",
  "RequestExpired",
  "RequestInTheFuture",
  "RequestTimeTooSkewed",
  "SignatureDoesNotMatch",
]);

/** Options of the retry policy. */
export interface RetryOptions {
  /**
   * The most attempts one call makes, the first included.
   *
   * @default {6}
   */
  maxAttempts?: number;
  /**
   * How many throttling answers (`Throttling`, `TooManyRequestsException`,
   * HTTP 429, …) one call may retry after, on top of `maxAttempts`. A
   * throttled request was refused, so trying it again is always safe, and
   * a long run must not fail because one call met a busy second (AWS Batch
   * allows 50 SubmitJob and DescribeJobs calls per second per account).
   *
   * @default {20}
   */
  maxThrottledRetries?: number;
  /**
   * The base of the exponential backoff, in milliseconds.
   *
   * @default {100}
   */
  baseDelayMs?: number;
  /**
   * The cap of one backoff delay, in milliseconds.
   *
   * @default {20000}
   */
  maxDelayMs?: number;
  /**
   * How long one attempt may wait for the response headers, in milliseconds.
   * A timed-out attempt counts as a network error: retried when the
   * operation is idempotent, `OutcomeUnknown` otherwise.
   *
   * @default {120000}
   */
  attemptTimeoutMs?: number;
}

/**
 * Whether an answer means "slow down": a throttling code or HTTP 429.
 *
 * @param status The HTTP status.
 * @param code The error code.
 * @returns `true` for a throttling answer.
 */
export function isThrottling(status: number, code: string): boolean {
  return THROTTLING_CODES.has(code) || status === 429;
}

/** What one attempt ended with, as the policy sees it. */
export type AttemptOutcome =
  | { kind: "response"; status: number; code: string }
  | { kind: "network"; error: unknown };

/** What to do after a failed attempt. */
export type RetryDecision =
  /** Retry (budget permitting). */
  | "retry"
  /** Give up and report the error as it is. */
  | "fail"
  /** The request may have taken effect and must not be re-sent. */
  | "unknown";

/**
 * Whether a network error happened before the request could reach the
 * server (connection refused, DNS failure), so re-sending is always safe.
 *
 * @param error The error `fetch` rejected with.
 * @returns `true` when nothing was sent.
 */
export function isConnectError(error: unknown): boolean {
  const text = error instanceof Error ? `${error.message} ${String(error.cause ?? "")}` : "";
  return /connection refused|tcp connect error|dns error|failed to lookup address|ECONNREFUSED|ENOTFOUND/i
    .test(text);
}

/**
 * Classifies a failed attempt.
 *
 * - throttling codes and HTTP 429: the request was refused; retry, even when not idempotent;
 * - 408 and timeout codes: the service did not get the whole request; retry;
 * - 5xx and network errors: retry an idempotent call, report "unknown" for any other
 *   (a connection that was never made is retried either way);
 * - anything else fails.
 *
 * @param outcome The attempt's outcome.
 * @param idempotent Whether the operation can be repeated safely.
 * @returns The decision.
 */
export function classifyAttempt(outcome: AttemptOutcome, idempotent: boolean): RetryDecision {
  if (outcome.kind === "network") {
    if (isConnectError(outcome.error)) return "retry";
    return idempotent ? "retry" : "unknown";
  }
  const { status, code } = outcome;
  if (isThrottling(status, code)) return "retry";
  if (TRANSIENT_CODES.has(code) || status === 408) return "retry";
  if (status >= 500) return idempotent ? "retry" : "unknown";
  return "fail";
}

/**
 * The capped full-jitter backoff before retry number `attempt` (0-based):
 * a uniform random delay in `[0, min(maxDelayMs, baseDelayMs * 2^attempt))`.
 *
 * @param attempt The number of retries already made.
 * @param options Base and cap.
 * @param random A source of numbers in [0, 1).
 * @returns The delay in milliseconds.
 */
export function backoffDelay(
  attempt: number,
  options: RetryOptions,
  random: () => number = Math.random,
): number {
  const base = options.baseDelayMs ?? 100;
  const cap = options.maxDelayMs ?? 20_000;
  return Math.floor(random() * Math.min(cap, base * 2 ** attempt));
}

/** How far the server's clock may be from ours before we correct it. */
export const CLOCK_SKEW_LIMIT_MS = 5 * 60 * 1000;

/**
 * The clock offset to use after a clock-skew error, or `undefined` when the
 * server's `Date` does not show a skew of more than five minutes.
 *
 * @param code The error code.
 * @param dateHeader The response's `Date` header.
 * @param clientNow Our (already corrected) clock when the request was signed.
 * @returns The new offset in milliseconds (server minus local), or `undefined`.
 */
export function skewCorrection(
  code: string,
  dateHeader: string | null,
  clientNow: number,
): number | undefined {
  if (!CLOCK_SKEW_CODES.has(code) || !dateHeader) return undefined;
  const server = Date.parse(dateHeader);
  if (Number.isNaN(server)) return undefined;
  const skew = server - clientNow;
  return Math.abs(skew) > CLOCK_SKEW_LIMIT_MS ? skew : undefined;
}
