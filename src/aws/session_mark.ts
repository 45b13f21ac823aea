/**
 * Recognising an {@linkcode AwsSession} without loading the AWS client layer:
 * the option checks of `Pars` and `DockerImage` accept a session, and
 * importing `session.ts` for an `instanceof` would load every service client
 * into a program that never talks to AWS.
 *
 * @module
 */
import type { AwsSession } from "./session.ts";
import type { OptionTest } from "../util/validate.ts";

/** The mark `session.ts` puts on `AwsSession`'s prototype. */
export const AWS_SESSION_MARK: unique symbol = Symbol("AwsSession");

/**
 * Whether a value is an {@linkcode AwsSession} (made by this copy of the
 * package, as `instanceof` would say).
 *
 * @example Usage
 * ```ts
 * import { isAwsSession } from "@cloudknot/cloudknot/aws";
 *
 * console.log(isAwsSession({ region: "us-east-1" })); // false
 * ```
 *
 * @param value The value.
 * @returns Whether it is a session.
 */
export function isAwsSession(value: unknown): value is AwsSession {
  return typeof value === "object" && value !== null && AWS_SESSION_MARK in value;
}

/**
 * An `AwsSession` as {@linkcode validateOptionType} checks it, by its mark.
 *
 * @example Usage
 * ```ts
 * import { AWS_SESSION_KIND } from "./session_mark.ts";
 * import { validateOptionType } from "../util/validate.ts";
 *
 * validateOptionType({}, "session", AWS_SESSION_KIND, "an AwsSession");
 * ```
 */
export const AWS_SESSION_KIND: OptionTest = {
  name: "AwsSession",
  is: isAwsSession,
};
