/**
 * Printing a run that this command started (`map`, `retry`) until it ends:
 * Ctrl-C and a closed stdout cancel it, so its unfinished items end as
 * `cancelled` and a later `retry` runs them.
 *
 * @module
 */
import type { MapRun } from "../../run/map_run.ts";
import { showProgress } from "../../run/progress.ts";
import type { CommandContext } from "./command.ts";
import { besideProgress, CLEAR_LINE, drawsOn, stderrProgress } from "./io.ts";
import { failureSummary, writeItems } from "./item_output.ts";

/** The exit code of a command whose run was interrupted (128 + SIGINT). */
export const INTERRUPTED = 130;

/** Options for {@linkcode followRun}. */
export interface FollowRunOptions {
  /** Print results as they finish instead of in input order. @default {false} */
  unordered?: boolean;
  /** Print one JSON document at the end. @default {false} */
  json?: boolean;
  /** A line saying what runs, then the run's progress, on stderr; neither without it. */
  header?: string;
}

/**
 * Prints a run's items on stdout as they settle, and ends with its exit
 * code: 0, 1 when an item failed (after the failure summary on stderr), or
 * 130 when Ctrl-C cancelled it. A second Ctrl-C while the cancel waits (on
 * AWS, for the jobs to stop) ends it at once with 130, after an
 * `interrupted again:` line that says how to run the unfinished items (and,
 * on AWS and docker, that the run's jobs or containers may still be running,
 * with the `cloudknot cancel` that stops them). A
 * stdout closed early cancels the run too and says so on stderr, with the
 * `retry` command that runs its unfinished items; the `BrokenPipe` error is
 * thrown on.
 *
 * @example Usage
 * ```ts ignore
 * const run = await knot.map(items);
 * return await followRun(ctx, run, { unordered: ctx.flag("unordered") });
 * ```
 *
 * @param ctx The running command.
 * @param run The run it started.
 * @param options The order and format of the output.
 * @returns The exit code.
 */
export async function followRun(
  ctx: CommandContext,
  run: MapRun<unknown>,
  options: FollowRunOptions = {},
): Promise<number> {
  // On a terminal, a line said meanwhile replaces the progress line (and the ^C the terminal
  // echoed after it), which is drawn again below it.
  const erase = drawsOn(ctx.io.stderr, ctx.io) ? CLEAR_LINE : "";
  let stopProgress = () => {};
  let interrupted = false;
  const { promise: forced, resolve: force } = Promise.withResolvers<number>();
  const onInterrupt = () => {
    if (interrupted) {
      // The second Ctrl-C: the user will not wait for the cancel to end.
      stopProgress();
      const retry = `cloudknot retry ${run.knot} ${run.runId}`;
      // A local run's workers end with this process. An AWS run's jobs and a docker run's
      // containers do not: the cancel may not have told them to stop yet.
      const left = run.target === "aws"
        ? "AWS Batch jobs"
        : run.target === "docker"
        ? "docker containers"
        : undefined;
      ctx.log(ctx.err(
        "red",
        `${erase}interrupted again: stopped without waiting for run ${run.runId}'s cancel ` +
          (left === undefined
            ? `to end; \`${retry}\` runs the items that did not finish`
            : `to end, so its ${left} may still be running: \`cloudknot cancel ${run.knot} ` +
              `${run.runId}\` stops them, then \`${retry}\` runs the items that did not finish`),
      )).then(() => force(INTERRUPTED), () => force(INTERRUPTED));
      return;
    }
    interrupted = true;
    ctx.log(`${erase}Cancelling the run (interrupted); Ctrl-C again stops without waiting`)
      .catch(() => {});
    run.cancel("The run was interrupted (SIGINT)").catch(() => {});
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  // Ended by another signal (a kill, a closed terminal): the run is left as it is, not cancelled,
  // and the line says what finishes it. A terminal gone may take the line with it.
  const ended: [Deno.Signal, number][] = [["SIGTERM", 143], ["SIGHUP", 129]];
  const onEnd = ended.map(([signal, code]) =>
    [signal, () => {
      stopProgress();
      const finish = run.target === "local"
        ? "runs its unfinished items here and prints every result"
        : `follows its ${run.target === "aws" ? "AWS Batch jobs" : "docker containers"} to their ` +
          "end and prints every result";
      ctx.log(
        `${erase}stopped by ${signal}: run ${run.runId} is not finished; \`cloudknot results ` +
          `${run.knot} ${run.runId}\` ${finish}`,
      ).then(() => force(code), () => force(code));
    }] as const
  );
  for (const [signal, listener] of onEnd) Deno.addSignalListener(signal, listener);
  let failed: number[] = [];
  try {
    if (options.header !== undefined) {
      await ctx.log(ctx.err("dim", options.header));
      stopProgress = showProgress(run, stderrProgress(ctx.io));
    }
    const printed = (async () => {
      const stdout = options.header !== undefined ? besideProgress(ctx.io) : ctx.io.stdout;
      failed = await writeItems(run, stdout, {
        ...(options.unordered !== undefined ? { unordered: options.unordered } : {}),
        ...(options.json !== undefined ? { json: options.json } : {}),
      });
      await run.done;
    })();
    const left = await Promise.race([printed.then(() => undefined), forced]);
    if (left !== undefined) {
      // The run goes on without this command, which the process ends.
      printed.catch(() => {});
      return left;
    }
  } catch (e) {
    await run.cancel("The command line stopped: " + (e instanceof Error ? e.message : String(e)));
    if (e instanceof Deno.errors.BrokenPipe) {
      // Said on stderr, since stdout is gone: the exit code alone does not say the run stopped.
      await ctx.log(
        `stdout was closed, so run ${run.runId} was cancelled: ` +
          `\`cloudknot retry ${run.knot} ${run.runId}\` runs its unfinished items`,
      ).catch(() => {});
    }
    throw e;
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    for (const [signal, listener] of onEnd) Deno.removeSignalListener(signal, listener);
  }
  if (failed.length > 0) await ctx.log(ctx.err("red", failureSummary(run, failed)));
  if (interrupted) return INTERRUPTED;
  return failed.length > 0 ? 1 : 0;
}
