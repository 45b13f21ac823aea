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
 * @module
 */
export * from "./src/util/errors.ts";
export * from "./src/util/validate.ts";
export * from "./src/knot.ts";
export * from "./src/run/map_run.ts";
export * from "./src/run/progress.ts";
export * from "./src/run/run_view.ts";
export * from "./src/targets/aws/batch/jobs_view.ts";
export * from "./src/targets/aws/batch/batch_job.ts";
export { type JobCommand, jobCommand, parseJobCommand } from "./src/targets/aws/batch/command.ts";
export * from "./src/job/codec.ts";
export * from "./src/job/codec/error.ts";
export * from "./src/job/error_record.ts";
export * from "./src/job/item_error.ts";
export * from "./src/job/record.ts";
export * from "./src/job/payload.ts";
export * from "./src/job/runtime.ts";
export * from "./src/job/permissions.ts";
export * from "./src/job/inputs.ts";
export * from "./src/job/main.ts";
export * from "./src/job/function_artifact.ts";
export * from "./src/job/runtime_bundle.ts";
export * from "./src/store/store.ts";
export * from "./src/store/local.ts";
export * from "./src/store/private_dir.ts";
export { RunStoreError } from "./src/targets/local/run_dir.ts";
export { RunDataGoneError } from "./src/targets/local/local_target.ts";
export * from "./src/store/open.ts";
export * from "./src/store/s3.ts";
export { SubmitError } from "./src/targets/aws/submit.ts";
export * from "./src/docker/mod.ts";
export * from "./src/aws/mod.ts";
export {
  type IniDocument,
  type IniMode,
  IniSyntaxError,
  parseIni,
  type ParseIniOptions,
  stringifyIni,
} from "./src/util/ini.ts";
export * from "./src/state/state_file.ts";
export * from "./src/targets/aws/batch/compute_options.ts";
export * from "./src/targets/aws/batch/environment.ts";
export * from "./src/resources/settings.ts";
export * from "./src/resources/errors.ts";
export * from "./src/resources/bucket.ts";
export * from "./src/resources/pars.ts";
export * from "./src/resources/prune.ts";
export * from "./src/image/names.ts";
export * from "./src/image/errors.ts";
export * from "./src/image/docker_repo.ts";
export * from "./src/image/docker_image.ts";
export { defaultBaseImage, dockerfileFor, GENERATED_FILES } from "./src/image/build_context.ts";
export type {
  AwsClobberOptions,
  AwsKnotOptions,
  AwsKnotResources,
} from "./src/targets/aws/aws_knot.ts";
export * from "./src/resources/gc.ts";
