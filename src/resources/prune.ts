/**
 * `prune()`: drops the config file's records of resources that no longer
 * exist, so that adopting by name does not trip over them.
 *
 * @module
 */
import type { AwsSession } from "../aws/session.ts";
import { Docker } from "../docker/docker.ts";
import { DockerError } from "../docker/errors.ts";
import { knotRunIds, parseSection, recordSection } from "../state/sections.ts";
import {
  getProfile,
  sessionFromSettings,
  type SettingsOptions,
  settingsState,
} from "./settings.ts";
import { SETTINGS_SESSION_OPTION_KEYS, settingsOf } from "./settings_keys.ts";
import { validateOptionKeys, validateOptionType } from "../util/validate.ts";
import { pathExists as existsOnDisk } from "../util/read_text.ts";
import { getRole } from "./_iam_roles.ts";
import { isAwsCode } from "./_ledger.ts";
import { originalRecord, originalStackStatus } from "./original.ts";
import { missingParsResources, parseParsRecord } from "./pars.ts";

/** Options of {@linkcode prune}. */
export interface PruneOptions extends SettingsOptions {
  /** The AWS session to check with (default: one made from the settings). */
  session?: AwsSession;
  /** Only report what would be dropped. @default {false} */
  dryRun?: boolean;
  /**
   * Whether a local Docker image exists; `undefined` means "cannot tell",
   * which keeps the record. Default: `docker image inspect`, and "cannot
   * tell" when Docker is not there.
   */
  imageExists?: (ref: string) => Promise<boolean | undefined>;
  /** The Docker driver the default `imageExists` asks (default: `docker` on the PATH, quiet). */
  docker?: Docker;
  /** Whether a local path exists (default: `Deno.stat`). */
  pathExists?: (path: string) => Promise<boolean>;
}

const PRUNE_OPTION_KEYS: Readonly<Record<keyof PruneOptions, true>> = {
  ...SETTINGS_SESSION_OPTION_KEYS,
  dryRun: true,
  imageExists: true,
  docker: true,
  pathExists: true,
};

/** One record {@linkcode prune} dropped or kept. */
export interface PruneEntry {
  /** The section, such as `pars lab`. */
  section: string;
  /** The key, for records that are one key of a section (`docker-repos`, `batch-jobs`). */
  key?: string;
  /** Why. */
  reason: string;
}

/** What {@linkcode prune} did. */
export interface PruneResult {
  /** The records dropped (or, with `dryRun`, that would be). */
  dropped: PruneEntry[];
  /**
   * Records that could not be checked from this session (another region or
   * profile, no Docker), or that were kept for what they still hold: a knot
   * whose queue, compute environment or Pars is gone but whose runs' results can
   * still be read (creating the knot again heals it).
   */
  skipped: PruneEntry[];
}

function defaultImageExists(
  docker: Docker = new Docker({ logger: () => {} }),
): (ref: string) => Promise<boolean | undefined> {
  return async (ref) => {
    try {
      return (await docker.inspectImage(ref)) !== undefined;
    } catch (e) {
      if (e instanceof DockerError) return undefined;
      throw e;
    }
  };
}

/**
 * Splits an image URI `host[:port]/repo[/path]:tag` (or `@sha256:…`) into
 * its repository and image id.
 */
function parseImageUri(uri: string): { repo: string; tag?: string; digest?: string } | undefined {
  const slash = uri.indexOf("/");
  if (slash < 0) return undefined;
  const rest = uri.slice(slash + 1);
  const at = rest.indexOf("@");
  if (at >= 0) return { repo: rest.slice(0, at), digest: rest.slice(at + 1) };
  const colon = rest.lastIndexOf(":");
  if (colon < 0) return { repo: rest, tag: "latest" };
  return { repo: rest.slice(0, colon), tag: rest.slice(colon + 1) };
}

/**
 * Drops the records of resources that no longer exist:
 *
 * - `[pars <name>]` whose roles, instance profile or VPC are gone;
 * - `[knot <name>]` whose compute environment, job queue or own job role is
 *   gone, or whose Pars is (its record, or its roles or network), unless it
 *   records runs: their results stay readable through it,
 *   and creating the knot again with its function makes what is gone (it
 *   is then reported as skipped);
 * - the Python cloudknot's `[pars <name>]` and `[knot <name>]` whose
 *   CloudFormation stack is gone;
 * - entries of `[docker-repos <profile> <region>]` whose repository is gone
 *   or has another URI now;
 * - entries of `[batch-jobs <profile> <region>]` that DescribeJobs no
 *   longer returns;
 * - `[docker-image <name>]` only when its build path, its local images and
 *   its remote image are all gone.
 *
 * Only records of the session's region and profile are checked; others are
 * reported as skipped. AWS is only read; the config file is written once, at
 * the end, unless `dryRun`.
 *
 * @example Usage
 * ```ts ignore
 * import { prune } from "@cloudknot/cloudknot/resources";
 *
 * const { dropped } = await prune({ dryRun: true });
 * for (const d of dropped) console.log(d.section, d.key ?? "", d.reason);
 * ```
 *
 * @param options The session, the config file, and injectable checks.
 * @returns What was dropped and what was skipped.
 */
