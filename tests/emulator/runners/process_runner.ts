/**
 * A {@linkcode JobRunner} that runs each job attempt as a local process: the
 * image is mapped to a command prefix (e.g. `deno run -A entry.ts`) and the
 * job's command is appended, with the same environment a container gets.
 *
 * @module
 */
import {
  forEachLine,
  type JobRunner,
  type JobRunRequest,
  type JobRunResult,
  onStop,
} from "../runner.ts";

/** Options of {@linkcode ProcessRunner}. */
export interface ProcessRunnerOptions {
  /** Maps an image URI to the command prefix that stands for it. */
  entrypoint: (image: string) => string[];
  /** The most processes at once (default: the number of CPUs). */
  concurrency?: number;
  /** Host variables passed through (default PATH, HOME, DENO_DIR, TMPDIR, NO_COLOR). */
  inheritEnv?: string[];
  /** The working directory of the processes. */
  cwd?: string;
  /**
   * How long a process stopped as ECS stops a task gets between SIGTERM and
   * SIGKILL, ms (ECS's is 30 s: see `StopKind` in `runner.ts`); a lost host
   * kills at once.
   * @default {2000}
   */
  killGraceMs?: number;
}

const SIGNALS: Record<string, number> = {
  SIGKILL: 9,
  SIGTERM: 15,
  SIGINT: 2,
  SIGSEGV: 11,
  SIGABRT: 6,
};

/**
 * Runs job attempts as local processes.
 *
 * @example Usage
 * ```ts ignore
 * const runner = new ProcessRunner({ entrypoint: () => [Deno.execPath(), "run", "-A", "entry.ts"] });
 * ```
 */
export class ProcessRunner implements JobRunner {
  /** The most attempts at once. */
  readonly capacity: number;
  #o: ProcessRunnerOptions;
  #children = new Set<Deno.ChildProcess>();

  /**
   * Makes a process runner.
   *
   * @param options The image mapping and limits.
   */
  constructor(options: ProcessRunnerOptions) {
    this.#o = options;
    this.capacity = options.concurrency ?? navigator.hardwareConcurrency ?? 2;
  }

  /**
   * Checks that the image maps to a command.
   *
   * @param req The attempt.
   */
  prepare(req: JobRunRequest): Promise<void> {
    const prefix = this.#o.entrypoint(req.image);
    if (!prefix || prefix.length === 0) {
      return Promise.reject(new Error(`no entrypoint mapping for image ${req.image}`));
    }
    return Promise.resolve();
  }

  /**
   * Runs the attempt to its end.
   *
   * @param req The attempt.
   */
  async run(req: JobRunRequest): Promise<JobRunResult> {
    const [cmd, ...args] = [...this.#o.entrypoint(req.image), ...req.command];
    const env: Record<string, string> = {};
    for (const k of this.#o.inheritEnv ?? ["PATH", "HOME", "DENO_DIR", "TMPDIR", "NO_COLOR"]) {
      const v = Deno.env.get(k);
      if (v !== undefined) env[k] = v;
    }
    Object.assign(env, req.environment);
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(cmd!, {
        args,
        env,
        clearEnv: true,
        cwd: this.#o.cwd,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      return { reason: `CannotStartContainerError: ${e instanceof Error ? e.message : String(e)}` };
    }
    this.#children.add(child);
    const signal = (name: Deno.Signal) => () => {
      try {
        child.kill(name);
      } catch { /* gone */ }
    };
    const ended = onStop(
      req.signal,
      { term: signal("SIGTERM"), kill: signal("SIGKILL") },
      this.#o.killGraceMs ?? 2000,
    );
    const [status] = await Promise.all([
      child.status,
      forEachLine(child.stdout, req.log),
      forEachLine(child.stderr, req.log),
    ]);
    ended();
    this.#children.delete(child);
    const code = status.signal ? 128 + (SIGNALS[status.signal] ?? 0) : status.code;
    return { exitCode: code };
  }

  /** Kills every process still running. */
  async close(): Promise<void> {
    const all = [...this.#children];
    for (const c of all) {
      try {
        c.kill("SIGKILL");
      } catch { /* gone */ }
    }
    await Promise.allSettled(all.map((c) => c.status));
  }
}
