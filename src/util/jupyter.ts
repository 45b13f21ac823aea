/**
 * Whether this process is a `deno jupyter` kernel, and showing a line there
 * that is updated in place.
 *
 * @module
 */

/**
 * Whether this process is a `deno jupyter` kernel. `Deno.jupyter` exists only
 * in a kernel; elsewhere reading it throws.
 *
 * @example Usage
 * ```ts
 * import { inJupyterKernel } from "./jupyter.ts";
 *
 * console.log(inJupyterKernel()); // false, outside a notebook
 * ```
 *
 * @returns `true` in a kernel.
 */
export function inJupyterKernel(): boolean {
  try {
    return (Deno as { jupyter?: unknown }).jupyter !== undefined;
  } catch {
    return false;
  }
}

/**
 * Shows a line of text in the notebook's cell as one display, `update`
 * replacing the display made before under the same `id` wherever it is (its
 * cell, not the cell that runs now). Only call it in a kernel
 * ({@linkcode inJupyterKernel}); a display that fails is dropped.
 *
 * @example Usage
 * ```ts ignore
 * showInNotebook("k: 0/4 done", "progress-1", false);
 * showInNotebook("k: 4/4 done", "progress-1", true);
 * ```
 *
 * @param line The text.
 * @param id The display's id.
 * @param update Replace the display with this id rather than make one.
 */
export function showInNotebook(line: string, id: string, update: boolean): void {
  Deno.jupyter.display({ "text/plain": line }, { raw: true, display_id: id, update })
    .catch(() => {});
}
