/**
 * `image push <name>`: pushes an image's latest build to Amazon ECR.
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/image_push.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import { DockerImage } from "../../image/docker_image.ts";
import { validateRepositoryName } from "../../image/names.ts";
import { DockerRepo } from "../../image/docker_repo.ts";
import { getEcrRepo, sessionFromSettings } from "../../resources/settings.ts";
import { cliCloudknotDir, cliSettings } from "../common/aws.ts";
import { cliDocker } from "../common/docker.ts";
import { printPlans } from "../common/plan_output.ts";
import { builtImages, planImagePush } from "../../image/push_plan.ts";
import type { CommandContext } from "../common/command.ts";

/**
 * Runs `imagePush` (see its declaration, `../commands/image_push.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const name = ctx.arg("name")!;
  const repoName = ctx.string("repo");
  if (repoName !== undefined) validateRepositoryName(repoName, "repo");
  const settings = cliSettings(ctx);
  if (ctx.flag("dry-run")) {
    const session = await sessionFromSettings(settings);
    const repo = ctx.string("repo") ?? await getEcrRepo(settings);
    await printPlans(ctx, await planImagePush({ name, repo, session, state: settings.state }));
    return 0;
  }
  // A config file that cannot take the record, and an image without a build, are refused
  // before a repository is made or anything is pushed.
  await settings.state.assertWritable();
  await builtImages(name, settings.state);
  const docker = cliDocker(ctx, { quiet: ctx.flag("quiet") });
  const session = await sessionFromSettings(settings);
  const image = await DockerImage.create({
    name,
    state: settings.state,
    session,
    docker,
    ...cliCloudknotDir(settings),
  });
  const repo = await DockerRepo.create({
    name: repoName ?? await getEcrRepo(settings),
    session,
    state: settings.state,
  });
  const pushed = await image.push({ repo });
  if (ctx.flag("json")) await ctx.print(JSON.stringify({ name, ...pushed }));
  else await ctx.print(`Pushed ${pushed.tags.join(", ")} of ${name}: ${pushed.imageUri}`);
  return 0;
}
