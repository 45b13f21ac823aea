/**
 * {@linkcode DockerImage}: a user's function packaged into a Docker image
 * that runs one cloudknot job per container, built with the local Docker
 * engine and pushed to Amazon ECR.
 *
 * The build context it writes (`Dockerfile`, `.dockerignore`, `runtime.js`,
 * `worker.js`, `function.js`, and `deno_dir/` when the function imports
 * packages) comes from `build_context.ts`.
 *
 * @module
 */
import { isOriginalImageRecord } from "../resources/original.ts";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { AwsSession, AwsSessionOptions } from "../aws/session.ts";
import { isAwsSession } from "../aws/session_mark.ts";
import { Docker } from "../docker/docker.ts";
import { DockerBuildError } from "../docker/errors.ts";
import { defined } from "../util/defined.ts";
import { CloudknotError, CloudknotInputError } from "../util/errors.ts";
import type { FunctionArtifact, FunctionKind } from "../job/function_artifact.ts";
import { StateFile, type StateHold } from "../state/state_file.ts";
import { sessionFromSettings } from "../resources/settings.ts";
import { recordSection } from "../state/sections.ts";
import {
  imageNameFrom,
  REPOSITORY_NAME_PATTERN,
  validateImageName,
  validateImageTags,
} from "./names.ts";
import type { DockerRepo } from "./docker_repo.ts";
import { BaseImageError } from "./errors.ts";
import { validateDockerImageOptions } from "./docker_image_options.ts";
import {
  artifactInContext,
  defaultBaseImage,
  GENERATED_FILES,
  readFunctionFile,
  writeBuildContext,
} from "./build_context.ts";
import { showSummary } from "../util/summary.ts";
import { describeValue, validateOptionKeys, validateOptionType } from "../util/validate.ts";

/**
 * The platform images are built for unless told otherwise: what AWS Batch
 * runs on Fargate (X86_64) and on x86 instance types, `optimal` included.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_IMAGE_PLATFORM } from "@cloudknot/cloudknot/image";
 *
 * console.log(DEFAULT_IMAGE_PLATFORM); // "linux/amd64"
 * ```
 */
export const DEFAULT_IMAGE_PLATFORM = "linux/amd64";

/** Options of {@linkcode DockerImage.create}. */
export interface DockerImageOptions {
  /**
   * The image's name (see {@linkcode validateImageName}); the local image is
   * `cloudknot/<name>`. Naming an image that the cloudknot config file knows
   * restores it.
   *
   * @default {"the function's name, kebab-cased"}
   */
  name?: string;
  /**
   * A self-contained function; its source is shipped, so it must import what
   * it needs inside itself with `await import(...)`.
   */
  // deno-lint-ignore no-explicit-any
  func?: (...args: any[]) => unknown;
  /** A module path or URL whose export is the function; its whole graph is shipped. */
  module?: string | URL;
  /** The export of `module` to call. @default {"default"} */
  exportName?: string;
  /**
   * Data files and folders the function reads beside its module at run time
   * (`new URL("./model.json", import.meta.url)`), as paths relative to the
   * module's folder, inside it (`["./model.json", "./data/"]`; a folder is
   * taken whole). They are copied into the image at the same paths beside the
   * function (`/app/model.json`); their contents are part of the function's
   * hash. Only with `module`. @default {[]}
   */
  files?: string[];
  /** The base image; it must have `deno` on `PATH`. @default {defaultBaseImage()} */
  baseImage?: string;
  /**
   * The build directory. It may hold other files: only cloudknot's files
   * (and its `deno_dir` of fetched packages) are sent to Docker, and only
   * they are removed by `clobber()`.
   *
   * @default {"<cloudknotDir>/images/<name>"}
   */
  dir?: string;
  /** Replace files in `dir` that cloudknot did not write. @default {false} */
  overwrite?: boolean;
  /** The image platform. @default {DEFAULT_IMAGE_PLATFORM} */
  platform?: string;
  /** The docker driver. @default {"new Docker()"} */
  docker?: Docker;
  /** The cloudknot config file. @default {"new StateFile()"} */
  state?: StateFile;
  /**
   * The AWS session for pushes, or options to create one (see
   * `sessionFromSettings`). It is created on the first push only, so
   * building needs no AWS settings.
   *
   * @default {"the session of the last push, else of the settings"}
   */
  session?: AwsSession | AwsSessionOptions;
  /**
   * cloudknot's own directory: default build directories (`images/<name>`),
   * registry logins (`docker-config/<registry>`, never `~/.docker`) and the
   * runtime bundle cache (`cache/runtime`).
   *
   * @default {"~/.cloudknot"}
   */
  cloudknotDir?: string;
  /**
   * Where the warning goes when a `module`'s code names its own location to
   * reach files beside it at run time (`import.meta.url`, a package's
   * `__dirname`), which the image does not hold.
   *
   * @default {console.warn}
   */
  warn?: (message: string) => void;
}

