/**
 * Estimates π with Monte Carlo on the local target: `deno task demo`.
 *
 * Each item throws `samples` random points at the unit square and counts
 * those inside the quarter circle; the knot runs the items on worker
 * processes, one per core, and π ≈ 4 × inside / total.
 *
 * The same code runs on AWS Batch with `target: "aws"`.
 */
import { Knot } from "../mod.ts";

const items = Number(Deno.args[0] ?? 32);
const samples = Number(Deno.args[1] ?? 2_000_000);

const knot = await Knot.create({
  name: "monte-carlo-pi",
  target: "local",
  func: (n: number) => {
    let inside = 0;
    for (let i = 0; i < n; i++) {
      const x = Math.random();
      const y = Math.random();
      if (x * x + y * y <= 1) inside++;
    }
    return inside;
  },
});

const run = await knot.map(Array.from({ length: items }, () => samples));
const inside = (await run.results()).reduce((sum, n) => sum + n, 0);
const pi = (4 * inside) / (items * samples);

console.log(run.toString().split("\n")[0]);
console.log(
  `π ≈ ${pi.toFixed(6)} (error ${Math.abs(pi - Math.PI).toExponential(2)}) from ${
    items * samples
  } samples`,
);
await knot.clobber();
