/**
 * Running a deno subcommand and reading what it wrote.
 *
 * @module
 */

/** How a deno subcommand ended and what it wrote. */
export interface DenoOutput {
  /** The exit code. */
  code: number;
  /** Its standard output, decoded. */
  stdout: string;
  /** Its standard error, decoded. */
  stderr: string;
}

/**
 * Runs a deno subcommand (colours off, no stdin) and waits for it to end.
 *
 * @example Usage
 * ```ts
 * import { runDeno } from "./run_deno.ts";
 * import assert from "node:assert/strict";
 *
 * const out = await runDeno(Deno.execPath(), ["--version"], {
 *   cwd: Deno.cwd(),
 *   cannotRun: (cause) => new Error("no deno", { cause }),
 * });
 * assert.equal(out.code, 0);
 * ```
 *
 * @param deno The deno binary.
 * @param args The subcommand and its arguments.
 * @param options `cwd`, more environment variables (`env`), and `cannotRun`,
 *   the error to throw when the binary cannot be started.
 * @returns Its exit code and output.
 */
export async function runDeno(
  deno: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; cannotRun: (cause: unknown) => Error },
): Promise<DenoOutput> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(deno, {
      args,
      cwd: options.cwd,
      env: { ...options.env, NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (cause) {
    throw options.cannotRun(cause);
  }
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}

/**
 * The last 15 lines of a command's output, enough to say why it failed.
 *
 * @example Usage
 * ```ts
 * import { lastLines } from "./run_deno.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(lastLines("a\nb\n"), "a\nb");
 * ```
 *
 * @param text The output.
 * @returns Its last 15 lines, trimmed.
 */
export function lastLines(text: string): string {
  return text.trim().split("\n").slice(-15).join("\n");
}
