/**
 * cloudknot for Deno: run an existing TypeScript function over a list of
 * inputs on AWS Batch, or on this machine, with one `map()` call.
 *
 * @example Usage
 * ```ts
 * import { Knot } from "@cloudknot/cloudknot";
 *
 * const dir = await Deno.makeTempDir();
 * const knot = await Knot.create({ name: "squares", func: (x: number) => x * x, dir });
 * const run = await knot.map([1, 2, 3], { progress: false });
 * console.log(await run.results()); // [ 1, 4, 9 ]
 * await knot.clobber();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * The rest of the package is in subpaths named for their folders:
 * `/aws` (the signed AWS client layer), `/batch` (AWS Batch building blocks),
 * `/codec` (the value format), `/state` (the config file), `/docker` (the
 * docker driver), `/image` (images and repositories), `/job` (the job
 * contract and runtime), `/resources` (Pars, bucket, settings, clean-up),
 * `/run` (the run handle's views, timeline, report page and retry), `/cost`
 * (the price table, estimates and cost reports), `/store` (object stores)
 * and `/cli`.
 *
 * @module
 */
export {
  type Arg,
  type DryRun,
  type JobFunction,
  Knot,
  type KnotOptions,
  type MapOptions,
  type MapPlanOptions,
  type Result,
} from "./src/knot.ts";
export { Plan, type PlanAction, type PlanFields, type PlanStep } from "./src/plan/plan.ts";
export { Estimate } from "./src/cost/estimate.ts";
export { CostReport } from "./src/cost/report.ts";
export { Timeline } from "./src/run/timeline.ts";
export type { RetryOptions } from "./src/run/retry.ts";
export {
  type ItemSettled,
  type ItemStatus,
  type ItemView,
  MapRun,
  type RunCounts,
  type RunInfo,
} from "./src/run/map_run.ts";
export type { ProgressOptions } from "./src/run/progress.ts";
export { ItemError, MapError } from "./src/job/item_error.ts";
export { BatchJob, JobNotFoundError } from "./src/targets/aws/batch/batch_job.ts";
export { JobsView, viewJobs } from "./src/targets/aws/batch/jobs_view.ts";
export type { ComputeOptions } from "./src/targets/aws/batch/compute_options.ts";
export { BatchResourceError } from "./src/targets/aws/batch/errors.ts";
export type {
  AwsClobberOptions,
  AwsKnotOptions,
  AwsKnotResources,
} from "./src/targets/aws/aws_knot.ts";
export { SubmitError } from "./src/targets/aws/submit.ts";
export { Pars } from "./src/resources/pars.ts";
export type { ParsOptions } from "./src/resources/pars_options.ts";
export { DockerImage, type DockerImageOptions } from "./src/image/docker_image.ts";
export { DockerRepo, type DockerRepoOptions } from "./src/image/docker_repo.ts";
export {
  BaseImageError,
  BuildContextConflictError,
  DefaultRepositoryError,
} from "./src/image/errors.ts";
export {
  getEcrRepo,
  getProfile,
  getRegion,
  getS3Params,
  listProfiles,
  setEcrRepo,
  setProfile,
  setRegion,
  setS3Params,
} from "./src/resources/settings.ts";
export {
  BucketTakenError,
  CannotDeleteResourceError,
  NoDefaultVpcError,
  ProfileMismatchError,
  RegionMismatchError,
  ResourceClobberedError,
  ResourceConflictError,
  ResourceDoesNotExistError,
  UnknownPolicyError,
} from "./src/resources/errors.ts";
export { ArtifactError } from "./src/job/artifact_error.ts";
export type { Permissions } from "./src/job/permissions.ts";
export { UnsafeDirectoryError } from "./src/store/private_dir.ts";
export { RunDataGoneError, RunStoreError } from "./src/targets/local/errors.ts";
export {
  BatchJobFailedError,
  CancelledError,
  CannotCreateResourceError,
  CloudknotConfigurationError,
  CloudknotError,
  CloudknotInputError,
  CloudknotTimeoutError,
  JobFailedError,
  ResourceExistsError,
} from "./src/util/errors.ts";
export {
  clobberOriginal,
  type ClobberOriginalOptions,
  OriginalResourceError,
  StackDeletionError,
} from "./src/resources/original.ts";
