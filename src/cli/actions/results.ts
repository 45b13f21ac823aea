/**
 * `results <knot> [run]`: prints a run's results, from any process, in the
 * same format as `map`.
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/results.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import { showProgress } from "../../run/progress.ts";
import { besideProgress, stderrProgress } from "../common/io.ts";
import { INTERRUPTED } from "../common/follow_run.ts";
import { stoppedWaiting, untilCtrlC } from "../common/interrupted.ts";
import { failureSummary, writeItems } from "../common/item_output.ts";
import { refuseUnorderedJson } from "../common/options.ts";
import { openRun } from "../common/run_reader.ts";
import type { CommandContext } from "../common/command.ts";

/**
 * Runs `results` (see its declaration, `../commands/results.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
  refuseUnorderedJson(ctx);
  // Ctrl-C stops the waiting, never the run (unlike Ctrl-C on map): the items read so far
  // are printed (with --json, the document closed with them) and stderr says how to go on.
  return await untilCtrlC(async (signal) => {
    const { run, finishing, retriedBy, close } = await openRun(ctx, { use: "finish" });
    const progress = !run.finished && !ctx.flag("quiet");
    let stopProgress = () => {};
    if (progress) {
      const c = run.counts;
      await ctx.log(ctx.err(
        "dim",
        `Waiting for run ${run.runId} of knot ${run.knot}: ${
          c.succeeded + c.failed
        }/${c.total} done`,
      ));
      stopProgress = showProgress(run, stderrProgress(ctx.io));
    }
    let failed: number[];
    try {
      failed = await writeItems(run, progress ? besideProgress(ctx.io) : ctx.io.stdout, {
        unordered: ctx.flag("unordered"),
        json: ctx.flag("json"),
        signal,
      });
    } finally {
      stopProgress();
      await close();
    }
    if (signal.aborted && !run.finished) {
      // Below the progress line, drawn a last time (over the ^C a terminal echoed).
      await ctx.log(
        ctx.err("yellow", stoppedWaiting(run, "results", { finishing: finishing() })),
      );
      return INTERRUPTED;
    }
    if (run.cutShort) {
      await ctx.log(ctx.err(
        "yellow",
        `Run ${run.runId} of knot ${run.knot} was cut short: the process that mapped it died ` +
          `after ${run.total} inputs were read, and the rest were never read. Map them again: ` +
          `cloudknot map --name ${run.knot} --inputs FILE, with the inputs after the first ${run.total}`,
      ));
    }
    if (failed.length === 0) return 0;
    // Retried already: the retry's handle has every item, with the retry's results.
    const retry = await retriedBy();
    await ctx.log(ctx.err(
      "red",
      retry === undefined
        ? failureSummary(run, failed)
        : `${failed.length} of ${run.total} items failed in run ${run.runId}, which was ` +
          `retried: \`cloudknot results ${run.knot} ${retry}\` gives every item, with the ` +
          `retry's results`,
    ));
    return 1;
  });
}
