/**
 * Runs the command line in the test's own process, with its environment
 * and output in memory: for tests that drive a command against an emulator
 * (or a test bed) of their own and watch what it prints while it runs.
 *
 * @module
 */
import { runCommandLine } from "../../src/cli/main.ts";
import type { CliIo } from "../../src/cli/common/io.ts";

/** A command line running in this process. */
export interface CliInProcess {
  /** What it printed on stdout so far. */
  readonly stdout: string;
  /** What it printed on stderr so far. */
  readonly stderr: string;
  /** Resolves once stderr holds a match of `pattern` (or the command ended without one: it throws). */
  printed(pattern: RegExp): Promise<void>;
  /** Its exit code, once it ends, and all it printed. */
  ended: Promise<{ code: number; stdout: string; stderr: string }>;
}

/**
 * Starts a command line in this process.
 *
 * @example Usage
 * ```ts ignore
 * const logs = cliInProcess(["logs", "squares", "--item", "0"], { ...emu.env, CLOUDKNOT_CONFIG_FILE });
 * await logs.printed(/no AWS Batch job yet/);
 * const { code, stdout } = await logs.ended;
 * ```
 *
 * @param args The arguments after the program's name.
 * @param env The environment it reads (nothing of this process's).
 * @returns The running command.
 */
export function cliInProcess(args: string[], env: Record<string, string>): CliInProcess {
  let stdout = "";
  let stderr = "";
  const watchers = new Set<() => void>();
  const output = (sink: (text: string) => void) => ({
    write: (text: string) => {
      sink(text);
      for (const watch of watchers) watch();
      return Promise.resolve();
    },
    isTerminal: () => false,
  });
  const io: CliIo = {
    stdout: output((text) => stdout += text),
    stderr: output((text) => stderr += text),
    stdin: { readable: () => ReadableStream.from([]), isTerminal: () => false },
    env: (name) => env[name],
    noColor: true,
  };
  let over = false;
  const ended = runCommandLine(args, { io }).then((code) => {
    over = true;
    for (const watch of watchers) watch();
    return { code, stdout, stderr };
  });
  return {
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    printed: (pattern) =>
      new Promise<void>((resolve, reject) => {
        const watch = () => {
          if (pattern.test(stderr)) resolve();
          else if (over) {
            reject(new Error(`The command ended without printing ${pattern}:\n${stderr}`));
          } else return;
          watchers.delete(watch);
        };
        watchers.add(watch);
        watch();
      }),
    ended,
  };
}
