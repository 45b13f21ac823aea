/**
 * The cloudknot command line: `deno run -A cli.ts <command>`.
 *
 * @module
 */

/**
 * Runs the command line with the given arguments and returns the exit code.
 *
 * @example Usage
 * ```ts ignore
 * import { main } from "@cloudknot/cloudknot/cli";
 *
 * Deno.exit(await main(["--help"]));
 * ```
 *
 * @param args The arguments after the program name.
 * @returns The process exit code.
 */
export function main(args: string[]): Promise<number> {
  console.log(`cloudknot: ${args.join(" ")}`);
  return Promise.resolve(0);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
