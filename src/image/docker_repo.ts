/**
 * {@linkcode DockerRepo}: an Amazon ECR repository that knots push their
 * images to, created or adopted by name.
 *
 * @module
 */
import { AwsError } from "../aws/core/error.ts";
import type { AwsSession, AwsSessionOptions } from "../aws/session.ts";
import type { Repository } from "../aws/services/ecr.ts";
import { CloudknotError, CloudknotInputError } from "../util/errors.ts";
import { StateFile } from "../state/state_file.ts";
import { getEcrRepo, sessionFromSettings } from "../resources/settings.ts";
import { reposSection } from "../state/sections.ts";
import { validateImageTag, validateRepositoryName, validateResourceTags } from "./names.ts";
import { DefaultRepositoryError } from "./errors.ts";
import { describeValue, validateOptionKeys, validateOptionType } from "../util/validate.ts";
import { showSummary } from "../util/summary.ts";

/** The tags every repository gets, besides the caller's. */
export const DEFAULT_REPO_TAGS: Readonly<Record<string, string>> = Object.freeze({
  Project: "Cloudknot global config",
  ManagedBy: "cloudknot",
});

/** The most tags ECR takes on a repository. */
const MAX_ECR_TAGS = 50;

/** Options of {@linkcode DockerRepo.create}. */
export interface DockerRepoOptions {
  /** The ECR repository name: 2 to 256 lowercase characters (see {@linkcode validateRepositoryName}). */
  name: string;
  /**
   * AWS tags for the repository, added to {@linkcode DEFAULT_REPO_TAGS}
   * (a key given here wins).
   */
  tags?: Record<string, string>;
  /**
   * The AWS session, or options to create one (see `sessionFromSettings`).
   *
   * @default {"a session from the settings"}
   */
  session?: AwsSession | AwsSessionOptions;
  /** The cloudknot config file. @default {"new StateFile()"} */
  state?: StateFile;
}

const DOCKER_REPO_OPTION_KEYS: Record<keyof DockerRepoOptions, true> = {
  name: true,
  tags: true,
  session: true,
  state: true,
};

/**
 * Checks every option of {@linkcode DockerRepo.create} before any AWS call:
 * the name, the tags (with {@linkcode DEFAULT_REPO_TAGS}) and the injectable
 * parts.
 *
 * @example Usage
 * ```ts
 * import { validateDockerRepoOptions } from "@cloudknot/cloudknot/image";
 *
 * console.log(validateDockerRepoOptions({ name: "my-knots" }).name); // "my-knots"
 * ```
 *
 * @param options The options as given.
 * @returns The name and the tags as ECR takes them.
 */
export function validateDockerRepoOptions(
  options: DockerRepoOptions,
): { name: string; tags: { Key: string; Value: string }[] } {
  validateOptionKeys(options, DOCKER_REPO_OPTION_KEYS, "DockerRepo.create()");
  const name = validateRepositoryName(options.name);
  if (typeof options.tags === "object" && options.tags !== null) {
    // ManagedBy=cloudknot tells the repositories cloudknot made (repo list, gc, clobber).
    const own = Object.keys(options.tags).find((key) =>
      key === "ManagedBy" || /^cloudknot:/i.test(key)
    );
    if (own !== undefined) {
      throw new CloudknotInputError(
        `The tag key ${own} is cloudknot's own (it tells the repositories cloudknot made): ` +
          `pass tags under other keys`,
        { field: "tags" },
      );
    }
    // ECR counts the tags every repository gets too: say how many the caller may pass.
    const added = Object.keys(DEFAULT_REPO_TAGS).filter((key) =>
      !Object.hasOwn(options.tags!, key)
    );
    const count = Object.keys(options.tags).length;
    if (count + added.length > MAX_ECR_TAGS) {
      throw new CloudknotInputError(
        `Too many tags (${count}): pass at most ${MAX_ECR_TAGS - added.length}; AWS allows ` +
          `${MAX_ECR_TAGS} per repository and cloudknot adds ${added.join(" and ")}`,
        { field: "tags" },
      );
    }
  }
  if (options.tags !== undefined) validateResourceTags(options.tags);
  validateOptionType(options, "state", StateFile, "a StateFile");
  if (
    options.session !== undefined &&
    (options.session === null || typeof options.session !== "object")
  ) {
    throw new CloudknotInputError(
      `session must be an AwsSession or session options, not ${describeValue(options.session)}`,
      { field: "session" },
    );
  }
  return { name, tags: validateResourceTags({ ...DEFAULT_REPO_TAGS, ...options.tags }) };
}

/** Options of {@linkcode DockerRepo.defaultName}. */
export interface DefaultRepoNameOptions {
  /** The cloudknot config file. @default {"new StateFile()"} */
  state?: StateFile;
  /** Reads an environment variable. @default {Deno.env.get} */
  env?: (name: string) => string | undefined;
}

const DEFAULT_REPO_NAME_OPTION_KEYS: Readonly<Record<keyof DefaultRepoNameOptions, true>> = {
  state: true,
  env: true,
};

const CLOBBER_OPTION_KEYS: Readonly<Record<"env", true>> = { env: true };

