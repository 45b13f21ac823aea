/**
 * How the command line shows a local knot and its runs, as text and as JSON.
 *
 * @module
 */
import type { RunManifest } from "../job/payload.ts";
import type { RunCounts } from "../run/map_run.ts";
import { type LocalKnotInfo, localRuns } from "../targets/local/catalog.ts";

/**
 * A knot's function as text, such as `square (module, 1a2b3c4d)`.
 *
 * @example Usage
 * ```ts ignore
 * console.log(functionLabel(knot)); // "square (module, 1a2b3c4d)"
 * ```
 *
 * @param knot The knot.
 * @returns The text.
 */
export function functionLabel(knot: LocalKnotInfo): string {
  const { functionName, kind, hash } = knot.record;
  return `${functionName} (${kind}, ${hash.slice(0, 8)})`;
}

/**
 * A knot as JSON.
 *
 * @example Usage
 * ```ts ignore
 * console.log(JSON.stringify(knotJson(knot)));
 * ```
 *
 * @param knot The knot.
 * @returns Its name, target, function, directories and times.
 */
export function knotJson(knot: LocalKnotInfo): Record<string, unknown> {
  const r = knot.record;
  return {
    name: r.name,
    target: r.target,
    function: { name: r.functionName, kind: r.kind, hash: r.hash },
    dir: knot.root,
    runsDir: knot.runsRoot,
    createdAt: new Date(r.createdAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
  };
}

/** A run's manifest and how its items stand. */
export interface RunSnapshot {
  /** The run's manifest. */
  manifest: RunManifest;
  /** Its counts when it was read. */
  counts: RunCounts;
  /** Whether every item has ended. */
  finished: boolean;
}

/**
 * Reads how each run of a knot stands, without waiting for runs that are
 * still going.
 *
 * @example Usage
 * ```ts ignore
 * for (const { manifest, counts } of await snapshotRuns(knot)) console.log(manifest.runId, counts);
 * ```
 *
 * @param knot The knot.
 * @returns One snapshot per run, oldest first.
 */
export async function snapshotRuns(knot: LocalKnotInfo): Promise<RunSnapshot[]> {
  const reader = localRuns(knot);
  const snapshots: RunSnapshot[] = [];
  for (const manifest of await reader.runs()) {
    const stop = new AbortController();
    const run = await reader.collect(manifest.runId, { signal: stop.signal });
    snapshots.push({ manifest, counts: run.counts, finished: run.finished });
    stop.abort();
  }
  return snapshots;
}
