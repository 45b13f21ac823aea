/**
 * Checking a module argument before it is bundled, for a clear message.
 *
 * @module
 */
import { directoryModuleMessage } from "../../job/module_directory.ts";
import { CloudknotInputError } from "../../util/errors.ts";
import type { CommandContext, OptionSpec } from "./command.ts";

/** `--file PATH`, repeatable: the data files shipped beside the module's function. */
export const FILE_OPTION: Record<string, OptionSpec> = {
  file: {
    type: "string",
    value: "PATH",
    multiple: true,
    description: "A data file or folder the function reads beside its module " +
      '(new URL("./model.json", import.meta.url)), relative to the module\'s folder: shipped ' +
      "beside the function on every target",
  },
};

/**
 * The `--file` options given, for a knot's `files`; `undefined` when none.
 *
 * @example Usage
 * ```ts ignore
 * const files = cliFiles(ctx, module); // ["./model.json", "./data/"]
 * ```
 *
 * @param ctx The running command.
 * @param module The module argument, which they are beside.
 * @returns The paths.
 */
export function cliFiles(ctx: CommandContext, module: string | undefined): string[] | undefined {
  const files = ctx.strings("file");
  if (files.length === 0) return undefined;
  if (module === undefined) {
    throw ctx.usage(
      "--file needs the module it is beside: pass MODULE EXPORT with it (a knot named with " +
        "--name alone keeps the files it was made with)",
    );
  }
  return files;
}

/**
 * Checks that a module given as a path names a file; URLs (`https:`,
 * `file:`, `npm:` …) are left to the bundler. A relative path is relative to
 * the working directory.
 *
 * @example Usage
 * ```ts
 * import { checkModulePath } from "./module_path.ts";
 *
 * await checkModulePath("https://example.com/jobs.ts"); // URLs are not checked
 * ```
 *
 * @param module The module argument.
 * @throws {CloudknotInputError} When the path names no file, or a directory.
 */
export async function checkModulePath(module: string): Promise<void> {
  if (/^[a-z][a-z0-9+.-]*:/i.test(module)) return;
  const found = await Deno.stat(module).catch(() => undefined);
  if (found?.isDirectory) {
    throw new CloudknotInputError(
      await directoryModuleMessage(module, module, module.startsWith("/") ? undefined : Deno.cwd()),
      { field: "module" },
    );
  }
  if (!found?.isFile) {
    throw new CloudknotInputError(
      `Module ${module} does not exist: pass the path of a TypeScript or JavaScript module, ` +
        `absolute or relative to the working directory (${Deno.cwd()})`,
      { field: "module" },
    );
  }
}
