/**
 * `retry <knot> [run]`: runs a run's failed, cancelled or lost items again
 * and prints the results of the whole input, as `map` does.
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/retry.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import type { RetryOptions } from "../../run/retry.ts";
import { cliSettings } from "../common/aws.ts";
import { followRun, INTERRUPTED } from "../common/follow_run.ts";
import { untilCtrlC } from "../common/interrupted.ts";
import { untilAborted } from "../../util/sleep.ts";
import { openRun } from "../common/run_reader.ts";
import { markFreshReading } from "../../run/fresh_reading.ts";
import { refuseUnorderedJson } from "../common/options.ts";
import { cliPermissions } from "../common/permissions.ts";
import {
  KNOT_RANGES,
  type NumberRange,
  POSITIVE_INTEGER,
  POSITIVE_NUMBER,
  targetsTaking,
} from "../common/ranges.ts";
import type { TargetName } from "../common/target.ts";
import type { CommandContext } from "../common/command.ts";

/**
 * Runs `retry` (see its declaration, `../commands/retry.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
  refuseUnorderedJson(ctx);
  // Numbers first (before the run is read), then each in its range on the run's target, as
  // map takes them there: a flag the target does not take is refused, as map refuses it.
  const resources = (ranges: Readonly<Record<string, NumberRange>>, target?: TargetName) => {
    for (const flag of ["memory", "vcpus", "timeout"]) {
      if (target !== undefined && ranges[flag] === undefined && ctx.string(flag) !== undefined) {
        throw ctx.usage(
          `--${flag} is for a knot of ${targetsTaking(flag)}: knot ${ctx.arg("knot")}'s ` +
            `target is ${target}`,
        );
      }
    }
    return {
      memory: ctx.numberOrWord("memory", {
        ...ranges.memory ?? POSITIVE_INTEGER,
        word: "double",
      }),
      vcpus: ctx.number("vcpus", ranges.vcpus ?? POSITIVE_NUMBER),
      timeout: ctx.number("timeout", ranges.timeout ?? POSITIVE_NUMBER),
    };
  };
  resources({});
  const permissions = cliPermissions(ctx);
  const { run: opened, close, aws } = await openRun(ctx, { use: "retry" });
  // On AWS the run opened here follows it until it ends, as the retry's own reading of it
  // would: the retry takes it as that reading instead of reading the run from AWS again.
  // (A docker run is read again: its reading waits for containers a cancel could not kill.)
  const earlier = aws !== undefined ? markFreshReading(opened) : opened;
  const quiet = ctx.flag("quiet");
  try {
    const { memory, vcpus, timeout } = resources(KNOT_RANGES[opened.target], opened.target);
    const options: RetryOptions = {
      progress: false,
      ...(memory !== undefined ? { memory: memory as number | "double" } : {}),
      ...(vcpus !== undefined ? { vcpus } : {}),
      ...(timeout !== undefined ? { timeout } : {}),
      ...(permissions !== undefined ? { permissions } : {}),
    };
    if (!earlier.finished) {
      // Ctrl-C meanwhile stops the waiting, never the run, and retries nothing.
      const waited = await untilCtrlC(async (signal) => {
        if (!quiet) {
          const { total, succeeded, failed } = earlier.counts;
          await ctx.log(ctx.err(
            "dim",
            `Run ${earlier.runId} is still going (${succeeded + failed}/${total} done): ` +
              "waiting for it to end, then retrying its failed items",
          ));
        }
        await untilAborted(earlier.done, signal).catch(() => {});
        return 0;
      });
      if (waited === INTERRUPTED) {
        const { knot, runId } = earlier;
        await ctx.log(ctx.err(
          "yellow",
          `interrupted: stopped waiting for run ${runId} of knot ${knot}, which goes on, and ` +
            `retried nothing: \`cloudknot retry ${knot} ${runId}\` retries its failed items ` +
            `once it ends, and \`cloudknot cancel ${knot} ${runId}\` stops it`,
        ));
        return INTERRUPTED;
      }
    }
    if (aws !== undefined) {
      // A knot whose queue or compute environment was deleted outside
      // cloudknot reads its runs but runs nothing, as its adopted knot says.
      await earlier.done;
      if (earlier.counts.failed > 0) {
        const { batchResourceStates, knotResourcesGone, missingPars } = await import(
          "../../targets/aws/aws_knot.ts"
        );
        const [{ missing, disabled }, pars] = await Promise.all([
          batchResourceStates(aws.session, aws.record),
          missingPars(aws.session, cliSettings(ctx).state, aws.record),
        ]);
        if (missing.length > 0 || disabled.length > 0 || pars !== undefined) {
          throw knotResourcesGone(aws.record, missing, pars, disabled);
        }
      }
    }
    const asked = Date.now();
    const run = await earlier.retry(options);
    // Nothing failed: the retry hands back the run, as read again, or the run's latest retry
    // (made before this command: a run retried already is retried through it).
    const same = run.runId === earlier.runId || run.startedAt < asked;
    if (same && !quiet) {
      await ctx.log(ctx.err(
        "dim",
        run.runId === earlier.runId
          ? `Nothing to retry: every item of run ${run.runId} succeeded`
          : `Nothing to retry: run ${earlier.runId} was retried by run ${run.runId}, where ` +
            "every item succeeded",
      ));
    }
    return await followRun(ctx, run, {
      unordered: ctx.flag("unordered"),
      json: ctx.flag("json"),
      ...(same || quiet ? {} : {
        header: `knot ${run.knot} · run ${run.runId} retries ${
          run.retryOf!.items.length
        } items of run ${run.retryOf!.runId}`,
      }),
    });
  } finally {
    await close();
  }
}
