/**
 * The owner id of a config file: a random id kept as `owner` in `[aws]`,
 * written once, the first time something is made that carries it, and kept
 * by every later write. Everything a Pars or a knot makes on AWS is tagged
 * `cloudknot:owner=<id>`, and each run's manifest in S3 records it, so that
 * `gc` judges only what its own config file made, never another config
 * file's resources on the same account (see `gc.ts`). The Python original's
 * files have no owner until this library makes something with them; its
 * resources have no owner tag.
 *
 * @module
 */
import type { StateFile } from "../state/state_file.ts";
import { AWS_SECTION } from "../state/sections.ts";

/** The tag key that names the config file (its owner id) a resource was made with. */
export const OWNER_TAG_KEY = "cloudknot:owner";

/** The key of `[aws]` that holds the config file's owner id. */
export const OWNER_KEY = "owner";

/**
 * The config file's owner id, made (a random UUID) and written to `[aws]` if
 * the file has none yet; an id already there is kept, also when another
 * process writes one at the same moment.
 *
 * @example Usage
 * ```ts
 * import { configOwner } from "@cloudknot/cloudknot/resources";
 * import { StateFile } from "@cloudknot/cloudknot/state";
 *
 * const dir = await Deno.makeTempDir();
 * const state = new StateFile({ path: `${dir}/cloudknot` });
 * const owner = await configOwner(state);
 * console.log(owner === await configOwner(state)); // true
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param state The config file.
 * @returns Its owner id.
 */
export async function configOwner(state: StateFile): Promise<string> {
  const known = await readOwner(state);
  if (known !== undefined) return known;
  let owner = "";
  await state.update((doc) => {
    const aws = doc.get(AWS_SECTION) ?? new Map<string, string>();
    owner = aws.get(OWNER_KEY)?.trim() || crypto.randomUUID();
    aws.set(OWNER_KEY, owner);
    doc.set(AWS_SECTION, aws);
  });
  return owner;
}

/**
 * The config file's owner id, or `undefined` when it has none; it only reads.
 *
 * @example Usage
 * ```ts
 * import { readOwner } from "@cloudknot/cloudknot/resources";
 * import { StateFile } from "@cloudknot/cloudknot/state";
 *
 * const dir = await Deno.makeTempDir();
 * console.log(await readOwner(new StateFile({ path: `${dir}/cloudknot` }))); // undefined
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param state The config file.
 * @returns Its owner id, if it has one.
 */
export async function readOwner(state: StateFile): Promise<string | undefined> {
  return (await state.get(AWS_SECTION, OWNER_KEY))?.trim() || undefined;
}
