/**
 * How a function is given, as `Knot.create()` and `DockerImage.create()` take
 * it, checked: apart from the image's other options, so that `Knot.create()`'s
 * checks do not load the Docker driver.
 *
 * @module
 */
import { CloudknotInputError } from "../util/errors.ts";
import { validateFuncImports } from "../util/func_imports.ts";
import { describeValue, validateOptionType } from "../util/validate.ts";

/**
 * Checks how a function is given, as `DockerImage.create()` and
 * `Knot.create()` take it: `func` (a function, whose own imports name full
 * specifiers) or `module` (a non-empty path or URL string, or a URL) with an
 * optional `exportName`, not both.
 *
 * @example Usage
 * ```ts
 * import { validateFunctionSource } from "@cloudknot/cloudknot/image";
 *
 * validateFunctionSource({ module: "./jobs.ts", exportName: "square" });
 * ```
 *
 * @param o The options that give the function.
 */
export function validateFunctionSource(
  o: { func?: unknown; module?: unknown; exportName?: unknown; files?: unknown },
): void {
  if (o.files !== undefined && o.module === undefined) {
    throw new CloudknotInputError(
      o.func !== undefined
        ? "files needs module: a func has no folder for them to be beside, and runs from its " +
          "own source. Put the function in a module and pass module and exportName with files, " +
          "or read the data another way (import it, or pass it in the inputs)"
        : "files needs module: pass the module the files are beside, with exportName",
      { field: "files" },
    );
  }
  if (o.files !== undefined) validateFilesList(o.files);
  if (o.func !== undefined && o.module !== undefined) {
    throw new CloudknotInputError(
      "Pass either func or module (with exportName), not both: func ships one function's " +
        "source, module ships a module's whole graph",
      { field: "func" },
    );
  }
  if (o.exportName !== undefined && o.module === undefined) {
    throw new CloudknotInputError("exportName needs module: pass the module that exports it", {
      field: "exportName",
    });
  }
  validateOptionType(o, "func", "function");
  validateFuncImports(o.func);
  validateOptionType(o, "exportName", "string");
  const module = o.module;
  if (module === undefined || module instanceof URL) return;
  if (typeof module !== "string" || module.trim() === "") {
    throw new CloudknotInputError(
      `module must be a path or URL of a module, not ${describeValue(module)}`,
      { field: "module" },
    );
  }
}

/**
 * Checks that the `files` option is a list of paths (what they name is
 * checked by `collectShippedFiles`).
 *
 * @example Usage
 * ```ts
 * import { validateFilesList } from "@cloudknot/cloudknot/job";
 *
 * validateFilesList(["./model.json"]); // passes
 * ```
 *
 * @param files The option as given.
 * @throws {CloudknotInputError} When it is not a list of non-empty strings.
 */
export function validateFilesList(files: unknown): asserts files is string[] {
  if (!Array.isArray(files) || files.some((p) => typeof p !== "string" || p.trim() === "")) {
    throw new CloudknotInputError(
      `files must be a list of paths relative to the module's folder, such as ["./model.json", ` +
        `"./data/"], not ${Array.isArray(files) ? JSON.stringify(files) : typeof files}`,
      { field: "files" },
    );
  }
}
