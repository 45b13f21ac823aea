/**
 * The sections of the cloudknot config file, named in one place: the same
 * names the Python original writes, so both tools read each other's records.
 *
 * | section | holds |
 * |---|---|
 * | `[aws]` | profile, region, bucket, ECR repository, `configured` |
 * | `[knot <name>]` | an AWS knot's resources |
 * | `[pars <name>]` | a Pars's roles and network |
 * | `[docker-image <name>]` | an image's build files, tags and pushed URI |
 * | `[docker-repos <profile> <region>]` | the ECR repositories made, by name |
 * | `[batch-jobs <profile> <region>]` | the Batch jobs submitted, by id |
 *
 * @module
 */

/** The kinds of named records, each a section `[<kind> <name>]`. */
export type RecordKind = "knot" | "pars" | "docker-image";

/** The settings section, `[aws]`. */
export const AWS_SECTION = "aws";

/**
 * The section of one named record, such as `knot squares`.
 *
 * @example Usage
 * ```ts
 * import { recordSection } from "./sections.ts";
 *
 * console.log(recordSection("knot", "squares")); // "knot squares"
 * ```
 *
 * @param kind The record's kind.
 * @param name The record's name.
 * @returns The section's name.
 */
export function recordSection(kind: RecordKind, name: string): string {
  return `${kind} ${name}`;
}

/**
 * The name of a record if the section is one of that kind, else `undefined`.
 *
 * @example Usage
 * ```ts
 * import { recordName } from "./sections.ts";
 *
 * console.log(recordName("knot", "knot squares")); // "squares"
 * console.log(recordName("knot", "pars squares")); // undefined
 * ```
 *
 * @param kind The record's kind.
 * @param section A section's name.
 * @returns The record's name.
 */
export function recordName(kind: RecordKind, section: string): string | undefined {
  return section.startsWith(`${kind} `) ? section.slice(kind.length + 1) : undefined;
}

/**
 * The section listing the ECR repositories cloudknot made in one account and
 * region, `docker-repos <profile> <region>`.
 *
 * @example Usage
 * ```ts
 * import { reposSection } from "./sections.ts";
 *
 * console.log(reposSection("default", "eu-west-1")); // "docker-repos default eu-west-1"
 * ```
 *
 * @param profile The AWS profile.
 * @param region The region.
 * @returns The section's name.
 */
export function reposSection(profile: string, region: string): string {
  return `docker-repos ${profile} ${region}`;
}

/**
 * The section listing the Batch jobs submitted in one account and region,
 * `batch-jobs <profile> <region>`: job id = job name.
 *
 * @example Usage
 * ```ts
 * import { jobsSection } from "./sections.ts";
 *
 * console.log(jobsSection("default", "eu-west-1")); // "batch-jobs default eu-west-1"
 * ```
 *
 * @param profile The AWS profile.
 * @param region The region.
 * @returns The section's name.
 */
export function jobsSection(profile: string, region: string): string {
  return `batch-jobs ${profile} ${region}`;
}
