/**
 * Running a deno subcommand and reading what it wrote.
 *
 * @module
 */
import { type CommandLimit, CommandTimeoutError, outputWithin } from "./command_limit.ts";

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
 * Runs a deno subcommand (colours off, no stdin) and waits for it to end,
 * killing it past its time limit.
 *
 * @example Usage
 * ```ts
 * import { runDeno } from "./run_deno.ts";
 * import assert from "node:assert/strict";
 *
 * const out = await runDeno(Deno.execPath(), ["--version"], {
 *   cwd: Deno.cwd(),
 *   limit: { command: "deno --version", timeoutMs: 60_000, raise: "wait longer" },
 *   cannotRun: (cause) => new Error("no deno", { cause }),
 * });
 * assert.equal(out.code, 0);
 * ```
 *
 * @param deno The deno binary.
 * @param args The subcommand and its arguments.
 * @param options `cwd`, more environment variables (`env`), the time limit,
 *   and `cannotRun`, the error to throw when the binary cannot be started.
 * @returns Its exit code and output.
 * @throws {CommandTimeoutError} When it ran past its limit.
 */
export async function runDeno(
  deno: string,
  args: string[],
  options: {
    cwd: string;
    env?: Record<string, string>;
    limit: CommandLimit;
    cannotRun: (cause: unknown) => Error;
  },
): Promise<DenoOutput> {
  let output: Deno.CommandOutput;
  try {
    output = await outputWithin(deno, {
      args,
      cwd: options.cwd,
      env: { ...options.env, NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }, options.limit);
  } catch (cause) {
    if (cause instanceof CommandTimeoutError) throw cause;
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
