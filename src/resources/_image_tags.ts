/**
 * The image tags of gone knots: an AWS knot pushes its image as tags
 * (`imageTags`, by default its name) in a repository it may share with other
 * knots and other config files (the default one, `getEcrRepo`), and those
 * tags stay when its record goes (clobbered by hand, a lost config file, a
 * `knot clobber` that stopped part-way).
 *
 * A tag is loose when it is in a repository this config file uses (the
 * default one, one a knot record, a `[docker-image]` record or
 * `[docker-repos]` names) and no record of the config file names it: not a
 * knot's `image-tags`, not a `[docker-image]` record's built `images`, not
 * the digest of any record's image. A knot a live process is making
 * (`StateFile.whileMaking`), or whose image a live build holds
 * (`StateFile.holding`, the marks `findHoldLeftovers` tells dead ones by),
 * keeps the tag its name gives. The records are read after ECR is listed:
 * a build writes its tags to its `[docker-image]` record before it pushes
 * them, so a tag pushed while this looks is named by what it reads.
 *
 * A tag carries no owner: whose it is is known from the Batch job
 * definitions (active or deregistered) whose image is that tag's image, as
 * each carries its `cloudknot:owner` and `cloudknot:knot` tags. A tag a job
 * definition of another config file runs is never loose; one no job
 * definition names has no known owner (`owned: false`), as an untagged
 * resource.
 *
 * @module
 */
import type { AwsSession } from "../aws/session.ts";
import type { StateFile } from "../state/state_file.ts";
import { parseSection } from "../state/sections.ts";
import { isAwsCode } from "./_ledger.ts";
import { defined } from "../util/defined.ts";
import { KNOT_TAG_KEY, MANAGED_BY_TAG } from "./_iam_roles.ts";
import { OWNER_TAG_KEY, readOwner } from "./owner.ts";

/** A tag of a repository this config file uses that no record of it names. */
export interface LooseImageTag {
  /** The repository's name. */
  repository: string;
  /** The tag. */
  tag: string;
  /** The digest of the image the tag named when it was found. */
  digest: string;
  /** The knot it belonged to: its job definition's `cloudknot:knot` tag, else the tag. */
  knot: string;
  /**
   * Whether a job definition of this config file (its owner id) runs its
   * image; `false` when no job definition says whose it is.
   */
  owned: boolean;
  /** Whether the config file still records that knot (which names the tag no more). */
  knotRecorded: boolean;
  /** Every tag the image had when it was found: it goes with the last one removed. */
  imageTags: string[];
}

/**
 * What a config file names of images, read after ECR was listed.
 *
 * @example Usage
 * ```ts ignore
 * const named = await readNamed(state);
 * console.log(named.knots.has("squares"));
 * ```
 */
export interface Named {
  /** The knots it records. */
  knots: Set<string>;
  /** The tags its knot and image records name. */
  tags: Set<string>;
  /** The digests any of its values names (`…@sha256:…`). */
  digests: Set<string>;
  /** Knots being made and images held by a live build: the tag their name gives stays. */
  busy: Set<string>;
}

/** The repositories of `region` the config file's records and settings name. */
function usedRepositories(
  doc: Map<string, Map<string, string>>,
  region: string,
  defaultRepo: string,
): Set<string> {
  const repos = new Set([defaultRepo]);
  for (const [section, keys] of doc) {
    const parsed = parseSection(section);
    if (parsed?.kind === "docker-repos") {
      if (parsed.region === region) { for (const name of keys.keys()) repos.add(name); }
      continue;
    }
    if (parsed?.kind !== "knot" && parsed?.kind !== "docker-image") continue;
    if ((keys.get("region") ?? region) !== region) continue;
    const repo = keys.get("docker-repo")?.trim();
    if (repo) repos.add(repo);
    const uri = keys.get("repo-uri")?.trim();
    if (uri && uri.includes("/")) repos.add(uri.slice(uri.indexOf("/") + 1));
  }
  return repos;
}

