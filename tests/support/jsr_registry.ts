/**
 * A loopback JSR registry, so the package can be tested the way users get it
 * (`jsr:@cloudknot/cloudknot`) although jsr.io cannot be reached.
 *
 * {@linkcode packPackage} runs the real `deno publish` against a loopback
 * publish endpoint and keeps the tarball it uploads: the files of `deno.json`'s
 * `publish.include` minus `publish.exclude`, with bare specifiers rewritten to
 * the `npm:`/`jsr:` specifiers of the import map, exactly as Deno prepares them
 * (so it follows `deno.json` as files move). {@linkcode serveRegistry} serves
 * that package with the registry's read layout, which Deno reads from
 * `JSR_URL`:
 *
 * - `/@scope/name/meta.json`: the versions;
 * - `/@scope/name/<version>_meta.json`: the `exports` and the file manifest
 *   (size and `sha256-` checksum of every file, which Deno checks);
 * - `/@scope/name/<version>/<path>`: the files.
 *
 * Deno 2.9.6 asks for exactly these, in this order, when it first resolves
 * `jsr:@cloudknot/cloudknot` (the tests log and check the requests);
 * `deno install -g` also asks for `/@scope/name/<version>/deno.lock`, which
 * is not published and gets a 404.
 *
 * The publish side answers the three calls `deno publish --token` makes
 * (Deno 2.9.6, `cli/tools/publish/mod.rs`): `GET
 * /api/scopes/<scope>/packages/<name>/versions/<version>` (404: not published
 * yet), `GET /api/scopes/<scope>/packages/<name>` (the package exists) and
 * `POST /api/scopes/<scope>/packages/<name>/versions/<version>?config=/deno.json`
 * with the gzipped tarball, answered with a finished publishing task.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The project's root folder. */
export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** A package version as `deno publish` uploaded it. */
export interface PublishedPackage {
  /** The scope, without `@`. */
  scope: string;
  /** The name within the scope. */
  name: string;
  /** The version. */
  version: string;
  /** The `exports` of the uploaded config file. */
  exports: Record<string, string>;
  /** Every uploaded file by its path in the package (`/mod.ts`). */
  files: Map<string, Uint8Array<ArrayBuffer>>;
}

/** Options of {@linkcode packPackage}. */
export interface PackOptions {
  /**
   * The folder holding the package's `deno.json`.
   *
   * @default {"the project's root"}
   */
  root?: string;
  /**
   * The deno binary that publishes.
   *
   * @default {Deno.execPath()}
   */
  deno?: string;
}

/**
 * Runs `deno publish` against a loopback publish endpoint and returns the
 * package it uploaded. Type checks are left to the gates (`--no-check`).
 *
 * @example Usage
 * ```ts ignore
 * const pkg = await packPackage();
 * console.log([...pkg.files.keys()].includes("/mod.ts")); // true
 * ```
 */
export async function packPackage(options: PackOptions = {}): Promise<PublishedPackage> {
  const root = options.root ?? ROOT;
  let upload:
    | { scope: string; name: string; version: string; config: string; tgz: Uint8Array }
    | undefined;
  const api = new URLPattern({
    pathname: "/api/scopes/:scope/packages/:name{/versions/:version}?",
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const match = api.exec(req.url);
    if (match === null) return new Response("not found", { status: 404 });
    const { scope, name, version } = match.pathname.groups;
    if (req.method === "GET" && version === undefined) return Response.json({ scope, name });
    if (req.method === "GET") {
      return Response.json({ code: "versionNotFound", message: "not published yet" }, {
        status: 404,
      });
    }
    upload = {
      scope: scope!,
      name: name!,
      version: version!,
      config: new URL(req.url).searchParams.get("config") ?? "/deno.json",
      tgz: new Uint8Array(await req.arrayBuffer()),
    };
    return Response.json({ id: "loopback", status: "success", error: null });
  });
  try {
    const result = await new Deno.Command(options.deno ?? Deno.execPath(), {
      args: ["publish", "--token", "loopback", "--no-provenance", "--allow-dirty", "--no-check"],
      cwd: root,
      env: { JSR_URL: `http://127.0.0.1:${server.addr.port}/`, NO_COLOR: "1" },
      stdin: "null",
    }).output();
    if (!result.success || upload === undefined) {
      throw new Error(
        `deno publish to the loopback registry failed (exit code ${result.code}):\n${
          new TextDecoder().decode(result.stderr)
        }`,
      );
    }
  } finally {
    await server.shutdown();
  }
  const files = await untar(upload.tgz);
  const config = files.get(upload.config);
  if (config === undefined) throw new Error(`The upload has no ${upload.config}`);
  const exports = JSON.parse(new TextDecoder().decode(config)).exports;
  return {
    scope: upload.scope,
    name: upload.name,
    version: upload.version,
    exports: typeof exports === "string" ? { ".": exports } : exports,
    files,
  };
}

