// deno run -A bench/noop_ab.ts <before tree> <after tree> [rounds] [items]
//
// Two checkouts of cloudknot side by side on no-op items: each round measures
// the process floor (bench/floor.ts, one JSON line per item, 10,000 items),
// then `items` no-op items (default 300,000) on the local target of each tree,
// interleaved, so both meet the same load. Prints µs per item, its ratio to
// the round's floor, and the CPU per item of the whole process tree and of the
// client alone. A tree is a directory holding bench/ and mod.ts, such as
// `git archive main | tar -x -C /tmp/before`.
import { join } from "node:path";
import { measure } from "./process_tree.ts";

const [before, after, rounds = "3", items = "300000"] = Deno.args;
if (before === undefined || after === undefined) {
  console.error("usage: deno run -A bench/noop_ab.ts <before tree> <after tree> [rounds] [items]");
  Deno.exit(2);
}
const n = Number(items);
const cores = String(navigator.hardwareConcurrency);
const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
const last = (stdout: string) => JSON.parse(stdout.trim().split("\n").at(-1)!);
const here = import.meta.dirname!;

console.log(`load average before: ${load()}`);
for (let round = 1; round <= Number(rounds); round++) {
  const floor = last(
    (await measure(Deno.execPath(), ["run", "-A", join(here, "floor.ts"), "lines", "10000", cores]))
      .stdout,
  ).usPerItem;
  console.log(`round ${round}: process floor ${floor.toFixed(2)} µs per item`);
  for (const [name, tree] of [["before", before], ["after", after]] as const) {
    const m = await measure(Deno.execPath(), [
      "run",
      "-A",
      join(tree, "bench/cloudknot_scenario.ts"),
      "noop",
      items,
      "0",
      cores,
    ]);
    const r = last(m.stdout);
    const us = r.callsMs * 1000 / n;
    const cpu = m.cpuMs === undefined ? "n/a" : (m.cpuMs * 1000 / n).toFixed(1);
    console.log(
      `  ${name}: ${us.toFixed(1)} µs per item, ÷ floor ${(us / floor).toFixed(3)}, ` +
        `CPU ${cpu} µs per item (tree), client ${(r.clientCpuMs * 1000 / n).toFixed(1)}`,
    );
  }
}
console.log(`load average after: ${load()}`);
