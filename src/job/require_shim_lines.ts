/**
 * The source map of a bundle that `deno bundle` changed after esbuild wrote
 * it, put back in line with the code. For `--platform deno`, Deno replaces
 * esbuild's `__require` shim (six lines, in every bundle whose CommonJS code
 * calls `require`) with two or three lines of its own that load Node's
 * `createRequire`, and leaves the map as esbuild wrote it: every line below
 * the shim then maps to a line a few below the right one, so a stack frame of
 * the user's code names the wrong line (often `1:1`), and so would anything
 * else that reads the map.
 *
 * How many lines were dropped is learned from the bundle itself, not assumed
 * (Deno has changed its replacement between versions): the shift at which
 * the code's characters best match the sources' (the map carries their
 * contents) at each mapped position below the shim.
 *
 * @module
 */
import { decode, encode } from "@jridgewell/sourcemap-codec";

/** The line Deno writes in place of esbuild's shim (non-minified bundles). */
const SHIM = "import { createRequire as __deno_internal_createRequire } from";

/** The most lines Deno's replacement is thought to drop; esbuild's shim has six. */
const MOST = 8;

/** How many mapped lines below the shim are compared for each shift. */
const SAMPLE_LINES = 400;

/**
 * A bundle's source map with the lines of esbuild's `__require` shim that
 * Deno dropped from the code dropped from the map too; the map as it was
 * when the bundle has no such shim, the map has no sources' contents, or no
 * shift matches better than none.
 *
 * @example Usage
 * ```ts
 * import { realignRequireShim } from "./require_shim_lines.ts";
 *
 * const map = JSON.stringify({ version: 3, sources: ["a.js"], sourcesContent: ["f();"], mappings: "AAAA" });
 * console.log(realignRequireShim("f();\n", map) === map); // true: no shim, nothing to move
 * ```
 *
 * @param code The bundle as `deno bundle` wrote it.
 * @param mapText Its source map, as `deno bundle` wrote it.
 * @returns The source map's text, its mappings in line with `code`.
 */
export function realignRequireShim(code: string, mapText: string): string {
  const at = code.indexOf(SHIM);
  if (at === -1) return mapText;
  let map: { mappings?: string; sourcesContent?: (string | null)[] };
  try {
    map = JSON.parse(mapText);
  } catch {
    return mapText;
  }
  if (typeof map.mappings !== "string" || !Array.isArray(map.sourcesContent)) return mapText;
  const lines = decode(map.mappings);
  const contents = map.sourcesContent.map((c) => typeof c === "string" ? c.split("\n") : []);
  const codeLines = code.split("\n");
  const shim = code.slice(0, at).split("\n").length - 1;
  /** How many mapped positions below the shim hold the source's character, at this shift. */
  const score = (shift: number): number => {
    let matched = 0;
    const end = Math.min(codeLines.length, shim + 1 + SAMPLE_LINES);
    for (let line = shim + 1; line < end; line++) {
      for (const segment of lines[line + shift] ?? []) {
        if (segment.length < 4) continue;
        const char = contents[segment[1]!]?.[segment[2]!]?.[segment[3]!];
        if (char !== undefined && /[\w$]/.test(char) && codeLines[line]![segment[0]] === char) {
          matched++;
        }
      }
    }
    return matched;
  };
  let best = 0;
  let bestScore = score(0);
  for (let shift = 1; shift <= MOST; shift++) {
    const s = score(shift);
    if (s > bestScore) [best, bestScore] = [shift, s];
  }
  // The dropped lines were the shim's, which map nothing.
  const dropped = lines.slice(shim + 1, shim + 1 + best);
  if (best === 0 || dropped.some((l) => l.length > 0)) return mapText;
  lines.splice(shim + 1, best);
  return JSON.stringify({ ...map, mappings: encode(lines) });
}
