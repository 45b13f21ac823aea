/**
 * A permission the calling program lacks, explained: cloudknot runs in the
 * user's process, so a program started without `-A` meets Deno's refusals one
 * flag at a time (`--allow-env`, then `--allow-read`, …) from inside the
 * library. The explanation says to run the program with `-A`, the easy path.
 *
 * @module
 */
import { readRefusal, reworded } from "./refusal.ts";

/**
 * Adds to a `NotCapable` error of the calling process that cloudknot needs
 * the program's own permissions, and how to grant them. Other errors come
 * back unchanged.
 *
 * @example Usage
 * ```ts
 * import { explainProcessPermission } from "./process_permission.ts";
 *
 * const denied = new Deno.errors.NotCapable(
 *   'Requires env access to "CLOUDKNOT_LOCAL_DIR", run again with the --allow-env flag',
 * );
 * console.log((explainProcessPermission(denied, "Knot.create()") as Error).message);
 * // Requires env access to "CLOUDKNOT_LOCAL_DIR", which Knot.create() needs in your program's process: …
 * ```
 *
 * @param error What the call threw.
 * @param call The call, for the message (`Knot.create()`).
 * @returns The error, explained when it is a permission error of this process.
 */
export function explainProcessPermission(error: unknown, call: string): unknown {
  const refusal = readRefusal(error);
  if (refusal === undefined) return error;
  return reworded(
    refusal,
    `${refusal.what}, which ${call} needs in your program's process: run the program with ` +
      "deno run -A (all permissions), since cloudknot reads its settings from the " +
      "environment, keeps knots and runs in files and starts deno and docker processes; or add " +
      `--allow-${refusal.kind} and the other flags its docs list for narrower permissions (a ` +
      "function's own permissions are the knot's permissions option, not these)",
    { cause: true },
  );
}
