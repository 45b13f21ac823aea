/**
 * The knot name the command line derives from a module and an export.
 *
 * @module
 */
import { sha256Hex } from "../../util/sha256.ts";

/** The longest knot name (`validateKnotName`). */
const MAX = 55;
/** Hex digits of the hash that keeps a file's identity when its name loses characters. */
const HASH_DIGITS = 6;

/**
 * Derives a valid knot name from a module's file name and an export name:
 * `jobs/monte_carlo.ts` with export `estimate` gives `monte-carlo-estimate`,
 * and with the default export `monte-carlo`. ASCII characters a knot name
 * cannot hold become hyphens; a name that does not start with a letter gets a
 * `knot-` prefix; it is cut to 55 characters.
 *
 * A knot name holds ASCII letters, digits and hyphens only, so the other
 * characters of a file's name are lost (`数据.ts` would give no name at all,
 * and `ünï cödé.ts` the name of `n-c-d.ts`). When the file's name or the
 * export's loses any, or the file gives nothing, the name ends with the first
 * 6 hex digits of the SHA-256 of `<file name without its extension>:<export>`,
 * so it names that module and export, not another's whose name is made of
 * what was kept: `mods/数据.ts` with export `slow` gives `slow-2009f3`, not
 * `slow`.
 *
 * @example Usage
 * ```ts
 * import { knotNameFor } from "./knot_name.ts";
 *
 * console.log(await knotNameFor("examples/monte_carlo_pi.ts", "default")); // "monte-carlo-pi"
 * console.log(await knotNameFor("./2d.ts", "fit_curve")); // "knot-2d-fit-curve"
 * console.log(await knotNameFor("mods/数据.ts", "slow")); // "slow-2009f3"
 * console.log(await knotNameFor("mods/数据.ts", "default")); // "knot-3a1ba4"
 * ```
 *
 * @param module The module's path or URL.
 * @param exportName The export; `"default"` adds nothing.
 * @returns The name.
 */
export async function knotNameFor(module: string, exportName: string): Promise<string> {
  const path = module.replace(/[?#].*$/, "").replace(/\/+$/, "");
  const file = path.slice(path.lastIndexOf("/") + 1).replace(/\.[^.]*$/, "");
  const exported = exportName === "default" ? "" : exportName;
  const sanitise = (part: string) => part.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  let name = sanitise([file, exported].filter((p) => p !== "").join("-"));
  if (!/^[A-Za-z]/.test(name)) name = name === "" ? "knot" : `knot-${name}`;
  // Characters outside printable ASCII are dropped; ASCII punctuation becomes a hyphen.
  const lost = /[^\u0020-\u007E]/.test(file + exported) || sanitise(file) === "";
  if (!lost) return name.slice(0, MAX).replace(/-+$/, "");
  const hash = (await sha256Hex(`${file}:${exportName}`)).slice(0, HASH_DIGITS);
  return `${name.slice(0, MAX - HASH_DIGITS - 1).replace(/-+$/, "")}-${hash}`;
}
