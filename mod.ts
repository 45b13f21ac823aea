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
export * from "./src/aws/mod.ts";
export {
  type IniDocument,
  type IniMode,
  IniSyntaxError,
  parseIni,
  type ParseIniOptions,
  stringifyIni,
} from "./src/util/ini.ts";