/** Options of {@linkcode DockerImage.prototype.build}. */
export interface DockerImageBuildOptions {
  /** One tag or several, all made by one build; `latest` is refused. */
  tags: string | string[];
  /** Build without Docker's layer cache. @default {false} */
  noCache?: boolean;
  /** Aborts the build. */
  signal?: AbortSignal;
  /**
   * Where notices go, such as that the image is built under emulation
   * because Docker runs on another CPU architecture. @default {console.warn}
   */
  warn?: (message: string) => void;
  /**
   * Holds the built image until {@linkcode DockerImage.prototype.push} has
   * tagged it for the repository (or {@linkcode DockerImage.prototype.clobber}
   * ends it), with one more local tag of its own, `hold-<random>`: the local
   * tags are shared by every image of this name on the Docker daemon (another
   * config file's, on this machine), and removing them there must not delete
   * the image this one is about to push. A knot's create holds its image so.
   * While it holds, the process holds a mark beside the config file
   * ({@linkcode StateFile.hold}); a process killed before it released the
   * tag leaves it to `cloudknot gc --local` (`findLocalGarbage`).
   * @default {false}
   */
  hold?: boolean;
}

/** The result of {@linkcode DockerImage.prototype.build}. */
export interface DockerImageBuildResult {
  /** The image id, `sha256:…`. */
  imageId: string;
  /** The local references made, `cloudknot/<name>:<tag>`. */
  images: string[];
}

/** Options of {@linkcode DockerImage.prototype.push}. */
export interface DockerImagePushOptions {
  /** The repository to push to. Give this or `repoUri`. */
  repo?: DockerRepo;
  /**
   * The URI of an ECR repository, `<registry>/<name>`, without a tag. Give
   * this or `repo`.
   */
  repoUri?: string;
  /** Aborts the push. */
  signal?: AbortSignal;
}

/** Options of {@linkcode DockerImage.prototype.clobber}. */
export interface DockerImageClobberOptions {
  /**
   * Leaves each local tag this object built in this process that names
   * another image by now: another config file's build of the same name, on
   * this machine, took it. What undoing a failed knot create does, so that it
   * removes only what it made. @default {false}
   */
  ownBuildOnly?: boolean;
}

const BUILD_OPTION_KEYS: Readonly<Record<keyof DockerImageBuildOptions, true>> = {
  tags: true,
  noCache: true,
  signal: true,
  warn: true,
  hold: true,
};

const PUSH_OPTION_KEYS: Readonly<Record<keyof DockerImagePushOptions, true>> = {
  repo: true,
  repoUri: true,
  signal: true,
};

const CLOBBER_OPTION_KEYS: Readonly<Record<keyof DockerImageClobberOptions, true>> = {
  ownBuildOnly: true,
};

/** The result of {@linkcode DockerImage.prototype.push}. */
export interface DockerImagePushResult {
  /** The repository's URI. */
  repoUri: string;
  /** The pushed image by digest, `<repoUri>@sha256:…`: it never changes. */
  imageUri: string;
  /** The manifest digest, `sha256:…`. */
  digest: string;
  /** The tags pushed. */
  tags: string[];
}

interface Saved {
  profile?: string;
  region?: string;
  functionHash?: string;
  buildPath?: string;
  baseImage?: string;
  images: string[];
  repoUri?: string;
  imageUri?: string;
  generated: string[];
  kind?: FunctionKind;
  createdDir: boolean;
}

