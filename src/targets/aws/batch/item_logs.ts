/**
 * What an item of a run printed, read from the log stream of the child that
 * ran it: the child's lines tagged with the item (`job/item_log.ts`). The
 * items of a slice share their child's stream, so reading them one after
 * another (`cloudknot logs <knot> <run>`, a script that reads every item's
 * logs) would describe the child and read its whole stream once per item;
 * this reads each ended attempt's stream once for the items after it.
 *
 * @module
 */
import type { Batch, JobDetail } from "../../../aws/services/batch.ts";
import type { Logs } from "../../../aws/services/logs.ts";
import { itemLine, taggedLine } from "../../../job/item_log.ts";
import { describeJobs, isTerminalStatus } from "./jobs.ts";
import { BATCH_LOG_GROUP, readLogStream } from "./log_stream.ts";

/**
 * The most characters of other items' lines one reading of a stream keeps
 * for the items read next (about 32 MiB as JavaScript strings).
 */
export const ITEM_LOGS_KEPT_CHARS = 16 * 1024 * 1024;

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
  /** The most characters of other items' lines kept. @default {ITEM_LOGS_KEPT_CHARS} */
  keptChars?: number;
  /** The clock. @default {Date.now} */
  now?: () => number;
}

/** The lines of one ended attempt's stream, by item, as far as they were kept. */
interface KeptStream {
  /** The stream's name. */
  name: string;
  /** The lines of each item of the stream after the one read, below `below`, without their tag. */
  lines: Map<number, string[]>;
  /** Items from this one on were not kept (past the budget). */
  below: number;
  /** The item whose lines were streamed as they were read; only later items were kept. */
  streamed: number;
}

/**
 * Reads items' lines from their children's log streams. The last child
 * described, once finished, is not described again for its next items; the
 * stream of an attempt that stopped longer ago than `logLagMs` is read once:
 * the asked item's lines as they come, and the lines of the items after it
 * kept (up to `keptChars`, the lowest items first) for when they are asked
 * for, so reading every item of a slice in input order costs one
 * DescribeJobs and one reading of the stream, not one per item. Only that one
 * stream is kept. A stream still being written (its attempt runs, or stopped
 * moments ago) is read for each item.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 * import { ItemLogs } from "./item_logs.ts";
 *
 * const session = await AwsSession.create();
 * const logs = new ItemLogs({ batch: session.batch, logs: session.logs });
 * for (const index of [0, 1, 2]) {
 *   for await (const line of logs.read("3f9a…:0", index, 1, true)) console.log(index, line);
 * }
 * ```
 */
export class ItemLogs {
  #o: ItemLogsOptions;
  #detail: JobDetail | undefined;
  #kept: KeptStream | undefined;

  /**
   * Makes a reader; it keeps at most one child's detail and one stream.
   *
   * @param options The clients, the log group, the log lag and the budget.
   */
  constructor(options: ItemLogsOptions) {
    this.#o = options;
  }

  /**
   * The lines one attempt of one item printed.
   *
   * @param jobId The child (or single job) that ran the item.
   * @param index The item.
   * @param attempt The attempt, from 1.
   * @param shared Whether the child ran other items too (its lines are tagged).
   * @returns The item's lines, without their tag.
   */
  async *read(
    jobId: string,
    index: number,
    attempt: number,
    shared: boolean,
  ): AsyncGenerator<string> {
    const detail = await this.#describe(jobId);
    if (detail === undefined) return;
    const stream = detail.attempts?.[attempt - 1]?.container?.logStreamName ??
      (attempt === (detail.attempts?.length ?? 0) + 1
        ? detail.container?.logStreamName
        : undefined);
    if (stream === undefined) return;
    const kept = this.#kept;
    if (
      kept !== undefined && kept.name === stream && index > kept.streamed && index < kept.below
    ) {
      yield* kept.lines.get(index) ?? [];
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
      }
      return;
    }
    // An ended stream: the lines of the items after this one are kept, for the items read next.
    const next: KeptStream = { name: stream, lines: new Map(), below: Infinity, streamed: index };
    const budget = this.#o.keptChars ?? ITEM_LOGS_KEPT_CHARS;
    let chars = 0;
    let top = -1;
    for await (const line of lines) {
      const tagged = taggedLine(line);
      if (tagged === undefined) continue;
      const { index: item, text: own } = tagged;
      if (item === index) {
        yield own;
        continue;
      }
      if (item < index || item >= next.below) continue;
      const held = next.lines.get(item);
      if (held === undefined) next.lines.set(item, [own]);
      else held.push(own);
      chars += own.length;
      top = Math.max(top, item);
      // Past the budget: the highest items kept are let go of, and read again when asked for.
      for (let k = Math.min(top, next.below - 1); chars > budget && k >= 0; k--) {
        const dropped = next.lines.get(k);
        if (dropped === undefined) continue;
        for (const l of dropped) chars -= l.length;
        next.lines.delete(k);
        next.below = k;
      }
    }
    // Only a stream read to its end is kept.
    this.#kept = next;
  }

  /** The child's detail: the one kept when it is that child's and it had finished. */
  async #describe(jobId: string): Promise<JobDetail | undefined> {
    if (this.#detail?.jobId === jobId) return this.#detail;
    const detail = (await describeJobs(this.#o.batch, [jobId])).get(jobId);
    this.#detail = detail !== undefined && isTerminalStatus(detail.status) ? detail : undefined;
    return detail;
  }
}
