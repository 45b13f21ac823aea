/**
 * AWS Batch building blocks: `BatchJob` and its options, `viewJobs`, a
 * knot's compute options and their checks, the compute environment, queue
 * and job definition helpers, AWS Batch's fixed quotas, and a job's command
 * line.
 *
 * @example Usage
 * ```ts ignore
 * import { BatchJob } from "@cloudknot/cloudknot/batch";
 *
 * const job = await BatchJob.fromId("77c1a8e2-…", {});
 * console.log((await job.status()).status);
 * ```
 *
 * @module
 */
export * from "./batch_job.ts";
export * from "./jobs_view.ts";
export { type JobCommand, jobCommand, parseJobCommand } from "./command.ts";
export * from "./compute_options.ts";
export * from "./environment.ts";
export { BATCH_QUOTAS, BatchQuotaError, batchRequestBytes, type QuotaResource } from "./quotas.ts";
export * from "./runtime_check.ts";
export type { OutageKind, OutageNotice } from "./outage.ts";
