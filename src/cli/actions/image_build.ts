/**
 * `image build <module> [export]`: packages a module's export into a Docker
 * image with the local Docker engine.
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/image_build.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import { DockerImage } from "../../image/docker_image.ts";
import { validateImageTags } from "../../image/names.ts";
import { cliCloudknotDir, cliSettings } from "../common/aws.ts";
import { cliDocker } from "../common/docker.ts";
import { cliWarn } from "../common/cli_words.ts";
import { checkModulePath, cliFiles } from "../common/module_path.ts";
import type { CommandContext } from "../common/command.ts";

/**
 * Runs `imageBuild` (see its declaration, `../commands/image_build.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const module = ctx.arg("module")!;
  await checkModulePath(module);
  const baseImage = ctx.string("base-image") ?? (ctx.io.env("CLOUDKNOT_BASE_IMAGE") || undefined);
  const dir = ctx.string("dir");
  const name = ctx.string("name");
  const quiet = ctx.flag("quiet");
  // The tags are checked before the build directory is written.
  const given = ctx.strings("tag");
  if (given.length > 0) validateImageTags(given);
  const files = cliFiles(ctx, module);
  const settings = cliSettings(ctx);
  const image = await DockerImage.create({
    module,
    exportName: ctx.arg("export") ?? "default",
    ...(files !== undefined ? { files } : {}),
    warn: cliWarn(ctx),
    ...(name !== undefined ? { name } : {}),
    ...(baseImage !== undefined ? { baseImage } : {}),
    ...(dir !== undefined ? { dir } : {}),
    state: settings.state,
    // Built under `~/.cloudknot` of the command line's HOME, as a process of its own would.
    ...cliCloudknotDir(settings),
    docker: cliDocker(ctx, { quiet }),
  });
  const hash = image.artifact?.hash ?? "";
  const tags = given.length > 0 ? given : [hash.slice(0, 12)];
  if (!quiet) await ctx.log(ctx.err("dim", `Building ${image.localName} in ${image.buildPath}`));
  const { imageId, images } = await image.build({
    tags,
    noCache: ctx.flag("no-cache"),
    warn: (m) => ctx.warn(m),
  });
  if (ctx.flag("json")) {
    await ctx.print(JSON.stringify({
      name: image.name,
      imageId,
      images,
      buildPath: image.buildPath,
      baseImage: image.baseImage,
      functionHash: hash,
    }));
  } else await ctx.print(`Built ${images.join(", ")} (${imageId.slice(0, 19)})`);
  return 0;
}
