/**
 * Checks of the names Docker and ECR accept: image names, image tags, ECR
 * repository names and ECR resource tags. Every check runs before any call,
 * so a bad name never reaches Docker or AWS.
 *
 * @module
 */
import { CloudknotInputError } from "../util/errors.ts";
import { describeValue } from "../util/validate.ts";

/** An image tag, as Docker and ECR accept it. */
export const IMAGE_TAG_PATTERN: RegExp = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** An ECR repository name (2 to 256 characters). */
export const REPOSITORY_NAME_PATTERN: RegExp =
  /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/** One path component of a Docker image name: the name of a {@linkcode DockerImage}. */
export const IMAGE_NAME_PATTERN: RegExp = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/** The longest image name: `cloudknot/<name>` must fit in an ECR repository name. */
const IMAGE_NAME_MAX = 128;

/**
 * Checks an image tag: letters, digits, `_`, `.` and `-`, starting with a
 * letter, digit or `_`, at most 128 characters, and not `latest`, which
 * moves with every build (the original cloudknot refuses it too).
 *
 * @example Usage
 * ```ts
 * import { validateImageTag } from "@cloudknot/cloudknot/image";
 *
 * console.log(validateImageTag("v1.2")); // "v1.2"
 * ```
 *
 * @param tag The tag.
 * @param field The option that holds it, for the error. @default {"tags"}
 * @returns The tag, when it is valid.
 */
export function validateImageTag(tag: unknown, field = "tags"): string {
  if (typeof tag !== "string") {
    throw new CloudknotInputError(`An image tag must be a string, not ${typeof tag}`, { field });
  }
  if (tag === "latest") {
    throw new CloudknotInputError(
      'The tag "latest" is refused: it moves with every build, so nobody could tell which ' +
        'image a job ran; pass a tag that names this build, such as "v1" or a date',
      { field },
    );
  }
  if (!IMAGE_TAG_PATTERN.test(tag)) {
    throw new CloudknotInputError(
      `Invalid image tag "${tag}": use 1 to 128 letters, digits, "_", "." and "-", ` +
        `starting with a letter, digit or "_"`,
      { field },
    );
  }
  return tag;
}

/**
 * Checks one tag or a list of tags with {@linkcode validateImageTag}, and
 * drops duplicates.
 *
 * @example Usage
 * ```ts
 * import { validateImageTags } from "@cloudknot/cloudknot/image";
 *
 * console.log(validateImageTags(["v1", "v1", "stable"])); // [ "v1", "stable" ]
 * ```
 *
 * @param tags A tag or a list of tags.
 * @param field The option that holds them, for the error. @default {"tags"}
 * @returns The tags, in order, without duplicates.
 */
export function validateImageTags(tags: unknown, field = "tags"): string[] {
  const list = typeof tags === "string" ? [tags] : tags;
  if (!Array.isArray(list) || list.length === 0) {
    throw new CloudknotInputError(
      `Pass ${field} as a tag or a non-empty array of tags, such as { ${field}: ["v1"] }`,
      { field },
    );
  }
  return [...new Set(list.map((tag) => validateImageTag(tag, field)))];
}

/**
 * Checks an ECR repository name: 2 to 256 characters, lowercase letters and
 * digits, with `.`, `_` or `-` between them, and `/` between path parts.
 *
 * @example Usage
 * ```ts
 * import { validateRepositoryName } from "@cloudknot/cloudknot/image";
 *
 * console.log(validateRepositoryName("team/cloudknot")); // "team/cloudknot"
 * ```
 *
 * @param name The repository name.
 * @param field The option that holds it, for the error. @default {"name"}
 * @returns The name, when it is valid.
 */
export function validateRepositoryName(name: unknown, field = "name"): string {
  if (typeof name !== "string" || name === "") {
    throw new CloudknotInputError(
      `A repository needs a name: pass ${field} as a non-empty string`,
      { field },
    );
  }
  if (name.length < 2 || name.length > 256 || !REPOSITORY_NAME_PATTERN.test(name)) {
    throw new CloudknotInputError(
      `Invalid ECR repository name "${name}": use 2 to 256 characters, lowercase letters and ` +
        `digits separated by single ".", "_" or "-", and "/" between path parts`,
      { field },
    );
  }
  return name;
}

