/**
 * Starts Debian's `docker-registry` on 127.0.0.1 with htpasswd logins and
 * storage in a temporary directory. Docker treats 127.0.0.0/8 as an insecure
 * registry it may use over plain HTTP, so push and pull work without TLS.
 *
 * @module
 */
import { join } from "node:path";
import { bcrypt } from "../deps.ts";
import { endChild } from "./processes.ts";

/** Options of {@linkcode startRegistry}. */
export interface RegistryOptions {
  /** The users and their passwords; by default `cloudknot` with a random password. */
  users?: Record<string, string>;
  /**
   * The registry binary.
   *
   * @default {"docker-registry"}
   */
  binary?: string;
}

/** A running registry. Close it (or `await using` it) when done. */
export interface Registry extends AsyncDisposable {
  /** `127.0.0.1:<port>`, the host part of image names. */
  host: string;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The first user. */
  username: string;
  /** The first user's password. */
  password: string;
  /** The registry's storage directory. */
  storage: string;
  /** The last lines the registry logged, for diagnostics. */
  logs(): string[];
  /** Stops the registry and removes its storage. */
  close(): Promise<void>;
}

/**
 * Starts a registry on a free loopback port and waits until it answers.
 *
 * @param options The users and the binary.
 * @returns The running registry.
 */
export async function startRegistry(options: RegistryOptions = {}): Promise<Registry> {
  const users = options.users ?? { cloudknot: crypto.randomUUID() };
  const [username, password] = Object.entries(users)[0] ??
    (() => {
      throw new Error("startRegistry needs at least one user");
    })();
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-registry-" });
  const port = freePort();
  const host = `127.0.0.1:${port}`;
  // bcrypt's lowest cost: the registry checks the hash on every request (tests/emulator/registry.ts).
  const htpasswd = Object.entries(users)
    .map(([user, pass]) => `${user}:${bcrypt.hashSync(pass, 4)}`)
    .join("\n");
  await Deno.writeTextFile(join(dir, "htpasswd"), htpasswd + "\n");
  await Deno.mkdir(join(dir, "data"));
  const config = [
    "version: 0.1",
    "log:",
    "  level: warn",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(dir, "data")}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: ${host}`,
    `  secret: ${crypto.randomUUID()}`,
    "auth:",
    "  htpasswd:",
    "    realm: cloudknot-test",
    `    path: ${join(dir, "htpasswd")}`,
  ].join("\n");
  await Deno.writeTextFile(join(dir, "config.yml"), config + "\n");

  const child = new Deno.Command(options.binary ?? "docker-registry", {
    args: ["serve", join(dir, "config.yml")],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const keep = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      lines.push(...chunk.split("\n").filter((l) => l !== ""));
      if (lines.length > 100) lines.splice(0, lines.length - 100);
    }
  };
  const drained = Promise.all([keep(child.stdout), keep(child.stderr)]);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await endChild(child);
    await drained;
    await Deno.remove(dir, { recursive: true });
  };

  const url = `http://${host}`;
  try {
    await waitUntilUp(url, child.status);
  } catch (e) {
    await close();
    throw new Error(`docker-registry did not start: ${lines.slice(-10).join("\n")}`, { cause: e });
  }
  return {
    host,
    url,
    username,
    password,
    storage: join(dir, "data"),
    logs: () => [...lines],
    close,
    [Symbol.asyncDispose]: close,
  };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Polls `GET /v2/` until it answers 401 (auth is on) or 200. */
async function waitUntilUp(url: string, exited: Promise<Deno.CommandStatus>): Promise<void> {
  let done = false;
  const gone = exited.then(() => {
    done = true;
  });
  for (let i = 0; i < 100 && !done; i++) {
    try {
      const res = await fetch(`${url}/v2/`);
      await res.body?.cancel();
      if (res.status === 401 || res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await Promise.race([gone, Promise.resolve()]);
  throw new Error(done ? "the registry exited" : "the registry did not answer within 10 s");
}
