/**
 * `image list`: the images the config file records.
 *
 * @module
 */
import { defineCommand } from "../common/command.ts";
import { JSON_OPTION } from "../common/options.ts";

/** `image list`. */
export const imageList = defineCommand({
  group: "image",
  name: "list",
  summary: "List the images of the config file: local tags and where each was pushed",
  description: "Reads the config file only. With --json, an array of " +
    '{"name","images","baseImage","buildPath","repoUri","imageUri","region","profile"}.',
  args: [],
  options: { ...JSON_OPTION },
  examples: [{ description: "List the images", command: "cloudknot image list" }],
  run: async (ctx) => await (await import("../actions/image_list.ts")).run(ctx),
});
