/**
 * `results <knot> [run]`: prints a run's results, from any process, in the
 * same format as `map`.
 *
 * @module
 */
import { defineCommand } from "../common/command.ts";
import { JSON_OPTION, KNOT_TARGET_OPTION, UNORDERED_OPTION } from "../common/options.ts";

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
  run: async (ctx) => await (await import("../actions/results.ts")).run(ctx),
});
