/**
 * Typed errors of the docker driver.
 *
 * @module
 */
import { CloudknotError } from "../util/errors.ts";

/**
 * The base class of every error the docker driver throws.
 *
 * @example Usage
 * ```ts
 * import { DockerError, DockerNotInstalledError } from "@cloudknot/cloudknot/docker";
 *
 * const e = new DockerNotInstalledError("docker");
 * console.log(e instanceof DockerError); // true
 * ```
 */
export class DockerError extends CloudknotError {}

/**
 * The `docker` binary could not be found or started.
 *
 * @example Usage
 * ```ts
 * import { Docker, DockerNotInstalledError } from "@cloudknot/cloudknot/docker";
 *
 * const docker = new Docker({ binary: "/nonexistent/docker" });
 * try {
 *   await docker.version();
 * } catch (e) {
 *   if (e instanceof DockerNotInstalledError) console.error(e.message);
 * }
 * ```
 */
export class DockerNotInstalledError extends DockerError {
  /** The binary that was looked for. */
  readonly binary: string;

  /**
   * Makes the error for a missing binary.
   *
   * @param binary The path or name of the `docker` binary that was not found.
   * @param options The standard error options, such as `cause`.
   */
  constructor(binary: string, options?: ErrorOptions) {
    super(
      `Docker is not installed: could not run "${binary}". Install Docker ` +
        "(https://docs.docker.com/get-docker/, or `apt-get install docker.io` on Debian and Ubuntu), " +
        "or name a docker client that is not on PATH with the docker option of Knot.create() or " +
        'DockerImage.create(): `docker: new Docker({ binary: "/path/to/docker" })`',
      options,
    );
    this.binary = binary;
  }
}

/** Why the daemon could not be reached. */
export type DockerDaemonProblem = "not-running" | "permission-denied";

/**
 * The `docker` client runs but cannot reach the Docker daemon: it is not
 * running, or this user may not open its socket.
 *
 * @example Usage
 * ```ts
 * import { Docker, DockerDaemonNotRunningError } from "@cloudknot/cloudknot/docker";
 *
 * const docker = new Docker({ env: { DOCKER_HOST: "unix:///nonexistent.sock" } });
 * try {
 *   await docker.ping();
 * } catch (e) {
 *   if (e instanceof DockerDaemonNotRunningError) console.error(e.problem, e.message);
 * }
 * ```
 */
export class DockerDaemonNotRunningError extends DockerError {
  /** Whether the daemon is down or its socket is not accessible. */
  readonly problem: DockerDaemonProblem;
  /** The line the docker client printed. */
  readonly detail: string;

  /**
   * Makes the error from the client's message.
   *
   * @param detail The line of stderr that says the daemon cannot be reached.
   * @param options The standard error options, such as `cause`.
   */
  constructor(detail: string, options?: ErrorOptions) {
    const denied = /permission denied/i.test(detail);
    super(
      denied
        ? `Permission denied on the Docker daemon socket (${detail.trim()}). Add your user to the ` +
          "docker group (`sudo usermod -aG docker $USER`, then log in again), make " +
          "/var/run/docker.sock accessible to this user, or run as root"
        : `The Docker daemon is not running (${detail.trim()}). Start Docker Desktop, or ` +
          "`sudo systemctl start docker` (or run `dockerd`), and check that DOCKER_HOST points at it",
      options,
    );
    this.problem = denied ? "permission-denied" : "not-running";
    this.detail = detail;
  }
}

/** Options for {@linkcode DockerCommandError}. */
export interface DockerCommandErrorOptions extends ErrorOptions {
  /** The command that failed, starting with the binary; secrets are left out. */
  command: string[];
  /** The exit code of the client. */
  code: number;
  /** The last lines of output, stdout and stderr in the order they came. */
  tail: string[];
  /** The line that best says what went wrong, usually the last error on stderr. */
  summary?: string;
}

/**
 * A `docker` command exited with an error.
 *
 * @example Usage
 * ```ts
 * import { DockerCommandError } from "@cloudknot/cloudknot/docker";
 *
 * const e = new DockerCommandError({
 *   command: ["docker", "push", "example.com/x:1"],
 *   code: 1,
 *   tail: ["Error response from daemon: manifest unknown"],
 * });
 * console.log(e.code, e.tail.at(-1));
 * ```
 */