/**
 * The files of a gzipped tarball by path. Deno has no tar reader without
 * JSR's `@std/tar`, which cannot be reached, so the system's `tar` unpacks it.
 */
async function untar(tgz: Uint8Array): Promise<Map<string, Uint8Array<ArrayBuffer>>> {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-jsr-" });
  try {
    const child = new Deno.Command("tar", {
      args: ["-xzf", "-", "-C", dir],
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(tgz);
    await writer.close();
    const result = await child.output();
    if (!result.success) {
      throw new Error(
        `tar could not unpack the upload: ${new TextDecoder().decode(result.stderr)}`,
      );
    }
    const files = new Map<string, Uint8Array<ArrayBuffer>>();
    const walk = async (sub: string): Promise<void> => {
      for await (const entry of Deno.readDir(join(dir, sub))) {
        const path = `${sub}/${entry.name}`;
        if (entry.isDirectory) await walk(path);
        else files.set(path, await Deno.readFile(join(dir, path)));
      }
    };
    await walk("");
    return files;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A running loopback registry. */
export interface JsrRegistry extends AsyncDisposable {
  /** The registry's address, for `JSR_URL`, ending in `/`. */
  url: string;
  /** Every request as `METHOD /path status`, in order. */
  requests: string[];
  /** Stops the server. */
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  ts: "application/typescript; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  json: "application/json",
  md: "text/markdown; charset=utf-8",
};

/**
 * Serves a package on 127.0.0.1 with JSR's read layout.
 *
 * @example Usage
 * ```ts ignore
 * await using registry = await serveRegistry(await packPackage());
 * // run deno with JSR_URL=registry.url
 * ```
 */
export async function serveRegistry(pkg: PublishedPackage): Promise<JsrRegistry> {
  const manifest: Record<string, { size: number; checksum: string }> = {};
  for (const [path, bytes] of pkg.files) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    manifest[path] = { size: bytes.length, checksum: `sha256-${hex}` };
  }
  const base = `/@${pkg.scope}/${pkg.name}/`;
  const meta = {
    scope: pkg.scope,
    name: pkg.name,
    latest: pkg.version,
    versions: { [pkg.version]: { createdAt: new Date(0).toISOString() } },
  };
  const versionMeta = { manifest, exports: pkg.exports };
  const requests: string[] = [];
  const answer = (req: Request): Response => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    if (req.method !== "GET" && req.method !== "HEAD") return new Response(null, { status: 405 });
    if (path === `${base}meta.json`) return Response.json(meta);
    if (path === `${base}${pkg.version}_meta.json`) return Response.json(versionMeta);
    if (path.startsWith(`${base}${pkg.version}/`)) {
      const file = pkg.files.get(path.slice(`${base}${pkg.version}`.length));
      if (file !== undefined) {
        const type = CONTENT_TYPES[path.slice(path.lastIndexOf(".") + 1)] ?? "text/plain";
        return new Response(file, { headers: { "content-type": type } });
      }
    }
    return new Response("not found", { status: 404 });
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const response = answer(req);
    requests.push(`${req.method} ${new URL(req.url).pathname} ${response.status}`);
    return response;
  });
  const close = () => server.shutdown();
  return {
    url: `http://127.0.0.1:${server.addr.port}/`,
    requests,
    close,
    [Symbol.asyncDispose]: close,
  };
}
