/**
 * The checks of {@linkcode DockerImage.create}'s options, made before any
 * file is written or any command runs: which function, the name, the base
 * image reference, the directories, the platform and the injectable parts.
 *
 * @module
 */
import { Docker } from "../docker/docker.ts";
import { StateFile } from "../state/state_file.ts";
import { validateFunctionSource } from "../job/function_source.ts";
import { CloudknotInputError } from "../util/errors.ts";
import { describeValue, validateOptionKeys, validateOptionType } from "../util/validate.ts";
import type { DockerImageOptions } from "./docker_image.ts";
import { validateImageName } from "./names.ts";

/**
 * A Docker image reference: `[registry[:port]/]name[:tag][@digest]`, after
 * the grammar of `distribution/reference` (lowercase path components joined
 * by `.`, `_`, `__` or dashes).
 */
export const IMAGE_REFERENCE_PATTERN: RegExp = new RegExp(
  "^(?:(?:[a-zA-Z0-9-]+\\.)*[a-zA-Z0-9-]+(?::[0-9]+)?/)?" +
    "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*" +
    "(?::[\\w][\\w.-]{0,127})?" +
    "(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$",
);

/**
 * The image platforms a job can run on: Deno, which runs it, is built for
 * Linux on x86_64 and aarch64 alone, which is also what AWS Batch runs
 * (`linux/arm64/v8` is Docker's longer name for `linux/arm64`).
 */
export const PLATFORM_PATTERN: RegExp = /^linux\/(?:amd64|arm64(?:\/v8)?)$/;

const DOCKER_IMAGE_OPTION_KEYS: Record<keyof DockerImageOptions, true> = {
  name: true,
  func: true,
  module: true,
  exportName: true,
  files: true,
  baseImage: true,
  dir: true,
  overwrite: true,
  platform: true,
  docker: true,
  state: true,
  session: true,
  cloudknotDir: true,
  warn: true,
};

/**
 * Checks a base image reference.
 *
 * @example Usage
 * ```ts
 * import { validateBaseImage } from "@cloudknot/cloudknot/image";
 *
 * console.log(validateBaseImage("denoland/deno:2.9.6")); // "denoland/deno:2.9.6"
 * ```
 *
 * @param baseImage The reference.
 * @returns The reference, when it is one.
 */
export function validateBaseImage(baseImage: unknown): string {
  if (typeof baseImage !== "string" || !IMAGE_REFERENCE_PATTERN.test(baseImage)) {
    throw new CloudknotInputError(
      `Invalid baseImage ${
        typeof baseImage === "string" ? JSON.stringify(baseImage) : describeValue(baseImage)
      }: pass an image reference such as denoland/deno:2.9.6 ([registry/]name[:tag][@digest], ` +
        `lowercase name)`,
      { field: "baseImage" },
    );
  }
  return baseImage;
}

/**
 * Checks every option of {@linkcode DockerImage.create} that needs no file
 * or command: the function's form, the name, the base image, the
 * directories, the platform and the injectable parts.
 *
 * @example Usage
 * ```ts
 * import { validateDockerImageOptions } from "@cloudknot/cloudknot/image";
 *
 * validateDockerImageOptions({ func: (x: number) => x, name: "square", platform: "linux/arm64" });
 * ```
 *
 * @param options The options as given.
 */
export function validateDockerImageOptions(options: DockerImageOptions): void {
  const o = validateOptionKeys(options, DOCKER_IMAGE_OPTION_KEYS, "DockerImage.create()");
  validateFunctionSource(o);
  if (o.name !== undefined) validateImageName(o.name);
  for (const field of ["dir", "cloudknotDir"] as const) validateOptionType(o, field, "string");
  if (o.baseImage !== undefined) validateBaseImage(o.baseImage);
  if (
    o.platform !== undefined &&
    (typeof o.platform !== "string" || !PLATFORM_PATTERN.test(o.platform))
  ) {
    throw new CloudknotInputError(
      `Invalid platform ${
        typeof o.platform === "string" ? JSON.stringify(o.platform) : describeValue(o.platform)
      }: pass linux/amd64 or linux/arm64, the platforms Deno (which runs the job) is built for`,
      { field: "platform" },
    );
  }
  validateOptionType(o, "overwrite", "boolean");
  validateOptionType(o, "warn", "function");
  validateOptionType(o, "docker", Docker, "a Docker driver");
  validateOptionType(o, "state", StateFile, "a StateFile");
  if (o.session !== undefined && (o.session === null || typeof o.session !== "object")) {
    throw new CloudknotInputError(
      `session must be an AwsSession or session options, not ${describeValue(o.session)}`,
      { field: "session" },
    );
  }
}
