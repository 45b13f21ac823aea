/**
 * Types of the docker driver: options, results, output lines and progress.
 *
 * @module
 */

/** The driver operations whose output is streamed. */
export type DockerOperation = "build" | "push" | "pull" | "run" | "login" | "logout";

/** One line of output of a `docker` command. */
export interface DockerOutputLine {
  /** The operation that printed it. */
  operation: DockerOperation;
  /** The stream the line came from. */
  stream: "stdout" | "stderr";
  /** The line, without its line ending. */
  text: string;
}

/** Receives each line of output of the streamed operations. */
export type DockerLogger = (line: DockerOutputLine) => void;

/** A build step that started, parsed from legacy or BuildKit output. */
export interface DockerBuildStep {
  /** The number of the step, from 1. */
  current: number;
  /** The number of steps in the stage (legacy: in the whole Dockerfile). */
  total: number;
  /** The instruction, such as `RUN make`. */
  instruction: string;
}

/** A layer that changed state during a push or a pull. */
export interface DockerLayerStatus {
  /** The short layer id (12 hex digits). */
  id: string;
  /** The status, such as `Pushed`, `Layer already exists` or `Pull complete`. */
  status: string;
}

/**
 * A progress event: a build step that started or a layer whose state changed.
 * Only lines that carry progress make an event.
 */
export interface DockerProgressEvent {
  /** The operation the event belongs to. */
  operation: DockerOperation;
  /** The line the event was parsed from. */
  line: string;
  /** The build step that started, for builds. */
  step?: DockerBuildStep;
  /** The layer whose state changed, for pushes and pulls. */
  layer?: DockerLayerStatus;
}

/** Receives progress events. */
export type DockerProgressCallback = (event: DockerProgressEvent) => void;

/** Options of {@linkcode Docker}'s constructor. */
export interface DockerOptions {
  /**
   * The docker client: a name looked up on `PATH`, or a path.
   *
   * @default {"docker"}
   */
  binary?: string;
  /**
   * Environment variables added to the inherited environment of every
   * command, such as `DOCKER_CONFIG` (an isolated credentials directory) or
   * `DOCKER_HOST`.
   */
  env?: Record<string, string>;
  /**
   * Where the output of build, push, pull, run, login and logout goes.
   *
   * @default {consoleLogger}
   */
  logger?: DockerLogger;
  /** Receives build steps and layer states of every streamed operation. */
  onProgress?: DockerProgressCallback;
  /**
   * Build with BuildKit (`DOCKER_BUILDKIT=1`, `--progress=plain`) or with the
   * legacy builder (`DOCKER_BUILDKIT=0`). When unset, a `DOCKER_BUILDKIT`
   * variable decides, and otherwise BuildKit is used only when the
   * `docker buildx` plugin is installed, as docker clients since 23 do.
   */
  buildkit?: boolean;
  /**
   * How long an aborted command gets to exit after `SIGTERM` before it is
   * killed with `SIGKILL`, in milliseconds.
   *
   * @default {5000}
   */
  killGraceMs?: number;
  /**
   * How many lines of output a {@linkcode DockerCommandError} keeps.
   *
   * @default {40}
   */
  tailLines?: number;
  /**
   * How long each kind of command may run before it is stopped, in
   * milliseconds. A call's own `timeoutMs` wins.
   *
   * @default {{ build: 3600000, transfer: 1800000, other: 120000 }}
   */
  timeouts?: DockerTimeouts;
}

/**
 * How long each kind of docker command may run before it is stopped, in
 * milliseconds; `docker run` is limited only by its call's `signal` and
 * `timeoutMs`.
 */
export interface DockerTimeouts {
  /**
   * `docker build`; else `CLOUDKNOT_DOCKER_BUILD_TIMEOUT` (seconds).
   *
   * @default {3600000}
   */
  build?: number;
  /**
   * `docker push` and `docker pull`; else `CLOUDKNOT_DOCKER_PUSH_TIMEOUT` (seconds).
   *
   * @default {1800000}
   */
  transfer?: number;
  /**
   * Every other command: `version`, `inspect`, `tag`, `rm`, `rmi`, `image ls`,
   * `login`, `logout`, and `command()`.
   *
   * @default {120000}
   */
  other?: number;
}

/** Options every driver call accepts. */
export interface DockerCallOptions {
  /** Aborting it kills the command and rejects with a `CancelledError`. */
  signal?: AbortSignal;
  /**
   * How long the command may run before it is stopped and the call rejects
   * with a `CommandTimeoutError`, in milliseconds.
   *
   * @default {"the driver's limit for its kind (DockerOptions.timeouts)"}
   */
  timeoutMs?: number;
}

