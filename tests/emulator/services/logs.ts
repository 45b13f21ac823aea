/**
 * Emulated CloudWatch Logs: log groups and streams, with the events that
 * Batch job attempts write.
 *
 * @module
 */
import { ServiceError } from "../errors.ts";
import type { ModeledService, OperationHandler } from "../service.ts";

/** One log event. */
export interface LogEvent {
  /** Event time (epoch ms). */
  timestamp: number;
  /** The line. */
  message: string;
  /** When it was stored (epoch ms). */
  ingestionTime: number;
}

/** One log stream. */
export interface LogStream {
  /** The name. */
  logStreamName: string;
  /** When it was created (epoch ms). */
  creationTime: number;
  /** The events, in order. */
  events: LogEvent[];
}

/** One log group. */
export interface LogGroup {
  /** The name. */
  logGroupName: string;
  /** When it was created (epoch ms). */
  creationTime: number;
  /** Retention in days. */
  retentionInDays?: number;
  /** Streams by name. */
  streams: Map<string, LogStream>;
  /** Tags. */
  tags: Record<string, string>;
  /** Exists from the start. */
  builtin: boolean;
}

function notFound(what: string): ServiceError {
  return new ServiceError(
    "ResourceNotFoundException",
    `The specified ${what} does not exist.`,
    400,
  );
}

function token(dir: "f" | "b", index: number, time?: number): string {
  const at = time === undefined ? "" : `/${String(Math.max(0, time)).padStart(16, "0")}`;
  return `${dir}/${String(index).padStart(56, "0")}${at}/s`;
}

function parseToken(t: string): { dir: string; index: number; time?: number } {
  const m = t.match(/^([fb])\/([0-9]+)(?:\/([0-9]+))?\/s$/);
  if (!m) {
    throw new ServiceError("InvalidParameterException", "The specified nextToken is invalid.", 400);
  }
  return { dir: m[1]!, index: Number(m[2]), ...(m[3] !== undefined ? { time: Number(m[3]) } : {}) };
}

/**
 * The Logs state of one emulator; `/aws/batch/job` exists from the start.
 *
 * @example Usage
 * ```ts ignore
 * emu.logs.append("/aws/batch/job", "def/default/abc", "hello");
 * ```
 */
export class LogsService implements ModeledService {
  /** Groups by name. */
  readonly groups: Map<string, LogGroup> = new Map();
  /** Handlers by operation. */
  readonly operations: Record<string, OperationHandler>;
  #account: string;
  #region: string;
  #deliveryDelayMs: number;
  #pageWindowMs: number | undefined;

