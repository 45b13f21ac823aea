/**
 * An `AwsSession` pointed at an emulator, with fast retries and nothing read
 * from this machine's environment or files.
 *
 * @module
 */
import { AwsSession, type AwsSessionOptions } from "../../src/aws/mod.ts";
import type { Emulator } from "../emulator/mod.ts";

/**
 * Makes a session for the emulator's endpoint, region and credentials.
 *
 * @example Usage
 * ```ts ignore
 * const session = await sessionFor(emu);
 * ```
 */
export function sessionFor(emu: Emulator, extra: AwsSessionOptions = {}): Promise<AwsSession> {
  return AwsSession.create({
    endpoint: emu.endpoint,
    region: emu.region,
    credentials: { ...emu.credentials },
    env: () => undefined,
    readTextFile: () => Promise.resolve(undefined),
    retry: { maxAttempts: 8, baseDelayMs: 1, maxDelayMs: 5 },
    ...extra,
  });
}

/** Keys of an assumed role, as a session takes them (`credentials`). */
export interface RoleKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/**
 * Makes a role that the session's own identity may assume, with one inline
 * policy, and assumes it: keys of their own, for a test that signs with a
 * narrower policy or tells its requests from others.
 *
 * @example Usage
 * ```ts ignore
 * const keys = await roleKeys(admin, emu.accountId, { role: "user", policy, session: "s" });
 * ```
 */
export async function roleKeys(
  admin: AwsSession,
  accountId: string,
  options: { role: string; policy: string; session: string },
): Promise<RoleKeys> {
  const me = await admin.sts.getCallerIdentity();
  await admin.iam.createRole({
    RoleName: options.role,
    AssumeRolePolicyDocument: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { AWS: me.Arn }, Action: "sts:AssumeRole" }],
    }),
  });
  await admin.iam.putRolePolicy({
    RoleName: options.role,
    PolicyName: "policy",
    PolicyDocument: options.policy,
  });
  const { Credentials } = await admin.sts.assumeRole({
    RoleArn: `arn:aws:iam::${accountId}:role/${options.role}`,
    RoleSessionName: options.session,
  });
  return {
    accessKeyId: Credentials!.AccessKeyId!,
    secretAccessKey: Credentials!.SecretAccessKey!,
    sessionToken: Credentials!.SessionToken!,
  };
}
