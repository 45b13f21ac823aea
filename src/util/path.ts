/**
 * The few `node:path` and `node:url` helpers that a job's start path uses
 * (the stores, the AWS credential chain, the worker pool), written here for
 * POSIX: the first `node:` import of a process loads Deno's Node layer,
 * about 9 ms of every job's start for five small functions (BENCHMARKS.md,
 * "Job start"; `deno bundle` hoists every static `node:` import of the
 * runtime to its top, so a single one costs every job). On Windows they are
 * `node:path`'s and `node:url`'s own, imported only there.
 *
 * Each behaves as its `node:` namesake on POSIX (`tests/util/path_test.ts`
 * compares them).
 *
 * @module
 */

const node = Deno.build.os === "windows"
  ? await Promise.all([import("node:path"), import("node:url")]).then(([path, url]) => ({
    join: path.join,
    dirname: path.dirname,
    resolve: path.resolve,
    fileURLToPath: url.fileURLToPath,
    pathToFileURL: url.pathToFileURL,
  }))
  : undefined;

/**
 * Joins path segments and normalizes the result, as `node:path`'s `join`.
 *
 * @example Usage
 * ```ts ignore
 * join("/home/me", ".aws", "config"); // "/home/me/.aws/config"
 * ```
 *
 * @param parts The segments.
 * @returns The joined path, `"."` for none.
 */
export function join(...parts: string[]): string {
  if (node !== undefined) return node.join(...parts);
  const joined = parts.filter((p) => p !== "").join("/");
  return joined === "" ? "." : normalize(joined);
}

/**
 * The directory of a path, as `node:path`'s `dirname`.
 *
 * @example Usage
 * ```ts ignore
 * dirname("/run/records/1"); // "/run/records"
 * ```
 *
 * @param path The path.
 * @returns Its directory.
 */
export function dirname(path: string): string {
  if (node !== undefined) return node.dirname(path);
  if (path === "") return ".";
  const rooted = path[0] === "/";
  let end = -1;
  // Trailing slashes are skipped; the last slash before them ends the directory.
  let trailing = true;
  for (let i = path.length - 1; i >= 1; i--) {
    if (path[i] === "/") {
      if (!trailing) {
        end = i;
        break;
      }
    } else {
      trailing = false;
    }
  }
  if (end === -1) return rooted ? "/" : ".";
  if (rooted && end === 1) return "//";
  return path.slice(0, end);
}

/**
 * An absolute, normalized path, relative to the working directory when it is
 * not absolute, as `node:path`'s `resolve` of one path.
 *
 * @example Usage
 * ```ts ignore
 * resolve("/tmp/a/../b/"); // "/tmp/b"
 * ```
 *
 * @param path The path.
 * @returns The absolute path, without a trailing slash.
 */
export function resolve(path: string): string {
  if (node !== undefined) return node.resolve(path);
  const absolute = normalize(path[0] === "/" ? path : `${Deno.cwd()}/${path}`);
  return absolute.length > 1 && absolute.endsWith("/") ? absolute.slice(0, -1) : absolute;
}

/**
 * The path of a `file:` URL, as `node:url`'s `fileURLToPath`.
 *
 * @example Usage
 * ```ts ignore
 * fileURLToPath("file:///app/function%20one.js"); // "/app/function one.js"
 * ```
 *
 * @param url The URL.
 * @returns Its path.
 * @throws {TypeError} When it is not a `file:` URL of this machine, or names an encoded `/`.
 */
export function fileURLToPath(url: string | URL): string {
  if (node !== undefined) return node.fileURLToPath(url);
  const parsed = typeof url === "string" ? new URL(url) : url;
  if (parsed.protocol !== "file:") throw new TypeError("The URL must be of scheme file");
  if (parsed.hostname !== "") {
    throw new TypeError(`File URL host must be "localhost" or empty on ${Deno.build.os}`);
  }
  if (/%2f/i.test(parsed.pathname)) {
    throw new TypeError("File URL path must not include encoded / characters");
  }
  return decodeURIComponent(parsed.pathname);
}

/**
 * The `file:` URL of a path (made absolute first), as `node:url`'s
 * `pathToFileURL`.
 *
 * @example Usage
 * ```ts ignore
 * pathToFileURL("/tmp/a b#1").href; // "file:///tmp/a%20b%231"
 * ```
 *
 * @param path The path.
 * @returns Its URL.
 */
export function pathToFileURL(path: string): URL {
  if (node !== undefined) return node.pathToFileURL(path);
  let absolute = resolve(path);
  // resolve() drops a trailing slash, which names a directory: keep it.
  if (path.endsWith("/") && !absolute.endsWith("/")) absolute += "/";
  const url = new URL("file://");
  // The pathname setter encodes what a path may hold but a URL may not,
  // except these, which it would read as part of the URL's syntax.
  url.pathname = absolute.replace(/%/g, "%25").replace(/\\/g, "%5C").replace(/\n/g, "%0A")
    .replace(/\r/g, "%0D").replace(/\t/g, "%09").replace(/\?/g, "%3F").replace(/#/g, "%23");
  return url;
}

/** Resolves `.` and `..` and repeated slashes, keeping a leading and a trailing one. */
function normalize(path: string): string {
  const rooted = path[0] === "/";
  const out: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment !== "..") out.push(segment);
    else if (out.length > 0 && out.at(-1) !== "..") out.pop();
    else if (!rooted) out.push("..");
  }
  let body = out.join("/");
  if (body === "" && !rooted) body = ".";
  if (body !== "" && path.endsWith("/")) body += "/";
  return (rooted ? "/" : "") + body;
}
