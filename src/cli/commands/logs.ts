/**
 * `logs <knot> [run]`: what an item's attempt printed.
 *
 * @module
 */
import { CloudknotInputError } from "../../errors.ts";
import { defineCommand } from "../command.ts";
import { JSON_OPTION, TARGET_OPTION } from "../options.ts";
import { openRun } from "../run_reader.ts";
import { resolveTarget } from "../target.ts";

/** `logs <knot> [run]`. */
export const logs = defineCommand({
  name: "logs",
  summary: "Print what items printed (stdout and stderr) in an attempt",
  description:
    "With --item, that item's output, line by line; without it, every item that printed " +
    'something, each under a "--- item N (attempt A) ---" line. An attempt\'s output is kept ' +
    'once the attempt ends. With --json, [{"index","attempt","lines":[...]}].',
  args: [
    { name: "knot", required: true, description: "The knot's name" },
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
    ...JSON_OPTION,
    ...TARGET_OPTION,
  },
  examples: [{
    description: "What item 0 of the latest run of the knot squares printed",
    command: "cloudknot logs squares --item 0",
  }],
  async run(ctx) {
    resolveTarget(ctx);
    const item = ctx.integer("item", { min: 0 });
    const attempt = ctx.integer("attempt", { min: 1 });
    if (attempt !== undefined && item === undefined) throw ctx.usage("--attempt needs --item");
    const { run, close } = await openRun(ctx);
    try {
      if (item !== undefined && item >= run.total) {
        throw new CloudknotInputError(
          `Item ${item} is out of range: run ${run.runId} has ${run.total} items (0 to ${
            run.total - 1
          })`,
          { field: "item" },
        );
      }
      const items = run.items;
      const indices = item !== undefined ? [item] : items.map((i) => i.index);
      const found: { index: number; attempt: number; lines: string[] }[] = [];
      for (const index of indices) {
        const which = attempt ?? items[index]!.attempts;
        if (which < 1) continue;
        const lines = await Array.fromAsync(run.logs(index, { attempt: which }));
        if (lines.length > 0 || item !== undefined) found.push({ index, attempt: which, lines });
      }
      if (ctx.flag("json")) {
        await ctx.print(JSON.stringify(found));
        return 0;
      }
      let text = "";
      for (const entry of found) {
        if (item === undefined) {
          text += ctx.out("dim", `--- item ${entry.index} (attempt ${entry.attempt}) ---`) + "\n";
        }
        for (const line of entry.lines) text += `${line}\n`;
      }
      await ctx.io.stdout.write(text);
      return 0;
    } finally {
      close();
    }
  },
});
