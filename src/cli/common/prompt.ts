/**
 * Asking the user for values on the terminal, one line each, with a default.
 *
 * @module
 */
import { TextLineStream } from "../../util/text_line_stream.ts";
import type { CliIo } from "./io.ts";

/**
 * Asks questions on stderr and reads the answers from stdin, one line each.
 * Make one per command: stdin is read once, by one reader.
 *
 * @example Usage
 * ```ts ignore
 * const prompter = new Prompter(ctx.io);
 * try {
 *   const region = await prompter.ask("AWS region", "us-east-1"); // "us-east-1" on an empty line
 * } finally {
 *   await prompter.close();
 * }
 * ```
 */
export class Prompter {
  #io: CliIo;
  #reader: ReadableStreamDefaultReader<string> | undefined;
  #ended = false;

  /**
   * Makes a prompter; nothing is read yet.
   *
   * @param io The command line's io.
   */
  constructor(io: CliIo) {
    this.#io = io;
  }

  /**
   * Asks one question: `question [default]: `. An empty answer, or the end of
   * the input, gives the default.
   *
   * @param question The question, without the colon.
   * @param fallback The default answer, shown in brackets.
   * @returns The answer, trimmed, or the default (`undefined` when there is none).
   */
  async ask(question: string, fallback?: string): Promise<string | undefined> {
    const hint = fallback === undefined || fallback === "" ? "" : ` [${fallback}]`;
    await this.#io.stderr.write(`${question}${hint}: `);
    if (this.#ended) {
      await this.#io.stderr.write("\n");
      return fallback;
    }
    this.#reader ??= this.#io.stdin.readable()
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new TextLineStream())
      .getReader();
    const { value, done } = await this.#reader.read();
    if (done) {
      this.#ended = true;
      await this.#io.stderr.write("\n");
    }
    const answer = (value ?? "").trim();
    return answer === "" ? fallback : answer;
  }

  /** Stops reading stdin. */
  async close(): Promise<void> {
    await this.#reader?.cancel().catch(() => {});
    this.#reader = undefined;
  }
}
