/**
 * Internal: the AWS session a resource uses.
 *
 * @module
 */
import { AwsSession, type AwsSessionOptions } from "../aws/session.ts";
import type { StateFile } from "../state/state_file.ts";

/** A session, or the options to create one. */
export type SessionInput = AwsSession | AwsSessionOptions;

/**
 * Returns the session, or creates one from its options. The cloudknot config
 * file's `[aws] region` is the last region tried, as in the original.
 *
 * @param input The session or its options.
 * @param state The cloudknot config file.
 * @param saved Profile and region a resource was created with, used when the options name none.
 * @returns The session.
 */
export async function openSession(
  input: SessionInput | undefined,
  state: StateFile,
  saved: { profile?: string | undefined; region?: string | undefined } = {},
): Promise<AwsSession> {
  if (input instanceof AwsSession) return input;
  const fallbackRegion = await state.get("aws", "region");
  return await AwsSession.create({
    ...(saved.profile !== undefined ? { profile: saved.profile } : {}),
    ...(saved.region !== undefined ? { region: saved.region } : {}),
    ...(fallbackRegion !== undefined ? { fallbackRegion } : {}),
    ...input,
  });
}
