/**
 * `logs <knot | job-id> [run]`: what an item's attempt printed, or what an
 * AWS Batch job printed, optionally followed while it runs.
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/logs.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import { CloudknotError, CloudknotInputError } from "../../util/errors.ts";
import type { MapRun } from "../../run/map_run.ts";
import { BatchJob } from "../../targets/aws/batch/batch_job.ts";
import { logOutageWords } from "../../targets/aws/batch/outage.ts";
import { cliSettings } from "../common/aws.ts";
import { sessionFromSettings } from "../../resources/settings.ts";
import type { CommandContext } from "../common/command.ts";
import { noJobYet, openRun } from "../common/run_reader.ts";
import { neverRan } from "../common/item_output.ts";
import { inCliWords } from "../common/cli_words.ts";
import { ChunkedOutput, jsonUpToList } from "../common/chunked_output.ts";
import { INTERRUPTED } from "../common/follow_run.ts";
import { untilCtrlC } from "../common/interrupted.ts";
import { retryAdvice } from "../../run/retry.ts";
import { itemsInWords } from "../../util/item_words.ts";

/** An AWS Batch job id: a UUID, with `:<index>` for an array child. */
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(:\d+)?$/i;

/**
 * `logs <knot> [run]`: every item's output, or one item's (followed while
 * its job runs when `signal` is given, which Ctrl-C aborts).
 */
async function printLogs(
  ctx: CommandContext,
  options: { item: number | undefined; attempt: number | undefined; signal?: AbortSignal },
): Promise<number> {
  const { item, attempt, signal } = options;
  const follow = signal !== undefined;
  // Without --follow the command reads once: it says itself which items have no job yet,
  // instead of the handle's warning that it waits for them.
  const { run, aws, close } = await openRun(ctx, follow ? {} : { warn: () => {} });
  try {
    if (follow && (aws === undefined || item === undefined)) {
      throw ctx.usage(
        aws === undefined
          ? `--follow reads an AWS Batch job as it runs, and knot ${run.knot} runs on this ` +
            `machine (target ${run.target}): drop --follow, and logs prints what its items have ` +
            `printed so far`
          : "--follow needs --item N (or a job id)",
      );
    }
    if (item !== undefined && item >= run.total) {
      throw new CloudknotInputError(
        `Item ${item} is out of range: run ${run.runId} has ${run.total} items (0 to ${
          run.total - 1
        })`,
        { field: "item" },
      );
    }
    const ran = item !== undefined && run.settledItem(item) !== undefined
      ? run.itemView(item)!.attempts
      : undefined;
    // An item a retry ran: its attempts of the run it retries are that run's.
    const earlier = run.retryOf?.items.includes(item!) ? run.retryOf.runId : undefined;
    const there = earlier !== undefined
      ? `. Run ${run.runId} retries it: its earlier attempts are run ${earlier}'s, ` +
        `read with cloudknot logs ${run.knot} ${earlier} --item ${item} --attempt N`
      : "";
    if (attempt !== undefined && ran === 0) {
      // Cancelled before it started: no attempt printed anything.
      throw new CloudknotInputError(notStarted(run, item!, aws !== undefined) + there);
    }
    if (attempt !== undefined && ran !== undefined && attempt > ran) {
      // An item that has ended ran all its attempts: a later one never printed anything.
      // In a command-line user's words already (no field: "ran 1 attempt:" is not the option).
      throw new CloudknotInputError(
        `Item ${item} of run ${run.runId} ran ${ran} attempt${ran === 1 ? "" : "s"}: ` +
          `--attempt takes 1${ran === 1 ? "" : ` to ${ran}`}${there}`,
      );
    }
    if (signal !== undefined && aws !== undefined && item !== undefined) {
      // The run's job of the item: named by its manifest, found by name, or (a map killed
      // with a SubmitJob on its way) waited for while the reader looks for it, saying so.
      const id = await aws.itemJob(run, item, { signal }).catch((e) => {
        if (signal.aborted) return undefined;
        throw e;
      });
      if (id !== undefined) {
        // Said again in the words that named it: the item of the run, not its job.
        const again = `run cloudknot logs ${run.knot} ${run.runId} --item ${item} --follow${
          attempt !== undefined ? ` --attempt ${attempt}` : ""
        } again`;
        return await streamJob(ctx, id, { attempt, index: item, signal, again });
      }
      if (signal.aborted) {
        // Interrupted while no job ran the item yet: it has printed nothing.
        if (ctx.flag("json")) {
          await ctx.print(JSON.stringify([{ index: item, attempt: attempt ?? 0, lines: [] }]));
        }
        return INTERRUPTED;
      }
      // The item ended without one: its output is what its record's job left, if any.
    }
    const never = item !== undefined ? neverRanWords(run, item) : undefined;
    if (never !== undefined && (attempt === undefined || attempt >= never.attempt)) {
      const earlier = never.attempt - 1;
      throw new CloudknotError(
        `Item ${item} has no output: ${never.message}` +
          (earlier >= 1
            ? `. Its attempt ${earlier} ran: cloudknot logs ${run.knot} ${run.runId} ` +
              `--item ${item} --attempt ${earlier} prints what it printed`
            : ""),
      );
    }
    const items = run.items;
    const indices = item !== undefined ? [item] : items.map((i) => i.index);
    let skip = new Set<number>();
    if (item === undefined) {
      // Every item is read: those that never ran are said once, with why, and the rest printed.
      const unran = new Map<string, number[]>();
      for (const index of indices) {
        const reason = neverRanWords(run, index)?.message;
        if (reason !== undefined) unran.set(reason, [...unran.get(reason) ?? [], index]);
      }
      skip = new Set([...unran.values()].flat());
      for (const [reason, which] of unran) {
        const one = which.length === 1;
        await ctx.log(inCliWords(
          new Error(
            `${itemsInWords(which)} of run ${run.runId} never ran, so ${
              one ? "it has" : "they have"
            } no output: ${reason}`,
          ),
        ));
      }
    }
    const waiting: number[] = [];
    if (!follow && aws !== undefined) {
      for (const index of indices) {
        if (
          run.settledItem(index) === undefined &&
          await aws.itemJob(run, index, { wait: false }) === undefined
        ) waiting.push(index);
      }
      if (waiting.length > 0) await ctx.log(noJobYet(run, waiting, "output"));
    }
    // Each item's lines are printed as they are read, in writes of bounded size: with
    // --json, the array JSON.stringify would make of them all, an entry at a time.
    const json = ctx.flag("json");
    const out = new ChunkedOutput(ctx.io.stdout);
    let entries = 0;
    if (json) await out.write("[");
    for (const index of indices) {
      if (skip.has(index)) continue;
      const latest = attempt ?? items[index]!.attempts;
      if (latest < 1) {
        // Asked for by number, it is said why nothing is printed (unless said above already).
        if (item !== undefined && !waiting.includes(index)) {
          await ctx.log(notStarted(run, index, aws !== undefined));
        }
        continue;
      }
      // Before its latest attempt, the earlier ones that ended without the item's record (AWS
      // Batch ran them again), whose lines hold the job's, which say why: printed when every
      // item is listed, named for one item (its lines have no header).
      const unrecorded = attempt === undefined
        ? run.attemptsWithoutRecord(index).filter((a) => a < latest)
        : [];
      if (item !== undefined && unrecorded.length > 0) {
        await ctx.log(unrecordedWords(run, index, unrecorded));
      }
      const earlier = item === undefined ? unrecorded : [];
      for (const which of [...earlier, latest]) {
        // An attempt is printed once it has a line (one asked for by number, even with none).
        let lines = 0;
        const begin = async () => {
          if (json) {
            const head = jsonUpToList({ index, attempt: which, lines: [] });
            await out.write((entries === 0 ? "" : ",") + head);
          } else if (item === undefined) {
            await out.write(ctx.out("dim", `--- item ${index} (attempt ${which}) ---`) + "\n");
          }
          entries++;
        };
        for await (const line of run.logs(index, { attempt: which })) {
          if (lines++ === 0) await begin();
          await out.write(json ? (lines === 1 ? "" : ",") + JSON.stringify(line) : `${line}\n`);
        }
        if (lines === 0 && item !== undefined) await begin();
        if (json && (lines > 0 || item !== undefined)) await out.write("]}");
      }
    }
    if (json) await out.write("]\n");
    await out.flush();
    return 0;
  } finally {
    await close();
  }
}

