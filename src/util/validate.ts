/**
 * Checks of names the user chooses, with the original cloudknot's rules.
 *
 * @module
 */
import { CloudknotInputError } from "./errors.ts";

/** The pattern every knot and Pars name must match. */
export const NAME_PATTERN: RegExp = /^[a-zA-Z][-a-zA-Z0-9]*$/;

/**
 * Checks a knot name: a letter, then letters, digits and hyphens, at most 55
 * characters (the longest that leaves room for the AWS resource names made
 * from it).
 *
 * @example Usage
 * ```ts
 * import { validateKnotName } from "@cloudknot/cloudknot/resources";
 *
 * console.log(validateKnotName("my-knot")); // "my-knot"
 * ```
 *
 * @param name The name.
 * @returns The name, when it is valid.
 */
export function validateKnotName(name: unknown): string {
  return validateName(name, { what: "knot", max: 55 });
}

/**
 * Checks a resource name against {@linkcode NAME_PATTERN} and a length limit.
 *
 * @example Usage
 * ```ts
 * import { validateName } from "@cloudknot/cloudknot/resources";
 *
 * console.log(validateName("pars-1", { what: "Pars", max: 45 })); // "pars-1"
 * ```
 *
 * @param name The name.
 * @param options `what` names the kind of resource; `max` is the longest allowed.
 * @returns The name, when it is valid.
 */
export function validateName(name: unknown, options: { what: string; max: number }): string {
  const { what, max } = options;
  if (typeof name !== "string" || name === "") {
    throw new CloudknotInputError(`A ${what} needs a name: pass name as a non-empty string`, {
      field: "name",
    });
  }
  if (!NAME_PATTERN.test(name)) {
    throw new CloudknotInputError(
      `Invalid ${what} name "${name}": use a letter, then only letters, digits and hyphens (no underscores, dots or spaces)`,
      { field: "name" },
    );
  }
  if (name.length > max) {
    throw new CloudknotInputError(
      `Invalid ${what} name "${name}": it has ${name.length} characters and the limit is ${max}`,
      { field: "name" },
    );
  }
  return name;
}
