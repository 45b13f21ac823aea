/**
 * Typed errors of `DockerImage` and `DockerRepo`.
 *
 * @module
 */
import { CloudknotError, CloudknotInputError } from "../util/errors.ts";

/** Why a base image cannot be used. */
export type BaseImageProblem = "no-deno" | "deno-failed" | "unavailable";

/** Options of {@linkcode BaseImageError}. */
export interface BaseImageErrorOptions extends ErrorOptions {
  /** The base image. */
  baseImage: string;
  /** What is wrong with it. */
  problem: BaseImageProblem;
  /** The build step that failed. */
  step?: string;
  /** The output of that step. */
  stepOutput?: string[];
}

/**
 * The base image cannot carry a cloudknot job: it has no `deno` on `PATH`,
 * its `deno` does not run, or the image cannot be found or pulled. The
 * build checks this first, with `RUN ["deno", "--version"]`; the `cause` is
 * the driver's `DockerBuildError`.
 *
 * @example Usage
 * ```ts
 * import { BaseImageError } from "@cloudknot/cloudknot";
 *
 * const e = new BaseImageError("The base image busybox has no deno on PATH", {
 *   baseImage: "busybox",
 *   problem: "no-deno",
 * });
 * console.log(e.problem); // "no-deno"
 * ```
 */
export class BaseImageError extends CloudknotError {
  /** The base image. */
  readonly baseImage: string;
  /** What is wrong with it. */
  readonly problem: BaseImageProblem;
  /** The build step that failed. */
  readonly step: string | undefined;
  /** The output of that step. */
  readonly stepOutput: string[];

  /**
   * Makes the error.
   *
   * @param message What is wrong and what to use instead.
   * @param options The image, the problem, the failing step and its output.
   */
  constructor(message: string, options: BaseImageErrorOptions) {
    super(message, options);
    this.baseImage = options.baseImage;
    this.problem = options.problem;
    this.step = options.step;
    this.stepOutput = options.stepOutput ?? [];
  }
}

/**
 * The build directory already holds files, written by someone else, with
 * the names cloudknot would write (`Dockerfile`, `.dockerignore`,
 * `runtime.js`, `worker.js`, `function.js`). Pass `overwrite: true` to replace them, or
 * choose another `dir`.
 *
 * @example Usage
 * ```ts
 * import { BuildContextConflictError, CloudknotInputError } from "@cloudknot/cloudknot";
 *
 * const e = new BuildContextConflictError("/work/app", ["Dockerfile"]);
 * console.log(e instanceof CloudknotInputError, e.files); // true [ "Dockerfile" ]
 * ```
 */
export class BuildContextConflictError extends CloudknotInputError {
  /** The build directory. */
  readonly dir: string;
  /** The files that would be overwritten. */
  readonly files: string[];

  /**
   * Makes the error.
   *
   * @param dir The build directory.
   * @param files The files cloudknot did not write and would overwrite.
   */
  constructor(dir: string, files: string[]) {
    super(
      `The build directory ${dir} already holds ${files.join(", ")}, which cloudknot did not ` +
        `write: pass overwrite: true to replace ${
          files.length === 1 ? "it" : "them"
        }, or choose another dir`,
      { field: "dir" },
    );
    this.dir = dir;
    this.files = files;
  }
}

/**
 * The repository is the default one, which every knot shares; clobbering it
 * would delete every knot's image. Remove one image's tag instead.
 *
 * @example Usage
 * ```ts
 * import { DefaultRepositoryError } from "@cloudknot/cloudknot";
 *
 * const e = new DefaultRepositoryError("cloudknot");
 * console.log(e.repository); // "cloudknot"
 * ```
 */
export class DefaultRepositoryError extends CloudknotError {
  /** The repository. */
  readonly repository: string;

  /**
   * Makes the error.
   *
   * @param repository The default repository's name.
   * @param instead What to do instead, in the caller's words.
   *   @default {"Remove only your image's tag with repo.removeImage(tag)"}
   */
  constructor(
    repository: string,
    instead = "Remove only your image's tag with repo.removeImage(tag)",
  ) {
    super(
      `Refusing to delete ${repository}: it is the default ECR repository, which every knot ` +
        `shares. ${instead}, or change the default ` +
        `([aws] ecr-repo in the cloudknot config file, or CLOUDKNOT_ECR_REPO) first`,
    );
    this.repository = repository;
  }
}
