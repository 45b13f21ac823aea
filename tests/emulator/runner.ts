/**
 * The interface through which the emulated Batch runs a job attempt for real.
 *
 * @module
 */

/** One job attempt to run. */
export interface JobRunRequest {
  /** The job id (`<parent>:<index>` for array children). */
  jobId: string;
  /** The job name. */
  jobName: string;
  /** The attempt number, from 1. */
  attempt: number;
  /** The array index of a child. */
  arrayIndex?: number;
  /** The array size of a child's parent. */
  arraySize?: number;
  /** The image URI (e.g. `127.0.0.1:5000/repo:tag`). */
  image: string;
  /** The command, after `Ref::` parameter substitution. */
  command: string[];
  /**
   * The complete environment of the container: the job's variables, the
   * `AWS_BATCH_*` variables, the endpoint variables and, when the job has a
   * role, `AWS_CONTAINER_CREDENTIALS_FULL_URI` + `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
   */
  environment: Record<string, string>;
  /** vCPUs from the resource requirements. */
  vcpus: number;
  /** Memory in MiB from the resource requirements. */
  memoryMiB: number;
  /** The attempt timeout in seconds, if any (the emulator enforces it via `signal`). */
  timeoutSec?: number;
  /** The compute environment's name. */
  computeEnvironment: string;
  /** The job queue's name. */
  jobQueue: string;
  /**
   * The CPU architecture of the host it is placed on: the compute
   * environment's instance types', or on Fargate the job definition's
   * `runtimePlatform.cpuArchitecture`.
   */
  architecture: "amd64" | "arm64";
  /**
   * Aborted when the attempt must stop; its `reason` ({@linkcode stopKind})
   * says how: `"stop"` as ECS stops a task (SIGTERM, then SIGKILL after the
   * container stop timeout), `"kill"` as a lost host does (SIGKILL at once).
   */
  signal: AbortSignal;
  /**
   * Appends one line of the container's output (stdout and stderr) to the
   * attempt's log stream.
   */
  log: (line: string) => void;
}

/**
 * How an attempt is stopped, as the `reason` of its {@linkcode JobRunRequest.signal}:
 *
 * - `"stop"`: TerminateJob of a STARTING or RUNNING job, or its attempt timeout. Batch
 *   stops the task through ECS, whose StopTask is "the equivalent of `docker stop`": SIGTERM,
 *   then SIGKILL once the container stop timeout has passed, "30 seconds" unless the agent's
 *   `ECS_CONTAINER_STOP_TIMEOUT` says otherwise
 *   (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopTask.html;
 *   `stopTimeout` in
 *   https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html;
 *   Batch's container properties have no stop timeout of their own).
 * - `"kill"`: the host is gone (a Spot reclaim) or the emulator is closing: SIGKILL at once.
 *   EC2's two-minute Spot interruption notice goes to the instance
 *   (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html),
 *   not to the job's container, and Batch does not turn it into a StopTask, so the worst
 *   case, the container killed with its host, is what the emulator models.
 */
export type StopKind = "stop" | "kill";

/**
 * How an aborted attempt is to be stopped: `"stop"` when its signal was
 * aborted with that reason, otherwise `"kill"`.
 *
 * @example Usage
 * ```ts ignore
 * const controller = new AbortController();
 * controller.abort("stop" satisfies StopKind);
 * stopKind(controller.signal); // "stop"
 * ```
 *
 * @param signal The attempt's signal.
 * @returns How to stop it.
 */
export function stopKind(signal: AbortSignal): StopKind {
  return signal.reason === "stop" ? "stop" : "kill";
}

/**
 * Stops an attempt when its signal aborts, as {@linkcode StopKind} says:
 * `term`, then `kill` after `graceMs` unless the attempt ended first; or
 * `kill` at once. Call the function it returns once the attempt has ended.
 *
 * @example Usage
 * ```ts ignore
 * const ended = onStop(req.signal, { term: () => child.kill("SIGTERM"), kill: () => child.kill("SIGKILL") }, 30_000);
 * await child.status;
 * ended();
 * ```
 *
 * @param signal The attempt's signal.
 * @param stop Sends SIGTERM (`term`) and SIGKILL (`kill`) to the attempt.
 * @param graceMs Milliseconds from SIGTERM to SIGKILL.
 * @returns Stops listening and cancels a SIGKILL not yet sent.
 */
export function onStop(
  signal: AbortSignal,
  stop: { term: () => void; kill: () => void },
  graceMs: number,
): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const abort = () => {
    if (stopKind(signal) === "kill") return stop.kill();
    stop.term();
    timer = setTimeout(stop.kill, graceMs);
  };
  if (signal.aborted) abort();
  else signal.addEventListener("abort", abort, { once: true });
  return () => {
    signal.removeEventListener("abort", abort);
    clearTimeout(timer);
  };
}

/** How an attempt ended. */
export interface JobRunResult {
  /** The exit code; absent when the container never ran or the host was lost. */
  exitCode?: number;
  /** The container's reason (e.g. `OutOfMemoryError: Container killed due to memory usage`). */
  reason?: string;
  /** An attempt-level status reason overriding the default. */
  statusReason?: string;
}

/**
 * Runs job attempts. `prepare` (optional) runs while the job is STARTING
 * (e.g. pulling the image); a throw there fails the attempt with a
 * `CannotPullContainerError`-style reason. `run` runs while it is RUNNING.
 */
export interface JobRunner {
  /**
   * Prepares an attempt (e.g. pulls the image).
   *
   * @param req The attempt.
   */
  prepare?(req: JobRunRequest): Promise<void>;
  /**
   * Runs an attempt to its end.
   *
   * @param req The attempt.
   */
  run(req: JobRunRequest): Promise<JobRunResult>;
  /** The most attempts it runs at once; unlimited when absent. */
  readonly capacity?: number;
  /** Releases what the runner holds (containers, processes). */
  close?(): Promise<void>;
}

/**
 * Splits a byte stream into lines and calls `onLine` for each (the trailing
 * partial line included).
 *
 * @example Usage
 * ```ts ignore
 * await forEachLine(child.stdout, (l) => console.log(l));
 * ```
 */
export async function forEachLine(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        onLine(buf.slice(0, i).replace(/\r$/, ""));
        buf = buf.slice(i + 1);
      }
    }
    if (buf.length > 0) onLine(buf);
  } finally {
    reader.releaseLock();
  }
}
