/**
 * A loopback TCP front for an HTTP server (the emulator's): what `Deno.serve`
 * alone cannot do to a client. The emulator keeps one in front of its server,
 * whose faults drop one client's connection mid-request (`reset`,
 * `lost-response`); a test that needs a network that goes away (a laptop that
 * loses it) puts one of its own in front of the emulator and unplugs it, and
 * plugs it in again.
 *
 * @module
 */

interface Pair {
  front: Deno.TcpConn;
  back: Deno.TcpConn;
  closed: boolean;
  done: Promise<void>;
}

/**
 * Accepts connections on an ephemeral loopback port and pipes each to the
 * backend port; a pair is found again by the backend-side port, which the
 * HTTP server sees as the remote port. Unplugged, it refuses connections and
 * has cut those that were open, until it is plugged in again on the same
 * port.
 *
 * @example Usage
 * ```ts ignore
 * const front = new FrontProxy(Number(new URL(emu.endpoint).port));
 * const session = await sessionFor(emu, { endpoint: front.endpoint });
 * front.unplug(); // the laptop loses its network
 * front.plug(); // and finds it again
 * await front.close();
 * ```
 */
export class FrontProxy {
  /** The port clients connect to. */
  readonly port: number;
  #backendPort: number;
  #listener: Deno.TcpListener | undefined;
  /** The accept loops, and the connections to the backend under way. */
  #pending = new Set<Promise<void>>();
  #pairs = new Map<number, Pair>();
  /** Counts the unplugs: a connection accepted before the latest one is cut. */
  #unplugs = 0;

  /**
   * Starts listening.
   *
   * @param backendPort The HTTP server's port.
   */
  constructor(backendPort: number) {
    this.#backendPort = backendPort;
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (listener.addr as Deno.NetAddr).port;
    this.#listen(listener);
  }

  /** Where clients reach it: `http://127.0.0.1:<port>`. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  #listen(listener: Deno.TcpListener): void {
    this.#listener = listener;
    this.#track(this.#accept(listener));
  }

  #track(pending: Promise<void>): void {
    this.#pending.add(pending);
    pending.finally(() => this.#pending.delete(pending));
  }

  async #accept(listener: Deno.TcpListener): Promise<void> {
    const unplugs = this.#unplugs;
    try {
      for await (const front of listener) {
        this.#track(this.#connect(front, unplugs).catch(() => {}));
      }
    } catch {
      // listener closed
    }
  }

  async #connect(front: Deno.TcpConn, unplugs: number): Promise<void> {
    let back: Deno.TcpConn;
    try {
      back = await Deno.connect({ hostname: "127.0.0.1", port: this.#backendPort });
    } catch {
      front.close();
      return;
    }
    if (unplugs !== this.#unplugs) {
      // Unplugged while it connected: cut, as the others were.
      front.close();
      back.close();
      return;
    }
    const key = (back.localAddr as Deno.NetAddr).port;
    const pair: Pair = { front, back, closed: false, done: Promise.resolve() };
    this.#pairs.set(key, pair);
    const up = pump(front, back);
    const down = pump(back, front);
    pair.done = Promise.allSettled([up, down]).then(() => {
      this.#closePair(key, pair);
    });
  }

  #closePair(key: number, pair: Pair): void {
    if (!pair.closed) {
      pair.closed = true;
      try {
        pair.front.close();
      } catch { /* already closed */ }
      try {
        pair.back.close();
      } catch { /* already closed */ }
    }
    this.#pairs.delete(key);
  }

  /**
   * Drops the client connection whose backend side has this local port.
   *
   * @param backendSidePort The remote port the HTTP server saw.
   */
  drop(backendSidePort: number): void {
    const pair = this.#pairs.get(backendSidePort);
    if (pair) this.#closePair(backendSidePort, pair);
  }

  /** Refuses new connections and cuts the open ones, as when a laptop loses its network. */
  unplug(): void {
    this.#unplugs++;
    this.#listener?.close();
    this.#listener = undefined;
    for (const [key, pair] of [...this.#pairs]) this.#closePair(key, pair);
  }

  /** Accepts connections again, on the same port. */
  plug(): void {
    if (this.#listener !== undefined) return;
    this.#listen(Deno.listen({ hostname: "127.0.0.1", port: this.port }));
  }

  /** Stops accepting and closes every connection, once their pipes have ended. */
  async close(): Promise<void> {
    const pairs = [...this.#pairs.values()];
    this.unplug();
    await Promise.allSettled([...this.#pending]);
    await Promise.allSettled(pairs.map((p) => p.done));
  }
}

async function pump(from: Deno.TcpConn, to: Deno.TcpConn): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    while (true) {
      const n = await from.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await to.write(buf.subarray(off, n));
    }
    await to.closeWrite().catch(() => {});
  } catch {
    // either side closed
  }
}
