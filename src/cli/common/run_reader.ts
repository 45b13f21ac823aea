/**
 * Opening a knot's run for the commands that read one (`results`, `jobs`,
 * `logs`, `cost`, `report`, `retry`), on either target: the given run (or a
 * unique prefix of its id) or the latest.
 *
 * @module
 */
import { CloudknotInputError } from "../../util/errors.ts";
import type { RunManifest } from "../../job/payload.ts";
import { Knot } from "../../knot.ts";
import type { MapRun } from "../../run/map_run.ts";
import { findLocalKnot, localRuns, pickRun } from "../../targets/local/catalog.ts";
import { RunDir } from "../../targets/local/run_dir.ts";
import { tookOverRun } from "../../targets/local/local_target.ts";
import { join } from "node:path";
import { knotRuns } from "./knot_view.ts";
import type { CommandContext } from "./command.ts";
import {
  type AwsKnotReader,
  cliKnotEnv,
  cliLocalKnot,
  locateKnot,
  openAwsKnotReader,
} from "./knots.ts";
import { itemsInWords } from "../../util/item_words.ts";

/** A run opened as it stands, and how to stop following it. */
export interface OpenedRun {
  /** The run, with the records written so far. */
  run: MapRun<unknown>;
  /** The run's manifest (on AWS, with its jobs). */
  manifest: RunManifest;
  /** The AWS knot's reader, for a knot on AWS. */
  aws?: AwsKnotReader;
  /**
   * Whether this command runs the run's unfinished items itself, asked when
   * it stops: a local run opened with `use: "finish"` whose process was gone
   * then, or died while the command waited (its handle took the run over).
   */
  finishing(): boolean;
  /**
   * The latest run that retries this one (a retry's handle covers the whole input), if any:
   * read when asked (on AWS, the manifests of the knot's runs).
   */
  retriedBy(): Promise<string | undefined>;
  /**
   * Stops following the run (call it when done reading, and await it): it
   * resolves once the run's handle has stopped polling, no request of it
   * left, so that the command ends only then.
   */
  close(): Promise<void>;
}

/** Options of {@linkcode openRun}. */
export interface OpenRunOptions {
  /**
   * What the command does with a local run whose process is gone: `look`
   * only reads it (its unfinished items stay pending); `finish` runs its
   * unfinished items here (`results`, `cost`, `report`); `retry` opens it on
   * the knot itself, whose workers the retry runs on. A run on AWS is the
   * same for all three. @default {"look"}
   */
  use?: "look" | "finish" | "retry";
  /**
   * Where the warnings of a run on AWS go (such as that its handle waits for
   * jobs still on their way), in the command line's words: for a command
   * that does not wait, and says itself what it found. @default stderr
   */
  warn?: (message: string) => void;
}

/**
 * Opens the run named by the `knot` and `run` arguments (the latest run when
 * `run` is not given), with every record written so far loaded.
 *
 * @example Usage
 * ```ts ignore
 * const { run, close } = await openRun(ctx);
 * console.log(run.toString());
 * await close();
 * ```
 *
 * @param ctx The running command, with `knot` and optional `run` arguments.
 * @param options What the command does with the run.
 * @returns The run.
 */
