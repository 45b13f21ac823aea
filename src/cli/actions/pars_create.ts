/**
 * `pars create [name]`: makes (or adopts) a Pars, the IAM roles and network
 * a knot's jobs run with.
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/pars_create.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import { Pars } from "../../resources/pars.ts";
import {
  type InstanceTenancy,
  type ParsOptions,
  validateParsOptions,
} from "../../resources/pars_options.ts";
import { sessionFromSettings } from "../../resources/settings.ts";
import { recordSection } from "../../state/sections.ts";
import { cliSettings } from "../common/aws.ts";
import { printPlans } from "../common/plan_output.ts";
import { refuseOriginal } from "../common/original.ts";
import { pairs } from "../common/pairs.ts";
import { untilInterrupted } from "../common/interrupted.ts";
import type { CommandContext } from "../common/command.ts";

/**
 * Runs `parsCreate` (see its declaration, `../commands/pars_create.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const name = ctx.arg("name");
  const cidr = ctx.string("ipv4-cidr");
  const tenancy = ctx.string("tenancy");
  if (tenancy !== undefined && tenancy !== "default" && tenancy !== "dedicated") {
    throw ctx.usage(`--tenancy must be "default" or "dedicated", not "${tenancy}"`);
  }
  const newVpc = ctx.flag("new-vpc") || cidr !== undefined || tenancy !== undefined;
  const policies = ctx.strings("policy");
  const bucket = ctx.string("bucket");
  const tags = pairs(ctx, "tag");
  const settings = cliSettings(ctx);
  if (name !== undefined) await refuseOriginal(ctx, "pars", name);
  const existed = name !== undefined &&
    (await settings.state.section(recordSection("pars", name))) !== undefined;
  const options: ParsOptions = {
    ...settings,
    session: await sessionFromSettings(settings),
    ...(name !== undefined ? { name } : {}),
    ...(policies.length > 0 ? { policies } : {}),
    ...(newVpc ? { useDefaultVpc: false } : {}),
    ...(cidr !== undefined ? { ipv4Cidr: cidr } : {}),
    ...(tenancy !== undefined ? { instanceTenancy: tenancy as InstanceTenancy } : {}),
    ...(bucket !== undefined ? { bucket } : {}),
    ...(ctx.flag("custom-service-role") ? { customServiceRole: true } : {}),
    ...(Object.keys(tags).length > 0 ? { tags } : {}),
  };
  validateParsOptions(options);
  if (ctx.flag("dry-run")) {
    await printPlans(ctx, await Pars.plan(options));
    return 0;
  }
  // A config file that cannot take the record is refused before anything is made.
  await settings.state.assertWritable();
  if (!ctx.flag("json")) await ctx.log(ctx.err("dim", "Making the Pars' roles and network…"));
  // The name a Pars gets without one is `<you>-default`: the same command makes it.
  const again = name === undefined ? "cloudknot pars create" : `cloudknot pars create ${name}`;
  return await untilInterrupted(
    ctx,
    async () => {
      const pars = await Pars.create(options);
      if (ctx.flag("json")) {
        await ctx.print(JSON.stringify(pars));
        return 0;
      }
      const rows: [string, string][] = [
        ["region", pars.region],
        ["vpc", `${pars.vpc}${pars.useDefaultVpc ? " (default VPC)" : ""}`],
        ["subnets", pars.subnets.join(", ")],
        ["security", pars.securityGroup],
        ["job role", pars.jobRole],
        ["bucket", pars.bucket],
      ];
      if (pars.policies.length > 0) rows.push(["policies", pars.policies.join(", ")]);
      await ctx.print([
        `${existed ? "Adopted" : "Made"} Pars ${pars.name}`,
        ...rows.map(([k, v]) => `  ${ctx.out("bold", k.padEnd(8))}  ${v}`),
      ].join("\n"));
      return 0;
    },
    `Pars ${
      name ?? "<you>-default"
    } may be partly made: run ${again} again to finish it, or cloudknot gc to list what it left`,
  );
}
