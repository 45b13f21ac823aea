/**
 * Reads a CloudWatch Logs stream line by line, from its start, optionally
 * following it while the job that writes it runs.
 *
 * @module
 */
import { AwsError } from "../../../aws/core/error.ts";
import type { Logs } from "../../../aws/services/logs.ts";
import { sleep } from "../../../util/sleep.ts";

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
  let token: string | undefined;
  while (true) {
    // Checked before reading: whatever was written before the writer
    // finished is read below.
    const last = options.finished === undefined || await options.finished();
    while (true) {
      if (signal?.aborted) return;
      let page;
      try {
        page = await logs.getLogEvents({
          logGroupName,
          logStreamName: logStream,
          startFromHead: true,
          ...(token !== undefined ? { nextToken: token } : {}),
        }, signal ? { signal } : undefined);
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
