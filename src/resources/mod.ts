/**
 * The persistent AWS resources and the settings: `Pars` (IAM roles and
 * network) and its options, the job-data bucket, the settings API with the
 * one way to open an AWS session from it, the resource errors, and the
 * cleaners `prune` (stale records) and `findGarbage`/`deleteGarbage` (AWS
 * resources no record refers to) with the config file's owner id they judge
 * by (`configOwner`), and the Python cloudknot's Pars and knots
 * (`readOriginalRecords`, `clobberOriginal`).
 *
 * @example Usage
 * ```ts ignore
 * import { findGarbage } from "@cloudknot/cloudknot/resources";
 *
 * for (const item of await findGarbage()) console.log(item.kind, item.id);
 * ```
 *
 * @module
 */
export * from "./settings.ts";
export * from "./errors.ts";
export * from "./bucket.ts";
export * from "./pars.ts";
export * from "./pars_options.ts";
export * from "./prune.ts";
export * from "./gc.ts";
export * from "./owner.ts";
export * from "./original.ts";
export * from "../util/validate.ts";
