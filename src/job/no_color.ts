/**
 * The environment every container job gets (docker and AWS Batch) so that
 * what Deno prints itself there (an uncaught error, a warning, in the job's
 * own process, its workers and the Deno programs a function starts) reaches
 * the container's log (`docker logs`, CloudWatch) without ANSI colour codes:
 * Deno colours its own messages even when they go to a pipe, and `NO_COLOR`
 * is the only way to turn that off (it has no flag for it). A function sees
 * it too (`Deno.noColor` is `true`, and `NO_COLOR` is in its environment); a
 * map's own `env` may set it otherwise.
 *
 * @module
 */

/**
 * The variables that turn off Deno's colours in a container job, beneath the
 * map's own `env`.
 *
 * @example Usage
 * ```ts
 * import { NO_COLOR_ENV } from "./no_color.ts";
 *
 * const env: Record<string, string> = { ...NO_COLOR_ENV, MODE: "fast" };
 * console.log(env.NO_COLOR); // "1"
 * ```
 */
export const NO_COLOR_ENV: Readonly<Record<string, string>> = Object.freeze({ NO_COLOR: "1" });
