/**
 * Types shared across the aws layer: service ids, credentials and the
 * injectable side effects.
 *
 * @module
 */

/**
 * The services this project talks to, as the keys of
 * {@linkcode AwsSessionOptions.endpoints} and the session's client properties.
 */
export type ServiceId =
  | "batch"
  | "ecr"
  | "iam"
  | "ec2"
  | "s3"
  | "sts"
  | "logs"
  | "cloudformation"
  | "sso"
  | "ssooidc";

/**
 * AWS credentials. `secretAccessKey` and `sessionToken` are not enumerable,
 * and `console.log`, `Deno.inspect` and `JSON.stringify` show them redacted.
 */
export interface Credentials {
  /** The access key id (not secret). */
  readonly accessKeyId: string;
  /** The secret access key. */
  readonly secretAccessKey: string;
  /** The session token of temporary credentials. */
  readonly sessionToken?: string;
  /** When temporary credentials expire. */
  readonly expiration?: Date;
  /** Where the credentials came from, e.g. `env`, `profile dev`, `container`. */
  readonly source?: string;
}

/** Credentials as a caller or a provider supplies them. */
export interface CredentialsInput {
  /** The access key id. */
  accessKeyId: string;
  /** The secret access key. */
  secretAccessKey: string;
  /** The session token of temporary credentials. */
  sessionToken?: string;
  /** When temporary credentials expire. */
  expiration?: Date;
}

/** A function that fetches fresh credentials; the session caches what it returns. */
export type CredentialProvider = () => Promise<CredentialsInput>;

/** The result of {@linkcode RunProcess}. */
export interface ProcessResult {
  /** The exit code. */
  code: number;
  /** Everything the process wrote to stdout. */
  stdout: string;
  /** Everything the process wrote to stderr. */
  stderr: string;
}

/** Options of {@linkcode RunProcess}. */
export interface RunProcessOptions {
  /** The complete environment of the child. */
  env: Record<string, string>;
  /** Aborted when the command ran out of time: stop it and whatever it started. */
  signal?: AbortSignal;
}

/** Runs a shell command line (`sh -c command`) and collects its output. */
export type RunProcess = (command: string, options: RunProcessOptions) => Promise<ProcessResult>;

/** Reads a text file, or returns `undefined` when it does not exist. */
export type ReadTextFile = (path: string) => Promise<string | undefined>;

/** Writes a text file, readable by its owner only (a refreshed SSO token). */
export type WriteTextFile = (path: string, text: string) => Promise<void>;

/** Looks up an environment variable. */
export type EnvLookup = (name: string) => string | undefined;

const INSPECT = Symbol.for("Deno.customInspect");
const NODE_INSPECT = Symbol.for("nodejs.util.inspect.custom");

/**
 * Wraps raw credentials so that the secret and the token never show in
 * `console.log`, `Deno.inspect` or `JSON.stringify` output.
 *
 * @example Usage
 * ```ts
 * import { makeCredentials } from "@cloudknot/cloudknot/aws";
 * import assert from "node:assert/strict";
 *
 * const c = makeCredentials({ accessKeyId: "AKID", secretAccessKey: "s3cr3t" }, "explicit");
 * assert.equal(c.secretAccessKey, "s3cr3t");
 * assert.ok(!JSON.stringify(c).includes("s3cr3t"));
 * ```
 *
 * @param input The raw credentials.
 * @param source Where they came from, shown in debug output.
 * @returns Credentials with the secret parts hidden from enumeration.
 */
export function makeCredentials(input: CredentialsInput, source?: string): Credentials {
  const out: Record<string | symbol, unknown> = { accessKeyId: input.accessKeyId };
  if (input.expiration !== undefined) out.expiration = input.expiration;
  if (source !== undefined) out.source = source;
  Object.defineProperty(out, "secretAccessKey", {
    value: input.secretAccessKey,
    enumerable: false,
  });
  if (input.sessionToken !== undefined) {
    Object.defineProperty(out, "sessionToken", { value: input.sessionToken, enumerable: false });
  }
  const redacted = () => ({
    accessKeyId: input.accessKeyId,
    secretAccessKey: "[redacted]",
    ...(input.sessionToken === undefined ? {} : { sessionToken: "[redacted]" }),
    ...(input.expiration === undefined ? {} : { expiration: input.expiration }),
    ...(source === undefined ? {} : { source }),
  });
  Object.defineProperty(out, "toJSON", { value: redacted, enumerable: false });
  Object.defineProperty(out, INSPECT, {
    value: (inspect: (v: unknown, o?: unknown) => string, options?: unknown) =>
      `Credentials ${inspect(redacted(), options)}`,
    enumerable: false,
  });
  Object.defineProperty(out, NODE_INSPECT, {
    value: () => `Credentials ${JSON.stringify(redacted())}`,
    enumerable: false,
  });
  return Object.freeze(out) as unknown as Credentials;
}
