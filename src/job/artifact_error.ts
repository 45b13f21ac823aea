/**
 * {@linkcode ArtifactError}: a function could not be packaged, apart from the
 * packaging itself so that a program can name it without loading the bundler.
 *
 * @module
 */
import { CloudknotError } from "../util/errors.ts";

/**
 * A module could not be bundled into an artifact.
 *
 * @example Usage
 * ```ts
 * import { ArtifactError } from "@cloudknot/cloudknot";
 *
 * const e = new ArtifactError("Cannot bundle ./job.ts: ...", { module: "./job.ts" });
 * console.log(e.module); // "./job.ts"
 * ```
 */
export class ArtifactError extends CloudknotError {
  /** The module that could not be captured. */
  readonly module: string;

  /**
   * Makes an artifact error.
   *
   * @param message What failed and what to do.
   * @param options `module` names the module; `cause` chains an error.
   */
  constructor(message: string, options: ErrorOptions & { module: string }) {
    super(message, options);
    this.module = options.module;
  }
}
