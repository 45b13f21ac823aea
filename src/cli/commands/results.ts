/**
 * `results <knot> [run]`: prints a run's results, from any process, in the
 * same format as `map`.
 *
 * @module
 */
import { showProgress } from "../../run/progress.ts";
import { defineCommand } from "../common/command.ts";
import { besideProgress, stderrProgress } from "../common/io.ts";
import { INTERRUPTED } from "../common/follow_run.ts";
import { stoppedWaiting, untilCtrlC } from "../common/interrupted.ts";
import { failureSummary, writeItems } from "../common/item_output.ts";
import {
  JSON_OPTION,
  KNOT_TARGET_OPTION,
  refuseUnorderedJson,
  UNORDERED_OPTION,
} from "../common/options.ts";
import { openRun } from "../common/run_reader.ts";

/** `results <knot> [run]`. */
export const results = defineCommand({
  name: "results",
  summary: "Print a run's results, from any process (default: the latest run)",
  description: "Prints one JSON line per item, exactly as map does, or with --json one document " +
    '{"knot","runId","target","total","succeeded","failed","items":[...]}. A run still ' +
    "going in another process is waited for, with its progress on stderr; Ctrl-C stops the waiting, " +
    "not the run: the results read so far are printed (with --json, the document with them) and " +
    "the exit code is 130. Exits with 1 when any item failed. " +
    "An AWS knot (one the config file records) is read from its bucket and AWS Batch, from any " +
    "machine with the config file and credentials.",
  args: [
    { name: "knot", required: true, description: "The knot's name" },
    {
      name: "run",
      required: false,
      description: "The run's id, or a unique prefix of it (default: the latest run)",
    },
  ],
  options: {
    ...UNORDERED_OPTION,
    quiet: {
      type: "boolean",
      short: "q",
      description: "Do not show progress on stderr while waiting for a run",
    },
    ...JSON_OPTION,
    ...KNOT_TARGET_OPTION,
  },
  examples: [{
    description: "The results of the knot's latest run, one JSON line per item",
    command: "cloudknot results squares",
  }],
  async run(ctx) {
    refuseUnorderedJson(ctx);
    // Ctrl-C stops the waiting, never the run (unlike Ctrl-C on map): the items read so far
    // are printed (with --json, the document closed with them) and stderr says how to go on.
    return await untilCtrlC(async (signal) => {
      const { run, finishing, close } = await openRun(ctx, { use: "finish" });
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
      await ctx.log(ctx.err("red", failureSummary(run, failed)));
      return 1;
    });
  },
});