/**
 * Why an item never ran, when it never did: no job of its run was submitted
 * for it (`MissingJobError`, on AWS), or the workers that were to run it could
 * not start or load the function (`WorkerStartError`). It has no output, and
 * the message says how to run it (`inCliWords` puts that in CLI words); the
 * attempt is the one that never ran (an earlier one may have printed).
 */
function neverRanWords(
  run: MapRun<unknown>,
  item: number,
): { message: string; attempt: number } | undefined {
  const settled = run.settledItem(item);
  if (settled?.status !== "rejected") return undefined;
  if (!neverRan(settled.reason)) return undefined;
  const { remote, attempt } = settled.reason;
  const message = remote.message.replace(/\.$/, "");
  // A container's pool does not know the knot: the handle says how to run the item again.
  return {
    message: message.includes("run.retry()")
      ? message
      : `${message}; once that is fixed, map it again with ${retryAdvice(run.knot, run.runId)}`,
    attempt,
  };
}

/**
 * What `logs --item N` says of an item's earlier attempts that ended without
 * its record (AWS Batch ran it again): the command that prints why.
 */
function unrecordedWords(run: MapRun<unknown>, index: number, attempts: number[]): string {
  const one = attempts.length === 1;
  return `Item ${index}'s attempt${one ? "" : "s"} ${attempts.join(", ")} ended without its ` +
    `record and AWS Batch ran it again: cloudknot logs ${run.knot} ${run.runId} --item ${index} ` +
    `--attempt ${attempts[0]} prints what ${one ? "it" : "the first"} printed, with the job's ` +
    `own lines, which say why`;
}

