/**
 * A wait that cannot use AWS for a while: the laptop lost its network or
 * slept, AWS throttles or fails for a stretch, or the credentials expired.
 * Such a failure passes (the network comes back, the user renews the
 * credentials in another terminal) while the run's jobs go on in AWS, so a
 * wait rides it out, says so once, and says again when AWS answers.
 *
 * @module
 */
import { AwsConfigError, AwsError } from "../../../aws/core/error.ts";
import { sleep } from "../../../util/sleep.ts";

/**
 * Why a poll round could not use AWS, when it is a reason that passes:
 * `unreachable` (no connection, no answer in time, throttling or a server
 * error: AWS's SDKs retry all of these) or `credentials` (none could be got,
 * AWS says they expired, or it refuses credentials the session renews or
 * reads again: the user renews or corrects them, as `aws sso login` or in
 * `~/.aws/credentials`).
 */
export type OutageKind = "unreachable" | "credentials";

/**
 * The codes of an answer that refuses credentials that have expired: STS and
 * the Query APIs' `ExpiredToken`, the JSON APIs' `ExpiredTokenException`
 * ("The security token included in the request is expired"), and EC2's
 * `RequestExpired` (AWS's "Common Error Types" and each API's list).
 */
const EXPIRED_CODES: ReadonlySet<string> = new Set([
  "ExpiredToken",
  "ExpiredTokenException",
  "RequestExpired",
]);

/**
 * Whether a failed poll round failed for a reason that passes, and which.
 * The error's `cause` chain is looked through: a store's or a segment's
 * read wraps the client's error.
 *
 * @example Usage
 * ```ts ignore
 * import { outageOf } from "./outage.ts";
 *
 * outageOf(new AwsError("no", { service: "batch", operation: "DescribeJobs", code: "NetworkError", retryable: true }));
 * // "unreachable"
 * ```
 *
 * @param error What the round failed with.
 * @returns The kind, or `undefined` for a failure that does not pass by itself (a refused
 *   permission, a bucket that is gone).
 */
export function outageOf(error: unknown): OutageKind | undefined {
  let credentials = false;
  for (const e of causeChain(error)) {
    if (e instanceof AwsError) {
      // Refused credentials this program cannot renew do not pass (lastingRefusal); refused
      // ones the session reads again or renews (unknown keys, a signature AWS does not accept:
      // a key mistyped or deleted) do, once the user corrects them.
      if (e.credentialsRenewable !== undefined) {
        return e.credentialsRenewable ? "credentials" : undefined;
      }
      if (EXPIRED_CODES.has(e.code)) return "credentials";
      // A credential source that could not reach its service (SSO, STS) is unreachable too.
      if (e.retryable || e.code === "NetworkError" || e.code === "OutcomeUnknown") {
        return "unreachable";
      }
      return credentials ? "credentials" : undefined;
    }
    if (e instanceof AwsConfigError) {
      if (e.setting !== "credentials") return undefined;
      credentials = true;
    }
  }
  return credentials ? "credentials" : undefined;
}

/**
 * The refusal of credentials this program cannot renew, when a call failed
 * for one: AWS refused (as expired, unknown, or by their signature) keys
 * from the environment or credentials given in code
 * (`AwsError.credentialsRenewable` is `false`). No wait can outlast it: a
 * program keeps the environment it started with, so the wait ends at once
 * and says how to pick the run up with new credentials. The error's
 * `cause` chain is looked through, as {@linkcode outageOf} does.
 *
 * @example Usage
 * ```ts ignore
 * import { lastingRefusal } from "./outage.ts";
 *
 * if (lastingRefusal(error) !== undefined) endTheWait(error);
 * ```
 *
 * @param error What a call failed with.
 * @returns AWS's error that refused them, or `undefined`.
 */
export function lastingRefusal(error: unknown): AwsError | undefined {
  const aws = causeChain(error).find((e) => e instanceof AwsError);
  return aws?.credentialsRenewable === false ? aws : undefined;
}

/** An error and its causes, the first eight, as far as they are errors. */
function causeChain(error: unknown): Error[] {
  const chain: Error[] = [];
  for (let e = error; e instanceof Error && chain.length < 8; e = e.cause) chain.push(e);
  return chain;
}

