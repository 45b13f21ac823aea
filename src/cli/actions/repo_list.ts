/**
 * `repo list`: the ECR repositories cloudknot knows.
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/repo_list.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import type { AwsSession } from "../../aws/session.ts";
import {
  findLooseImageTags,
  readImages,
  type RepositoryImage,
} from "../../resources/_image_tags.ts";
import { findLooseImages } from "../../resources/_untagged_images.ts";
import type { StateFile } from "../../state/state_file.ts";
import { getEcrRepo, sessionFromSettings } from "../../resources/settings.ts";
import { reposSection } from "../../state/sections.ts";
import { cliSettings } from "../common/aws.ts";
import { printList } from "../common/table.ts";
import type { CommandContext } from "../common/command.ts";

/** One repository of `repo list`. */
export interface RepoRow {
  /** The repository's name. */
  name: string;
  /** Its URI, when known. */
  uri: string | null;
  /** Whether it is the default repository. */
  default: boolean;
  /** Whether the config file's `[docker-repos <profile> <region>]` of this session has it. */
  recorded: boolean;
  /** Whether it is tagged `ManagedBy=cloudknot`. */
  managed: boolean;
  /** Whether it exists in ECR. */
  exists: boolean;
  /** Its images, when it exists. */
  images: number | null;
  /**
   * Its tags no record of the config file names whose job definitions say
   * they were this config file's knots': what `cloudknot gc` deletes. `null`
   * when it does not exist.
   */
  garbageTags: number | null;
  /**
   * Its tags no record of the config file names and no job definition says
   * whose they are: what `cloudknot gc --untagged` deletes too. `null` when
   * it does not exist.
   */
  unownedTags: number | null;
  /**
   * Its untagged images (left when a heal or re-create moved a knot's tag)
   * that only deregistered job definitions and gone knots of this config
   * file ran: what `cloudknot gc` deletes. `null` when it does not exist.
   */
  garbageImages: number | null;
  /**
   * Its untagged images no record names and no job definition says whose
   * they are: what `cloudknot gc --untagged` deletes too. `null` when it does
   * not exist.
   */
  unownedImages: number | null;
}

/**
 * The repositories of this session's profile and region that cloudknot
 * knows: those the config file records, those tagged
 * `ManagedBy=cloudknot`, and the default one when it exists.
 *
 * @example Usage
 * ```ts ignore
 * const rows = await knownRepos(session, { recorded, defaultName: "cloudknot", state });
 * for (const row of rows) console.log(row.name, row.garbageTags, row.garbageImages);
 * ```
 *
 * @param session The AWS session.
 * @param known The recorded repositories (name to URI), the default repository's name, and
 *   the config file whose gone knots' tags and untagged images are counted.
 * @returns One row per repository, sorted by name.
 */
export async function knownRepos(
  session: AwsSession,
  known: { recorded: Map<string, string>; defaultName: string; state: StateFile },
): Promise<RepoRow[]> {
  const rows = new Map<string, RepoRow>();
  const reading = await readImages(session, known.state, known.defaultName);
  const loose = await findLooseImageTags(reading);
  const images = await findLooseImages(session, reading);
  // The repositories whose images that reading listed (those ECR described), and their images.
  const listed = new Map<string, RepositoryImage[]>(
    [...reading.uris.values()].map((repository) => [repository, []]),
  );
  for (const image of reading.images) listed.get(image.repository)?.push(image);
  const count = (list: { repository: string; owned: boolean }[], name: string, owned: boolean) =>
    list.filter((t) => t.repository === name && t.owned === owned).length;
  for await (const repo of session.ecr.describeRepositoriesAll({})) {
    const name = repo.repositoryName;
    if (!name) continue;
    const tags = repo.repositoryArn
      ? (await session.ecr.listTagsForResource({ resourceArn: repo.repositoryArn })).tags ?? []
      : [];
    const managed = tags.some((t) => t.Key === "ManagedBy" && t.Value === "cloudknot");
    if (!managed && !known.recorded.has(name) && name !== known.defaultName) continue;
    // Counted from the listing read made of the config file's repositories; any other once.
    const stored = listed.has(name)
      ? new Set(listed.get(name)!.map((i) => i.digest)).size
      : await Array.fromAsync(session.ecr.listImagesAll({ repositoryName: name }))
        .then((ids) => new Set(ids.map((i) => i.imageDigest)).size);
    rows.set(name, {
      name,
      uri: repo.repositoryUri ?? null,
      default: name === known.defaultName,
      recorded: known.recorded.has(name),
      managed,
      exists: true,
      images: stored,
      garbageTags: count(loose, name, true),
      unownedTags: count(loose, name, false),
      garbageImages: count(images, name, true),
      unownedImages: count(images, name, false),
    });
  }
  for (const [name, uri] of known.recorded) {
    if (rows.has(name)) continue;
    rows.set(name, {
      name,
      uri,
      default: name === known.defaultName,
      recorded: true,
      managed: false,
      exists: false,
      images: null,
      garbageTags: null,
      unownedTags: null,
      garbageImages: null,
      unownedImages: null,
    });
  }
  return [...rows.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Runs `repoList` (see its declaration, `../commands/repo_list.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const settings = cliSettings(ctx);
  const session = await sessionFromSettings(settings);
  // A from-env session's repositories may be recorded under its profile's name too.
  const doc = await settings.state.read();
  const recorded = new Map<string, string>();
  for (const profile of session.profileNames) {
    for (const [k, v] of doc.get(reposSection(profile, session.region)) ?? []) {
      if (!recorded.has(k)) recorded.set(k, v);
    }
  }
  const rows = await knownRepos(session, {
    recorded,
    defaultName: await getEcrRepo(settings),
    state: settings.state,
  });
  return await printList(ctx, rows, {
    header: ["NAME", "IMAGES", "URI", "NOTE"],
    cells: (r) => [
      r.name,
      r.images === null ? "-" : String(r.images),
      r.uri ?? "-",
      [
        r.default ? "default" : "",
        r.exists ? "" : "gone",
        r.managed ? "" : "not tagged",
        r.garbageTags
          ? `${r.garbageTags} tag${r.garbageTags === 1 ? "" : "s"} no record names: cloudknot gc`
          : "",
        r.unownedTags
          ? `${r.unownedTags} tag${r.unownedTags === 1 ? "" : "s"} of no known owner: ` +
            "cloudknot gc --untagged"
          : "",
        r.garbageImages
          ? `${r.garbageImages} untagged image${
            r.garbageImages === 1 ? "" : "s"
          } no live job definition runs: cloudknot gc`
          : "",
        r.unownedImages
          ? `${r.unownedImages} untagged image${
            r.unownedImages === 1 ? "" : "s"
          } of no known owner: cloudknot gc --untagged`
          : "",
      ].filter((s) => s !== "").join(", "),
    ],
    empty: `No repositories in ${session.region} yet: \`cloudknot image push\` makes one`,
  });
}
