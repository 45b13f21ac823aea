/**
 * The request pipeline every service shares: resolve credentials, sign with
 * aws4fetch (service and region always explicit), send, classify failures,
 * back off and retry, correct clock skew, and turn error responses into
 * {@linkcode AwsError}s.
 *
 * @module
 */
import { AwsV4Signer } from "aws4fetch";
import type { ResolvedEndpoint, ServiceInfo } from "./endpoints.ts";
import { AwsError } from "./error.ts";
import {
  backoffDelay,
  classifyAttempt,
  isThrottling,
  type RetryOptions,
  skewCorrection,
  TRANSIENT_CODES,
} from "./retry.ts";
import { refusesCredentials } from "./renewal.ts";
import type { Credentials } from "./types.ts";
import { ABORTED, sleep, untilAborted } from "../../util/sleep.ts";

/**
 * Sends a request that must not be sent twice, on a connection of its own.
 * Deno's fetch re-sends a request on its own when a reused keep-alive
 * connection turns out to be closed, even after the server handled it; a
 * request on a fresh connection is never re-sent, so a lost answer surfaces
 * as `OutcomeUnknown`. The HTTP client lives for this request only: the
 * answer's body (small: such requests create something and answer with its
 * name) is read here, then the client is closed. Loading this module thus
 * makes no resource, which a test's resource sanitizer would blame on the
 * first test that loads it (the AWS target loads when a knot opens on AWS).
 * Making a client costs about 0.1 ms.
 */
async function sendOnce(
  send: typeof fetch,
  url: URL,
  init: RequestInit,
): Promise<Response> {
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  try {
    const response = await send(url, { ...init, client });
    const body = await response.arrayBuffer();
    return new Response(body.byteLength > 0 ? body : null, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  } finally {
    client.close();
  }
}

/** An operation as data: its name and whether repeating it is harmless. */
export interface OperationInfo {
  /** The API's operation name, e.g. `SubmitJob`. */
  name: string;
  /** Whether sending it twice has the same effect as once. */
  idempotent: boolean;
  /**
   * Sent without a signature or credentials, as the service model's
   * `authtype: none` says (STS AssumeRoleWithWebIdentity, the SSO portal's
   * GetRoleCredentials): they are how credentials are obtained.
   */
  unsigned?: boolean;
}

/** One HTTP request, before signing. */
export interface HttpRequestSpec {
  /** The HTTP method. */
  method: string;
  /** The path below the endpoint, already percent-encoded, starting with `/`. */
  path: string;
  /** Query parameters in order; a `null` value writes the bare key (`?uploads`). */
  query?: [string, string | null][];
  /** Headers to send (and sign where aws4fetch signs them). */
  headers?: Record<string, string>;
  /** The body. */
  body?: string | Uint8Array<ArrayBuffer>;
  /** S3 only: the bucket, placed in the host or the path. */
  bucket?: string;
}

/** An error response, decoded by a protocol. */
export interface ErrorInfo {
  /** The wire code, namespace removed. */
  code: string;
  /** The message. */
  message: string;
  /** The request id, when the body or headers carry one. */
  requestId?: string;
}

/**
 * Decodes an error response of one protocol; `credentials` signed the
 * request (absent for an unsigned one).
 */
export type ErrorParser = (
  status: number,
  headers: Headers,
  body: string,
  credentials?: Credentials,
) => ErrorInfo;

/** Per-call options. */
export interface CallOptions {
  /**
   * Aborts the call, including any backoff wait and the wait for credentials
   * (the call rejects with the signal's reason at once, while a resolution
   * it was waiting for goes on for the session's other calls).
   */
  signal?: AbortSignal;
}

/** A clock offset shared by every client of a session (server time minus local time). */
export interface ClockState {
  /** Milliseconds to add to the local clock. */
  offsetMs: number;
}

/** Options of {@linkcode AwsHttpClient}. */
export interface AwsHttpClientOptions {
  /** The service. */
  service: ServiceInfo;
  /** Where to send requests and how to sign them. */
  endpoint: ResolvedEndpoint;
  /** Returns current credentials (cached by the caller). */
  credentials: () => Promise<Credentials>;
  /**
   * Told when AWS refused the credentials that signed a request as expired
   * or unknown (`renewal.ts`), so that the next request may sign with
   * renewed ones; the call itself fails with AWS's error, whose
   * `credentialsRenewable` is what this returns: whether other credentials
   * can come while the program runs.
   */
  refused?: (credentials: Credentials) => boolean;
  /** The fetch to use. */
  fetch: typeof fetch;
  /** Retry policy settings. */
  retry?: RetryOptions;
  /** The local clock. */
  now: () => number;
  /** The shared clock-skew correction. */
  clock: ClockState;
  /** Waits; injectable so tests do not sleep. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** S3 only: always use path-style addressing. */
  s3ForcePathStyle?: boolean;
  /**
   * Waits for this request's turn under a client-side rate limit (AWS
   * Batch's); called before every attempt with the call's signal, and
   * rejects with its reason once that aborts (the call leaves the queue).
   */
  throttle?: (signal?: AbortSignal) => Promise<void>;
}

/** The backoff wait: {@linkcode sleep}, rejecting with the signal's reason once it aborts. */
async function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  await sleep(ms, signal);
  signal?.throwIfAborted();
}

