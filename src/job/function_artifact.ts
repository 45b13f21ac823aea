/**
 * Function shipping: turns the user's function into one self-contained
 * ES module (the artifact) whose default export is the function. The artifact
 * is what a worker process or a container imports; it needs no network.
 *
 * - `func`: the function's own source text is shipped. Imports must go inside
 *   the function as `await import(...)`; a function that uses names from the
 *   scope it was written in is refused before anything runs. When the text
 *   can be traced back to its file (`func_source_map.ts`), the artifact
 *   carries a source map to it, named as a module's is, so its frames name
 *   the file and line; otherwise they name the artifact.
 * - `module` + `exportName`: the module's whole graph, npm packages included,
 *   is bundled on this machine with `deno bundle` into one file. The bundle
 *   carries an inline source map, so a stack trace from the artifact, wherever
 *   it runs, names the user's file and line rather than the bundle's. The map
 *   names the files relative to the user's folder and to the Deno cache
 *   (`artifact_sources.ts`), so the artifact and its hash depend only on the
 *   code, not on where the project or the cache is.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { dirname, join } from "node:path";
import { homedir } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import { denoLimit, outputWithin } from "../util/command_limit.ts";
import { CloudknotInputError } from "../util/errors.ts";
import { ArtifactError } from "./artifact_error.ts";
import { sha256Hex } from "../util/sha256.ts";
import {
  artifactSourceName,
  type ArtifactSources,
  rememberSourceRoots,
  type SourceRoots,
} from "./artifact_sources.ts";
import { type FileReference, fileReferences } from "./file_references.ts";
import { funcSourceMap } from "./func_source_map.ts";
import { realignRequireShim } from "./require_shim_lines.ts";
import type { FunctionKind } from "./function_kind.ts";
import { directoryModuleMessage } from "./module_directory.ts";
import { undeclaredNames } from "./undeclared_names.ts";
import { exportCheckEntry } from "./export_check_cache.ts";
import { collectShippedFiles, hashWithFiles, type ShippedFiles } from "./shipped_files.ts";

export { ArtifactError };

export type { FunctionKind } from "./function_kind.ts";

/** A function packaged as one self-contained ES module. */
export interface FunctionArtifact {
  /** How the function was shipped. */
  kind: FunctionKind;
  /** The ES module's source; its default export is the function. */
  source: string;
  /**
   * The SHA-256 of `source`, in hex, or, when it ships files, of that with
   * the files' paths and contents (`shipped_files.ts`): the artifact's identity.
   */
  hash: string;
  /** The function's name, for messages and default names. */
  name: string;
  /**
   * Where the sources its source map names were when it was made, for a knot
   * to record so any process can resolve its stack frames (absent when it has
   * no map, and for an artifact read back without them).
   */
  sources?: ArtifactSources;
  /**
   * The data files shipped beside it (the `files` option of a module), at
   * their paths relative to its folder where it runs; absent when none.
   */
  files?: ShippedFiles;
}

/**
 * Packages a self-contained function by its source text.
 *
 * @example Usage
 * ```ts
 * import { artifactFromFunc } from "@cloudknot/cloudknot/job";
 *
 * const artifact = await artifactFromFunc((x: number) => x * 2);
 * console.log(artifact.kind, artifact.hash.length); // "func" 64
 * ```
 *
 * @param func The function; it must not use names from its enclosing scope.
 * @param options `deno` is the deno binary that checks the source for names
 *   it does not declare (default: this one).
 * @returns The artifact.
 * @throws {CloudknotInputError} When `func` is not a plain function with
 *   source text, or uses names from the scope it was written in.
 */
