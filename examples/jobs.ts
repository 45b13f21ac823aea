/**
 * Job functions for the command line's examples, such as
 * `echo '[1, 2, 3]' | deno run -A cli.ts map examples/jobs.ts square`.
 *
 * Any module works the same way: `map <module> <export>` bundles the module
 * with everything it imports and calls the export once per input.
 *
 * @module
 */

/**
 * Squares a number, and says so on stdout (see it with `logs`).
 *
 * @param x The number.
 * @returns `x * x`.
 */
export function square(x: number): number {
  console.log(`squaring ${x}`);
  return x * x;
}

/**
 * Adds two numbers: with `--starmap`, each input is `[a, b]`.
 *
 * @param a The first number.
 * @param b The second number.
 * @returns `a + b`.
 */
export function add(a: number, b: number): number {
  return a + b;
}

/**
 * Throws `samples` random points at the unit square and counts those inside
 * the quarter circle: π ≈ 4 × inside / samples.
 *
 * @param samples How many points.
 * @returns How many fell inside.
 */
export function countInside(samples: number): number {
  let inside = 0;
  for (let i = 0; i < samples; i++) {
    const x = Math.random();
    const y = Math.random();
    if (x * x + y * y <= 1) inside++;
  }
  return inside;
}
