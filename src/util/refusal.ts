/**
 * Deno's refusal of a permission (`NotCapable`), read apart and worded again
 * with cloudknot's advice: the calling program's (`process_permission.ts`)
 * and an item's (`job/permissions.ts`).
 *
 * @module
 */

/** Deno's refusal of a permission, read apart. */
export interface Refusal {
  /** The refused error. */
  error: Error;
  /** What was refused: `Requires read access to "/x"`. */
  what: string;
  /** What it names (`/x`). */
  target: string;
  /** The kind of the flag Deno names (`read` for `--allow-read`, `all` for `--allow-all`). */
  kind: string;
}

/**
 * Reads Deno's `NotCapable` refusal apart: what it refused and the flag it
 * names. Any other error, or one worded otherwise, gives `undefined`.
 *
 * @example Usage
 * ```ts
 * import { readRefusal } from "./refusal.ts";
 *
 * const r = readRefusal(new Deno.errors.NotCapable('Requires read access to "/x", run again with the --allow-read flag'));
 * console.log(r?.kind, r?.target); // "read" "/x"
 * ```
 *
 * @param error What was thrown.
 * @returns Its parts, when it is such a refusal.
 */
export function readRefusal(error: unknown): Refusal | undefined {
  if (!(error instanceof Deno.errors.NotCapable)) return undefined;
  const match = /^(Requires \w+ access to "([^"]*)")/.exec(error.message);
  const kind = /--allow-([a-z-]+)/.exec(error.message)?.[1];
  if (match === null || kind === undefined) return undefined;
  return { error, what: match[1]!, target: match[2]!, kind };
}

/** How many errors {@linkcode refusalWithin} looks at, at most: a cause chain can be endless. */
const MAX_WRAPPED = 32;

/**
 * Deno's refusal of a permission (`NotCapable`) that an error is or wraps:
 * the error itself, its `cause`, their causes, and the `errors` of an
 * `AggregateError` among them, nearest first, at most 32 errors looked at
 * (a chain of causes may loop). `undefined` when none is one.
 *
 * @example Usage
 * ```ts
 * import { refusalWithin } from "./refusal.ts";
 *
 * const denied = new Deno.errors.NotCapable('Requires read access to "/x", run again with the --allow-read flag');
 * const wrapped = new Error("could not load the settings", { cause: denied });
 * console.log(refusalWithin(wrapped) === denied); // true
 * console.log(refusalWithin(new AggregateError([new Error("no"), wrapped])) === denied); // true
 * ```
 *
 * @param error What was thrown.
 * @returns The refusal it is or wraps.
 */
export function refusalWithin(error: unknown): Deno.errors.NotCapable | undefined {
  const queue: unknown[] = [error];
  const seen = new Set<unknown>();
  while (queue.length > 0 && seen.size < MAX_WRAPPED) {
    const next = queue.shift();
    if (typeof next !== "object" || next === null || seen.has(next)) continue;
    seen.add(next);
    if (next instanceof Deno.errors.NotCapable) return next;
    // A getter of the user's may throw: what cannot be read wraps nothing.
    try {
      if (next instanceof AggregateError && Array.isArray(next.errors)) queue.push(...next.errors);
      if ("cause" in next) queue.push(next.cause);
    } catch {
      // Nothing more to look at here.
    }
  }
  return undefined;
}

/**
 * A `NotCapable` with a message of cloudknot's and the refused error's stack
 * frames, so that it still points where the permission was asked for.
 *
 * @example Usage
 * ```ts
 * import { readRefusal, reworded } from "./refusal.ts";
 *
 * const r = readRefusal(new Deno.errors.NotCapable('Requires env access to "X", run again with the --allow-env flag'))!;
 * console.log(reworded(r, `${r.what}: grant it`).message); // Requires env access to "X": grant it
 * ```
 *
 * @param refusal The refusal.
 * @param message The new message.
 * @param options `cause: true` keeps the refused error as the new one's cause.
 * @returns The new error.
 */
export function reworded(
  refusal: Refusal,
  message: string,
  options: { cause?: boolean } = {},
): Error {
  const explained = new Deno.errors.NotCapable(
    message,
    options.cause ? { cause: refusal.error } : undefined,
  );
  explained.stack = `NotCapable: ${message}\n${
    (refusal.error.stack ?? "").split("\n").slice(1).join("\n")
  }`;
  return explained;
}
