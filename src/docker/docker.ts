/**
 * The docker driver: runs the `docker` client through `Deno.Command`.
 *
 * @module
 */
import { type CommandLimit, limitMs, readEnv } from "../util/command_limit.ts";
import { CloudknotInputError } from "../util/errors.ts";
import { BuildTracker, parseDigest, parseLayerStatus } from "./_build_output.ts";
import { execDocker, type ExecResult } from "./_exec.ts";
import {
  DockerAuthError,
  DockerBuildError,
  DockerCommandError,
  DockerDaemonNotRunningError,
} from "./errors.ts";
import { consoleLogger } from "./logger.ts";
import type {
  DockerBuildOptions,
  DockerBuildResult,
  DockerCallOptions,
  DockerCommandOptions,
  DockerCommandResult,
  DockerContainerInfo,
  DockerImageInfo,
  DockerImageSummary,
  DockerListImagesOptions,
  DockerLogger,
  DockerLoginOptions,
  DockerMount,
  DockerNetworkInfo,
  DockerOperation,
  DockerOptions,
  DockerProgressCallback,
  DockerProgressEvent,
  DockerPullOptions,
  DockerRemoveOptions,
  DockerRunOptions,
  DockerRunResult,
  DockerStreamOptions,
  DockerTimeouts,
  DockerTransferResult,
  DockerVersion,
} from "./types.ts";

const DAEMON_DOWN =
  /Cannot connect to the Docker daemon|Is the docker daemon running|permission denied while trying to connect to the Docker daemon/i;
const AUTH_FAILED =
  /unauthorized|authentication required|no basic auth credentials|incorrect username or password|authorization token has expired|denied: /i;
const BUILDX_MISSING = /buildx component is missing/i;
const NO_SUCH_IMAGE = /no such image|no such object/i;
/** A container gone, or going: another client (a run's driver, a clobber) removes it already. */
const NO_SUCH_CONTAINER =
  /no such container|no such object|removal of container \S+ is already in progress/i;
/** A network that is not there, as `docker network inspect` says it. */
const NO_SUCH_NETWORK = /network \S+ not found|no such network|no such object/i;
/**
 * What the legacy builder says when an image it was building on was removed
 * meanwhile. Its image store is not locked across a step: a `docker rmi`
 * (whose prune of untagged parents `gc` and a clobber use too) can check that
 * no container uses a cached layer's image and delete it while a build takes
 * that image, so the step fails wherever it next reads it: a cache lookup
 * (`unable to find image "sha256:…"`), the step's container or a `COPY`'s
 * destination (`No such image: sha256:…`), the commit of the step's image
 * (`failed to get digest sha256:…: open …: no such file or directory`) or its
 * link to its parent (`unknown parent image ID sha256:…`). Each was seen with
 * Docker 20.10 by building and removing images of one Dockerfile prefix in
 * parallel.
 */
const LAYER_REMOVED =
  /unable to find image "?sha256:|no such image: sha256:|failed to get digest sha256:|unknown parent image ID sha256:/i;
/** How many times a build whose cached layer vanished is run, in all. */
const BUILD_ATTEMPTS = 3;
/** The variable that sets how long `docker build` may run, in seconds. */
const BUILD_VARIABLE = "CLOUDKNOT_DOCKER_BUILD_TIMEOUT";
/** The variable that sets how long `docker push` and `docker pull` may run, in seconds. */
const PUSH_VARIABLE = "CLOUDKNOT_DOCKER_PUSH_TIMEOUT";
/** Names docker reads itself: a run's or build's values for these go inline. */
const CLIENT_ENV = /^(PATH|HOME|DOCKER_.*)$/;

/**
 * Drives the `docker` client. Every command runs through `Deno.Command` with
 * stdout and stderr read line by line while it runs. Output of build, push,
 * pull, run, login and logout goes to a logger (by default through
 * `console`), and build steps and layer states to a progress callback.
 * Failures are typed: {@linkcode DockerNotInstalledError},
 * {@linkcode DockerDaemonNotRunningError}, {@linkcode DockerAuthError},
 * {@linkcode DockerBuildError} and {@linkcode DockerCommandError}; an
 * aborted call rejects with a `CancelledError`.
 *
 * @example Usage
 * ```ts ignore
 * import { Docker } from "@cloudknot/cloudknot/docker";
 *
 * const docker = new Docker({ env: { DOCKER_CONFIG: await Deno.makeTempDir() } });
 * const { imageId } = await docker.build("./app", { tags: ["127.0.0.1:5000/app:1"] });
 * await docker.login("127.0.0.1:5000", { username: "me", password: "secret" });
 * const { digest } = await docker.push("127.0.0.1:5000/app:1");
 * const { code, stdout } = await docker.run(imageId, { command: ["deno", "--version"] });
 * ```
 */