/**
 * Checks the name of a {@linkcode DockerImage}: lowercase letters and digits
 * with `.`, `_`, `__` or dashes between them, at most 128 characters. The
 * local image is `cloudknot/<name>`.
 *
 * @example Usage
 * ```ts
 * import { validateImageName } from "@cloudknot/cloudknot/image";
 *
 * console.log(validateImageName("square-root")); // "square-root"
 * ```
 *
 * @param name The name.
 * @returns The name, when it is valid.
 */
export function validateImageName(name: unknown): string {
  if (typeof name !== "string" || name === "") {
    throw new CloudknotInputError("An image needs a name: pass name as a non-empty string", {
      field: "name",
    });
  }
  if (!IMAGE_NAME_PATTERN.test(name) || name.length > IMAGE_NAME_MAX) {
    const suggestion = imageNameFrom(name);
    throw new CloudknotInputError(
      `Invalid image name "${name}": use at most ${IMAGE_NAME_MAX} lowercase letters and digits, ` +
        `with ".", "_" or "-" between them` +
        (suggestion && suggestion !== name ? ` (such as "${suggestion.slice(0, 128)}")` : ""),
      { field: "name" },
    );
  }
  return name;
}

/**
 * Turns a function's name into an image name: `squareRoot` and
 * `square_root` become `square-root`.
 *
 * @example Usage
 * ```ts
 * import { imageNameFrom } from "@cloudknot/cloudknot/image";
 *
 * console.log(imageNameFrom("fitHTTPModel")); // "fit-http-model"
 * ```
 *
 * @param functionName The function's name.
 * @returns The kebab-cased name; empty when nothing usable is left.
 */
export function imageNameFrom(functionName: string): string {
  return functionName
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1-$2")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/**
 * Checks AWS resource tags as ECR takes them: at most 50, keys of 1 to 128
 * and values of at most 256 letters, digits, spaces and `_ . : / = + - @`,
 * and no key starting with `aws:`.
 *
 * @example Usage
 * ```ts
 * import { validateResourceTags } from "@cloudknot/cloudknot/image";
 *
 * console.log(validateResourceTags({ Team: "imaging" })); // [ { Key: "Team", Value: "imaging" } ]
 * ```
 *
 * @param tags The tags, as keys and values.
 * @returns The tags as ECR's `{ Key, Value }` list.
 */
export function validateResourceTags(tags: unknown): { Key: string; Value: string }[] {
  const proto = tags !== null && typeof tags === "object" ? Object.getPrototypeOf(tags) : undefined;
  // A Map (or another class) has no own keys to read: its tags would be dropped silently.
  if (proto !== Object.prototype && proto !== null) {
    throw new CloudknotInputError(
      'Pass tags as an object of keys and values, such as { Team: "imaging" }, not ' +
        describeValue(tags),
      { field: "tags" },
    );
  }
  const entries = Object.entries(tags as Record<string, unknown>);
  if (entries.length > 50) {
    throw new CloudknotInputError(
      `Too many tags (${entries.length}): pass at most 50, as AWS allows 50 per resource`,
      { field: "tags" },
    );
  }
  const allowed = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
  return entries.map(([Key, Value]) => {
    if (Key.length < 1 || Key.length > 128 || !allowed.test(Key) || /^aws:/i.test(Key)) {
      throw new CloudknotInputError(
        `Invalid tag key "${Key}": use 1 to 128 letters, digits, spaces and _ . : / = + - @, ` +
          `not starting with "aws:"`,
        { field: "tags" },
      );
    }
    if (typeof Value !== "string" || Value.length > 256 || !allowed.test(Value)) {
      throw new CloudknotInputError(
        `Invalid value for tag "${Key}": use a string of at most 256 letters, digits, spaces and ` +
          `_ . : / = + - @`,
        { field: "tags" },
      );
    }
    return { Key, Value };
  });
}
