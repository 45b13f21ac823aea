/**
 * `image clobber <name>`: removes an image's local images and build files.
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/image_clobber.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import { CloudknotInputError } from "../../util/errors.ts";
import { DockerImage } from "../../image/docker_image.ts";
import { isOriginalImageRecord } from "../../resources/original.ts";
import { recordSection } from "../../state/sections.ts";
import { readAwsKnots } from "../../targets/aws/catalog.ts";
import { cliCloudknotDir, cliSettings } from "../common/aws.ts";
import { confirmDeletion } from "../common/confirm.ts";
import { cliDocker } from "../common/docker.ts";
import type { CommandContext } from "../common/command.ts";

/**
 * Runs `imageClobber` (see its declaration, `../commands/image_clobber.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
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
  // A knot on AWS opens (maps, updates and clobbers) through its image's record.
  const user = (await readAwsKnots(state)).find((k) => k.dockerImage === name);
  if (user !== undefined) {
    throw new CloudknotInputError(
      `Image ${name} is knot ${user.name}'s, which opens through its record to map, update and ` +
        `clobber: clobber the knot with it (\`cloudknot knot clobber ${user.name} --image\`), ` +
        `or leave it`,
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
}
