/**
 * A source map for a `func` artifact, so that its stack frames name the
 * user's file and line instead of the artifact's.
 *
 * A `func` is shipped as its source text (`Function.prototype.toString`),
 * which is the JavaScript Deno compiled the user's file to: types removed,
 * reformatted, so its lines need not be the file's. Deno exposes no source
 * map for that code to the process (the inspector reports none), but it wrote
 * the same code, with an inline source map back to the file, to its emit
 * cache (`<DENO_DIR>/gen/file/<absolute path>.js`). So this module:
 *
 * 1. asks V8's inspector (`node:inspector`) where the function is: the script
 *    (`[[FunctionLocation]]`, the script's URL from `Debugger.scriptParsed`)
 *    and that script's code (`Debugger.getScriptSource`);
 * 2. finds a map for that code: a plain JavaScript file whose text is the
 *    script maps to itself; otherwise the emit cache's file, used only when
 *    its code before the source-map comment is exactly the script's code;
 * 3. moves the map's positions that fall inside the function's text to where
 *    that text is in the artifact, and names the files as a module artifact's
 *    map does (`artifact_sources.ts`), so they resolve back on this machine in
 *    any process that opens the knot or its runs.
 *
 * When any of that is missing (no leave to use the inspector, read the cache
 * or run `deno info`; a Jupyter kernel, whose own use of the inspector a
 * second session would crash; a notebook cell, `deno eval` or a remote
 * module, which have no file; a cache that was cleaned or holds other code), there is no
 * map and the artifact is as it was without one: its frames name the
 * artifact.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
// The map is moved, not traced through another, so the mappings' codec is all
// of a source-map library this needs. It runs on the client only: the job
// runtime's graph does not reach this module.
import { decode, encode, type SourceMapSegment } from "@jridgewell/sourcemap-codec";
import { sha256Hex } from "../util/sha256.ts";
import { inJupyterKernel } from "../util/jupyter.ts";
import { artifactSourceName, type SourceRoots } from "./artifact_sources.ts";

/** A portable source map for a `func` artifact, as {@linkcode funcSourceMap} makes it. */
export interface FuncSourceMap {
  /** The source map, as JSON: its sources are named `cloudknot:<key>/src/<path>`. */
  map: string;
  /** The map's key: 12 hex digits of the SHA-256 of the artifact's code and its map. */
  key: string;
  /** Where the roots its sources are named relative to are on this machine. */
  roots: SourceRoots;
}

/** Where the function's text begins in the artifact's code, and that code. */
export interface FuncInArtifact {
  /** The artifact's code, without a source map. */
  code: string;
  /** The line (from 0) of the artifact on which the function's text begins. */
  line: number;
  /** The column (from 0, in UTF-16 code units) at which it begins. */
  column: number;
}

/** Where {@linkcode funcSourceMap} learns the Deno cache, and how it reads files. */
export interface FuncSourceMapOptions {
  /**
   * The Deno cache (`DENO_DIR`) of this process; it may reject, and then
   * there is no map.
   */
  denoDir: () => Promise<string>;
  /**
   * Reads a text file, or gives `undefined` when it cannot.
   *
   * @default {`Deno.readTextFile`, when this process may read the path without a prompt}
   */
  readText?: (path: string) => Promise<string | undefined>;
}

/** Where the function's compiled text is: its script's URL and code, and the offset of the function in it. */
interface Located {
  url: string;
  script: string;
  offset: number;
}

/**
 * The source map of a `func` artifact back to the user's file, or
 * `undefined` when the function's compiled code cannot be traced back to a
 * file (then the artifact ships without one, as before).
 *
 * @example Usage
 * ```ts
 * import { funcSourceMap } from "./func_source_map.ts";
 *
 * const double = (x: number) => x * 2;
 * const text = String(double);
 * const code = `export default (${text});\n`;
 * const found = await funcSourceMap(double, { code, line: 0, column: 16 }, {
 *   denoDir: () => Promise.resolve(Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`),
 * });
 * console.log(found === undefined ? "no map" : JSON.parse(found.map).sources);
 * ```
 *
 * @param func The function (its text is `Function.prototype.toString` of it).
 * @param artifact The artifact's code and where the function's text begins in it.
 * @param options Where the Deno cache is and how files are read.
 * @returns The map, its key and the roots its sources are named relative to.
 */