/**
 * An Amazon ECR repository. {@linkcode DockerRepo.create} creates it with
 * scan-on-push and AES-256 encryption, or adopts the repository of that name,
 * and records it in the cloudknot config file under
 * `[docker-repos <profile> <region>]`.
 *
 * `console.log` and a Jupyter notebook show it as a short summary: its name,
 * URI and region.
 *
 * @example Usage
 * ```ts ignore
 * import { DockerImage, DockerRepo } from "@cloudknot/cloudknot";
 *
 * const repo = await DockerRepo.create({ name: "my-knots", tags: { Team: "imaging" } });
 * const image = await DockerImage.create({ func: (x: number) => x * x, name: "square" });
 * await image.build({ tags: ["v1"] });
 * await image.push({ repo });
 * await repo.removeImage("v1"); // only this tag
 * await repo.clobber(); // the whole repository (refused for the default one)
 * ```
 */
export class DockerRepo {
  /** The repository's name. */
  readonly name: string;
  /** Its URI, `<registry>/<name>`, without a tag. */
  readonly repoUri: string;
  /** The registry (account) id. */
  readonly registryId: string;
  /** The repository's ARN. */
  readonly arn: string;
  /** Whether it existed before {@linkcode DockerRepo.create} (adopted) rather than being created. */
  readonly adopted: boolean;
  #session: AwsSession;
  #state: StateFile;
  #clobbered = false;

  private constructor(
    repository: Required<Pick<Repository, "repositoryName" | "repositoryUri">> & Repository,
    adopted: boolean,
    session: AwsSession,
    state: StateFile,
  ) {
    this.name = repository.repositoryName;
    this.repoUri = repository.repositoryUri;
    this.registryId = repository.registryId ?? "";
    this.arn = repository.repositoryArn ?? "";
    this.adopted = adopted;
    this.#session = session;
    this.#state = state;
  }

  /**
   * Creates the repository, or adopts it when it exists. The name and tags
   * are checked before any AWS call.
   *
   * @example Usage
   * ```ts ignore
   * import { DockerRepo } from "@cloudknot/cloudknot";
   *
   * const repo = await DockerRepo.create({ name: "my-knots" });
   * console.log(repo.repoUri, repo.registryId, repo.adopted);
   * ```
   *
   * @param options The name, tags, session and config file.
   * @param made Tags the repository gets only when this call makes it, in the request that makes
   *   it (cloudknot's own keys allowed: a knot's owner and its user's tags), never on one
   *   adopted. @default {{}}
   * @returns The repository.
   */
  static async create(
    options: DockerRepoOptions,
    made: { tags?: Record<string, string> } = {},
  ): Promise<DockerRepo> {
    const { name, tags } = validateDockerRepoOptions(options);
    const state = options.state ?? new StateFile();
    const session = await sessionFromSettings({ state, aws: options.session });
    const ecr = session.ecr;
    // A config file the record cannot be written to is refused before anything is made.
    await state.assertWritable();

    let repository = await describe(session, name);
    let adopted = repository !== undefined;
    // One that exists gets the caller's tags alone: cloudknot's own (ManagedBy=cloudknot) would
    // claim a repository others may have made, and push to, as cloudknot's (`repo clobber`'s
    // check), and an adoption without tags (every knot's) changes nothing.
    const given = tags.filter((tag) => Object.hasOwn(options.tags ?? {}, tag.Key));
    if (repository?.repositoryArn && given.length > 0) {
      await ecr.tagResource({ resourceArn: repository.repositoryArn, tags: given });
    }
    // A name is unique: when an attempt's outcome is unknown (a lost answer, a server error) and
    // the repository is not there, creating it again cannot make a second one.
    for (let attempt = 1; repository === undefined; attempt++) {
      try {
        repository = (await ecr.createRepository({
          repositoryName: name,
          tags: [
            ...tags.filter((tag) => !Object.hasOwn(made.tags ?? {}, tag.Key)),
            ...Object.entries(made.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
          ],
          imageScanningConfiguration: { scanOnPush: true },
          encryptionConfiguration: { encryptionType: "AES256" },
        })).repository;
      } catch (e) {
        // Another process made it first, or our answer was lost: look again.
        if (!(e instanceof AwsError) || !/^(RepositoryAlreadyExists|OutcomeUnknown)/.test(e.code)) {
          throw e;
        }
        repository = await describe(session, name);
        if (repository === undefined && (e.code !== "OutcomeUnknown" || attempt >= 3)) throw e;
        // What exists after an unknown outcome is this call's own.
        adopted = e.code !== "OutcomeUnknown" && attempt === 1;
      }
    }
    if (!repository?.repositoryName || !repository.repositoryUri) {
      throw new CloudknotError(
        `ECR returned no URI for repository ${name}; check the ECR endpoint and try again`,
      );
    }
    await state.set(
      reposSection(session.profile, session.region),
      repository.repositoryName,
      repository.repositoryUri,
    );
    return new DockerRepo(
      {
        ...repository,
        repositoryName: repository.repositoryName,
        repositoryUri: repository.repositoryUri,
      },
      adopted,
      session,
      state,
    );
  }

  /**
   * The default repository's name: `[aws] ecr-repo` in the cloudknot config
   * file, else `CLOUDKNOT_ECR_REPO`, else `cloudknot`. Knots share it, so
   * {@linkcode DockerRepo.prototype.clobber} refuses to delete it.
   *
   * @example Usage
   * ```ts
   * import { DockerRepo } from "@cloudknot/cloudknot";
   * import { StateFile } from "@cloudknot/cloudknot/state";
   *
   * const dir = await Deno.makeTempDir();
   * const state = new StateFile({ path: `${dir}/cloudknot` });
   * console.log(await DockerRepo.defaultName({ state, env: () => undefined })); // "cloudknot"
   * await Deno.remove(dir, { recursive: true });
   * ```
   *
   * @param options The config file and the environment to read.
   * @returns The name.
   */
  static async defaultName(options: DefaultRepoNameOptions = {}): Promise<string> {
    validateOptionKeys(options, DEFAULT_REPO_NAME_OPTION_KEYS, "DockerRepo.defaultName()");
    return await getEcrRepo(options);
  }

  /**
   * The AWS session the repository was created or adopted with.
   *
   * @example Usage
   * ```ts ignore
   * import { DockerRepo } from "@cloudknot/cloudknot";
   *
   * const repo = await DockerRepo.create({ name: "my-knots" });
   * console.log(repo.session.region);
   * ```
   *
   * @returns The session.
   */
  get session(): AwsSession {
    return this.#session;
  }

  static {
    showSummary(DockerRepo, (repo) => [
      `DockerRepo ${repo.name}${repo.#clobbered ? " (clobbered)" : ""}`,
      [
        ["URI", repo.repoUri],
        ["region", repo.#session.region],
        ["adopted", repo.adopted ? "yes, an existing repository" : "no, created here"],
      ],
    ]);
  }

  /**
   * Removes one tag from the repository. As ECR does, the image itself stays
   * while other tags point to it.
   *
   * @example Usage
   * ```ts ignore
   * import { DockerRepo } from "@cloudknot/cloudknot";
   *
   * const repo = await DockerRepo.create({ name: "cloudknot" });
   * console.log(await repo.removeImage("square-v1")); // true, or false when there was no such tag
   * ```
   *
   * @param tag The tag.
   * @returns Whether the tag existed.
   */
  async removeImage(tag: string): Promise<boolean> {
    this.#checkLive();
    validateImageTag(tag);
    const out = await this.#session.ecr.batchDeleteImage({
      repositoryName: this.name,
      imageIds: [{ imageTag: tag }],
    });
    const failure = out.failures?.[0];
    if (failure === undefined) return true;
    if (failure.failureCode === "ImageNotFound") return false;
    throw new CloudknotError(
      `ECR could not remove tag ${tag} from ${this.name}: ${failure.failureCode}: ` +
        `${failure.failureReason ?? "no reason given"}; check the tag and try again`,
    );
  }

