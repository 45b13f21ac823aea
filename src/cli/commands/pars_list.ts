/**
 * `pars list`: the Pars the config file records.
 *
 * @module
 */
import { cliSettings } from "../common/aws.ts";
import { defineCommand } from "../common/command.ts";
import { JSON_OPTION } from "../common/options.ts";
import { readParsRecords } from "../../resources/pars.ts";
import { clobberLabel, printList } from "../common/table.ts";
import { ORIGINAL_LABEL } from "../common/original.ts";

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
  async run(ctx) {
    const records = await readParsRecords(cliSettings(ctx).state);
    return await printList(ctx, records, {
      header: ["NAME", "REGION", "PROFILE", "VPC", "KNOTS", "MADE BY"],
      cells: (p) => [
        p.name,
        `${p.region}${clobberLabel(p)}`,
        p.profile,
        `${p.vpc}${p.useDefaultVpc && p.stack === null ? " (default)" : ""}`,
        p.knots.length === 0 ? "-" : p.knots.join(", "),
        p.stack === null ? "cloudknot" : `${ORIGINAL_LABEL} (stack ${p.stack})`,
      ],
      json: (p) => ({
        name: p.name,
        region: p.region,
        profile: p.profile,
        vpc: p.vpc,
        subnets: p.subnets,
        securityGroup: p.securityGroup,
        useDefaultVpc: p.useDefaultVpc,
        bucket: p.bucket,
        policies: p.policies,
        roles: p.roles,
        knots: p.knots,
        stack: p.stack,
        clobberStarted: p.clobberStartedAt === undefined
          ? null
          : new Date(p.clobberStartedAt).toISOString(),
        clobberRunning: p.clobberStartedAt === undefined ? null : p.clobberRunning === true,
      }),
      empty: "No Pars yet: make one with `cloudknot pars create`",
    });
  },
});