function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[:-]|\.\d{3}/g, "");
}

const IP_HOST_RE = /^(\d{1,3}\.){3}\d{1,3}$|^\[[0-9a-f:.]+\]$/i;
const DNS_BUCKET_RE = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

/** Options of {@linkcode signRequest}. */
export interface SignRequestOptions {
  /** The HTTP method. */
  method: string;
  /** The full URL. */
  url: URL;
  /** Headers to send. */
  headers: HeadersInit;
  /** The body. */
  body: string | Uint8Array<ArrayBuffer> | null;
  /** The credentials. */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** The SigV4 service name; always explicit (aws4fetch guesses "" for loopback hosts). */
  service: string;
  /** The SigV4 region; always explicit. */
  region: string;
  /** The signing time, `YYYYMMDDTHHMMSSZ`. */
  datetime: string;
  /** A signing-key cache. */
  cache?: Map<string, ArrayBuffer>;
  /** Sign every header (the SigV4 test suite does; our calls do not). */
  allHeaders?: boolean;
  /** Encode the path once (the SigV4 test suite's `get-utf8`). */
  singleEncode?: boolean;
}

/**
 * Signs a request with aws4fetch exactly as every call of this layer does:
 * service, region and time explicit, session token signed in a header.
 *
 * @param options The request and the signing parameters.
 * @returns The signed method, URL and headers.
 */
export async function signRequest(
  options: SignRequestOptions,
): Promise<{ method: string; url: URL; headers: Headers }> {
  const { credentials } = options;
  const signer = new AwsV4Signer({
    method: options.method,
    url: options.url.href,
    headers: options.headers,
    body: options.body,
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
    service: options.service,
    region: options.region,
    datetime: options.datetime,
    ...(options.cache ? { cache: options.cache } : {}),
    ...(options.allHeaders ? { allHeaders: true } : {}),
    ...(options.singleEncode ? { singleEncode: true } : {}),
  });
  const signed = await signer.sign();
  return { method: signed.method, url: signed.url, headers: signed.headers };
}

/**
 * Whether an S3 bucket must be addressed path-style on this endpoint: the host
 * is an IP address or `localhost`, the bucket name has dots or is not a valid
 * DNS label, or path style is forced.
 *
 * @param endpoint The S3 endpoint.
 * @param bucket The bucket name.
 * @param force Whether path style was asked for.
 * @returns `true` for path style.
 */
export function usePathStyle(endpoint: URL, bucket: string, force: boolean): boolean {
  return force || IP_HOST_RE.test(endpoint.hostname) || endpoint.hostname === "localhost" ||
    !DNS_BUCKET_RE.test(bucket);
}

