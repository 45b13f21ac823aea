/**
 * `cancel <knot> [run]`: cancels a run from any process, as Ctrl-C on its
 * `map` does: its AWS Batch jobs or docker containers are stopped, and its
 * unfinished items end cancelled.
 *
 * @module
 */
import { defineCommand } from "../common/command.ts";
import { KNOT_TARGET_OPTION, RUN_ARGUMENTS } from "../common/options.ts";

/** `cancel <knot> [run]`. */
export const cancel = defineCommand({
  name: "cancel",
  summary: "Cancel a run from any process, stopping its AWS jobs or docker containers",
  description:
    "Cancels the run (default: the latest) as Ctrl-C on its map does, from any process: its " +
    "unfinished items end cancelled. On AWS its Batch jobs are cancelled (waiting) or " +
    "terminated (running) and waited for, at most a minute, so that what they record as they " +
    "stop is kept; on docker its containers are killed; a local run's map, while it runs, " +
    "cancels it itself. For a map stopped before its cancel ended (a second Ctrl-C), whose jobs " +
    "may still run, or a run started elsewhere. Prints how many items it cancelled; a run that " +
    "has ended is left as it is. cloudknot retry then runs the items that did not finish. " +
    "Ctrl-C while it waits for the run to end exits 130, saying the cancel was sent and what " +
    "shows the run end.",
  args: RUN_ARGUMENTS,
  options: { ...KNOT_TARGET_OPTION },
  examples: [{
    description: "Cancel the latest run of the knot squares",
    command: "cloudknot cancel squares",
  }],
  run: async (ctx) => await (await import("../actions/cancel.ts")).run(ctx),
});
