/**
 * Ctrl-C in a command that changes AWS step by step (`knot create`,
 * `knot clobber`, `pars create`, `pars clobber`, `gc --yes`): it stops there,
 * as it would without this, but first says what the user can run to finish
 * what it began, instead of ending with no word.
 *
 * @module
 */
import type { CommandContext } from "./command.ts";
import { INTERRUPTED } from "./follow_run.ts";

/**
 * Runs a command's work; a SIGINT meanwhile ends it at once with
 * {@linkcode INTERRUPTED}, after `interrupted: <advice>` on stderr. The
 * work is left where it was, as the signal alone would leave it (the caller
 * exits the process with that code).
 *
 * @example Usage
 * ```ts ignore
 * return await untilInterrupted(ctx, () => clobber(ctx), `run cloudknot pars clobber lab again`);
 * ```
 *
 * @param ctx The running command.
 * @param work The command's work, resolving to its exit code.
 * @param advice What to run to finish it, in the command line's words.
 * @returns The work's exit code, or 130 once interrupted.
 */
export async function untilInterrupted(
  ctx: CommandContext,
  work: () => Promise<number>,
  advice: string,
): Promise<number> {
  const { promise: interrupted, resolve } = Promise.withResolvers<number>();
  const onInterrupt = () => {
    ctx.log(ctx.err("red", `interrupted: ${advice}`)).then(
      () => resolve(INTERRUPTED),
      () => resolve(INTERRUPTED),
    );
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    return await Promise.race([work(), interrupted]);
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}
