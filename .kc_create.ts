import { Knot } from "./mod.ts";
const t0 = performance.now();
await Knot.create({ name: "kc-ab", target: "local", func: (n: number) => n * 2, dir: Deno.args[0] });
console.log((performance.now() - t0).toFixed(1));
