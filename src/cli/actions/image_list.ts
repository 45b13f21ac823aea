/**
 * `image list`: the images the config file records.
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/image_list.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import { cliSettings } from "../common/aws.ts";
import { recordName } from "../../state/sections.ts";
import { printList } from "../common/table.ts";
import type { CommandContext } from "../common/command.ts";

/**
 * Runs `imageList` (see its declaration, `../commands/image_list.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
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
}