  /**
   * Deletes the repository and every image in it, and forgets it in the
   * cloudknot config file. The default repository (see
   * {@linkcode DockerRepo.defaultName}) is refused with a
   * {@linkcode DefaultRepositoryError}: remove a tag instead.
   *
   * @example Usage
   * ```ts ignore
   * import { DockerRepo } from "@cloudknot/cloudknot";
   *
   * const repo = await DockerRepo.create({ name: "scratch-knots" });
   * await repo.clobber();
   * ```
   *
   * @param options `env` reads `CLOUDKNOT_ECR_REPO` (default `Deno.env.get`).
   */
  async clobber(options: Pick<DefaultRepoNameOptions, "env"> = {}): Promise<void> {
    validateOptionKeys(options, CLOBBER_OPTION_KEYS, "repo.clobber()");
    if (this.#clobbered) return;
    const defaultName = await DockerRepo.defaultName({ state: this.#state, ...options });
    if (this.name === defaultName) throw new DefaultRepositoryError(this.name);
    try {
      await this.#session.ecr.deleteRepository({ repositoryName: this.name, force: true });
    } catch (e) {
      if (!(e instanceof AwsError) || e.code !== "RepositoryNotFoundException") throw e;
    }
    const session = this.#session;
    await this.#state.update((doc) => {
      for (const profile of session.profileNames) {
        const section = reposSection(profile, session.region);
        doc.get(section)?.delete(this.name);
        if (doc.get(section)?.size === 0) doc.delete(section);
      }
    });
    this.#clobbered = true;
  }

  #checkLive(): void {
    if (this.#clobbered) {
      throw new CloudknotInputError(
        `Repository ${this.name} was clobbered: create it again with DockerRepo.create()`,
      );
    }
  }
}

async function describe(session: AwsSession, name: string): Promise<Repository | undefined> {
  try {
    const out = await session.ecr.describeRepositories({ repositoryNames: [name] });
    return out.repositories?.find((r) => r.repositoryName === name);
  } catch (e) {
    if (e instanceof AwsError && e.code === "RepositoryNotFoundException") return undefined;
    throw e;
  }
}
