/**
 * What a local run's attempts used, read from its records: each attempt's
 * start and end, and how it ended. The worker's heap limit stands for its
 * memory (the knot's `memory`, a retry's own, or V8's default).
 *
 * @module
 */
import { getHeapStatistics } from "node:v8";
import type { RunManifest } from "../../job/payload.ts";
import type { JobRecord } from "../../job/record.ts";
import { neverRan } from "../../job/pool.ts";
import type { AttemptUsage, RunUsage } from "../../cost/usage.ts";

/**
 * Reads what a local run's attempts used.
 *
 * @example Usage
 * ```ts ignore
 * import { localRunUsage } from "./run_usage.ts";
 *
 * const usage = localRunUsage(records, manifest, { memory: 512 });
 * console.log(usage.attempts.length);
 * ```
 *
 * @param records Every record in the run's log.
 * @param manifest The run's manifest.
 * @param options The knot's worker heap limit in MiB, when set.
 * @returns Every attempt that left a record, in item and attempt order; an
 *   attempt that never ran is left out once the item ran after it.
 */
export function localRunUsage(
  records: JobRecord[],
  manifest: RunManifest,
  options: { memory?: number },
): RunUsage {
  // In log order within an attempt: an attempt that never ran (its workers could not start) is
  // recorded again when a later collect() runs it, under the same number. It used nothing, so
  // only an item's last such record counts, as how the item ended.
  records = [...records].sort((a, b) => a.index - b.index || a.attempt - b.attempt)
    .filter((r, i, all) => !(neverRan(r) && all[i + 1]?.index === r.index));
  const last = new Map<number, number>();
  for (const r of records) last.set(r.index, Math.max(last.get(r.index) ?? 0, r.attempt));
  const defaultMiB = Math.round(getHeapStatistics().heap_size_limit / 2 ** 20);
  const memoryOf = (index: number) =>
    manifest.groups?.find((g) => index >= g.offset && index < g.offset + g.size)?.resources
      .memory ?? options.memory ?? defaultMiB;
  const attempts = records.map((r, i): AttemptUsage => {
    const previous = records[i - 1];
    const queuedAt = r.attempt === 1
      ? manifest.createdAt
      : previous?.index === r.index
      ? previous.endedAt
      : undefined;
    const a: AttemptUsage = {
      jobId: r.jobId,
      index: r.index,
      attempt: r.attempt,
      stoppedAt: r.endedAt,
      outcome: r.status === "ok"
        ? "succeeded"
        : r.attempt < last.get(r.index)!
        ? "retried"
        : r.kind === "cancelled"
        ? "cancelled"
        : "failed",
      memoryMiB: memoryOf(r.index),
    };
    if (queuedAt !== undefined) a.queuedAt = queuedAt;
    if (r.startedAt !== undefined) a.startedAt = r.startedAt;
    if (r.status === "error") a.reason = `${r.error.name}: ${r.error.message}`.split("\n")[0]!;
    return a;
  });
  return { knot: manifest.knot, runId: manifest.runId, target: "local", attempts };
}
