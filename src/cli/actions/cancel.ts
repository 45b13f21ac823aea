/**
 * `cancel <knot> [run]`: cancels a run from any process, as Ctrl-C on its
 * `map` does: its AWS Batch jobs or docker containers are stopped, and its
 * unfinished items end cancelled.
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/cancel.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import { openRun } from "../common/run_reader.ts";
import { untilInterrupted } from "../common/interrupted.ts";
import type { MapRun } from "../../run/map_run.ts";
import type { CommandContext } from "../common/command.ts";

/**
 * What `cancel` says when Ctrl-C stops it while it waits for the run to end:
 * the cancel was sent (a local run's process is asked at once; an AWS run's
 * jobs and a docker run's containers are told one after another, so those it
 * had not reached yet run on), what shows the run end, and that `cancel`
 * again finishes it.
 */
function cancelInterrupted(run: Pick<MapRun<unknown>, "knot" | "runId" | "target">): string {
  const ref = `${run.knot} ${run.runId}`;
  const work = run.target === "aws" ? "its AWS Batch jobs" : "its containers";
  return `stopped waiting for run ${run.runId} of knot ${run.knot} to end; ` +
    (run.target === "local"
      ? `its cancel was sent to the process that runs it, which ends it: `
      : `its cancel was sent to ${work}, as far as it had got: `) +
    `\`cloudknot results ${ref}\` shows the run end, and \`cloudknot cancel ${ref}\` again ` +
    (run.target === "local"
      ? "waits for it to end"
      : "stops what it had not reached yet and waits for the run to end");
}

/**
 * Runs `cancel` (see its declaration, `../commands/cancel.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const { run, close } = await openRun(ctx);
  try {
    if (run.finished) {
      await ctx.print(`Run ${run.runId} of knot ${run.knot} has ended: nothing to cancel`);
      return 0;
    }
    // Ctrl-C from here (the wait for the run to end is up to a minute on AWS) says what was sent.
    return await untilInterrupted(ctx, async () => {
      await ctx.log(ctx.err("dim", `Cancelling run ${run.runId} of knot ${run.knot}…`));
      await run.cancel("Cancelled with cloudknot cancel");
      await run.done.catch(() => {});
      let cancelled = 0;
      for (let i = 0; i < run.total; i++) {
        const settled = run.settledItem(i);
        if (settled?.status === "rejected" && settled.reason.kind === "cancelled") cancelled++;
      }
      await ctx.print(
        `Cancelled run ${run.runId} of knot ${run.knot}: ${cancelled} of ${run.total} items ` +
          `cancelled` +
          (cancelled > 0 ? `; \`cloudknot retry ${run.knot} ${run.runId}\` runs them again` : ""),
      );
      return 0;
    }, cancelInterrupted(run));
  } finally {
    await close();
  }
}
