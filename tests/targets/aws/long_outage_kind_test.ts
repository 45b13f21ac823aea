// Which failures of a poll round a wait rides out (`batch/outage.ts`), and
// how: what passes on its own (no network, throttling, server errors, a
// credential service out of reach) is "unreachable"; credentials that
// expired, or a source that cannot give them until the user logs in again,
// are "credentials", and so are keys AWS refuses that the session reads
// again or renews; keys it refuses that this program cannot renew (from the
// environment, given in code) end a wait at once (`lastingRefusal`);
// anything else (a refused permission, a bucket that is gone, a setting that
// is wrong) is not an outage.
import assert from "node:assert/strict";
import { AwsConfigError, AwsError } from "../../../src/aws/mod.ts";
import { lastingRefusal, outageOf } from "../../../src/targets/aws/batch/outage.ts";

const aws = (
  code: string,
  extra: { retryable?: boolean; status?: number; credentialsRenewable?: boolean } = {},
) => new AwsError("m", { service: "Batch", operation: "DescribeJobs", code, ...extra });
const credentials = (cause?: unknown) =>
  new AwsConfigError("m", { setting: "credentials", ...(cause ? { cause } : {}) });

Deno.test("outage: what a wait rides out, and as what", () => {
  const cases: [string, unknown, string | undefined][] = [
    ["no connection", aws("NetworkError", { retryable: true }), "unreachable"],
    [
      "throttling",
      aws("TooManyRequestsException", { retryable: true, status: 429 }),
      "unreachable",
    ],
    ["a server error", aws("InternalError", { retryable: true, status: 500 }), "unreachable"],
    ["JSON APIs' expired token", aws("ExpiredTokenException", { status: 403 }), "credentials"],
    ["S3's expired token", aws("ExpiredToken", { status: 400 }), "credentials"],
    ["EC2's expired request", aws("RequestExpired", { status: 400 }), "credentials"],
    ["a credential_process that fails", credentials(), "credentials"],
    [
      "an SSO token the portal refuses",
      credentials(aws("UnauthorizedException", { status: 401 })),
      "credentials",
    ],
    [
      "a credential source out of reach",
      credentials(aws("NetworkError", { retryable: true })),
      "unreachable",
    ],
    [
      "a store's read wrapping it",
      new Error("read", { cause: aws("NetworkError") }),
      "unreachable",
    ],
    ["a refused permission", aws("AccessDeniedException", { status: 403 }), undefined],
    ["a bucket that is gone", aws("NoSuchBucket", { status: 404 }), undefined],
    ["keys AWS does not know", aws("UnrecognizedClientException", { status: 403 }), undefined],
    [
      "keys AWS does not know, which the session reads again",
      aws("UnrecognizedClientException", { status: 403, credentialsRenewable: true }),
      "credentials",
    ],
    [
      "a signature AWS refuses, of keys the session reads again",
      aws("InvalidSignatureException", { status: 403, credentialsRenewable: true }),
      "credentials",
    ],
    [
      "expired keys this program cannot renew",
      aws("ExpiredTokenException", { status: 403, credentialsRenewable: false }),
      undefined,
    ],
    ["a wrong region", new AwsConfigError("m", { setting: "region" }), undefined],
    ["a bug", new TypeError("x is undefined"), undefined],
  ];
  for (const [what, error, kind] of cases) assert.equal(outageOf(error), kind, what);
});

Deno.test("outage: a refusal of credentials this program cannot renew ends a wait at once, a store's read wrapping it or not; one the session renews, and other failures, do not", () => {
  const lasting = aws("ExpiredTokenException", { status: 403, credentialsRenewable: false });
  assert.equal(lastingRefusal(lasting), lasting);
  assert.equal(lastingRefusal(new Error("read", { cause: lasting })), lasting);
  const unknown = aws("InvalidClientTokenId", { status: 403, credentialsRenewable: false });
  assert.equal(lastingRefusal(unknown), unknown);
  for (
    const error of [
      aws("ExpiredTokenException", { status: 403, credentialsRenewable: true }),
      aws("ExpiredTokenException", { status: 403 }),
      aws("NetworkError", { retryable: true }),
      credentials(),
      new TypeError("x is undefined"),
    ]
  ) assert.equal(lastingRefusal(error), undefined, String(error));
});
