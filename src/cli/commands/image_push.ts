/**
 * `image push <name>`: pushes an image's latest build to Amazon ECR.
 *
 * @module
 */
import { defineCommand } from "../common/command.ts";
import { DRY_RUN_OPTION, JSON_OPTION } from "../common/options.ts";

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
  run: async (ctx) => await (await import("../actions/image_push.ts")).run(ctx),
});
