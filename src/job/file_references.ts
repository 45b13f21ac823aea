/**
 * What in a module's bundle looks for files beside its source at run time,
 * which bundling cannot ship: `deno bundle` follows imports only, so in the
 * artifact `import.meta.url` (and `dirname`, `filename`, `resolve`) is the
 * artifact's own address where the function runs, and a CommonJS package's
 * `__dirname` and `__filename` are not defined at all. Each use found in the
 * bundled code is traced back, through the bundle's source map, to the file
 * and line it came from, so `Knot.create()` can warn before anything is
 * built instead of every item failing.
 *
 * It reads the code as text, with its comments and strings blanked out
 * (`codeOnly`); a package that tests `typeof __dirname` first is taken to
 * guard its uses.
 *
 * @module
 */
import { decode } from "@jridgewell/sourcemap-codec";

/** One use, in the user's words: where it is written and what it uses. */
export interface FileReference {
  /** The URL of the file that holds it, as the bundle's source map names it. */
  url: string;
  /**
   * The line in that file, from 1. In a CommonJS package it is a line of the
   * code Deno made of the file to bundle it (which drops its blank lines),
   * not always the file's own.
   */
  line: number;
  /** What it uses: `import.meta.url`, `__dirname`, … */
  uses: string;
  /**
   * The npm package it is in, when it is in one: its name, and its version
   * when it came from Deno's npm cache (`name@version`).
   */
  pkg?: string;
}

