// Shared helpers for the local-target tests.
import { type JobFunction, Knot, type KnotOptions } from "../../../mod.ts";
import { join } from "node:path";
import {
  LOCAL_RUN_LAYOUT,
  type LocalRunManifest,
  RunDir,
} from "../../../src/targets/local/run_dir.ts";
import { startForLine } from "../../support/deno_child.ts";

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

/** The lines of a file, none when it is not there yet. */
export async function lines(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.split("\n").filter((l) => l !== "");
}

/**
 * Runs `tests/fixtures/resumable_client.ts` (300 items of knot `resumable` in `dir`, each
 * logged to `log` as it runs) and kills it with SIGKILL once `after` items ran.
 *
 * @returns The run's id and folder, and the kind of each record it wrote, by item.
 */
export async function killedResumable(
  dir: string,
  log: string,
  after: number,
): Promise<{ runId: string; runDir: string; recorded: Map<number, string> }> {
  const { child: client, line: runId } = await startForLine([
    "run",
    "-A",
    new URL("../../fixtures/resumable_client.ts", import.meta.url).href,
    dir,
    log,
  ]);
  while ((await lines(log)).length < after) await new Promise((r) => setTimeout(r, 20));
  client.kill("SIGKILL");
  await client.status;
  const runDir = join(dir, "resumable", "runs", runId);
  const recorded = new Map<number, string>();
  const opened = (await RunDir.open(runDir))!;
  opened.run.scanRecords(0, (e) => recorded.set(e.index, e.kind));
  opened.run.close();
  return { runId, runDir, recorded };
}