/**
 * A function packaged into a Docker image. Create it with
 * {@linkcode DockerImage.create}, then {@linkcode DockerImage.prototype.build}
 * and {@linkcode DockerImage.prototype.push}. Its state lives in the cloudknot
 * config file under `[docker-image <name>]`, so naming it again in another
 * session restores it.
 *
 * A container of the image runs one job attempt:
 * `docker run <image> --run <store URL of the run> --index N` (or
 * `--offset N` with `AWS_BATCH_JOB_ARRAY_INDEX`).
 *
 * `console.log` and a Jupyter notebook show it as a short summary: its name,
 * function, base image, tags and repository.
 *
 * @example Usage
 * ```ts ignore
 * import { DockerImage, DockerRepo } from "@cloudknot/cloudknot";
 *
 * const image = await DockerImage.create({ func: (x: number) => x * x, name: "square" });
 * await image.build({ tags: ["v1"] });
 * const repo = await DockerRepo.create({ name: "my-knots" });
 * const { imageUri } = await image.push({ repo });
 * console.log(imageUri); // <registry>/my-knots@sha256:…
 * await image.clobber();
 * ```
 */
export class DockerImage {
  /** The image's name. */
  readonly name: string;
  /** The local image name, `cloudknot/<name>`. */
  readonly localName: string;
  /** The build directory. */
  readonly buildPath: string;
  /** The base image. */
  readonly baseImage: string;
  /** The image platform. */
  readonly platform: string;
  #artifact: FunctionArtifact | undefined;
  #docker: Docker;
  #state: StateFile;
  #sessionInput: AwsSession | AwsSessionOptions | undefined;
  #session: Promise<AwsSession> | undefined;
  #cloudknotDir: string;
  #saved: Saved;
  #clobbered = false;
  /**
   * What this object's last build made, in this process: the image id and its
   * local references, which another build of the same name may take since.
   */
  #built: { imageId: string; refs: string[] } | undefined;
  /** The tag that holds the last build ({@linkcode DockerImageBuildOptions.hold}). */
  #hold: StateHold | undefined;

  private constructor(
    fields: {
      name: string;
      buildPath: string;
      baseImage: string;
      platform: string;
      artifact: FunctionArtifact | undefined;
      docker: Docker;
      state: StateFile;
      session: AwsSession | AwsSessionOptions | undefined;
      cloudknotDir: string;
    },
    saved: Saved,
  ) {
    this.name = fields.name;
    this.localName = `cloudknot/${fields.name}`;
    this.buildPath = fields.buildPath;
    this.baseImage = fields.baseImage;
    this.platform = fields.platform;
    this.#artifact = fields.artifact;
    this.#docker = fields.docker;
    this.#state = fields.state;
    this.#sessionInput = fields.session;
    this.#cloudknotDir = fields.cloudknotDir;
    this.#saved = saved;
  }

