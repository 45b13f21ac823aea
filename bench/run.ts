// deno task bench: the local-target benchmarks of BENCHMARKS.md.
//
//  (a) 5,000 no-op items;  (b) 64 CPU-bound Monte Carlo items of about 0.2 s.
//
// Each scenario runs in its own process, on cloudknot's local target and, side
// by side, on faast.js's local mode under Node (npm `faastjs`, installed into
// bench/faast/node_modules on first use; a dependency of the benchmark only).
// Reported: total wall time of the process (setup, calls and cleanup), the
// peak resident memory of its process tree, and for (b) the wall time of the
// calls against the total CPU time of the items divided by the cores.
import { join } from "node:path";
import { measure } from "./process_tree.ts";

const here = import.meta.dirname!;
const cores = navigator.hardwareConcurrency;

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

/**
 * Samples for one Monte Carlo item of about 0.2 s on this machine, measured
 * inside real cloudknot workers (the JIT treats the shipped function
 * differently from a loop in this process).
 */
async function calibrate(): Promise<number> {
  let samples = 5_000_000;
  for (let round = 0; round < 2; round++) {
    const m = await measure(Deno.execPath(), [
      "run",
      "-A",
      join(here, "cloudknot_scenario.ts"),
      "monte-carlo",
      String(cores),
      String(samples),
      String(cores),
    ]);
    const { itemMs } = JSON.parse(m.stdout.trim().split("\n").at(-1)!);
    samples = Math.round(samples * 200 / (itemMs / cores));
  }
  return samples;
}

interface Row {
  tool: string;
  wallMs: number;
  setupMs: number;
  callsMs: number;
  cleanupMs: number;
  itemMs: number;
  peakMiB: number;
}

async function scenario(name: string, items: number, samples: number): Promise<Row[]> {
  const rows: Row[] = [];
  const ck = await measure(Deno.execPath(), [
    "run",
    "-A",
    join(here, "cloudknot_scenario.ts"),
    name,
    String(items),
    String(samples),
    String(cores),
  ]);
  const fa = await measure("node", [
    join(here, "faast/scenario.js"),
    name,
    String(items),
    String(samples),
    String(cores),
  ]);
  for (const [tool, m] of [["cloudknot local", ck], ["faast.js local", fa]] as const) {
    const r = JSON.parse(m.stdout.trim().split("\n").at(-1)!);
    rows.push({ tool, wallMs: m.wallMs, ...r, peakMiB: m.peakRss / 2 ** 20 });
  }
  return rows;
}

function table(rows: Row[]): string {
  const lines = [
    "| tool | process wall s | setup s | calls s | cleanup s | peak RSS MiB |",
    "|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.tool} | ${(r.wallMs / 1000).toFixed(2)} | ${(r.setupMs / 1000).toFixed(2)} | ${
        (r.callsMs / 1000).toFixed(2)
      } | ${(r.cleanupMs / 1000).toFixed(2)} | ${r.peakMiB.toFixed(0)} |`,
    );
  }
  return lines.join("\n");
}

await ensureFaast();
const samples = await calibrate();
console.log(`cores: ${cores}; Monte Carlo samples per item: ${samples}`);

const a = await scenario("noop", 5000, 0);
console.log("\n(a) 5,000 no-op items\n" + table(a));
const [cka, faa] = a;
console.log(
  `cloudknot/faast.js total wall time: ${(cka!.wallMs / faa!.wallMs).toFixed(2)} (target ≤ 0.5)`,
);

const b = await scenario("monte-carlo", 64, samples);
console.log("\n(b) 64 Monte Carlo items\n" + table(b));
for (const r of b) {
  const ideal = r.itemMs / cores;
  console.log(
    `${r.tool}: calls ${(r.callsMs / 1000).toFixed(2)} s, item CPU ${
      (r.itemMs / 1000).toFixed(2)
    } s, ` +
      `ratio to CPU/cores ${(r.callsMs / ideal).toFixed(3)} (target ≤ 1.18 for cloudknot)`,
  );
}
