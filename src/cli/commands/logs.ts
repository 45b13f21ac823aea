/**
 * `logs <knot | job-id> [run]`: what an item's attempt printed, or what an
 * AWS Batch job printed, optionally followed while it runs.
 *
 * @module
 */
import { defineCommand } from "../common/command.ts";
import { JSON_OPTION, KNOT_TARGET_OPTION } from "../common/options.ts";

/** `logs <knot | job-id> [run]`. */
export const logs = defineCommand({
  name: "logs",
  summary: "Print what items (or an AWS Batch job) printed; --follow reads a running job",
  description:
    "With --item, that item's output, line by line; without it, every item that printed " +
    'something, each under a "--- item N (attempt A) ---" line. An attempt\'s output is kept ' +
    "once the attempt ends (locally) or as it runs (on AWS, in CloudWatch Logs). Instead of a " +
    "knot, an AWS Batch job id (an array child is <id>:<index>) prints that job's output. " +
    "--follow (AWS, with --item or a job id) waits for the attempt to start and prints its " +
    "lines as they come until it ends (Ctrl-C stops following, with exit code 130); for a run whose map was killed before it wrote its jobs, " +
    "it first waits for the item's job within the submission window, saying until when; " +
    "without --follow, an item whose job has not been submitted or found yet prints nothing " +
    "and says so. On AWS the items a job ran share its CloudWatch stream, read once for " +
    "them when the job has ended, each item's lines printed for it; an item whose attempt ended " +
    "without its record (its job exited 3, could not read the run or write the records, or " +
    'crashed first) also gets the job\'s own lines, which say why, each behind "[job] ", and ' +
    "such an earlier attempt, which AWS Batch ran again, is printed before the latest (named " +
    "on stderr with --item). " +
    'With --json, [{"index","attempt","lines":[...]}] ({"jobId",…} for a job).',
  args: [
    { name: "knot", required: true, description: "The knot's name, or an AWS Batch job id" },
    {
      name: "run",
      required: false,
      description: "The run's id, or a unique prefix of it (default: the latest run)",
    },
  ],
  options: {
    item: { type: "string", value: "N", description: "Only this item (its index in the inputs)" },
    attempt: {
      type: "string",
      value: "N",
      description: "This attempt, counted from 1 (default: the latest)",
    },
    follow: {
      type: "boolean",
      short: "f",
      description: "AWS: keep printing while the attempt runs, until it ends",
    },
    ...JSON_OPTION,
    ...KNOT_TARGET_OPTION,
  },
  examples: [{
    description: "What item 0 of the latest run of the knot squares printed",
    command: "cloudknot logs squares --item 0",
  }, {
    description: "Follow item 2 of the latest run of the AWS knot squares-aws while it runs",
    command: "cloudknot logs squares-aws --item 2 --follow",
  }],
  run: async (ctx) => await (await import("../actions/logs.ts")).run(ctx),
});
