/**
 * How a function was shipped, a name shared by the artifact that packages it
 * and the runtime that runs it. It has a file of its own so that the job
 * runtime's module graph does not reach the code that packages functions on
 * the client (`function_artifact.ts`) and what that imports.
 *
 * @module
 */

/**
 * How the function was shipped: `func` by its source text, `module` as a
 * bundle of its module's graph.
 *
 * @example Usage
 * ```ts
 * import type { FunctionKind } from "@cloudknot/cloudknot/job";
 *
 * const kind: FunctionKind = "func";
 * console.log(kind);
 * ```
 */
export type FunctionKind = "func" | "module";
