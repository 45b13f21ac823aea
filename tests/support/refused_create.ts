/**
 * What the local and docker targets' tests of a refused create share: a knot
 * of a module refused for a shipped file that is missing, then for an export
 * it lacks, leaves no knot folder.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ArtifactError, CloudknotInputError, Knot, type KnotOptions } from "../../mod.ts";

/**
 * Creates the knot of `options` (a module, exporting the function named by
 * their `exportName`, beside a `model.json`) with a shipped file that is
 * missing, then with an export the module lacks: each is refused, and
 * `folder`, the knot's, is not there after either.
 *
 * @example Usage
 * ```ts ignore
 * await assertRefusedLeaveNoFolder({ name: "k", module, exportName: "score", dir }, join(dir, "k"));
 * ```
 *
 * @param options The knot's options, right but for what this changes.
 * @param folder The knot's folder.
 */
export async function assertRefusedLeaveNoFolder(
  options: KnotOptions,
  folder: string,
): Promise<void> {
  const refused = (changed: Partial<KnotOptions>) =>
    Knot.create({ ...options, ...changed } as KnotOptions).then(() => undefined, (e) => e);
  const missing = await refused({ files: ["./model.json", "./gone.json"] });
  assert.ok(missing instanceof CloudknotInputError, String(missing));
  assert.equal(missing.field, "files");
  await assert.rejects(Deno.stat(folder), Deno.errors.NotFound);
  const noExport = await refused({ exportName: "nothing", files: ["./model.json"] });
  assert.ok(noExport instanceof ArtifactError, String(noExport));
  await assert.rejects(Deno.stat(folder), Deno.errors.NotFound);
}
