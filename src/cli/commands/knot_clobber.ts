/**
 * `knot clobber <knot>`: deletes a knot, its function and all its runs (on
 * AWS: its Batch resources and job data, and on request its Pars, image and
 * repository).
 *
 * @module
 */
import { defineCommand } from "../common/command.ts";
import { YES_OPTION } from "../common/confirm.ts";
import { KNOT_TARGET_OPTION } from "../common/options.ts";

/** `knot clobber <knot>`. */
export const knotClobber = defineCommand({
  group: "knot",
  name: "clobber",
  summary: "Delete a knot, its function and all its runs",
  description:
    "Asks first on a terminal; anywhere else (a script, CI) it needs --yes. Exits with 1 when " +
    "the question is answered no. A knot on AWS: its running jobs are stopped and waited on " +
    "(whoever reads their runs, as cloudknot results, sees their items cancelled by the " +
    "clobber), its queue, " +
    "compute environment and job definitions deleted, its job data deleted (unless " +
    "--keep-data) and its record removed (stopped part-way, it is finished by running it " +
    "again); --pars, --repo and --image delete those too (in the " +
    "shared default repository, only the knot's tags). A knot of the Python cloudknot: its " +
    "CloudFormation stack is deleted, and waited for, with every resource in it; --pars deletes " +
    "its Pars's stack next.",
  args: [{ name: "knot", required: true, description: "The knot's name" }],
  options: {
    ...YES_OPTION,
    pars: {
      type: "boolean",
      description: "AWS: also delete its Pars (unless another knot uses it)",
    },
    repo: { type: "boolean", description: "AWS: also delete its image's repository" },
    image: { type: "boolean", description: "AWS: also remove its local image and build files" },
    "keep-data": { type: "boolean", description: "AWS: keep its job data in S3" },
    ...KNOT_TARGET_OPTION,
  },
  examples: [{
    description: "Delete the knot squares without asking",
    command: "cloudknot knot clobber squares --yes",
  }, {
    description: "Delete the AWS knot squares-aws with its repository and image",
    command: "cloudknot knot clobber squares-aws --repo --image --yes",
  }],
  run: async (ctx) => await (await import("../actions/knot_clobber.ts")).run(ctx),
});