/** The uses that name the module's own place, which is the artifact's where it runs. */
const IMPORT_META = /\bimport\.meta\.(url|dirname|filename|resolve)\b/g;
/** The CommonJS names a bundle does not define. */
const COMMONJS = /(?<![\w$.'"`])(__dirname|__filename)\b/g;

/**
 * The places in a bundle that read the module's own location, one per file
 * and name, in the order of the bundle: `import.meta` in modules that are not
 * npm packages (a package's `createRequire(import.meta.url)` is harmless), and
 * `__dirname` or `__filename` anywhere the bundle does not declare or test
 * them. Uses in the modules under `at.entryDir` (the entry written to bundle
 * the export) are left out.
 *
 * @example Usage
 * ```ts
 * import { fileReferences } from "./file_references.ts";
 *
 * const code = 'const m = new URL("./m.json", import.meta.url);\n';
 * const map = JSON.stringify({ version: 3, sources: ["file:///p/job.ts"], mappings: "AAAA,UAAU,aAAa" });
 * const at = { map: new URL("file:///b/out.js.map"), entryDir: "file:///b/", denoDir: "file:///c/" };
 * console.log(fileReferences(code, map, at));
 * // [ { url: "file:///p/job.ts", line: 1, uses: "import.meta.url" } ]
 * ```
 *
 * @param code The bundle.
 * @param mapText Its source map.
 * @param at Where the map is (its sources are relative to it), and the
 *   directory URLs (ending in `/`) of the entry and of the Deno cache.
 * @returns The uses found; none when the map cannot be read.
 */
export function fileReferences(
  code: string,
  mapText: string,
  at: { map: URL; entryDir: string; denoDir: string },
): FileReference[] {
  let sources: string[];
  let lines: ReturnType<typeof decode>;
  try {
    const map = JSON.parse(mapText) as { sources?: string[]; mappings?: string };
    sources = (map.sources ?? []).map((s) => new URL(s, at.map).href);
    lines = decode(map.mappings ?? "");
  } catch {
    return [];
  }
  code = codeOnly(code);
  const guarded = new Set(
    [...code.matchAll(/\b(?:typeof\s+|(?:var|let|const|function)\s+)(__dirname|__filename)\b/g)]
      .map((m) => m[1]),
  );
  const starts = [0];
  for (let i = code.indexOf("\n"); i !== -1; i = code.indexOf("\n", i + 1)) starts.push(i + 1);
  const found = new Map<string, FileReference & { at: number }>();
  const uses = [
    ...[...code.matchAll(IMPORT_META)].map((m) => ({ at: m.index, uses: m[0], meta: true })),
    ...[...code.matchAll(COMMONJS)].filter((m) => !guarded.has(m[1]))
      .map((m) => ({ at: m.index, uses: m[1]!, meta: false })),
  ];
  for (const use of uses) {
    const line = upperBound(starts, use.at) - 1;
    const column = use.at - starts[line]!;
    const segment = lines[line]?.findLast((s) => s[0] <= column);
    if (segment === undefined || segment.length < 4) continue;
    const url = sources[segment[1]!];
    if (url === undefined || url.startsWith(at.entryDir)) continue;
    const pkg = packageOf(url, at.denoDir);
    if (use.meta && pkg !== undefined) continue;
    const key = `${url}\n${use.uses}`;
    if (found.has(key)) continue;
    found.set(key, {
      url,
      line: segment[2]! + 1,
      uses: use.uses,
      ...(pkg === undefined ? {} : { pkg }),
      at: use.at,
    });
  }
  return [...found.values()].sort((a, b) => a.at - b.at).map(({ at: _, ...reference }) =>
    reference
  );
}

/**
 * The npm package a file belongs to: one in a `node_modules` folder, or in
 * Deno's npm cache (`npm/<registry>/<name>/<version>/`).
 */
function packageOf(url: string, denoDir: string): string | undefined {
  const cached = url.startsWith(`${denoDir}npm/`)
    ? /^[^/]+\/((?:@[^/]+\/)?[^/]+)\/([^/]+)\//.exec(url.slice(denoDir.length + 4))
    : null;
  return cached !== null
    ? `${cached[1]}@${cached[2]}`
    : /\/node_modules\/(?:.*\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
}

/** What before a `/` makes it start a regular expression rather than divide. */
const BEFORE_REGEX =
  /(?:^|[(,=:[!&|?{};+\-*%<>~^]|\b(?:return|typeof|case|do|else|in|of|new|delete|void|throw|yield|await))\s*$/;

/**
 * The code with the text of its comments, strings, template literals and
 * regular expressions replaced by spaces, its lines and columns kept, so that
 * a name in them is not taken for a use. A `${…}` inside a template literal
 * is blanked with it.
 */
function codeOnly(code: string): string {
  const out = code.split("");
  const blank = (from: number, to: number) => {
    for (let i = from; i < to; i++) if (out[i] !== "\n") out[i] = " ";
  };
  let i = 0;
  while (i < code.length) {
    const c = code[i]!;
    const next = code[i + 1];
    let end: number;
    if (c === "/" && next === "/") {
      end = code.indexOf("\n", i);
      if (end === -1) end = code.length;
    } else if (c === "/" && next === "*") {
      end = code.indexOf("*/", i + 2);
      end = end === -1 ? code.length : end + 2;
    } else if (c === '"' || c === "'" || c === "`") {
      end = i + 1;
      let depth = 0;
      while (end < code.length) {
        const d = code[end]!;
        if (d === "\\") end += 2;
        else if (c === "`" && d === "$" && code[end + 1] === "{") {
          [depth, end] = [depth + 1, end + 2];
        } else if (c === "`" && depth > 0 && d === "}") [depth, end] = [depth - 1, end + 1];
        else if (d === c && depth === 0) break;
        else if (d === "\n" && c !== "`") break;
        else end++;
      }
      end++;
    } else if (c === "/" && BEFORE_REGEX.test(code.slice(Math.max(0, i - 12), i))) {
      end = i + 1;
      let inClass = false;
      while (end < code.length && code[end] !== "\n") {
        const d = code[end]!;
        if (d === "\\") end += 2;
        else if (d === "[") [inClass, end] = [true, end + 1];
        else if (d === "]") [inClass, end] = [false, end + 1];
        else if (d === "/" && !inClass) break;
        else end++;
      }
      end++;
    } else {
      i++;
      continue;
    }
    blank(i, Math.min(end, code.length));
    i = end;
  }
  return out.join("");
}

/** The index of the first element greater than `value` in a sorted array. */
function upperBound(sorted: number[], value: number): number {
  let [lo, hi] = [0, sorted.length];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
