/**
 * Reading the project's Markdown (README.md and docs/) for the tests that
 * follow the docs: fenced code blocks with their section, and sections by
 * heading.
 *
 * @module
 */
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The project's root folder. */
export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** One fenced code block. */
export interface CodeBlock {
  /** The file, relative to the project's root. */
  file: string;
  /** The info string's first word (`ts`, `sh`, `json`), or `""`. */
  lang: string;
  /** The info string's other words (`ignore`, …). */
  attrs: string[];
  /** The code, without the fences, ending without a newline. */
  code: string;
  /** The heading of the section the block is in (the nearest `#` line above it), without `#`s. */
  section: string;
}

/** README.md and every Markdown file under docs/, relative to the root. */
export async function docFiles(): Promise<string[]> {
  const files = ["README.md"];
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".md")) files.push(relative(ROOT, path));
    }
  };
  await walk(join(ROOT, "docs"));
  return files.sort();
}

/**
 * The fenced code blocks of a Markdown text (fences of three or more
 * backticks; a longer fence may hold a shorter one), indented ones too (a
 * block inside a list item), without that indentation.
 */
export function codeBlocks(text: string, file = ""): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  let section = "";
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const heading = /^#{1,6} (.*)$/.exec(lines[i]!);
    if (heading) section = heading[1]!.trim();
    const open = /^( *)(`{3,})\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const indent = new RegExp(`^ {0,${open[1]!.length}}`);
    const fence = open[2]!;
    const [lang = "", ...attrs] = open[3]!.trim().split(/\s+/).filter((w) => w !== "");
    const body: string[] = [];
    for (i++; i < lines.length && lines[i]!.trim() !== fence; i++) {
      body.push(lines[i]!.replace(indent, ""));
    }
    blocks.push({ file, lang, attrs, code: body.join("\n"), section });
  }
  return blocks;
}

/**
 * A Markdown text without its fenced code blocks (indented ones too), so
 * that what is left is prose, code spans and headings.
 */
export function withoutCodeBlocks(text: string): string {
  return text.replace(/^( *)(`{3,})[^\n]*\n[\s\S]*?^ *\2[ \t]*$/gm, "");
}

/** The code blocks of every doc file. */
export async function allCodeBlocks(): Promise<CodeBlock[]> {
  const blocks: CodeBlock[] = [];
  for (const file of await docFiles()) {
    blocks.push(...codeBlocks(await Deno.readTextFile(join(ROOT, file)), file));
  }
  return blocks;
}

/**
 * The text of the section under a heading (`## Install`), up to the next
 * heading of the same or a higher level; throws when the heading is missing.
 */
export function sectionOf(text: string, heading: string): string {
  const level = /^#+/.exec(heading)![0].length;
  const start = text.split("\n").findIndex((line) => line === heading);
  if (start < 0) throw new Error(`No "${heading}" heading`);
  const lines = text.split("\n").slice(start + 1);
  let fence: string | undefined;
  const end = lines.findIndex((line) => {
    const open = /^`{3,}/.exec(line)?.[0];
    if (open !== undefined && (fence === undefined || line.trim() === fence)) {
      fence = fence === undefined ? open : undefined;
      return false;
    }
    const m = fence === undefined ? /^(#+) /.exec(line) : null;
    return m !== null && m[1]!.length <= level;
  });
  return lines.slice(0, end < 0 ? undefined : end).join("\n");
}
