/**
 * `image clobber <name>`: removes an image's local images and build files.
 *
 * @module
 */
import { defineCommand } from "../common/command.ts";

/** `image clobber <name>`. */
export const imageClobber = defineCommand({
  group: "image",
  name: "clobber",
  summary: "Remove an image's local images, the files cloudknot wrote and its record",
  description:
    "Removes cloudknot/<name>:<tag> and the pushed tags from this machine, only the files " +
    "cloudknot wrote into the build directory, and [docker-image <name>] of the config file. " +
    "The pushed image stays in its repository (remove the repository with `repo clobber`). " +
    "Asks first on a terminal; anywhere else it needs --yes.",
  args: [{ name: "name", required: true, description: "The image's name" }],
  options: { yes: { type: "boolean", short: "y", description: "Do not ask: remove it" } },
  examples: [{
    description: "Remove the image square without asking",
    command: "cloudknot image clobber square --yes",
  }],
  run: async (ctx) => await (await import("../actions/image_clobber.ts")).run(ctx),
});
