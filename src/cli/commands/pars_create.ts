/**
 * `pars create [name]`: makes (or adopts) a Pars, the IAM roles and network
 * a knot's jobs run with.
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
import { defineCommand } from "../common/command.ts";
import { DRY_RUN_OPTION, JSON_OPTION } from "../common/options.ts";
import { printPlans } from "../common/plan_output.ts";
import { refuseOriginal } from "../common/original.ts";
import { pairs } from "../common/pairs.ts";
import { untilInterrupted } from "../common/interrupted.ts";

/** `pars create [name]`. */
export const parsCreate = defineCommand({
  group: "pars",
  name: "create",
  summary: "Make the IAM roles and network knots run with (or adopt the Pars of that name)",
  description:
    "Makes an ECS instance role and profile, a spot fleet role, a Fargate task-execution role, " +
    "a job role limited to the bucket's cloudknot/ prefix (plus --policy), and a security group " +
    "with no inbound rules, in the default VPC or (with --new-vpc) a VPC of its own; its compute " +
    "environments use AWS Batch's service-linked role (--custom-service-role: a Batch service " +
    "role of its own). Everything is tagged ManagedBy=cloudknot and recorded in [pars <name>] of the " +
    "config file; a Pars of that name is adopted, after checking the options match. With " +
    '--json, the Pars: {"name","region","profile","batchServiceRole",…,"vpc","subnets",' +
    '"securityGroup","bucket","policies","useDefaultVpc","created"}.',
  args: [{
    name: "name",
    required: false,
    description: "A letter, then letters, digits and hyphens, at most 45 (default: <you>-default)",
  }],
  options: {
    policy: {
      type: "string",
      value: "POLICY",
      multiple: true,
      description: "Another IAM policy for the job role, by name or ARN; repeat for more",
    },
    "new-vpc": {
      type: "boolean",
      description: "Make a VPC with two public subnets instead of using the default VPC",
    },
    "ipv4-cidr": {
      type: "string",
      value: "CIDR",
      description: "The new VPC's block, /16 to /27 (default 172.31.0.0/16; implies --new-vpc)",
    },
    tenancy: {
      type: "string",
      value: "default|dedicated",
      description: "The new VPC's instance tenancy (implies --new-vpc)",
    },
    bucket: {
      type: "string",
      value: "BUCKET",
      description: "The bucket the job role may use (default: the configured bucket)",
    },
    "custom-service-role": {
      type: "boolean",
      description:
        "Make a Batch service role of its own instead of using Batch's service-linked role",
    },
    tag: {
      type: "string",
      value: "K=V",
      multiple: true,
      description: "An AWS tag for everything it makes; repeat for more",
    },
    ...DRY_RUN_OPTION,
    ...JSON_OPTION,
  },
  examples: [{
    description: "A Pars named lab whose jobs may also read S3",
    command: "cloudknot pars create lab --policy AmazonS3ReadOnlyAccess",
  }],
  async run(ctx) {
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
  },
});