/** Options of the calls whose output is streamed. */
export interface DockerStreamOptions extends DockerCallOptions {
  /** Where this call's output goes, instead of the driver's logger. */
  logger?: DockerLogger;
  /** Receives this call's progress, besides the driver's `onProgress`. */
  onProgress?: DockerProgressCallback;
}

/** Options of {@linkcode Docker.prototype.build}. */
export interface DockerBuildOptions extends DockerStreamOptions {
  /** The Dockerfile, relative to the working directory (as `docker build -f`). */
  dockerfile?: string;
  /** Tags for the image (each becomes a `-t`), all made by this one build. */
  tags?: string[];
  /**
   * The target platform.
   *
   * @default {"linux/amd64"}
   */
  platform?: string;
  /**
   * Build arguments. The values reach docker through its environment, never
   * its command line.
   */
  buildArgs?: Record<string, string>;
  /** Labels for the image. */
  labels?: Record<string, string>;
  /** Build without the layer cache. */
  noCache?: boolean;
  /** Always try to pull a newer version of the base image. */
  pull?: boolean;
  /** The stage to build, in a multi-stage Dockerfile. */
  target?: string;
}

/** The result of {@linkcode Docker.prototype.build}. */
export interface DockerBuildResult {
  /** The full id of the image, `sha256:…`. */
  imageId: string;
  /** The tags that were given. */
  tags: string[];
}

/** Options of {@linkcode Docker.prototype.pull}. */
export interface DockerPullOptions extends DockerStreamOptions {
  /** The platform to pull, such as `linux/amd64`. */
  platform?: string;
}

/** Options of {@linkcode Docker.prototype.command}. */
export interface DockerCommandOptions extends DockerStreamOptions {
  /** Text for the command's standard input. */
  stdin?: string;
  /** Environment added to the driver's for this command only. */
  env?: Record<string, string>;
  /**
   * The operation its output is logged as; without it the output is not
   * logged, only kept for errors and the result.
   */
  operation?: DockerOperation;
}

/** The result of {@linkcode Docker.prototype.command}. */
export interface DockerCommandResult {
  /** Everything the command wrote to stdout. */
  stdout: string;
  /** Everything the command wrote to stderr. */
  stderr: string;
}

/** Options of {@linkcode Docker.prototype.login}. */
export interface DockerLoginOptions extends DockerStreamOptions {
  /** The user name (`AWS` for ECR). */
  username: string;
  /** The password or token. It is written to docker's standard input only. */
  password: string;
}

/** The result of {@linkcode Docker.prototype.push} and {@linkcode Docker.prototype.pull}. */
export interface DockerTransferResult {
  /** The manifest digest the registry reported, `sha256:…`, when it did. */
  digest: string | undefined;
}

/** A mount of {@linkcode DockerRunOptions}. */
export interface DockerMount {
  /**
   * The kind of mount.
   *
   * @default {"bind"}
   */
  type?: "bind" | "volume" | "tmpfs";
  /** The host path (bind) or volume name (volume). */
  source?: string;
  /** The path inside the container. */
  target: string;
  /** Mount it read-only. */
  readonly?: boolean;
}

/** Options of {@linkcode Docker.prototype.run}. */
export interface DockerRunOptions extends DockerStreamOptions {
  /** The command and its arguments, after the image. */
  command?: string[];
  /** Replaces the image's entrypoint. */
  entrypoint?: string;
  /**
   * Environment variables of the container. The values reach docker through
   * its environment, never its command line (except for `PATH`, `HOME` and
   * `DOCKER_*` names, which are passed inline and hidden in errors).
   */
  env?: Record<string, string>;
  /** The network, such as `host` or `none`. */
  network?: string;
  /** The number of CPUs (`--cpus`). */
  cpus?: number;
  /** The memory limit in MiB (`--memory`). */
  memory?: number;
  /**
   * Memory plus swap in MiB (`--memory-swap`); equal to `memory`, the
   * container gets no swap and is killed when it runs out, as on AWS Batch.
   */
  memorySwap?: number;
  /** The user, such as `1000` or `1000:1000`. */
  user?: string;
  /** The working directory inside the container. */
  workdir?: string;
  /**
   * Remove the container when it exits.
   *
   * @default {true}
   */
  rm?: boolean;
  /**
   * The container name. With a `signal` and no name, a unique name is made so
   * that an abort can remove the container.
   */
  name?: string;
  /** Labels of the container. */
  labels?: Record<string, string>;
  /**
   * Start the container and return at once (`--detach`): the result's
   * `stdout` is the container's id, and `code` is docker's (0 once it
   * started). Give `rm: false` to inspect it after it exits.
   *
   * @default {false}
   */
  detach?: boolean;
  /** Mounts (`--mount`). */
  mounts?: DockerMount[];
  /** The platform to run, such as `linux/amd64`. */
  platform?: string;
  /**
   * When docker pulls the image (`--pull`): `"never"` runs only an image this
   * engine has, and fails at once without one. @default {"missing"}
   */
  pull?: "always" | "missing" | "never";
  /** Text written to the container's standard input (`-i`). */
  stdin?: string;
  /**
   * Throw a {@linkcode DockerCommandError} when the container exits with a
   * code other than 0. Otherwise only docker's own failures (exit code 125)
   * throw, and the container's exit code is returned.
   *
   * @default {false}
   */
  check?: boolean;
}

