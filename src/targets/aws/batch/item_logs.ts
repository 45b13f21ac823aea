/**
 * What an item of a run printed, read from the log stream of the child that
 * ran it: the child's lines tagged with the item (`job/item_log.ts`). Read
 * one after another (`cloudknot logs <knot> <run>`, a script that reads every
 * item's logs), items would each describe their child and read its whole
 * stream, which the items of a slice share; this describes children a
 * hundred at a time and reads each ended attempt's stream once for the items
 * after it.
 *
 * @module
 */
import type { Batch, JobDetail } from "../../../aws/services/batch.ts";
import type { Logs } from "../../../aws/services/logs.ts";
import { itemLine, taggedLine } from "../../../job/item_log.ts";
import { DESCRIBE_JOBS_LIMIT, describeJobs, isTerminalStatus } from "./jobs.ts";
import { BATCH_LOG_GROUP, readLogStream } from "./log_stream.ts";
import { childCount, childId, childOf, type SlicedJob } from "./slices.ts";

/**
 * The most characters of other items' lines one reading of a stream keeps
 * for the items read next: about 8 MiB as JavaScript strings, held by the
 * run's handle until it reads another child's stream (an attempt's each, for
 * the attempts of one child read in turn).
 */
export const ITEM_LOGS_KEPT_CHARS = 4 * 1024 * 1024;

/**
 * What marks a job's own line among an item's lines: an untagged line of a
 * stream the items of a slice share (the job runtime's own, such as why it
 * could not read its run), which an item's lines hold when its job ended
 * without the item's record (`ItemLogs.read`'s `jobLines`).
 *
 * @example Usage
 * ```ts
 * import { JOB_LINE_TAG } from "./item_logs.ts";
 *
 * const line = `${JOB_LINE_TAG}cloudknot job: cannot read the run at s3://…`;
 * console.log(line.startsWith(JOB_LINE_TAG)); // true
 * ```
 */
export const JOB_LINE_TAG = "[job] ";

/** Options of {@linkcode ItemLogs}. */
export interface ItemLogsOptions {
  /** The Batch client (DescribeJobs). */
  batch: Batch;
  /** The CloudWatch Logs client (GetLogEvents). */
  logs: Logs;
  /** The log group of the jobs' streams. @default {"/aws/batch/job"} */
  logGroup?: string;
  /**
   * How long after Batch says an attempt stopped CloudWatch Logs may still
   * get its last lines, in milliseconds: only a stream whose attempt stopped
   * longer ago than this is kept for the next items. @default {5000}
   */
  logLagMs?: number;
  /** The most characters of other items' lines kept of a stream. @default {ITEM_LOGS_KEPT_CHARS} */
  keptChars?: number;
  /** The clock. @default {Date.now} */
  now?: () => number;
}

/** The lines of one ended attempt's stream, by item, as far as they were kept. */
interface KeptStream {
  /** The lines of each item of the stream after the one read, below `below`, without their tag. */
  lines: Map<number, string[]>;
  /** Items from this one on were not kept (past the budget). */
  below: number;
  /** The item whose lines were streamed as they were read; only later items were kept. */
  streamed: number;
  /** The job's own lines (untagged), in order; `undefined` once past the budget (not kept). */
  job: string[] | undefined;
  /**
   * For each kept line of an item, how many of the job's own lines came
   * before it; an item without one had none before any of its lines.
   */
  jobBefore: Map<number, number[]>;
}

/**
 * Reads items' lines from their children's log streams. A child is described
 * with the next 99 children of its job (one DescribeJobs), and the finished
 * ones are not described again for their items read next; the stream of an
 * attempt that stopped longer ago than `logLagMs` is read once: the asked
 * item's lines as they come, and the lines of the items after it kept (up to
 * `keptChars`, the lowest items first) for when they are asked for. Reading
 * every item of a run in input order thus costs a DescribeJobs per 100
 * children and one reading of each child's stream, not one of each per item.
 * Only the streams of one child and one DescribeJobs' children are kept: a
 * stream of each of the child's attempts read, so items read each at more
 * than one attempt (an earlier one that ended without the item's record,
 * then its latest) read each stream once too. A stream still being written
 * (its attempt runs, or stopped moments ago) is read for each item.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 * import { ItemLogs } from "./item_logs.ts";
 *
 * const session = await AwsSession.create();
 * const logs = new ItemLogs({ batch: session.batch, logs: session.logs });
 * const job = { jobId: "3f9a…", offset: 0, size: 300, array: true, slice: 100 };
 * for (const index of [0, 1, 2]) {
 *   for await (const line of logs.read(job, index, 1)) console.log(index, line);
 * }
 * ```
 */
export class ItemLogs {
  #o: ItemLogsOptions;
  #details = new Map<string, JobDetail>();
  /** The streams kept, by name: of one child's attempts (`#keptOf`). */
  #kept = new Map<string, KeptStream>();
  #keptOf?: string;

  /**
   * Makes a reader; it keeps one DescribeJobs' finished children and one child's streams.
   *
   * @param options The clients, the log group, the log lag and the budget.
   */
  constructor(options: ItemLogsOptions) {
    this.#o = options;
  }

