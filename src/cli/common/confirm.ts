/**
 * Asking the user a yes-or-no question on the terminal.
 *
 * @module
 */
import { TextLineStream } from "../../util/text_line_stream.ts";
import type { CommandContext } from "./command.ts";
import type { CliIo } from "./io.ts";

/**
 * Asks a question on stderr and reads one line of stdin: `y` or `yes` (in any
 * case) is yes; anything else, or the end of the input, is no.
 *
 * @example Usage
 * ```ts ignore
 * if (await confirm(io, "Clobber knot squares?")) await knot.clobber();
 * ```
 *
 * @param io The command line's io.
 * @param question The question, without the `[y/N]`.
 * @returns Whether the answer was yes.
 */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
  await io.stderr.write(`${question} [y/N] `);
  const reader = io.stdin.readable()
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new TextLineStream())
    .getReader();
  try {
    const { value } = await reader.read();
    return /^\s*y(es)?\s*$/i.test(value ?? "");
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/**
 * The rule every command that deletes follows: with `--yes` it goes ahead;
 * on a terminal it asks; anywhere else (a script, CI) it is bad usage.
 *
 * @example Usage
 * ```ts ignore
 * if (!await confirmDeletion(ctx, "knot squares and its 3 runs")) return 1;
 * ```
 *
 * @param ctx The running command, with a `yes` flag.
 * @param what What would be deleted, such as `knot squares and its 3 runs`.
 * @returns Whether to delete; when the answer is no, "Nothing was deleted" is on stderr.
 * @throws {UsageError} Without `--yes` when stdin is not a terminal.
 */
export async function confirmDeletion(ctx: CommandContext, what: string): Promise<boolean> {
  if (ctx.flag("yes")) return true;
  if (!ctx.io.stdin.isTerminal()) {
    throw ctx.usage(`Clobbering deletes ${what}: pass --yes to confirm (stdin is not a terminal)`);
  }
  if (await confirm(ctx.io, `Delete ${what}?`)) return true;
  await ctx.log("Nothing was deleted");
  return false;
}
