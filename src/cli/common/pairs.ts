/**
 * Options given as `NAME=VALUE`, repeatable: `--env`, `--tag`.
 *
 * @module
 */
import type { CommandContext } from "./command.ts";

/**
 * Reads every `NAME=VALUE` of a repeatable option into an object (a later
 * name wins).
 *
 * @example Usage
 * ```ts ignore
 * const tags = pairs(ctx, "tag"); // --tag Team=imaging --tag Cost=lab → { Team: "imaging", Cost: "lab" }
 * ```
 *
 * @param ctx The running command.
 * @param option The option's long name.
 * @returns The pairs.
 * @throws {UsageError} When a value has no `=` or an empty name.
 */
export function pairs(ctx: CommandContext, option: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of ctx.strings(option)) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw ctx.usage(`--${option} takes NAME=VALUE, not "${pair}"`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}
