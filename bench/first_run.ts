// deno task bench:first-run [ref…]: what the first `deno task demo` of a fresh
// clone downloads, and how long it takes, for each git ref (default HEAD).
//
// Each ref is cloned from this repository into a temporary folder and runs
// the demo with an empty DENO_DIR, through a loopback HTTPS proxy that counts
// the bytes coming back from the registries (every byte Deno fetches goes
// through it), then three times more with that DENO_DIR warm. It does so for
// the demo as it is (32 items of 2,000,000 samples) and for a demo of 2 items
// of 1,000 samples, whose time is Deno, the knot and its workers starting.
// Reported: bytes downloaded, npm packages fetched, the DENO_DIR's size, the
// cold wall time and the median warm one (cold minus warm is what the first
// run costs).
import { join } from "node:path";
import { cachedNpmPackages, treeBytes } from "../tests/support/npm_cache.ts";
import { cloneAt } from "./clone.ts";
import { median } from "./median.ts";

const repo = join(import.meta.dirname!, "..");
const refs = Deno.args.length > 0 ? Deno.args : ["HEAD"];

/** A CONNECT proxy on loopback that counts the bytes each way. */
function countingProxy() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const counts = { down: 0, up: 0, connections: 0 };
  const pipe = async (from: Deno.Conn, to: Deno.Conn, count: (n: number) => void) => {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (let n = await from.read(buffer); n !== null; n = await from.read(buffer)) {
        count(n);
        let written = 0;
        while (written < n) written += await to.write(buffer.subarray(written, n));
      }
    } catch {
      // the other side closed
    }
    try {
      to.closeWrite();
    } catch {
      // already closed
    }
  };
  const serve = async (client: Deno.Conn) => {
    let head = "";
    const buffer = new Uint8Array(8192);
    while (!head.includes("\r\n\r\n")) {
      const n = await client.read(buffer);
      if (n === null) return client.close();
      head += new TextDecoder().decode(buffer.subarray(0, n));
    }
    const [, host, port] = /^CONNECT ([^:\s]+):(\d+) /.exec(head) ?? [];
    if (host === undefined) return client.close();
    const upstream = await Deno.connect({ hostname: host, port: Number(port) });
    counts.connections++;
    await client.write(new TextEncoder().encode("HTTP/1.1 200 Connection Established\r\n\r\n"));
    await Promise.all([
      pipe(client, upstream, (n) => counts.up += n),
      pipe(upstream, client, (n) => counts.down += n),
    ]);
    client.close();
    upstream.close();
  };
  (async () => {
    for await (const conn of listener) serve(conn).catch(() => conn.close());
  })().catch(() => {});
  const { port } = listener.addr as Deno.NetAddr;
  return { url: `http://127.0.0.1:${port}`, counts, close: () => listener.close() };
}

async function demo(
  clone: string,
  env: Record<string, string>,
  args: string[],
): Promise<number> {
  const start = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "demo", ...args],
    cwd: clone,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - start;
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return ms;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
console.log(
  "| ref | demo | downloaded MB | npm packages | DENO_DIR MB | cold s | warm s (median of 3) |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const ref of refs) {
  for (const args of [[], ["2", "1000"]]) {
    const dir = await Deno.makeTempDir({ prefix: "cloudknot-first-run-" });
    const proxy = countingProxy();
    try {
      const clone = join(dir, "clone");
      await cloneAt(repo, ref, clone);
      const denoDir = join(dir, "deno-dir");
      const env = {
        DENO_DIR: denoDir,
        HTTPS_PROXY: proxy.url,
        CLOUDKNOT_LOCAL_DIR: join(dir, "knots"),
        CLOUDKNOT_LOCAL_RUNS: join(dir, "runs"),
        NO_COLOR: "1",
      };
      const cold = await demo(clone, env, args);
      const down = proxy.counts.down;
      const warm = median([
        await demo(clone, env, args),
        await demo(clone, env, args),
        await demo(clone, env, args),
      ]);
      const packages = (await cachedNpmPackages(denoDir)).size;
      console.log(
        `| ${ref} | \`deno task demo${args.map((a) => ` ${a}`).join("")}\` | ${
          mb(down)
        } | ${packages} | ${mb(await treeBytes(denoDir))} | ${(cold / 1000).toFixed(2)} | ${
          (warm / 1000).toFixed(2)
        } |`,
      );
    } finally {
      proxy.close();
      await Deno.remove(dir, { recursive: true });
    }
  }
}
