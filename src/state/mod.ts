/**
 * The cloudknot config file (`~/.aws/cloudknot`, or `$CLOUDKNOT_CONFIG_FILE`):
 * a locked, atomically written INI file shared with the Python original, and
 * the INI reader and writer behind it.
 *
 * @example Usage
 * ```ts
 * import { StateFile } from "@cloudknot/cloudknot/state";
 *
 * const dir = await Deno.makeTempDir();
 * const state = new StateFile({ path: `${dir}/cloudknot` });
 * await state.set("aws", "region", "eu-west-1");
 * console.log(await state.get("aws", "region")); // "eu-west-1"
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
export * from "./state_file.ts";
export { AWS_SECTION } from "./sections.ts";
export {
  type IniDocument,
  type IniMode,
  IniSyntaxError,
  parseIni,
  type ParseIniOptions,
  stringifyIni,
} from "../util/ini.ts";
