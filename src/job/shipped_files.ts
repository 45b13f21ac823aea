/**
 * The data files a module's function reads beside itself at run time
 * (`new URL("./model.json", import.meta.url)`), shipped with its artifact:
 * the `files` option of `Knot.create()` and `DockerImage.create()`, and
 * `--file` on the command line. The paths are relative to the module's folder,
 * as `import.meta.url` resolves them; where the function runs they lie at the
 * same paths beside its artifact (`artifacts/<hash>/` on the local target,
 * `/app/` in a container). They are checked (inside the module's folder, no
 * `..`, no symlink leaving it, present) before anything is bundled, built or
 * created, and their contents and paths are part of the artifact's hash.
 *
 * @module
 */
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { CloudknotInputError } from "../util/errors.ts";
import { validateFilesList } from "./function_source.ts";
import { sha256Hex } from "../util/sha256.ts";

/** One file shipped beside a function. */
export interface ShippedFile {
  /** Its path relative to the module's folder, with `/` between its parts. */
  path: string;
  /** Its size in bytes. */
  size: number;
  /** The SHA-256 of its contents, in hex. */
  sha256: string;
}

/** The files shipped beside a function, and where they are on this machine. */
export interface ShippedFiles {
  /** The folder they are relative to (the module's, or a copy of it), an absolute path. */
  dir: string;
  /** The files, sorted by path. */
  files: ShippedFile[];
}

/**
 * The names beside the function that are the runtime's own where it runs
 * (`/app/` in a container holds them), which a shipped file may not take.
 */
export const RESERVED_FILE_NAMES: readonly string[] = Object.freeze([
  "function.js",
  "runtime.js",
  "worker.js",
]);

// Checked with the other options that give a function, where a knot's checks load it alone.
export { validateFilesList } from "./function_source.ts";

/**
 * Checks the `files` option of a module and reads what it names: each path,
 * relative to the module's folder, is a file or a directory (taken whole,
 * recursively) inside that folder. Nothing is copied.
 *
 * @example Usage
 * ```ts
 * import { collectShippedFiles } from "@cloudknot/cloudknot/job";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/model.json`, "{}");
 * const shipped = await collectShippedFiles(new URL(`file://${dir}/job.ts`), ["./model.json"]);
 * console.log(shipped.files.map((f) => f.path)); // [ "model.json" ]
 * ```
 *
 * @param module The module's URL: a `file:` URL, whose folder the paths are relative to.
 * @param paths The paths, as the user gave them.
 * @returns The files, with their sizes and hashes.
 * @throws {CloudknotInputError} When `files` is not a list of strings, the module is not on
 *   this machine, or a path is absolute, leaves the module's folder (by `..` or a symlink),
 *   is missing, or takes a name of the runtime's.
 */
export async function collectShippedFiles(
  module: URL,
  paths: readonly string[],
): Promise<ShippedFiles> {
  validateFilesList(paths);
  if (module.protocol !== "file:") {
    throw new CloudknotInputError(
      `files need a module on this machine, whose folder they are relative to, not ${module.href}: ` +
        `pass the module's path, or leave files out`,
      { field: "files" },
    );
  }
  const dir = dirname(fileURLToPath(module));
  const realDir = await Deno.realPath(dir);
  const found = new Map<string, string>();
  const missing: string[] = [];
  for (const given of paths) {
    if (given.startsWith("/") || /^[a-z][a-z0-9+.-]*:/i.test(given) || given.startsWith("\\")) {
      throw new CloudknotInputError(
        `files: "${given}" is not relative to the module's folder (${dir}): name it as the ` +
          `function does, relative to the module (new URL("./model.json", import.meta.url) is ` +
          `"./model.json")`,
        { field: "files" },
      );
    }
    const full = resolve(dir, given);
    const rel = relative(dir, full);
    if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`)) {
      throw new CloudknotInputError(
        `files: "${given}" is ${
          rel === "" ? "the module's folder itself" : "outside the module's folder"
        } (${dir}): only files and folders inside it are shipped beside the function; move ` +
          `the data into it, or name the files and folders inside it to ship`,
        { field: "files" },
      );
    }
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(full);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
        missing.push(given);
        continue;
      }
      throw e;
    }
    await walk(full, info, dir, realDir, given, found, new Set());
  }
  if (missing.length > 0) {
    throw new CloudknotInputError(
      `files: ${missing.map((p) => `"${p}"`).join(", ")} ${
        missing.length === 1 ? "does" : "do"
      } not exist in the module's folder (${dir}): the paths are relative to the module, ` +
        `not to the working directory`,
      { field: "files" },
    );
  }
  const files: ShippedFile[] = [];
  for (const path of [...found.keys()].sort()) {
    const first = path.split("/")[0]!;
    if (RESERVED_FILE_NAMES.includes(first)) {
      throw new CloudknotInputError(
        `files: "${path}" would take the place of the runtime's ${first} beside the function ` +
          `where it runs: rename it (and the path the function reads it by)`,
        { field: "files" },
      );
    }
    files.push({ path, ...(await hashFile(join(dir, path))) });
  }
  return { dir, files };
}

/**
 * Adds what a path names to `found` (its path relative to the module's
 * folder `dir` → its full path): a file, or every file under a directory. A symlink
 * is followed when what it names is inside the folder.
 */
