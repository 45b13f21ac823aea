/**
 * The untagged images of gone knots: a heal or a re-create of an AWS knot
 * pushes its image under the knot's own tags, and when the new build has
 * another digest (a changed base image, `noImageCache`, a changed
 * Dockerfile) ECR moves the tag and keeps the image it named before,
 * untagged. No tag names it, so `_image_tags.ts` never sees it, and it costs
 * storage until it is deleted.
 *
 * An untagged image carries no owner either: the Batch job definition
 * revisions (active or deregistered) whose image is that digest say whose it
 * is, as for a tag. An untagged image of a repository this config file uses
 * is judged so:
 *
 * - a record of the config file names its digest, or an ACTIVE revision of
 *   a knot the config file records (or a live process is making) runs it:
 *   it stays, since a retry of an older run runs that revision;
 * - a revision of another config file's knot runs it: never judged;
 * - only revisions of this config file's knots run it, each deregistered or
 *   of a knot no longer recorded: garbage of that knot;
 * - no job definition runs it: its owner is unknown (`owned: false`), as an
 *   untagged resource's.
 *
 * An image an image index (a multi-platform image, `docker push` of a
 * BuildKit build with attestations) of the repository names is part of that
 * index: ECR deletes it only once the index is gone
 * (`ImageReferencedByManifestList`), and a deleted index leaves it behind
 * with nothing that says whose it is. It is judged with the index: garbage,
 * after it, when every index that names it goes (a loose untagged image, or
 * a tagged one whose every tag gc removes), and kept otherwise.
 *
 * @module
 */
import type { AwsSession } from "../aws/session.ts";
import { type ImageReading, onlyKnot, type RepositoryImage } from "./_image_tags.ts";

/** An untagged image of a repository this config file uses that nothing alive runs. */
export interface LooseImage {
  /** The repository's name. */
  repository: string;
  /** The image's digest. */
  digest: string;
  /** The knot whose job definitions ran it, when they name one. */
  knot?: string;
  /**
   * Whether a job definition of this config file (its owner id) runs it;
   * `false` when no job definition says whose it is.
   */
  owned: boolean;
  /** Whether the config file still records that knot (whose live revisions name it no more). */
  knotRecorded: boolean;
  /** The loose image index (multi-platform image) it is part of, by digest: it goes after it. */
  partOf?: string;
}

/** The manifest media types of an image index (a multi-platform image). */
const INDEX_TYPES: ReadonlySet<string> = new Set([
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
]);

/** BatchGetImage's limit of images per call. */
const GET_BATCH = 100;

/** The image indexes that name each image, by `<repository>@<digest>`. */
async function indexParents(
  session: AwsSession,
  images: readonly RepositoryImage[],
): Promise<Map<string, string[]>> {
  const parents = new Map<string, string[]>();
  const indexes = images.filter((i) => INDEX_TYPES.has(i.mediaType ?? ""));
  for (let start = 0; start < indexes.length; start += GET_BATCH) {
    const batch = indexes.slice(start, start + GET_BATCH);
    for (const repositoryName of new Set(batch.map((i) => i.repository))) {
      const { images: got } = await session.ecr.batchGetImage({
        repositoryName,
        imageIds: batch.filter((i) => i.repository === repositoryName)
          .map((i) => ({ imageDigest: i.digest })),
        acceptedMediaTypes: [...INDEX_TYPES],
      });
      for (const image of got ?? []) {
        const parent = image.imageId?.imageDigest;
        if (!parent || !image.imageManifest) continue;
        const { manifests } = JSON.parse(image.imageManifest) as {
          manifests?: { digest?: string }[];
        };
        for (const child of manifests ?? []) {
          if (!child.digest) continue;
          const key = `${repositoryName}@${child.digest}`;
          parents.set(key, [...parents.get(key) ?? [], parent]);
        }
      }
    }
  }
  return parents;
}

