/**
 * The Docker driver of the command line.
 *
 * @module
 */
import { Docker } from "../../docker/docker.ts";
import type { CliIo } from "./io.ts";

/**
 * A Docker driver whose output goes to the command line's stderr, so stdout
 * keeps only results.
 *
 * @example Usage
 * ```ts ignore
 * const docker = cliDocker(ctx, { quiet: ctx.flag("quiet") });
 * ```
 *
 * @param ctx Anything with the command line's io, such as the running command.
 * @param options `quiet` drops the output.
 * @returns The driver.
 */
export function cliDocker(
  ctx: { io: Pick<CliIo, "stderr"> },
  options: { quiet?: boolean } = {},
): Docker {
  return new Docker({
    logger: (line) => {
      if (!options.quiet) ctx.io.stderr.write(`${line.text}\n`).catch(() => {});
    },
  });
}