export async function funcSourceMap(
  // deno-lint-ignore no-explicit-any
  func: (...args: any[]) => unknown,
  artifact: FuncInArtifact,
  options: FuncSourceMapOptions,
): Promise<FuncSourceMap | undefined> {
  if (!mayLocate()) return undefined;
  // Learning the Deno cache may start a deno (`deno info`, once per process):
  // it runs while the inspector looks for the function, and it is waited for
  // on every path, so no deno outlives this call.
  const cache = (async () => ({ dir: await options.denoDir() }))().catch(() => undefined);
  try {
    const text = Function.prototype.toString.call(func);
    const located = await locate(func, text);
    if (located === undefined || !located.url.startsWith("file:")) return undefined;
    const readText = options.readText ?? readIfAllowed;
    const path = fileURLToPath(located.url);
    const starts = lineStarts(located.script);
    if (starts === undefined) return undefined;
    const known = await cache;
    if (known === undefined) return undefined;
    const denoDir = known.dir;
    let inner: { sources: string[]; mappings: SourceMapSegment[][] } | undefined;
    if (await readText(path) === located.script) {
      // A plain JavaScript file is the script itself: its positions are its own.
      const first = lineOf(starts, located.offset);
      const lines = text.split("\n").length;
      inner = { sources: [located.url], mappings: identity(located.script, starts, first, lines) };
    } else if (path.startsWith("/")) {
      // TypeScript (and JSX) is compiled: the emit cache holds the same code
      // with the compiler's map. It must be exactly the code this process
      // runs (a cache written by another version of the file, or edited, is
      // not), or there is no map.
      const cached = await readText(`${denoDir.replace(/\/$/, "")}/gen/file${path}.js`);
      inner = cached === undefined ? undefined : emittedMap(cached, located.script, located.url);
    }
    if (inner === undefined) return undefined;
    return await portable(
      shifted(inner, starts, located.offset, text, artifact),
      artifact.code,
      { src: dirUrl(dirname(path)), deno_dir: dirUrl(denoDir) },
    );
  } catch {
    // Any failure to trace the function leaves the artifact without a map.
    return undefined;
  } finally {
    await cache;
  }
}

/**
 * Whether this process may use the inspector: not in a `deno compile` binary
 * or a Jupyter kernel, and only with `--allow-sys` (asking would prompt).
 */
function mayLocate(): boolean {
  // The kernel runs its cells through V8's inspector itself, and Deno 2.9.6
  // panics ("RefCell already borrowed", `libs/core/inspector.rs`) when a cell
  // opens a second session: there, a function is shipped without a map.
  if (Deno.build.standalone || inJupyterKernel()) return false;
  return Deno.permissions.querySync({ name: "sys" }).state === "granted";
}

/**
 * Where V8 compiled the function: its script's URL and code, and the offset
 * of the function's text in that code (only where {@linkcode mayLocate});
 * `undefined` when V8 does not say.
 */
async function locate(
  // deno-lint-ignore no-explicit-any
  func: (...args: any[]) => unknown,
  text: string,
): Promise<Located | undefined> {
  // Loaded here: only a func's packaging uses the inspector.
  const { Session } = await import("node:inspector");
  const session = new Session();
  session.connect();
  // deno-lint-ignore no-explicit-any
  const post = (method: string, params: object = {}): Promise<any> =>
    new Promise((resolve, reject) =>
      session.post(method, params, (error, result) => error ? reject(error) : resolve(result))
    );
  // The inspector reaches an object through an expression: the function is
  // on the global object under a name of its own for that moment.
  const name = `__cloudknot_func_${crypto.randomUUID().replaceAll("-", "")}`;
  const global = globalThis as Record<string, unknown>;
  try {
    global[name] = func;
    const { result } = await post("Runtime.evaluate", { expression: `globalThis.${name}` });
    delete global[name];
    const { internalProperties } = await post("Runtime.getProperties", {
      objectId: result.objectId,
      ownProperties: true,
    });
    const where =
      (internalProperties as { name: string; value?: { value?: unknown } }[] | undefined)
        ?.find((p) => p.name === "[[FunctionLocation]]")?.value?.value as
          | { scriptId: string; lineNumber: number; columnNumber: number }
          | undefined;
    if (where === undefined) return undefined;
    // Enabling the debugger reports every script it has, with its URL.
    let url: string | undefined;
    session.on("Debugger.scriptParsed", (event) => {
      if (event.params.scriptId === where.scriptId) url = event.params.url;
    });
    await post("Debugger.enable");
    try {
      const { scriptSource } = await post("Debugger.getScriptSource", { scriptId: where.scriptId });
      if (url === undefined || typeof scriptSource !== "string") return undefined;
      const starts = lineStarts(scriptSource);
      const at = starts?.[where.lineNumber];
      if (at === undefined) return undefined;
      // V8's location is inside the text (at its parameters); the text is an
      // exact slice of the script that holds that location.
      const location = at + where.columnNumber;
      const offset = scriptSource.lastIndexOf(text, location);
      if (offset < 0 || offset + text.length <= location) return undefined;
      return { url, script: scriptSource, offset };
    } finally {
      await post("Debugger.disable");
    }
  } finally {
    delete global[name];
    session.disconnect();
  }
}

/**
 * The map of the emit cache's file `cached` when its code is exactly
 * `script`, with its sources as URLs; `undefined` otherwise.
 */