export class Docker {
  #binary: string;
  #env: Record<string, string>;
  #logger: DockerLogger;
  #onProgress: DockerProgressCallback | undefined;
  #buildkit: boolean | undefined;
  #buildkitProbe: Promise<boolean> | undefined;
  #killGraceMs: number;
  #tailLines: number;
  #timeouts: DockerTimeouts;

  /**
   * Makes a driver. Nothing runs until a method is called.
   *
   * @param options The binary, extra environment, logger, progress and builder.
   */
  constructor(options: DockerOptions = {}) {
    this.#binary = options.binary ?? "docker";
    this.#env = { ...options.env };
    this.#logger = options.logger ?? consoleLogger;
    this.#onProgress = options.onProgress;
    this.#buildkit = options.buildkit;
    this.#killGraceMs = options.killGraceMs ?? 5000;
    this.#tailLines = options.tailLines ?? 40;
    this.#timeouts = { ...options.timeouts };
  }

  /**
   * The docker client this driver runs.
   *
   * @example Usage
   * ```ts
   * import { Docker } from "@cloudknot/cloudknot/docker";
   *
   * console.log(new Docker().binary); // "docker"
   * ```
   *
   * @returns The binary name or path.
   */
  get binary(): string {
    return this.#binary;
  }

  /**
   * The environment added to every command.
   *
   * @example Usage
   * ```ts
   * import { Docker } from "@cloudknot/cloudknot/docker";
   *
   * console.log(new Docker({ env: { DOCKER_CONFIG: "/tmp/cfg" } }).env.DOCKER_CONFIG);
   * ```
   *
   * @returns A copy of the variables.
   */
  get env(): Record<string, string> {
    return { ...this.#env };
  }

  /**
   * Makes a driver with the same binary, logger, progress, builder and
   * limits, and this environment added: for example an isolated
   * `DOCKER_CONFIG` for one registry's login.
   *
   * @example Usage
   * ```ts
   * import { Docker } from "@cloudknot/cloudknot/docker";
   *
   * const isolated = new Docker().withEnv({ DOCKER_CONFIG: "/tmp/registry-login" });
   * console.log(isolated.env.DOCKER_CONFIG); // "/tmp/registry-login"
   * ```
   *
   * @param env Variables to add to (or replace in) this driver's environment.
   * @returns The new driver.
   */
  withEnv(env: Record<string, string>): Docker {
    return new Docker({
      binary: this.#binary,
      env: { ...this.#env, ...env },
      logger: this.#logger,
      ...(this.#onProgress !== undefined ? { onProgress: this.#onProgress } : {}),
      ...(this.#buildkit !== undefined ? { buildkit: this.#buildkit } : {}),
      killGraceMs: this.#killGraceMs,
      tailLines: this.#tailLines,
      timeouts: this.#timeouts,
    });
  }

  /**
   * Reports the versions of the client and the daemon.
   *
   * @example Usage
   * ```ts ignore
   * import { Docker } from "@cloudknot/cloudknot/docker";
   *
   * const { client, server } = await new Docker().version();
   * console.log(client.version, server.version);
   * ```
   *
   * @param options An abort signal.
   * @returns The versions.
   */
  async version(options: DockerCallOptions = {}): Promise<DockerVersion> {
    const args = ["version", "--format", "{{json .}}"];
    const result = await this.#exec(args, { ...options, captureStdout: true });
    if (result.code !== 0) this.#throw(result, args);
    // deno-lint-ignore no-explicit-any
    const json = JSON.parse(result.stdout) as any;
    return {
      client: {
        version: String(json?.Client?.Version ?? ""),
        apiVersion: String(json?.Client?.ApiVersion ?? ""),
      },
      server: {
        version: String(json?.Server?.Version ?? ""),
        apiVersion: String(json?.Server?.ApiVersion ?? ""),
        os: String(json?.Server?.Os ?? ""),
        arch: String(json?.Server?.Arch ?? ""),
      },
    };
  }

  /**
   * Checks that the client is installed and the daemon answers. Resolves, or
   * rejects with {@linkcode DockerNotInstalledError} or
   * {@linkcode DockerDaemonNotRunningError}.
   *
   * @example Usage
   * ```ts ignore
   * import { Docker } from "@cloudknot/cloudknot/docker";
   *
   * await new Docker().ping();
   * ```
   *
   * @param options An abort signal.
   */
  async ping(options: DockerCallOptions = {}): Promise<void> {
    await this.version(options);
  }

  /**
   * Tells which builder {@linkcode Docker.prototype.build} uses: the
   * `buildkit` option when set, else a `DOCKER_BUILDKIT` variable, else
   * BuildKit when the `docker buildx` plugin answers.
   *
   * @example Usage
   * ```ts ignore
   * import { Docker } from "@cloudknot/cloudknot/docker";
   *
   * console.log(await new Docker().builder()); // "legacy" or "buildkit"
   * ```
   *
   * @returns `"buildkit"` or `"legacy"`.
   */
  async builder(): Promise<"buildkit" | "legacy"> {
    return await this.#useBuildkit() ? "buildkit" : "legacy";
  }

  /**
   * Builds an image from a context directory, with every tag in one build.
   * The platform is `linux/amd64` unless told otherwise. A failure throws a
   * {@linkcode DockerBuildError} that names the failing step and keeps its
   * output. A build whose cached layer another process removed while it ran
   * (the legacy builder's `unable to find image "sha256:…"`, `No such image:
   * sha256:…`, `failed to get digest sha256:…` or `unknown parent image ID
   * sha256:…`) is run again, up to three times in all.
   *
   * @example Usage
   * ```ts ignore
   * import { Docker } from "@cloudknot/cloudknot/docker";
   *
   * const { imageId } = await new Docker().build("./context", {
   *   tags: ["my/app:1", "my/app:2"],
   *   buildArgs: { VERSION: "1" },
   *   labels: { "org.example.app": "yes" },
   *   onProgress: (e) => e.step && console.log(`step ${e.step.current}/${e.step.total}`),
   * });
   * ```
   *
   * @param context The build context directory.
   * @param options Dockerfile, tags, platform, build arguments, labels, cache, logging and abort.
   * @returns The image id and tags.
   */
  async build(context: string, options: DockerBuildOptions = {}): Promise<DockerBuildResult> {
    const tags = options.tags ?? [];
    for (const tag of tags) {
      if (!tag || /\s/.test(tag)) {
        throw new CloudknotInputError(`The tag "${tag}" is not valid; pass tags like name:tag`, {
          field: "tags",
        });
      }
    }
    const buildkit = await this.#useBuildkit();
    const tmp = await Deno.makeTempDir({ prefix: "cloudknot-build-" });
    try {
      const iidfile = `${tmp}/iid`;
      const args = ["build"];
      if (options.dockerfile !== undefined) args.push("--file", options.dockerfile);
      for (const tag of tags) args.push("--tag", tag);
      args.push("--platform", options.platform ?? "linux/amd64");
      const env = envArgs("--build-arg", options.buildArgs ?? {}, "buildArgs");
      args.push(...env.args);
      for (const [key, value] of Object.entries(options.labels ?? {})) {
        args.push("--label", `${checkKey(key, "labels")}=${value}`);
      }
      if (options.noCache) args.push("--no-cache");
      if (options.pull) args.push("--pull");
      if (options.target !== undefined) args.push("--target", options.target);
      args.push("--force-rm", "--iidfile", iidfile);
      if (buildkit) args.push("--progress=plain");
      args.push(context);
      const childEnv: Record<string, string> = { ...env.env };
      if (this.#buildkit !== undefined) childEnv.DOCKER_BUILDKIT = this.#buildkit ? "1" : "0";

      const once = async () => {
        const tracker = new BuildTracker();
        const result = await this.#exec(args, {
          ...options,
          env: childEnv,
          operation: "build",
          onLine: (_stream, text) => {
            const step = tracker.add(text);
            return step ? { step } : undefined;
          },
        });
        return { tracker, result };
      };
      let { tracker, result } = await once();
      for (
        let attempt = 2;
        result.code !== 0 && attempt <= BUILD_ATTEMPTS &&
        result.stderrTail.some((line) => LAYER_REMOVED.test(line));
        attempt++
      ) {
        // The legacy builder took a cached layer whose image another process
        // (gc, a clobber, `docker image prune`) then removed with its last
        // child; the layers are rebuilt or found again by building again.
        (options.logger ?? this.#logger)({
          operation: "build",
          stream: "stderr",
          text: "cloudknot: a cached layer of this build was removed while it ran " +
            `(another process removed an image); building again (attempt ${attempt} of ` +
            `${BUILD_ATTEMPTS})`,
        });
        ({ tracker, result } = await once());
      }
      if (result.code !== 0) {
        this.#throw(result, env.display(args), {
          build: { step: tracker.failedStep, stepOutput: tracker.failedStepOutput },
        });
      }
      const imageId = (await Deno.readTextFile(iidfile)).trim();
      return { imageId, tags: [...tags] };
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  }

  /**
   * Adds a tag to an image.
   *
   * @example Usage
   * ```ts ignore
   * import { Docker } from "@cloudknot/cloudknot/docker";
   *
   * await new Docker().tag("my/app:1", "127.0.0.1:5000/app:1");
   * ```
   *
   * @param source The image: an id, a name or a name:tag.
   * @param target The new name:tag.
   * @param options An abort signal.
   */
  async tag(source: string, target: string, options: DockerCallOptions = {}): Promise<void> {
    const args = ["tag", source, target];
    const result = await this.#exec(args, options);
    if (result.code !== 0) this.#throw(result, args);
  }

  /**
   * Logs in to a registry. The password goes to docker's standard input
   * (`--password-stdin`), never to its command line. Credentials are stored
   * under `DOCKER_CONFIG` when the driver's `env` sets it. Refused
   * credentials throw a {@linkcode DockerAuthError}.
   *
   * @example Usage
   * ```ts ignore
   * import { Docker } from "@cloudknot/cloudknot/docker";
   *
   * const docker = new Docker({ env: { DOCKER_CONFIG: await Deno.makeTempDir() } });
   * await docker.login("123456789012.dkr.ecr.us-east-1.amazonaws.com", { username: "AWS", password: "token" });
   * ```
   *
   * @param registry The registry host, such as `127.0.0.1:5000`.
   * @param options The user name and password, logging and abort.
   */
  async login(registry: string, options: DockerLoginOptions): Promise<void> {
    if (!options.username) {
      throw new CloudknotInputError("login needs a username", { field: "username" });
    }
    const args = ["login", "--username", options.username, "--password-stdin", registry];
    const result = await this.#exec(args, {
      ...options,
      stdin: options.password,
      operation: "login",
    });
    if (result.code !== 0) this.#throw(result, args, { auth: true });
  }

  /**
   * Logs out of a registry, removing the stored credentials.
   *
   * @example Usage
   * ```ts ignore
   * import { Docker } from "@cloudknot/cloudknot/docker";
   *
   * await new Docker().logout("127.0.0.1:5000");
   * ```
   *
   * @param registry The registry host.
   * @param options Logging and abort.
   */
  async logout(registry: string, options: DockerStreamOptions = {}): Promise<void> {
    const args = ["logout", registry];
    const result = await this.#exec(args, { ...options, operation: "logout" });
    if (result.code !== 0) this.#throw(result, args);
  }

  /**
   * Pushes an image to its registry.
   *
   * @example Usage
   * ```ts ignore
   * import { Docker } from "@cloudknot/cloudknot/docker";
   *
   * const { digest } = await new Docker().push("127.0.0.1:5000/app:1");
   * console.log(digest); // sha256:…
   * ```
   *
   * @param ref The image name:tag, including the registry.
   * @param options Logging, progress and abort.
   * @returns The manifest digest the registry reported.
   */
  async push(ref: string, options: DockerStreamOptions = {}): Promise<DockerTransferResult> {
    return await this.#transfer("push", ["push", ref], options);
  }

  /**
   * Pulls an image from its registry.
   *
   * @example Usage
   * ```ts ignore
   * import { Docker } from "@cloudknot/cloudknot/docker";
   *
   * const { digest } = await new Docker().pull("127.0.0.1:5000/app:1");
   * ```
   *
   * @param ref The image name:tag or name@digest, including the registry.
   * @param options Platform, logging, progress and abort.
   * @returns The manifest digest.
   */
  async pull(ref: string, options: DockerPullOptions = {}): Promise<DockerTransferResult> {
    const args = ["pull"];
    if (options.platform !== undefined) args.push("--platform", options.platform);
    args.push(ref);
    return await this.#transfer("pull", args, options);
  }

  /**
   * Runs a container and waits for it to exit. Its output is streamed to the
   * logger and returned. Docker's own failures (exit code 125, such as a
   * missing image) throw; the container's exit code is returned unless
   * `check` is set. Aborting removes the container (`docker rm -f`).
   *
   * @example Usage
   * ```ts ignore
   * import { Docker } from "@cloudknot/cloudknot/docker";
   *
   * const { code, stdout } = await new Docker().run("my/app:1", {
   *   command: ["deno", "eval", "console.log(Deno.env.get('X'))"],
   *   env: { X: "42" },
   *   network: "host",
   *   user: "1000",
   *   signal: AbortSignal.timeout(60_000),
   * });
   * ```
   *
   * @param image The image to run.
   * @param options Command, environment, resources, mounts, logging and abort.
   * @returns The exit code, the output and the container name.
   */
  async run(image: string, options: DockerRunOptions = {}): Promise<DockerRunResult> {
    const name = options.name ??
      (options.signal ? `cloudknot-run-${crypto.randomUUID().slice(0, 13)}` : undefined);
    const args = ["run"];
    if (options.rm ?? true) args.push("--rm");
    if (options.detach) args.push("--detach");
    if (name !== undefined) args.push("--name", name);
    if (options.stdin !== undefined) args.push("--interactive");
    if (options.network !== undefined) args.push("--network", options.network);
    if (options.cpus !== undefined) args.push("--cpus", String(positive(options.cpus, "cpus")));
    if (options.memory !== undefined) {
      args.push("--memory", `${Math.round(positive(options.memory, "memory"))}m`);
    }
    if (options.memorySwap !== undefined) {
      args.push("--memory-swap", `${Math.round(positive(options.memorySwap, "memorySwap"))}m`);
    }
    if (options.user !== undefined) args.push("--user", options.user);
    if (options.workdir !== undefined) args.push("--workdir", options.workdir);
    if (options.entrypoint !== undefined) args.push("--entrypoint", options.entrypoint);
    if (options.platform !== undefined) args.push("--platform", options.platform);
    if (options.pull !== undefined) args.push("--pull", options.pull);
    for (const [key, value] of Object.entries(options.labels ?? {})) {
      args.push("--label", `${checkKey(key, "labels")}=${value}`);
    }
    for (const mount of options.mounts ?? []) args.push("--mount", mountSpec(mount));
    const env = envArgs("--env", options.env ?? {}, "env");
    args.push(...env.args, image, ...(options.command ?? []));

    const remove = async () => {
      if (name !== undefined) await this.removeContainer(name, { force: true, missingOk: true });
    };
    let result: ExecResult;
    try {
      result = await this.#exec(args, {
        ...options,
        env: env.env,
        operation: "run",
        captureStdout: true,
        captureStderr: true,
        onAbort: remove,
      });
    } catch (e) {
      // The container may have been created after the first removal.
      if (options.signal?.aborted) await remove().catch(() => {});
      throw e;
    }
    if (result.code === 125 || (options.check && result.code !== 0)) {
      this.#throw(result, env.display(args));
    }
    return { code: result.code, stdout: result.stdout, stderr: result.stderr, name };
  }

  /**
   * Inspects an image.
   *
   * @example Usage
   * ```ts ignore
   * import { Docker } from "@cloudknot/cloudknot/docker";
   *
   * const info = await new Docker().inspectImage("my/app:1");
   * console.log(info?.Id, info?.Config?.Labels);
   * ```
   *
   * @param ref The image id, name or name:tag.
   * @param options An abort signal.
   * @returns What docker reports, or `undefined` when there is no such image.
   */
  async inspectImage(
    ref: string,
    options: DockerCallOptions = {},
  ): Promise<DockerImageInfo | undefined> {
    return await this.#inspect<DockerImageInfo>("image", ref, options);
  }

  /**
   * Inspects a container.
   *
   * @example Usage
   * ```ts ignore
   * import { Docker } from "@cloudknot/cloudknot/docker";
   *
   * const info = await new Docker().inspectContainer("my-container");
   * console.log(info?.State.ExitCode);
   * ```
   *
   * @param nameOrId The container name or id.
   * @param options An abort signal.
   * @returns What docker reports, or `undefined` when there is no such container.
   */
  async inspectContainer(
    nameOrId: string,
    options: DockerCallOptions = {},
  ): Promise<DockerContainerInfo | undefined> {
    return await this.#inspect<DockerContainerInfo>("container", nameOrId, options);
  }

  /**
   * Inspects a network.
   *
   * @example Usage
   * ```ts ignore
   * import { Docker } from "@cloudknot/cloudknot/docker";
   *
   * const network = await new Docker().inspectNetwork("bridge");
   * console.log(network?.Driver); // "bridge"
   * ```
   *
   * @param name The network's name or id.
   * @param options An abort signal.
   * @returns What docker reports, or `undefined` when there is no such network.
   */
  async inspectNetwork(
    name: string,
    options: DockerCallOptions = {},
  ): Promise<DockerNetworkInfo | undefined> {
    return await this.#inspect<DockerNetworkInfo>("network", name, options);
  }

  /**
   * Lists local images, optionally by reference pattern and labels.
   *
   * @example Usage
   * ```ts ignore
   * import { Docker } from "@cloudknot/cloudknot/docker";
   *
   * const images = await new Docker().listImages({ labels: { "org.cloudknot.knot": "squares" } });
   * for (const image of images) console.log(image.repository, image.tag, image.id);
   * ```
   *
   * @param options Filters and an abort signal.
   * @returns The images, one per tag.
   */
  async listImages(options: DockerListImagesOptions = {}): Promise<DockerImageSummary[]> {
    const args = ["image", "ls", "--no-trunc", "--digests", "--format", "{{json .}}"];
    if (options.all) args.push("--all");
    if (options.reference !== undefined) args.push("--filter", `reference=${options.reference}`);
    for (const [key, value] of Object.entries(options.labels ?? {})) {
      args.push("--filter", value === true ? `label=${key}` : `label=${key}=${value}`);
    }
    const result = await this.#exec(args, { ...options, captureStdout: true });
    if (result.code !== 0) this.#throw(result, args);
    return result.stdout.split("\n").filter((l) => l.trim() !== "").map((line) => {
      const row = JSON.parse(line) as Record<string, string>;
      return {
        id: row.ID ?? "",
        repository: row.Repository ?? "",
        tag: row.Tag ?? "",
        digest: row.Digest ?? "",
        createdAt: row.CreatedAt ?? "",
        size: row.Size ?? "",
      };
    });
  }

  /**
   * Removes images (untags them, and deletes them when no tag is left).
   *
   * @example Usage
   * ```ts ignore
   * import { Docker } from "@cloudknot/cloudknot/docker";
   *
   * await new Docker().removeImage(["my/app:1", "my/app:2"], { force: true, missingOk: true });
   * ```
   *
   * @param refs The image ids or names.
   * @param options `force`, `missingOk` and an abort signal.
   */
  async removeImage(refs: string | string[], options: DockerRemoveOptions = {}): Promise<void> {
    await this.#remove("rmi", refs, NO_SUCH_IMAGE, options);
  }

  /**
   * Removes containers.
   *
   * @example Usage
   * ```ts ignore
   * import { Docker } from "@cloudknot/cloudknot/docker";
   *
   * await new Docker().removeContainer("my-container", { force: true, missingOk: true });
   * ```
   *
   * @param nameOrIds The container names or ids.
   * @param options `force` (stop it first), `missingOk` and an abort signal.
   */
  async removeContainer(
    nameOrIds: string | string[],
    options: DockerRemoveOptions = {},
  ): Promise<void> {
    await this.#remove("rm", nameOrIds, NO_SUCH_CONTAINER, options);
  }

  /** `docker rmi` or `docker rm`; with `missingOk`, only-missing failures are no error. */
  async #remove(
    command: "rmi" | "rm",
    refs: string | string[],
    missing: RegExp,
    options: DockerRemoveOptions,
  ): Promise<void> {
    const list = typeof refs === "string" ? [refs] : refs;
    if (list.length === 0) return;
    const args = [command, ...(options.force ? ["--force"] : []), ...list];
    const result = await this.#exec(args, options);
    if (result.code !== 0 && !(options.missingOk && onlyMissing(result, missing))) {
      this.#throw(result, args);
    }
  }

  /**
   * Runs any other docker command, such as `import` or `save`, with the same
   * environment, typed errors and abort handling. Its output is logged only
   * when `operation` is given.
   *
   * @example Usage
   * ```ts ignore
   * import { Docker } from "@cloudknot/cloudknot/docker";
   *
   * const { stdout } = await new Docker().command(["image", "ls", "--quiet"]);
   * ```
   *
   * @param args The arguments after `docker`. Put no secret in them: errors show them.
   * @param options Standard input, environment, logging and abort.
   * @returns The whole output.
   */
  async command(args: string[], options: DockerCommandOptions = {}): Promise<DockerCommandResult> {
    const result = await this.#exec(args, {
      ...options,
      captureStdout: true,
      captureStderr: true,
    });
    if (result.code !== 0) this.#throw(result, args);
    return { stdout: result.stdout, stderr: result.stderr };
  }

  async #transfer(
    operation: "push" | "pull",
    args: string[],
    options: DockerStreamOptions,
  ): Promise<DockerTransferResult> {
    let digest: string | undefined;
    const result = await this.#exec(args, {
      ...options,
      operation,
      onLine: (_stream, text) => {
        digest = parseDigest(text) ?? digest;
        const layer = parseLayerStatus(text);
        return layer ? { layer } : undefined;
      },
    });
    if (result.code !== 0) this.#throw(result, args, { auth: true });
    return { digest };
  }

  async #inspect<T>(
    kind: "image" | "container" | "network",
    ref: string,
    options: DockerCallOptions,
  ): Promise<T | undefined> {
    const args = [kind, "inspect", "--format", "{{json .}}", ref];
    const result = await this.#exec(args, { ...options, captureStdout: true });
    if (result.code !== 0) {
      const missing = {
        image: NO_SUCH_IMAGE,
        container: NO_SUCH_CONTAINER,
        network: NO_SUCH_NETWORK,
      };
      if (onlyMissing(result, missing[kind])) {
        return undefined;
      }
      this.#throw(result, args);
    }
    return JSON.parse(result.stdout) as T;
  }

  async #useBuildkit(): Promise<boolean> {
    if (this.#buildkit !== undefined) return this.#buildkit;
    const fromEnv = this.#env.DOCKER_BUILDKIT ?? readEnv("DOCKER_BUILDKIT");
    if (fromEnv !== undefined && fromEnv !== "") return !/^(0|false)$/i.test(fromEnv);
    this.#buildkitProbe ??= this.#exec(["buildx", "version"], {}).then(
      (r) => r.code === 0,
      () => false,
    );
    return await this.#buildkitProbe;
  }

  #exec(
    args: string[],
    options: DockerStreamOptions & {
      env?: Record<string, string>;
      stdin?: string;
      operation?: DockerOperation;
      captureStdout?: boolean;
      captureStderr?: boolean;
      onAbort?: () => Promise<void>;
      onLine?: (
        stream: "stdout" | "stderr",
        text: string,
      ) => Omit<DockerProgressEvent, "operation" | "line"> | undefined;
    },
  ): Promise<ExecResult> {
    const operation = options.operation;
    const limit = this.#limit(args, operation, options.timeoutMs);
    const logger = options.logger ?? this.#logger;
    const progress = [this.#onProgress, options.onProgress].filter((p) => p !== undefined);
    return execDocker({
      binary: this.#binary,
      args,
      env: { ...this.#env, ...options.env },
      stdin: options.stdin,
      signal: options.signal,
      ...(limit !== undefined ? { limit } : {}),
      captureStdout: options.captureStdout,
      captureStderr: options.captureStderr,
      tailLines: this.#tailLines,
      killGraceMs: this.#killGraceMs,
      onAbort: options.onAbort,
      onLine: operation === undefined ? undefined : (stream, text) => {
        logger({ operation, stream, text });
        const event = options.onLine?.(stream, text);
        if (event) { for (const p of progress) p({ operation, line: text, ...event }); }
      },
    });
  }

  /**
   * A command's time limit: the call's, else the driver's for its kind,
   * else the variable's, else the default; `docker run` has none unless
   * its call sets one.
   */
  #limit(
    args: string[],
    operation: DockerOperation | undefined,
    timeoutMs: number | undefined,
  ): CommandLimit | undefined {
    // The command and what it works on; no option values (they may hold secrets).
    const shown = operation === "build" || operation === "push" || operation === "pull"
      ? [args[0], args.at(-1)]
      : [args[0], args[1]?.startsWith("-") ? undefined : args[1]];
    const command = [this.#binary, ...shown.filter((a) => a !== undefined)].join(" ");
    const call = "or pass a larger timeoutMs to the call";
    if (operation === "run" && timeoutMs === undefined) return undefined;
    if (operation === "build") {
      return {
        command,
        timeoutMs: limitMs(timeoutMs ?? this.#timeouts.build, 3_600_000, BUILD_VARIABLE),
        raise:
          `allow it longer with ${BUILD_VARIABLE}=<seconds> (the Docker option timeouts.build, ${call})`,
      };
    }
    if (operation === "push" || operation === "pull") {
      return {
        command,
        timeoutMs: limitMs(timeoutMs ?? this.#timeouts.transfer, 1_800_000, PUSH_VARIABLE),
        raise:
          `allow it longer with ${PUSH_VARIABLE}=<seconds> (the Docker option timeouts.transfer, ${call})`,
      };
    }
    return {
      command,
      timeoutMs: limitMs(timeoutMs ?? this.#timeouts.other, 120_000),
      raise: `check that the Docker daemon answers (docker version), ` +
        `or allow it longer with the Docker option timeouts.other (${call})`,
    };
  }

  #throw(
    result: ExecResult,
    args: string[],
    kind: { auth?: boolean; build?: { step?: string; stepOutput: string[] } } = {},
  ): never {
    const command = [this.#binary, ...args];
    const daemon = result.stderrTail.find((line) => DAEMON_DOWN.test(line));
    if (daemon !== undefined) throw new DockerDaemonNotRunningError(daemon);
    const summary = summarize(result);
    const options = { command, code: result.code, tail: [...result.tail], summary };
    if (kind.auth && result.stderrTail.some((line) => AUTH_FAILED.test(line))) {
      throw new DockerAuthError(options);
    }
    if (kind.build && result.stderrTail.some((line) => BUILDX_MISSING.test(line))) {
      throw new DockerCommandError(
        options,
        "BuildKit is enabled but the docker buildx plugin is missing. Install it " +
          "(`apt-get install docker-buildx`, or see https://docs.docker.com/go/buildx/), or " +
          "build with the legacy builder: `new Docker({ buildkit: false })` or DOCKER_BUILDKIT=0",
      );
    }
    if (kind.build) throw new DockerBuildError({ ...options, ...kind.build });
    throw new DockerCommandError(options);
  }
}

/** The line that best says what failed: the last error line on stderr. */
function summarize(result: ExecResult): string | undefined {
  const lines = result.stderrTail.filter((l) =>
    l.trim() !== "" && !/^Run '.*--help'/.test(l) && !/^(DEPRECATED|\s{4,})/.test(l)
  );
  return lines.findLast((l) =>
    /error|failed|denied|unauthorized|not found|no such|invalid/i.test(l)
  ) ??
    lines.at(-1) ?? result.tail.at(-1);
}

/** Whether every error on stderr is a "no such …" error. */
function onlyMissing(result: ExecResult, missing: RegExp): boolean {
  const errors = result.stderrTail.filter((l) => l.trim() !== "");
  return errors.length > 0 && errors.every((l) => missing.test(l));
}

/**
 * Turns variables into `--env NAME` flags whose values travel in the client's
 * environment, so they never appear on a command line. Names docker reads
 * itself go inline, and `display` hides their values.
 */
function envArgs(flag: string, values: Record<string, string>, field: string): {
  args: string[];
  env: Record<string, string>;
  display: (args: string[]) => string[];
} {
  const args: string[] = [];
  const env: Record<string, string> = {};
  const hidden = new Map<string, string>();
  for (const [key, value] of Object.entries(values)) {
    checkKey(key, field);
    if (CLIENT_ENV.test(key)) {
      args.push(flag, `${key}=${value}`);
      hidden.set(`${key}=${value}`, `${key}=***`);
    } else {
      args.push(flag, key);
      env[key] = value;
    }
  }
  return { args, env, display: (all) => all.map((a) => hidden.get(a) ?? a) };
}

function checkKey(key: string, field: string): string {
  if (key === "" || /[=\s]/.test(key)) {
    throw new CloudknotInputError(
      `The name "${key}" in ${field} is not valid; use a name without "=" or spaces`,
      { field },
    );
  }
  return key;
}

function positive(value: number, field: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new CloudknotInputError(`${field} must be a positive number, got ${value}`, { field });
  }
  return value;
}

function mountSpec(mount: DockerMount): string {
  const parts = [`type=${mount.type ?? "bind"}`];
  if (mount.source !== undefined) parts.push(`source=${mount.source}`);
  parts.push(`target=${mount.target}`);
  if (mount.readonly) parts.push("readonly");
  for (const part of parts) {
    if (part.includes(",")) {
      throw new CloudknotInputError(
        `The mount "${part}" contains a comma, which docker cannot parse; use a path without commas`,
        { field: "mounts" },
      );
    }
  }
  return parts.join(",");
}
