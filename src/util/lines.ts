/**
 * Splitting byte streams into lines, for process output and line-delimited
 * messages.
 *
 * @module
 */

/**
 * A `TransformStream` from text to lines, without their `\n` or `\r\n`. A last
 * line without a newline is emitted when the stream ends.
 *
 * @example Usage
 * ```ts
 * import { LineSplitter } from "@cloudknot/cloudknot";
 *
 * const lines = await Array.fromAsync(
 *   ReadableStream.from(["a\nb", "c\r\nd"]).pipeThrough(new LineSplitter()),
 * );
 * console.log(lines); // [ "a", "bc", "d" ]
 * ```
 */
export class LineSplitter extends TransformStream<string, string> {
  /** Makes a line splitter. */
  constructor() {
    let rest = "";
    super({
      transform(chunk, controller) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop()!;
        for (const part of parts) controller.enqueue(part.endsWith("\r") ? part.slice(0, -1) : part);
      },
      flush(controller) {
        if (rest !== "") controller.enqueue(rest.endsWith("\r") ? rest.slice(0, -1) : rest);
      },
    });
  }
}

/**
 * Reads a byte stream as UTF-8 lines.
 *
 * @example Usage
 * ```ts
 * import { readLines } from "@cloudknot/cloudknot";
 *
 * const bytes = ReadableStream.from([new TextEncoder().encode("x\ny\n")]);
 * for await (const line of readLines(bytes)) console.log(line);
 * ```
 *
 * @param stream The bytes.
 * @returns The lines.
 */
export function readLines(stream: ReadableStream<Uint8Array>): ReadableStream<string> {
  return stream.pipeThrough(new TextDecoderStream()).pipeThrough(new LineSplitter());
}
