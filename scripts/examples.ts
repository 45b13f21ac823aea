/**
 * The examples of a module's doc comments, found as `deno test --doc` finds them: the fenced blocks
 * of its `/** … *\/` comments in JavaScript or TypeScript (or with no language, which is the
 * module's own), less those marked `ignore`. `scripts/test.ts` weighs the doc test processes by
 * them, and `scripts/doc_examples.ts` runs them.
 *
 * @module
 */

/** One example: its code, and the lines of its opening and closing fences, from 1. */
export interface Example {
  /** The line of its opening fence. */
  open: number;
  /** The line of its closing fence. */
  close: number;
  /** Its code, without the comment's leading `*`. */
  code: string;
}

const FENCE = /^```(.*)$/;
const CODE_LANGUAGE = /^(?:|[cm]?[jt]s|[jt]sx|javascript|typescript)$/;

/**
 * The examples of `source`'s doc comments, in order.
 *
 * @example Usage
 * ```ts
 * import { examples } from "./examples.ts";
 *
 * const fence = "`".repeat(3);
 * const comment = ["/**", ` * ${fence}ts`, " * console.log(1);", ` * ${fence}`, " *" + "/"];
 * console.log(examples(comment.join("\n"))); // [{ open: 2, close: 4, code: "console.log(1);" }]
 * ```
 */
export function examples(source: string): Example[] {
  const found: Example[] = [];
  let inDoc = false;
  let block: { open: number; lines: string[]; code: boolean } | undefined;
  source.split("\n").forEach((raw, i) => {
    let line = raw;
    if (!inDoc) {
      // `/**/` is an empty comment (or a glob in a string), not a doc comment.
      const start = line.search(/\/\*\*(?!\/)/);
      if (start < 0) return;
      inDoc = true;
      line = line.slice(start + 3);
    }
    const end = line.indexOf("*/");
    if (end >= 0) line = line.slice(0, end);
    // A doc comment's line: its indentation and one `*`, then at most one space.
    const text = line.replace(/^\s*\*(?!\/) ?/, "");
    const fence = text.trimStart().match(FENCE);
    if (fence !== null && block === undefined) {
      const [lang = "", ...attributes] = fence[1]!.trim().split(/\s+/);
      const code = CODE_LANGUAGE.test(lang) && !attributes.includes("ignore");
      block = { open: i + 1, lines: [], code };
    } else if (fence !== null && block !== undefined) {
      if (block.code) found.push({ open: block.open, close: i + 1, code: block.lines.join("\n") });
      block = undefined;
    } else if (block !== undefined) {
      block.lines.push(text);
    }
    if (end >= 0) {
      inDoc = false;
      block = undefined;
    }
  });
  return found;
}
