/**
 * `retry <knot> [run]`: runs a run's failed, cancelled or lost items again
 * and prints the results of the whole input, as `map` does.
 *
 * @module
 */
import { defineCommand } from "../common/command.ts";
import {
  JSON_OPTION,
  KNOT_TARGET_OPTION,
  RUN_ARGUMENTS,
  UNORDERED_OPTION,
} from "../common/options.ts";
import { PERMISSION_OPTION } from "../common/permissions.ts";

/** `retry <knot> [run]`. */
export const retry = defineCommand({
  name: "retry",
  summary: "Run a run's failed items again; print the results of the whole input",
  description:
    "Submits only the items that failed, were cancelled or were lost, as a new run of the " +
    "same knot, then prints one JSON line per item of the whole input, exactly as map does " +
    "(the earlier results, and the retried ones). --memory double gives the items that ran " +
    "out of memory twice the memory they had. The retried items keep the permissions their " +
    "run had, unless --allow gives others (all of them, as on map: net is allowed by " +
    "default). It waits for the run to end first, on AWS until its jobs have stopped, on " +
    "docker until its containers a cancel could not kill have, so " +
    "that an item that recorded a result meanwhile is not run again. Exits with 1 when any " +
    "item still failed.",
  args: RUN_ARGUMENTS,
  options: {
    memory: {
      type: "string",
      value: "MiB|double",
      description: "Memory for the retried items; double: twice as much for those that ran out",
    },
    vcpus: {
      type: "string",
      value: "N",
      description: "AWS and docker: vCPUs for the retried items",
    },
    timeout: { type: "string", value: "S", description: "Seconds one retried attempt may run" },
    ...PERMISSION_OPTION,
    ...UNORDERED_OPTION,
    quiet: { type: "boolean", short: "q", description: "Do not show progress on stderr" },
    ...JSON_OPTION,
    ...KNOT_TARGET_OPTION,
  },
  examples: [{
    description:
      "Retry the failed items of the latest run of squares, doubling memory where it ran out",
    command: "cloudknot retry squares --memory double",
  }],
  run: async (ctx) => await (await import("../actions/retry.ts")).run(ctx),
});