/**
 * What the config file names of images (see {@linkcode Named}); read it after
 * ECR was listed, so that what a live process pushed meanwhile is named.
 *
 * @example Usage
 * ```ts ignore
 * const named = await readNamed(state);
 * ```
 *
 * @param state The config file.
 * @returns What it names.
 */
async function readNamed(state: StateFile): Promise<Named> {
  const named: Named = { knots: new Set(), tags: new Set(), digests: new Set(), busy: new Set() };
  for (const [section, keys] of await state.read()) {
    for (const value of keys.values()) {
      for (const m of value.matchAll(/@(sha256:[0-9a-f]{64})/g)) named.digests.add(m[1]!);
    }
    const parsed = parseSection(section);
    if (parsed?.kind === "knot") {
      named.knots.add(parsed.name);
      // As the knot's record reads it: its name, lowercase, when it lists none.
      const tags = keys.get("image-tags") ?? parsed.name.toLowerCase();
      for (const tag of tags.split(/\s+/)) if (tag) named.tags.add(tag);
    } else if (parsed?.kind === "docker-image") {
      for (const ref of (keys.get("images") ?? "").split(/[\s,]+/)) {
        const colon = ref.lastIndexOf(":");
        if (colon > 0 && !ref.includes("@")) named.tags.add(ref.slice(colon + 1));
      }
    }
  }
  for (const section of await state.making()) {
    const parsed = parseSection(section);
    if (parsed?.kind === "knot") named.busy.add(parsed.name.toLowerCase());
  }
  // A live build's hold, `cloudknot/<image>:hold-<id>`: its image's tags are about to be pushed.
  for (const hold of await state.holding()) {
    const m = /^[^\s:]*?([^/\s:]+):hold-/.exec(hold);
    if (m) named.busy.add(m[1]!);
  }
  return named;
}

/** One job definition revision of cloudknot's that runs an image. */
export interface ImageUse {
  /** Its `cloudknot:owner` tag, if any. */
  owner: string | undefined;
  /** Its `cloudknot:knot` tag, if any. */
  knot: string | undefined;
  /** Whether the revision is ACTIVE (not deregistered): a retry of an older run runs it. */
  active: boolean;
}

/**
 * The job definition revisions (active or deregistered) of cloudknot's that
 * run each image of the repositories `uris` names by digest, by
 * `<repository>@<digest>`: whose each image is, as each carries its
 * `cloudknot:owner` and `cloudknot:knot` tags.
 *
 * @example Usage
 * ```ts ignore
 * const uses = await imageUses(session, new Map([[uri, "cloudknot"]]));
 * console.log(uses.get(`cloudknot@${digest}`));
 * ```
 *
 * @param session The AWS session.
 * @param uris Repository URI to repository name.
 * @returns The revisions that run each image.
 */
async function imageUses(
  session: AwsSession,
  uris: Map<string, string>,
): Promise<Map<string, ImageUse[]>> {
  const out = new Map<string, ImageUse[]>();
  // Every job definition of the region, deregistered ones too (a clobbered knot's still says
  // whose its image was): DescribeJobDefinitions narrows only by job definition name (or
  // name:revision, ARN) and status, never by image or tag, and a name tells nothing of the
  // image: a knot's is its `jobDefinitionName` (any name; `<knot>-ck-jd` by default), its
  // image's tags its `imageTags` (any tags; an untagged image has none), and another config
  // file's knots, whose names this one cannot know, run images of the same repositories.
  // Only the whole listing sees each of those owners, so that their images are never judged.
  for await (const def of session.batch.describeJobDefinitionsAll({})) {
    const tags = def.tags ?? {};
    const image = def.containerProperties?.image;
    if (tags[MANAGED_BY_TAG.Key] !== MANAGED_BY_TAG.Value || !image) continue;
    const at = image.indexOf("@");
    if (at < 0) continue;
    const repository = uris.get(image.slice(0, at));
    if (repository === undefined) continue;
    const key = `${repository}@${image.slice(at + 1)}`;
    const uses = out.get(key) ?? [];
    uses.push({
      owner: tags[OWNER_TAG_KEY],
      knot: tags[KNOT_TAG_KEY],
      active: def.status === "ACTIVE",
    });
    out.set(key, uses);
  }
  return out;
}

