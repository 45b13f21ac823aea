/**
 * `jobs <knot> [run]`: the job view of a run, as it stands.
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/jobs.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import { type JobsView, viewJobs } from "../../targets/aws/batch/jobs_view.ts";
import { errorSummary } from "../common/item_output.ts";
import { ChunkedOutput, jsonUpToList } from "../common/chunked_output.ts";
import type { CliOutput } from "../common/io.ts";
import { noJobYet, openRun } from "../common/run_reader.ts";
import { renderRunText } from "../../run/run_view.ts";
import type { ItemView, MapRun } from "../../run/map_run.ts";
import { uncovered } from "../../targets/aws/batch/slices.ts";
import type { CommandContext } from "../common/command.ts";

/**
 * Writes the `--json` document JSON.stringify would make of the run, its items
 * and its jobs, an item at a time, so no string of the whole document is made.
 */
async function writeJobsJson(
  output: CliOutput,
  run: MapRun<unknown>,
  errorOf: (item: ItemView) => string | undefined,
  jobsView: JobsView | undefined,
): Promise<void> {
  // One snapshot of the items, as the counts are: a run followed as it ends changes between writes.
  const items = run.items;
  const out = new ChunkedOutput(output);
  await out.write(
    jsonUpToList({
      knot: run.knot,
      runId: run.runId,
      target: run.target,
      total: run.total,
      attempts: run.attempts,
      startedAt: new Date(run.startedAt).toISOString(),
      endedAt: run.finished && run.endedAt !== undefined
        ? new Date(run.endedAt).toISOString()
        : null,
      counts: run.counts,
      items: [],
    }),
  );
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    await out.write(
      (i === 0 ? "" : ",") + JSON.stringify({
        ...item,
        ...(item.error !== undefined ? { error: errorOf(item) } : {}),
        ...(item.startedAt !== undefined
          ? { startedAt: new Date(item.startedAt).toISOString() }
          : {}),
        ...(item.endedAt !== undefined ? { endedAt: new Date(item.endedAt).toISOString() } : {}),
      }),
    );
  }
  await out.write("]");
  if (jobsView !== undefined) {
    // A run's AWS Batch jobs are few (an array job holds up to 10,000 items): in one piece.
    const jobs = jobsView.rows.map((row) => ({
      ...row,
      ...(row.children !== undefined
        ? { children: Object.fromEntries(Object.entries(row.children).filter(([, n]) => n > 0)) }
        : {}),
      ...(row.createdAt !== undefined ? { createdAt: new Date(row.createdAt).toISOString() } : {}),
    }));
    await out.write(`,"jobs":${JSON.stringify(jobs)}`);
  }
  await out.write("}\n");
  await out.flush();
}

/** An item's error in a command-line user's words. */
function cliError(run: MapRun<unknown>): (item: ItemView) => string | undefined {
  return (item) => {
    const settled = run.settledItem(item.index);
    return settled?.status === "rejected" ? errorSummary(settled.reason) : item.error;
  };
}

/**
 * Runs `jobs` (see its declaration, `../commands/jobs.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
  // The command reads once: it says itself which items have no job yet, instead of the
  // handle's warning that it waits for them.
  const { run, manifest, aws, close } = await openRun(ctx, { warn: () => {} });
  try {
    let jobsView: JobsView | undefined;
    if (aws !== undefined) {
      // The run's jobs: those its manifest names and, for the items it does not cover (a map
      // killed before it wrote them), those found by name.
      const ids = new Set((manifest.jobs ?? []).map((j) => j.jobId));
      const waiting: number[] = [];
      for (const index of uncovered(manifest.count, manifest.jobs ?? [])) {
        const id = await aws.itemJob(run, index, { wait: false });
        if (id !== undefined) ids.add(id.split(":")[0]!);
        else if (run.settledItem(index) === undefined) waiting.push(index);
      }
      if (waiting.length > 0) await ctx.log(noJobYet(run, waiting, "job"));
      jobsView = await viewJobs([...ids], { session: aws.session });
    }
    const errorOf = cliError(run);
    if (ctx.flag("json")) await writeJobsJson(ctx.io.stdout, run, errorOf, jobsView);
    else if (jobsView !== undefined) {
      await ctx.print(`${jobsView.toString()}\n\n${renderRunText(run, errorOf)}`);
    } else await ctx.print(renderRunText(run, errorOf));
  } finally {
    await close();
  }
  return 0;
}