export async function prune(options: PruneOptions = {}): Promise<PruneResult> {
  validateOptionKeys(options, PRUNE_OPTION_KEYS, "prune()");
  validateOptionType(options, "dryRun", "boolean");
  const state = settingsState(options);
  const settings: SettingsOptions = { ...settingsOf(options), state };
  const session = options.session ?? await sessionFromSettings(settings);
  const region = session.region;
  const settingsProfile = await getProfile(settings);
  const mine = (profile: string) => session.sameProfile(profile) || profile === settingsProfile;
  const pathExists = options.pathExists ?? existsOnDisk;
  const imageExists = options.imageExists ?? defaultImageExists(options.docker);
  const dropped: PruneEntry[] = [];
  const skipped: PruneEntry[] = [];
  const here = (keys: Map<string, string>) =>
    keys.get("region") === region && mine(keys.get("profile") ?? "");
  const elsewhere = (section: string, keys: Map<string, string>) =>
    skipped.push({
      section,
      reason: `it is in region ${keys.get("region") ?? "?"} with profile ` +
        `${keys.get("profile") ?? "?"}; prune with a session there`,
    });

  const doc = await state.read();
  // What is gone of each Pars of this region, read once: its record, or its resources.
  const parsChecks = new Map<string, Promise<string[]>>();
  const parsGone = async (name: string): Promise<string[] | undefined> => {
    const keys = doc.get(recordSection("pars", name));
    if (keys === undefined) return ["its record"];
    if (!here(keys) || originalRecord("pars", name, keys) !== undefined) return undefined;
    if (!parsChecks.has(name)) {
      parsChecks.set(name, missingParsResources(session, parseParsRecord(name, keys)));
    }
    const missing = await parsChecks.get(name)!;
    return missing.length > 0 ? missing : undefined;
  };
  for (const [section, keys] of doc) {
    const parsed = parseSection(section);
    const original = parsed?.kind === "pars" || parsed?.kind === "knot"
      ? originalRecord(parsed.kind, parsed.name, keys)
      : undefined;
    if (original !== undefined) {
      // The Python cloudknot's: a stack, dropped as its own prune does, when
      // the stack is gone (one in a failed state is kept, to be clobbered).
      if (!here(keys)) elsewhere(section, keys);
      else if (await originalStackStatus(session, original.stackId) === undefined) {
        dropped.push({ section, reason: `gone: stack ${original.stackName}` });
      }
      continue;
    }
    if (parsed?.kind === "pars") {
      if (!here(keys)) {
        elsewhere(section, keys);
        continue;
      }
      const missing = (await parsGone(parsed.name)) ?? [];
      if (missing.length > 0) {
        dropped.push({ section, reason: `gone: ${missing.join(", ")}` });
      }
    } else if (parsed?.kind === "knot") {
      const ce = keys.get("compute-environment");
      const queue = keys.get("job-queue");
      if (!ce && !queue) continue;
      if (!here(keys)) {
        elsewhere(section, keys);
        continue;
      }
      const missing: string[] = [];
      if (ce) {
        const { computeEnvironments } = await session.batch.describeComputeEnvironments({
          computeEnvironments: [ce],
        });
        if (!computeEnvironments?.some((c) => c.status !== "DELETED")) missing.push(ce);
      }
      if (queue) {
        const { jobQueues } = await session.batch.describeJobQueues({ jobQueues: [queue] });
        if (!jobQueues?.some((q) => q.status !== "DELETED")) missing.push(queue);
      }
      const role = keys.get("job-role");
      if (role && !(await getRole(session.iam, role.split("/").pop()!))) missing.push(role);
      // The Pars it uses: its record, or its resources.
      const pars = keys.get("pars");
      if (pars) {
        const gone = await parsGone(pars);
        if (gone !== undefined) missing.push(`Pars ${pars} (${gone.join(", ")})`);
      }
      const runs = knotRunIds(keys).length;
      if (missing.length > 0 && runs > 0) {
        skipped.push({
          section,
          reason:
            `gone: ${missing.join(", ")}; kept for its ${runs} run${
              runs === 1 ? "" : "s"
            }, whose results stay readable: create the knot again with its function to heal it, ` +
            `or clobber it to delete it and its runs`,
        });
      } else if (missing.length > 0) {
        dropped.push({ section, reason: `gone: ${missing.join(", ")}` });
      }
    } else if (parsed?.kind === "docker-repos" || parsed?.kind === "batch-jobs") {
      const { profile, region: sectionRegion } = parsed;
      if (sectionRegion !== region || !mine(profile)) {
        skipped.push({
          section,
          reason: `it is for region ${sectionRegion} and profile ${profile}; prune with a ` +
            `session there`,
        });
        continue;
      }
      for (const [key, reason] of await STALE_KEYS[parsed.kind](session, keys)) {
        dropped.push({ section, key, reason });
      }
    } else if (parsed?.kind === "docker-image") {
      const entry = await staleImage(session, section, keys, {
        here: here(keys),
        pathExists,
        imageExists,
      });
      if (entry?.skipped) skipped.push(entry.entry);
      else if (entry) dropped.push(entry.entry);
    }
  }

  if (!options.dryRun && dropped.length > 0) {
    await state.update((doc) => {
      for (const d of dropped) {
        if (d.key === undefined) {
          doc.delete(d.section);
          continue;
        }
        const keys = doc.get(d.section);
        keys?.delete(d.key);
        if (keys && keys.size === 0) doc.delete(d.section);
      }
    });
  }
  return { dropped, skipped };
}

