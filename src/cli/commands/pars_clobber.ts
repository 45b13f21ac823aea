/**
 * `pars clobber <name>`: deletes what a Pars made.
 *
 * @module
 */
import { defineCommand } from "../common/command.ts";
import { YES_OPTION } from "../common/confirm.ts";

/** `pars clobber <name>`. */
export const parsClobber = defineCommand({
  group: "pars",
  name: "clobber",
  summary: "Delete a Pars' roles, security group and VPC (never the default VPC)",
  description:
    "Deletes only what the Pars made, in dependency order, and removes [pars <name>] from the " +
    "config file. It refuses while a knot uses the Pars, unless --force, which first deletes " +
    "those knots' job queues and compute environments (their runs stay readable). Asks first on a " +
    "terminal; anywhere else it needs --yes. A Pars whose resources are already partly gone (a " +
    "clobber that was killed part-way, or deleted outside cloudknot) is clobbered all the same: " +
    "what is left of it is deleted, and what was gone is said. A Pars of the Python cloudknot: its " +
    "CloudFormation stack is deleted, and waited for, unless a knot or stack still uses it.",
  args: [{ name: "name", required: true, description: "The Pars' name" }],
  options: {
    force: {
      type: "boolean",
      description: "Delete it even while knots use it, with their job queues and compute " +
        "environments (their runs stay readable; cloudknot knot create makes them again)",
    },
    ...YES_OPTION,
  },
  examples: [{
    description: "Delete the Pars lab without asking",
    command: "cloudknot pars clobber lab --yes",
  }],
  run: async (ctx) => await (await import("../actions/pars_clobber.ts")).run(ctx),
});
