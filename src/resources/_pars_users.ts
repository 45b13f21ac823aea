/**
 * The mark that a knot being made uses a Pars: a knot has no record, and so
 * no `pars` key naming its Pars, until it is made, yet it makes its job role
 * and compute environment with that Pars' roles and network. While it holds
 * this mark ({@linkcode StateFile.whileMaking}, an OS lock its process's exit
 * frees), {@linkcode knotsMakingWithPars} names it, and `Pars.clobber` refuses.
 *
 * @module
 */
import type { StateFile } from "../state/mod.ts";

/** The first word of such a mark's section; no record has this kind, so `gc` passes it by. */
const USING = "using-pars";

/**
 * Runs `body`, which makes knot `knot` with Pars `pars`, marked as doing so.
 *
 * @example Usage
 * ```ts ignore
 * await makingWithPars(state, "lab", "squares", () => create());
 * ```
 */
export async function makingWithPars<T>(
  state: StateFile,
  pars: string,
  knot: string,
  body: () => Promise<T>,
): Promise<T> {
  return await state.whileMaking(`${USING} ${pars} ${knot}`, body);
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
