/**
 * `cost <knot> [run]`: what a run used and cost, from its attempts.
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/cost.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import type { PriceTable } from "../../cost/prices.ts";
import type { MapRun } from "../../run/map_run.ts";
import { CloudknotInputError } from "../../util/errors.ts";
import { priceTableInCliWords } from "../common/cli_words.ts";
import type { CommandContext } from "../common/command.ts";
import { openRun } from "../common/run_reader.ts";
import { INTERRUPTED } from "../common/follow_run.ts";
import { ABORTED, untilAborted } from "../../util/sleep.ts";
import { stoppedWaiting, untilCtrlC } from "../common/interrupted.ts";

/** Reads a price table of one's own from a JSON file. */
export async function readPrices(path: string | undefined): Promise<PriceTable | undefined> {
  if (path === undefined) return undefined;
  try {
    return JSON.parse(await Deno.readTextFile(path)) as PriceTable;
  } catch (e) {
    throw new CloudknotInputError(
      `--prices ${path} is not a readable JSON price table (${(e as Error).message}): ` +
        `give a file shaped like PRICES (see docs/cost.md)`,
      { field: "prices" },
    );
  }
}

/**
 * Opens the run the arguments name, finishing it where its process is gone,
 * waits for it to end, and hands it to `use` with the `--prices` table; then
 * stops following it. Ctrl-C while it waits stops the waiting, never the run:
 * nothing is printed but the line {@linkcode stoppedWaiting} says, and the
 * exit code is 130.
 *
 * @returns 0, or 130 when Ctrl-C stopped the waiting.
 */
export async function withFinishedRun(
  ctx: CommandContext,
  command: "cost" | "report",
  use: (run: MapRun<unknown>, options: { prices?: PriceTable }) => Promise<void>,
): Promise<number> {
  const prices = await readPrices(ctx.string("prices"));
  return await untilCtrlC(async (signal) => {
    const { run, finishing, close } = await openRun(ctx, { use: "finish" });
    try {
      if (!run.finished) {
        // A run still going may take hours: what the command waits for is said, as results says it.
        const c = run.counts;
        await ctx.log(ctx.err(
          "dim",
          `Waiting for run ${run.runId} of knot ${run.knot} to end: ${
            c.succeeded + c.failed
          }/${c.total} done`,
        ));
      }
      if (await untilAborted(run.done, signal) === ABORTED) {
        await ctx.log(ctx.err("yellow", stoppedWaiting(run, command, { finishing: finishing() })));
        return INTERRUPTED;
      }
      await use(run, prices !== undefined ? { prices } : {});
    } finally {
      await close();
    }
    return 0;
  });
}

/**
 * Runs `cost` (see its declaration, `../commands/cost.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export function run(ctx: CommandContext): Promise<number> {
  return withFinishedRun(ctx, "cost", async (run, options) => {
    const report = await run.cost(options);
    // A region the price table lacks: the report says to pass --prices, not the library's option.
    const words = (text: string) => priceTableInCliWords(text, ctx.command);
    if (ctx.flag("json")) {
      await ctx.print(JSON.stringify({
        ...report,
        ...(report.missing !== undefined ? { missing: words(report.missing) } : {}),
      }));
    } else await ctx.print(words(String(report)));
  });
}
