/**
 * A real Docker Registry v2 (Debian's `docker-registry`) on a loopback port,
 * with htpasswd auth and deletes enabled: the storage behind emulated ECR.
 *
 * @module
 */
import { bcrypt } from "./deps.ts";
import { forEachLine } from "./runner.ts";

/** Manifest media types the emulator asks the registry for. */
export const MANIFEST_TYPES: string = [
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.index.v1+json",
].join(", ");

/** Options for {@linkcode LocalRegistry.start}. */
export interface RegistryOptions {
  /** The registry binary (default `/usr/bin/docker-registry`). */
  binary?: string;
  /** How long to wait for it to answer, ms (default 15000). */
  startTimeoutMs?: number;
}

/**
 * Decides whether a client request to a repository may reach the registry;
 * returns an error response to refuse it (ECR refuses pushes to repositories
 * that do not exist).
 */
export type RegistryGate = (
  repo: string,
  method: string,
  kind: "blobs" | "manifests" | "tags",
  reference: string,
) => Response | undefined | Promise<Response | undefined>;

/** A manifest fetched from the registry. */
export interface FetchedManifest {
  /** The raw bytes. */
  bytes: Uint8Array;
  /** The media type. */
  mediaType: string;
  /** The digest. */
  digest: string;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * A running local registry.
 *
 * @example Usage
 * ```ts ignore
 * const reg = await LocalRegistry.start();
 * console.log(reg.host); // 127.0.0.1:PORT
 * await reg.stop();
 * ```
 */
export class LocalRegistry {
  /** `127.0.0.1:PORT`: the address clients (docker) use; a gate in front of the registry. */
  readonly host: string;
  /** The registry's own address behind the gate. */
  readonly internalHost: string;
  /** Decides which client requests reach the registry (set by ECR). */
  gate?: RegistryGate;
  /** The login user (`AWS`). */
  readonly username = "AWS";
  /** The login password. */
  readonly password: string;
  /** The storage root. */
  readonly storageDir: string;
  #dir: string;
  #child: Deno.ChildProcess;
  #output: Promise<void>;
  #lines: string[] = [];
  #front: Deno.HttpServer<Deno.NetAddr>;

  private constructor(
    front: Deno.HttpServer<Deno.NetAddr>,
    internalHost: string,
    password: string,
    dir: string,
    child: Deno.ChildProcess,
  ) {
    this.#front = front;
    this.host = `127.0.0.1:${front.addr.port}`;
    this.internalHost = internalHost;
    this.password = password;
    this.#dir = dir;
    this.storageDir = `${dir}/data`;
    this.#child = child;
    this.#output = Promise.all([
      forEachLine(child.stdout, (l) => this.#keep(l)),
      forEachLine(child.stderr, (l) => this.#keep(l)),
    ]).then(() => {});
  }

  #keep(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > 50) this.#lines.shift();
  }

