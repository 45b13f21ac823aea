/**
 * The imports a `func` makes that cannot work where it runs. Only the
 * function's own source text is shipped, so an `await import(...)` inside it
 * resolves against the shipped artifact with no import map: a relative path
 * (`./helpers.ts`) names a file beside the artifact, and a bare name that
 * only the project's `deno.json` maps (`"is-number"`) resolves to nothing.
 * Both would fail on every item, after the knot was made.
 *
 * @module
 */
import { CloudknotInputError } from "./errors.ts";

/** A string literal given to `import(...)`: `import("x")`, `import('x')`, ``import(`x`)``. */
const DYNAMIC_IMPORT = /\bimport\s*\(\s*(["'`])([^"'`$\\\n]+)\1\s*[,)]/g;

/** A specifier with a scheme (`npm:`, `jsr:`, `node:`, `https:`, `data:`, `file:`). */
const WITH_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/**
 * The specifiers of a function's text imported with `import(...)` that have
 * no scheme and are not absolute paths: relative paths and bare names.
 *
 * @example Usage
 * ```ts
 * import { unshippableImports } from "./func_imports.ts";
 *
 * const text = `async () => (await import("./a.ts")).f(await import("npm:b@1"), await import("c"))`;
 * console.log(unshippableImports(text)); // ["./a.ts", "c"]
 * ```
 *
 * @param text The function's source text.
 * @returns Each such specifier once, in order.
 */
export function unshippableImports(text: string): string[] {
  const found = [...text.matchAll(DYNAMIC_IMPORT)].map((m) => m[2]!.trim())
    .filter((s) => !WITH_SCHEME.test(s) && !s.startsWith("/"));
  return [...new Set(found)];
}

/**
 * Refuses a `func` that imports a relative path or a bare name, saying what
 * to import instead. Anything else passes (the option's type is checked
 * elsewhere).
 *
 * @example Usage
 * ```ts
 * import { validateFuncImports } from "./func_imports.ts";
 *
 * validateFuncImports(async (x: number) => (await import("npm:is-number@7")).default(x));
 * try {
 *   validateFuncImports(async () => await import("./helpers.ts"));
 * } catch (e) {
 *   console.log((e as Error).name); // "CloudknotInputError"
 * }
 * ```
 *
 * @param func The `func` option as given.
 * @throws {CloudknotInputError} Naming each such import.
 */
export function validateFuncImports(func: unknown): void {
  if (typeof func !== "function") return;
  const specifiers = unshippableImports(Function.prototype.toString.call(func));
  if (specifiers.length === 0) return;
  const relative = specifiers.filter((s) => s.startsWith("."));
  const bare = specifiers.filter((s) => !s.startsWith("."));
  const quote = (list: string[]) => list.map((s) => `"${s}"`).join(", ");
  const reasons = [
    ...(relative.length > 0
      ? [
        `${quote(relative)} ${
          relative.length > 1 ? "are relative paths" : "is a relative path"
        }, which would be resolved beside the shipped function, not beside your file`,
      ]
      : []),
    ...(bare.length > 0
      ? [
        `${quote(bare)} ${
          bare.length > 1 ? "are names" : "is a name"
        } that only your deno.json or package.json maps, and neither is shipped`,
      ]
      : []),
  ];
  throw new CloudknotInputError(
    `func imports ${quote(specifiers)}, but only the function's own source is shipped: ` +
      `${reasons.join("; ")}. Import packages inside it by their full specifier ` +
      `(await import("npm:…"), "jsr:…", "node:…" or a URL), or use module and exportName to ` +
      "ship a whole module, which is bundled with its files and deno.json's imports",
    { field: "func" },
  );
}
