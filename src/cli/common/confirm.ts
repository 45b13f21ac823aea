/**
 * What the clobber commands share: asking the user a yes-or-no question on
 * the terminal, and forgetting what is already gone.
 *
 * @module
 */
import { ResourceDoesNotExistError } from "../../resources/errors.ts";
import { TextLineStream } from "../../util/text_line_stream.ts";
import type { CommandContext, OptionSpec } from "./command.ts";
import type { CliIo } from "./io.ts";

/** `--yes`: delete without asking (what {@linkcode confirmDeletion} reads). */
export const YES_OPTION: Record<string, OptionSpec> = {
  yes: { type: "boolean", short: "y", description: "Do not ask: delete it" },
};

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

/**
 * Opens what a clobber command deletes. When its AWS resources are already
 * (partly) gone and opening it has removed its record
 * (`ResourceDoesNotExistError`), that is said, with `cloudknot gc` to find
 * what is left, and the answer is `undefined`. (A knot whose queue or compute
 * environment is gone opens, and its clobber deletes what is left; a Pars
 * partly gone is clobbered from its record, `Pars.clobber({ name })`.)
 *
 * @example Usage
 * ```ts ignore
 * const knot = await openOrForget(ctx, `knot ${name}`, () => Knot.create({ name }));
 * if (knot === undefined) return 0;
 * ```
 *
 * @param ctx The running command.
 * @param what What it is, such as `knot squares` or `Pars lab`.
 * @param open Opens it.
 * @returns What `open` answers, or `undefined` when it was gone.
 */
export async function openOrForget<T>(
  ctx: CommandContext,
  what: string,
  open: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await open();
  } catch (e) {
    if (!(e instanceof ResourceDoesNotExistError)) throw e;
    await ctx.log(
      `${what[0]!.toUpperCase()}${what.slice(1)} was already partly gone ` +
        `(${e.missing.join(", ")}); its record is removed. Run \`cloudknot gc\` to find what is ` +
        "left of it",
    );
    await ctx.print(`Forgot ${what}`);
    return undefined;
  }
}