  /**
   * Starts a registry on a free loopback port.
   *
   * @param options The binary and start timeout.
   */
  static async start(options: RegistryOptions = {}): Promise<LocalRegistry> {
    const dir = await Deno.makeTempDir({ prefix: "ckemu-registry-" });
    const password = crypto.randomUUID().replaceAll("-", "");
    // bcrypt's lowest cost: docker-registry checks the hash on every request it is sent (its
    // htpasswd keeps no cache), and this password is random and never leaves the machine. At
    // cost 10, a push of the test base image cost the registry about 1 s of CPU, a login 0.3 s.
    const hash = bcrypt.hashSync(password, 4);
    await Deno.writeTextFile(`${dir}/htpasswd`, `AWS:${hash}\n`);
    await Deno.mkdir(`${dir}/data`);
    const holder: { reg?: LocalRegistry } = {};
    const front = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) => holder.reg ? holder.reg.#forward(req) : new Response("starting", { status: 503 }),
    );
    let lastError: unknown;
    for (let tries = 0; tries < 3; tries++) {
      const port = freePort();
      const config = [
        "version: 0.1",
        "log:",
        "  level: warn",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        `    rootdirectory: ${dir}/data`,
        "  delete:",
        "    enabled: true",
        "http:",
        `  addr: 127.0.0.1:${port}`,
        `  host: http://127.0.0.1:${front.addr.port}`,
        `  secret: ${crypto.randomUUID()}`,
        "auth:",
        "  htpasswd:",
        "    realm: ecr-emulator",
        `    path: ${dir}/htpasswd`,
        "",
      ].join("\n");
      await Deno.writeTextFile(`${dir}/config.yml`, config);
      const child = new Deno.Command(options.binary ?? "/usr/bin/docker-registry", {
        args: ["serve", `${dir}/config.yml`],
        stdout: "piped",
        stderr: "piped",
        stdin: "null",
      }).spawn();
      const reg = new LocalRegistry(front, `127.0.0.1:${port}`, password, dir, child);
      const deadline = Date.now() + (options.startTimeoutMs ?? 15000);
      let up = false;
      let exited = false;
      child.status.then(() => (exited = true));
      while (Date.now() < deadline && !exited) {
        try {
          const r = await fetch(`http://127.0.0.1:${port}/v2/`);
          await r.body?.cancel();
          if (r.status === 401) {
            up = true;
            break;
          }
        } catch (e) {
          lastError = e;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      if (up) {
        holder.reg = reg;
        return reg;
      }
      lastError = new Error(`docker-registry did not start: ${reg.#lines.join("\n")}`);
      await reg.#kill();
    }
    await front.shutdown();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw lastError;
  }

  /** The `Authorization` header value for the registry API. */
  get authorization(): string {
    return `Basic ${btoa(`${this.username}:${this.password}`)}`;
  }

  /**
   * Calls the registry API with auth.
   *
   * @param path The path under `/v2/`.
   * @param init Fetch options.
   */
  async api(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("authorization", this.authorization);
    return await fetch(`http://${this.internalHost}/v2/${path}`, { ...init, headers });
  }

  /**
   * The tags of a repository (empty when it has none or was never pushed).
   *
   * @param repo The repository name.
   */
  async tags(repo: string): Promise<string[]> {
    const r = await this.api(`${repo}/tags/list`);
    if (r.status === 404) {
      await r.body?.cancel();
      return [];
    }
    if (!r.ok) throw new Error(`registry tags/list ${repo}: ${r.status} ${await r.text()}`);
    const body = await r.json() as { tags?: string[] | null };
    return body.tags ?? [];
  }

  /**
   * Fetches a manifest by tag or digest; undefined when missing.
   *
   * @param repo The repository name.
   * @param ref A tag or digest.
   */
  async manifest(repo: string, ref: string): Promise<FetchedManifest | undefined> {
    const r = await this.api(`${repo}/manifests/${ref}`, { headers: { accept: MANIFEST_TYPES } });
    if (r.status === 404) {
      await r.body?.cancel();
      return undefined;
    }
    if (!r.ok) throw new Error(`registry manifest ${repo}:${ref}: ${r.status} ${await r.text()}`);
    const bytes = new Uint8Array(await r.arrayBuffer());
    return {
      bytes,
      mediaType: r.headers.get("content-type") ?? "",
      digest: r.headers.get("docker-content-digest") ?? "",
    };
  }

  /**
   * Deletes a manifest by digest (which removes every tag pointing to it).
   *
   * @param repo The repository name.
   * @param digest The digest.
   */
  async deleteManifest(repo: string, digest: string): Promise<boolean> {
    const r = await this.api(`${repo}/manifests/${digest}`, { method: "DELETE" });
    await r.body?.cancel();
    return r.status === 202;
  }

  /**
   * Puts a manifest under a tag.
   *
   * @param repo The repository name.
   * @param tag The tag.
   * @param m The manifest.
   */
  async putManifest(repo: string, tag: string, m: FetchedManifest): Promise<void> {
    const r = await this.api(`${repo}/manifests/${tag}`, {
      method: "PUT",
      headers: { "content-type": m.mediaType },
      body: m.bytes as Uint8Array<ArrayBuffer>,
    });
    if (r.status !== 201) {
      throw new Error(`registry put manifest ${repo}:${tag}: ${r.status} ${await r.text()}`);
    }
    await r.body?.cancel();
  }

  /**
   * Every manifest digest stored for a repository (tagged or not) with the time
   * it was pushed, read from the registry's storage.
   *
   * @param repo The repository name.
   */
  async revisions(repo: string): Promise<Map<string, Date>> {
    const out = new Map<string, Date>();
    const base =
      `${this.storageDir}/docker/registry/v2/repositories/${repo}/_manifests/revisions/sha256`;
    try {
      for await (const e of Deno.readDir(base)) {
        try {
          const st = await Deno.stat(`${base}/${e.name}/link`);
          out.set(`sha256:${e.name}`, st.mtime ?? new Date());
        } catch {
          // deleted revision: no link file
        }
      }
    } catch {
      // never pushed
    }
    return out;
  }

  async #forward(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const m = url.pathname.match(/^\/v2\/(.+?)\/(blobs|manifests|tags)\/(.*)$/);
    if (m && this.gate) {
      const refused = await this.gate(
        m[1]!,
        req.method,
        m[2] as "blobs" | "manifests" | "tags",
        m[3]!,
      );
      if (refused) {
        await req.body?.cancel();
        return refused;
      }
    }
    const headers = new Headers(req.headers);
    headers.delete("host");
    const res = await fetch(`http://${this.internalHost}${url.pathname}${url.search}`, {
      method: req.method,
      headers,
      body: req.body,
      redirect: "manual",
    });
    return new Response(req.method === "HEAD" ? null : res.body, {
      status: res.status,
      headers: res.headers,
    });
  }

  async #kill(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await this.#child.status;
    await this.#output.catch(() => {});
  }

  /**
   * Removes the local Docker images tagged for this registry. A knot image goes whole, with the
   * client's own tags of it (`cloudknot/<knot>`), as a knot clobber with `image: true` would take
   * it: its name is its test's alone, and a daemon left holding every run's images makes
   * dockerd's listings, builds and removals slower for every test after (each run of the suite
   * left about 70). Any other image loses only its tags for this registry. Its untagged parents
   * stay. Without Docker, there is nothing to remove.
   */
  async removeLocalImages(): Promise<void> {
    const run = (args: string[]) =>
      new Deno.Command("docker", { args, stdout: "piped", stderr: "null", stdin: "null" }).output()
        .then((o) => new TextDecoder().decode(o.stdout), () => "");
    const [tagged, knots] = await Promise.all([
      run(["images", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"]),
      run(["images", "--quiet", "--no-trunc", "--filter", "label=org.cloudknot.image"]),
    ]);
    const knotIds = new Set(knots.split("\n").map((s) => s.trim()).filter(Boolean));
    const mine = new Set(
      tagged.split("\n").map((line) => line.trim().split(" "))
        .filter(([, ref]) => ref?.startsWith(`${this.host}/`))
        .map(([id, ref]) => knotIds.has(id!) ? id! : ref!),
    );
    // `--no-prune`: an image's untagged parents are the layer cache other tests' builds may be
    // using at this moment (a build that found a parent it was removed from under it failed
    // with "unknown parent image ID").
    if (mine.size > 0) await run(["rmi", "--force", "--no-prune", ...mine]);
  }

  /** Stops the registry and removes its storage. */
  async stop(): Promise<void> {
    await this.#kill();
    await this.#front.shutdown();
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}
