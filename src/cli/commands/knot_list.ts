/**
 * `knot list`: the knots of both targets, with their function and runs.
 *
 * @module
 */
import { defineCommand } from "../common/command.ts";
import { JSON_OPTION } from "../common/options.ts";

/** `knot list`. */
export const knotList = defineCommand({
  group: "knot",
  name: "list",
  summary: "List the knots, local and on AWS: target, function, runs and the latest run",
  description: "Local knots come from the local knots directory, AWS knots from the config file " +
    "(no AWS call). --target shows one target only. With --json, an array of " +
    '{"name","target","function","runs","lastRun",...}; an AWS knot adds its region, compute, ' +
    "Pars, image and Batch resources. Knots the Python cloudknot made show as such, with their " +
    'CloudFormation stack ({"madeBy":"python","stack",...}): `knot clobber` removes them. ' +
    "A knot whose clobber stopped part-way shows `(clobber unfinished)` after its target " +
    "(`(being clobbered)` while another process clobbers it): `knot clobber` again finishes it.",
  args: [],
  options: {
    ...JSON_OPTION,
    target: {
      type: "string",
      value: "local|aws|docker",
      description: "Only the knots of this target (default: every target)",
    },
  },
  examples: [{ description: "List the knots", command: "cloudknot knot list" }],
  run: async (ctx) => await (await import("../actions/knot_list.ts")).run(ctx),
});
