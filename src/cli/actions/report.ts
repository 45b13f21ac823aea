/**
 * `report <knot> [run] --out FILE`: a run's report as one self-contained
 * HTML page.
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/report.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { CloudknotInputError } from "../../util/errors.ts";
import { priceTableInCliWords } from "../common/cli_words.ts";
import { failureInCliWords } from "../common/item_output.ts";
import { withFinishedRun } from "./cost.ts";
import type { CommandContext } from "../common/command.ts";

/** Refuses an `--out` whose folder does not exist. */
async function checkFolder(out: string): Promise<void> {
  const folder = dirname(resolve(out));
  const info = await Deno.stat(folder).catch(() => undefined);
  if (!info?.isDirectory) {
    throw new CloudknotInputError(
      `The folder of --out ${out} (${folder}) does not exist: create it, or pass --out FILE ` +
        "in an existing folder",
      { field: "out" },
    );
  }
}

/**
 * Runs `report` (see its declaration, `../commands/report.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const given = ctx.string("out");
  // Checked before waiting for a run still going, which can take hours.
  if (given !== undefined) await checkFolder(given);
  return await withFinishedRun(ctx, "report", async (run, options) => {
    // Its failures, and a region the price table lacks (--prices), in the command line's words.
    const page = priceTableInCliWords(
      await run.report({ ...options, describe: failureInCliWords }),
      ctx.command,
    );
    const out = given ?? `${run.knot}-${run.runId}.html`;
    try {
      await Deno.writeTextFile(out, page);
    } catch (e) {
      throw new CloudknotInputError(
        `Cannot write the report to ${out} (${(e as Error).message}): pass --out FILE ` +
          "in a folder you may write",
        { field: "out", cause: e },
      );
    }
    await ctx.print(`Wrote the report of run ${run.runId} of knot ${run.knot} to ${out}`);
  });
}
