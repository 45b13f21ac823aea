/**
 * The dry run of pushing an image: the repository it would create or adopt,
 * and the tags it would push, read from the image's record and ECR with
 * nothing changed and no Docker engine needed.
 *
 * @module
 */
import { AwsError } from "../aws/core/error.ts";
import type { AwsSession } from "../aws/session.ts";
import { Plan } from "../plan/plan.ts";
import { recordSection } from "../state/sections.ts";
import type { StateFile } from "../state/state_file.ts";
import { CloudknotInputError } from "../util/errors.ts";
import { validateRepositoryName } from "./names.ts";

/**
 * The images of an image's builds in the config file, as `image push` reads them before it
 * pushes or plans to: none (no such image, or one never built) is refused in the command line's
 * words, before a repository is made or Docker is asked.
 *
 * @example Usage
 * ```ts ignore
 * import { builtImages } from "./push_plan.ts";
 *
 * console.log(await builtImages("square", state)); // [ "cloudknot/square:v1" ]
 * ```
 *
 * @param name The image's name.
 * @param state The config file.
 * @returns The images its builds tagged, as the config file lists them.
 * @throws {CloudknotInputError} When the config file has no build of the image.
 */
export async function builtImages(name: string, state: StateFile): Promise<string[]> {
  const saved = await state.section(recordSection("docker-image", name));
  const images = (saved?.get("images") ?? "").split(/\s+/).filter(Boolean);
  if (images.length === 0) {
    throw new CloudknotInputError(
      `Image ${name} has no build to push in ${state.path}: build it first (cloudknot image build)`,
      { field: "name" },
    );
  }
  return images;
}

/**
 * Plans `image.push({ repo })` for an image of the config file.
 *
 * @example Usage
 * ```ts ignore
 * import { planImagePush } from "./push_plan.ts";
 *
 * console.log(String(await planImagePush({ name: "square", repo: "cloudknot", session, state })));
 * ```
 *
 * @param options The image's name, the repository, the session and the config file.
 * @returns The plan.
 */
export async function planImagePush(
  options: { name: string; repo: string; session: AwsSession; state: StateFile },
): Promise<Plan> {
  const { name, session, state } = options;
  const repo = validateRepositoryName(options.repo);
  const images = await builtImages(name, state);
  let found = false;
  try {
    const out = await session.ecr.describeRepositories({ repositoryNames: [repo] });
    found = (out.repositories ?? []).some((r) => r.repositoryName === repo);
  } catch (e) {
    if (!(e instanceof AwsError && e.code === "RepositoryNotFoundException")) throw e;
  }
  return new Plan({
    title: `Push image ${name} (${session.region})`,
    steps: [
      { action: found ? "adopt" : "create", kind: "ECR repository", name: repo },
      ...images.map((image) => ({
        action: "push" as const,
        kind: "image",
        name: `${repo}:${image.slice(image.lastIndexOf(":") + 1)}`,
        details: { from: image },
      })),
      {
        action: "write" as const,
        kind: "config record",
        name: recordSection("docker-image", name),
      },
    ],
  });
}
