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
