/**
 * Emulated STS: GetCallerIdentity, AssumeRole, and AssumeRoleWithWebIdentity
 * (unsigned) for tokens of OpenID Connect providers a test registers with
 * {@linkcode StsService.oidcProvider} (standing for IAM
 * CreateOpenIDConnectProvider and the provider's signing keys).
 *
 * AssumeRoleWithWebIdentity, as the STS API reference documents its errors
 * and users report them:
 *
 * - a token that is not a JWT of a registered provider, or whose signature
 *   does not verify, is `InvalidIdentityToken` 400; an audience the provider
 *   does not list is `InvalidIdentityToken` "Incorrect token audience";
 * - an expired token is `ExpiredTokenException` 400 "Token expired: current
 *   date/time ... must be before the expiration date/time ...";
 * - a role whose trust policy does not allow the provider
 *   (`Principal.Federated`) the action `sts:AssumeRoleWithWebIdentity`, or
 *   whose `StringEquals`/`StringLike` conditions on `<issuer>:sub` and
 *   `<issuer>:aud` do not hold, is `AccessDenied` 403 "Not authorized to
 *   perform sts:AssumeRoleWithWebIdentity" (aws-actions/configure-aws-credentials#318,
 *   aws/aws-sdk-js-v3#6225).
 *
 * @module
 */
import { createHmac } from "node:crypto";
import type { CredentialStore } from "../credentials.ts";
import { randomHex } from "../credentials.ts";
import { ServiceError } from "../errors.ts";
import type { CallContext, ModeledService, OperationHandler } from "../service.ts";
import type { IamService } from "./iam.ts";

/** An OpenID Connect provider a test registered. */
export interface OidcProvider {
  /** The issuer URL, such as `https://token.actions.githubusercontent.com`. */
  issuer: string;
  /** The IAM provider's ARN, for a trust policy's `Principal.Federated`. */
  arn: string;
  /**
   * Issues a signed token.
   *
   * @param claims The subject, and optionally the audience and lifetime.
   * @returns The JWT.
   */
  token(claims: { sub: string; aud?: string; expiresInSeconds?: number }): string;
}

interface ProviderRecord {
  issuer: string;
  host: string;
  arn: string;
  audiences: string[];
  key: string;
}

function b64url(data: string | Uint8Array): string {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

function fromB64url(text: string): string {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  return new TextDecoder().decode(
    Uint8Array.from(atob(b64 + "=".repeat((4 - b64.length % 4) % 4)), (c) => c.charCodeAt(0)),
  );
}

function sign(key: string, data: string): string {
  return b64url(new Uint8Array(createHmac("sha256", key).update(data).digest()));
}

function amzTime(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z");
}

/** Whether a glob of StringLike (`*`, `?`) matches. */
function like(pattern: string, value: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${re}$`).test(value);
}

/**
 * The temporary credentials of a role session, as AssumeRole and
 * AssumeRoleWithWebIdentity both answer them, after the checks both make
 * (the session name's pattern, the duration against the role's maximum).
 */
function roleSession(
  store: CredentialStore,
  role: { Arn: string; MaxSessionDuration: number },
  sessionName: string,
  durationSeconds: number | undefined,
) {
  if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    throw new ServiceError(
      "ValidationError",
      `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
      400,
    );
  }
  const duration = durationSeconds ?? 3600;
  if (duration < 900 || duration > role.MaxSessionDuration) {
    throw new ServiceError(
      "ValidationError",
      `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`,
      400,
    );
  }
  const creds = store.issueForRole(role.Arn, sessionName, duration);
  return {
    Credentials: {
      AccessKeyId: creds.accessKeyId,
      SecretAccessKey: creds.secretAccessKey,
      SessionToken: creds.sessionToken,
      Expiration: creds.expiration,
    },
    AssumedRoleUser: { AssumedRoleId: creds.principal.userId, Arn: creds.principal.arn },
  };
}

/**
 * The STS of one emulator; AssumeRole issues temporary credentials that the
 * signature check accepts.
 *
 * @example Usage
 * ```ts ignore
 * new StsService(credentialStore, iam);
 * ```
 */
export class StsService implements ModeledService {
  /** Handlers by operation. */
  readonly operations: Record<string, OperationHandler>;
  #providers = new Map<string, ProviderRecord>();
  #account: string;
  #store: CredentialStore;

  /**
   * Makes STS.
   *
   * @param store The credential store to issue into.
   * @param iam IAM, to check that roles exist.
   */
  constructor(store: CredentialStore, iam: IamService, account = "123456789012") {
    this.#account = account;
    this.#store = store;
    this.operations = {
      GetCallerIdentity: (_p, ctx: CallContext) => ({
        UserId: ctx.principal.userId,
        Account: ctx.principal.account,
        Arn: ctx.principal.arn,
      }),
      AssumeRole: (p, ctx: CallContext) => {
        const role = iam.findRole(p.RoleArn);
        if (!role) {
          throw new ServiceError(
            "AccessDenied",
            `User: ${ctx.principal.arn} is not authorized to perform: sts:AssumeRole on resource: ${p.RoleArn}`,
            403,
          );
        }
        return roleSession(store, role, p.RoleSessionName, p.DurationSeconds);
      },
      AssumeRoleWithWebIdentity: (p) => {
        const claims = this.#verify(p.WebIdentityToken);
        const provider = this.#providers.get(claims.iss)!;
        const role = iam.findRole(p.RoleArn);
        const denied = () =>
          new ServiceError(
            "AccessDenied",
            "Not authorized to perform sts:AssumeRoleWithWebIdentity",
            403,
          );
        if (!role || !trusts(role.AssumeRolePolicyDocument, provider, claims)) throw denied();
        return {
          ...roleSession(store, role, p.RoleSessionName, p.DurationSeconds),
          SubjectFromWebIdentityToken: claims.sub,
          Provider: provider.arn,
          Audience: claims.aud,
        };
      },
    };
  }

