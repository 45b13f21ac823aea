/**
 * What to say when a module path names a directory: a module is one file,
 * so the message lists the TypeScript and JavaScript files the directory
 * holds, named as the user named the directory.
 *
 * @module
 */

/** The extensions of a file `deno bundle` takes as a module. */
const MODULE_FILE = /\.(?:[cm]?[jt]s|[jt]sx)$/;

/** How many of the directory's module files a message names. */
const SHOWN = 10;

/**
 * The message for a module path that names a directory: that it is one, and
 * the path of each TypeScript or JavaScript file in it to pass instead.
 *
 * @example Usage
 * ```ts
 * import { directoryModuleMessage } from "./module_directory.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/jobs.ts`, "export const square = (x: number) => x * x;\n");
 * console.log(await directoryModuleMessage("./lib", dir));
 * // Module ./lib is a directory, not a module: pass the path of one TypeScript or JavaScript file in it, such as ./lib/jobs.ts
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param name The module as the user named it.
 * @param dir The directory, as a path or a file URL.
 * @param where Where a relative `name` was resolved, said after it when given.
 * @returns The message.
 */
export async function directoryModuleMessage(
  name: string,
  dir: string | URL,
  where?: string,
): Promise<string> {
  const files: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isDirectory && MODULE_FILE.test(entry.name)) files.push(entry.name);
    }
  } catch {
    // Unreadable: name no files.
  }
  files.sort();
  const prefix = name.replace(/\/*$/, "/");
  const shown = files.slice(0, SHOWN).map((f) => `${prefix}${f}`);
  if (files.length > SHOWN) shown.push("…");
  return `Module ${name} is a directory${where === undefined ? "" : ` in ${where}`}, not a ` +
    `module: pass the path of one TypeScript or JavaScript file in it` +
    (shown.length === 0
      ? ` (it holds none)`
      : `, such as ${shown.length === 1 ? shown[0] : `one of ${shown.join(", ")}`}`);
}
