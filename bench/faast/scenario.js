// node bench/faast/scenario.js <noop|monte-carlo> <items> <samples> <concurrency>
// Prints one JSON line: setup, calls and cleanup times in milliseconds. The
// clock stops when cleanup() is done; cleanup gets gcTimeout: 0 so it does
// not leave a timer behind (faast's default keeps the process 10 s longer).
const { faast } = require("faastjs");
const functions = require("./functions");

async function main() {
  const [scenario, items, samples, concurrency] = process.argv.slice(2);
  const n = Number(items);
  const t0 = performance.now();
  const m = await faast("local", functions, { concurrency: Number(concurrency) });
  const t1 = performance.now();
  const calls = scenario === "noop"
    ? Array.from({ length: n }, (_, i) => m.functions.noop(i))
    : Array.from({ length: n }, () => m.functions.monteCarlo(Number(samples)));
  const results = await Promise.all(calls);
  const t2 = performance.now();
  await m.cleanup({ gcTimeout: 0 });
  const t3 = performance.now();
  const itemMs = scenario === "noop" ? 0 : results.reduce((s, r) => s + r.ms, 0);
  console.log(
    JSON.stringify({
      setupMs: t1 - t0,
      callsMs: t2 - t1,
      cleanupMs: t3 - t2,
      itemMs,
      count: results.length,
    }),
  );
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
