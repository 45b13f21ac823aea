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

/** The kinds of per-account lists, each a section `[<kind> <profile> <region>]`. */
export type AccountKind = "docker-repos" | "batch-jobs";

const RECORD_KINDS: readonly string[] = ["knot", "pars", "docker-image"];
const ACCOUNT_KINDS: readonly string[] = ["docker-repos", "batch-jobs"];

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

/** What a section's name says, as {@linkcode parseSection} reads it. */
export type ParsedSection =
  | { kind: typeof AWS_SECTION }
  | { kind: RecordKind; name: string }
  | { kind: AccountKind; profile: string; region: string };

/**
 * Reads a section's name: the settings, a named record, or a per-account
 * list; `undefined` for a section cloudknot does not write.
 *
 * @example Usage
 * ```ts
 * import { parseSection } from "./sections.ts";
 *
 * console.log(parseSection("knot squares")); // { kind: "knot", name: "squares" }
 * console.log(parseSection("batch-jobs lab eu-west-1")); // { kind: "batch-jobs", profile: "lab", region: "eu-west-1" }
 * console.log(parseSection("other")); // undefined
 * ```
 *
 * @param section A section's name.
 * @returns Its kind, and the name or the profile and region it holds.
 */
export function parseSection(section: string): ParsedSection | undefined {
  if (section === AWS_SECTION) return { kind: AWS_SECTION };
  const space = section.indexOf(" ");
  if (space < 0) return undefined;
  const kind = section.slice(0, space);
  const rest = section.slice(space + 1);
  if (RECORD_KINDS.includes(kind)) return { kind: kind as RecordKind, name: rest };
  if (!ACCOUNT_KINDS.includes(kind)) return undefined;
  const [profile = "", region = ""] = rest.split(" ");
  return { kind: kind as AccountKind, profile, region };
}

/**
 * The ids of the runs a `[knot <name>]` record lists, oldest first: its
 * `runs` key, ids separated by spaces. Its one writer is the AWS knots'
 * catalogue (`targets/aws/catalog.ts`); `prune` reads it too.
 *
 * @example Usage
 * ```ts
 * import { knotRunIds } from "./sections.ts";
 *
 * console.log(knotRunIds(new Map([["runs", "r-1 r-2"]]))); // ["r-1", "r-2"]
 * ```
 *
 * @param keys The knot record's keys.
 * @returns The run ids.
 */
export function knotRunIds(keys: ReadonlyMap<string, string>): string[] {
  return (keys.get("runs") ?? "").split(/\s+/).filter((id) => id !== "");
}
