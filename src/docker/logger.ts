/**
 * The default logger of the docker driver.
 *
 * @module
 */
import type { DockerOutputLine } from "./types.ts";

/**
 * Forwards a line of docker output to stderr (`console.error`), whichever
 * stream docker wrote it on: it is progress, and a program's stdout stays
 * its own (a script's output piped on, a notebook cell's result). Blank
 * lines are dropped. Notebooks and terminals both show it, and tests can
 * capture it.
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
  if (line.text.trim() !== "") console.error(line.text);
}
