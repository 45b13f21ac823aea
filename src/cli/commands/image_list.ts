/**
 * `image list`: the images the config file records.
 *
 * @module
 */
import { cliSettings } from "../common/aws.ts";
import { recordName } from "../../state/sections.ts";
import { defineCommand } from "../common/command.ts";
import { JSON_OPTION } from "../common/options.ts";
import { printList } from "../common/table.ts";

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
  async run(ctx) {
    const doc = await cliSettings(ctx).state.read();
    const images = [...doc]
      .flatMap(([section, keys]) => {
        const name = recordName("docker-image", section);
        const get = (key: string) => keys.get(key) || null;
        return name === undefined ? [] : [{
          name,
          images: (keys.get("images") ?? "").split(/\s+/).filter((s) => s !== ""),
          baseImage: get("base-image"),
          buildPath: get("build-path"),
          repoUri: get("repo-uri"),
          imageUri: get("image-uri"),
          region: get("region"),
          profile: get("profile"),
        }];
      })
      .sort((a, b) => a.name.localeCompare(b.name));
    return await printList(ctx, images, {
      header: ["NAME", "LOCAL", "PUSHED"],
      cells: (i) => [i.name, i.images.join(" ") || "-", i.imageUri ?? "-"],
      empty: "No images yet: build one with `cloudknot image build`",
    });
  },
});
