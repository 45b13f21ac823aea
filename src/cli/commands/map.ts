/**
 * `map` (alias `run`): runs a module's exported function over inputs and
 * prints each result as an NDJSON line.
 *
 * @module
 */
import { AWS_KNOT_OPTIONS } from "../common/aws_options.ts";
import { defineCommand } from "../common/command.ts";
import { FILE_OPTION } from "../common/module_path.ts";
import {
  DRY_RUN_OPTION,
  EXPORT_ARGUMENT,
  JSON_OPTION,
  KNOT_LIMIT_OPTIONS,
  TARGET_OPTION,
  UNORDERED_OPTION,
} from "../common/options.ts";
import { PERMISSION_OPTION } from "../common/permissions.ts";

/** `map <module> [export]`. */
export const map = defineCommand({
  name: "map",
  aliases: ["run"],
  summary: "Run a module's function over inputs; one JSON line per result",
  description:
    "Bundles the module with everything it imports into the knot (named after the module and " +
    "the export unless --name says otherwise; an existing knot of that name is updated, which " +
    "stderr says when its function changes), runs " +
    "the function once per input, and prints one line per item on stdout: " +
    '{"index":i,"value":...} or {"index":i,"error":{"name","message","kind",...}}. ' +
    "Values JSON cannot carry (undefined, BigInt, NaN, Date, Map, ...) print in the job " +
    'codec\'s JSON form, such as {"$":"bigint","v":"12"}; keys starting with $ get one more $.\n' +
    "Inputs are a JSON array, or NDJSON (one JSON value per line) with --ndjson or a .ndjson or " +
    ".jsonl file. Without a module, --name runs an existing knot. Exits with 1 when any item " +
    "failed, after printing every line. Ctrl-C cancels the run.",
  args: [
    {
      name: "module",
      required: false,
      description: "The module's path or URL (optional with --name)",
    },
    EXPORT_ARGUMENT,
  ],
  options: {
    inputs: {
      type: "string",
      value: "FILE",
      description:
        "Read the inputs from FILE, or - for stdin (default: stdin when it is not a terminal)",
    },
    ndjson: { type: "boolean", description: "The inputs are NDJSON: one JSON value per line" },
    starmap: { type: "boolean", description: "Each input is an array of arguments to spread" },
    name: {
      type: "string",
      value: "KNOT",
      description: "The knot's name (default: from the module and export)",
    },
    ...KNOT_LIMIT_OPTIONS,
    env: {
      type: "string",
      value: "K=V",
      multiple: true,
      description: "An environment variable for every job",
    },
    "job-type": {
      type: "string",
      value: "array|independent",
      description: "AWS: array jobs (default), or one job per item",
    },
    "items-per-job": {
      type: "string",
      value: "N|auto",
      description:
        "AWS and docker: items each Batch job (or array child, or container) runs in one " +
        "container (1 to 100,000), as many at once as it has vCPUs; auto (default) makes at most " +
        "2 x (maxvCpus / the job's vCPUs) children on AWS, 2 x --concurrency containers on docker",
    },
    ...FILE_OPTION,
    ...PERMISSION_OPTION,
    ...AWS_KNOT_OPTIONS,
    ...DRY_RUN_OPTION,
    "item-seconds": {
      type: "string",
      value: "S",
      description: "With --dry-run: seconds one item runs, for the cost estimate",
    },
    ...UNORDERED_OPTION,
    quiet: {
      type: "boolean",
      short: "q",
      description: "Do not show the run's id, progress and Docker's output on stderr",
    },
    ...JSON_OPTION,
    ...TARGET_OPTION,
  },
  examples: [
    {
      description:
        "Square three numbers with the export square of your module jobs.ts, in input order",
      command: "echo '[1, 2, 3]' | cloudknot map jobs.ts square --name squares",
    },
    {
      description: "Add pairs read as NDJSON with its export add, printing results as they finish",
      command:
        "printf '[1, 2]\\n[3, 4]\\n' | cloudknot map jobs.ts add --ndjson --starmap --unordered",
    },
    {
      description: "What squaring 1,000 numbers of a minute each on AWS would submit and cost",
      command:
        "seq 1000 | cloudknot map jobs.ts square --ndjson --name squares-aws --target aws --compute FARGATE --vcpus 0.25 --memory 512 --dry-run --item-seconds 60",
    },
    {
      description: "Square numbers on AWS Batch with Fargate (after `cloudknot configure`)",
      command:
        "echo '[1, 2, 3]' | cloudknot map jobs.ts square --name squares-aws --target aws --compute FARGATE --vcpus 0.25 --memory 512",
    },
  ],
  run: async (ctx) => await (await import("../actions/map.ts")).run(ctx),
});
