// deno task bench: the local target's benchmarks of BENCHMARKS.md, side by side in one run.
//
// 1. Floors (bench/floor.ts): two child processes exchanging one JSON line per
//    item (unbatched), Worker threads (one message per item), the same
//    child processes sent 1,000 items per line (batched), and Worker threads
//    sent 200 items of 1 MiB (structured clone), the floor of step 3.
// 2. cloudknot no-op items, 1,000 to 300,000: per-item cost and the peak
//    resident memory of the whole process tree.
// 3. 200 items of 1 MiB Uint8Array: throughput, peak memory, when map()
//    returned and when the first item started.
// 4. cloudknot against faast.js's local mode (npm faastjs, run under Node by
//    bench/faast/scenario.js, installed there on first use), both timed from
//    setup to "cleanup done", with the same functions and concurrency:
//    5,000 no-op items, and 64 CPU-bound Monte Carlo items of about 0.2 s.
//
// Every scenario runs in its own process; the load average is printed before
// and after, since the machine may be shared.
import { join } from "node:path";
import { measure } from "./process_tree.ts";

const here = import.meta.dirname!;
const cores = navigator.hardwareConcurrency;
const MiB = 2 ** 20;
const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
const last = (stdout: string) => JSON.parse(stdout.trim().split("\n").at(-1)!);

