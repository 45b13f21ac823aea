/**
 * The command line's side effects, injectable: its output streams, its input,
 * its environment, and the colours it may use.
 *
 * @module
 */
import type { ProgressOptions } from "../../run/progress.ts";
import { styleText } from "node:util";

/** A stream the command line writes text to. */
export interface CliOutput {
  /** Writes text; writes happen in the order they were asked for. */
  write(text: string): Promise<void>;
  /** Whether the stream is a terminal. */
  isTerminal(): boolean;
}

/** The stream the command line reads from. */
export interface CliInput {
  /** The bytes of the input; called at most once. */
  readable(): ReadableStream<Uint8Array>;
  /** Whether the input is a terminal. */
  isTerminal(): boolean;
}

/** Everything the command line touches outside itself (besides the files of its knots). */
export interface CliIo {
  /** Results. */
  stdout: CliOutput;
  /** Progress, logs, questions and errors. */
  stderr: CliOutput;
  /** Inputs and answers. */
  stdin: CliInput;
  /** Reads an environment variable. */
  env: (name: string) => string | undefined;
  /** Colour is off whatever the streams are (`Deno.noColor`); `NO_COLOR` is also read through `env`. */
  noColor?: boolean;
  /**
   * The deno binary `map` packages a module with (bundles it) for a knot on
   * AWS: to compare it with the knot's own, and to build the knot's image of
   * it. @default {Deno.execPath()}
   */
  deno?: string;
}

/**
 * An output that writes to a Deno stream, one write at a time, in order.
 *
 * @param stream `Deno.stdout` or `Deno.stderr`.
 * @returns The output.
 */
function denoOutput(stream: typeof Deno.stdout | typeof Deno.stderr): CliOutput {
  const encoder = new TextEncoder();
  let chain: Promise<void> = Promise.resolve();
  return {
    write(text: string): Promise<void> {
      const bytes = encoder.encode(text);
      const next = chain.then(async () => {
        let written = 0;
        while (written < bytes.length) written += await stream.write(bytes.subarray(written));
      });
      chain = next.catch(() => {});
      return next;
    },
    isTerminal: () => stream.isTerminal(),
  };
}

/**
 * The real streams and environment of this process.
 *
 * @example Usage
 * ```ts
 * import { denoIo } from "./io.ts";
 *
 * await denoIo().stderr.write("hello\n");
 * ```
 *
 * @returns The process's io.
 */
export function denoIo(): CliIo {
  return {
    stdout: denoOutput(Deno.stdout),
    stderr: denoOutput(Deno.stderr),
    stdin: { readable: () => Deno.stdin.readable, isTerminal: () => Deno.stdin.isTerminal() },
    env: (name) => Deno.env.get(name),
    noColor: Deno.noColor,
  };
}

/** The styles the command line uses. */
export type StyleName = "bold" | "dim" | "red" | "green" | "yellow" | "cyan";

/** Applies styles when colour is on, and nothing when it is off. */
export interface Style {
  /** Whether colour is on. */
  readonly enabled: boolean;
  /** Styles the text. */
  (name: StyleName | StyleName[], text: string): string;
}

/**
 * Whether an output is a terminal that understands escape codes: a terminal
 * whose `TERM` is not `dumb` (Emacs' shell, some CI consoles), which would
 * print the codes as they are.
 *
 * @example Usage
 * ```ts
 * import { denoIo, drawsOn } from "./io.ts";
 *
 * const io = denoIo();
 * if (drawsOn(io.stderr, io)) await io.stderr.write("\r\u001b[K");
 * ```
 *
 * @param output The output.
 * @param io `env` reads `TERM`.
 * @returns Whether escape codes may be written to it.
 */
export function drawsOn(output: CliOutput, io: Pick<CliIo, "env">): boolean {
  return output.isTerminal() && io.env("TERM") !== "dumb";
}

/** Goes back to the start of a terminal's line and clears it. */
export const CLEAR_LINE = "\r\u001b[K";

/**
 * Stdout for a command that draws a run's progress on stderr: when both are
 * terminals (the same screen), each write first clears the progress line,
 * which is drawn again below what is written, so that a result never runs on
 * from the progress line. Elsewhere, stdout itself.
 *
 * @example Usage
 * ```ts ignore
 * showProgress(run, stderrProgress(ctx.io));
 * await writeItems(run, besideProgress(ctx.io));
 * ```
 *
 * @param io The command line's io.
 * @returns The output to write results to.
 */
export function besideProgress(io: CliIo): CliOutput {
  const { stdout, stderr } = io;
  if (!drawsOn(stderr, io) || !stdout.isTerminal()) return stdout;
  return {
    write: async (text) => {
      await stderr.write(CLEAR_LINE).catch(() => {});
      await stdout.write(text);
    },
    isTerminal: () => true,
  };
}

/**
 * Makes the styler for an output: colour is on only when the output is a
 * terminal whose `TERM` is not `dumb`, and `NO_COLOR` is unset or empty
 * (https://no-color.org).
 *
 * @example Usage
 * ```ts
 * import { denoIo, styleFor } from "./io.ts";
 *
 * const io = denoIo();
 * const style = styleFor(io.stderr, io);
 * await io.stderr.write(`${style("bold", "note")}: hello\n`);
 * ```
 *
 * @param output The output the text goes to.
 * @param io `env` reads `NO_COLOR`; `noColor` turns colour off.
 * @returns The styler.
 */
export function styleFor(output: CliOutput, io: Pick<CliIo, "env" | "noColor">): Style {
  const noColor = io.noColor === true || (io.env("NO_COLOR") ?? "") !== "";
  const enabled = !noColor && drawsOn(output, io);
  const style = (name: StyleName | StyleName[], text: string) =>
    enabled ? styleText(name, text, { validateStream: false }) : text;
  return Object.assign(style, { enabled }) as Style;
}

/**
 * Progress options that draw on the command line's stderr (one redrawn line
 * on a terminal, plain lines elsewhere, `TERM=dumb` included).
 *
 * @example Usage
 * ```ts ignore
 * showProgress(run, stderrProgress(ctx.io));
 * ```
 *
 * @param io The command line's io.
 * @returns The options for `showProgress`.
 */
export function stderrProgress(io: CliIo): ProgressOptions {
  return {
    isTerminal: drawsOn(io.stderr, io),
    write: (text) => void io.stderr.write(text).catch(() => {}),
    log: (line) => void io.stderr.write(`${line}\n`).catch(() => {}),
    // The command names the run itself, with the command that picks it up.
    announce: false,
  };
}
