/**
 * `image build <module> [export]`: packages a module's export into a Docker
 * image with the local Docker engine.
 *
 * @module
 */
import { DockerImage } from "../../image/docker_image.ts";
import { validateImageTags } from "../../image/names.ts";
import { cliCloudknotDir, cliSettings } from "../common/aws.ts";
import { defineCommand } from "../common/command.ts";
import { cliDocker } from "../common/docker.ts";
import { cliWarn } from "../common/cli_words.ts";
import { checkModulePath, cliFiles, FILE_OPTION } from "../common/module_path.ts";
import { JSON_OPTION, MODULE_ARGUMENTS } from "../common/options.ts";

/** `image build <module> [export]`. */
export const imageBuild = defineCommand({
  group: "image",
  name: "build",
  summary: "Build a Docker image that runs a module's function as cloudknot jobs",
  description:
    "Bundles the module with everything it imports (npm packages too) into function.js, writes " +
    "the job runtime and a Dockerfile into the build directory (default " +
    "~/.cloudknot/images/<name>) and runs one docker build with every tag. The image is " +
    "cloudknot/<name>:<tag>; [docker-image <name>] of the config file remembers it. Naming an " +
    "image that exists refreshes its function (only the last layer is rebuilt). The base image " +
    "needs deno on PATH (default: $CLOUDKNOT_BASE_IMAGE, else denoland/deno:<version>). " +
    "Docker's output goes to stderr. With --json, " +
    '{"name","imageId","images","buildPath","baseImage","functionHash"}.',
  args: MODULE_ARGUMENTS,
  options: {
    name: {
      type: "string",
      value: "NAME",
      description: "The image's name (default: the function's name, kebab-cased)",
    },
    tag: {
      type: "string",
      value: "TAG",
      multiple: true,
      description:
        "A tag; repeat for more (default: the first 12 characters of the function's hash)",
    },
    "base-image": {
      type: "string",
      value: "IMAGE",
      description: "An image with deno on PATH (default: $CLOUDKNOT_BASE_IMAGE or denoland/deno)",
    },
    dir: {
      type: "string",
      value: "DIR",
      description: "The build directory (default: ~/.cloudknot/images/<name>)",
    },
    ...FILE_OPTION,
    "no-cache": { type: "boolean", description: "Build without Docker's layer cache" },
    quiet: { type: "boolean", short: "q", description: "Do not show Docker's output" },
    ...JSON_OPTION,
  },
  examples: [{
    description: "Build the export square of examples/jobs.ts as cloudknot/square:v1",
    command: "cloudknot image build examples/jobs.ts square --name square --tag v1",
  }],
  async run(ctx) {
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
  },
});