/**
 * Sends signed requests for one service with the retry policy applied.
 *
 * @example Usage
 * ```ts ignore
 * const client = new AwsHttpClient({ service, endpoint, credentials, fetch, now: Date.now, clock: { offsetMs: 0 } });
 * const res = await client.send({ name: "GetCallerIdentity", idempotent: true }, spec, parseQueryError);
 * ```
 */
export class AwsHttpClient {
  #options: AwsHttpClientOptions;
  #cache = new Map<string, ArrayBuffer>();

  /**
   * Makes a client.
   *
   * @param options The service, endpoint, credentials and side effects.
   */
  constructor(options: AwsHttpClientOptions) {
    this.#options = options;
  }

  /** The service this client talks to. */
  get service(): ServiceInfo {
    return this.#options.service;
  }

  /** The endpoint this client sends to. */
  get endpoint(): ResolvedEndpoint {
    return this.#options.endpoint;
  }

  /**
   * The URL a request goes to.
   *
   * @param spec The request.
   * @returns The full URL.
   */
  urlFor(spec: HttpRequestSpec): URL {
    const base = this.#options.endpoint.url;
    const url = new URL(base.href);
    let path = base.pathname === "/" ? "" : base.pathname;
    if (spec.bucket !== undefined) {
      const bucket = encodeURIComponent(spec.bucket);
      if (usePathStyle(base, spec.bucket, this.#options.s3ForcePathStyle ?? false)) {
        path += `/${bucket}`;
      } else {
        url.hostname = `${spec.bucket}.${base.hostname}`;
      }
    }
    path += spec.path;
    url.pathname = path === "" ? "/" : path;
    // URL normalises some escapes; keep ours exactly.
    const search = (spec.query ?? []).map(([k, v]) =>
      v === null ? encodeRfc3986(k) : `${encodeRfc3986(k)}=${encodeRfc3986(v)}`
    ).join("&");
    url.search = search;
    return url;
  }

  /**
   * Sends one operation's request, retrying as the policy allows, and returns
   * the successful response (the caller reads its body).
   *
   * @param operation The operation's name and idempotency.
   * @param spec The request.
   * @param parseError The protocol's error decoder.
   * @param options Per-call options.
   * @returns The 2xx response.
   * @throws {AwsError} For an error response, a network failure, or an unknown outcome.
   */
  async send(
    operation: OperationInfo,
    spec: HttpRequestSpec,
    parseError: ErrorParser,
    options: CallOptions = {},
  ): Promise<Response> {
    const o = this.#options;
    const maxAttempts = Math.max(1, o.retry?.maxAttempts ?? 6);
    const maxThrottled = Math.max(0, o.retry?.maxThrottledRetries ?? 20);
    const wait = o.sleep ?? defaultSleep;
    const service = o.service.name;
    const url = this.urlFor(spec);
    // Throttling answers have their own budget; every other failure counts
    // against maxAttempts.
    let failures = 0;
    let throttles = 0;
    const mayRetry = (throttled: boolean) =>
      throttled ? throttles++ < maxThrottled : ++failures < maxAttempts;
    for (let attempt = 0;; attempt++) {
      options.signal?.throwIfAborted();
      await o.throttle?.(options.signal);
      const signedAt = o.now() + o.clock.offsetMs;
      // The call stops waiting for credentials when its signal aborts, as it stops a fetch (a
      // hung credential_process must not hold a Ctrl-C for its timeout); the resolution, which
      // other calls may share, goes on.
      const credentials = operation.unsigned
        ? undefined
        : await untilAborted(o.credentials(), options.signal);
      if (credentials === ABORTED) throw options.signal!.reason;
      const signed = credentials === undefined
        ? { method: spec.method, url, headers: new Headers(spec.headers ?? {}) }
        : await signRequest({
          method: spec.method,
          url,
          headers: spec.headers ?? {},
          body: spec.body ?? null,
          credentials,
          service: o.endpoint.signingName,
          region: o.endpoint.signingRegion,
          datetime: amzDate(signedAt),
          cache: this.#cache,
        });
      let response: Response;
      // The attempt timeout covers sending the request and receiving the
      // response headers; a streaming body may take longer. Its clock is
      // AbortSignal.timeout, not setTimeout: a process's first setTimeout
      // costs 5 to 20 ms in Deno 2.9 (its timers load on first use), which
      // was a job's first request's (BENCHMARKS.md, "Job start").
      const timeout = new AbortController();
      const timeoutMs = o.retry?.attemptTimeoutMs ?? 120_000;
      const deadline = AbortSignal.timeout(timeoutMs);
      const late = () =>
        timeout.abort(new DOMException(`No response within ${timeoutMs} ms`, "TimeoutError"));
      deadline.addEventListener("abort", late, { once: true });
      const signal = options.signal
        ? AbortSignal.any([options.signal, timeout.signal])
        : timeout.signal;
      try {
        const init: RequestInit = {
          method: signed.method,
          headers: signed.headers,
          body: spec.body ?? null,
          redirect: "manual",
          signal,
        };
        response = operation.idempotent
          ? await o.fetch(signed.url, init)
          : await sendOnce(o.fetch, signed.url, init);
      } catch (error) {
        if (options.signal?.aborted) throw error;
        const decision = classifyAttempt({ kind: "network", error }, operation.idempotent);
        if (decision === "retry" && mayRetry(false)) {
          await wait(backoffDelay(attempt, o.retry ?? {}), options.signal);
          continue;
        }
        if (decision === "unknown") throw outcomeUnknown(service, operation, error);
        // The host names the endpoint and its region (sts.mars.amazonaws.com): what to check.
        throw new AwsError(
          `The request to ${signed.url.host} failed before a response came back: ` +
            `${messageOf(error)}; check the network and the region`,
          {
            service,
            operation: operation.name,
            code: "NetworkError",
            retryable: decision === "retry",
            cause: error,
          },
        );
      } finally {
        deadline.removeEventListener("abort", late);
      }
      if (response.ok) return response;
      const text = await response.text().catch(() => "");
      const info = parseError(response.status, response.headers, text, credentials);
      const requestId = requestIdOf(response.headers) ?? info.requestId;
      const skew = skewCorrection(info.code, response.headers.get("date"), signedAt);
      if (skew !== undefined && mayRetry(false)) {
        o.clock.offsetMs += skew;
        continue;
      }
      const renewable = credentials !== undefined && refusesCredentials(info.code, credentials)
        ? o.refused?.(credentials)
        : undefined;
      const error = new AwsError(info.message, {
        service,
        operation: operation.name,
        code: info.code,
        status: response.status,
        ...(requestId ? { requestId } : {}),
        retryable: isRetryableResponse(response.status, info.code),
        ...(renewable !== undefined ? { credentialsRenewable: renewable } : {}),
      });
      const decision = classifyAttempt(
        { kind: "response", status: response.status, code: info.code },
        operation.idempotent,
      );
      if (decision === "retry" && mayRetry(isThrottling(response.status, info.code))) {
        await wait(backoffDelay(attempt, o.retry ?? {}), options.signal);
        continue;
      }
      if (decision === "unknown") throw outcomeUnknown(service, operation, error);
      throw error;
    }
  }
}

function isRetryableResponse(status: number, code: string): boolean {
  return isThrottling(status, code) || TRANSIENT_CODES.has(code) || status === 408 ||
    status >= 500;
}

function outcomeUnknown(service: string, operation: OperationInfo, cause: unknown): AwsError {
  return new AwsError(
    `The request may or may not have taken effect (${messageOf(cause)}); ` +
      `check the resource's state before retrying`,
    { service, operation: operation.name, code: "OutcomeUnknown", retryable: false, cause },
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The request id from the headers AWS services use.
 *
 * @param headers Response headers.
 * @returns The request id, or `undefined`.
 */
export function requestIdOf(headers: Headers): string | undefined {
  return headers.get("x-amzn-requestid") ?? headers.get("x-amz-request-id") ??
    headers.get("x-amzn-request-id") ?? undefined;
}

/**
 * Percent-encodes a string as SigV4 wants (RFC 3986 unreserved characters kept).
 *
 * @param value The raw string.
 * @returns The encoded string.
 */
export function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
