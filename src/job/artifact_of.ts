/**
 * The one way every target and plan packages the function a knot or an
 * image is given: `func` by its source text, or `module` and `exportName`
 * bundled with its `files` (`function_artifact.ts`).
 *
 * @module
 */
import { defined } from "../util/defined.ts";
import {
  artifactFromFunc,
  artifactFromModule,
  type FunctionArtifact,
} from "./function_artifact.ts";

/** The options that give a function: `func`, or `module` with `exportName` and `files`. */
export interface FunctionSource {
  /** A self-contained function, shipped by its source text. */
  // deno-lint-ignore no-explicit-any
  func?: (...args: any[]) => unknown;
  /** A module whose export is the function, bundled with its whole graph. */
  module?: string | URL;
  /** The export of `module`. @default {"default"} */
  exportName?: string;
  /** Data files and folders shipped beside `module`'s function, relative to its folder. */
  files?: readonly string[];
}

/** Options of {@linkcode artifactOf}. */
export interface ArtifactOfOptions {
  /**
   * Told when a module's code names its own location to reach files beside
   * it, which the artifact does not hold. @default {console.warn}
   */
  warn?: (message: string) => void;
  /** The deno binary that checks a `func` and bundles a `module`. @default {Deno.execPath()} */
  deno?: string;
}

/**
 * Packages the function given: `func` (which wins) by its source text, or
 * `module` and `exportName` with its `files`; `undefined` when neither is
 * given.
 *
 * @example Usage
 * ```ts
 * import { artifactOf } from "@cloudknot/cloudknot/job";
 *
 * const artifact = await artifactOf({ func: function double(x: number) { return x * 2; } });
 * console.log(artifact?.kind, artifact?.name); // "func" "double"
 * ```
 *
 * @param source `func`, or `module` with `exportName` and `files`.
 * @param options Where a module's warning goes, and the deno binary.
 * @returns The artifact, or `undefined` when no function is given.
 * @throws {CloudknotInputError} When the function cannot be shipped, or a
 *   path of `files` is outside the module's folder or missing.
 * @throws {ArtifactError} When the module cannot be bundled.
 */
export async function artifactOf(
  source: FunctionSource,
  options: ArtifactOfOptions = {},
): Promise<FunctionArtifact | undefined> {
  if (source.func !== undefined) {
    return await artifactFromFunc(source.func, defined({ deno: options.deno }));
  }
  if (source.module === undefined) return undefined;
  return await artifactFromModule(
    source.module,
    source.exportName ?? "default",
    defined({ warn: options.warn, files: source.files, deno: options.deno }),
  );
}
