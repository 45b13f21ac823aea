/**
 * The knot name the command line derives from a module and an export.
 *
 * @module
 */

/**
 * Derives a valid knot name from a module's file name and an export name:
 * `jobs/monte_carlo.ts` with export `estimate` gives `monte-carlo-estimate`,
 * and with the default export `monte-carlo`. Characters a knot name cannot
 * hold become hyphens; a name that does not start with a letter gets a `knot-`
 * prefix; it is cut to 55 characters.
 *
 * @example Usage
 * ```ts
 * import { knotNameFor } from "./knot_name.ts";
 *
 * console.log(knotNameFor("examples/monte_carlo_pi.ts", "default")); // "monte-carlo-pi"
 * console.log(knotNameFor("./2d.ts", "fit_curve")); // "knot-2d-fit-curve"
 * ```
 *
 * @param module The module's path or URL.
 * @param exportName The export; `"default"` adds nothing.
 * @returns The name.
 */
export function knotNameFor(module: string, exportName: string): string {
  const path = module.replace(/[?#].*$/, "").replace(/\/+$/, "");
  const file = path.slice(path.lastIndexOf("/") + 1).replace(/\.[^.]*$/, "");
  const parts = [file, exportName === "default" ? "" : exportName].filter((p) => p !== "");
  let name = parts.join("-").replace(/[^A-Za-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  if (!/^[A-Za-z]/.test(name)) name = name === "" ? "knot" : `knot-${name}`;
  return name.slice(0, 55).replace(/-+$/, "");
}
