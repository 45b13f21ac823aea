/**
 * `retry <knot> [run]`: runs a run's failed, cancelled or lost items again
 * and prints the results of the whole input, as `map` does.
 *
 * @module
 */
import { showProgress } from "../../run/progress.ts";
import type { RetryOptions } from "../../run/retry.ts";
import { defineCommand } from "../common/command.ts";
import { stderrProgress } from "../common/io.ts";
import { failureSummary, writeItems } from "../common/item_output.ts";
import { openRun } from "../common/run_reader.ts";
import { JSON_OPTION, KNOT_TARGET_OPTION, RUN_ARGUMENTS } from "../common/options.ts";

/** `retry <knot> [run]`. */
export const retry = defineCommand({
  name: "retry",
  summary: "Run a run's failed items again; print the results of the whole input",
  description:
    "Submits only the items that failed, were cancelled or were lost, as a new run of the " +
    "same knot, then prints one JSON line per item of the whole input, exactly as map does " +
    "(the earlier results, and the retried ones). --memory double gives the items that ran " +
    "out of memory twice the memory they had. Exits with 1 when any item still failed.",
  args: RUN_ARGUMENTS,
  options: {
    memory: {
      type: "string",
      value: "MiB|double",
      description: "Memory for the retried items; double: twice as much for those that ran out",
    },
    vcpus: { type: "string", value: "N", description: "AWS: vCPUs for the retried items" },
    timeout: { type: "string", value: "S", description: "Seconds one retried attempt may run" },
    unordered: { type: "boolean", description: "Print results as they finish, not in input order" },
    quiet: { type: "boolean", short: "q", description: "Do not show progress on stderr" },
    ...JSON_OPTION,
    ...KNOT_TARGET_OPTION,
  },
  examples: [{
    description:
      "Retry the failed items of the latest run of squares, doubling memory where it ran out",
    command: "cloudknot retry squares --memory double",
  }],
  async run(ctx) {
    const memoryText = ctx.string("memory");
    let memory: number | "double" | undefined;
    if (memoryText === "double") memory = "double";
    else if (memoryText !== undefined) memory = ctx.integer("memory", { min: 1 });
    const vcpus = ctx.positive("vcpus");
    const timeout = ctx.positive("timeout");
    const options: RetryOptions = {
      progress: false,
      ...(memory !== undefined ? { memory } : {}),
      ...(vcpus !== undefined ? { vcpus } : {}),
      ...(timeout !== undefined ? { timeout } : {}),
    };
    const { run: earlier, close } = await openRun(ctx, { use: "retry" });
    let failed: number[];
    try {
      const run = await earlier.retry(options);
      if (!ctx.flag("quiet")) {
        await ctx.log(ctx.err(
          "dim",
          run === earlier
            ? `Nothing to retry: every item of run ${run.runId} succeeded`
            : `knot ${run.knot} · run ${run.runId} retries ${
              run.retryOf!.items.length
            } items of run ${earlier.runId}`,
        ));
        if (run !== earlier) {
          showProgress(run, stderrProgress(ctx.io));
        }
      }
      failed = await writeItems(run, ctx.io.stdout, {
        unordered: ctx.flag("unordered"),
        json: ctx.flag("json"),
      });
      await run.done;
    } finally {
      close();
    }
    if (failed.length === 0) return 0;
    await ctx.log(ctx.err("red", failureSummary(failed, earlier.total)));
    return 1;
  },
});
