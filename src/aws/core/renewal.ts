/**
 * Credentials the user renews in the shared files while a program runs: keys
 * with no expiration the client knows (static keys, or a session token that
 * `aws configure`, saml2aws or a company's script wrote to
 * `~/.aws/credentials`) are cached for the process's life, so once AWS
 * refuses them as expired or unknown, the session reads the two shared files
 * again and compares their texts with what it read: when they differ, it
 * resolves the chain again with what they say now, and the next request
 * signs with the new keys. While AWS accepts the keys, nothing is read.
 *
 * @module
 */
import {
  parseSharedConfigFiles,
  type SharedConfigFiles,
  type SharedConfigTexts,
} from "./profile.ts";
import type { Credentials } from "./types.ts";

/**
 * The codes of an answer that refuses the credentials that signed it because
 * they expired or AWS does not know them (any more): STS, IAM and the other
 * Query APIs' `ExpiredToken` and `InvalidClientTokenId`, the JSON APIs'
 * `ExpiredTokenException` and `UnrecognizedClientException` (each API
 * reference's "Common Errors"), S3's `ExpiredToken`, `TokenRefreshRequired`,
 * `InvalidAccessKeyId` and `InvalidToken` (the S3 API reference's "List of
 * error codes"), and EC2's `AuthFailure` ("Error codes for the Amazon EC2
 * API"); and a signature AWS did not accept (the Query APIs' and S3's
 * `SignatureDoesNotMatch`, the JSON APIs' `InvalidSignatureException`): a
 * secret key mistyped in the shared files, corrected there while a wait runs.
 */
const REFUSED_CODES: ReadonlySet<string> = new Set([
  "SignatureDoesNotMatch",
  "InvalidSignatureException",
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "InvalidAccessKeyId",
  "InvalidToken",
  "TokenRefreshRequired",
  "AuthFailure",
]);

/**
 * Whether an error answer refuses the credentials that signed the request
 * (see {@linkcode REFUSED_CODES}). EC2's `RequestExpired` says the request's
 * time stamp is more than 15 minutes off, which the retry policy corrects
 * when the answer's `Date` shows our clock is; "if you're using temporary
 * security credentials, this error can also occur if the credentials have
 * expired" ("Error codes for the Amazon EC2 API"), so it counts for keys
 * with a session token only.
 *
 * @example Usage
 * ```ts ignore
 * refusesCredentials("ExpiredToken", credentials); // true
 * ```
 *
 * @param code The answer's error code.
 * @param credentials The credentials that signed the request.
 * @returns `true` when renewed credentials may be worth looking for.
 */
export function refusesCredentials(code: string, credentials: Credentials): boolean {
  return REFUSED_CODES.has(code) ||
    (code === "RequestExpired" && credentials.sessionToken !== undefined);
}

/** Options of {@linkcode renewableCredentials}. */
export interface RenewableOptions {
  /** The shared files' texts as read when the session was made. */
  texts: SharedConfigTexts;
  /** What they say: `texts` parsed. */
  files: SharedConfigFiles;
  /** Reads the shared files' texts again. */
  read: () => Promise<SharedConfigTexts>;
  /** Resolves the chain once with these files. */
  resolve: (files: SharedConfigFiles) => Promise<Credentials>;
  /** Whether credentials came from the shared files' keys, with no call: the ones to drop. */
  fromFiles: (credentials: Credentials) => boolean;
  /**
   * Whether the chain can give no others than these while the program runs
   * (environment keys, credentials given in code it never asks for again).
   */
  fixed: (credentials: Credentials) => boolean;
  /** The clock. */
  now: () => number;
}

/** The credentials of a session, and the way to tell it AWS refused them. */
export interface RenewableCredentials {
  /** The current credentials. */
  (): Promise<Credentials>;
  /**
   * AWS refused these credentials as expired or unknown: look at the shared
   * files again. Returns whether other credentials can come while the
   * program runs: `false` for ones the chain will give again whatever
   * happens outside (`fixed`).
   */
  refused: (credentials: Credentials) => boolean;
  /**
   * Resolves once no resolution is under way: one a call stopped waiting for
   * (its signal aborted) goes on, a `credential_process` helper included.
   */
  settled: () => Promise<void>;
}

/** Refresh credentials this long before they expire. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/**
 * Caches a chain's credentials until five minutes before they expire;
 * concurrent callers share one resolution, and a failure is not cached.
 * After `refused`, the next call reads the shared files again and compares
 * their texts with what it read last: when they differ, it parses them and
 * drops the cached credentials when they came from the files' keys
 * (renewing sources, `credential_process`, SSO, roles, are not asked again
 * before they expire: they renew themselves), so that the chain is resolved
 * again with what the files now say. Explicit credentials and environment
 * keys come first in the chain, so files never replace them. Nothing is
 * read while AWS accepts the keys.
 *
 * @example Usage
 * ```ts ignore
 * const credentials = renewableCredentials({ texts, files, read, resolve, fromFiles, fixed, now });
 * credentials.refused(await credentials());
 * ```
 *
 * @param options The files, how to read them again, and the chain.
 * @returns The caching provider.
 */
export function renewableCredentials(options: RenewableOptions): RenewableCredentials {
  let { texts, files } = options;
  let current: Credentials | undefined;
  let pending: Promise<Credentials> | undefined;
  let look = false;
  const fresh = (c: Credentials) =>
    c.expiration === undefined || c.expiration.getTime() - REFRESH_MARGIN_MS > options.now();
  const resolve = async () => {
    if (look) {
      look = false;
      // The texts, not the files' size and time: a rewrite of keys of the same length within
      // the same millisecond (Deno's mtime) is seen too, for two reads of small files.
      const now = await options.read();
      if (now.config !== texts.config || now.credentials !== texts.credentials) {
        // A text that does not parse throws here, and is read again after the next refusal.
        files = parseSharedConfigFiles(now);
        texts = now;
        if (current && options.fromFiles(current)) current = undefined;
      }
    }
    if (current && fresh(current)) return current;
    return current = await options.resolve(files);
  };
  const get = () => {
    if (!look && current && fresh(current)) return Promise.resolve(current);
    return pending ??= resolve().finally(() => pending = undefined);
  };
  return Object.assign(get, {
    refused: (credentials: Credentials) => {
      look = true;
      return !options.fixed(credentials);
    },
    settled: async () => {
      while (pending !== undefined) await pending.then(() => {}, () => {});
    },
  });
}
