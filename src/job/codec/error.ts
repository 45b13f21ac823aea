/**
 * The error the job codec throws, and the path notation it uses to say where
 * inside a value the problem is.
 *
 * @module
 */

import { CloudknotError } from "../../util/errors.ts";

/**
 * One step into a Map or a Set while walking a value: the `entry`-th entry
 * (counting from 0 in insertion order), and for a Map whether the problem is
 * in its key or its value.
 *
 * @example Usage
 * ```ts
 * import type { CollectionPathSegment } from "@cloudknot/cloudknot/codec";
 *
 * const step: CollectionPathSegment = { collection: "Map", part: "value", entry: 2 };
 * console.log(step.entry); // 2
 * ```
 */
export interface CollectionPathSegment {
  /** Which kind of collection the step goes into. */
  readonly collection: "Map" | "Set";
  /** For a Map, whether the step goes into the entry's key or its value; always `"value"` for a Set. */
  readonly part: "key" | "value";
  /** The position of the entry in insertion order, from 0. */
  readonly entry: number;
}

/**
 * One step of a {@linkcode CodecError.path}: a property name, an array index,
 * or an entry of a Map or Set.
 *
 * @example Usage
 * ```ts
 * import type { PathSegment } from "@cloudknot/cloudknot/codec";
 *
 * const path: PathSegment[] = ["a", 3, { collection: "Set", part: "value", entry: 0 }];
 * console.log(path.length); // 3
 * ```
 */
export type PathSegment = string | number | CollectionPathSegment;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Options for {@linkcode formatPath}. */
export interface FormatPathOptions {
  /**
   * Show at most this many steps: the first and last halves, with the number
   * left out in between.
   *
   * @default {Infinity}
   */
  maxSteps?: number;
}

/**
 * Renders a path inside a value the way error messages show it: `$` is the
 * value itself, `.name` or `["odd key"]` a property, `[3]` an array index,
 * `<map key 2>` / `<map value 2>` the key or value of a Map's third entry and
 * `<set item 2>` a Set's third item.
 *
 * @example Usage
 * ```ts
 * import { formatPath } from "@cloudknot/cloudknot/codec";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(formatPath(["a", 3, "b"]), "$.a[3].b");
 * assert.deepEqual(formatPath(["m", { collection: "Map", part: "key", entry: 2 }]), "$.m<map key 2>");
 * assert.deepEqual(formatPath(["odd key"]), '$["odd key"]');
 * assert.deepEqual(formatPath([0, 1, 2, 3, 4, 5], { maxSteps: 4 }), "$[0][1]…(2 more)…[4][5]");
 * ```
 *
 * @param path The steps from the value's root.
 * @param options How many steps to show at most.
 * @returns The path as text, starting with `$`.
 */
export function formatPath(path: readonly PathSegment[], options?: FormatPathOptions): string {
  const max = options?.maxSteps ?? Infinity;
  if (path.length > max) {
    const head = Math.ceil(max / 2);
    const tail = Math.floor(max / 2);
    return formatPath(path.slice(0, head)) + `…(${path.length - head - tail} more)…` +
      formatPath(path.slice(path.length - tail)).slice(1);
  }
  let out = "$";
  for (const step of path) {
    if (typeof step === "number") out += `[${step}]`;
    else if (typeof step === "string") {
      out += IDENTIFIER.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`;
    } else if (step.collection === "Map") out += `<map ${step.part} ${step.entry}>`;
    else out += `<set item ${step.entry}>`;
  }
  return out;
}

/** Options for {@linkcode CodecError}. */
export interface CodecErrorOptions extends ErrorOptions {
  /**
   * Whether the value was being encoded or decoded.
   *
   * @default {"encode"}
   */
  operation?: "encode" | "decode";
  /**
   * Where inside the value the problem is.
   *
   * @default {[]}
   */
  path?: readonly PathSegment[];
  /** What kind of value could not be carried, such as `"function"` or `"class Point"`. */
  kind?: string;
  /** For a list of map() inputs: the index of the bad item. */
  index?: number;
  /** When several items were checked: the error of every bad item, in input order. */
  failures?: readonly CodecError[];
}

/**
 * A value cannot be carried to or from the worker faithfully (a function, a
 * symbol, a class instance, …), or encoded data cannot be read back. The
 * message names the place inside the value, the kind of value and what to do.
 *
 * @example Usage
 * ```ts
 * import { CodecError, encode } from "@cloudknot/cloudknot/codec";
 * import assert from "node:assert/strict";
 *
 * try {
 *   encode({ cb: () => 1 });
 * } catch (e) {
 *   assert.ok(e instanceof CodecError);
 *   assert.deepEqual(e.pathText, "$.cb");
 *   assert.deepEqual(e.kind, "function");
 * }
 * ```
 */
export class CodecError extends CloudknotError {
  /** Whether the value was being encoded or decoded. */
  readonly operation: "encode" | "decode";
  /** Where inside the value the problem is (empty for the value itself). */
  readonly path: readonly PathSegment[];
  /** What kind of value could not be carried, when the problem is one value. */
  readonly kind?: string;
  /** For a list of map() inputs: the index of the (first) bad item. */
  readonly index?: number;
  /** When several items were checked: the error of every bad item, in input order. */
  readonly failures?: readonly CodecError[];

  /**
   * Makes a codec error.
   *
   * @param message What cannot be carried, where, and what to do instead.
   * @param options Where the problem is and what kind of value it concerns.
   */
  constructor(message: string, options: CodecErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.operation = options.operation ?? "encode";
    this.path = options.path ?? [];
    if (options.kind !== undefined) this.kind = options.kind;
    if (options.index !== undefined) this.index = options.index;
    if (options.failures !== undefined) this.failures = options.failures;
  }

  /** The path rendered as text, such as `$.a[3].b`. */
  get pathText(): string {
    return formatPath(this.path);
  }
}
