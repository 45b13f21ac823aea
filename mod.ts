/**
 * cloudknot for Deno: run an existing TypeScript function over a list of
 * inputs on AWS Batch, or on this machine, with one `map()` call.
 *
 * @example Usage
 * ```ts ignore
 * import { Knot } from "@cloudknot/cloudknot";
 *
 * const knot = await Knot.create({ name: "squares", func: (x: number) => x * x, target: "local" });
 * console.log(await knot.map([1, 2, 3]).results()); // [1, 4, 9]
 * ```
 *
 * @module
 */
export * from "./src/errors.ts";
export * from "./src/job/codec.ts";
export * from "./src/job/codec_error.ts";
export * from "./src/job/error_record.ts";