/**
 * The untagged images of what `reading` read that no record names and no
 * ACTIVE job definition of a recorded knot runs (see the module's notes),
 * without those of another config file's job definitions. It only reads.
 * `going` names the tagged images whose every tag is garbage too (by
 * `<repository>@<digest>`, with whose each is): their parts go after them,
 * as an untagged index's do.
 *
 * @example Usage
 * ```ts ignore
 * import { readImages } from "./_image_tags.ts";
 * import { findLooseImages } from "./_untagged_images.ts";
 *
 * const reading = await readImages(session, state, "cloudknot");
 * for (const i of await findLooseImages(session, reading)) console.log(i.digest);
 * ```
 *
 * @param session The AWS session (its region), to read the image indexes.
 * @param reading The images of the repositories the config file uses (`readImages`).
 * @param going Tagged images whose every tag goes, by `<repository>@<digest>`.
 * @returns The loose untagged images, by repository and digest.
 */
export async function findLooseImages(
  session: AwsSession,
  reading: ImageReading,
  going: ReadonlyMap<string, LooseImage> = new Map(),
): Promise<LooseImage[]> {
  const { images, named, owner: ours } = reading;
  const candidates = images.filter((image) =>
    image.tags.length === 0 && !named.digests.has(image.digest)
  );
  if (candidates.length === 0) return [];
  const parents = await indexParents(session, images);
  const uses = await reading.uses();
  const alive = (knot: string | undefined) =>
    knot !== undefined && (named.knots.has(knot) || named.busy.has(knot.toLowerCase()));
  const loose = new Map<string, LooseImage>();
  const parts: { own: LooseImage; whose: boolean; of: string[] }[] = [];
  for (const c of candidates) {
    const whose = uses.get(`${c.repository}@${c.digest}`) ?? [];
    // Another config file's knot runs it: never this one's to judge.
    if (whose.some((u) => u.owner !== undefined && u.owner !== ours)) continue;
    // A live revision of a live knot: an older run's retry runs it.
    if (whose.some((u) => u.active && alive(u.knot))) continue;
    const knot = onlyKnot(whose);
    if (knot !== undefined && named.busy.has(knot.toLowerCase())) continue;
    const own: LooseImage = {
      repository: c.repository,
      digest: c.digest,
      ...(knot !== undefined ? { knot } : {}),
      owned: ours !== undefined && whose.some((u) => u.owner === ours),
      knotRecorded: knot !== undefined && named.knots.has(knot),
    };
    const of = parents.get(`${c.repository}@${c.digest}`);
    // Part of an image index: judged with it, below.
    if (of !== undefined) parts.push({ own, whose: whose.length > 0, of });
    else loose.set(`${c.repository}@${c.digest}`, own);
  }
  const byName = (a: LooseImage, b: LooseImage) =>
    a.repository.localeCompare(b.repository) || a.digest.localeCompare(b.digest);
  const out = [...loose.values()].sort(byName);
  // An image index's parts go after it, and only when every index that names them goes.
  const withIndexes: LooseImage[] = [];
  for (const { own, whose, of } of parts) {
    const indexes = of.map((digest) => {
      const key = `${own.repository}@${digest}`;
      return loose.get(key) ?? going.get(key);
    });
    if (indexes.some((index) => index === undefined)) continue;
    const index = indexes[0]!;
    // Whose it is, as its own job definitions say, else as its index's do.
    withIndexes.push({ ...whose ? own : { ...index, digest: own.digest }, partOf: index.digest });
  }
  return [...out, ...withIndexes.sort(byName)];
}

/**
 * Why a loose untagged image is garbage, for `gc`'s list.
 *
 * @example Usage
 * ```ts ignore
 * import { looseImageReason } from "./_untagged_images.ts";
 *
 * console.log(looseImageReason(loose)); // "untagged; knot cubes is gone"
 * ```
 *
 * @param loose The image.
 * @returns The reason.
 */
export function looseImageReason(loose: LooseImage): string {
  const { partOf, ...own } = loose;
  if (partOf !== undefined) {
    return `part of the image index ${partOf}, which goes: ${looseImageReason(own)}`;
  }
  if (loose.knot === undefined) {
    return loose.owned
      ? "untagged; only deregistered job definitions or gone knots ran it"
      : "untagged; no job definition says whose it is";
  }
  return (loose.knotRecorded
    ? `untagged; only deregistered job definitions of knot ${loose.knot} ran it`
    : `untagged; knot ${loose.knot} is gone`) +
    (loose.owned ? "" : " (no job definition says whose it is)");
}
