/**
 * `pars list`: the Pars the config file records.
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/pars_list.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import { cliSettings } from "../common/aws.ts";
import { readParsRecords } from "../../resources/pars.ts";
import { clobberLabel, printList } from "../common/table.ts";
import { ORIGINAL_LABEL } from "../common/original.ts";
import type { CommandContext } from "../common/command.ts";

/**
 * Runs `parsList` (see its declaration, `../commands/pars_list.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
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
}
