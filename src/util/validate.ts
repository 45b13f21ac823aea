/**
 * Checks of what users pass: names they choose (with the original
 * cloudknot's rules), options objects and the type of each option. Each
 * check throws a {@linkcode CloudknotInputError} naming the option.
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
 * @param options `what` names the kind of resource; `max` is the longest allowed;
 *   `field` is the option that holds the name (default `"name"`).
 * @returns The name, when it is valid.
 */
export function validateName(
  name: unknown,
  options: { what: string; max: number; field?: string },
): string {
  const { what, max, field = "name" } = options;
  if (typeof name !== "string" || name === "") {
    throw new CloudknotInputError(`A ${what} needs a name: pass ${field} as a non-empty string`, {
      field,
    });
  }
  if (!NAME_PATTERN.test(name)) {
    throw new CloudknotInputError(
      `Invalid ${what} name "${name}": use a letter, then only letters, digits and hyphens (no underscores, dots or spaces)`,
      { field },
    );
  }
  if (name.length > max) {
    throw new CloudknotInputError(
      `Invalid ${what} name "${name}": it has ${name.length} characters and the limit is ${max}`,
      { field },
    );
  }
  return name;
}

/**
 * The edit distance between two words (Levenshtein), for "did you mean".
 *
 * @example Usage
 * ```ts
 * import { editDistance } from "@cloudknot/cloudknot/resources";
 *
 * console.log(editDistance("maxVcpu", "maxVcpus")); // 1
 * ```
 *
 * @param a A word.
 * @param b Another word.
 * @returns The number of single-character edits between them.
 */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The candidate closest to a word, when one is within two edits (ignoring
 * case), or else the one candidate that starts with it (`export` for
 * `exportName`).
 *
 * @example Usage
 * ```ts
 * import { closestWord } from "@cloudknot/cloudknot/resources";
 *
 * console.log(closestWord("memroy", ["memory", "vcpus"])); // "memory"
 * ```
 *
 * @param word The word.
 * @param candidates The words it may have meant.
 * @returns The closest candidate, or `undefined`.
 */
export function closestWord(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  if (best !== undefined || word.length < 3) return best;
  const longer = candidates.filter((c) => c.toLowerCase().startsWith(word.toLowerCase()));
  return longer.length === 1 ? longer[0] : undefined;
}

/** The options of another call, which a key given to the wrong call may belong to. */
export interface OptionsElsewhere {
  /** The call, for the message, such as `"map()"`. */
  where: string;
  /** Its keys. */
  keys: Readonly<Record<string, true>>;
  /** How to give one of them there, such as `for one run: knot.map(inputs, { env })`. */
  how: (key: string) => string;
}

/**
 * Checks that options are an object whose keys are all known, so a typo such
 * as `maxVcpu` is an error instead of an option silently ignored. List the
 * keys as a `Record<keyof Options, true>`, so the compiler keeps the list
 * complete. A key that belongs to another call (`elsewhere`, such as
 * `itemsPerJob` given to `Knot.create()` rather than `map()`) is named with
 * that call and how to give it there.
 *
 * @example Usage
 * ```ts
 * import { validateOptionKeys } from "@cloudknot/cloudknot/resources";
 *
 * validateOptionKeys({ name: "k" }, { name: true, memory: true }, "Knot.create()");
 * ```
 *
 * @param options What was passed.
 * @param known The known keys.
 * @param where The call, for the message, such as `"Knot.create()"`.
 * @param elsewhere The options of another call a key may belong to.
 * @returns The options.
 */
export function validateOptionKeys<T extends object>(
  options: T | undefined,
  known: Readonly<Record<string, true>>,
  where: string,
  elsewhere?: OptionsElsewhere,
): T {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new CloudknotInputError(
      `${where} takes an options object, not ${describeValue(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(known, key)) continue;
    const there = elsewhere && Object.hasOwn(elsewhere.keys, key) ? key : undefined;
    const near = there === undefined ? closestWord(key, Object.keys(known)) : undefined;
    const nearThere = there ??
      (elsewhere && near === undefined ? closestWord(key, Object.keys(elsewhere.keys)) : undefined);
    throw new CloudknotInputError(
      `${where} has no option "${key}"` +
        (nearThere !== undefined
          ? `: ${nearThere} is an option of ${elsewhere!.where}, ${elsewhere!.how(nearThere)}`
          : near !== undefined
          ? `: did you mean "${near}"?`
          : `; its options are ${Object.keys(known).join(", ")}`),
      { field: key },
    );
  }
  return options;
}

/** The kinds {@linkcode validateOptionType} checks. */
export type OptionKind = "string" | "boolean" | "function" | "object" | "string[]";

/**
 * A kind of object {@linkcode validateOptionType} recognises by a test of its
 * own, for a class whose module a check should not load (`AWS_SESSION_KIND`).
 */
export interface OptionTest {
  /** The name of what passes, for the message. */
  readonly name: string;
  /** Whether a value is one. */
  readonly is: (value: unknown) => boolean;
}

/**
 * Checks the type of one option, when it is given: a non-empty string, a
 * boolean, a function, a plain object, an array of strings, an instance
 * of a class, or what an {@linkcode OptionTest} accepts.
 *
 * @example Usage
 * ```ts
 * import { validateOptionType } from "@cloudknot/cloudknot/resources";
 *
 * validateOptionType({ dir: "/tmp" }, "dir", "string");
 * ```
 *
 * @param options The options.
 * @param field The option's name.
 * @param kind What it must be, a class it must be an instance of, or a test it must pass.
 * @param what How the message names a class's instances, such as `"an AwsSession"`.
 */
export function validateOptionType(
  options: object,
  field: string,
  kind: OptionKind | { readonly prototype: unknown; readonly name: string } | OptionTest,
  what?: string,
): void {
  const value = (options as Record<string, unknown>)[field];
  if (value === undefined) return;
  let ok: boolean;
  let wanted: string;
  if (typeof kind !== "string") {
    // A class, whose constructor may be private: compare prototypes.
    ok = "is" in kind ? kind.is(value) : value !== null && typeof value === "object" &&
      Object.prototype.isPrototypeOf.call(kind.prototype, value);
    wanted = what ?? `a ${kind.name}`;
  } else {
    switch (kind) {
      case "string":
        ok = typeof value === "string" && value.trim() !== "";
        wanted = "a non-empty string";
        break;
      case "boolean":
        ok = typeof value === "boolean";
        wanted = "true or false";
        break;
      case "function":
        ok = typeof value === "function";
        wanted = "a function";
        break;
      case "object":
        ok = value !== null && typeof value === "object" && !Array.isArray(value);
        wanted = "an object";
        break;
      case "string[]":
        ok = Array.isArray(value) && value.every((v) => typeof v === "string");
        wanted = "an array of strings";
        break;
    }
  }
  if (!ok) {
    throw new CloudknotInputError(`${field} must be ${wanted}, not ${describeValue(value)}`, {
      field,
    });
  }
}

/**
 * Describes a value for a message: its type, and the value itself when it
 * is short.
 *
 * @example Usage
 * ```ts
 * import { describeValue } from "@cloudknot/cloudknot/resources";
 *
 * console.log(describeValue(42)); // "the number 42"
 * ```
 *
 * @param value The value.
 * @returns A few words.
 */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") {
    return value.length <= 40 ? `the string ${JSON.stringify(value)}` : "a long string";
  }
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return `the ${typeof value} ${String(value)}`;
  }
  if (typeof value === "function") return "a function";
  const name = (value as object).constructor?.name;
  return name && name !== "Object" ? `a ${name}` : "an object";
}