/**
 * For each section of keys per profile and region, the keys whose resource
 * AWS no longer has (or has otherwise), each with why.
 */
const STALE_KEYS: Record<
  "docker-repos" | "batch-jobs",
  (session: AwsSession, keys: Map<string, string>) => Promise<[key: string, reason: string][]>
> = {
  "docker-repos": async (session, keys) => {
    if (keys.size === 0) return [];
    const uris = new Map<string, string>();
    for await (const repo of session.ecr.describeRepositoriesAll({})) {
      if (repo.repositoryName && repo.repositoryUri) {
        uris.set(repo.repositoryName, repo.repositoryUri);
      }
    }
    return [...keys].flatMap(([name, uri]): [string, string][] => {
      const now = uris.get(name);
      if (now === undefined) return [[name, "the repository is gone"]];
      return now === uri ? [] : [[name, `the repository's URI is now ${now}`]];
    });
  },
  "batch-jobs": async (session, keys) => {
    const ids = [...keys.keys()];
    const seen = new Set<string>();
    for (let i = 0; i < ids.length; i += 100) {
      const { jobs } = await session.batch.describeJobs({ jobs: ids.slice(i, i + 100) });
      for (const j of jobs ?? []) seen.add(j.jobId);
    }
    return ids.filter((id) => !seen.has(id)).map((id) => [id, "AWS Batch no longer knows the job"]);
  },
};

async function staleImage(
  session: AwsSession,
  section: string,
  keys: Map<string, string>,
  checks: {
    here: boolean;
    pathExists: (path: string) => Promise<boolean>;
    imageExists: (ref: string) => Promise<boolean | undefined>;
  },
): Promise<{ entry: PruneEntry; skipped: boolean } | undefined> {
  const buildPath = keys.get("build-path")?.trim();
  if (buildPath && buildPath !== "None" && await checks.pathExists(buildPath)) return undefined;
  for (const image of (keys.get("images") ?? "").split(/\s+/).filter((s) => s)) {
    const exists = await checks.imageExists(image);
    if (exists === undefined) {
      return {
        skipped: true,
        entry: { section, reason: `cannot tell whether local image ${image} exists (no Docker)` },
      };
    }
    if (exists) return undefined;
  }
  const uri = keys.get("image-uri")?.trim();
  if (uri && uri !== "None") {
    const parsed = parseImageUri(uri);
    if (!parsed) return undefined;
    if (!checks.here) {
      return {
        skipped: true,
        entry: {
          section,
          reason: `its remote image ${uri} is in region ${keys.get("region") ?? "?"}; prune ` +
            `with a session there`,
        },
      };
    }
    try {
      const { imageDetails } = await session.ecr.describeImages({
        repositoryName: parsed.repo,
        imageIds: [parsed.digest ? { imageDigest: parsed.digest } : { imageTag: parsed.tag! }],
      });
      if (imageDetails?.length) return undefined;
    } catch (e) {
      if (!isAwsCode(e, "RepositoryNotFoundException", "ImageNotFoundException")) throw e;
    }
  }
  return {
    skipped: false,
    entry: { section, reason: "its build path, local images and remote image are all gone" },
  };
}
