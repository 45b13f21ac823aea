/**
 * `knot list`: the local knots, with their function and runs.
 *
 * @module
 */
import { listLocalKnots, localRuns } from "../../targets/local/catalog.ts";
import { defineCommand } from "../command.ts";
import { functionLabel, knotJson } from "../knot_view.ts";
import { JSON_OPTION, TARGET_OPTION } from "../options.ts";
import { renderTable } from "../table.ts";
import { resolveTarget } from "../target.ts";

/** `knot list`. */
export const knotList = defineCommand({
  group: "knot",
  name: "list",
  summary: "List the knots: name, function, runs and the latest run",
  description: 'With --json, an array of {"name","target","function","runs","lastRun",...}.',
  args: [],
  options: { ...JSON_OPTION, ...TARGET_OPTION },
  examples: [{ description: "List the local knots", command: "cloudknot knot list" }],
  async run(ctx) {
    resolveTarget(ctx);
    const knots = await listLocalKnots({ env: ctx.io.env });
    const rows = [];
    for (const knot of knots) {
      const runs = await localRuns(knot).runs();
      const last = runs.at(-1);
      rows.push({ knot, runs: runs.length, last });
    }
    if (ctx.flag("json")) {
      await ctx.print(JSON.stringify(rows.map(({ knot, runs, last }) => ({
        ...knotJson(knot),
        runs,
        lastRun: last === undefined ? null : {
          runId: last.runId,
          createdAt: new Date(last.createdAt).toISOString(),
          items: last.count,
        },
      }))));
      return 0;
    }
    if (rows.length === 0) {
      await ctx.log("No knots yet: create one with `cloudknot map` or `cloudknot knot create`");
      return 0;
    }
    await ctx.print(renderTable(
      ["NAME", "FUNCTION", "RUNS", "LAST RUN"],
      rows.map(({ knot, runs, last }) => [
        knot.record.name,
        functionLabel(knot),
        String(runs),
        last?.runId ?? "-",
      ]),
      ctx.out,
    ));
    return 0;
  },
});
