/**
 * Checking a module argument before it is bundled, for a clear message.
 *
 * @module
 */
import { directoryModuleMessage } from "../../job/module_directory.ts";
import { CloudknotInputError } from "../../util/errors.ts";

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
