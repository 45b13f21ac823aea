/**
 * CloudWatch Logs (awsJson1_1, API 2014-03-28): reading job logs.
 * Timestamps are epoch milliseconds.
 *
 * @module
 */
import { callJson, type JsonServiceInfo } from "../protocols/json.ts";
import { paginate, type Paginator } from "../core/paginate.ts";
import type { AwsHttpClient, CallOptions, OperationInfo } from "../core/request.ts";

/** GetLogEvents input. */
export interface GetLogEventsRequest {
  /** The log group name. */
  logGroupName?: string;
  /** The log group ARN. */
  logGroupIdentifier?: string;
  /** The stream. */
  logStreamName: string;
  /** Earliest event time, epoch ms. */
  startTime?: number;
  /** Latest event time, epoch ms. */
  endTime?: number;
  /** The token of the next page. */
  nextToken?: string;
  /** Page size. */
  limit?: number;
  /** Read from the oldest event first. */
  startFromHead?: boolean;
  /** Unmask sensitive data. */
  unmask?: boolean;
}

/** One log event. */
export interface OutputLogEvent {
  /** Event time, epoch ms. */
  timestamp?: number;
  /** The message. */
  message?: string;
  /** Ingestion time, epoch ms. */
  ingestionTime?: number;
}

/** GetLogEvents output. */
export interface GetLogEventsResponse {
  /** The events. */
  events?: OutputLogEvent[];
  /** The forward token (the same one again at the end of the stream). */
  nextForwardToken?: string;
  /** The backward token. */
  nextBackwardToken?: string;
}

/** FilterLogEvents input. */
export interface FilterLogEventsRequest {
  /** The log group name. */
  logGroupName?: string;
  /** The log group ARN. */
  logGroupIdentifier?: string;
  /** Streams to search. */
  logStreamNames?: string[];
  /** A stream name prefix. */
  logStreamNamePrefix?: string;
  /** Earliest event time, epoch ms. */
  startTime?: number;
  /** Latest event time, epoch ms. */
  endTime?: number;
  /** A filter pattern. */
  filterPattern?: string;
  /** The token of the next page. */
  nextToken?: string;
  /** Page size. */
  limit?: number;
}

/** A filtered log event. */
export interface FilteredLogEvent extends OutputLogEvent {
  /** The stream. */
  logStreamName?: string;
  /** The event id. */
  eventId?: string;
}

/** FilterLogEvents output. */
export interface FilterLogEventsResponse {
  /** The events. */
  events?: FilteredLogEvent[];
  /** Which streams were searched. */
  searchedLogStreams?: { logStreamName?: string; searchedCompletely?: boolean }[];
  /** The token of the next page. */
  nextToken?: string;
}

/** DescribeLogStreams input. */
export interface DescribeLogStreamsRequest {
  /** The log group name. */
  logGroupName?: string;
  /** The log group ARN. */
  logGroupIdentifier?: string;
  /** A stream name prefix. */
  logStreamNamePrefix?: string;
  /** `LogStreamName` or `LastEventTime`. */
  orderBy?: string;
  /** Newest first. */
  descending?: boolean;
  /** The token of the next page. */
  nextToken?: string;
  /** Page size. */
  limit?: number;
}

/** A log stream. */
export interface LogStream {
  /** The name. */
  logStreamName?: string;
  /** Created, epoch ms. */
  creationTime?: number;
  /** First event, epoch ms. */
  firstEventTimestamp?: number;
  /** Last event, epoch ms. */
  lastEventTimestamp?: number;
  /** Last ingestion, epoch ms. */
  lastIngestionTime?: number;
  /** The upload sequence token. */
  uploadSequenceToken?: string;
  /** The ARN. */
  arn?: string;
  /** Stored bytes. */
  storedBytes?: number;
}

/** DescribeLogStreams output. */
export interface DescribeLogStreamsResponse {
  /** The streams. */
  logStreams?: LogStream[];
  /** The token of the next page. */
  nextToken?: string;
}

/** CloudWatch Logs' protocol constants. */
export const LOGS_JSON: JsonServiceInfo = { targetPrefix: "Logs_20140328" };

/** The Logs operations as data. */
export const LOGS_OPERATIONS = {
  GetLogEvents: { name: "GetLogEvents", idempotent: true },
  FilterLogEvents: { name: "FilterLogEvents", idempotent: true },
  DescribeLogStreams: { name: "DescribeLogStreams", idempotent: true },
} as const satisfies Record<string, OperationInfo>;

/** The Logs paginators as data. */
export const LOGS_PAGINATORS = {
  GetLogEvents: { inputToken: "nextToken", outputToken: "nextForwardToken", items: "events" },
  FilterLogEvents: { inputToken: "nextToken", outputToken: "nextToken", items: "events" },
  DescribeLogStreams: { inputToken: "nextToken", outputToken: "nextToken", items: "logStreams" },
} as const satisfies Record<string, Paginator>;

/**
 * The CloudWatch Logs client. Get one from {@linkcode AwsSession.logs}.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot";
 *
 * const aws = await AwsSession.create();
 * for await (const e of aws.logs.getLogEventsAll({ logGroupName: "/aws/batch/job", logStreamName: "s", startFromHead: true })) {
 *   console.log(e.message);
 * }
 * ```
 */
export class Logs {
  #client: AwsHttpClient;

  /**
   * Makes a client on top of a signed HTTP client.
   *
   * @param client The service's HTTP client.
   */
  constructor(client: AwsHttpClient) {
    this.#client = client;
  }

  /**
   * GetLogEvents.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  getLogEvents(input: GetLogEventsRequest, options?: CallOptions): Promise<GetLogEventsResponse> {
    return callJson(this.#client, LOGS_JSON, LOGS_OPERATIONS.GetLogEvents, input, options);
  }

  /**
   * Every event of a stream, following `nextForwardToken` until it repeats.
   *
   * @param input The request (set `startFromHead: true` to read forwards from the start).
   * @returns The events.
   */
  getLogEventsAll(input: GetLogEventsRequest): AsyncGenerator<OutputLogEvent> {
    return paginate((i) => this.getLogEvents(i), input, LOGS_PAGINATORS.GetLogEvents);
  }

  /**
   * FilterLogEvents.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  filterLogEvents(
    input: FilterLogEventsRequest,
    options?: CallOptions,
  ): Promise<FilterLogEventsResponse> {
    return callJson(this.#client, LOGS_JSON, LOGS_OPERATIONS.FilterLogEvents, input, options);
  }

  /**
   * Every matching event, across pages.
   *
   * @param input The request.
   * @returns The events.
   */
  filterLogEventsAll(input: FilterLogEventsRequest): AsyncGenerator<FilteredLogEvent> {
    return paginate((i) => this.filterLogEvents(i), input, LOGS_PAGINATORS.FilterLogEvents);
  }

  /**
   * DescribeLogStreams.
   *
   * @param input The request.
   * @param options Per-call options.
   * @returns The response.
   */
  describeLogStreams(
    input: DescribeLogStreamsRequest,
    options?: CallOptions,
  ): Promise<DescribeLogStreamsResponse> {
    return callJson(this.#client, LOGS_JSON, LOGS_OPERATIONS.DescribeLogStreams, input, options);
  }

  /**
   * Every stream, across pages.
   *
   * @param input The request.
   * @returns The streams.
   */
  describeLogStreamsAll(input: DescribeLogStreamsRequest): AsyncGenerator<LogStream> {
    return paginate((i) => this.describeLogStreams(i), input, LOGS_PAGINATORS.DescribeLogStreams);
  }
}
