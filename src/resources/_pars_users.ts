/**
 * The mark that a knot being made uses a Pars: a knot has no record, and so
 * no `pars` key naming its Pars, until it is made, yet it makes its job role
 * and compute environment with that Pars' roles and network. While it holds
 * this mark ({@linkcode StateFile.whileMaking}, an OS lock its process's exit
 * frees), {@linkcode knotsMakingWithPars} names it, and `Pars.clobber` refuses.
 *
 * And the converse, the mark that a Pars is being clobbered
 * ({@linkcode clobberingPars}): a knot whose create starts while it is held
 * refuses before it makes anything. Each side takes its own mark before it
 * looks for the other's, so of a clobber and a knot create that overlap, one
 * always sees the other.
 *
 * @module
 */
import type { StateFile } from "../state/mod.ts";
import { CannotCreateResourceError } from "../util/errors.ts";

/** The first word of such a mark's section; no record has this kind, so `gc` passes it by. */
const USING = "using-pars";
/** The first word of the mark of a Pars being clobbered; `gc` passes it by too. */
const CLOBBERING = "clobbering-pars";

/**
 * Runs `body`, which makes knot `knot` with Pars `pars`, marked as doing so;
 * refuses, before `body` makes anything, while a clobber of the Pars holds
 * its mark.
 *
 * @example Usage
 * ```ts ignore
 * await makingWithPars(state, "lab", "squares", () => create());
 * ```
 *
 * @param onWait Called once, before waiting, when another process holds the
 *   mark (making or healing the same knot with the same Pars).
 * @throws {CannotCreateResourceError} While another call clobbers Pars `pars`.
 */
export async function makingWithPars<T>(
  state: StateFile,
  pars: string,
  knot: string,
  body: () => Promise<T>,
  onWait?: () => void,
): Promise<T> {
  return await state.whileMaking(`${USING} ${pars} ${knot}`, async () => {
    // This mark is held before looking: a clobber that starts later sees it and refuses.
    await refuseWhileClobbering(
      state,
      pars,
      `knot ${knot} was not made, and nothing was created`,
      `, or create the knot with Knot.create({ name: "${knot}", func }) (or module and ` +
        `exportName) and the knot's options: that creates the Pars again too`,
    );
    return await body();
  }, onWait);
}

/**
 * Refuses while a clobber of Pars `pars` holds its mark ({@linkcode clobberingPars}):
 * what opens or makes the Pars, or a knot with it, must not start meanwhile.
 *
 * @example Usage
 * ```ts ignore
 * await refuseWhileClobbering(state, "lab", "it was not opened, and nothing was changed");
 * ```
 *
 * @param state The config file.
 * @param pars The Pars' name.
 * @param outcome What was not done, for the message.
 * @param more Another way out, for the message, after creating the Pars again.
 * @throws {CannotCreateResourceError} While another call clobbers Pars `pars`.
 */
export async function refuseWhileClobbering(
  state: StateFile,
  pars: string,
  outcome: string,
  more = "",
): Promise<void> {
  if (!(await state.making()).includes(`${CLOBBERING} ${pars}`)) return;
  throw new CannotCreateResourceError(
    `Pars "${pars}" is being clobbered by another process with this config file ` +
      `(${state.path}), so ${outcome}. Once that clobber ends, create the Pars again with ` +
      `Pars.create({ name: "${pars}" })${more}`,
  );
}

/**
 * Runs `body`, which clobbers Pars `pars`, marked as doing so: a knot create
 * with the Pars that starts meanwhile refuses ({@linkcode makingWithPars}).
 * `body` looks for knots being made with the Pars only once the mark is held.
 * A second clobber of the same Pars waits for the first.
 *
 * @example Usage
 * ```ts ignore
 * await clobberingPars(state, "lab", async () => {
 *   if ((await knotsMakingWithPars(state, "lab")).length > 0) throw new Error("in use");
 * });
 * ```
 */
export async function clobberingPars<T>(
  state: StateFile,
  pars: string,
  body: () => Promise<T>,
  onWait?: () => void,
): Promise<T> {
  return await state.whileMaking(`${CLOBBERING} ${pars}`, body, onWait);
}

/**
 * The Pars a live process clobbers with this config file ({@linkcode clobberingPars}).
 *
 * @example Usage
 * ```ts ignore
 * console.log((await parsBeingClobbered(state)).has("lab"));
 * ```
 */
export async function parsBeingClobbered(state: StateFile): Promise<Set<string>> {
  const prefix = `${CLOBBERING} `;
  return new Set(
    (await state.making()).filter((s) => s.startsWith(prefix)).map((s) => s.slice(prefix.length)),
  );
}

/**
 * The knots a live process is making with Pars `pars` and this config file, sorted.
 *
 * @example Usage
 * ```ts ignore
 * console.log(await knotsMakingWithPars(state, "lab")); // ["squares"]
 * ```
 */
export async function knotsMakingWithPars(state: StateFile, pars: string): Promise<string[]> {
  const prefix = `${USING} ${pars} `;
  return (await state.making()).filter((s) => s.startsWith(prefix)).map((s) =>
    s.slice(prefix.length)
  );
}

/**
 * Whether a live process makes, heals or updates knot `knot` with this
 * config file ({@linkcode makingWithPars}, with whichever Pars): a clobber of
 * the knot that starts meanwhile refuses, as its record and resources are
 * being written under it.
 *
 * @example Usage
 * ```ts ignore
 * if (await knotBeingMade(state, "squares")) console.log("wait for it");
 * ```
 *
 * @param state The config file.
 * @param knot The knot's name.
 * @returns `true` while such a process holds its mark.
 */
export async function knotBeingMade(state: StateFile, knot: string): Promise<boolean> {
  return (await state.making()).some((section) => {
    const words = section.split(" ");
    return words.length === 3 && words[0] === USING && words[2] === knot;
  });
}
