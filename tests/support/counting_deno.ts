/**
 * A deno binary that counts its `deno bundle` runs: for tests that check a
 * module is bundled once, through the `deno` a knot or the command line is
 * given.
 *
 * @module
 */
import { join } from "node:path";

/**
 * Writes, in `dir`, a deno binary that writes a line to a file each time it is
 * asked to `deno bundle`, then runs this deno.
 *
 * @example Usage
 * ```ts ignore
 * const { deno, bundles } = await countingDeno(dir);
 * await openAwsKnot({ ...options, deno });
 * assert.equal(await bundles(), 1);
 * ```
 *
 * @param dir A folder of the test's own.
 * @returns The binary's path, and how many bundles it ran so far.
 */
export async function countingDeno(
  dir: string,
): Promise<{ deno: string; bundles: () => Promise<number> }> {
  const log = join(dir, "bundles");
  const deno = join(dir, "counting-deno");
  await Deno.writeTextFile(
    deno,
    `#!/bin/sh\nif [ "$1" = bundle ]; then echo bundle >> '${log}'; fi\n` +
      `exec '${Deno.execPath()}' "$@"\n`,
  );
  await Deno.chmod(deno, 0o755);
  return {
    deno,
    bundles: async () =>
      (await Deno.readTextFile(log).catch(() => "")).split("\n").filter((l) => l !== "").length,
  };
}
