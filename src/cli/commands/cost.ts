/**
 * `cost <knot> [run]`: what a run used and cost, from its attempts.
 *
 * @module
 */
import { defineCommand } from "../common/command.ts";
import { JSON_OPTION, KNOT_TARGET_OPTION, RUN_ARGUMENTS } from "../common/options.ts";

/** `--prices FILE`. */
export const PRICES_OPTION = {
  prices: {
    type: "string" as const,
    value: "FILE",
    description: "A price table of your own, as JSON (default: the table shipped with cloudknot)",
  },
};

/** `cost <knot> [run]`. */
export const cost = defineCommand({
  name: "cost",
  summary: "What a run used and cost, from its attempts' start and stop times",
  description:
    "Counts every attempt that ran, retries included: on AWS from AWS Batch's start and stop " +
    "times, the jobs' vCPUs and memory and the compute environment's type, priced with the " +
    "dated price table shipped with cloudknot (Spot as a range, a region the table lacks " +
    "without a price); locally, the attempts' CPU-seconds. With --json, the report's figures. " +
    "Waits for a run still going (Ctrl-C stops the waiting, not the run, with exit code 130).",
  args: RUN_ARGUMENTS,
  options: { ...PRICES_OPTION, ...JSON_OPTION, ...KNOT_TARGET_OPTION },
  examples: [{
    description: "What the latest run of the knot squares used",
    command: "cloudknot cost squares",
  }],
  run: async (ctx) => await (await import("../actions/cost.ts")).run(ctx),
});
