/**
 * CloudWatch Logs (awsJson1_1, API 2014-03-28): reading job logs.
 * Timestamps are epoch milliseconds.
 *
 * @module
 */
import { jsonProtocol, type JsonServiceInfo } from "../protocols/json.ts";
import { defineService, type ServiceClient, type ServiceDefinition } from "../protocols/client.ts";
import generated from "./logs.generated.json" with { type: "json" };

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

/** The CloudWatch Logs API: each operation's input and output. */
export type LogsApi = {
  GetLogEvents: [GetLogEventsRequest, GetLogEventsResponse, "events"];
  FilterLogEvents: [FilterLogEventsRequest, FilterLogEventsResponse, "events"];
  DescribeLogStreams: [DescribeLogStreamsRequest, DescribeLogStreamsResponse, "logStreams"];
};

/**
 * CloudWatch Logs as data: its protocol, operations and paginators (the wire
 * metadata generated from its model).
 */
export const LOGS_SERVICE: ServiceDefinition<LogsApi> = defineService(
  jsonProtocol(LOGS_JSON),
  generated,
);

/**
 * The CloudWatch Logs client: a method per operation of
 * {@linkcode LogsApi} (`GetLogEvents` → `getLogEvents`) and an iterator over
 * every page's items per paginator (`getLogEventsAll` follows
 * `nextForwardToken` until it repeats). Get one from
 * {@linkcode AwsSession.logs}.
 *
 * @example Usage
 * ```ts ignore
 * import { AwsSession } from "@cloudknot/cloudknot/aws";
 *
 * const aws = await AwsSession.create();
 * for await (const e of aws.logs.getLogEventsAll({ logGroupName: "/aws/batch/job", logStreamName: "s", startFromHead: true })) {
 *   console.log(e.message);
 * }
 * ```
 */
export type Logs = ServiceClient<LogsApi>;
