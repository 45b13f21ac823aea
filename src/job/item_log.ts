/**
 * The lines of a job that runs a slice of items, told apart by item: the job
 * writes each line of an item's output to its own log stream with the
 * item's tag in front (`[item 12] `), so one item's lines can be read back
 * from the stream the whole slice shares ({@linkcode itemLine}).
 *
 * @module
 */

/** The tag in front of a line of item `index`. */
function tag(index: number): string {
  return `[item ${index}] `;
}

const TAG_RE = /^\[item (\d+)\] /;
const NEWLINE = 0x0a;

/**
 * Reads one line of a job's log stream for item `index`: the line without
 * its tag when it is that item's, `undefined` when it is another item's. An
 * untagged line (a job of an earlier version, or the container's own) is the
 * item's only when the job ran that one item (`shared` false).
 *
 * @example Usage
 * ```ts
 * import { itemLine } from "@cloudknot/cloudknot/job";
 *
 * console.log(itemLine("[item 3] hello", 3, true)); // "hello"
 * console.log(itemLine("[item 4] hello", 3, true)); // undefined
 * ```
 *
 * @param line The line as the stream holds it.
 * @param index The item.
 * @param shared Whether the job ran other items too.
 * @returns The item's line, or `undefined`.
 */
export function itemLine(line: string, index: number, shared: boolean): string | undefined {
  const tagged = taggedLine(line);
  if (tagged === undefined) return shared ? undefined : line;
  return tagged.index === index ? tagged.text : undefined;
}

/**
 * Reads one line of a job's log stream apart: which item's it is and what
 * that item printed, or `undefined` for an untagged line (a job of an
 * earlier version, or the container's own).
 *
 * @example Usage
 * ```ts
 * import { taggedLine } from "@cloudknot/cloudknot/job";
 *
 * console.log(taggedLine("[item 3] hello")); // { index: 3, text: "hello" }
 * console.log(taggedLine("hello")); // undefined
 * ```
 *
 * @param line The line as the stream holds it.
 * @returns The item and its line without the tag, or `undefined`.
 */
export function taggedLine(line: string): { index: number; text: string } | undefined {
  const match = TAG_RE.exec(line);
  return match === null
    ? undefined
    : { index: Number(match[1]), text: line.slice(match[0].length) };
}

/**
 * Writes items' output as tagged lines: the bytes of each item and stream
 * are cut at newlines, and each whole line goes out with the item's tag in
 * front. What is left of a line when an item ends goes out with a newline.
 *
 * @example Usage
 * ```ts
 * import { ItemLines } from "@cloudknot/cloudknot/job";
 *
 * const out: string[] = [];
 * const lines = new ItemLines((_stream, bytes) => out.push(new TextDecoder().decode(bytes)));
 * lines.write(3, 1, new TextEncoder().encode("a\nb"));
 * lines.end(3);
 * console.log(out.join("")); // "[item 3] a\n[item 3] b\n"
 * ```
 */
export class ItemLines {
  #write: (stream: 1 | 2, bytes: Uint8Array) => void;
  #partial = new Map<string, Uint8Array>();
  #encoder = new TextEncoder();

  /**
   * Makes a writer.
   *
   * @param write Where tagged lines go: `stream` 1 is stdout, 2 stderr.
   */
  constructor(write: (stream: 1 | 2, bytes: Uint8Array) => void) {
    this.#write = write;
  }

  /**
   * Writes an item's output; `bytes` may be reused by the caller afterwards.
   *
   * @param index The item.
   * @param stream 1 for stdout, 2 for stderr.
   * @param bytes The output.
   */
  write(index: number, stream: 1 | 2, bytes: Uint8Array): void {
    const key = `${index}:${stream}`;
    let start = 0;
    for (let nl = bytes.indexOf(NEWLINE); nl !== -1; nl = bytes.indexOf(NEWLINE, start)) {
      this.#line(index, stream, key, bytes.subarray(start, nl + 1));
      start = nl + 1;
    }
    if (start < bytes.byteLength) {
      const rest = bytes.subarray(start);
      const before = this.#partial.get(key);
      this.#partial.set(key, before === undefined ? rest.slice() : concat(before, rest));
    }
  }

  /**
   * Writes lines of the job's own about an item (a newline is added), each
   * with the item's tag: an error's stack is the item's, all of it.
   *
   * @param index The item.
   * @param text The lines.
   */
  note(index: number, text: string): void {
    this.#write(2, this.#encoder.encode(`${text.replace(/^/gm, tag(index))}\n`));
  }

  /**
   * Ends an item's output: what is left of its lines goes out.
   *
   * @param index The item.
   */
  end(index: number): void {
    for (const stream of [1, 2] as const) {
      const key = `${index}:${stream}`;
      const rest = this.#partial.get(key);
      if (rest === undefined) continue;
      this.#partial.delete(key);
      this.#line(index, stream, key, concat(rest, new Uint8Array([NEWLINE])));
    }
  }

  #line(index: number, stream: 1 | 2, key: string, line: Uint8Array): void {
    const before = this.#partial.get(key);
    if (before !== undefined) this.#partial.delete(key);
    const head = this.#encoder.encode(tag(index));
    this.#write(stream, concat(head, before === undefined ? line : concat(before, line)));
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}
