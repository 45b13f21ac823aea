/**
 * Images: `DockerImage` (a function packaged into a Docker image), `DockerRepo`
 * (an Amazon ECR repository), their options, the name rules of Docker and ECR,
 * and the build context.
 *
 * @example Usage
 * ```ts ignore
 * import { DockerImage } from "@cloudknot/cloudknot/image";
 *
 * const image = await DockerImage.create({ name: "squares", func: (x: number) => x * x });
 * await image.build({ tags: ["v1"] });
 * ```
 *
 * @module
 */
export * from "./docker_image.ts";
export * from "./docker_image_options.ts";
export { validateFunctionSource } from "../job/function_source.ts";
export * from "./docker_repo.ts";
export * from "./names.ts";
export * from "./errors.ts";
export * from "./dependencies.ts";
export {
  defaultBaseImage,
  dockerfileFor,
  GENERATED_FILES,
  warmCodeCacheCommand,
} from "./build_context.ts";
