// Shared helpers for the local-target tests.
import { type JobFunction, Knot, type KnotOptions } from "../../../mod.ts";

/** Creates a knot in a fresh temporary directory and removes both afterwards. */
export async function withKnot<F extends JobFunction>(
  options: Omit<KnotOptions<F>, "dir">,
  body: (knot: Knot<F>, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cloudknot-test-" });
  try {
    const knot = await Knot.create<F>({ concurrency: 2, ...options, dir });
    await body(knot, dir);
    await knot.clobber();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
