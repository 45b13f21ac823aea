/**
 * What a run used, attempt by attempt, as each target reports it: the
 * figures behind a run's cost report and its timeline. On AWS they come from
 * DescribeJobs (each attempt's start and stop, the job's vCPUs and memory,
 * the compute environment's type); locally, from the run's records.
 *
 * @module
 */
import type { ComputeKind } from "./prices.ts";

/** How one attempt ended. */
export type AttemptOutcome =
  /** It ran the item (or slice) to a result. */
  | "succeeded"
  /** It failed and another attempt followed. */
  | "retried"
  /** It failed and was the last attempt. */
  | "failed"
  /** It was cancelled or never ran. */
  | "cancelled"
  /** It has not ended yet. */
  | "running";

/** One attempt of one job (a Batch job or array child, or one local item). */
export interface AttemptUsage {
  /** The Batch job or array child; locally `<runId>:<index>`. */
  jobId: string;
  /** The item it ran (the first of its slice). */
  index: number;
  /** The attempt, counted from 1. */
  attempt: number;
  /** When it became ready to run (submitted, or the previous attempt ended), epoch ms. */
  queuedAt?: number;
  /** When it started, epoch ms; missing when it never ran or the start is unknown. */
  startedAt?: number;
  /** When it stopped, epoch ms; missing while it runs. */
  stoppedAt?: number;
  /** How it ended. */
  outcome: AttemptOutcome;
  /** The job's vCPUs (AWS). */
  vcpus?: number;
  /** The job's memory in MiB (AWS; locally the worker's heap limit, when set). */
  memoryMiB?: number;
  /** Why it ended, when it failed. */
  reason?: string;
}

/** What a run used. */
export interface RunUsage {
  /** The knot's name. */
  knot: string;
  /** The run's id. */
  runId: string;
  /** Where it ran (`docker`: this machine's Docker engine). */
  target: "aws" | "local" | "docker";
  /** The region (AWS). */
  region?: string;
  /** The compute environment's type (AWS). */
  compute?: ComputeKind;
  /** The compute environment's instance types (AWS EC2 and SPOT). */
  instanceTypes?: string[];
  /** The compute environment's Spot bid percentage (AWS SPOT). */
  bidPercentage?: number;
  /** Every attempt, in item and attempt order. */
  attempts: AttemptUsage[];
}
