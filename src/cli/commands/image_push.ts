/**
 * `image push <name>`: pushes an image's latest build to Amazon ECR.
 *
 * @module
 */
import { DockerImage } from "../../image/docker_image.ts";
import { validateRepositoryName } from "../../image/names.ts";
import { DockerRepo } from "../../image/docker_repo.ts";
import { getEcrRepo, sessionFromSettings } from "../../resources/settings.ts";
import { cliCloudknotDir, cliSettings } from "../common/aws.ts";
import { defineCommand } from "../common/command.ts";
import { cliDocker } from "../common/docker.ts";
import { DRY_RUN_OPTION, JSON_OPTION } from "../common/options.ts";
import { printPlans } from "../common/plan_output.ts";
import { builtImages, planImagePush } from "../../image/push_plan.ts";

/** `image push <name>`. */
export const imagePush = defineCommand({
  group: "image",
  name: "push",
  summary: "Push an image's latest build, with each of its tags, to an ECR repository",
  description:
    "Creates the repository when missing, logs Docker in through ECR's GetAuthorizationToken " +
    "(into ~/.cloudknot/docker-config, never ~/.docker), pushes, and records the image by " +
    "digest: job definitions use <repo>@sha256:…, which pushing the same tag again never " +
    'changes. With --json, {"name","repoUri","imageUri","digest","tags"}.',
  args: [{ name: "name", required: true, description: "The image's name (see `image build`)" }],
  options: {
    repo: {
      type: "string",
      value: "REPO",
      description: "The ECR repository (default: the configured one, else cloudknot)",
    },
    quiet: { type: "boolean", short: "q", description: "Do not show Docker's output" },
    ...DRY_RUN_OPTION,
    ...JSON_OPTION,
  },
  examples: [{
    description: "Push the image square to the repository my-knots",
    command: "cloudknot image push square --repo my-knots",
  }],
  async run(ctx) {
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
  },
});