  /**
   * Ends a role session's credentials now, as the end of their duration
   * does: every request they sign from then on is refused as expired
   * (`ExpiredToken` for the Query APIs and S3, `ExpiredTokenException` for
   * the JSON ones, EC2's `RequestExpired`).
   *
   * @param accessKeyId The session's access key id (AssumeRole's, the SSO portal's, …).
   * @throws {Error} When the emulator issued no session credentials with that id.
   */
  expire(accessKeyId: string): void {
    if (!this.#store.expire(accessKeyId)) {
      throw new Error(`The emulator issued no session credentials ${accessKeyId}`);
    }
  }

  /**
   * Registers an OpenID Connect provider (IAM CreateOpenIDConnectProvider)
   * whose tokens this STS verifies.
   *
   * @param issuer The issuer URL.
   * @param audiences The client ids (audiences) it accepts. @default {["sts.amazonaws.com"]}
   * @returns The provider, which issues tokens.
   */
  oidcProvider(issuer: string, audiences: string[] = ["sts.amazonaws.com"]): OidcProvider {
    const host = issuer.replace(/^https:\/\//, "");
    const record: ProviderRecord = {
      issuer,
      host,
      arn: `arn:aws:iam::${this.#account}:oidc-provider/${host}`,
      audiences,
      key: randomHex(32),
    };
    this.#providers.set(issuer, record);
    return {
      issuer,
      arn: record.arn,
      token: ({ sub, aud, expiresInSeconds }) => {
        const now = Math.floor(Date.now() / 1000);
        const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT", kid: "emulator" }));
        const body = b64url(JSON.stringify({
          iss: issuer,
          sub,
          aud: aud ?? audiences[0],
          iat: now,
          nbf: now,
          exp: now + (expiresInSeconds ?? 3600),
        }));
        return `${head}.${body}.${sign(record.key, `${head}.${body}`)}`;
      },
    };
  }

  #verify(token: string): { iss: string; sub: string; aud: string; exp: number } {
    const invalid = (
      why = "The web identity token that was passed could not be validated by AWS.",
    ) => new ServiceError("InvalidIdentityToken", why, 400);
    const parts = String(token ?? "").split(".");
    if (parts.length !== 3) throw invalid();
    let claims: { iss?: string; sub?: string; aud?: string; exp?: number };
    try {
      claims = JSON.parse(fromB64url(parts[1]!));
    } catch {
      throw invalid();
    }
    const provider = this.#providers.get(claims.iss ?? "");
    if (!provider) {
      throw invalid(`No OpenIDConnect provider found in your account for ${claims.iss}`);
    }
    if (sign(provider.key, `${parts[0]}.${parts[1]}`) !== parts[2]) throw invalid();
    const now = new Date();
    if ((claims.exp ?? 0) * 1000 <= now.getTime()) {
      throw new ServiceError(
        "ExpiredTokenException",
        `Token expired: current date/time ${amzTime(now)} must be before the expiration ` +
          `date/time ${amzTime(new Date((claims.exp ?? 0) * 1000))}`,
        400,
      );
    }
    if (!provider.audiences.includes(claims.aud ?? "")) {
      throw invalid("Incorrect token audience");
    }
    return claims as { iss: string; sub: string; aud: string; exp: number };
  }
}

/** Whether a role's trust policy lets the provider's token assume it. */
function trusts(
  policy: string,
  provider: ProviderRecord,
  claims: { sub: string; aud: string },
): boolean {
  let doc: { Statement?: unknown };
  try {
    doc = JSON.parse(policy);
  } catch {
    return false;
  }
  const list = <T>(v: T | T[] | undefined): T[] =>
    v === undefined ? [] : Array.isArray(v) ? v : [v];
  const values: Record<string, string> = {
    [`${provider.host}:sub`]: claims.sub,
    [`${provider.host}:aud`]: claims.aud,
  };
  return list(doc.Statement as Record<string, unknown>[]).some((st) => {
    if (st.Effect !== "Allow") return false;
    if (!list(st.Action as string | string[]).includes("sts:AssumeRoleWithWebIdentity")) {
      return false;
    }
    const principal = st.Principal as { Federated?: string | string[] } | undefined;
    if (!list(principal?.Federated).includes(provider.arn)) return false;
    const conditions = (st.Condition ?? {}) as Record<string, Record<string, string | string[]>>;
    return Object.entries(conditions).every(([op, tests]) =>
      Object.entries(tests).every(([key, expected]) => {
        const actual = values[key];
        if (actual === undefined) return false;
        const bare = op.replace(/^ForAllValues:|^ForAnyValue:/, "");
        if (bare === "StringEquals") return list(expected).includes(actual);
        if (bare === "StringLike") return list(expected).some((p) => like(p, actual));
        return false;
      })
    );
  });
}
