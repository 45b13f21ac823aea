/**
 * What runs cost: the dated price table shipped with the package (AWS's
 * published prices, each with its page), estimates before a run, what a
 * run's attempts used, the cost report computed from it, and the table
 * (`RowsTable`) the estimate and the report show themselves as.
 *
 * @example Usage
 * ```ts
 * import { estimateRun, PRICES } from "@cloudknot/cloudknot/cost";
 *
 * console.log(PRICES.date);
 * console.log(String(estimateRun({ count: 1000, itemSeconds: 30, compute: "FARGATE", vcpus: 1, memory: 2048 })));
 * ```
 *
 * @module
 */
export * from "./prices.ts";
export * from "./estimate.ts";
export * from "./usage.ts";
export * from "./report.ts";
export { RowsTable } from "./format.ts";
