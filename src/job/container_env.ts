/**
 * The variables a job's container needs from its image, which a map's `env`
 * may not set on the targets that run items in containers (docker, AWS).
 *
 * @module
 */
import { CloudknotInputError } from "../util/errors.ts";

/**
 * The image's own variables: `PATH`, where the container finds `deno`, and
 * `DENO_DIR`, where the image keeps the packages and compiled code the job
 * runs (`image/build_context.ts`). A map's `env` goes into the container's
 * environment, so either would make every attempt fail to start.
 */
const IMAGE_VARIABLES = ["PATH", "DENO_DIR"];

/**
 * Refuses a map's `env` that sets a variable the job's container needs from
 * its image, before anything of the run is written or submitted.
 *
 * @example Usage
 * ```ts
 * import { checkContainerEnv } from "./container_env.ts";
 *
 * checkContainerEnv({ MODE: "fast" }); // fine
 * ```
 *
 * @param env The map's environment variables.
 * @throws {CloudknotInputError} For `PATH` or `DENO_DIR` (field `env`).
 */
export function checkContainerEnv(env: Record<string, string>): void {
  const taken = IMAGE_VARIABLES.filter((name) => Object.hasOwn(env, name));
  if (taken.length === 0) return;
  throw new CloudknotInputError(
    `env must not set ${taken.join(", ")}: the job's container finds deno on its image's PATH ` +
      `and the code it runs in its image's DENO_DIR, so every attempt would fail to start; give ` +
      `the function its own settings under other names`,
    { field: "env" },
  );
}
