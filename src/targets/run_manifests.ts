/**
 * The runs a knot keeps in a directory of its own on this machine (the local
 * and docker targets): one folder per run, each with its manifest, named by
 * its run id, and where another handle asks the process driving the run to
 * cancel it.
 *
 * @module
 */
import { join } from "node:path";
import { failureRecord } from "../job/record.ts";
import type { CancelReason, RunControl } from "../run/map_run.ts";

export type { CancelReason };
export { CLOBBERED_WHILE_RUNNING } from "../job/retry_advice.ts";

/**
 * Reads the manifest of every run folder under `root`, oldest first: a folder
 * whose manifest cannot be read is left out, and a missing `root` means no
 * runs.
 *
 * @example Usage
 * ```ts ignore
 * import { readRunManifests } from "./run_manifests.ts";
 *
 * const runs = await readRunManifests(join(knotDir, "runs"), async (dir) => (await RunDir.open(dir))?.manifest);
 * ```
 *
 * @param root The folder that holds one folder per run.
 * @param open Reads one run folder's manifest, or `undefined` when it has none.
 * @returns The manifests, by creation time, then run id.
 */
export async function readRunManifests<M extends { createdAt: number; runId: string }>(
  root: string,
  open: (dir: string) => Promise<M | undefined>,
): Promise<M[]> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(root));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const manifests: M[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory) continue;
    const manifest = await open(join(root, entry.name));
    if (manifest !== undefined) manifests.push(manifest);
  }
  return manifests.sort((a, b) => a.createdAt - b.createdAt || (a.runId < b.runId ? -1 : 1));
}

/**
 * Whether `runId` can name a run in a knot's runs directory: not a path
 * (`../other/runs/<id>` would open another knot's run).
 *
 * @example Usage
 * ```ts ignore
 * import { isRunName } from "./run_manifests.ts";
 *
 * isRunName("r-1a2b"); // true
 * isRunName("../other/runs/r-1a2b"); // false
 * ```
 *
 * @param runId A run id a caller gave.
 * @returns Whether it is a folder name, not a path.
 */
export function isRunName(runId: string): boolean {
  return runId !== "" && runId !== "." && runId !== ".." && !/[/\\]/.test(runId);
}

/**
 * The file in a run's folder that says it was cancelled, and why: a handle
 * that follows a run another process drives writes it (on docker, before it
 * kills the run's containers), and the driver, which looks for it, cancels the
 * run too instead of going on with it.
 */
const CANCEL_FILE = "cancel";
/**
 * The file beside {@linkcode CANCEL_FILE} that holds, as JSON, the error a request to cancel
 * ends the items with when it has a name of its own (a knot's clobber's,
 * `KnotClobberedError`): apart, so that {@linkcode CANCEL_FILE} keeps only the words, as a
 * process of an earlier version, which reads them as its items' message, expects.
 */
const CANCEL_ERROR_FILE = "cancel.json";

function wordsOf(reason: CancelReason): string {
  return typeof reason === "string" ? reason : reason.message;
}

/**
 * Asks the process that drives the run in `dir` to cancel it, with `reason`;
 * the first reason asked stays.
 *
 * @example Usage
 * ```ts ignore
 * import { requestCancel } from "./run_manifests.ts";
 *
 * requestCancel(runDir, "cancelled by the user");
 * ```
 *
 * @param dir The run's folder.
 * @param reason Why the run is cancelled, as its items' errors will say.
 */
export function requestCancel(dir: string, reason: CancelReason): void {
  // The error first: the driver reads it only once the words are there, and only if its
  // message is theirs (a request with other words, asked first, stays as it was). One that
  // cannot be written (a full disk) leaves the words, which say it all the same.
  if (typeof reason !== "string") {
    try {
      const error = JSON.stringify({ name: reason.name, message: reason.message });
      Deno.writeTextFileSync(join(dir, CANCEL_ERROR_FILE), error, { mode: 0o600 });
    } catch {
      // The words go on alone.
    }
  }
  try {
    Deno.writeTextFileSync(join(dir, CANCEL_FILE), wordsOf(reason), {
      createNew: true,
      mode: 0o600,
    });
  } catch {
    // Asked already (the first reason stays), or the run's folder is gone.
  }
}

