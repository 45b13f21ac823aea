/**
 * `knot show <knot>`: a knot's details and its runs.
 *
 * @module
 */
import { defineCommand } from "../common/command.ts";
import { AWS_RUNS_READ } from "../common/options.ts";
import { JSON_OPTION, KNOT_TARGET_OPTION } from "../common/options.ts";

/** `knot show <knot>`. */
export const knotShow = defineCommand({
  group: "knot",
  name: "show",
  summary: "Show a knot's details and a table of its runs",
  description:
    "A run is finished once every item has ended; one still going shows its counts so far. " +
    "A retry counts every item of the input it retried, with the results it did not run again. " +
    `For a knot on AWS, its resources too, and the counts of its latest ${AWS_RUNS_READ} runs. ` +
    "A knot of the Python cloudknot shows its CloudFormation stack, its Pars and its jobs. " +
    "An AWS or docker knot whose clobber stopped part-way says so, and what to run to finish " +
    "it. " +
    "An AWS or docker knot shows the runtime protocol of its image's job runtime (an AWS " +
    "knot's as its job definition revision's tag says, as a map decides by), and when " +
    "it is not this version's, what that means and what to run.",
  args: [{ name: "knot", required: true, description: "The knot's name" }],
  options: { ...JSON_OPTION, ...KNOT_TARGET_OPTION },
  examples: [{
    description: "Show the knot squares and its runs",
    command: "cloudknot knot show squares",
  }],
  run: async (ctx) => await (await import("../actions/knot_show.ts")).run(ctx),
});
