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
import type { ErrorInfo, OperationInfo } from "./core/request.ts";
import type { ApiTable, ServiceDefinition } from "./protocols/client.ts";
import { thenSentence } from "../util/sentence.ts";

const CHECK_KEYS = "check the keys cloudknot uses (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, " +
  "or the profile's in ~/.aws/credentials); `aws sts get-caller-identity` with the same " +
  "settings tests them";

/**
 * The advice for an error code and message, when the code is a refusal of
 * the credentials.
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
 * @returns What to check, or `undefined` for another error.
 */
export function credentialAdvice(code: string, message: string): string | undefined {
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
      return "The temporary credentials have expired: get new ones (`aws sso login` for an " +
        "SSO profile) and try again";
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
      parseError: (status, headers, body): ErrorInfo => {
        const info = parseError(status, headers, body);
        const advice = credentialAdvice(info.code, info.message);
        return advice ? { ...info, message: thenSentence(info.message, advice) } : info;
      },
    },
  };
}
