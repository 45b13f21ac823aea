/**
 * The run handle `map()` returns on every target, its text and notebook
 * views, progress on stderr, its timeline and report page, and retrying
 * what failed.
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
export * from "./timeline.ts";
export * from "./report_page.ts";
export * from "./retry.ts";
