/**
 * A counter the test job's `"count i"` items reach (`tests/fixtures/docker_job.ts`,
 * which fetches `$COUNTER/i`): it counts each item's runs and answers
 * `ran i`, holding the answers it is told to until `release()`, so a test
 * knows which items run and how often, and when they may end.
 *
 * @module
 */

/** A running counter. */
export interface ItemCounter {
  /** How many times each item ran, by item. */
  hits: Map<string, number>;
  /** Lets every held answer, and every later one, go. */
  release(): void;
  /** What the items' `COUNTER` variable is set to (on this machine's loopback). */
  url: string;
  /** Releases the answers held and stops the counter. */
  close(): Promise<void>;
}

/**
 * Starts a counter.
 *
 * @example Usage
 * ```ts ignore
 * const counter = itemCounter((item, run) => item === "2" && run === 1);
 * await knot.map(["count 1", "count 2"], { env: { COUNTER: counter.url } });
 * ```
 *
 * @param hold Whether to hold the answer to this run (from 1) of this item until `release()`.
 * @returns The counter.
 */
export function itemCounter(hold: (item: string, run: number) => boolean): ItemCounter {
  const hits = new Map<string, number>();
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const item = new URL(req.url).pathname.slice(1);
      const run = (hits.get(item) ?? 0) + 1;
      hits.set(item, run);
      if (hold(item, run)) await released;
      return new Response(`ran ${item}`);
    },
  );
  return {
    hits,
    release,
    url: `http://127.0.0.1:${server.addr.port}`,
    close: async () => {
      release();
      await server.shutdown();
    },
  };
}
