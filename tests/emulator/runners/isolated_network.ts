/**
 * A network for job containers that reaches the emulator and nothing else:
 * no registry, no DNS, no internet. It stands for a compute environment in a
 * private subnet with no NAT gateway, whose VPC endpoints reach the AWS
 * services (Batch in such subnets: <https://docs.aws.amazon.com/batch/latest/userguide/vpc-interface-endpoints.html>;
 * S3 through a gateway endpoint: <https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html>).
 *
 * A relay container runs with `--network none`, so its network namespace has
 * only loopback. Job containers join that namespace
 * (`docker run --network container:<relay>`), so they see the emulator at the
 * same `127.0.0.1:<port>` as with host networking. The relay listens there
 * and carries each connection over a Unix socket, bind-mounted from this
 * machine, to a forwarder in this process that connects to the emulator.
 *
 * @module
 */
import { join } from "node:path";

/** The relay's program: TCP on the namespace's loopback to the mounted Unix socket. */
const RELAY = `
const port = Number(Deno.args[0]);
const server = Deno.listen({ hostname: "127.0.0.1", port });
console.log("relay listening");
for await (const conn of server) {
  (async () => {
    let up;
    try {
      up = await Deno.connect({ transport: "unix", path: "/relay/emulator.sock" });
      await Promise.all([conn.readable.pipeTo(up.writable), up.readable.pipeTo(conn.writable)]);
    } catch {
      try { conn.close(); } catch {}
      try { up?.close(); } catch {}
    }
  })();
}
`;

/** Options of {@linkcode IsolatedNetwork.start}. */
export interface IsolatedNetworkOptions {
  /** The emulator's port on this machine's loopback. */
  port: number;
  /** An image with `deno` on `PATH` for the relay. */
  image: string;
  /** The label value of the emulator's containers (`cloudknot-emulator=<label>`). */
  label: string;
  /** Runs the docker CLI. */
  docker: (args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;
}

/**
 * A relay container whose network namespace job containers join.
 *
 * @example Usage
 * ```ts ignore
 * const net = await IsolatedNetwork.start({ port: 4566, image, label, docker });
 * // docker run --network container:${net.container} …
 * await net.close();
 * ```
 */
export class IsolatedNetwork {
  /** The relay container's name, for `--network container:<name>`. */
  readonly container: string;
  #dir: string;
  #listener: Deno.Listener;
  #docker: IsolatedNetworkOptions["docker"];
  #serving: Promise<void>;
  #open = new Set<Deno.Conn>();

  private constructor(
    container: string,
    dir: string,
    listener: Deno.Listener,
    docker: IsolatedNetworkOptions["docker"],
    port: number,
  ) {
    this.container = container;
    this.#dir = dir;
    this.#listener = listener;
    this.#docker = docker;
    this.#serving = this.#serve(port);
  }

  /**
   * Starts the forwarder and the relay container, and waits until it listens.
   *
   * @param options The emulator's port, the relay's image and the docker CLI.
   */
  static async start(options: IsolatedNetworkOptions): Promise<IsolatedNetwork> {
    const dir = await Deno.makeTempDir({ prefix: "ckemu-relay-" });
    await Deno.chmod(dir, 0o777);
    await Deno.writeTextFile(join(dir, "relay.js"), RELAY);
    const socket = join(dir, "emulator.sock");
    const listener = Deno.listen({ transport: "unix", path: socket });
    await Deno.chmod(socket, 0o777);
    const container = `ckemu-${options.label}-relay`;
    const net = new IsolatedNetwork(container, dir, listener, options.docker, options.port);
    const run = await options.docker([
      "run",
      "--detach",
      "--name",
      container,
      "--label",
      `cloudknot-emulator=${options.label}`,
      "--network",
      "none",
      "--volume",
      `${dir}:/relay`,
      "--entrypoint",
      "deno",
      options.image,
      "run",
      "--allow-net",
      "--allow-read=/relay",
      "--allow-write=/relay",
      "/relay/relay.js",
      String(options.port),
    ]);
    if (run.code !== 0) {
      await net.close();
      throw new Error(`The relay container did not start: ${run.stderr.trim()}`);
    }
    for (let i = 0;; i++) {
      const logs = await options.docker(["logs", container]);
      if (logs.stdout.includes("relay listening")) break;
      if (i > 300) {
        await net.close();
        throw new Error(`The relay container does not listen: ${logs.stdout}${logs.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return net;
  }

  async #serve(port: number): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.#open.add(conn);
        (async () => {
          let up: Deno.TcpConn | undefined;
          try {
            up = await Deno.connect({ hostname: "127.0.0.1", port });
            this.#open.add(up);
            await Promise.all([
              conn.readable.pipeTo(up.writable),
              up.readable.pipeTo(conn.writable),
            ]);
          } catch {
            for (const c of [conn, up]) {
              try {
                c?.close();
              } catch { /* closed */ }
            }
          } finally {
            this.#open.delete(conn);
            if (up !== undefined) this.#open.delete(up);
          }
        })();
      }
    } catch { /* the listener was closed */ }
  }

  /** Removes the relay container and stops forwarding. */
  async close(): Promise<void> {
    await this.#docker(["rm", "-f", this.container]);
    try {
      this.#listener.close();
    } catch { /* closed */ }
    for (const conn of this.#open) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await this.#serving;
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}
