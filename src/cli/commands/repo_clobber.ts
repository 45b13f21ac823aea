/**
 * `repo clobber <name>`: deletes an ECR repository and its images.
 *
 * @module
 */
import { defineCommand } from "../common/command.ts";
import { YES_OPTION } from "../common/confirm.ts";

/** `repo clobber <name>`. */
export const repoClobber = defineCommand({
  group: "repo",
  name: "clobber",
  summary: "Delete an ECR repository cloudknot made, with every image in it",
  description:
    "Only a repository the config file records or that is tagged ManagedBy=cloudknot; never " +
    "the default repository, which every knot shares (`cloudknot gc` removes the tags of knots " +
    "no longer recorded in it). A recorded repository that is already " +
    "gone is forgotten. Asks first on a terminal; anywhere else it needs --yes.",
  args: [{ name: "name", required: true, description: "The repository's name" }],
  options: YES_OPTION,
  examples: [{
    description: "Delete the repository my-knots without asking",
    command: "cloudknot repo clobber my-knots --yes",
  }],
  run: async (ctx) => await (await import("../actions/repo_clobber.ts")).run(ctx),
});
