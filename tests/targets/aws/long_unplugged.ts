// A front for the emulator that a long-wait test unplugs and plugs again.

/**
 * A loopback TCP front for the emulator that can go away and come back on
 * the same port: while it is away, a connection is refused, and those open
 * are cut, as when a laptop loses its network.
 */
export class Unplugged {
  readonly port: number;
  #backend: number;
  #listener?: Deno.TcpListener;
  #conns = new Set<Deno.TcpConn>();

  constructor(backend: number) {
    this.#backend = backend;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#accept(this.#listener);
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async #accept(listener: Deno.TcpListener): Promise<void> {
    try {
      for await (const front of listener) void this.#pipe(front);
    } catch {
      // closed
    }
  }

  async #pipe(front: Deno.TcpConn): Promise<void> {
    let back: Deno.TcpConn;
    try {
      back = await Deno.connect({ hostname: "127.0.0.1", port: this.#backend });
    } catch {
      front.close();
      return;
    }
    this.#conns.add(front).add(back);
    const end = () => {
      for (const c of [front, back]) {
        if (this.#conns.delete(c)) c.close();
      }
    };
    await Promise.allSettled([
      front.readable.pipeTo(back.writable, { preventClose: true }),
      back.readable.pipeTo(front.writable, { preventClose: true }),
    ].map((p) => p.finally(end)));
  }

  /** Refuses new connections and cuts the open ones. */
  unplug(): void {
    this.#listener?.close();
    this.#listener = undefined;
    for (const c of this.#conns) c.close();
    this.#conns.clear();
  }

  /** Accepts connections again, on the same port. */
  plug(): void {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: this.port });
    this.#accept(this.#listener);
  }

  close(): void {
    this.unplug();
  }
}
