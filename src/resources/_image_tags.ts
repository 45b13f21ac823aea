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
}

/** What a config file names of images, read after ECR was listed. */
interface Named {
  knots: Set<string>;
  tags: Set<string>;
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

/** Whose each image is, by digest, as the job definitions that run it say. */
async function imageOwners(
  session: AwsSession,
  uris: Map<string, string>,
): Promise<Map<string, { owners: Set<string | undefined>; knots: Set<string> }>> {
  const out = new Map<string, { owners: Set<string | undefined>; knots: Set<string> }>();
  // Deregistered ones too: a clobbered knot's job definition still says whose its image was.
  for await (const def of session.batch.describeJobDefinitionsAll({})) {
    const tags = def.tags ?? {};
    const image = def.containerProperties?.image;
    if (tags[MANAGED_BY_TAG.Key] !== MANAGED_BY_TAG.Value || !image) continue;
    const at = image.indexOf("@");
    if (at < 0) continue;
    const repository = uris.get(image.slice(0, at));
    if (repository === undefined) continue;
    const key = `${repository}@${image.slice(at + 1)}`;
    const seen = out.get(key) ?? { owners: new Set(), knots: new Set() };
    seen.owners.add(tags[OWNER_TAG_KEY]);
    if (tags[KNOT_TAG_KEY] !== undefined) seen.knots.add(tags[KNOT_TAG_KEY]);
    out.set(key, seen);
  }
  return out;
}

/**
 * The loose tags of the repositories of the session's region that the
 * config file uses (see the module's notes), without those of another
 * config file's job definitions. It only reads.
 *
 * @example Usage
 * ```ts ignore
 * import { findLooseImageTags } from "./_image_tags.ts";
 *
 * for (const t of await findLooseImageTags(session, state, "cloudknot")) console.log(t.tag);
 * ```
 *
 * @param session The AWS session (its region).
 * @param state The config file.
 * @param defaultRepo The default repository's name (`getEcrRepo`).
 * @param skip Repositories not to look in (such as those gc deletes whole).
 * @returns The loose tags, by repository and tag.
 */
export async function findLooseImageTags(
  session: AwsSession,
  state: StateFile,
  defaultRepo: string,
  skip: ReadonlySet<string> = new Set(),
): Promise<LooseImageTag[]> {
  const repos = usedRepositories(await state.read(), session.region, defaultRepo);
  const images: { repository: string; digest: string; tags: string[] }[] = [];
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
          filter: { tagStatus: "TAGGED" },
        })
      ) {
        if (image.imageDigest && image.imageTags?.length) {
          images.push({ repository, digest: image.imageDigest, tags: image.imageTags });
        }
      }
    } catch (e) {
      if (isAwsCode(e, "RepositoryNotFoundException")) continue;
      throw e;
    }
  }
  // Read after ECR: a tag pushed meanwhile is named in the records by then.
  const named = await readNamed(state);
  const candidates = images.flatMap((image) =>
    named.digests.has(image.digest)
      ? []
      : image.tags.filter((tag) => !named.tags.has(tag) && !named.busy.has(tag))
        .map((tag) => ({ ...image, tag }))
  );
  if (candidates.length === 0) return [];
  const ours = await readOwner(state);
  const owners = await imageOwners(session, uris);
  const out: LooseImageTag[] = [];
  for (const c of candidates) {
    const whose = owners.get(`${c.repository}@${c.digest}`);
    // Another config file's knot runs it: never this one's to judge.
    if (whose && [...whose.owners].some((o) => o !== undefined && o !== ours)) continue;
    const knot = whose?.knots.size === 1 ? [...whose.knots][0]! : c.tag;
    if (named.busy.has(knot.toLowerCase())) continue;
    out.push({
      repository: c.repository,
      tag: c.tag,
      digest: c.digest,
      knot,
      owned: ours !== undefined && whose !== undefined && whose.owners.has(ours),
      knotRecorded: named.knots.has(knot),
    });
  }
  return out.sort((a, b) => a.repository.localeCompare(b.repository) || a.tag.localeCompare(b.tag));
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
