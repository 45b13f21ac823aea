/**
 * `report <knot> [run] --out FILE`: a run's report as one self-contained
 * HTML page.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { CloudknotInputError } from "../../util/errors.ts";
import { priceTableInCliWords } from "../common/cli_words.ts";
import { defineCommand } from "../common/command.ts";
import { failureInCliWords } from "../common/item_output.ts";
import { KNOT_TARGET_OPTION, RUN_ARGUMENTS } from "../common/options.ts";
import { PRICES_OPTION, withFinishedRun } from "./cost.ts";

/** `report <knot> [run]`. */
export const report = defineCommand({
  name: "report",
  summary: "Write a run's report as one HTML page: timeline, cost, failures",
  description:
    "Writes one self-contained page (no scripts, nothing loaded from anywhere): the run's " +
    "timeline (each attempt as a bar over time, one row per Batch job or local worker, " +
    "coloured by how it ended), its cost report, and its failures with their errors and the " +
    "last lines of their output. Waits for a run still going (Ctrl-C stops the waiting, not " +
    "the run, with exit code 130).",
  args: RUN_ARGUMENTS,
  options: {
    out: {
      type: "string",
      short: "o",
      value: "FILE",
      description: "Where to write the page (default: <knot>-<run>.html)",
    },
    ...PRICES_OPTION,
    ...KNOT_TARGET_OPTION,
  },
  examples: [{
    description: "The latest run of the knot squares, as a page in /tmp",
    command: "cloudknot report squares --out /tmp/squares-report.html",
  }],
  async run(ctx) {
    const given = ctx.string("out");
    // Checked before waiting for a run still going, which can take hours.
    if (given !== undefined) await checkFolder(given);
    return await withFinishedRun(ctx, "report", async (run, options) => {
      // Its failures, and a region the price table lacks (--prices), in the command line's words.
      const page = priceTableInCliWords(
        await run.report({ ...options, describe: failureInCliWords }),
        ctx.command,
      );
      const out = given ?? `${run.knot}-${run.runId}.html`;
      try {
        await Deno.writeTextFile(out, page);
      } catch (e) {
        throw new CloudknotInputError(
          `Cannot write the report to ${out} (${(e as Error).message}): pass --out FILE ` +
            "in a folder you may write",
          { field: "out", cause: e },
        );
      }
      await ctx.print(`Wrote the report of run ${run.runId} of knot ${run.knot} to ${out}`);
    });
  },
});

/** Refuses an `--out` whose folder does not exist. */
async function checkFolder(out: string): Promise<void> {
  const folder = dirname(resolve(out));
  const info = await Deno.stat(folder).catch(() => undefined);
  if (!info?.isDirectory) {
    throw new CloudknotInputError(
      `The folder of --out ${out} (${folder}) does not exist: create it, or pass --out FILE ` +
        "in an existing folder",
      { field: "out" },
    );
  }
}
