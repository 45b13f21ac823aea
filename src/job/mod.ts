/**
 * The job contract every target shares: the payload layout, result and error
 * records, the runtime that runs one attempt, the pool of worker processes
 * that runs many (with a knot's Deno permissions), the job entry point, and
 * function shipping. For running cloudknot jobs outside cloudknot, or
 * building images by hand.
 *
 * @example Usage
 * ```ts ignore
 * import { jobMain } from "@cloudknot/cloudknot/job";
 *
 * Deno.exit(await jobMain(["--run", "file:///tmp/run", "--index", "0"]));
 * ```
 *
 * @module
 */
export * from "./error_record.ts";
export * from "./item_error.ts";
export * from "./record.ts";
export * from "./record_segment.ts";
export * from "./record_writer.ts";
export * from "./payload.ts";
export * from "./runtime.ts";
export * from "./permissions.ts";
export * from "./inputs.ts";
export * from "./item_log.ts";
export * from "./pool.ts";
export type { FileSpan } from "./wire.ts";
export * from "./main.ts";
export * from "./function_artifact.ts";
export * from "./artifact_of.ts";
export * from "./shipped_files.ts";
export * from "./function_folder.ts";
export * from "./artifact_sources.ts";
export * from "./runtime_bundle.ts";
export * from "./runtime_protocol.ts";
export { CommandTimeoutError } from "../util/command_limit.ts";