/** An image of a repository, as `DescribeImages` read it. */
export interface RepositoryImage {
  /** The repository's name. */
  repository: string;
  /** The image's digest. */
  digest: string;
  /** Its tags (none when untagged). */
  tags: string[];
  /** Its manifest's media type (an image index's, a multi-platform image's, among them). */
  mediaType?: string;
}

/**
 * The images, tagged and untagged, of the repositories of the session's
 * region the config file uses (the default one, those a knot record, a
 * `[docker-image]` record or `[docker-repos]` names), but `skip`; and the
 * URIs of those repositories, to their names.
 */
async function usedRepositoryImages(
  session: AwsSession,
  state: StateFile,
  defaultRepo: string,
  skip: ReadonlySet<string>,
): Promise<{ images: RepositoryImage[]; uris: Map<string, string> }> {
  const repos = usedRepositories(await state.read(), session.region, defaultRepo);
  const images: RepositoryImage[] = [];
  const uris = new Map<string, string>();
  for (const repository of [...repos].sort()) {
    if (skip.has(repository)) continue;
    try {
      const { repositories } = await session.ecr.describeRepositories({
        repositoryNames: [repository],
      });
      const uri = repositories?.[0]?.repositoryUri;
      if (uri) uris.set(uri, repository);
      for await (
        const image of session.ecr.describeImagesAll({
          repositoryName: repository,
          filter: { tagStatus: "ANY" },
        })
      ) {
        const tags = image.imageTags ?? [];
        if (!image.imageDigest) continue;
        images.push({
          repository,
          digest: image.imageDigest,
          tags,
          ...defined({ mediaType: image.imageManifestMediaType }),
        });
      }
    } catch (e) {
      if (isAwsCode(e, "RepositoryNotFoundException")) continue;
      throw e;
    }
  }
  return { images, uris };
}

/**
 * What is read once of the images of the repositories a config file uses,
 * for both {@linkcode findLooseImageTags} and `findLooseImages`
 * (`_untagged_images.ts`): one listing of their images, tagged and
 * untagged, what the config file names (read after it), and the job
 * definitions that run them, read at most once, when one of them needs to
 * know whose an image is.
 *
 * @example Usage
 * ```ts ignore
 * const reading = await readImages(session, state, "cloudknot");
 * console.log(reading.images.length);
 * ```
 */
export interface ImageReading {
  /** The images, tagged and untagged, of the repositories it looked in. */
  images: RepositoryImage[];
  /** Those repositories' URIs, to their names. */
  uris: Map<string, string>;
  /** What the config file names, read after ECR was listed. */
  named: Named;
  /** The config file's owner id, if it has one. */
  owner: string | undefined;
  /**
   * The job definition revisions that run each image, by
   * `<repository>@<digest>`: listed on the first call, and that listing
   * is what every later call returns.
   */
  uses(): Promise<Map<string, ImageUse[]>>;
}

/**
 * Reads once what finding loose tags and untagged images needs (see
 * {@linkcode ImageReading}): the images of the repositories of the
 * session's region the config file uses, but `skip`, then what the config
 * file names. It only reads.
 *
 * @example Usage
 * ```ts ignore
 * import { findLooseImageTags, readImages } from "./_image_tags.ts";
 *
 * const reading = await readImages(session, state, "cloudknot");
 * for (const t of await findLooseImageTags(reading)) console.log(t.tag);
 * ```
 *
 * @param session The AWS session (its region).
 * @param state The config file.
 * @param defaultRepo The default repository's name (`getEcrRepo`).
 * @param skip Repositories not to look in (such as those gc deletes whole).
 * @returns What it read.
 */