function emittedMap(
  cached: string,
  script: string,
  url: string,
): { sources: string[]; mappings: SourceMapSegment[][] } | undefined {
  const comment = "//# sourceMappingURL=data:application/json;base64,";
  const at = cached.lastIndexOf(comment);
  if (at < 0 || cached.slice(0, at) !== script) return undefined;
  const end = cached.indexOf("\n", at);
  const data = cached.slice(at + comment.length, end < 0 ? undefined : end);
  const map = JSON.parse(Buffer.from(data, "base64").toString("utf8")) as {
    sources?: string[];
    sourceRoot?: string;
    mappings?: string;
  };
  if (!Array.isArray(map.sources) || typeof map.mappings !== "string") return undefined;
  return {
    sources: map.sources.map((s) => new URL(`${map.sourceRoot ?? ""}${s}`, url).href),
    mappings: decode(map.mappings),
  };
}

/**
 * A map of a script to itself over the function's lines: a segment at each
 * token, which is where V8's stack positions fall.
 */
function identity(
  script: string,
  starts: number[],
  first: number,
  lines: number,
): SourceMapSegment[][] {
  const mappings: SourceMapSegment[][] = [];
  for (let line = first; line < first + lines && line < starts.length; line++) {
    const text = script.slice(starts[line], (starts[line + 1] ?? script.length + 1) - 1);
    mappings[line] = [...text.matchAll(/[\w$]+|\S/g)].map((m) => [m.index, 0, line, m.index]);
  }
  return mappings;
}

/**
 * The segments of the script's map that fall inside the function's text,
 * moved to where that text is in the artifact; only the sources they use.
 */
function shifted(
  inner: { sources: string[]; mappings: SourceMapSegment[][] },
  starts: number[],
  offset: number,
  text: string,
  artifact: FuncInArtifact,
): { sources: string[]; mappings: SourceMapSegment[][] } {
  const first = lineOf(starts, offset);
  const firstColumn = offset - starts[first]!;
  const end = offset + text.length;
  const sources: string[] = [];
  const mappings: SourceMapSegment[][] = Array.from({ length: artifact.line }, () => []);
  for (let k = 0; first + k < starts.length && starts[first + k]! < end; k++) {
    const from = k === 0 ? firstColumn : 0;
    const to = end - starts[first + k]!;
    const shift = k === 0 ? artifact.column - firstColumn : 0;
    const out: SourceMapSegment[] = [];
    for (const segment of inner.mappings[first + k] ?? []) {
      if (segment.length < 4 || segment[0] < from || segment[0] >= to) continue;
      const [column, source, line, sourceColumn] = segment as [number, number, number, number];
      let index = sources.indexOf(inner.sources[source]!);
      if (index < 0) index = sources.push(inner.sources[source]!) - 1;
      out.push([column + shift, index, line, sourceColumn]);
    }
    mappings.push(out);
  }
  return { sources, mappings };
}

/**
 * The map with its sources named relative to the function's folder (or the
 * Deno cache), behind a key made from the artifact's code and the map, so the
 * same function at the same place in its file gives the same artifact
 * wherever the project and the cache are.
 */
async function portable(
  map: { sources: string[]; mappings: SourceMapSegment[][] },
  code: string,
  roots: SourceRoots,
): Promise<FuncSourceMap | undefined> {
  if (!map.mappings.some((line) => line.length > 0)) return undefined;
  const named = map.sources.map((s): [keyof SourceRoots, string] | [undefined, string] =>
    s.startsWith(roots.src)
      ? ["src", s.slice(roots.src.length)]
      : s.startsWith(roots.deno_dir)
      ? ["deno_dir", s.slice(roots.deno_dir.length)]
      : [undefined, s]
  );
  const mappings = encode(map.mappings);
  const key = (await sha256Hex(`${code}\n${JSON.stringify(named)}\n${mappings}`)).slice(0, 12);
  const sources = named.map(([root, path]) =>
    root === undefined ? path : artifactSourceName(key, root, path)
  );
  return { map: JSON.stringify({ version: 3, sources, names: [], mappings }), key, roots };
}

/** The offset at which each line of `code` begins; `undefined` when it has line ends other than `\n`. */
function lineStarts(code: string): number[] | undefined {
  // V8 also ends lines at \r, U+2028 and U+2029; such code is left without a map.
  if (/[\r\u2028\u2029]/.test(code)) return undefined;
  const starts = [0];
  for (let i = code.indexOf("\n"); i >= 0; i = code.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

/** The line (from 0) that holds `offset`. */
function lineOf(starts: number[], offset: number): number {
  let line = 0;
  while (line + 1 < starts.length && starts[line + 1]! <= offset) line++;
  return line;
}

/** A directory's file URL, ending in `/`. */
function dirUrl(path: string): string {
  return pathToFileURL(path).href.replace(/\/?$/, "/");
}

/** A file's text, when this process may read it without a prompt and it exists. */
async function readIfAllowed(path: string): Promise<string | undefined> {
  if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return undefined;
  return await Deno.readTextFile(path).catch(() => undefined);
}
