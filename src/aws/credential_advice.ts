/**
 * What to do when AWS refuses the credentials themselves: a wrong secret key,
 * a key id or session token AWS does not know, expired temporary
 * credentials. The advice is added to the errors of an
 * {@linkcode AwsSession}'s clients, not in `AwsError` itself: a job's store
 * signs with its container's role, where the advice does not help, and
 * `runtime.js` has a byte budget.
 *
 * @module
 */
import { fromSharedFileKeys } from "./core/credentials.ts";
import type { ErrorInfo, OperationInfo } from "./core/request.ts";
import type { Credentials } from "./core/types.ts";
import type { ApiTable, ServiceDefinition } from "./protocols/client.ts";
import { thenSentence } from "../util/sentence.ts";

const CHECK_KEYS = "check the keys cloudknot uses (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, " +
  "or the profile's in ~/.aws/credentials); `aws sts get-caller-identity` with the same " +
  "settings tests them";

/**
 * The waits that ride out expired credentials and read keys rewritten in the
 * shared files by themselves (`core/renewal.ts`, `targets/aws/batch/outage.ts`),
 * in a library user's words; the command line's `inCliWords` names its
 * commands instead.
 */
const WAITS = "(await run, knot.collect(), BatchJob.result(), BatchJob.logs({ follow: true }))";

/** What to do about expired temporary credentials, by where the refused ones came from. */
function expiredAdvice(signedWith: Credentials | undefined): string {
  if (signedWith !== undefined && fromSharedFileKeys(signedWith)) {
    // Only these are read again after a refusal: the chain's other sources renew themselves.
    return `The temporary credentials of ${signedWith.source ?? "the profile"} in the shared ` +
      "files (~/.aws/credentials, ~/.aws/config) have expired: write new ones there (aws " +
      "configure, saml2aws, your company's script) and try again; a wait that is running " +
      `${WAITS} needs no restart: it reads them there by itself and goes on`;
  }
  switch (signedWith?.source) {
    case "env":
      // Environment keys come first in the chain, and a program's environment is fixed.
      return "The temporary credentials in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and " +
        "AWS_SESSION_TOKEN have expired, and a running program keeps the environment it " +
        "started with: export new ones and start it again (a wait stopped for it loses " +
        "nothing: knot.collect(runId) picks its run up again, and BatchJob.logs({ follow: true }) " +
        "its log)";
    case "explicit":
      return "The temporary credentials given in code (the credentials option) have expired: " +
        "pass new ones and try again (a credentials function that returns their expiration " +
        "is asked again before it)";
  }
  // A profile's other sources (SSO, credential_process, a role): its name for the SSO login.
  const profile = /^profile (\S+)$/.exec(signedWith?.source ?? "")?.[1];
  return "The temporary credentials have expired: get new ones (`aws sso login" +
    (profile === undefined ? "" : ` --profile ${profile}`) + "` for an SSO profile) and try again";
}

/**
 * The advice for an error code and message, when the code is a refusal of
 * the credentials: for expired ones, by where they came from (`signedWith`'s
 * source).
 *
 * @example Usage
 * ```ts
 * import { credentialAdvice } from "./credential_advice.ts";
 *
 * console.log(credentialAdvice("ExpiredToken", "The provided token has expired."));
 * ```
 *
 * @param code The error's code.
 * @param message AWS's message.
 * @param signedWith The credentials that signed the request.
 * @returns What to check, or `undefined` for another error.
 */
export function credentialAdvice(
  code: string,
  message: string,
  signedWith?: Credentials,
): string | undefined {
  switch (code) {
    case "SignatureDoesNotMatch":
    case "InvalidSignatureException":
      // The same codes also report a scope (region) mistake, in other words.
      return message.startsWith("The request signature we calculated does not match")
        ? `AWS did not accept the secret access key for this access key id: ${CHECK_KEYS}`
        : undefined;
    case "InvalidClientTokenId":
    case "UnrecognizedClientException":
    case "InvalidAccessKeyId":
    case "InvalidToken":
    case "AuthFailure":
      return `AWS does not know these credentials (a deleted or mistyped access key id, or a ` +
        `session token of other keys): ${CHECK_KEYS}`;
    case "ExpiredToken":
    case "ExpiredTokenException":
      return expiredAdvice(signedWith);
  }
  return undefined;
}

/**
 * A service whose errors carry {@linkcode credentialAdvice} after AWS's message.
 *
 * @example Usage
 * ```ts ignore
 * const batch = createClient(http, withCredentialAdvice(BATCH_SERVICE));
 * ```
 *
 * @param service The service as data.
 * @returns The same service, its error decoder adding the advice.
 */
export function withCredentialAdvice<Api extends ApiTable, Op extends OperationInfo>(
  service: ServiceDefinition<Api, Op>,
): ServiceDefinition<Api, Op> {
  const { parseError } = service.protocol;
  return {
    ...service,
    protocol: {
      ...service.protocol,
      parseError: (status, headers, body, credentials): ErrorInfo => {
        const info = parseError(status, headers, body, credentials);
        const advice = credentialAdvice(info.code, info.message, credentials);
        return advice ? { ...info, message: thenSentence(info.message, advice) } : info;
      },
    },
  };
}
