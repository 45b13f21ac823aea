/**
 * Region resolution: explicit, `AWS_REGION`, `AWS_DEFAULT_REGION`, the
 * profile's `region`, then a fallback the caller supplies (the cloudknot
 * config file's `[aws] region`).
 *
 * @module
 */
import { AwsConfigError } from "./error.ts";
import type { ProfileSettings } from "./profile.ts";
import type { EnvLookup } from "./types.ts";

/** Options of {@linkcode resolveRegion}. */
export interface ResolveRegionOptions {
  /** An explicit region; wins over everything. */
  region?: string;
  /** Environment lookup. */
  env: EnvLookup;
  /** The selected profile's name and settings. */
  profile: { name: string; settings: ProfileSettings };
  /** Used when nothing else names a region. */
  fallbackRegion?: string;
  /** The message when no source names a region; the default names the AWS files. */
  missing?: string;
}

const REGION_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Whether a name has the form of a region's (`us-east-1`), as {@linkcode resolveRegion} checks it.
 *
 * @param name The name, trimmed.
 * @returns Whether it has the form.
 */
export function isRegionName(name: string): boolean {
  return REGION_RE.test(name);
}

/**
 * Picks the region from the explicit option, `AWS_REGION`,
 * `AWS_DEFAULT_REGION`, the profile's `region`, then the fallback.
 *
 * @param options Where to look.
 * @returns The region name.
 * @throws {AwsConfigError} When no source names a region, or the name is malformed.
 */
export function resolveRegion(options: ResolveRegionOptions): string {
  const candidates: [string | undefined, string][] = [
    [options.region, "the region option"],
    [options.env("AWS_REGION"), "AWS_REGION"],
    [options.env("AWS_DEFAULT_REGION"), "AWS_DEFAULT_REGION"],
    [options.profile.settings.get("region"), `the region of profile "${options.profile.name}"`],
    [options.fallbackRegion, "the cloudknot config file"],
  ];
  for (const [value, source] of candidates) {
    if (!value) continue;
    const region = value.trim();
    if (!isRegionName(region)) {
      throw new AwsConfigError(
        `The AWS region "${value}" from ${source} is not a region name such as us-east-1; fix it`,
        { setting: "region" },
      );
    }
    return region;
  }
  throw new AwsConfigError(
    options.missing ??
      `No AWS region is set; pass a region, set AWS_REGION, or add "region = us-east-1" (for example) ` +
        `to profile "${options.profile.name}" in ~/.aws/config (aws configure set region us-east-1)`,
    { setting: "region" },
  );
}
