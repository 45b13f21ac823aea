/**
 * A loopback TCP front for the emulator's HTTP server, so that a fault can
 * drop the client's connection mid-request (`reset`, `lost-response`), which
 * `Deno.serve` alone cannot do.
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
 * HTTP server sees as the remote port.
 *
 * @example Usage
 * ```ts ignore
 * const proxy = new FrontProxy(backendPort);
 * proxy.drop(info.remoteAddr.port);
 * await proxy.close();
 * ```
 */
export class FrontProxy {
  /** The port clients connect to. */
  readonly port: number;
  #listener: Deno.TcpListener;
  #pairs = new Map<number, Pair>();
  #backendPort: number;
  #accepting: Promise<void>;
  #closing = false;

  /**
   * Starts listening.
   *
   * @param backendPort The HTTP server's port.
   */
  constructor(backendPort: number) {
    this.#backendPort = backendPort;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#accepting = this.#accept();
  }

  async #accept(): Promise<void> {
    try {
      for await (const front of this.#listener) {
        if (this.#closing) {
          front.close();
          continue;
        }
        this.#connect(front).catch(() => {});
      }
    } catch {
      // listener closed
    }
  }

  async #connect(front: Deno.TcpConn): Promise<void> {
    let back: Deno.TcpConn;
    try {
      back = await Deno.connect({ hostname: "127.0.0.1", port: this.#backendPort });
    } catch {
      front.close();
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

  /** Stops accepting and closes every connection. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#listener.close();
    await this.#accepting;
    const pairs = [...this.#pairs.entries()];
    for (const [k, p] of pairs) this.#closePair(k, p);
    await Promise.allSettled(pairs.map(([, p]) => p.done));
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