/** How long a wait rides out an outage by default: a day, in milliseconds. */
export const MAX_OUTAGE_MS = 24 * 60 * 60 * 1000;

/** What a wait tells its user about AWS it cannot use (`RunPollerOptions.onOutage`). */
export type OutageNotice =
  | {
    /** The wait cannot use AWS since `since`, for this reason. */
    kind: OutageKind;
    /** When its first failed round began, in epoch milliseconds. */
    since: number;
    /** What the round failed with, as the client said it. */
    message: string;
  }
  | {
    /** AWS answers again. */
    kind: "back";
    /** When the outage began, in epoch milliseconds. */
    since: number;
  };

/**
 * The words of an outage notice, for a run of a knot: what happened, that
 * the wait goes on and the jobs with it, and how to pick the run up later.
 *
 * @example Usage
 * ```ts ignore
 * warn(outageWords({ kind: "back", since }, "squares", runId));
 * ```
 *
 * @param notice The notice.
 * @param knot The knot's name.
 * @param runId The run's id.
 * @param now The clock. @default {Date.now}
 * @returns One message.
 */
export function outageWords(
  notice: OutageNotice,
  knot: string,
  runId: string,
  now: () => number = Date.now,
): string {
  return noticeWords(notice, now, {
    head: `cloudknot: run ${runId} of knot ${knot}`,
    wait: "the wait",
    back: "reads what the jobs recorded meanwhile",
    after: `Its jobs go on in AWS Batch and keep their results: if this program stops first, ` +
      `collect the run again (knot.collect("${runId}") of knot ${knot})`,
  });
}

/**
 * The words of an outage notice of a follow of a job's log
 * (`BatchJob.logs({ follow: true, onOutage })`): what happened, that the
 * follow goes on from where the log was, and what reads it again later
 * (`again`, in the caller's words: the command line's `cloudknot logs`).
 *
 * @example Usage
 * ```ts ignore
 * warn(logOutageWords(notice, jobId, `run cloudknot logs ${jobId} --follow again`));
 * ```
 *
 * @param notice The notice.
 * @param jobId The job whose log is followed.
 * @param again What reads it again if the program stops first.
 * @param now The clock. @default {Date.now}
 * @returns One message.
 */
export function logOutageWords(
  notice: OutageNotice,
  jobId: string,
  again: string,
  now: () => number = Date.now,
): string {
  return noticeWords(notice, now, {
    head: `cloudknot: the log of AWS Batch job ${jobId}`,
    wait: "the follow",
    back: "reads on from where the log was",
    after: `The job goes on in AWS Batch: if this program stops first, ${again}`,
  });
}

/** An outage notice in words: of what (`head`), which wait goes on, and what to do later. */
function noticeWords(
  notice: OutageNotice,
  now: () => number,
  words: { head: string; wait: string; back: string; after: string },
): string {
  const since = new Date(notice.since).toISOString().slice(11, 19);
  const { head, wait } = words;
  if (notice.kind === "back") {
    const minutes = Math.max(1, Math.round((now() - notice.since) / 60_000));
    return `${head}: AWS answers again, after about ${minutes} minute${
      minutes === 1 ? "" : "s"
    } (since ${since} UTC); ${wait} goes on and ${words.back}`;
  }
  const what = notice.kind === "credentials"
    ? `cannot be followed since ${since} UTC: the AWS credentials expired, were refused or ` +
      `cannot be got (${notice.message}). Renew or correct them as the message says; ${wait} ` +
      "goes on once they work"
    : `cannot reach AWS since ${since} UTC (${notice.message}); ${wait} goes on and ` +
      "picks up when AWS answers again";
  return `${head} ${what}. ${words.after}`;
}

/**
 * An outage as a wait goes through it: when it began, and which kind its
 * listener was told, so that `onOutage` hears of it once per kind and once
 * when it is over ({@linkcode OutageRider} and the run poller keep one).
 *
 * @example Usage
 * ```ts ignore
 * const outage = new OutageLog((n) => console.warn(n.kind));
 * outage.failed("unreachable", error); // told: unreachable
 * outage.answered(); // told: back
 * ```
 */