/**
 * What `logs --item N` says of an item that has not started (waiting for a
 * worker, or its AWS Batch job not yet running; or cancelled before it
 * started): it has no output, and how to see it once it runs.
 */
function notStarted(run: MapRun<unknown>, index: number, aws: boolean): string {
  const settled = run.settledItem(index);
  if (settled?.status === "rejected") {
    return `Item ${index} of run ${run.runId} ended before it started (${settled.reason.kind}), ` +
      `so it has no output`;
  }
  return `Item ${index} of run ${run.runId} has not started yet, so it has no output yet: ` +
    (aws
      ? `to wait for it and print its lines as they come, run cloudknot logs ${run.knot} ` +
        `${run.runId} --item ${index} --follow`
      : `run this command again once it has started`);
}

/** `logs <job-id>`: one AWS Batch job's output. */
async function jobLogs(
  ctx: CommandContext,
  options: { attempt: number | undefined; signal?: AbortSignal },
): Promise<number> {
  if (ctx.arg("run") !== undefined || ctx.string("item") !== undefined) {
    throw ctx.usage("A job id takes no run and no --item: it names one job");
  }
  if (ctx.string("target") !== undefined) {
    throw ctx.usage(
      "--target picks among the knots of one name, and a job id names one AWS Batch job: " +
        "drop --target",
    );
  }
  return await streamJob(ctx, ctx.arg("knot")!, options);
}

/**
 * Prints a job's lines as they come; with --json, the document is written as
 * they come too, naming the attempt asked for or the one whose lines are read
 * (`BatchJob.logs`' `onAttempt`).
 */
async function streamJob(
  ctx: CommandContext,
  jobId: string,
  options: {
    attempt: number | undefined;
    index?: number;
    signal?: AbortSignal;
    /** What follows it again if this command stops first. @default {"run cloudknot logs <job> --follow again"} */
    again?: string;
  },
): Promise<number> {
  const session = await sessionFromSettings(cliSettings(ctx));
  const job = await BatchJob.fromId(jobId, { session });
  // Ctrl-C (the signal) ends the follow after the lines read so far (and, with --json, the
  // document closed): `untilCtrlC` makes the exit code 130.
  const { signal } = options;
  const json = ctx.flag("json");
  const which = options.index !== undefined ? { index: options.index } : { jobId };
  const out = new ChunkedOutput(ctx.io.stdout);
  // The array JSON.stringify would make, a line at a time: its head is written with the first
  // line, so a job whose logs cannot be read prints nothing. Its attempt is the one given, or
  // the one whose stream the job's logs read.
  let attempt = options.attempt;
  const head = () => "[" + jsonUpToList({ ...which, attempt, lines: [] });
  let read = 0;
  for await (
    const line of job.logs({
      follow: signal !== undefined,
      ...(signal !== undefined ? { signal } : {}),
      onAttempt: (n) => attempt = n,
      ...(options.attempt !== undefined ? { attempt: options.attempt } : {}),
      // AWS it cannot reach for a while is ridden out: said once, and once it answers again,
      // in the command line's words (AWS's message may carry the library's advice).
      onOutage: (notice) =>
        ctx.warn(inCliWords(
          new Error(logOutageWords(
            notice,
            jobId,
            options.again ??
              `run cloudknot logs ${jobId} --follow${
                options.attempt !== undefined ? ` --attempt ${options.attempt}` : ""
              } again`,
          )),
        )),
    })
  ) {
    if (!json) await ctx.print(line);
    else await out.write((read++ === 0 ? head() : ",") + JSON.stringify(line));
  }
  if (json) {
    // No stream read: the job's attempts so far.
    attempt ??= (await job.status()).attempts.length;
    await out.write(`${read === 0 ? head() : ""}]}]\n`);
    await out.flush();
  }
  return 0;
}

/**
 * Runs `logs` (see its declaration, `../commands/logs.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const item = ctx.integer("item", { min: 0 });
  const attempt = ctx.integer("attempt", { min: 1 });
  const follow = ctx.flag("follow");
  if (attempt !== undefined && item === undefined && !JOB_ID.test(ctx.arg("knot")!)) {
    throw ctx.usage("--attempt needs --item");
  }
  const job = JOB_ID.test(ctx.arg("knot")!);
  if (!follow) {
    return job ? await jobLogs(ctx, { attempt }) : await printLogs(ctx, { item, attempt });
  }
  // Ctrl-C ends a follow as it ends `tail -f`, whatever it is doing then (opening the run,
  // waiting for the item's job to be found or to start, reading lines): with what it read.
  return await untilCtrlC((signal) =>
    job ? jobLogs(ctx, { attempt, signal }) : printLogs(ctx, { item, attempt, signal })
  );
}
