/**
 * `configure`: the AWS profile, region, S3 bucket and ECR repository that
 * cloudknot uses, kept in `[aws]` of the config file.
 *
 * @module
 */
import { FROM_ENV_PROFILE } from "../../resources/settings.ts";
import { defineCommand } from "../common/command.ts";
import { JSON_OPTION } from "../common/options.ts";

/** `configure`. */
export const configure = defineCommand({
  name: "configure",
  summary: "Set the AWS profile, region, S3 bucket and ECR repository cloudknot uses",
  description:
    "Options set values for scripts; on a terminal it asks for anything not given, with the " +
    "current value as the default (press Enter to keep it). The profile must be in the shared " +
    `AWS files, or "${FROM_ENV_PROFILE}" for the credential chain (environment, SSO helpers, ` +
    "instance roles); a new region is checked with EC2; a new or changed bucket is created when " +
    "missing and configured (encryption, no public access, TLS only, job data expiry). With no " +
    "AWS credentials yet, a region is kept unchecked and the default bucket is left for later, " +
    "with a warning. The ECR " +
    "repository is made on the first push. Everything goes into [aws] of the config file " +
    "($CLOUDKNOT_CONFIG_FILE or ~/.aws/cloudknot), with configured = True; a value refused " +
    "leaves [aws] as it was. With --json, " +
    '{"configFile","profile","region","bucket","sse","ecrRepo"} (bucket null when not set up yet).',
  args: [],
  options: {
    profile: {
      type: "string",
      value: "NAME",
      description: `An AWS profile of ~/.aws/config or ~/.aws/credentials, or ${FROM_ENV_PROFILE}`,
    },
    region: { type: "string", value: "REGION", description: "The AWS region, such as eu-west-1" },
    bucket: {
      type: "string",
      value: "BUCKET",
      description: "The S3 bucket for job data (default: cloudknot-<account id>-<region>)",
    },
    sse: {
      type: "string",
      value: "AES256|aws:kms",
      description: "The bucket's default encryption (default: AES256)",
    },
    "expire-days": {
      type: "string",
      value: "N|never",
      description: "Days after which job data in the bucket expires (default: 30)",
    },
    "ecr-repo": {
      type: "string",
      value: "NAME",
      description: "The ECR repository images are pushed to (default: cloudknot)",
    },
    ...JSON_OPTION,
  },
  examples: [
    {
      description: "Configure for scripts, with no questions",
      command:
        "cloudknot configure --profile default --region eu-west-1 --bucket my-lab-cloudknot --ecr-repo cloudknot",
    },
    { description: "Answer questions on the terminal", command: "cloudknot configure" },
  ],
  run: async (ctx) => await (await import("../actions/configure.ts")).run(ctx),
});