export class OutageLog {
  #onOutage: ((notice: OutageNotice) => void) | undefined;
  #since?: number;
  #told?: OutageKind;

  /**
   * Makes a log.
   *
   * @param onOutage Told once when an outage begins (or changes kind), and once when over.
   */
  constructor(onOutage?: (notice: OutageNotice) => void) {
    this.#onOutage = onOutage;
  }

  /**
   * A call failed for an outage of this kind: one begins at `at` when none is
   * under way, and the listener is told when it has not been of this kind.
   *
   * @param kind The outage's kind.
   * @param error What the call failed with.
   * @param at When the failed call began, in epoch ms. @default {Date.now()}
   */
  failed(kind: OutageKind, error: unknown, at: number = Date.now()): void {
    this.#since ??= at;
    if (this.#told === kind) return;
    this.#told = kind;
    this.#onOutage?.({
      kind,
      since: this.#since,
      message: error instanceof Error ? error.message : String(error),
    });
  }

  /** A call succeeded: an outage that was told is over, and says so. */
  answered(): void {
    if (this.#since !== undefined && this.#told !== undefined) {
      this.#onOutage?.({ kind: "back", since: this.#since });
    }
    this.forget();
  }

  /** Forgets the outage under way, with no word (a failure that is no outage). */
  forget(): void {
    this.#since = undefined;
    this.#told = undefined;
  }

  /**
   * How long the outage under way has lasted.
   *
   * @param now The clock, in epoch ms. @default {Date.now()}
   * @returns Milliseconds, or `undefined` when none is under way.
   */
  lasted(now: number = Date.now()): number | undefined {
    return this.#since === undefined ? undefined : now - this.#since;
  }
}

/** Options of an {@linkcode OutageRider}. */
export interface OutageRiderOptions {
  /** The first wait before a call is made again, in milliseconds; it doubles each time. */
  pauseMs: number;
  /** The longest wait between two tries, in milliseconds. @default {30000} */
  maxPauseMs?: number;
  /** How long an outage is ridden out before its error is thrown, in milliseconds. @default {86400000} */
  maxOutageMs?: number;
  /** Stops waiting: the call's last error is thrown. */
  signal?: AbortSignal;
  /** Told once when calls start to fail for an outage, and once when one succeeds again. */
  onOutage?: (notice: OutageNotice) => void;
}

/**
 * Makes calls again while they fail for an outage ({@linkcode outageOf}),
 * for a reader that follows something for long (a job's log stream): it
 * waits, longer each time, and tells `onOutage` once when the outage begins
 * and once when it is over. Any other failure is thrown at once.
 *
 * @example Usage
 * ```ts ignore
 * const rider = new OutageRider({ pauseMs: 2000, onOutage: (n) => console.warn(n.kind) });
 * const page = await rider.run(() => logs.getLogEvents(request));
 * ```
 */
export class OutageRider {
  #o: OutageRiderOptions;
  #outage: OutageLog;

  /**
   * Makes a rider.
   *
   * @param options The waits, the bound, the signal and the listener.
   */
  constructor(options: OutageRiderOptions) {
    this.#o = options;
    this.#outage = new OutageLog(options.onOutage);
  }

  /**
   * Makes a call, and again while it fails for an outage.
   *
   * @param call The call.
   * @returns What it returned once it succeeded.
   * @throws What it failed with, when that is no outage, when the outage lasted
   *   `maxOutageMs`, or when the signal aborted.
   */
  async run<T>(call: () => Promise<T>): Promise<T> {
    let pause = this.#o.pauseMs;
    while (true) {
      try {
        const value = await call();
        this.#outage.answered();
        return value;
      } catch (e) {
        const kind = outageOf(e);
        if (kind === undefined || this.#o.signal?.aborted) throw e;
        if ((this.#outage.lasted() ?? 0) >= (this.#o.maxOutageMs ?? MAX_OUTAGE_MS)) throw e;
        this.#outage.failed(kind, e);
        await sleep(pause, this.#o.signal);
        if (this.#o.signal?.aborted) throw e;
        pause = Math.min(this.#o.maxPauseMs ?? 30_000, pause * 2);
      }
    }
  }
}
