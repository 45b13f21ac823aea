/**
 * `results <knot> [run]`: prints a run's results, from any process, in the
 * same format as `map`.
 *
 * @module
 */
import { findLocalKnot, localRuns, pickRun } from "../../targets/local/catalog.ts";
import { showProgress } from "../../run/progress.ts";
import { defineCommand } from "../common/command.ts";
import { stderrProgress } from "../common/io.ts";
import { failureSummary, writeItems } from "../common/item_output.ts";
import { locateKnot, openAwsKnotReader } from "../common/knots.ts";
import { JSON_OPTION, TARGET_OPTION } from "../common/options.ts";

/** `results <knot> [run]`. */
export const results = defineCommand({
  name: "results",
  summary: "Print a run's results, from any process (default: the latest run)",
  description: "Prints one JSON line per item, exactly as map does, or with --json one document " +
    '{"knot","runId","target","total","succeeded","failed","items":[...]}. A run still ' +
    "going in another process is waited for, with its progress on stderr. Exits with 1 when any item failed. " +
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
    unordered: { type: "boolean", description: "Print results as they finish, not in input order" },
    quiet: {
      type: "boolean",
      short: "q",
      description: "Do not show progress on stderr while waiting for a run",
    },
    ...JSON_OPTION,
    ...TARGET_OPTION,
  },
  examples: [{
    description: "The results of the knot's latest run, one JSON line per item",
    command: "cloudknot results squares",
  }],
  async run(ctx) {
    const name = ctx.arg("knot")!;
    let run;
    let close = () => {};
    if (await locateKnot(ctx, name) === "aws") {
      const reader = await openAwsKnotReader(ctx, name);
      ({ run, close } = await reader.open(
        pickRun(name, await reader.runs(), ctx.arg("run")).runId,
      ));
    } else {
      const knot = await findLocalKnot(name, { env: ctx.io.env });
      const runs = localRuns(knot);
      const manifest = pickRun(knot.record.name, await runs.runs(), ctx.arg("run"));
      run = await runs.collect(manifest.runId);
    }
    if (!run.finished && !ctx.flag("quiet")) {
      const c = run.counts;
      await ctx.log(ctx.err(
        "dim",
        `Waiting for run ${run.runId} of knot ${run.knot}: ${
          c.succeeded + c.failed
        }/${c.total} done`,
      ));
      showProgress(run, stderrProgress(ctx.io));
    }
    let failed: number[];
    try {
      failed = await writeItems(run, ctx.io.stdout, {
        unordered: ctx.flag("unordered"),
        json: ctx.flag("json"),
      });
    } finally {
      close();
    }
    if (failed.length === 0) return 0;
    await ctx.log(ctx.err("red", failureSummary(failed, run.total)));
    return 1;
  },
});
