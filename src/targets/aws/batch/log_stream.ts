/**
 * Reads a CloudWatch Logs stream line by line, from its start, optionally
 * following it while the job that writes it runs, or reads its last lines.
 *
 * @module
 */
import { AwsError } from "../../../aws/core/error.ts";
import type { JobDetail } from "../../../aws/services/batch.ts";
import type { Logs } from "../../../aws/services/logs.ts";
import { sleep } from "../../../util/sleep.ts";
import type { OutageRider } from "./outage.ts";

/** The log group AWS Batch writes containers' output to, unless the job definition says otherwise. */
export const BATCH_LOG_GROUP = "/aws/batch/job";

/** Options for {@linkcode readLogStream}. */
export interface ReadLogStreamOptions {
  /** The log group. @default {"/aws/batch/job"} */
  logGroup?: string;
  /**
   * Keep reading after the end of the stream until this resolves to `true`
   * (for example, once the job is finished); checked each time the stream is
   * drained. Without it, reading stops at the end of the stream.
   */
  finished?: () => Promise<boolean>;
  /** How long to wait before reading a drained stream again, in milliseconds. @default {1000} */
  pollMs?: number;
  /** Stops reading. */
  signal?: AbortSignal;
  /**
   * Rides out an outage (no network, throttling, expired credentials) while
   * following: each read and each `finished` is made again until it works,
   * from where the stream was, so no line is lost or read twice. Without it,
   * a failed read throws.
   */
  rider?: OutageRider;
}

/** Options for {@linkcode readLogTail}. */
export interface ReadLogTailOptions {
  /** The log group. @default {"/aws/batch/job"} */
  logGroup?: string;
  /** How many of the last lines to read (CloudWatch Logs returns at most 10,000). @default {50} */
  lines?: number;
  /** Stops reading. */
  signal?: AbortSignal;
}

/**
 * How many GetLogEvents {@linkcode readLogTail} makes at most: CloudWatch Logs
 * can answer a page that is empty or short while the stream has more events
 * before it, so the tail is read backward page after page until it has its
 * lines, the stream's start, or this many pages.
 */
export const LOG_TAIL_PAGES = 10;

/**
 * Reads the last lines of a log stream, oldest first: GetLogEvents from its
 * end (`startFromHead: false`), then, while it has fewer lines than asked
 * for, on backward with `nextBackwardToken` until the token comes back
 * unchanged (the stream's start) or {@linkcode LOG_TAIL_PAGES} pages are
 * read. CloudWatch Logs "can return empty results while there are more log
 * events available through the token" (GetLogEvents, CloudWatch Logs API
 * reference), so an empty or short page is not the start of the stream; a
 * full first page is the only read. A stream that does not exist (yet) reads
 * as empty.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 * import { readLogTail } from "./log_stream.ts";
 *
 * const session = await AwsSession.create();
 * console.log(await readLogTail(session.logs, "my-def/default/0123abcd", { lines: 20 }));
 * ```
 *
 * @param logs The CloudWatch Logs client.
 * @param logStream The stream's name.
 * @param options The group, how many lines, and cancellation.
 * @returns The lines.
 */
export async function readLogTail(
  logs: Logs,
  logStream: string,
  options: ReadLogTailOptions = {},
): Promise<string[]> {
  const want = options.lines ?? 50;
  const lines: string[] = [];
  let token: string | undefined;
  try {
    for (let pages = 0; pages < LOG_TAIL_PAGES && lines.length < want; pages++) {
      const page = await logs.getLogEvents({
        logGroupName: options.logGroup ?? BATCH_LOG_GROUP,
        logStreamName: logStream,
        startFromHead: false,
        limit: want - lines.length,
        ...(token !== undefined ? { nextToken: token } : {}),
      }, options.signal ? { signal: options.signal } : undefined);
      lines.unshift(...(page.events ?? []).map((event) => event.message ?? ""));
      const next = page.nextBackwardToken;
      if (next === undefined || next === token) break; // the start of the stream
      token = next;
    }
    return lines.slice(-want);
  } catch (e) {
    if (e instanceof AwsError && e.code === "ResourceNotFoundException") return lines;
    throw e;
  }
}

/**
 * The log group a job's containers write to: its `awslogs` driver's group,
 * else AWS Batch's default.
 *
 * @example Usage
 * ```ts
 * import { logGroupOf } from "./log_stream.ts";
 *
 * console.log(logGroupOf({ container: {} })); // "/aws/batch/job"
 * ```
 *
 * @param job The job as DescribeJobs returned it.
 * @returns The log group's name.
 */
export function logGroupOf(job: Pick<JobDetail, "container">): string {
  const conf = job.container?.logConfiguration;
  return (conf?.logDriver === "awslogs" ? conf.options?.["awslogs-group"] : undefined) ??
    BATCH_LOG_GROUP;
}

/**
 * Reads a log stream from its start: GetLogEvents with `startFromHead`,
 * following `nextForwardToken` until it repeats (the end of the stream). With
 * `finished`, it then waits and reads on until `finished()` says the writer
 * is done and the stream is drained. A stream that does not exist (yet)
 * reads as empty.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 * import { readLogStream } from "./log_stream.ts";
 *
 * const session = await AwsSession.create();
 * for await (const line of readLogStream(session.logs, "my-def/default/0123abcd")) console.log(line);
 * ```
 *
 * @param logs The CloudWatch Logs client.
 * @param logStream The stream's name.
 * @param options The group, follow mode and cancellation.
 * @returns The lines.
 */
export async function* readLogStream(
  logs: Logs,
  logStream: string,
  options: ReadLogStreamOptions = {},
): AsyncGenerator<string> {
  const logGroupName = options.logGroup ?? BATCH_LOG_GROUP;
  const signal = options.signal;
  const rider = options.rider;
  const ride = <T>(call: () => Promise<T>): Promise<T> =>
    rider === undefined ? call() : rider.run(call);
  let token: string | undefined;
  while (true) {
    // Checked before reading: whatever was written before the writer
    // finished is read below.
    const finished = options.finished;
    let last: boolean;
    try {
      last = finished === undefined || await ride(() => finished());
    } catch (e) {
      if (signal?.aborted) return;
      throw e;
    }
    while (true) {
      if (signal?.aborted) return;
      let page;
      try {
        page = await ride(() =>
          logs.getLogEvents({
            logGroupName,
            logStreamName: logStream,
            startFromHead: true,
            ...(token !== undefined ? { nextToken: token } : {}),
          }, signal ? { signal } : undefined)
        );
      } catch (e) {
        if (signal?.aborted) return;
        if (e instanceof AwsError && e.code === "ResourceNotFoundException") break;
        throw e;
      }
      for (const event of page.events ?? []) yield event.message ?? "";
      const next = page.nextForwardToken;
      if (next === undefined || next === token) break; // the end of the stream
      token = next;
    }
    if (last || signal?.aborted) return;
    await sleep(options.pollMs ?? 1000, signal);
  }
}
