/**
 * `knot show <knot>`: a knot's details and its runs.
 *
 * @module
 */
import { findLocalKnot } from "../../targets/local/catalog.ts";
import { defineCommand } from "../command.ts";
import { functionLabel, knotJson, snapshotRuns } from "../knot_view.ts";
import { JSON_OPTION, TARGET_OPTION } from "../options.ts";
import { formatTime, renderTable } from "../table.ts";
import { resolveTarget } from "../target.ts";

/** `knot show <knot>`. */
export const knotShow = defineCommand({
  group: "knot",
  name: "show",
  summary: "Show a knot's details and a table of its runs",
  description:
    "A run is finished once every item has ended; one still going shows its counts so far.",
  args: [{ name: "knot", required: true, description: "The knot's name" }],
  options: { ...JSON_OPTION, ...TARGET_OPTION },
  examples: [{
    description: "Show the knot squares and its runs",
    command: "cloudknot knot show squares",
  }],
  async run(ctx) {
    resolveTarget(ctx);
    const knot = await findLocalKnot(ctx.arg("knot")!, { env: ctx.io.env });
    const runs = await snapshotRuns(knot);
    if (ctx.flag("json")) {
      await ctx.print(JSON.stringify({
        ...knotJson(knot),
        runs: runs.map(({ manifest, counts, finished }) => ({
          runId: manifest.runId,
          createdAt: new Date(manifest.createdAt).toISOString(),
          items: manifest.count,
          attempts: manifest.attempts,
          starmap: manifest.starmap,
          status: finished ? "finished" : "running",
          succeeded: counts.succeeded,
          failed: counts.failed,
          running: counts.running,
          pending: counts.pending,
        })),
      }));
      return 0;
    }
    const r = knot.record;
    const details: [string, string][] = [
      ["knot", r.name],
      ["target", r.target],
      ["function", functionLabel(knot)],
      ["created", formatTime(r.createdAt)],
      ["updated", formatTime(r.updatedAt)],
      ["dir", knot.root],
      ["runs dir", knot.runsRoot],
    ];
    const lines = details.map(([k, v]) => `${ctx.out("bold", k.padEnd(9))} ${v}`);
    lines.push("");
    if (runs.length === 0) lines.push("No runs yet");
    else {
      lines.push(renderTable(
        ["RUN", "CREATED", "ITEMS", "SUCCEEDED", "FAILED", "STATUS"],
        runs.map(({ manifest, counts, finished }) => [
          manifest.runId,
          formatTime(manifest.createdAt),
          String(manifest.count),
          String(counts.succeeded),
          String(counts.failed),
          finished ? "finished" : "running",
        ]),
        ctx.out,
      ));
    }
    await ctx.print(lines.join("\n"));
    return 0;
  },
});