  /**
   * Creates an image's build directory from a function, or restores an
   * image by name from the cloudknot config file. Given a function whose
   * hash differs from the saved one, it rewrites `function.js` in the same
   * directory (the "refresh function" flow); the next build then remakes
   * only the last layer. Nothing is built yet.
   *
   * @example Usage
   * ```ts ignore
   * import { DockerImage } from "@cloudknot/cloudknot";
   *
   * const fresh = await DockerImage.create({ module: "./jobs.ts", exportName: "simulate" });
   * const restored = await DockerImage.create({ name: "simulate" });
   * console.log(restored.buildPath === fresh.buildPath); // true
   * ```
   *
   * @param options The function (or the name of a saved image), base image, directory and injectable parts.
   * @param packaged `artifact` is the function of `func` or `module`, packaged
   *   already by the caller (a knot that compared its hash with its own, or
   *   checked it before making its folder), so it is not packaged again, nor
   *   its warning given again. @default {"packaged here from the options"}
   * @returns The image.
   */
  static async create(
    options: DockerImageOptions,
    packaged: { artifact?: FunctionArtifact } = {},
  ): Promise<DockerImage> {
    validateDockerImageOptions(options);
    const o = options;
    const state = o.state ?? new StateFile();
    const cloudknotDir = resolve(o.cloudknotDir ?? join(homedir(), ".cloudknot"));

    if (o.func === undefined && o.module === undefined && o.name === undefined) {
      throw new CloudknotInputError(
        "Pass func, or module and exportName, to make an image, or the name of a saved image to restore it",
        { field: "func" },
      );
    }
    // The packaging (the bundler, the source maps) loads with the first image made.
    let artifact = packaged.artifact ??
      await (await import("../job/artifact_of.ts")).artifactOf(o, defined({ warn: o.warn }));
    let name = o.name;
    if (name === undefined) {
      // An arrow function written in the options object is named after the key, "func".
      const functionName = o.func !== undefined ? o.func.name : artifact?.name ?? "";
      const derived = /^(func|anonymous)?$/.test(functionName) ? "" : imageNameFrom(functionName);
      if (derived === "") {
        throw new CloudknotInputError(
          "Cannot name the image after an anonymous function: pass name",
          { field: "name" },
        );
      }
      name = validateImageName(derived.slice(0, 128).replace(/[-._]+$/, ""));
    }
    const section = recordSection("docker-image", name);
    const keys = await state.section(section);
    if (keys !== undefined && isOriginalImageRecord(keys)) {
      // Its build directory and record are the Python tool's: neither is touched.
      throw new CloudknotInputError(
        `Image "${name}" in ${state.path} was made by the Python cloudknot (its build files are ` +
          `in ${keys.get("build-path") || "its build path"}): pass another name`,
        { field: "name" },
      );
    }
    const saved = readSaved(keys);
    if (artifact === undefined && saved.buildPath === undefined) {
      throw new CloudknotInputError(
        `There is no image named "${name}" in ${state.path} to restore: pass func, or module ` +
          `and exportName, to create it`,
        { field: "name" },
      );
    }
    const dir = o.dir === undefined ? undefined : resolve(o.dir);
    if (saved.buildPath !== undefined && dir !== undefined && dir !== saved.buildPath) {
      throw new CloudknotInputError(
        `Image "${name}" already lives in ${saved.buildPath}: omit dir to use it, or clobber ` +
          `the image first to move it to ${dir}`,
        { field: "dir" },
      );
    }
    const buildPath = saved.buildPath ?? dir ?? join(cloudknotDir, "images", name);
    const baseImage = o.baseImage ?? saved.baseImage ?? defaultBaseImage();
    const platform = o.platform ?? DEFAULT_IMAGE_PLATFORM;

    // The function: the given one, or the one already in the build directory.
    artifact ??= await artifactInContext(buildPath, saved.kind ?? "func", name, {
      files: saved.generated.includes("files"),
    });
    const context = await writeBuildContext({
      buildPath,
      name,
      baseImage,
      artifact,
      runtimeCacheDir: join(cloudknotDir, "cache", "runtime"),
      generated: saved.generated,
      overwrite: o.overwrite,
    });
    const fresh: Saved = {
      ...saved,
      buildPath,
      baseImage,
      generated: context.generated,
      createdDir: saved.createdDir || context.createdDir,
      ...(artifact !== undefined ? { functionHash: artifact.hash, kind: artifact.kind } : {}),
    };
    if (isAwsSession(o.session)) {
      fresh.profile = o.session.profile;
      fresh.region = o.session.region;
    }
    await state.setMany(section, savedToState(fresh));
    return new DockerImage({
      name,
      buildPath,
      baseImage,
      platform,
      artifact,
      docker: o.docker ?? new Docker(),
      state,
      session: o.session,
      cloudknotDir,
    }, fresh);
  }

  /**
   * The packaged function, or `undefined` when a restored image's
   * `function.js` is gone.
   *
   * @example Usage
   * ```ts ignore
   * import { DockerImage } from "@cloudknot/cloudknot";
   *
   * const image = await DockerImage.create({ func: function square(x: number) { return x * x; } });
   * console.log(image.artifact?.kind, image.artifact?.hash);
   * ```
   *
   * @returns The artifact.
   */
  get artifact(): FunctionArtifact | undefined {
    return this.#artifact;
  }

