/**
 * The hold tags a killed build left: `DockerImage.build({ hold: true })`
 * (a knot create on AWS) tags the image `cloudknot/<name>:hold-<uuid>` until
 * it is pushed, and a process killed in between leaves that tag for ever.
 *
 * Whose holder is gone is known from the mark the holder takes before the
 * tag exists and keeps while it lives: an OS lock (`flock`) on a file beside
 * the config file ({@linkcode StateFile.hold}), which the kernel frees when
 * the process dies, however it dies. Neither an age (a build and push can
 * take any time) nor a process id and start time (reused, and not readable
 * the same way on every system, nor from another machine sharing the Docker
 * daemon) tells that for sure. A tag with no mark of this config file (another
 * config file's, another machine's) is never judged. A holder killed after it
 * removed its tag and before it removed its mark's file leaves that empty
 * file alone, which is listed and removed too.
 *
 * @module
 */
import type { Docker } from "../docker/docker.ts";
import type { StateFile } from "../state/state_file.ts";
import { CloudknotError } from "../util/errors.ts";

/** A hold's name: the image reference of its tag. */
const HOLD_TAG = /^[^\s:]+:hold-[0-9a-f-]{36}$/;

/** A hold of this config file whose holder is gone. */
export interface HoldLeftover {
  /** The hold's name: its tag, such as `cloudknot/squares:hold-…`. */
  ref: string;
  /**
   * Whether the tag is still on the Docker daemon; `false` when only the
   * mark's file is left (its holder was killed once it had removed the tag).
   */
  tag: boolean;
  /** The mark's file beside the config file. */
  file: string;
}

/**
 * The holds of this config file whose holder is gone: each with its tag
 * still on the Docker daemon, or only the empty file of its mark left (a
 * holder killed between removing its tag and removing that file). It only
 * reads; it asks Docker nothing when no holder is gone.
 *
 * @example Usage
 * ```ts ignore
 * import { findHoldLeftovers } from "./_hold_leftovers.ts";
 *
 * console.log(await findHoldLeftovers(new StateFile(), new Docker()));
 * ```
 *
 * @param state The config file whose holds are looked at.
 * @param docker The Docker driver.
 * @returns The holds, sorted by tag.
 */
export async function findHoldLeftovers(
  state: StateFile,
  docker: Docker,
): Promise<HoldLeftover[]> {
  const found: HoldLeftover[] = [];
  for (const ref of await state.holdsLeft()) {
    if (!HOLD_TAG.test(ref)) continue;
    const tag = await docker.inspectImage(ref) !== undefined;
    found.push({ ref, tag, file: await state.holdFile(ref) });
  }
  return found;
}

/**
 * Removes a hold tag {@linkcode findHoldLeftovers} found (`docker rmi` of
 * that tag only: an image another tag names keeps its other tags), then its
 * mark, holding the mark's lock meanwhile.
 *
 * @example Usage
 * ```ts ignore
 * import { removeHoldLeftover } from "./_hold_leftovers.ts";
 *
 * await removeHoldLeftover(new StateFile(), new Docker(), "cloudknot/squares:hold-…");
 * ```
 *
 * @param state The config file whose hold it is.
 * @param docker The Docker driver.
 * @param ref The tag; one already gone counts as removed.
 * @throws {CloudknotError} When a live process holds it.
 */
export async function removeHoldLeftover(
  state: StateFile,
  docker: Docker,
  ref: string,
): Promise<void> {
  const ended = await state.endHoldLeft(ref, () => docker.removeImage(ref, { missingOk: true }));
  if (!ended) {
    throw new CloudknotError(
      `The tag ${ref} was kept: a live process holds it (a build it has not pushed yet)`,
    );
  }
}

/**
 * Removes the file of a hold's mark whose tag is gone
 * ({@linkcode findHoldLeftovers} with `tag: false`), asking Docker nothing,
 * holding the mark's lock meanwhile.
 *
 * @example Usage
 * ```ts ignore
 * import { removeHoldFileLeftover } from "./_hold_leftovers.ts";
 *
 * await removeHoldFileLeftover(new StateFile(), "cloudknot/squares:hold-…");
 * ```
 *
 * @param state The config file whose hold it is.
 * @param ref The hold's tag; a file already gone counts as removed.
 * @throws {CloudknotError} When a live process holds it.
 */
export async function removeHoldFileLeftover(state: StateFile, ref: string): Promise<void> {
  if (!await state.endHoldLeft(ref, () => Promise.resolve())) {
    throw new CloudknotError(
      `The mark file of ${ref} was kept: a live process holds it (a build it has not pushed yet)`,
    );
  }
}
