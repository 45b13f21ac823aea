// Shared helpers for the local-target tests.
import { type JobFunction, Knot, type KnotOptions } from "../../../mod.ts";
import { LOCAL_RUN_LAYOUT, type LocalRunManifest } from "../../../src/targets/local/run_dir.ts";

/** The manifest of a run made by hand, for tests of a run's files. */
export const manifest: LocalRunManifest = {
  version: 1,
  layout: LOCAL_RUN_LAYOUT,
  runId: "r",
  knot: "k",
  count: 0,
  starmap: false,
  createdAt: 0,
  attempts: 1,
  artifact: "artifacts/x.js",
  env: {},
  permissions: {},
};

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
