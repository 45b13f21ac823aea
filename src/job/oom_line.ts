/**
 * V8's and AWS Batch's words for running out of memory, which a worker's
 * and a job's log are watched for. In a module of its own: the job runtime
 * needs it without the item error classes, which the client shows.
 *
 * @module
 */

/**
 * V8's and AWS Batch's words for running out of memory: V8 writes "Fatal
 * JavaScript out of memory: Reached heap limit" to stderr, then aborts the
 * process (SIGTRAP on Linux).
 *
 * @example Usage
 * ```ts
 * import { OOM_LINE } from "@cloudknot/cloudknot/job";
 *
 * console.log(OOM_LINE.test("Fatal JavaScript out of memory: Reached heap limit")); // true
 * ```
 */
export const OOM_LINE: RegExp =
  /JavaScript heap out of memory|Fatal JavaScript out of memory|Reached heap limit|Fatal process out of memory|OutOfMemoryError/i;
