/**
 * Opening a knot's run for the commands that read one (`jobs`, `logs`), on
 * either target.
 *
 * @module
 */
import type { RunManifest } from "../../job/payload.ts";
import type { MapRun } from "../../run/map_run.ts";
import { findLocalKnot, localRuns, pickRun } from "../../targets/local/catalog.ts";
import type { CommandContext } from "./command.ts";
import { type AwsKnotReader, locateKnot, openAwsKnotReader } from "./knots.ts";

/** A run opened as it stands, and how to stop following it. */
export interface OpenedRun {
  /** The run, with the records written so far. */
  run: MapRun<unknown>;
  /** The run's manifest (on AWS, with its jobs). */
  manifest: RunManifest;
  /** The AWS knot's reader, for a knot on AWS. */
  aws?: AwsKnotReader;
  /** Stops following the run (call it when done reading). */
  close(): void;
}

/**
 * Opens the run named by the `knot` and `run` arguments (the latest run when
 * `run` is not given), with every record written so far loaded.
 *
 * @example Usage
 * ```ts ignore
 * const { run, close } = await openRun(ctx);
 * console.log(run.toString());
 * close();
 * ```
 *
 * @param ctx The running command, with `knot` and optional `run` arguments.
 * @returns The run.
 */
export async function openRun(ctx: CommandContext): Promise<OpenedRun> {
  const name = ctx.arg("knot")!;
  if (await locateKnot(ctx, name) === "aws") {
    const aws = await openAwsKnotReader(ctx, name);
    const manifest = pickRun(name, await aws.runs(), ctx.arg("run"));
    const { run, close } = await aws.open(manifest.runId);
    return { run, manifest, aws, close };
  }
  const knot = await findLocalKnot(name, { env: ctx.io.env });
  const reader = localRuns(knot);
  const manifest = pickRun(
    knot.record.name,
    await reader.runs(),
    ctx.arg("run"),
    await reader.goneRuns(),
  );
  const stop = new AbortController();
  // Looking never runs anything: an abandoned run is finished by `results`.
  const run = await reader.collect(manifest.runId, { signal: stop.signal, finish: false });
  return { run, manifest, close: () => stop.abort() };
}
