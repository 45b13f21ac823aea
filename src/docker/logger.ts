/**
 * The default logger of the docker driver.
 *
 * @module
 */
import type { DockerOutputLine } from "./types.ts";

/**
 * Forwards a line of docker output through `console`: stdout lines with
 * `console.log`, stderr lines with `console.error`. Notebooks and
 * terminals both show it, and tests can capture it.
 *
 * @example Usage
 * ```ts
 * import { consoleLogger } from "@cloudknot/cloudknot/docker";
 *
 * consoleLogger({ operation: "build", stream: "stdout", text: "Step 1/2 : FROM scratch" });
 * ```
 *
 * @param line The line and the stream it came from.
 */
export function consoleLogger(line: DockerOutputLine): void {
  if (line.stream === "stderr") console.error(line.text);
  else console.log(line.text);
}
