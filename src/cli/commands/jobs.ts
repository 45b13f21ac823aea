/**
 * `jobs <knot> [run]`: the job view of a run, as it stands.
 *
 * @module
 */
import { defineCommand } from "../common/command.ts";
import { JSON_OPTION, KNOT_TARGET_OPTION } from "../common/options.ts";

/** `jobs <knot> [run]`. */
export const jobs = defineCommand({
  name: "jobs",
  summary: "Show a run's jobs: each item's status, attempts and error",
  description:
    "Shows the run as it stands now (the latest run by default); failed items come first. " +
    'With --json, {"knot","runId","target","total","attempts","startedAt","endedAt","counts",' +
    '"items":[{"index","status","attempts","jobId","startedAt","endedAt","error"}]} with every item. ' +
    "For a knot on AWS it first shows the run's AWS Batch jobs, each array job with its " +
    'children counted by status; --json adds "jobs":[{"jobId","jobName","status",' +
    '"statusReason","createdAt","attempts","arraySize","children"}].',
  args: [
    { name: "knot", required: true, description: "The knot's name" },
    {
      name: "run",
      required: false,
      description: "The run's id, or a unique prefix of it (default: the latest run)",
    },
  ],
  options: { ...JSON_OPTION, ...KNOT_TARGET_OPTION },
  examples: [{
    description: "The jobs of the latest run of the knot squares",
    command: "cloudknot jobs squares",
  }, {
    description: "The AWS Batch jobs of the latest run of the knot squares-aws, as JSON",
    command: "cloudknot jobs squares-aws --json",
  }],
  run: async (ctx) => await (await import("../actions/jobs.ts")).run(ctx),
});
