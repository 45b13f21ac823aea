/**
 * The AWS emulator for tests: `startEmulator` and the types tests use with it.
 *
 * @example Usage
 * ```ts ignore
 * import { startEmulator } from "./tests/emulator/mod.ts";
 *
 * const emu = await startEmulator();
 * await emu.close();
 * ```
 *
 * @module
 */
export * from "./emulator.ts";
export type { FaultKind, FaultSpec } from "./faults.ts";
export type { LoggedRequest, RequestFilter } from "./request_log.ts";
export {
  type JobRunner,
  type JobRunRequest,
  type JobRunResult,
  onStop,
  type StopKind,
  stopKind,
} from "./runner.ts";
export { ProcessRunner, type ProcessRunnerOptions } from "./runners/process_runner.ts";
export { DockerRunner, type DockerRunnerOptions, OOM_REASON } from "./runners/docker_runner.ts";
export type { ContainerFault, Job, JobStatus } from "./services/batch.ts";
export { LocalRegistry } from "./registry.ts";
export { abortableSleep, type InlineJob, InlineRunner } from "./runners/inline_runner.ts";
