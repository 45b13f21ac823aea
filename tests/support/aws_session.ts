/**
 * An `AwsSession` pointed at an emulator, with nothing read from this
 * machine's environment or files.
 *
 * @module
 */
import { AwsSession } from "../../mod.ts";
import type { Emulator } from "../emulator/mod.ts";

/**
 * Makes a session for the emulator's endpoint, region and credentials.
 *
 * @example Usage
 * ```ts ignore
 * const session = await sessionFor(emu);
 * ```
 */
export function sessionFor(
  emu: Emulator,
  options: { maxAttempts?: number } = {},
): Promise<AwsSession> {
  return AwsSession.create({
    region: emu.region,
    endpoint: emu.endpoint,
    credentials: { ...emu.credentials },
    env: (name) => name === "AWS_EC2_METADATA_DISABLED" ? "true" : undefined,
    homeDir: "/nonexistent",
    retry: {
      baseDelayMs: 1,
      maxDelayMs: 5,
      ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    },
  });
}