/**
 * Takes back the request to cancel the run in `dir` with `reason` (a knot's clobber that gave up
 * waiting for the run's process): a request with another reason, a cancel of its own, stays.
 *
 * @example Usage
 * ```ts ignore
 * import { withdrawCancel } from "./run_manifests.ts";
 *
 * withdrawCancel(runDir, "The run stopped because its knot …");
 * ```
 *
 * @param dir The run's folder.
 * @param reason The reason it was asked with.
 */
export function withdrawCancel(dir: string, reason: CancelReason): void {
  if (cancelRequest(dir) !== wordsOf(reason)) return;
  for (const file of [CANCEL_FILE, CANCEL_ERROR_FILE]) {
    try {
      Deno.removeSync(join(dir, file));
    } catch {
      // Gone already.
    }
  }
}

/**
 * Why another handle asked to cancel the run in `dir`, or `undefined` if none
 * did.
 *
 * @example Usage
 * ```ts ignore
 * import { cancelRequest } from "./run_manifests.ts";
 *
 * const reason = cancelRequest(runDir);
 * if (reason !== undefined) await run.cancel(reason);
 * ```
 *
 * @param dir The run's folder.
 * @returns The reason the first request gave.
 */
export function cancelRequest(dir: string): string | undefined {
  try {
    return Deno.readTextFileSync(join(dir, CANCEL_FILE));
  } catch {
    return undefined;
  }
}

/**
 * What another handle asked to cancel the run in `dir` with, as it asked it
 * ({@linkcode requestCancel}): the error's name and message when the request
 * had a name of its own (a knot's clobber's), else the words; `undefined` if
 * none asked. A request that a process of an earlier version wrote has only
 * its words.
 *
 * @example Usage
 * ```ts ignore
 * import { requestedCancel } from "./run_manifests.ts";
 *
 * const reason = requestedCancel(runDir);
 * if (reason !== undefined) await run.cancel(reason);
 * ```
 *
 * @param dir The run's folder.
 * @returns The reason the first request gave.
 */
export function requestedCancel(dir: string): CancelReason | undefined {
  const words = cancelRequest(dir);
  if (words === undefined) return undefined;
  try {
    const error = JSON.parse(Deno.readTextFileSync(join(dir, CANCEL_ERROR_FILE)));
    if (error?.message === words && typeof error.name === "string") {
      return { name: error.name, message: words };
    }
  } catch {
    // No error of its own (words alone), or one half written: the words say it.
  }
  return words;
}

/**
 * Ends every item of a run that has not ended as cancelled, with `message`: what a reader of a
 * run on this machine does when the run's folder goes under it (its knot clobbered), since no
 * record of those items is left to read.
 *
 * @example Usage
 * ```ts ignore
 * import { settleCancelled } from "./run_manifests.ts";
 *
 * settleCancelled(control, runId, tried, clobberedReason(knot));
 * ```
 *
 * @param control The run's control.
 * @param runId The run's id.
 * @param attempts The last attempt each item was known to run (1 when none is known).
 * @param message Why they ended.
 */
export function settleCancelled(
  control: RunControl,
  runId: string,
  attempts: ReadonlyMap<number, number>,
  message: CancelReason,
): void {
  const error = typeof message === "string"
    ? { name: "CancelledError", message }
    : { name: message.name, message: message.message };
  control.settleAll((index) =>
    failureRecord({
      index,
      attempt: Math.max(1, attempts.get(index) ?? 1),
      jobId: `${runId}:${index}`,
      kind: "cancelled",
    }, error)
  );
}