export class DockerCommandError extends DockerError {
  /** The command that failed, starting with the binary; secrets are left out. */
  readonly command: string[];
  /** The exit code of the client. */
  readonly code: number;
  /** The last lines of output (stdout and stderr, in the order they came). */
  readonly tail: string[];

  /**
   * Makes the error for a failed command.
   *
   * @param options The command, its exit code and the tail of its output.
   * @param message A message to use instead of the generated one.
   */
  constructor(options: DockerCommandErrorOptions, message?: string) {
    const summary = options.summary ?? options.tail.at(-1) ?? "";
    super(
      message ??
        `The command \`${options.command.join(" ")}\` failed with exit code ${options.code}` +
          (summary ? `: ${clean(summary)}` : "") +
          ". Read the output above or the error's `tail`, fix the cause and run it again",
      options,
    );
    this.command = options.command;
    this.code = options.code;
    this.tail = options.tail;
  }
}

/**
 * A registry refused the credentials: a wrong password, an expired token, or
 * a push or pull without logging in first.
 *
 * @example Usage
 * ```ts
 * import { DockerAuthError, DockerCommandError } from "@cloudknot/cloudknot/docker";
 *
 * const e = new DockerAuthError({
 *   command: ["docker", "login", "127.0.0.1:5000", "--username", "me", "--password-stdin"],
 *   code: 1,
 *   tail: ["Error response from daemon: login attempt to http://127.0.0.1:5000/v2/ failed with status: 401 Unauthorized"],
 * });
 * console.log(e instanceof DockerCommandError); // true
 * ```
 */
export class DockerAuthError extends DockerCommandError {
  /**
   * Makes the error for refused credentials.
   *
   * @param options The command, its exit code and the tail of its output.
   */
  constructor(options: DockerCommandErrorOptions) {
    const summary = options.summary ?? options.tail.at(-1) ?? "";
    super(
      options,
      `The registry refused the credentials for \`${options.command.join(" ")}\`` +
        (summary ? `: ${clean(summary)}` : "") +
        ". Check the user name and password (or get a fresh token) and log in again",
    );
  }
}

/** Options for {@linkcode DockerBuildError}. */
export interface DockerBuildErrorOptions extends DockerCommandErrorOptions {
  /**
   * The build step that failed, such as `Step 2/3 : RUN make` (legacy
   * builder) or `[2/3] RUN make` (BuildKit), when it is known.
   */
  step?: string;
  /** The output lines of the failing step (the last ones when there are many). */
  stepOutput?: string[];
}

/**
 * `docker build` failed. Besides the tail of the output it names the failing
 * step and keeps that step's own output.
 *
 * @example Usage
 * ```ts
 * import { DockerBuildError } from "@cloudknot/cloudknot/docker";
 *
 * const e = new DockerBuildError({
 *   command: ["docker", "build", "."],
 *   code: 1,
 *   tail: ["Step 2/2 : RUN make", "make: not found"],
 *   step: "Step 2/2 : RUN make",
 *   stepOutput: ["make: not found"],
 * });
 * console.log(e.step, e.stepOutput);
 * ```
 */
export class DockerBuildError extends DockerCommandError {
  /** The step that failed, when it is known. */
  readonly step: string | undefined;
  /** The output of the failing step (its last lines). */
  readonly stepOutput: string[];

  /**
   * Makes the error for a failed build.
   *
   * @param options The command, exit code, tail, failing step and its output.
   */
  constructor(options: DockerBuildErrorOptions) {
    const summary = options.summary ?? options.tail.at(-1) ?? "";
    const stepOutput = options.stepOutput ?? [];
    super(
      options,
      `The docker build failed with exit code ${options.code}` +
        (options.step ? ` at ${options.step.trim()}` : "") +
        (summary ? `: ${clean(summary)}` : "") +
        (stepOutput.length > 0
          ? `\nOutput of the failing step:\n${stepOutput.slice(-15).join("\n")}\n`
          : ". ") +
        "Fix the Dockerfile or the build context and build again",
    );
    this.step = options.step;
    this.stepOutput = stepOutput;
  }
}

/** Trims a line and drops its final period, so messages do not end in "..". */
function clean(line: string): string {
  return line.trim().replace(/\.+$/, "");
}