export async function openRun(
  ctx: CommandContext,
  options: OpenRunOptions = {},
): Promise<OpenedRun> {
  const name = ctx.arg("knot")!;
  if (await locateKnot(ctx, name) === "aws") {
    const aws = await openAwsKnotReader(ctx, name, options.warn ? { warn: options.warn } : {});
    // Only the manifests of the runs the argument may name are read, not every run's.
    const named = await aws.runsNamed(ctx.arg("run"));
    // A clobber stopped part-way deleted the runs' data it got to: say so, and how to finish it.
    const { clobberStartedAt, clobberRunning } = aws.record;
    if (named.length === 0 && clobberStartedAt !== undefined && !clobberRunning) {
      throw new CloudknotInputError(
        `Knot ${name} has no ${ctx.arg("run") === undefined ? "runs" : `run ${ctx.arg("run")}`} ` +
          `left: its clobber stopped part-way (it began at ${
            new Date(clobberStartedAt).toISOString()
          }) after it deleted their data. Run \`cloudknot knot clobber ${name}\` again to finish it`,
        { field: "runId" },
      );
    }
    const manifest = pickRun(name, named, ctx.arg("run"));
    const { run, close } = await aws.open(manifest.runId, named);
    const retriedBy = async () => retryOf(await aws.runs(), manifest.runId);
    return { run, manifest, aws, finishing: () => false, retriedBy, close };
  }
  const knot = await findLocalKnot(name, { env: ctx.io.env });
  const docker = (knot.record.target as string) === "docker";
  const reader = knotRuns(knot);
  const local = docker ? undefined : localRuns(knot);
  const runs = await reader.runs();
  const manifest = pickRun(
    knot.record.name,
    runs,
    ctx.arg("run"),
    await local?.goneRuns() ?? [],
    local === undefined ? undefined : { knotRoot: knot.root, runs: local.runsElsewhere() },
    await local?.damagedRuns(),
  );
  const retriedBy = () => Promise.resolve(retryOf(runs, manifest.runId));
  if (options.use === "retry") {
    // A retry runs items: on the knot itself, with this machine's workers or Docker.
    const opened = await Knot.create({
      name: knot.record.name,
      ...cliLocalKnot(ctx, docker ? "docker" : "local"),
    }, cliKnotEnv(ctx));
    // The command shows the progress of what it runs, on its own stderr.
    const run = await opened.collect(manifest.runId, { progress: false });
    return {
      run,
      manifest,
      finishing: () => false,
      retriedBy,
      close: () => Promise.resolve(),
    };
  }
  // A local run no process runs is run here (a docker run's containers run by themselves).
  const dir = join(knot.runsRoot, "runs", manifest.runId);
  const finish = options.use === "finish" && !docker;
  const goneAtOpen = finish && await RunDir.openLive(dir) === undefined;
  const stop = new AbortController();
  const run = await reader.collect(manifest.runId, {
    signal: stop.signal,
    finish: options.use === "finish",
  });
  return {
    run,
    manifest,
    // Its map may die while the command waits: the handle then takes the run over.
    finishing: () => finish && !run.finished && (goneAtOpen || tookOverRun(dir)),
    retriedBy,
    close: () => {
      stop.abort();
      return Promise.resolve();
    },
  };
}

/** The latest of `runs` that retries run `runId`. */
function retryOf(runs: readonly RunManifest[], runId: string): string | undefined {
  return runs.findLast((m) => m.retryOf?.runId === runId)?.runId;
}

/**
 * What a command that reads a run on AWS once (`logs` without `--follow`,
 * `jobs`) says of items that have no AWS Batch job yet (their map still
 * submits them, or was killed with a SubmitJob on its way): that they have
 * no `output` or no `job` yet, that mapping them again would run them twice,
 * and the command that waits for one.
 *
 * @example Usage
 * ```ts ignore
 * await ctx.log(noJobYet(run, [2], "output"));
 * ```
 *
 * @param run The run.
 * @param waiting The items with no job yet, at least one.
 * @param lead What the command did not find for them.
 * @returns The sentence, in the command line's words.
 */
export function noJobYet(
  run: MapRun<unknown>,
  waiting: readonly number[],
  lead: "output" | "job",
): string {
  const one = waiting.length === 1;
  const jobs = one ? "its AWS Batch job has" : "their AWS Batch jobs have";
  return `${itemsInWords(waiting)} of run ${run.runId} ${one ? "has" : "have"} ` +
    (lead === "output"
      ? `no output yet: ${jobs} not been submitted or found yet`
      : `no AWS Batch job yet: ${one ? "it has" : "they have"} not been submitted or found yet`) +
    ` (the map that submits the run is still submitting ${one ? "it" : "them"}, or ` +
    `stopped part-way with a job maybe on its way; do not map ${one ? "it" : "them"} again ` +
    `meanwhile). To wait for ${one ? "it" : "one"} and print its lines as they come, run ` +
    `cloudknot logs ${run.knot} ${run.runId} --item ${one ? waiting[0] : "N"} --follow`;
}
