/**
 * `image build <module> [export]`: packages a module's export into a Docker
 * image with the local Docker engine.
 *
 * @module
 */
import { defineCommand } from "../common/command.ts";
import { FILE_OPTION } from "../common/module_path.ts";
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
        "A tag for the image; without one, the first 12 characters of the function's hash",
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
    description: "Build the export square of your module jobs.ts as cloudknot/square:v1",
    command: "cloudknot image build jobs.ts square --name square --tag v1",
  }],
  run: async (ctx) => await (await import("../actions/image_build.ts")).run(ctx),
});