/** The result of {@linkcode Docker.prototype.run}. */
export interface DockerRunResult {
  /** The exit code of the container. */
  code: number;
  /** Everything the container wrote to stdout. */
  stdout: string;
  /** Everything the container (and docker) wrote to stderr. */
  stderr: string;
  /** The container name, when one was given or made. */
  name: string | undefined;
}

/** Options of {@linkcode Docker.prototype.removeImage} and {@linkcode Docker.prototype.removeContainer}. */
export interface DockerRemoveOptions extends DockerCallOptions {
  /** Remove it even when it is in use (images) or running (containers). */
  force?: boolean;
  /** Succeed when it does not exist. */
  missingOk?: boolean;
}

/** Options of {@linkcode Docker.prototype.listImages}. */
export interface DockerListImagesOptions extends DockerCallOptions {
  /** Only images matching this reference pattern, such as `repo/name:*`. */
  reference?: string;
  /** Only images with these labels: a value of `true` matches any value. */
  labels?: Record<string, string | true>;
  /** Include intermediate images. */
  all?: boolean;
}

/** One image of {@linkcode Docker.prototype.listImages}. */
export interface DockerImageSummary {
  /** The full image id, `sha256:…`. */
  id: string;
  /** The repository, or `<none>`. */
  repository: string;
  /** The tag, or `<none>`. */
  tag: string;
  /** The digest, or `<none>`. */
  digest: string;
  /** When it was made, as docker prints it. */
  createdAt: string;
  /** Its size, as docker prints it (`18.2MB`). */
  size: string;
}

/** The part of `docker image inspect` output the project uses; the rest is kept too. */
export interface DockerImageInfo {
  /** The full image id, `sha256:…`. */
  Id: string;
  /** Its tags. */
  RepoTags: string[] | null;
  /** Its digests in registries, `repo@sha256:…`. */
  RepoDigests: string[] | null;
  /** When it was made (RFC 3339). */
  Created: string;
  /** Its size in bytes. */
  Size: number;
  /** Its CPU architecture, such as `amd64`. */
  Architecture: string;
  /** Its operating system, such as `linux`. */
  Os: string;
  /** Its configuration. */
  Config: {
    User?: string;
    Env?: string[] | null;
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    [key: string]: unknown;
  } | null;
  /** Its layers. */
  RootFS: { Type: string; Layers?: string[] };
  /** Everything else docker reports. */
  [key: string]: unknown;
}

/** The part of `docker network inspect` output the project uses; the rest is kept too. */
export interface DockerNetworkInfo {
  /** The network's name. */
  Name: string;
  /** The full network id. */
  Id: string;
  /** Its driver (`bridge`, `host`, `null`, `overlay`, …). */
  Driver: string;
  /** Everything else docker reports. */
  [key: string]: unknown;
}

/** The part of `docker container inspect` output the project uses; the rest is kept too. */
export interface DockerContainerInfo {
  /** The full container id. */
  Id: string;
  /** The name, with a leading `/`. */
  Name: string;
  /** The image id it runs. */
  Image: string;
  /** Its state. */
  State: {
    Status: string;
    Running: boolean;
    ExitCode: number;
    Error?: string;
    StartedAt?: string;
    FinishedAt?: string;
    [key: string]: unknown;
  };
  /** Its configuration. */
  Config: {
    Image?: string;
    User?: string;
    Env?: string[] | null;
    Cmd?: string[] | null;
    Labels?: Record<string, string> | null;
    [key: string]: unknown;
  };
  /** Everything else docker reports. */
  [key: string]: unknown;
}

/** The versions of the client and the daemon. */
export interface DockerVersion {
  /** The client. */
  client: { version: string; apiVersion: string };
  /** The daemon. */
  server: { version: string; apiVersion: string; os: string; arch: string };
}