  /**
   * The lines one attempt of one item printed.
   *
   * @param job The job that ran the item (its child that ran it, for an array job).
   * @param index The item.
   * @param attempt The attempt, from 1.
   * @param options `jobLines`: the attempt ended without the item's record,
   *   so the lines of the job's own (untagged in a stream the items of a
   *   slice share) are the item's too, where they came, each behind
   *   {@linkcode JOB_LINE_TAG}: they may say why (`jobLines` @default {false}).
   * @returns The item's lines, without their tag.
   */
  async *read(
    job: SlicedJob & { jobId: string },
    index: number,
    attempt: number,
    options: { jobLines?: boolean } = {},
  ): AsyncGenerator<string> {
    // The lines of a child that ran several items are tagged with their item.
    const shared = job.size > 1 && (job.slice ?? 1) > 1;
    const jobLines = shared && options.jobLines === true;
    const detail = await this.#describe(job, index);
    if (detail === undefined) return;
    const stream = detail.attempts?.[attempt - 1]?.container?.logStreamName ??
      (attempt === (detail.attempts?.length ?? 0) + 1
        ? detail.container?.logStreamName
        : undefined);
    if (stream === undefined) return;
    // The streams of another child's attempts are let go of: only one child's are kept.
    const child = childId(job, index);
    if (this.#keptOf !== child) this.#kept.clear();
    this.#keptOf = child;
    const kept = this.#kept.get(stream);
    if (
      kept !== undefined && index > kept.streamed &&
      index < kept.below && (!jobLines || kept.job !== undefined)
    ) {
      yield* keptLines(kept, index, jobLines);
      return;
    }
    const lines = readLogStream(this.#o.logs, stream, {
      logGroup: this.#o.logGroup ?? BATCH_LOG_GROUP,
    });
    const stoppedAt = detail.attempts?.[attempt - 1]?.stoppedAt;
    const final = shared && stoppedAt !== undefined &&
      stoppedAt + (this.#o.logLagMs ?? 5000) <= (this.#o.now ?? Date.now)();
    if (!final) {
      for await (const line of lines) {
        const own = itemLine(line, index, shared);
        if (own !== undefined) yield own;
        else if (jobLines && taggedLine(line) === undefined) yield JOB_LINE_TAG + line;
      }
      return;
    }
    // An ended stream: the lines of the items after this one are kept, for the items read next.
    const next: KeptStream = {
      lines: new Map(),
      below: Infinity,
      streamed: index,
      job: [],
      jobBefore: new Map(),
    };
    const budget = this.#o.keptChars ?? ITEM_LOGS_KEPT_CHARS;
    let chars = 0;
    let jobChars = 0;
    let top = -1;
    for await (const line of lines) {
      const tagged = taggedLine(line);
      if (tagged === undefined) {
        if (jobLines) yield JOB_LINE_TAG + line;
        // The job's own lines, on a budget of their own: past it, none is kept, and an item
        // asked for with them reads the stream again.
        jobChars += line.length;
        if (jobChars > budget) next.job = undefined;
        else next.job?.push(line);
        continue;
      }
      const { index: item, text: own } = tagged;
      if (item === index) {
        yield own;
        continue;
      }
      if (item < index || item >= next.below) continue;
      let held = next.lines.get(item);
      if (held === undefined) next.lines.set(item, held = []);
      if (next.job !== undefined && next.job.length > 0) {
        let before = next.jobBefore.get(item);
        if (before === undefined) next.jobBefore.set(item, before = held.map(() => 0));
        before.push(next.job.length);
      }
      held.push(own);
      chars += own.length;
      top = Math.max(top, item);
      // Past the budget: the highest items kept are let go of, and read again when asked for.
      for (let k = Math.min(top, next.below - 1); chars > budget && k >= 0; k--) {
        const dropped = next.lines.get(k);
        if (dropped === undefined) continue;
        for (const l of dropped) chars -= l.length;
        next.lines.delete(k);
        next.jobBefore.delete(k);
        next.below = k;
      }
    }
    // Only a stream read to its end is kept.
    this.#kept.set(stream, next);
  }

  /**
   * The detail of the child that ran an item: one kept, finished, or else read
   * with those of the next children of its job, the finished ones kept.
   */
  async #describe(
    job: SlicedJob & { jobId: string },
    index: number,
  ): Promise<JobDetail | undefined> {
    const id = childId(job, index);
    const kept = this.#details.get(id);
    if (kept !== undefined) return kept;
    const child = childOf(job, index);
    const last = Math.min(childCount(job), child + DESCRIBE_JOBS_LIMIT);
    const ids = job.array
      ? Array.from({ length: last - child }, (_, k) => `${job.jobId}:${child + k}`)
      : [id];
    const found = await describeJobs(this.#o.batch, ids);
    this.#details.clear();
    for (const [jobId, detail] of found) {
      if (isTerminalStatus(detail.status)) this.#details.set(jobId, detail);
    }
    return found.get(id);
  }
}

/**
 * A kept item's lines; with `jobLines`, the job's own lines too, each behind
 * {@linkcode JOB_LINE_TAG}, where they came among the item's.
 */
function* keptLines(kept: KeptStream, index: number, jobLines: boolean): Generator<string> {
  const own = kept.lines.get(index) ?? [];
  const job = jobLines ? kept.job ?? [] : [];
  const before = kept.jobBefore.get(index);
  let j = 0;
  for (let i = 0; i < own.length; i++) {
    for (const upTo = Math.min(before?.[i] ?? 0, job.length); j < upTo; j++) {
      yield JOB_LINE_TAG + job[j];
    }
    yield own[i]!;
  }
  for (; j < job.length; j++) yield JOB_LINE_TAG + job[j];
}