  /**
   * Makes Logs with the Batch job group.
   *
   * @param account The account id.
   * @param region The region.
   * @param options `deliveryDelayMs`: how long after a job writes a line it
   * can be read (see {@linkcode LogsService.append}); default 0.
   * `pageWindowMs`: each GetLogEvents reads one window of this many ms of
   * event time, so that its pages can be short or empty while more events
   * exist (see `GetLogEvents`); default: every page is as full as `limit`.
   */
  constructor(
    account: string,
    region: string,
    options: { deliveryDelayMs?: number; pageWindowMs?: number } = {},
  ) {
    this.#account = account;
    this.#region = region;
    this.#deliveryDelayMs = options.deliveryDelayMs ?? 0;
    this.#pageWindowMs = options.pageWindowMs;
    this.groups.set("/aws/batch/job", {
      logGroupName: "/aws/batch/job",
      creationTime: Date.now(),
      streams: new Map(),
      tags: {},
      builtin: true,
    });
    this.operations = {
      CreateLogGroup: (p) => {
        if (this.groups.has(p.logGroupName)) {
          throw new ServiceError(
            "ResourceAlreadyExistsException",
            "The specified log group already exists",
            400,
          );
        }
        this.groups.set(p.logGroupName, {
          logGroupName: p.logGroupName,
          creationTime: Date.now(),
          streams: new Map(),
          tags: p.tags ?? {},
          builtin: false,
        });
        return {};
      },
      DeleteLogGroup: (p) => {
        if (!this.groups.delete(p.logGroupName)) throw notFound("log group");
        return {};
      },
      PutRetentionPolicy: (p) => {
        this.group(p.logGroupName).retentionInDays = p.retentionInDays;
        return {};
      },
      DescribeLogGroups: (p) => {
        const all = [...this.groups.values()].filter((g) =>
          !p.logGroupNamePrefix || g.logGroupName.startsWith(p.logGroupNamePrefix)
        ).sort((a, b) => a.logGroupName.localeCompare(b.logGroupName));
        const { items, next } = this.#page(all, p.nextToken, p.limit, 50);
        return {
          logGroups: items.map((g) => ({
            logGroupName: g.logGroupName,
            creationTime: g.creationTime,
            retentionInDays: g.retentionInDays,
            arn: `${this.groupArn(g.logGroupName)}:*`,
            storedBytes: 0,
          })),
          nextToken: next,
        };
      },
      CreateLogStream: (p) => {
        const g = this.group(p.logGroupName);
        if (g.streams.has(p.logStreamName)) {
          throw new ServiceError(
            "ResourceAlreadyExistsException",
            "The specified log stream already exists",
            400,
          );
        }
        this.createStream(p.logGroupName, p.logStreamName);
        return {};
      },
      DescribeLogStreams: (p) => {
        const g = this.group(p.logGroupName);
        if (p.logStreamNamePrefix && p.orderBy === "LastEventTime") {
          throw new ServiceError(
            "InvalidParameterException",
            "Cannot order by LastEventTime with a logStreamNamePrefix.",
            400,
          );
        }
        let all = [...g.streams.values()].filter((s) =>
          !p.logStreamNamePrefix || s.logStreamName.startsWith(p.logStreamNamePrefix)
        );
        if (p.orderBy === "LastEventTime") {
          all.sort((a, b) => (a.events.at(-1)?.timestamp ?? 0) - (b.events.at(-1)?.timestamp ?? 0));
        } else all.sort((a, b) => (a.logStreamName < b.logStreamName ? -1 : 1));
        if (p.descending) all = all.reverse();
        const { items, next } = this.#page(all, p.nextToken, p.limit, 50);
        return {
          logStreams: items.map((s) => ({
            logStreamName: s.logStreamName,
            creationTime: s.creationTime,
            firstEventTimestamp: s.events[0]?.timestamp,
            lastEventTimestamp: s.events.at(-1)?.timestamp,
            lastIngestionTime: s.events.at(-1)?.ingestionTime,
            arn: `${this.groupArn(g.logGroupName)}:log-stream:${s.logStreamName}`,
            storedBytes: 0,
          })),
          nextToken: next,
        };
      },
      PutLogEvents: (p) => {
        const s = this.stream(p.logGroupName, p.logStreamName);
        const now = Date.now();
        for (const e of p.logEvents) {
          s.events.push({ timestamp: e.timestamp, message: e.message, ingestionTime: now });
        }
        return { nextSequenceToken: undefined };
      },
      GetLogEvents: (p) => {
        const s = this.stream(p.logGroupName, p.logStreamName);
        const limit = Math.min(p.limit ?? 10000, 10000);
        const inRange = (e: LogEvent) =>
          (p.startTime === undefined || e.timestamp >= p.startTime) &&
          (p.endTime === undefined || e.timestamp < p.endTime);
        const delivered = delivery(s.events);
        const all = delivered.map((e, i) => ({ e, i })).filter(({ e }) => inRange(e));
        if (this.#pageWindowMs !== undefined) {
          return windowPage(all, delivered.length, s.creationTime, p, limit, this.#pageWindowMs);
        }
        let slice: typeof all;
        if (p.nextToken) {
          const t = parseToken(p.nextToken);
          if (t.dir === "f") slice = all.filter(({ i }) => i >= t.index).slice(0, limit);
          else slice = all.filter(({ i }) => i < t.index).slice(-limit);
        } else if (p.startFromHead) slice = all.slice(0, limit);
        else slice = all.slice(-limit);
        const first = slice[0]?.i ??
          (p.nextToken ? parseToken(p.nextToken).index : (p.startFromHead ? 0 : delivered.length));
        const end = slice.length > 0 ? slice.at(-1)!.i + 1 : first;
        return {
          events: slice.map(({ e }) => e),
          nextForwardToken: token("f", end),
          nextBackwardToken: token("b", first),
        };
      },
      FilterLogEvents: (p) => {
        const g = this.group(p.logGroupName);
        if (p.logStreamNames && p.logStreamNamePrefix) {
          throw new ServiceError(
            "InvalidParameterException",
            "logStreamNames and logStreamNamePrefix are mutually exclusive",
            400,
          );
        }
        const streams = [...g.streams.values()].filter((s) =>
          (!p.logStreamNames || p.logStreamNames.includes(s.logStreamName)) &&
          (!p.logStreamNamePrefix || s.logStreamName.startsWith(p.logStreamNamePrefix))
        ).sort((a, b) => (a.logStreamName < b.logStreamName ? -1 : 1));
        const terms = parsePattern(p.filterPattern);
        const events = streams.flatMap((s) =>
          delivery(s.events).map((e, i) => ({
            logStreamName: s.logStreamName,
            timestamp: e.timestamp,
            message: e.message,
            ingestionTime: e.ingestionTime,
            eventId: `${s.logStreamName}/${i}`,
          }))
        ).filter((e) =>
          (p.startTime === undefined || e.timestamp >= p.startTime) &&
          (p.endTime === undefined || e.timestamp <= p.endTime) &&
          terms.every((t) => e.message.includes(t))
        ).sort((a, b) => a.timestamp - b.timestamp);
        const { items, next } = this.#page(events, p.nextToken, p.limit, 10000);
        return {
          events: items,
          nextToken: next,
          searchedLogStreams: streams.map((s) => ({
            logStreamName: s.logStreamName,
            searchedCompletely: true,
          })),
        };
      },
      ListTagsLogGroup: (p) => ({ tags: this.group(p.logGroupName).tags }),
      TagLogGroup: (p) => {
        Object.assign(this.group(p.logGroupName).tags, p.tags);
        return {};
      },
    };
  }

  /**
   * The ARN of a log group.
   *
   * @param name The group name.
   */
  groupArn(name: string): string {
    return `arn:aws:logs:${this.#region}:${this.#account}:log-group:${name}`;
  }

  /**
   * A group by name, or ResourceNotFoundException.
   *
   * @param name The group name.
   */
  group(name: string): LogGroup {
    const g = this.groups.get(name);
    if (!g) throw notFound("log group");
    return g;
  }

  /**
   * A stream, or ResourceNotFoundException.
   *
   * @param group The group name.
   * @param name The stream name.
   */
  stream(group: string, name: string): LogStream {
    const s = this.group(group).streams.get(name);
    if (!s) throw notFound("log stream");
    return s;
  }

  /**
   * Creates a stream (the group is created when missing, as Batch does).
   *
   * @param group The group name.
   * @param name The stream name.
   */
  createStream(group: string, name: string): LogStream {
    let g = this.groups.get(group);
    if (!g) {
      g = {
        logGroupName: group,
        creationTime: Date.now(),
        streams: new Map(),
        tags: {},
        builtin: false,
      };
      this.groups.set(group, g);
    }
    const s: LogStream = { logStreamName: name, creationTime: Date.now(), events: [] };
    g.streams.set(name, s);
    return s;
  }

  /**
   * Appends one line to a stream, as a job's `awslogs` driver sends it.
   * With a delivery delay, reads see it only that long after it was written:
   * the driver sends a container's lines in batches, every 5 seconds
   * (`batchPublishFrequency` in moby's daemon/logger/awslogs), and users
   * report the last lines of a task that just stopped missing when its log
   * is read at once (apache/airflow#21573, apache/airflow#43717).
   *
   * @param group The group name.
   * @param name The stream name.
   * @param message The line.
   */
  append(group: string, name: string, message: string): void {
    const s = this.groups.get(group)?.streams.get(name) ?? this.createStream(group, name);
    const now = Date.now();
    s.events.push({ timestamp: now, message, ingestionTime: now + this.#deliveryDelayMs });
  }

  #page<T>(all: T[], nextToken: string | undefined, limit: number | undefined, def: number) {
    let start = 0;
    if (nextToken) {
      const m = nextToken.match(/^emu-([0-9]+)$/);
      if (!m) {
        throw new ServiceError(
          "InvalidParameterException",
          "The specified nextToken is invalid.",
          400,
        );
      }
      start = Number(m[1]);
    }
    const n = limit ?? def;
    return {
      items: all.slice(start, start + n),
      next: start + n < all.length ? `emu-${start + n}` : undefined,
    };
  }
}

/** The events a read sees: those stored by now (a prefix, since they are stored in order). */
/**
 * One GetLogEvents page read from one window of event time, as CloudWatch Logs
 * may answer: "This operation can return empty results while there are more
 * log events available through the token" (GetLogEvents in the CloudWatch
 * Logs API reference, and its documentation in botocore's and the AWS SDKs'
 * `logs` models); users report empty and partly full pages before the end
 * (dstackai/dstack#2501: "Partially full or empty pages don't necessarily mean
 * that pagination is finished"; boto/boto3#3718: `startFromHead: false` on a
 * `/aws/batch/job` stream returns no events). The end of the stream is only
 * the token sent coming back ("If you have reached the end of the stream, it
 * returns the same token you passed in", `nextForwardToken` and
 * `nextBackwardToken` in the same reference).
 *
 * A token carries an event index and a time. Forward, a page has the events
 * from the index on that are older than the time plus `windowMs` (the first
 * page starts at the stream's creation); backward, the events before the index
 * at or after the time less `windowMs` (the first page ends at the time of the
 * call, so the last events of a stream written to more than `windowMs` ago are
 * not on it); a page's events are consecutive. A window without events is an empty page whose token skips to
 * the next event; a window with more than `limit` events is read again.
 */
function windowPage(
  all: { e: LogEvent; i: number }[],
  length: number,
  creationTime: number,
  p: { nextToken?: string; startFromHead?: boolean },
  limit: number,
  windowMs: number,
): { events: LogEvent[]; nextForwardToken: string; nextBackwardToken: string } {
  const sent = p.nextToken ? parseToken(p.nextToken) : undefined;
  const forward = sent ? sent.dir === "f" : p.startFromHead === true;
  if (forward) {
    const at = sent?.index ?? 0;
    const time = sent?.time ?? creationTime;
    const after = all.filter(({ i }) => i >= at);
    if (after.length === 0) {
      const same = p.nextToken ?? token("f", at, time);
      return { events: [], nextForwardToken: same, nextBackwardToken: token("b", at, time) };
    }
    const out = after.findIndex(({ e }) => e.timestamp >= time + windowMs);
    const inWindow = out === -1 ? after : after.slice(0, out);
    if (inWindow.length === 0) {
      return {
        events: [],
        nextForwardToken: token("f", at, after[0]!.e.timestamp),
        nextBackwardToken: token("b", at, time),
      };
    }
    const slice = inWindow.slice(0, limit);
    const end = slice.at(-1)!.i + 1;
    return {
      events: slice.map(({ e }) => e),
      nextForwardToken: token("f", end, inWindow.length > limit ? time : time + windowMs),
      nextBackwardToken: token("b", slice[0]!.i, time + windowMs),
    };
  }
  const at = sent?.index ?? length;
  const time = sent?.time ?? Date.now() + 1;
  const before = all.filter(({ i }) => i < at);
  if (before.length === 0) {
    const same = p.nextToken ?? token("b", at, time);
    return { events: [], nextForwardToken: token("f", at, time), nextBackwardToken: same };
  }
  const out = before.findLastIndex(({ e }) => e.timestamp < time - windowMs);
  const inWindow = before.slice(out + 1);
  if (inWindow.length === 0) {
    return {
      events: [],
      nextForwardToken: token("f", at, time - windowMs),
      nextBackwardToken: token("b", at, before.at(-1)!.e.timestamp + 1),
    };
  }
  const slice = inWindow.slice(-limit);
  return {
    events: slice.map(({ e }) => e),
    nextForwardToken: token("f", slice.at(-1)!.i + 1, time - windowMs),
    nextBackwardToken: token("b", slice[0]!.i, inWindow.length > limit ? time : time - windowMs),
  };
}

function delivery(events: LogEvent[]): LogEvent[] {
  const now = Date.now();
  const pending = events.findIndex((e) => e.ingestionTime > now);
  return pending === -1 ? events : events.slice(0, pending);
}

function parsePattern(pattern: string | undefined): string[] {
  if (!pattern || pattern.trim() === "") return [];
  const terms: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(pattern)) !== null) terms.push(m[1] ?? m[2]!);
  return terms;
}
