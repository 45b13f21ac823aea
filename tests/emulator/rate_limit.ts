/**
 * An account's request-rate quota for one service, as a token bucket: AWS
 * Batch allows 50 transactions per second per account for its API calls,
 * SubmitJob and DescribeJobs included, and answers the rest with 429
 * `TooManyRequestsException`
 * (https://repost.aws/knowledge-center/aws-batch-requests-error;
 * https://docs.aws.amazon.com/batch/latest/userguide/service_limits.html).
 *
 * @module
 */

/** Options of {@linkcode TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second (the sustained rate). */
  perSecond: number;
  /** The most tokens it holds (the burst). @default {perSecond} */
  burst?: number;
  /** The clock, in ms. @default {Date.now} */
  now?: () => number;
}

/**
 * A token bucket: full at the start, refilled continuously at `perSecond`, one
 * token per request.
 *
 * @example Usage
 * ```ts ignore
 * const bucket = new TokenBucket({ perSecond: 50 });
 * if (!bucket.take()) throw throttled();
 * ```
 */
export class TokenBucket {
  readonly #perSecond: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  /**
   * Makes a full bucket.
   *
   * @param options The rate, burst and clock.
   */
  constructor(options: TokenBucketOptions) {
    if (!(options.perSecond > 0)) throw new RangeError("perSecond must be positive");
    this.#perSecond = options.perSecond;
    this.#burst = options.burst ?? options.perSecond;
    if (!(this.#burst >= 1)) throw new RangeError("burst must be at least 1");
    this.#now = options.now ?? Date.now;
    this.#tokens = this.#burst;
    this.#at = this.#now();
  }

  /** Takes one token; false when the bucket is empty (the request is throttled). */
  take(): boolean {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#at) * this.#perSecond / 1000);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