async function walk(
  full: string,
  info: Deno.FileInfo,
  dir: string,
  realDir: string,
  given: string,
  found: Map<string, string>,
  seen: Set<string>,
): Promise<void> {
  const real = await Deno.realPath(full);
  const inside = relative(realDir, real);
  if (inside === ".." || inside.startsWith(`..${sep}`)) {
    throw new CloudknotInputError(
      `files: "${given}" ${
        info.isSymlink ? "is a symlink to" : "holds a symlink to"
      } ${real}, outside the module's folder (${realDir}): only what is inside it is shipped; ` +
        `copy the data into the folder instead of linking to it`,
      { field: "files" },
    );
  }
  const target = info.isSymlink ? await Deno.stat(full) : info;
  if (target.isFile) {
    found.set(relative(dir, full).split(sep).join("/"), full);
    return;
  }
  if (!target.isDirectory || seen.has(real)) return;
  seen.add(real);
  for await (const entry of Deno.readDir(full)) {
    const child = join(full, entry.name);
    await walk(child, await Deno.lstat(child), dir, realDir, given, found, seen);
  }
}

/**
 * The size and SHA-256 of a file, read a chunk at a time (a large model is
 * never held in memory whole).
 */
async function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  // node:crypto for a hash fed chunk by chunk (Web Crypto digests whole buffers only), loaded
  // here: its import costs a process about 0.05 s, and most knots ship no files.
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  let size = 0;
  using file = await Deno.open(path);
  for await (const chunk of file.readable.values({ preventCancel: true })) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { size, sha256: hash.digest("hex") };
}

/**
 * The hash of an artifact that ships files: its source's hash with each
 * file's path, size and contents' hash, so a changed, added, removed or
 * moved data file is a changed function, and the same ones are not.
 *
 * @example Usage
 * ```ts
 * import { hashWithFiles } from "@cloudknot/cloudknot/job";
 *
 * const files = [{ path: "model.json", size: 2, sha256: "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" }];
 * console.log((await hashWithFiles("ab".repeat(32), files)).length); // 64
 * ```
 *
 * @param sourceHash The SHA-256 of the artifact's source, in hex.
 * @param files The files shipped beside it.
 * @returns The artifact's hash: `sourceHash` itself when there are none.
 */
export async function hashWithFiles(
  sourceHash: string,
  files: readonly ShippedFile[],
): Promise<string> {
  if (files.length === 0) return sourceHash;
  return await sha256Hex(
    [sourceHash, ...files.map((f) => `${f.sha256} ${f.size} ${JSON.stringify(f.path)}`)]
      .join("\n"),
  );
}

/**
 * Copies the shipped files into a folder at their relative paths, a file at
 * a time by the file system (never read into memory).
 *
 * @example Usage
 * ```ts ignore
 * await copyShippedFiles(artifact.files!, "/home/me/.cloudknot/local/k/artifacts/ab12…");
 * ```
 *
 * @param shipped The files and their folder.
 * @param to The folder to copy them into (made when missing).
 */
export async function copyShippedFiles(shipped: ShippedFiles, to: string): Promise<void> {
  for (const f of shipped.files) {
    const dest = join(to, ...f.path.split("/"));
    await Deno.mkdir(dirname(dest), { recursive: true });
    await Deno.copyFile(join(shipped.dir, ...f.path.split("/")), dest);
  }
}

/** How many data files a function ships beside itself, and their bytes: what a knot's record keeps. */
export interface ShippedCount {
  /** How many files. */
  count: number;
  /** Their bytes, together. */
  bytes: number;
}

/**
 * How many files are shipped, and their bytes, for a knot's record.
 *
 * @example Usage
 * ```ts
 * import { shippedCount } from "@cloudknot/cloudknot/job";
 *
 * console.log(shippedCount([{ size: 10 }, { size: 5 }])); // { count: 2, bytes: 15 }
 * ```
 *
 * @param files The files.
 * @returns Their count and total size.
 */
export function shippedCount(files: readonly Pick<ShippedFile, "size">[]): ShippedCount {
  return { count: files.length, bytes: files.reduce((n, f) => n + f.size, 0) };
}

/**
 * The files shipped, in words for a plan or a knot's summary.
 *
 * @example Usage
 * ```ts
 * import { describeShippedFiles } from "@cloudknot/cloudknot/job";
 *
 * console.log(describeShippedFiles([{ size: 1500 }])); // "1 file, 1500 bytes"
 * console.log(describeShippedFiles({ count: 2, bytes: 10 })); // "2 files, 10 bytes"
 * ```
 *
 * @param files The files, or their count and total bytes.
 * @returns Their count and total size.
 */
export function describeShippedFiles(
  files: readonly Pick<ShippedFile, "size">[] | ShippedCount,
): string {
  const { count, bytes } = "count" in files ? files : shippedCount(files);
  return `${count} file${count === 1 ? "" : "s"}, ${bytes} byte${bytes === 1 ? "" : "s"}`;
}

/**
 * The files a folder holds (a copy made by {@linkcode copyShippedFiles}, such
 * as an image's build directory's `files/`), read back with their sizes and
 * hashes; `undefined` when there is no such folder.
 *
 * @example Usage
 * ```ts ignore
 * const shipped = await shippedFilesIn("/home/me/.cloudknot/images/score/files");
 * console.log(shipped?.files.length);
 * ```
 *
 * @param dir The folder.
 * @returns The files in it, sorted by path.
 */
export async function shippedFilesIn(dir: string): Promise<ShippedFiles | undefined> {
  const paths: string[] = [];
  const walkDir = async (sub: string): Promise<void> => {
    for await (const entry of Deno.readDir(join(dir, sub))) {
      const path = sub === "" ? entry.name : `${sub}/${entry.name}`;
      if (entry.isDirectory) await walkDir(path);
      else if (entry.isFile) paths.push(path);
    }
  };
  try {
    await walkDir("");
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw e;
  }
  const files: ShippedFile[] = [];
  for (const path of paths.sort()) files.push({ path, ...(await hashFile(join(dir, path))) });
  return { dir, files };
}
