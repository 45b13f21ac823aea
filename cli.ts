/**
 * The cloudknot command line: `deno run -A cli.ts <command> [options]`.
 *
 * It runs a module's exported function over inputs (`map`), collects a run's
 * results later from any process (`results`), shows a run's jobs and logs
 * (`jobs`, `logs`) and manages knots (`knot create|list|show|clobber`).
 * `deno run -A cli.ts --help` lists the commands, and every command has
 * `--help` with an example. Results go to stdout, progress and errors to
 * stderr; the exit code is 0 on success, 1 for an error and 2 for bad usage.
 *
 * @example Usage
 * ```sh
 * echo '[1, 2, 3]' | deno run -A cli.ts map examples/jobs.ts square
 * # {"index":0,"value":1}
 * # {"index":1,"value":4}
 * # {"index":2,"value":9}
 * ```
 *
 * @module
 */
import type { CliInput, CliIo, CliOutput } from "./src/cli/common/io.ts";
import { runCommandLine } from "./src/cli/main.ts";

export type { CliInput, CliIo, CliOutput };

/**
 * Runs the command line with the given arguments and resolves to the exit
 * code. Every side effect goes through `io`, so it can run in a test with
 * captured output, a given stdin and a given environment.
 *
 * @example Usage
 * ```ts
 * import { main } from "./cli.ts";
 *
 * let out = "";
 * const code = await main(["--version"], {
 *   stdout: { write: async (text) => void (out += text), isTerminal: () => false },
 * });
 * console.log(code, out); // 0 "cloudknot 0.1.0\n"
 * ```
 *
 * @param args The arguments after the program's name.
 * @param io Replaces the process's stdout, stderr, stdin or environment: a
 *   command line given `env` keeps its config file, knots, runs and builds
 *   where that environment says (under its `HOME`), as a process given it would.
 * @returns The exit code: 0 on success, 1 for an error, 2 for bad usage.
 */
export function main(args: string[], io: Partial<CliIo> = {}): Promise<number> {
  return runCommandLine(args, { io });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
