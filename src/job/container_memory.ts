/**
 * Out of memory in a container that runs several items: when the items in
 * flight pass the container's memory limit, the kernel's OOM killer kills
 * one process of the container's cgroup, the worker that runs the biggest
 * item, and the container goes on. Its worker only looks killed by SIGKILL;
 * the cgroup's `oom_kill` counter (`memory.events` in cgroup v2,
 * `memory.oom_control` in v1, Linux's "Control Group v2" documentation) says
 * it was the limit, so the item fails as AWS Batch reports an OOM-killed
 * container: `OutOfMemoryError`, with the limit and what to raise.
 *
 * @module
 */
import type { ErrorRecord } from "./record.ts";

/** Where the cgroup's OOM kills and memory limit are, v2 first. */
const OOM_FILES = ["/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"];
const LIMIT_FILES = ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"];

async function firstReadable(paths: readonly string[]): Promise<string | undefined> {
  for (const path of paths) {
    const text = await Deno.readTextFile(path).catch(() => undefined);
    if (text !== undefined) return text;
  }
  return undefined;
}

/**
 * How many processes the kernel killed in this container's cgroup for its
 * memory limit; `undefined` where there is no cgroup to read.
 *
 * @example Usage
 * ```ts ignore
 * import { containerOomKills } from "./container_memory.ts";
 *
 * console.log(await containerOomKills()); // 0
 * ```
 *
 * @returns The count.
 */
export async function containerOomKills(): Promise<number | undefined> {
  const text = await firstReadable(OOM_FILES);
  const match = text === undefined ? null : /^oom_kill (\d+)$/m.exec(text);
  return match === null ? undefined : Number(match[1]);
}

/**
 * This container's memory limit in MiB; `undefined` without one.
 *
 * @example Usage
 * ```ts ignore
 * import { containerMemoryMiB } from "./container_memory.ts";
 *
 * console.log(await containerMemoryMiB()); // 2048
 * ```
 *
 * @returns The limit.
 */
export async function containerMemoryMiB(): Promise<number | undefined> {
  const bytes = Number((await firstReadable(LIMIT_FILES))?.trim());
  // "max", or v1's page-rounded 2^63 for no limit.
  return Number.isFinite(bytes) && bytes > 0 && bytes < 2 ** 60 ? bytes / 2 ** 20 : undefined;
}

/**
 * What to do about an item that ran out of memory, in the library's words:
 * give it more than the memory its attempt had (which after a retry with
 * `memory: "double"` is not the knot's). The command line prints it with
 * its flag instead (`inCliWords` in `src/cli/common/cli_words.ts`).
 *
 * @example Usage
 * ```ts
 * import { memoryAdvice } from "./container_memory.ts";
 *
 * console.log(memoryAdvice(512));
 * // "give the item more than 512 MiB with the memory option of Knot.create or run.retry"
 * ```
 *
 * @param limitMiB The memory the attempt had, when known.
 * @param who Whom to give the memory.
 * @returns The advice, without a final period.
 */
export function memoryAdvice(limitMiB: number | undefined, who = "the item"): string {
  return (limitMiB !== undefined
    ? `give ${who} more than ${limitMiB} MiB`
    : `give ${who} more memory`) +
    " with the memory option of Knot.create or run.retry";
}

/**
 * The record of an attempt whose worker the kernel killed for the
 * container's memory limit, as AWS Batch reports an OOM-killed container
 * (exit code 137).
 *
 * @example Usage
 * ```ts
 * import { outOfMemoryRecord } from "./container_memory.ts";
 *
 * const record = outOfMemoryRecord({
 *   version: 1, status: "error", kind: "crashed", index: 4, attempt: 1, jobId: "j", endedAt: 0,
 *   signal: "SIGKILL", error: { name: "WorkerCrashedError", message: "killed" },
 * }, 128);
 * console.log(record.error.name, record.exitCode); // "OutOfMemoryError" 137
 * ```
 *
 * @param record The worker's crash record.
 * @param limitMiB The container's memory limit, when known.
 * @returns The record, out of memory.
 */
export function outOfMemoryRecord(record: ErrorRecord, limitMiB: number | undefined): ErrorRecord {
  const advice = limitMiB !== undefined
    ? `the job's memory limit is ${limitMiB} MiB: ${
      memoryAdvice(limitMiB)
    }, or make the item smaller`
    : `${memoryAdvice(undefined)}, or make the item smaller`;
  return {
    ...record,
    exitCode: 137,
    error: {
      name: "OutOfMemoryError",
      // Not the index: a retry's job knows its own run's, not the item's place in the input.
      message: `The kernel killed the worker running the item for the container's memory ` +
        `limit (the items it ran at once used it all): ${advice}`,
    },
  };
}
