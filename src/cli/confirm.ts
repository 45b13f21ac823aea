/**
 * Asking the user a yes-or-no question on the terminal.
 *
 * @module
 */
import { TextLineStream } from "../util/text_line_stream.ts";
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
