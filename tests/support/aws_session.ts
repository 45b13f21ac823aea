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