export async function readImages(
  session: AwsSession,
  state: StateFile,
  defaultRepo: string,
  skip: ReadonlySet<string> = new Set(),
): Promise<ImageReading> {
  const { images, uris } = await usedRepositoryImages(session, state, defaultRepo, skip);
  // Read after ECR: a tag pushed, or an image recorded, meanwhile is named in the records by then.
  const named = await readNamed(state);
  const owner = await readOwner(state);
  let uses: Promise<Map<string, ImageUse[]>> | undefined;
  return { images, uris, named, owner, uses: () => uses ??= imageUses(session, uris) };
}

/**
 * The loose tags of what `reading` read (see the module's notes), without
 * those of another config file's job definitions. It only reads.
 *
 * @example Usage
 * ```ts ignore
 * import { findLooseImageTags, readImages } from "./_image_tags.ts";
 *
 * const reading = await readImages(session, state, "cloudknot");
 * for (const t of await findLooseImageTags(reading)) console.log(t.tag);
 * ```
 *
 * @param reading The images of the repositories the config file uses ({@linkcode readImages}).
 * @returns The loose tags, by repository and tag.
 */
export async function findLooseImageTags(reading: ImageReading): Promise<LooseImageTag[]> {
  const { images, named, owner: ours } = reading;
  const candidates = images.flatMap((image) =>
    named.digests.has(image.digest)
      ? []
      : image.tags.filter((tag) => !named.tags.has(tag) && !named.busy.has(tag))
        .map((tag) => ({ ...image, tag }))
  );
  if (candidates.length === 0) return [];
  const uses = await reading.uses();
  const out: LooseImageTag[] = [];
  for (const c of candidates) {
    const whose = uses.get(`${c.repository}@${c.digest}`) ?? [];
    // Another config file's knot runs it: never this one's to judge.
    if (whose.some((u) => u.owner !== undefined && u.owner !== ours)) continue;
    const knot = onlyKnot(whose) ?? c.tag;
    if (named.busy.has(knot.toLowerCase())) continue;
    out.push({
      repository: c.repository,
      tag: c.tag,
      digest: c.digest,
      knot,
      owned: ours !== undefined && whose.some((u) => u.owner === ours),
      knotRecorded: named.knots.has(knot),
      imageTags: c.tags,
    });
  }
  return out.sort((a, b) => a.repository.localeCompare(b.repository) || a.tag.localeCompare(b.tag));
}

/**
 * The one knot the job definitions that run an image belong to; `undefined`
 * when none says, or they name more than one.
 *
 * @example Usage
 * ```ts ignore
 * onlyKnot([{ owner: "o", knot: "squares", active: false }]); // "squares"
 * ```
 *
 * @param uses The revisions that run the image.
 * @returns The knot.
 */
export function onlyKnot(uses: readonly ImageUse[]): string | undefined {
  const knots = new Set(uses.flatMap((u) => u.knot === undefined ? [] : [u.knot]));
  return knots.size === 1 ? [...knots][0] : undefined;
}

/**
 * Why a loose tag is garbage, for `gc`'s list.
 *
 * @example Usage
 * ```ts ignore
 * import { imageTagReason } from "./_image_tags.ts";
 *
 * console.log(imageTagReason(loose)); // "knot cubes is gone: no record names tag cubes"
 * ```
 *
 * @param loose The tag.
 * @returns The reason.
 */
export function imageTagReason(loose: LooseImageTag): string {
  return (loose.knotRecorded
    ? `knot ${loose.knot}'s record names tag ${loose.tag} no more`
    : `knot ${loose.knot} is gone: no record names tag ${loose.tag}`) +
    (loose.owned ? "" : " (no job definition says whose it is)");
}
