/**
 * Opening a knot's run from the command line, on either target, for the
 * commands that look at a run after it ran (`cost`, `report`, `retry`): the
 * given run (or a unique prefix of its id) or the latest.
 *
 * @module
 */
import { Knot } from "../../knot.ts";
import type { MapRun } from "../../run/map_run.ts";
import { findLocalKnot, localKnotsDir, localRuns, pickRun } from "../../targets/local/catalog.ts";
import type { CommandContext } from "./command.ts";
import { locateKnot, openAwsKnotReader } from "./knots.ts";

/** An opened run, and what stops watching it. */
export interface OpenedRun {
  /** The run's handle (over the whole input, for a retry). */
  run: MapRun<unknown>;
  /** Stops watching the run (its jobs go on). */
  close(): void;
}

/**
 * Opens a knot's run.
 *
 * @param ctx The command's context.
 * @param name The knot's name.
 * @param runId The run's id or a unique prefix of it; the latest run when omitted.
 * @param options `retry`: the run will be retried, so a local knot gets its real workers.
 * @returns The run.
 */
export async function openRun(
  ctx: CommandContext,
  name: string,
  runId: string | undefined,
  options: { retry?: boolean } = {},
): Promise<OpenedRun> {
  if (await locateKnot(ctx, name) === "aws") {
    const reader = await openAwsKnotReader(ctx, name);
    return await reader.open(pickRun(name, await reader.runs(), runId).runId);
  }
  const found = await findLocalKnot(name, { env: ctx.io.env });
  const runs = localRuns(found);
  const manifest = pickRun(found.record.name, await runs.runs(), runId);
  if (!options.retry) return { run: await runs.collect(manifest.runId), close: () => {} };
  // A retry runs items: on the knot itself, with this machine's workers.
  const knot = await Knot.create({
    name: found.record.name,
    dir: localKnotsDir({ env: ctx.io.env }),
  });
  return { run: await knot.collect(manifest.runId), close: () => {} };
}
