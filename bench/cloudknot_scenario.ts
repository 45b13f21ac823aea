// deno run -A bench/cloudknot_scenario.ts <noop|monte-carlo> <items> <samples> <concurrency>
// Prints one JSON line: the whole map (Knot.create included) in milliseconds.
import { Knot } from "../mod.ts";

const [scenario, items, samples, concurrency] = Deno.args;
const n = Number(items);
const dir = await Deno.makeTempDir({ prefix: "cloudknot-bench-" });
const t0 = performance.now();
const knot = scenario === "noop"
  ? await Knot.create({
    name: "bench-noop",
    dir,
    concurrency: Number(concurrency),
    func: (x: number) => x,
  })
  : await Knot.create({
    name: "bench-monte-carlo",
    dir,
    concurrency: Number(concurrency),
    func: (samples: number) => {
      const start = performance.now();
      let inside = 0;
      for (let i = 0; i < samples; i++) {
        const x = Math.random();
        const y = Math.random();
        if (x * x + y * y <= 1) inside++;
      }
      return { inside, ms: performance.now() - start };
    },
  });
const t1 = performance.now();
const inputs = scenario === "noop"
  ? Array.from({ length: n }, (_, i) => i)
  : Array.from({ length: n }, () => Number(samples));
const run = await knot.map(inputs, { progress: false });
const results: unknown[] = await run.results();
const t2 = performance.now();
await knot.clobber();
await Deno.remove(dir, { recursive: true });
const t3 = performance.now();
const itemMs = scenario === "noop"
  ? 0
  : (results as { ms: number }[]).reduce((s, r) => s + r.ms, 0);
console.log(
  JSON.stringify({
    setupMs: t1 - t0,
    callsMs: t2 - t1,
    cleanupMs: t3 - t2,
    itemMs,
    count: results.length,
  }),
);
