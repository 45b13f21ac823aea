// deno run -A bench/cloudknot_scenario.ts <scenario> <items> <arg> <concurrency>
//
// Scenarios: noop (x => x), monte-carlo (arg: samples per item), bytes (arg:
// bytes per Uint8Array item, returns its length), echo (arg: bytes per
// Uint8Array item, returns it). Prints one JSON line, in milliseconds from
// the start: setup (Knot.create), mapReturned (map() resolved), firstStarted
// (the first item started), calls (every result in), cleanup (clobber done);
// and clientCpu, the CPU time of this process alone (its workers not counted).
import process from "node:process";
import { Knot } from "../mod.ts";

const [scenario = "noop", items = "1000", arg = "0", concurrency = "2"] = Deno.args;
const n = Number(items);
const dir = await Deno.makeTempDir({ prefix: "cloudknot-bench-" });
// deno-lint-ignore no-explicit-any
const funcs: Record<string, (x: any) => unknown> = {
  noop: (x: number) => x,
  "monte-carlo": (samples: number) => {
    const start = performance.now();
    let inside = 0;
    for (let i = 0; i < samples; i++) {
      const x = Math.random();
      const y = Math.random();
      if (x * x + y * y <= 1) inside++;
    }
    return { inside, ms: performance.now() - start };
  },
  bytes: (b: Uint8Array) => b.byteLength,
  echo: (b: Uint8Array) => b,
};
// The inputs are made before the clock starts: they are the user's data.
const inputs: unknown[] = scenario === "noop"
  ? Array.from({ length: n }, (_, i) => i)
  : scenario === "monte-carlo"
  ? Array.from({ length: n }, () => Number(arg))
  : Array.from({ length: n }, (_, i) => new Uint8Array(Number(arg)).fill(i % 256));
const t0 = performance.now();
const knot = await Knot.create({
  name: `bench-${scenario}`,
  dir,
  concurrency: Number(concurrency),
  func: funcs[scenario]!,
});
const t1 = performance.now();
let firstStarted = Infinity;
const run = await knot.map(inputs, { progress: false });
const mapReturned = performance.now();
const results: unknown[] = await run.results();
const t2 = performance.now();
if (scenario === "bytes" || scenario === "echo") {
  // The first item's start, from its record (map() returns once every input is written).
  for (const item of run.items) {
    const at = (item.startedAt ?? Infinity) - performance.timeOrigin;
    if (at < firstStarted) firstStarted = at;
  }
}
await knot.clobber();
await Deno.remove(dir, { recursive: true });
const t3 = performance.now();
const clientCpu = process.cpuUsage();
const itemMs = scenario === "monte-carlo"
  ? (results as { ms: number }[]).reduce((s, r) => s + r.ms, 0)
  : 0;
if (results.length !== n) throw new Error(`${results.length} results for ${n} items`);
console.log(JSON.stringify({
  setupMs: t1 - t0,
  mapReturnedMs: mapReturned - t1,
  firstStartedMs: firstStarted === Infinity ? null : firstStarted - t1,
  callsMs: t2 - t1,
  cleanupMs: t3 - t2,
  itemMs,
  clientCpuMs: (clientCpu.user + clientCpu.system) / 1000,
  count: results.length,
}));