async function ensureFaast(): Promise<void> {
  try {
    await Deno.stat(join(here, "faast/node_modules/faastjs"));
  } catch {
    const out = await new Deno.Command("npm", {
      args: ["install", "--no-audit", "--no-fund", "--prefix", join(here, "faast")],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error("npm install of faastjs failed");
  }
}

function floor(mode: string, items: number) {
  return measure(Deno.execPath(), [
    "run",
    "-A",
    join(here, "floor.ts"),
    mode,
    String(items),
    String(cores),
    String(MiB),
  ]).then((m) => ({ ...last(m.stdout), peakMiB: m.peakRss / MiB, cpuMs: m.cpuMs }));
}

function cloudknot(scenario: string, items: number, arg: number) {
  return measure(Deno.execPath(), [
    "run",
    "-A",
    join(here, "cloudknot_scenario.ts"),
    scenario,
    String(items),
    String(arg),
    String(cores),
  ]).then((m) => ({
    ...last(m.stdout),
    wallMs: m.wallMs,
    peakMiB: m.peakRss / MiB,
    cpuMs: m.cpuMs,
  }));
}

function faast(scenario: string, items: number, arg: number) {
  return measure("node", [
    join(here, "faast/scenario.js"),
    scenario,
    String(items),
    String(arg),
    String(cores),
  ]).then((m) => ({
    ...last(m.stdout),
    wallMs: m.wallMs,
    peakMiB: m.peakRss / MiB,
    cpuMs: m.cpuMs,
  }));
}

/**
 * Samples for one Monte Carlo item of about 0.2 s on this machine, measured
 * inside real cloudknot workers.
 */
async function calibrate(): Promise<number> {
  let samples = 5_000_000;
  for (let round = 0; round < 2; round++) {
    const r = await cloudknot("monte-carlo", cores, samples);
    samples = Math.round(samples * 200 / (r.itemMs / cores));
  }
  return samples;
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const f0 = (x: number) => x.toFixed(0);
/** CPU time of a whole process tree (GNU time), or "n/a". */
const cpu = (ms: number | undefined, per = 1, unit = 1000) =>
  ms === undefined ? "n/a" : f1(ms * unit / per);

console.log(`cores: ${cores}; deno ${Deno.version.deno}; load average before: ${load()}`);
await ensureFaast();

console.log("\n## Floors (concurrency " + cores + ")\n");
console.log(
  "| floor | items | µs per item | CPU µs per item (tree, startup included) |\n|---|---|---|---|",
);
const lines = await floor("lines", 10_000);
const worker = await floor("worker", 20_000);
const batched = await floor("batched", 300_000);
const bytesFloor = await floor("bytes", 200);
const floorMbs = 200 * MiB / 1e6 / (bytesFloor.ms / 1000);
for (
  const [name, r] of [["child processes, one JSON line per item", lines], [
    "Worker threads, one message per item",
    worker,
  ], ["child processes, 1,000 items per line", batched]] as const
) {
  console.log(`| ${name} | ${r.items} | ${f2(r.usPerItem)} | ${cpu(r.cpuMs, r.items)} |`);
}
console.log(
  `| Worker threads, one 1 MiB Uint8Array per message | 200 | ${f2(bytesFloor.usPerItem)} | ${
    cpu(bytesFloor.cpuMs, 200)
  } |`,
);
console.log(`\n1 MiB floor: ${f0(floorMbs)} MB/s`);

console.log("\n## cloudknot local, no-op items\n");
console.log(
  "| items | µs per item | of the unbatched floor | process wall s | CPU µs per item (tree, startup included) | of which the client | peak RSS MiB (tree) |\n|---|---|---|---|---|---|---|",
);
for (const n of [1_000, 10_000, 100_000, 300_000]) {
  const r = await cloudknot("noop", n, 0);
  const us = r.callsMs * 1000 / n;
  console.log(
    `| ${n} | ${f1(us)} | ${f2(us / lines.usPerItem)} | ${f2(r.wallMs / 1000)} | ${
      cpu(r.cpuMs, n)
    } | ${cpu(r.clientCpuMs, n)} | ${f0(r.peakMiB)} |`,
  );
}

console.log("\n## 200 × 1 MiB Uint8Array (payload 200 MiB)\n");
console.log(
  "| function | MB/s | ÷ floor's | CPU s (tree) | peak RSS MiB (tree) | × payload | map() returned ms | first item started ms |\n|---|---|---|---|---|---|---|---|",
);
for (const scenario of ["bytes", "echo"]) {
  const r = await cloudknot(scenario, 200, MiB);
  const mbs = 200 * MiB / 1e6 / (r.callsMs / 1000);
  console.log(
    `| ${scenario === "bytes" ? "returns the length" : "returns the bytes"} | ${f0(mbs)} | ${
      f2(mbs / floorMbs)
    } | ${cpu(r.cpuMs, 1, 1 / 1000)} | ${f0(r.peakMiB)} | ${f2(r.peakMiB / 200)} | ${
      f0(r.mapReturnedMs)
    } | ${f0(r.firstStartedMs)} |`,
  );
}

console.log('\n## Against faast.js local (both to "cleanup done")\n');
const samples = await calibrate();
console.log(`Monte Carlo samples per item: ${samples}\n`);
console.log(
  "| scenario | tool | setup s | calls s | cleanup s | to cleanup done s | process wall s | CPU s (tree) | peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|",
);
for (const [scenario, items, arg] of [["noop", 5000, 0], ["monte-carlo", 64, samples]] as const) {
  const ck = await cloudknot(scenario, items, arg);
  const fa = await faast(scenario, items, arg);
  const total = (r: { setupMs: number; callsMs: number; cleanupMs: number }) =>
    r.setupMs + r.callsMs + r.cleanupMs;
  for (const [tool, r] of [["cloudknot local", ck], ["faast.js local", fa]] as const) {
    console.log(
      `| ${scenario} ${items} | ${tool} | ${f2(r.setupMs / 1000)} | ${f2(r.callsMs / 1000)} | ${
        f2(r.cleanupMs / 1000)
      } | ${f2(total(r) / 1000)} | ${f2(r.wallMs / 1000)} | ${cpu(r.cpuMs, 1, 1 / 1000)} | ${
        f0(r.peakMiB)
      } |`,
    );
  }
  console.log(
    `| ${scenario} ${items} | cloudknot ÷ faast.js | | | | ${f2(total(ck) / total(fa))} | ${
      f2(ck.wallMs / fa.wallMs)
    } | | |`,
  );
  if (scenario === "monte-carlo") {
    console.log(
      `\nMonte Carlo: item CPU ${f2(ck.itemMs / 1000)} s; cloudknot calls ÷ (CPU ÷ cores) = ${
        f2(ck.callsMs / (ck.itemMs / cores))
      }`,
    );
  }
}
console.log(`\nload average after: ${load()}`);
