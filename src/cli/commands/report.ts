/**
 * `report <knot> [run] --out FILE`: a run's report as one self-contained
 * HTML page.
 *
 * @module
 */
import { defineCommand } from "../common/command.ts";
import { KNOT_TARGET_OPTION, RUN_ARGUMENTS } from "../common/options.ts";
import { PRICES_OPTION } from "./cost.ts";

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
  run: async (ctx) => await (await import("../actions/report.ts")).run(ctx),
});