export async function artifactFromFunc(
  // deno-lint-ignore no-explicit-any
  func: (...args: any[]) => unknown,
  options: { deno?: string } = {},
): Promise<FunctionArtifact> {
  if (typeof func !== "function") {
    throw new CloudknotInputError(
      `func must be a function, not ${describe(func)}`,
      { field: "func" },
    );
  }
  const text = Function.prototype.toString.call(func);
  if (/^class[\s{]/.test(text)) {
    throw new CloudknotInputError(
      "func must be a function, not a class: wrap the work in a function that creates the instance",
      { field: "func" },
    );
  }
  if (/\{\s*\[native code\]\s*\}\s*$/.test(text)) {
    // A bound function's name is "bound " and its target's (none for an anonymous one).
    const bound = /^bound (.*)$/.exec(func.name);
    const what = bound !== null
      ? `a bound function${bound[1] ? ` of "${bound[1]}"` : ""}`
      : `a built-in or bound function${func.name ? ` named "${func.name}"` : ""}`;
    throw new CloudknotInputError(
      `func has no source text to ship (it is ${what}): pass a function written in your code, ` +
        `or use module and exportName`,
      { field: "func" },
    );
  }
  if (/^(async\s+)?function\s*\*|^async\s*\*/.test(text)) {
    throw new CloudknotInputError(
      "func must not be a generator function: return an array instead",
      { field: "func" },
    );
  }
  const expression = asExpression(text);
  const code = `// cloudknot function artifact: the source of func "${func.name}"\n` +
    `export const kind = "func";\nexport default ${expression};\n`;
  // The function's text is on the artifact's third line, inside the expression
  // after `export default `. The map never fails (it is absent instead), and
  // it settles before the check's error is thrown, so no deno outlives it.
  const mapping = funcSourceMap(func, {
    code,
    line: 2,
    column: "export default ".length + expression.indexOf(text),
  }, { denoDir: thisDenoDir });
  const undeclared = await undeclaredNames(code, options).finally(() => mapping);
  const located = await mapping;
  if (undeclared !== undefined && undeclared.length > 0) {
    const list = undeclared.map((name) => `"${name}"`).join(", ");
    throw new CloudknotInputError(
      `func uses ${list} from the scope it was written in, but only the function's own source is ` +
        `shipped, so ${
          undeclared.length === 1 ? "that name is" : "those names are"
        } not defined where it runs: ` +
        "pass values in the inputs, define helpers inside the function, import packages inside it " +
        "with await import(...), or use module and exportName to ship a whole module",
      { field: "func" },
    );
  }
  const name = func.name || "anonymous";
  return located === undefined
    ? { kind: "func", source: code, hash: await sha256Hex(code), name }
    : await mappedArtifact("func", name, code, located);
}

/**
 * An artifact of `code` with its portable source map in a `data:` URL
 * comment, which Deno applies wherever it is imported; the map's roots are
 * remembered for this process's stack frames.
 */
async function mappedArtifact(
  kind: FunctionKind,
  name: string,
  code: string,
  mapped: { map: string; key: string; roots: SourceRoots },
): Promise<FunctionArtifact> {
  const source = code.replace(/\n?$/, "\n") +
    "//# sourceMappingURL=data:application/json;base64," +
    Buffer.from(mapped.map).toString("base64") + "\n";
  rememberSourceRoots(mapped.key, mapped.roots);
  return {
    kind,
    source,
    hash: await sha256Hex(source),
    name,
    sources: { key: mapped.key, ...mapped.roots },
  };
}

/** How long `deno info --json` may take to name this process's Deno cache: it reads nothing. */
const DENO_DIR_LOOKUP_MS = 30_000;

/** This process's Deno cache, learned once. */
let denoDirOnce: Promise<string> | undefined;

/**
 * The Deno cache of this process, whose emit cache holds the compiled code of
 * the user's TypeScript with its source map (`func_source_map.ts`). It
 * rejects when this process may not run deno (asking would prompt): then a
 * `func` artifact has no map.
 */
function thisDenoDir(): Promise<string> {
  return denoDirOnce ??= (async () => {
    const deno = Deno.execPath();
    if (Deno.permissions.querySync({ name: "run", command: deno }).state !== "granted") {
      throw new Error("no leave to run deno");
    }
    // A limit of its own, so no environment variable is read (that could prompt).
    return await denoDirOf(deno, Deno.cwd(), DENO_DIR_LOOKUP_MS);
  })().catch((e) => {
    denoDirOnce = undefined;
    throw e;
  });
}

/**
 * Packages a module's export with its whole module graph, npm packages
 * included, by running `deno bundle` on this machine.
 *
 * @example Usage
 * ```ts ignore
 * import { artifactFromModule } from "@cloudknot/cloudknot/job";
 *
 * const artifact = await artifactFromModule("./jobs.ts", "simulate");
 * console.log(artifact.kind); // "module"
 * ```
 *
 * @param module A path or URL of the module. A relative path is resolved
 *   against `cwd` (the working directory), not against the calling file: use
 *   `new URL("./jobs.ts", import.meta.url)` for a module next to your code.
 * @param exportName The export to call; `"default"` for the default export.
 * The module is bundled with the configuration of the project it lives in,
 * found from its folder as `deno run <module>` finds it (the `deno.json` or
 * `package.json` there or in a folder above: its `imports`, its
 * `compilerOptions`, its `node_modules`), wherever the program runs from; a
 * module by URL, with the working directory's.
 *
 * @param options `deno` is the deno binary (default: this one); `cwd` resolves
 *   relative paths (default: `Deno.cwd()`);
 *   `timeoutMs` is how long `deno bundle` (and `deno info`, which names the Deno
 *   cache) may each run before it is killed
 *   (default: `CLOUDKNOT_DENO_TIMEOUT` seconds, else 600000); `warn` is told
 *   when the module's code looks for files beside it at run time, which the
 *   artifact does not hold (`import.meta.url`, `__dirname`: see
 *   `file_references.ts`; default: `console.warn`); `files` are paths relative
 *   to the module's folder, of files and folders to ship beside the function
 *   (`shipped_files.ts`), checked before it is bundled; `cacheDir` is where
 *   the bundle whose export a check found to be a function is remembered, so
 *   that the same bundle is not run again to learn it
 *   (`export_check_cache.ts`; default: `~/.cloudknot/cache/exports`; `false`
 *   keeps nothing).
 * @returns The artifact.
 * @throws {CloudknotInputError} When `exportName` is not a name, or a path of
 *   `files` is outside the module's folder or missing.
 */
export async function artifactFromModule(
  module: string | URL,
  exportName: string,
  options: {
    deno?: string;
    cwd?: string;
    timeoutMs?: number;
    warn?: (message: string) => void;
    files?: readonly string[];
    cacheDir?: string | false;
  } = {},
): Promise<FunctionArtifact> {
  const cwd = options.cwd ?? Deno.cwd();
  const name = String(module);
  if (!/^[A-Za-z_$][\w$]*$/.test(exportName)) {
    throw new CloudknotInputError(
      `exportName "${exportName}" is not a valid export name: pass the name the module exports the function under, or "default"`,
      { field: "exportName" },
    );
  }
  let url: URL;
  try {
    url = module instanceof URL ? module : new URL(module, `file://${cwd.replace(/\/?$/, "/")}`);
  } catch (cause) {
    throw new ArtifactError(`Cannot resolve module ${name}: pass a path or a URL`, {
      module: name,
      cause,
    });
  }
  const found = url.protocol === "file:" ? await fileKind(url) : "file";
  // The data files are checked before anything is bundled, built or created.
  const shipped = options.files === undefined || found !== "file"
    ? undefined
    : await collectShippedFiles(url, options.files);
  const relative = typeof module === "string" && !module.startsWith("/") &&
    !/^[a-z][a-z0-9+.-]*:/i.test(module);
  if (found === "directory") {
    throw new ArtifactError(
      await directoryModuleMessage(name, url, relative ? cwd : undefined),
      { module: name },
    );
  }
  if (found === "none") {
    throw new ArtifactError(
      relative
        ? `Module ${name} does not exist in ${cwd}: a relative module path is resolved against ` +
          `the working directory, not the file that calls cloudknot. To name a module next to ` +
          `your code, pass module: new URL(${
            JSON.stringify(name.startsWith(".") ? name : `./${name}`)
          }, import.meta.url)`
        : `Module ${name} does not exist: pass the path or file URL of a TypeScript or JavaScript module`,
      { module: name },
    );
  }
  // Where deno looks for the project's deno.json or package.json: the module's
  // folder, as `deno run <module>` does, not the program's working directory.
  const project = url.protocol === "file:" ? dirname(fileURLToPath(url)) : cwd;
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-bundle-" });
  try {
    const entry = `${dir}/entry.ts`;
    const out = `${dir}/artifact.js`;
    const target = JSON.stringify(url.href);
    await Deno.writeTextFile(
      entry,
      (exportName === "default"
        ? `export { default } from ${target};\n`
        : `export { ${exportName} as default } from ${target};\n`) +
        `export const kind = "module";\n`,
    );
    const deno = options.deno ?? Deno.execPath();
    // Both settle before either's failure is thrown, so no `deno` process
    // outlives the error (each is killed at its own limit).
    const [bundled, cache] = await Promise.allSettled([
      outputWithin(deno, {
        // Any host: the user named this module and its graph; bundling only
        // fetches their code into the artifact, which imports nothing where it
        // runs (the workers' permissions are their own).
        args: [
          "bundle",
          "--quiet",
          "--allow-import",
          "--platform",
          "deno",
          "--sourcemap",
          "external",
          "--output",
          out,
          entry,
        ],
        cwd: project,
        env: { NO_COLOR: "1" },
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }, denoLimit(["bundle", name], options.timeoutMs)),
      denoDirOf(deno, cwd, options.timeoutMs),
    ]);
    if (bundled.status === "rejected") throw bundled.reason;
    if (cache.status === "rejected") throw cache.reason;
    const [result, denoDir] = [bundled.value, cache.value];
    if (!result.success) {
      // Deno's own backtrace, empty, says nothing to a user.
      const detail = new TextDecoder().decode(result.stderr).replace(/\n+Stack backtrace:[^]*$/, "")
        .trim().split("\n").slice(-15).join("\n");
      // What deno bundle says of a remote module whose content type it does not take for code,
      // and of a package whose registry it could not read.
      const unread = /Do not know how to load path: deno:(https?:\S+)/.exec(detail)?.[1];
      const registry = /Do not know how to load path: deno:((jsr|npm):\S+)/.exec(detail);
      throw new ArtifactError(
        (registry === null ? "" : `Cannot load ${registry[1]}, which ${name} imports, from ` +
          `${registry[2] === "jsr" ? "JSR (jsr.io, or the registry JSR_URL names)" : "npm"}: ` +
          `the registry cannot be reached from this machine, or it has no such package or ` +
          `version. A package is fetched when the module is bundled, on this machine; ` +
          `\`deno cache ${name}\` prints Deno's own reason. `) +
          `Cannot capture module ${name} with deno bundle (exit code ${result.code}); ` +
          `fix the module or its imports so that \`deno bundle --allow-import ${name}\` works` +
          (unread === undefined ? "" : `, and check the content type the server sends with ` +
            `${unread}: Deno reads a module by it, so TypeScript must come as ` +
            `application/typescript, JavaScript as text/javascript`) +
          `:\n${detail}`,
        { module: name },
      );
    }
    const code = await Deno.readTextFile(out);
    const mapText = realignRequireShim(code, await Deno.readTextFile(`${out}.map`));
    const at = { map: pathToFileURL(`${out}.map`), cwd: project, denoDir, entryDir: dir };
    const portable = await portableBundle(code, mapText, at);
    const bundle = portable.code;
    if (!/\bas default\b|\bdefault\b\s*[,}]/.test(bundle.slice(bundle.lastIndexOf("export {")))) {
      const names = await exportedFunctions(url, deno, project, options.timeoutMs);
      throw new ArtifactError(
        names?.length === 0
          ? `Module ${name} has no export named "${exportName}", and it exports no function: ` +
            `export the function to run from it, then pass its name as exportName`
          : `Module ${name} has no export named "${exportName}": pass one of its exported ` +
            `function names as exportName` +
            (names === undefined ? "" : ` (its functions: ${names.join(", ")})`),
        { module: name },
      );
    }
    const cacheDir = options.cacheDir ?? join(homedir(), ".cloudknot", "cache", "exports");
    // Keyed by the portable bundle: the raw one names this call's temporary folder.
    const checked = cacheDir === false
      ? undefined
      : await exportCheckEntry(cacheDir, url, exportName, bundle);
    const known = await checked?.known() ?? false;
    const kind = known ? "function" : await exportKind(out, deno);
    if (kind === SLOW_TO_LOAD) {
      (options.warn ?? console.warn)(
        `cloudknot: module ${name} was still loading after ${EXPORT_CHECK_MS / 1000} s (its top ` +
          `level waits for something, or loads for that long), so whether its export is a ` +
          `function was not checked. Each worker loads it before its first item; with a timeout ` +
          `(Knot.create({ timeout })), a worker still loading it after the timeout (30 s at ` +
          `least) fails its items rather than making them wait for ever`,
      );
    }
    if (kind === "function" && !known) await checked?.remember();
    if (kind !== undefined && kind !== "function" && kind !== SLOW_TO_LOAD) {
      const what = exportName === "default" ? "The default export" : `Export ${exportName}`;
      throw new CloudknotInputError(
        `${what} of ${name} is ${kind === "class" ? "a class" : `${article(kind)} ${kind}`}, not ` +
          `a function: pass the name of an exported function as exportName` +
          (kind === "class" ? ", or export a function that creates the instance" : ""),
        { field: "exportName" },
      );
    }
    const references = fileReferences(code, mapText, {
      map: at.map,
      entryDir: directoryUrl(dir),
      denoDir: directoryUrl(denoDir),
    }).filter((r) => shipped === undefined || r.pkg !== undefined || !inFolder(r.url, shipped));
    if (references.length > 0) {
      (options.warn ?? console.warn)(fileReferenceWarning(references, shipped !== undefined));
    }
    const artifact = await mappedArtifact(
      "module",
      exportName === "default" ? basename(url.pathname) : exportName,
      bundle,
      portable,
    );
    return shipped === undefined || shipped.files.length === 0 ? artifact : {
      ...artifact,
      hash: await hashWithFiles(artifact.hash, shipped.files),
      files: shipped,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A bundle and its source map made independent of where the project and the
 * Deno cache are on this machine (see `artifact_sources.ts`): the map names
 * each file relative to the folder of the user's modules or to the Deno cache,
 * behind the key of the bundled code, and so do the comments `deno bundle`
 * writes before each module's code and the keys of its CommonJS wrappers
 * (both relative to `cwd`). Deno reads the map
 * from a `data:` URL comment and applies it to the module's stack frames
 * wherever it is imported. The sources' contents are dropped (a stack trace
 * needs only names and positions), which keeps the artifact small and the
 * user's source out of it.
 */
async function portableBundle(
  code: string,
  mapText: string,
  at: { map: URL; cwd: string; denoDir: string; entryDir: string },
): Promise<{ code: string; map: string; key: string; roots: SourceRoots }> {
  const map = JSON.parse(mapText) as { sources?: string[]; sourcesContent?: unknown };
  const sources = (map.sources ?? []).map((s) => new URL(s, at.map).href);
  const denoDir = directoryUrl(at.denoDir);
  const entryDir = directoryUrl(at.entryDir);
  const own = sources.filter((s) =>
    s.startsWith("file:") && !s.startsWith(denoDir) && !s.startsWith(entryDir)
  );
  // The deepest folder that holds every module of the user's.
  let src = own[0]?.slice(0, own[0].lastIndexOf("/") + 1) ?? "file:///";
  for (const s of own) {
    while (!s.startsWith(src)) src = src.slice(0, src.lastIndexOf("/", src.length - 2) + 1);
  }
  const relativeName = (
    s: string,
  ): [root: "src" | "deno_dir" | "entry", path: string] | undefined =>
    s.startsWith(entryDir)
      ? ["entry", s.slice(entryDir.length)]
      : s.startsWith(denoDir)
      ? ["deno_dir", s.slice(denoDir.length)]
      : s.startsWith(src) && s.startsWith("file:")
      ? ["src", s.slice(src.length)]
      : undefined;
  // The comment before each module's code names its file relative to cwd, and
  // so does the key of a CommonJS module's wrapper ("../x/index.js"(exports, module)).
  const byUrl = new Map(sources.map((s) => [s, relativeName(s)]));
  const cwdUrl = directoryUrl(at.cwd);
  const renamed = new Map<string, string>();
  let portableCode = code.replace(/^\/\/ (\S.*)$/gm, (line, path: string) => {
    const name = byUrl.get(new URL(path, cwdUrl).href);
    if (name === undefined) return line;
    renamed.set(path, `${name[0]}/${name[1]}`);
    return `// ${name[0]}/${name[1]}`;
  });
  for (const [path, name] of renamed) {
    portableCode = portableCode.replaceAll(JSON.stringify(path), JSON.stringify(name));
  }
  const key = (await sha256Hex(portableCode)).slice(0, 12);
  map.sources = sources.map((s) => {
    const name = byUrl.get(s);
    return name === undefined ? s : artifactSourceName(key, name[0], name[1]);
  });
  delete map.sourcesContent;
  return {
    code: portableCode,
    map: JSON.stringify(map),
    key,
    roots: { src, deno_dir: denoDir },
  };
}

/**
 * Whether a use is in a module of the folder the shipped files are relative
 * to: there, `new URL("./x", import.meta.url)` names a shipped file where the
 * function runs as it does here. A module in another folder (a subfolder, a
 * library's) resolves its paths against the function's folder there, not its
 * own, so it is still warned about.
 */
function inFolder(url: string, shipped: ShippedFiles): boolean {
  return url.startsWith("file:") && dirname(fileURLToPath(url)) === shipped.dir;
}

/**
 * The warning for a bundle whose code looks for files beside its source: the
 * file and line of each use, and what to do instead. `shipping`: the module
 * ships files already, which these uses are not beside.
 */
function fileReferenceWarning(references: FileReference[], shipping = false): string {
  const file = (r: FileReference) => r.url.startsWith("file:") ? fileURLToPath(r.url) : r.url;
  const place = (r: FileReference) => `${file(r)}:${r.line}`;
  const own = references.filter((r) => r.pkg === undefined);
  const packages = [...new Set(references.flatMap((r) => r.pkg ?? []))];
  const lines = [
    "cloudknot: the module's code names its own location, to reach files beside " +
    "it when it runs; bundling ships what it imports and nothing else, so those files are not " +
    "where it runs, on any target, unless the files option of Knot.create ships them.",
  ];
  if (own.length > 0) {
    lines.push(
      `  ${own.map((r) => `${place(r)} uses ${r.uses}`).join("; ")}: in the bundled function ` +
        `it names the function's own file where it runs (in the knot's folder, /app/function.js ` +
        `in a container), not the module's folder, so a file read or fetched beside the module, ` +
        `or a Worker started from a module beside it, is not found there` +
        (shipping
          ? ` (the files option of Knot.create ships files beside the function at their paths ` +
            `relative to the module's folder, so only that folder's modules find them there). ` +
            `Ship what this code reads from the module's folder, `
          : `. Ship the files it reads beside the function with the files option of Knot.create ` +
            `(paths relative to the module's folder, such as ./model.json or ./data/), `) +
        `or import a data file ` +
        `with the module instead (import data from "./data.json" with { type: "json" }, or ` +
        `{ type: "text" } or { type: "bytes" }), pass the data in the inputs, or read it from ` +
        `an absolute path that holds it where the function runs (for a container, a base ` +
        `image with the file: baseImage in Knot.create).`,
    );
  }
  for (const pkg of packages) {
    const uses = references.filter((r) => r.pkg === pkg);
    lines.push(
      `  npm package ${pkg} uses ${uses.map((r) => `${r.uses} (${file(r)})`).join(", ")}, ` +
        `which its bundled code does not have: that code throws "ReferenceError: ${
          uses[0]!.uses
        } is not defined" where it runs. Load the package where it runs instead of bundling it: ` +
        `a func (in Knot.create) that imports it inside itself (await import("npm:${pkg}")) ` +
        `runs it from Deno's npm cache, with its own files; or use a package that does not ` +
        `read files of its own.`,
    );
  }
  lines.push(`  See "What a bundled module can reach" in cloudknot's docs/mapping.md.`);
  return lines.join("\n");
}

/** A directory's file URL, ending in `/`. */
function directoryUrl(path: string): string {
  return pathToFileURL(path).href.replace(/\/?$/, "/");
}

/** The Deno cache (`DENO_DIR`) of a deno binary, as `deno info` reports it. */
async function denoDirOf(
  deno: string,
  cwd: string,
  timeoutMs: number | undefined,
): Promise<string> {
  const { success, stdout } = await outputWithin(deno, {
    args: ["info", "--json", "--no-config"],
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }, denoLimit(["info", "--json"], timeoutMs));
  const dir = success
    ? (JSON.parse(new TextDecoder().decode(stdout)) as { denoDir?: unknown }).denoDir
    : undefined;
  if (typeof dir !== "string") {
    throw new ArtifactError(`Cannot learn the Deno cache of ${deno} with \`deno info --json\``, {
      module: "",
    });
  }
  return dir;
}

/** What starts the line that gives the export's type, apart from what the module prints. */
const KIND_MARK = "cloudknot-export-kind:";

/** How long the export's type may take to learn before it is left to the run. */
const EXPORT_CHECK_MS = 30_000;

/** What {@linkcode exportKind} gives when the module was still loading at its limit. */
const SLOW_TO_LOAD = "slow to load";

/**
 * What the bundle's default export is (`function`, `class`, `number`, …),
 * learned by importing it in a deno with no permissions but reading it, so
 * a non-function is refused when the knot is made instead of failing every
 * item. `undefined` when its top level cannot run that way (it needs a
 * permission, or throws): the run will tell; {@linkcode SLOW_TO_LOAD} when it
 * still ran after 30 s.
 */
async function exportKind(bundle: string, deno: string): Promise<string | undefined> {
  const checker = `${bundle}.check.mjs`;
  await Deno.writeTextFile(
    checker,
    `const d = (await import(${JSON.stringify(new URL(`file://${bundle}`).href)})).default;\n` +
      `console.log(${
        JSON.stringify(KIND_MARK)
      } + (typeof d !== "function" ? (d === null ? "null" : ` +
      `Array.isArray(d) ? "array" : typeof d) : ` +
      `/^class[\\s{]/.test(Function.prototype.toString.call(d)) ? "class" : "function"));\n`,
  );
  const child = new Deno.Command(deno, {
    args: ["run", "--no-prompt", "--quiet", "--no-config", `--allow-read=${bundle}`, checker],
    cwd: bundle.slice(0, bundle.lastIndexOf("/")),
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let slow = false;
  const timer = setTimeout(() => {
    slow = true;
    child.kill("SIGKILL");
  }, EXPORT_CHECK_MS);
  try {
    const { success, stdout } = await child.output();
    if (slow) return SLOW_TO_LOAD;
    // The module's own output at import (a log line, a banner) comes before it or after it.
    const said = new TextDecoder().decode(stdout).split("\n").findLast((l) =>
      l.startsWith(KIND_MARK)
    );
    return success ? said?.slice(KIND_MARK.length) || undefined : undefined;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The names of the functions a module exports, re-exports included, as
 * `deno doc` reads them without running the module: function declarations
 * and expressions, and constants typed as functions (a constant whose value
 * it cannot see, such as a call's result, is left out); `undefined` when it
 * cannot tell. Only an error's message uses it.
 */
async function exportedFunctions(
  url: URL,
  deno: string,
  cwd: string,
  timeoutMs: number | undefined,
): Promise<string[] | undefined> {
  try {
    const out = await outputWithin(deno, {
      args: ["doc", "--json", "--allow-import", url.href],
      cwd,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }, denoLimit(["doc", url.href], timeoutMs));
    if (!out.success) return undefined;
    const doc = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      nodes?: Record<string, { symbols?: DocSymbol[] }>;
    };
    const names = Object.values(doc.nodes ?? {}).flatMap((m) => m.symbols ?? [])
      .filter((s) => s.declarations?.some(isFunction)).map((s) => s.name);
    const unique = [...new Set(names)];
    return unique.length > 20 ? [...unique.slice(0, 20), "…"] : unique;
  } catch {
    return undefined;
  }
}

/** What `deno doc --json` says of one exported name. */
interface DocSymbol {
  name: string;
  declarations?: {
    kind?: string;
    def?: { tsType?: { kind?: string; value?: { constructor?: boolean } } };
  }[];
}

/** Whether a declaration `deno doc` read is a function's. */
function isFunction(d: NonNullable<DocSymbol["declarations"]>[number]): boolean {
  return d.kind === "function" ||
    (d.kind === "variable" && d.def?.tsType?.kind === "fnOrConstructor" &&
      d.def.tsType.value?.constructor !== true);
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? "an" : "a";
}

/**
 * What a file URL names: a file, a directory, or nothing (something else,
 * such as a socket, counts as nothing); `"file"` when it cannot be read,
 * leaving that to the bundler.
 */
async function fileKind(url: URL): Promise<"file" | "directory" | "none"> {
  try {
    const info = await Deno.stat(url);
    return info.isFile ? "file" : info.isDirectory ? "directory" : "none";
  } catch (e) {
    return e instanceof Deno.errors.NotFound ? "none" : "file";
  }
}

function asExpression(text: string): string {
  if (compiles(`return (${text});`)) return `(${text})`;
  // A method written with shorthand syntax, such as `square(x) { … }`.
  if (compiles(`return ({ ${text} });`)) return `Object.values({ ${text} })[0]`;
  throw new CloudknotInputError(
    "func's source text cannot be shipped as a standalone function: pass a function expression, arrow function or function declaration",
    { field: "func" },
  );
}

function compiles(body: string): boolean {
  try {
    new Function(body);
    return true;
  } catch {
    return false;
  }
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1).replace(/\.[^.]*$/, "") || "module";
}

function describe(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
}