  /**
   * The local references built so far, `cloudknot/<name>:<tag>`, the last
   * build's last.
   *
   * @example Usage
   * ```ts ignore
   * import { DockerImage } from "@cloudknot/cloudknot";
   *
   * const image = await DockerImage.create({ name: "square" });
   * console.log(image.images); // [ "cloudknot/square:v1" ]
   * ```
   *
   * @returns A copy of the list.
   */
  get images(): string[] {
    return [...this.#saved.images];
  }

  /**
   * The repository the image was last pushed to, without a tag.
   *
   * @example Usage
   * ```ts ignore
   * import { DockerImage } from "@cloudknot/cloudknot";
   *
   * const image = await DockerImage.create({ name: "square" });
   * console.log(image.repoUri); // "123456789012.dkr.ecr.us-east-1.amazonaws.com/cloudknot"
   * ```
   *
   * @returns The URI, or `undefined` before the first push.
   */
  get repoUri(): string | undefined {
    return this.#saved.repoUri;
  }

  /**
   * The pushed image by digest, `<repoUri>@sha256:…`. Job definitions use it,
   * so pushing the same tag again never changes what a knot runs.
   *
   * @example Usage
   * ```ts ignore
   * import { DockerImage } from "@cloudknot/cloudknot";
   *
   * const image = await DockerImage.create({ name: "square" });
   * console.log(image.imageUri);
   * ```
   *
   * @returns The URI, or `undefined` before the first push.
   */
  get imageUri(): string | undefined {
    return this.#saved.imageUri;
  }

  /**
   * The files cloudknot wrote into the build directory, the only ones
   * {@linkcode DockerImage.prototype.clobber} removes.
   *
   * @example Usage
   * ```ts ignore
   * import { DockerImage } from "@cloudknot/cloudknot";
   *
   * const image = await DockerImage.create({ name: "square" });
   * console.log(image.generated); // [ "Dockerfile", ".dockerignore", "runtime.js", "worker.js", "function.js" ]
   * ```
   *
   * @returns File names relative to the build directory.
   */
  get generated(): string[] {
    return [...this.#saved.generated];
  }

  static {
    showSummary(DockerImage, (image) => {
      const artifact = image.#artifact;
      return [`DockerImage ${image.name}${image.#clobbered ? " (clobbered)" : ""}`, [
        ["function", artifact && `${artifact.name} (${artifact.kind})`],
        ["base image", image.baseImage],
        ["platform", image.platform],
        ["images", image.images.length > 0 ? image.images.join(", ") : "none built"],
        ["pushed to", image.imageUri],
        ["build directory", image.buildPath],
      ]];
    });
  }

  /**
   * Builds the image with every tag in one `docker build`. Tags are checked
   * first (`latest` is refused). A base image without a working `deno`
   * fails with a {@linkcode BaseImageError}; any other failure with the
   * driver's `DockerBuildError`, which names the failing step and keeps its
   * output.
   *
   * @example Usage
   * ```ts ignore
   * import { DockerImage } from "@cloudknot/cloudknot";
   *
   * const image = await DockerImage.create({ func: function square(x: number) { return x * x; } });
   * const { imageId, images } = await image.build({ tags: ["v1", "stable"] });
   * ```
   *
   * @param options The tags, `noCache` and an abort signal.
   * @returns The image id and the local references made.
   */
  async build(options: DockerImageBuildOptions): Promise<DockerImageBuildResult> {
    this.#checkLive();
    validateOptionKeys(options ?? {}, BUILD_OPTION_KEYS, "image.build()");
    const tags = validateImageTags(options?.tags);
    if (
      this.#artifact === undefined ||
      await readFunctionFile(this.buildPath) === undefined
    ) {
      throw new CloudknotInputError(
        `The build directory ${this.buildPath} has no function.js: create the image again with ` +
          `func, or module and exportName`,
        { field: "func" },
      );
    }
    const refs = tags.map((tag) => `${this.localName}:${tag}`);
    await this.#noticeEmulation(options.warn ?? console.warn);
    await this.#release();
    const tag = options.hold ? `${this.localName}:hold-${crypto.randomUUID()}` : undefined;
    // Marked beside the config file while this process lives, before the tag exists, so that
    // `gc --local` removes the tag of a process killed before it released it, never a live one's.
    const hold = tag !== undefined ? await this.#state.hold(tag) : undefined;
    let imageId: string;
    try {
      // The hold is one of the build's own tags: the image is never without it.
      ({ imageId } = await this.#docker.build(this.buildPath, {
        tags: tag !== undefined ? [...refs, tag] : refs,
        platform: this.platform,
        ...(options.noCache ? { noCache: true } : {}),
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
      }));
    } catch (e) {
      await hold?.release();
      throw e instanceof DockerBuildError ? explainBuildError(e, this.baseImage) : e;
    }
    this.#built = { imageId, refs };
    this.#hold = hold;
    this.#saved.images = [...this.#saved.images.filter((r) => !refs.includes(r)), ...refs];
    await this.#state.set(
      recordSection("docker-image", this.name),
      "images",
      this.#saved.images.join(" "),
    );
    return { imageId, images: refs };
  }

  /** Says so when Docker will build the image for another CPU than its own. */
  async #noticeEmulation(warn: (message: string) => void): Promise<void> {
    const want = this.platform.split("/")[1];
    const { server } = await this.#docker.version();
    const own = server.arch === "aarch64"
      ? "arm64"
      : server.arch === "x86_64"
      ? "amd64"
      : server.arch;
    if (want === undefined || own === "" || own === want) return;
    warn(
      `cloudknot: Docker runs on ${own} and image ${this.name} is built for ${this.platform} ` +
        `(what its jobs run on), so Docker builds it under emulation: slower than a native ` +
        `build, and it needs QEMU emulation for ${want} installed (Docker Desktop has it)`,
    );
  }

  /**
   * Pushes the latest build, with each of its tags, to an ECR repository
   * (tags of older builds that now name another image stay local). It logs
   * in through ECR's
   * `GetAuthorizationToken`, with the credentials kept in
   * `<cloudknotDir>/docker-config/<registry>` (never `~/.docker`), then tags
   * and pushes each image and records the pushed image's digest.
   *
   * @example Usage
   * ```ts ignore
   * import { DockerImage, DockerRepo } from "@cloudknot/cloudknot";
   *
   * const image = await DockerImage.create({ name: "square" });
   * const { imageUri } = await image.push({ repo: await DockerRepo.create({ name: "my-knots" }) });
   * ```
   *
   * @param options `repo` or `repoUri`, and an abort signal.
   * @returns The repository, the image by digest and the tags pushed.
   */
  async push(options: DockerImagePushOptions): Promise<DockerImagePushResult> {
    this.#checkLive();
    validateOptionKeys(options ?? {}, PUSH_OPTION_KEYS, "image.push()");
    const repo = options?.repo;
    const given = options?.repoUri;
    if ((repo === undefined) === (given === undefined)) {
      throw new CloudknotInputError("Pass exactly one of repo (a DockerRepo) and repoUri", {
        field: "repo",
      });
    }
    if (repo !== undefined && typeof (repo as { repoUri?: unknown }).repoUri !== "string") {
      const name = typeof repo === "string" ? JSON.stringify(repo) : '"..."';
      throw new CloudknotInputError(
        `repo must be a DockerRepo, not ${describeValue(repo)}: pass ` +
          `repo: await DockerRepo.create({ name: ${name} }) (which finds or makes the ` +
          `repository), or the repository's URI as repoUri`,
        { field: "repo" },
      );
    }
    const repoUri = repo?.repoUri ?? checkRepoUri(given!);
    if (this.#saved.images.length === 0) {
      throw new CloudknotInputError(
        `Image ${this.name} has not been built: call build({ tags }) before push()`,
        { field: "tags" },
      );
    }
    // The tags of the latest build: every built tag that still names its image.
    // An image this object built is pushed by its id, whatever its local tags
    // name now: another build of the same name (another config file's, on this
    // machine) may have taken them, or removed them.
    const signal = options.signal !== undefined ? { signal: options.signal } : {};
    const latest = this.#built?.refs.at(-1) ?? this.#saved.images.at(-1)!;
    const imageId = this.#built !== undefined
      ? (await this.#docker.inspectImage(this.#built.imageId, signal))?.Id
      : (await this.#docker.inspectImage(latest, signal))?.Id;
    if (imageId === undefined) {
      throw new CloudknotInputError(
        `The image ${latest} is no longer on this machine: call build({ tags }) again before push()`,
        { field: "tags" },
      );
    }
    const refs = this.#built !== undefined ? [...this.#built.refs] : [];
    for (const ref of this.#built !== undefined ? [] : this.#saved.images) {
      if (ref === latest || (await this.#docker.inspectImage(ref, signal))?.Id === imageId) {
        refs.push(ref);
      }
    }
    const host = repoUri.slice(0, repoUri.indexOf("/"));
    const session = repo?.session ?? await this.#awsSession();
    const auth = (await session.ecr.getAuthorizationToken({})).authorizationData?.[0];
    if (!auth?.authorizationToken || !auth.proxyEndpoint) {
      throw new CloudknotError(
        "ECR returned no authorization token: check the ECR endpoint and your credentials",
      );
    }
    const registry = auth.proxyEndpoint.replace(/^https?:\/\//, "").replace(/\/+$/, "");
    if (registry !== host) {
      throw new CloudknotInputError(
        `The repository ${repoUri} is not in this session's ECR registry ${registry}: pass a ` +
          `DockerRepo, or a repoUri in ${registry} (or a session for the repository's account and region)`,
        { field: "repoUri" },
      );
    }
    const decoded = atob(auth.authorizationToken);
    const colon = decoded.indexOf(":");
    const config = join(this.#cloudknotDir, "docker-config", registry.replace(/[^\w.-]/g, "_"));
    await Deno.mkdir(config, { recursive: true, mode: 0o700 });
    const docker = this.#docker.withEnv({ DOCKER_CONFIG: config });
    await docker.login(auth.proxyEndpoint, {
      username: decoded.slice(0, colon),
      password: decoded.slice(colon + 1),
      ...signal,
    });

    let digest: string | undefined;
    const tags: string[] = [];
    for (const ref of refs) {
      const tag = ref.slice(ref.lastIndexOf(":") + 1);
      const remote = `${repoUri}:${tag}`;
      await docker.tag(imageId, remote, signal);
      digest = (await docker.push(remote, signal)).digest;
      tags.push(tag);
    }
    const last = `${repoUri}:${tags.at(-1)}`;
    digest ??= (await docker.inspectImage(last, signal))?.RepoDigests
      ?.find((d) => d.startsWith(`${repoUri}@`))?.slice(repoUri.length + 1);
    if (digest === undefined) {
      throw new CloudknotError(
        `The registry reported no digest for ${last}: check the push output above and push again`,
      );
    }
    const imageUri = `${repoUri}@${digest}`;
    // Tagged for the repository, the image needs its hold no more.
    await this.#release();
    Object.assign(this.#saved, {
      repoUri,
      imageUri,
      profile: session.profile,
      region: session.region,
    });
    await this.#state.setMany(recordSection("docker-image", this.name), {
      "repo-uri": repoUri,
      "image-uri": imageUri,
      profile: session.profile,
      region: session.region,
    });
    return { repoUri, imageUri, digest, tags };
  }

  /**
   * Removes the local images (missing ones are fine), the files cloudknot
   * wrote (never another file in the build directory), the directory when
   * cloudknot made it and it is now empty, and the image's section of the
   * cloudknot config file. The pushed image stays: its repository owns it.
   * With `ownBuildOnly`, a local tag this object built in this process that
   * now names another image is left to that image.
   *
   * @example Usage
   * ```ts ignore
   * import { DockerImage } from "@cloudknot/cloudknot";
   *
   * const image = await DockerImage.create({ name: "square" });
   * await image.clobber();
   * ```
   *
   * @param options `ownBuildOnly`, to leave the local tags another build has taken.
   */
  async clobber(options: DockerImageClobberOptions = {}): Promise<void> {
    validateOptionKeys(options, CLOBBER_OPTION_KEYS, "image.clobber()");
    validateOptionType(options, "ownBuildOnly", "boolean");
    if (this.#clobbered) return;
    const all = [...this.#saved.images];
    if (this.#saved.repoUri !== undefined) {
      for (const ref of this.#saved.images) {
        all.push(`${this.#saved.repoUri}:${ref.slice(ref.lastIndexOf(":") + 1)}`);
      }
    }
    const built = options.ownBuildOnly ? this.#built : undefined;
    const tagOf = (ref: string) => ref.slice(ref.lastIndexOf(":") + 1);
    const refs: string[] = [];
    for (const ref of all) {
      const mine = built === undefined || !built.refs.some((r) => tagOf(r) === tagOf(ref)) ||
        (await this.#docker.inspectImage(ref))?.Id === built.imageId;
      if (mine) refs.push(ref);
    }
    // Untags each; an image another tag still holds (another build's hold) stays.
    await this.#docker.removeImage(refs, { force: true, missingOk: true });
    await this.#release();
    for (const file of this.#saved.generated) {
      await Deno.remove(join(this.buildPath, file), { recursive: true }).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
    }
    if (this.#saved.createdDir) {
      const empty = await Array.fromAsync(Deno.readDir(this.buildPath)).then(
        (entries) => entries.length === 0,
        () => false,
      );
      if (empty) await Deno.remove(this.buildPath);
    }
    await this.#state.remove(recordSection("docker-image", this.name));
    this.#clobbered = true;
  }

  /**
   * Removes the tag that holds the last build ({@linkcode DockerImageBuildOptions.hold}),
   * if any: for a caller that builds with `hold` and then neither pushes nor
   * clobbers the image (`push()` and `clobber()` release it themselves). The
   * image stays while another tag names it.
   *
   * @example Usage
   * ```ts ignore
   * import { DockerImage } from "@cloudknot/cloudknot";
   *
   * const image = await DockerImage.create({ name: "square" });
   * await image.build({ tags: ["v1"], hold: true });
   * await image.release();
   * ```
   */
  async release(): Promise<void> {
    await this.#release();
  }

  async #release(): Promise<void> {
    if (this.#hold === undefined) return;
    // The tag first: a process killed between the two leaves a mark, which gc finds, not a tag.
    await this.#docker.removeImage(this.#hold.name, { force: true, missingOk: true });
    await this.#hold.release();
    this.#hold = undefined;
  }

  #awsSession(): Promise<AwsSession> {
    this.#session ??= sessionFromSettings({
      state: this.#state,
      aws: this.#sessionInput,
      recorded: { profile: this.#saved.profile, region: this.#saved.region },
    });
    return this.#session;
  }

  #checkLive(): void {
    if (this.#clobbered) {
      throw new CloudknotInputError(
        `Image ${this.name} was clobbered: create it again with DockerImage.create()`,
      );
    }
  }
}

/** Turns a failure of the deno check (or of FROM) into a {@linkcode BaseImageError}. */
function explainBuildError(error: DockerBuildError, baseImage: string): CloudknotError {
  const step = error.step ?? "";
  const output = error.stepOutput.length > 0 ? error.stepOutput : error.tail;
  const shown = output
    // deno-lint-ignore no-control-regex
    .map((line) => line.replace(/\x1b\[[0-9;]*m/g, "").trimEnd())
    .filter((line) => line !== "" && !/^ ---> |^Removing intermediate container/.test(line))
    .slice(-15).join("\n");
  const official = defaultBaseImage();
  const options = {
    baseImage,
    step,
    stepOutput: error.stepOutput,
    cause: error,
  };
  if (/RUN \[?"?deno"?,? "?--version/.test(step)) {
    if (output.some((line) => /executable file not found|no such file or directory/i.test(line))) {
      return new BaseImageError(
        `The base image ${baseImage} has no deno on PATH: use ${official} or a base with deno ` +
          `installed.\nOutput of ${step.trim()}:\n${shown}`,
        { ...options, problem: "no-deno" },
      );
    }
    return new BaseImageError(
      `The deno of the base image ${baseImage} does not run (\`deno --version\` failed with exit ` +
        `code ${error.code}): use ${official} or a base whose deno works.\nOutput of ` +
        `${step.trim()}:\n${shown}`,
      { ...options, problem: "deno-failed" },
    );
  }
  if (/FROM /.test(step) || output.some((l) => /pull access denied|manifest unknown/i.test(l))) {
    return new BaseImageError(
      `Cannot use the base image ${baseImage}: it is not on this machine and cannot be pulled. ` +
        `Pull or build it first, or pass another baseImage.\nOutput:\n${shown}`,
      { ...options, problem: "unavailable" },
    );
  }
  return error;
}

function checkRepoUri(uri: unknown): string {
  const match = typeof uri === "string" ? /^([^/\s]+)\/([^:@\s]+)$/.exec(uri) : null;
  const path = match?.[2] ?? "";
  if (
    match === null || !/[.:]|^localhost$/.test(match[1]!) ||
    path.length < 2 || path.length > 256 || !REPOSITORY_NAME_PATTERN.test(path)
  ) {
    throw new CloudknotInputError(
      `Invalid repoUri ${JSON.stringify(uri)}: pass <registry>/<repository> with no tag or ` +
        `digest, such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/cloudknot`,
      { field: "repoUri" },
    );
  }
  return uri as string;
}

function readSaved(section: Map<string, string> | undefined): Saved {
  const get = (key: string) => {
    const value = section?.get(key);
    return value === undefined || value === "" ? undefined : value;
  };
  const list = (key: string) => (get(key) ?? "").split(/\s+/).filter((s) => s !== "");
  const kind = get("kind");
  return {
    profile: get("profile"),
    region: get("region"),
    functionHash: get("function-hash"),
    buildPath: get("build-path"),
    baseImage: get("base-image"),
    images: list("images"),
    repoUri: get("repo-uri"),
    imageUri: get("image-uri"),
    generated: list("generated").filter((f) => GENERATED_FILES.includes(f)),
    kind: kind === "module" || kind === "func" ? kind : undefined,
    createdDir: get("created-dir") === "true",
  } as Saved;
}

function savedToState(saved: Saved): Record<string, string | undefined> {
  return {
    profile: saved.profile,
    region: saved.region,
    "function-hash": saved.functionHash,
    "build-path": saved.buildPath,
    "base-image": saved.baseImage,
    images: saved.images.join(" "),
    "repo-uri": saved.repoUri,
    "image-uri": saved.imageUri,
    generated: saved.generated.join(" "),
    kind: saved.kind,
    "created-dir": String(saved.createdDir),
  };
}
