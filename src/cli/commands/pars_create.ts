/**
 * `pars create [name]`: makes (or adopts) a Pars, the IAM roles and network
 * a knot's jobs run with.
 *
 * @module
 */
import { defineCommand } from "../common/command.ts";
import { DRY_RUN_OPTION, JSON_OPTION } from "../common/options.ts";

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
      description: "Another IAM policy for the job role, by name or ARN",
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
      description: "An AWS tag for everything it makes",
    },
    ...DRY_RUN_OPTION,
    ...JSON_OPTION,
  },
  examples: [{
    description: "A Pars named lab whose jobs may also read S3",
    command: "cloudknot pars create lab --policy AmazonS3ReadOnlyAccess",
  }],
  run: async (ctx) => await (await import("../actions/pars_create.ts")).run(ctx),
});
