/**
 * `image clobber <name>`: removes an image's local images and build files.
 *
 * @module
 */
import { CloudknotInputError } from "../../util/errors.ts";
import { DockerImage } from "../../image/docker_image.ts";
import { isOriginalImageRecord } from "../../resources/original.ts";
import { recordSection } from "../../state/sections.ts";
import { cliCloudknotDir, cliSettings } from "../common/aws.ts";
import { defineCommand } from "../common/command.ts";
import { confirmDeletion } from "../common/confirm.ts";
import { cliDocker } from "../common/docker.ts";

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
  async run(ctx) {
    const name = ctx.arg("name")!;
    const settings = cliSettings(ctx);
    const { state } = settings;
    const record = await state.section(recordSection("docker-image", name));
    if (record === undefined) {
      throw new CloudknotInputError(
        `There is no image named "${name}" in ${state.path}: see \`cloudknot image list\``,
        { field: "name" },
      );
    }
    if (isOriginalImageRecord(record)) {
      // Its build files and record are the Python tool's, which this one never touches.
      throw new CloudknotInputError(
        `Image "${name}" was made by the Python cloudknot (its build files are in ` +
          `${record.get("build-path") || "its build path"}), whose files and record cloudknot ` +
          `leaves alone: remove it with the Python cloudknot, ` +
          `ck.DockerImage(name="${name}").clobber()`,
        { field: "name" },
      );
    }
    if (!await confirmDeletion(ctx, `image ${name} (its local images and build files)`)) return 1;
    const image = await DockerImage.create({
      name,
      state,
      docker: cliDocker(ctx),
      ...cliCloudknotDir(settings),
    });
    const removed = image.images;
    await image.clobber();
    await ctx.print(
      `Clobbered image ${name}${removed.length > 0 ? `: removed ${removed.join(", ")}` : ""}`,
    );
    return 0;
  },
});
