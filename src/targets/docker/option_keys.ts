/**
 * The names of the docker target's own options, apart from their checks
 * (`knot_options.ts`): `Knot.create()` refuses an unknown option, or one of
 * another target, with them before it loads the docker target's checks and
 * the Docker driver they use.
 *
 * @module
 */

/** The options only the docker target takes (with the shared ones of `knot_options.ts`). */
export const DOCKER_KNOT_OPTIONS: readonly string[] = Object.freeze([
  "concurrency",
  "dir",
  "vcpus",
  "network",
  "baseImage",
  "noImageCache",
  "docker",
  "cloudknotDir",
  "warn",
]);
