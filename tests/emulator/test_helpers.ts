/**
 * Shared helpers of the emulator's own tests: SDK client configuration.
 *
 * @module
 */
import type { Emulator } from "./emulator.ts";

/** The SDK client configuration that points at an emulator. */
export interface SdkConfig {
  /** The endpoint. */
  endpoint: string;
  /** The region. */
  region: string;
  /** The credentials. */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** One attempt: the tests see every error. */
  maxAttempts: number;
  /** S3 path style. */
  forcePathStyle: boolean;
}

/**
 * The SDK configuration for an emulator (IAM clients must use region us-east-1,
 * which is the emulator's default region).
 *
 * @example Usage
 * ```ts ignore
 * const client = new sdk.batch.BatchClient(sdkConfig(emu));
 * ```
 */
export function sdkConfig(emu: Emulator, overrides: Partial<SdkConfig> = {}): SdkConfig {
  return {
    endpoint: emu.endpoint,
    region: emu.region,
    credentials: { ...emu.credentials },
    maxAttempts: 1,
    forcePathStyle: true,
    ...overrides,
  };
}

/**
 * Awaits a promise that must reject and returns the error.
 *
 * @example Usage
 * ```ts ignore
 * const e = await rejects(client.send(cmd));
 * ```
 */
export async function rejects(p: Promise<unknown>): Promise<Record<string, unknown> & Error> {
  try {
    await p;
  } catch (e) {
    return e as Record<string, unknown> & Error;
  }
  throw new Error("Expected the promise to reject");
}
