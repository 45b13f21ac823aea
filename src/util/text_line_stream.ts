/**
 * A `TransformStream` that splits text into lines, for reading the output of
 * child processes line by line.
 *
 * @module
 */

/** Options for {@linkcode TextLineStream}. */
export interface TextLineStreamOptions {
  /**
   * Also end a line at a lone `\r`, as progress bars and `curl` write them.
   * A `\r\n` pair always ends one line, never two.
   *
   * @default {false}
   */
  allowCR?: boolean;
}

/**
 * Splits a stream of text chunks into lines. Lines end at `\n` or `\r\n`
 * (and at a lone `\r` with `allowCR`); the line ending is removed. The last
 * line is emitted even when the text does not end with a newline, and an
 * empty input emits nothing.
 *
 * @example Usage
 * ```ts
 * import { TextLineStream } from "./text_line_stream.ts";
 * import assert from "node:assert/strict";
 *
 * const lines = await Array.fromAsync(
 *   ReadableStream.from(["a\r\nb", "\nc"]).pipeThrough(new TextLineStream()),
 * );
 * assert.deepEqual(lines, ["a", "b", "c"]);
 * ```
 */
export class TextLineStream extends TransformStream<string, string> {
  #buffer = "";
  #allowCR: boolean;
  /** A `\r` ended the previous chunk, so a leading `\n` belongs to it. */
  #pendingCR = false;

  /**
   * Makes a line splitter.
   *
   * @param options Whether a lone `\r` ends a line.
   */
  constructor(options: TextLineStreamOptions = {}) {
    super({
      transform: (chunk, controller) => this.#transform(chunk, controller),
      flush: (controller) => {
        if (this.#buffer.length > 0) {
          controller.enqueue(
            this.#buffer.endsWith("\r") ? this.#buffer.slice(0, -1) : this.#buffer,
          );
        }
        this.#buffer = "";
      },
    });
    this.#allowCR = options.allowCR ?? false;
  }

  #transform(chunk: string, controller: TransformStreamDefaultController<string>): void {
    let text = chunk;
    if (this.#pendingCR) {
      this.#pendingCR = false;
      if (text.startsWith("\n")) text = text.slice(1);
    }
    this.#buffer += text;
    let start = 0;
    for (let i = 0; i < this.#buffer.length; i++) {
      const c = this.#buffer.charCodeAt(i);
      if (c === 10) { // \n
        const end = i > start && this.#buffer.charCodeAt(i - 1) === 13 ? i - 1 : i;
        controller.enqueue(this.#buffer.slice(start, end));
        start = i + 1;
      } else if (c === 13 && this.#allowCR) { // \r
        if (i + 1 < this.#buffer.length) {
          if (this.#buffer.charCodeAt(i + 1) === 10) continue; // the \n ends it
          controller.enqueue(this.#buffer.slice(start, i));
          start = i + 1;
        } else {
          // The chunk ends in \r: the line ends here, and a \n that starts
          // the next chunk is part of this line ending.
          controller.enqueue(this.#buffer.slice(start, i));
          start = i + 1;
          this.#pendingCR = true;
        }
      }
    }
    this.#buffer = this.#buffer.slice(start);
  }
}

/**
 * Reads a byte stream as UTF-8 lines, without their `\n` or `\r\n`. It
 * splits text itself rather than piping through transform streams, which
 * matters on hot paths such as a worker's message channel.
 *
 * @example Usage
 * ```ts
 * import { readLines } from "./text_line_stream.ts";
 *
 * const bytes = ReadableStream.from([new TextEncoder().encode("x\ny\n")]);
 * for await (const line of readLines(bytes)) console.log(line);
 * ```
 *
 * @param stream The bytes.
 * @returns The lines.
 */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  let rest = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      const text = rest + decoder.decode(value, { stream: true });
      let start = 0;
      let end: number;
      while ((end = text.indexOf("\n", start)) >= 0) {
        yield text.charCodeAt(end - 1) === 13 && end > start
          ? text.slice(start, end - 1)
          : text.slice(start, end);
        start = end + 1;
      }
      rest = text.slice(start);
    }
    rest += decoder.decode();
    if (rest !== "") yield rest.endsWith("\r") ? rest.slice(0, -1) : rest;
  } finally {
    reader.releaseLock();
  }
}
