/**
 * `knot create <knot> <module> [export]`: packages a module's export as a
 * knot, locally or on AWS Batch.
 *
 * @module
 */
import { AWS_KNOT_OPTIONS } from "../common/aws_options.ts";
import { defineCommand } from "../common/command.ts";
import { FILE_OPTION } from "../common/module_path.ts";
import {
  DRY_RUN_OPTION,
  JSON_OPTION,
  KNOT_LIMIT_OPTIONS,
  MODULE_ARGUMENTS,
  TARGET_OPTION,
} from "../common/options.ts";
import { PERMISSION_OPTION } from "../common/permissions.ts";

/** `knot create <knot> <module> [export]`. */
export const knotCreate = defineCommand({
  group: "knot",
  name: "create",
  summary: "Package a module's function as a knot (or update that knot)",
  description:
    "Bundles the module with everything it imports, npm packages included, so the function " +
    "runs with no network. Run it later with `map --name KNOT`. With --target aws it makes the " +
    "knot on AWS Batch: the image (built and pushed to ECR, Docker's output on stderr), the " +
    "Pars, the compute environment, job queue and job definition. A knot of that name on AWS " +
    "given another function (or other --memory, --vcpus, --gpus, --retries, --timeout, --allow) " +
    "is updated: the new function's image is pushed under a tag of its own and a new revision of its job " +
    "definition registered, its compute environment and queue kept, and runs made before (and " +
    "their retries) keep their own function; given the same, it is adopted as it is; when its " +
    "job queue or compute environment was deleted outside cloudknot, it is made again under the " +
    "same names, keeping its runs. With --target docker it builds the knot's image on this machine (no AWS " +
    "request) and `map --name KNOT` runs it on the local Docker engine, as AWS Batch would. " +
    "The knot keeps --retries, --timeout and --memory (and, on this machine, --concurrency, and " +
    "docker's --vcpus): `map --name KNOT` runs with them unless it gives others.",
  args: [
    {
      name: "knot",
      required: true,
      description: "The knot's name: a letter, then letters, digits and hyphens",
    },
    ...MODULE_ARGUMENTS,
  ],
  options: {
    ...KNOT_LIMIT_OPTIONS,
    ...FILE_OPTION,
    ...PERMISSION_OPTION,
    ...AWS_KNOT_OPTIONS,
    quiet: { type: "boolean", short: "q", description: "Do not show Docker's output" },
    ...DRY_RUN_OPTION,
    ...JSON_OPTION,
    ...TARGET_OPTION,
  },
  examples: [{
    description: "Make the knot squares from the export square of your module jobs.ts",
    command: "cloudknot knot create squares jobs.ts square",
  }, {
    description: "See what making it on AWS Batch would create and cost, changing nothing",
    command:
      "cloudknot knot create squares-aws jobs.ts square --target aws --compute FARGATE --vcpus 0.25 --memory 512 --dry-run",
  }, {
    description: "Make it on AWS Batch, on Fargate",
    command:
      "cloudknot knot create squares-aws jobs.ts square --target aws --compute FARGATE --vcpus 0.25 --memory 512",
  }],
  run: async (ctx) => await (await import("../actions/knot_create.ts")).run(ctx),
});
