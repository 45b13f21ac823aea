/**
 * Writing a long output a piece at a time: pieces are gathered into writes
 * of about 64 KiB, so no string of the whole output is ever made (V8 cannot
 * make one longer than about 512 MiB, and the pieces would be held twice).
 *
 * @module
 */
import type { CliOutput } from "./io.ts";

/** Options for {@linkcode ChunkedOutput}. */
export interface ChunkedOutputOptions {
  /** Write once this many characters are gathered. @default {65536} */
  size?: number;
}

/**
 * An output that gathers pieces of text and writes them once about `size`
 * characters are gathered, and on {@linkcode ChunkedOutput.flush}: a write is
 * never longer than `size` plus its last piece.
 *
 * @example Usage
 * ```ts
 * import { ChunkedOutput } from "./chunked_output.ts";
 * import { denoIo } from "./io.ts";
 *
 * const out = new ChunkedOutput(denoIo().stdout);
 * for (let i = 0; i < 3; i++) await out.write(`line ${i}\n`);
 * await out.flush();
 * ```
 */
export class ChunkedOutput {
  #output: CliOutput;
  #size: number;
  #pieces: string[] = [];
  #length = 0;

  /**
   * Makes a chunked output.
   *
   * @param output Where the gathered pieces are written.
   * @param options How much is gathered before a write.
   */
  constructor(output: CliOutput, options: ChunkedOutputOptions = {}) {
    this.#output = output;
    this.#size = options.size ?? 65536;
  }

  /**
   * Adds a piece; writes what is gathered once it reaches the size.
   *
   * @param text The piece.
   */
  async write(text: string): Promise<void> {
    this.#pieces.push(text);
    this.#length += text.length;
    if (this.#length >= this.#size) await this.flush();
  }

  /** Writes what is gathered, if anything. */
  async flush(): Promise<void> {
    const text = this.#pieces.join("");
    this.#pieces = [];
    this.#length = 0;
    if (text !== "") await this.#output.write(text);
  }
}

/**
 * The JSON of a document whose last field is an empty array, up to and with
 * that array's `[`: what a document written an item at a time begins with
 * (its items, comma-separated, then `]}` end it).
 *
 * @example Usage
 * ```ts
 * import { jsonUpToList } from "./chunked_output.ts";
 *
 * console.log(jsonUpToList({ knot: "squares", items: [] })); // {"knot":"squares","items":[
 * ```
 *
 * @param document The document, its last field an empty array.
 * @returns Its JSON without the array's `]` and the document's `}`.
 */
export function jsonUpToList(document: Record<string, unknown>): string {
  const json = JSON.stringify(document);
  if (!json.endsWith("[]}")) throw new TypeError("The document's last field is not an empty array");
  return json.slice(0, -2);
}
