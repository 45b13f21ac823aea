/**
 * `pars list`: the Pars the config file records.
 *
 * @module
 */
import { defineCommand } from "../common/command.ts";
import { JSON_OPTION } from "../common/options.ts";

/** `pars list`. */
export const parsList = defineCommand({
  group: "pars",
  name: "list",
  summary: "List the Pars of the config file: region, VPC and the knots that use each",
  description: "Reads the config file only (no AWS call). A Pars the Python cloudknot made " +
    "shows its CloudFormation stack (`pars clobber` removes it). A Pars whose clobber stopped " +
    "part-way shows (clobber unfinished) after its region (`pars clobber` again finishes it), " +
    "and one another process clobbers now (being clobbered). With --json, an array of " +
    '{"name","region","profile","vpc","subnets","securityGroup","useDefaultVpc","bucket",' +
    '"policies","roles","knots","stack","clobberStarted","clobberRunning"} (stack is null for ' +
    "a Pars made here; clobberStarted and clobberRunning are null unless a clobber began).",
  args: [],
  options: { ...JSON_OPTION },
  examples: [{ description: "List the Pars", command: "cloudknot pars list" }],
  run: async (ctx) => await (await import("../actions/pars_list.ts")).run(ctx),
});
