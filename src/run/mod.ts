/**
 * The run handle `map()` returns on every target, its text and notebook
 * views, and progress on stderr.
 *
 * @example Usage
 * ```ts ignore
 * import { formatProgress } from "@cloudknot/cloudknot/run";
 *
 * console.log(formatProgress(run, Date.now()));
 * ```
 *
 * @module
 */
export * from "./map_run.ts";
export * from "./progress.ts";
export * from "./run_view.ts";
