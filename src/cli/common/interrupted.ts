/**
 * Ctrl-C in a command that does not start a run (`map` and `retry` cancel
 * theirs: `follow_run.ts`). One that changes AWS step by step (`knot create`,
 * `knot clobber`, `pars create`, `pars clobber`, `gc --yes`) stops there, as
 * it would without this, but first says what the user can run to finish what
 * it began ({@linkcode untilInterrupted}). One that waits (`logs --follow`, and
 * `results`, `cost` and `report` on a run still going) stops waiting, ends
 * with what it read and exit code 130 ({@linkcode untilCtrlC}), and, for a
 * run, says that it goes on and how to read or stop it
 * ({@linkcode stoppedWaiting}).
 *
 * @module
 */
import type { MapRun } from "../../run/map_run.ts";
import type { CommandContext } from "./command.ts";
import { INTERRUPTED } from "./follow_run.ts";

/**
 * Runs a command's work; a SIGINT meanwhile ends it at once with
 * {@linkcode INTERRUPTED}, after `interrupted: <advice>` on stderr. The
 * work is left where it was, as the signal alone would leave it (the caller
 * exits the process with that code).
 *
 * @example Usage
 * ```ts ignore
 * return await untilInterrupted(ctx, () => clobber(ctx), `run cloudknot pars clobber lab again`);
 * ```
 *
 * @param ctx The running command.
 * @param work The command's work, resolving to its exit code.
 * @param advice What to run to finish it, in the command line's words.
 * @returns The work's exit code, or 130 once interrupted.
 */
export async function untilInterrupted(
  ctx: CommandContext,
  work: () => Promise<number>,
  advice: string,
): Promise<number> {
  const { promise: interrupted, resolve } = Promise.withResolvers<number>();
  const onInterrupt = () => {
    ctx.log(ctx.err("red", `interrupted: ${advice}`)).then(
      () => resolve(INTERRUPTED),
      () => resolve(INTERRUPTED),
    );
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    return await Promise.race([work(), interrupted]);
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}

/**
 * Runs a command that waits: Ctrl-C aborts the signal it is given, and the
 * work ends with what it read so far (with `--json`, its document closed),
 * then the command with {@linkcode INTERRUPTED} (130), as `tail -f`,
 * `docker logs -f` and `kubectl logs -f` end, whatever it was doing then.
 * A second Ctrl-C changes nothing: the work is already ending.
 *
 * @example Usage
 * ```ts ignore
 * return await untilCtrlC(async (signal) => {
 *   for await (const line of job.logs({ follow: true, signal })) await ctx.print(line);
 *   return 0;
 * });
 * ```
 *
 * @param work The command's work, which stops waiting when its signal aborts.
 * @returns The work's exit code, or 130 when Ctrl-C stopped it.
 */
export async function untilCtrlC(
  work: (signal: AbortSignal) => Promise<number>,
): Promise<number> {
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    const code = await work(stop.signal);
    return stop.signal.aborted ? INTERRUPTED : code;
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}

/**
 * What a command that waited for a run (`results`, `cost`, `report`) says on
 * stderr once Ctrl-C stopped it: the run goes on without it (Ctrl-C on a
 * command that reads a run never cancels it, as Ctrl-C on `map` does), the
 * command that reads it again and the `cloudknot cancel` that stops it. A
 * local run whose `map` had ended, which this command was finishing, does
 * not go on: its unfinished items stopped with it, and the same command runs
 * them again.
 *
 * @example Usage
 * ```ts ignore
 * await ctx.log(stoppedWaiting(run, "results", { finishing: false }));
 * ```
 *
 * @param run The run waited for.
 * @param command The command that waited, run again to read the rest.
 * @param options Whether this command was finishing the run itself.
 * @returns The line, in the command line's words.
 */
export function stoppedWaiting(
  run: Pick<MapRun<unknown>, "knot" | "runId">,
  command: "results" | "cost" | "report",
  options: { finishing: boolean },
): string {
  const again = `cloudknot ${command} ${run.knot} ${run.runId}`;
  const does = command === "results"
    ? "prints the rest of its results"
    : command === "cost"
    ? "reports what it used and cost"
    : "writes its report";
  if (options.finishing) {
    return `interrupted: stopped finishing run ${run.runId} of knot ${run.knot} (its map had ` +
      `ended, so this command ran its unfinished items): \`${again}\` runs them and ${
        command === "results" ? "prints its results" : does.replace("its", "the run's")
      }`;
  }
  return `interrupted: stopped waiting for run ${run.runId} of knot ${run.knot}, which goes on: ` +
    `\`${again}\` ${does} once it ends, and \`cloudknot cancel ${run.knot} ${run.runId}\` ` +
    `stops it`;
}
