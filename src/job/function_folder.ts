/**
 * The folder of a function's artifact: an artifact may lie in a folder of its
 * own (a local knot's `artifacts/<hash>/function.js`, an image's
 * `/app/function.js`) with the data files shipped beside it
 * (`shipped_files.ts`), which its workers may then read whatever the knot's
 * permissions.
 *
 * @module
 */
import { dirname, fileURLToPath } from "../util/path.ts";

/**
 * The name of a function's artifact that lies in a folder of its own, with
 * the data files shipped beside it: in a local knot's `artifacts/<hash>/`,
 * and in an image's `/app/`.
 */
export const FUNCTION_FILE = "function.js";

/**
 * What a worker may read of its function whatever the knot's permissions:
 * the artifact, or, when it lies in a folder of its own (`folder`), that
 * folder, which holds the files shipped beside it and nothing else of the
 * user's (in an image, the runtime's own code too). Nothing for a function
 * not on disk (a `data:` URL).
 *
 * @example Usage
 * ```ts
 * import { functionReadPaths } from "@cloudknot/cloudknot/job";
 *
 * console.log(functionReadPaths("file:///app/function.js", true)); // [ "/app" ]
 * console.log(functionReadPaths("file:///k/artifacts/ab.js", false)); // [ "/k/artifacts/ab.js" ]
 * ```
 *
 * @param functionUrl The artifact's URL.
 * @param folder Whether the artifact lies in a folder of its own.
 * @returns The paths to grant `read` on.
 */
export function functionReadPaths(functionUrl: string, folder: boolean): string[] {
  if (!functionUrl.startsWith("file:")) return [];
  const path = fileURLToPath(functionUrl);
  return folder ? [dirname(path)] : [path];
}
