/**
 * A deno binary that counts its runs of one command (`deno bundle`, `deno
 * lint`): for tests that check a module is bundled once, or a source linted
 * once, through the `deno` a knot, a check or the command line is given.
 *
 * @module
 */
import { join } from "node:path";

/**
 * Writes, in `dir`, a deno binary that writes a line to a file each time it is
 * asked to run `command`, then runs this deno.
 *
 * @example Usage
 * ```ts ignore
 * const { deno, runs: bundles } = await countingDeno(dir);
 * await openAwsKnot({ ...options, deno });
 * assert.equal(await bundles(), 1);
 * ```
 *
 * @param dir A folder of the test's own.
 * @param command The deno command to count. @default {"bundle"}
 * @returns The binary's path, and how many times it ran `command` so far.
 */
export async function countingDeno(
  dir: string,
  command = "bundle",
): Promise<{ deno: string; runs: () => Promise<number> }> {
  const log = join(dir, `${command}-runs`);
  const deno = join(dir, `counting-deno-${command}`);
  await Deno.writeTextFile(
    deno,
    `#!/bin/sh\nif [ "$1" = ${command} ]; then echo ${command} >> '${log}'; fi\n` +
      `exec '${Deno.execPath()}' "$@"\n`,
  );
  await Deno.chmod(deno, 0o755);
  return {
    deno,
    runs: async () =>
      (await Deno.readTextFile(log).catch(() => "")).split("\n").filter((l) => l !== "").length,
  };
}
