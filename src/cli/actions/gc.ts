/**
 * `gc`: finds (and with `--yes` deletes) the AWS resources this config file
 * made (its owner tag) that no record of the config file refers to, and the
 * run folders on this machine a killed `map()` left, the image hold tags
 * a killed build left, and the containers and images of docker knots whose
 * folder is gone (with `--local`, only those, without AWS).
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/gc.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import {
  deleteGarbage,
  findGarbage,
  findGarbageInRegions,
  findLocalGarbage,
  type GarbageItem,
  type GcResult,
  type RegionGarbage,
} from "../../resources/gc.ts";
import { sessionFromSettings } from "../../resources/settings.ts";
import type { AwsSession } from "../../aws/session.ts";
import { AwsConfigError } from "../../aws/core/error.ts";
import { cliSettings } from "../common/aws.ts";
import { inCliWords } from "../common/cli_words.ts";
import { renderTable } from "../common/table.ts";
import { untilInterrupted } from "../common/interrupted.ts";
import type { CommandContext } from "../common/command.ts";

/**
 * Runs `gc` (see its declaration, `../commands/gc.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const settings = cliSettings(ctx);
  const json = ctx.flag("json");
  const dryRun = !ctx.flag("yes");
  const all = ctx.flag("all-regions");
  const untagged = ctx.flag("untagged");
  const local = ctx.flag("local");
  if (local && (all || untagged)) {
    throw ctx.usage(
      `--local looks only at this machine's run folders: drop ${
        all ? "--all-regions" : "--untagged"
      }`,
    );
  }
  const session = local ? undefined : await sessionFromSettings(settings).catch((e) => {
    if (!(e instanceof AwsConfigError)) throw e;
    throw new AwsConfigError(
      `${e.message}; to clean only this machine's run folders: run cloudknot gc --local`,
      { setting: e.setting, cause: e.cause },
    );
  });
  if (!json) {
    await ctx.log(ctx.err(
      "dim",
      session === undefined
        ? "Looking for leftover run folders, hold tags and docker containers and images on " +
          "this machine…"
        : all
        ? "Looking for leftovers in every enabled region and IAM, and on this machine…"
        : `Looking for leftovers in ${session.region} and IAM, and on this machine…`,
    ));
  }
  // The command that deletes what is found, as the dry run and an interrupted one name it.
  const deleting = `cloudknot gc ${all ? "--all-regions " : ""}${untagged ? "--untagged " : ""}${
    local ? "--local " : ""
  }--yes`;
  // What cannot be looked at (Docker not running) goes to stderr.
  const warn = (message: string) => ctx.warn(inCliWords(new Error(message), ctx.command));
  const collect = async (): Promise<number> => {
    const here: GarbageItem[] = [];
    // Why Docker was not looked at, which --json says: "nothing left" is not "not looked".
    let dockerSkipped: string | null = null;
    const onDockerSkipped = (why: string) => void (dockerSkipped = why);
    const regions: (Omit<RegionGarbage, "session"> & { session?: AwsSession })[] =
      session === undefined
        ? [{
          region: "local",
          items: await findLocalGarbage({ ...settings, warn, onDockerSkipped }),
          skipped: [],
        }]
        : all
        ? await findGarbageInRegions({ ...settings, session, untagged, warn, onDockerSkipped })
        : [{
          region: session.region,
          session,
          items: await findGarbage({
            ...settings,
            session,
            untagged,
            warn,
            onDockerSkipped,
            onSkip: (g) => here.push(g),
          }),
          skipped: here,
        }];
    // With --all-regions, each item says its region.
    const tag = (region: string, list: GarbageItem[]) =>
      all ? list.map((g) => ({ ...g, region })) : list;
    const items = regions.flatMap((r) => tag(r.region, r.items));
    const skipped = regions.flatMap((r) => tag(r.region, r.skipped));
    // What was left out, and the flag that includes it.
    const note = async () => {
      if (json || skipped.length === 0) return;
      const n = skipped.length;
      const tags = skipped.filter((g) => g.kind === "image-tag").length;
      const images = skipped.filter((g) => g.kind === "image").length;
      const rest = n - tags - images;
      const parts = [
        ...(rest > 0
          ? [
            `${rest} resource${rest === 1 ? "" : "s"} with no cloudknot:owner tag ` +
            `(made before owner tags or by the Python cloudknot, perhaps with another config ` +
            `file)`,
          ]
          : []),
        ...(tags > 0
          ? [
            `${tags} image tag${tags === 1 ? "" : "s"} no record names that no job definition ` +
            `says whose ${tags === 1 ? "it is" : "they are"} (perhaps another config file's)`,
          ]
          : []),
        ...(images > 0
          ? [
            `${images} untagged image${images === 1 ? "" : "s"} no record names that no job ` +
            `definition says whose ${images === 1 ? "it is" : "they are"} (perhaps another ` +
            `config file's)`,
          ]
          : []),
      ];
      await ctx.log(
        `Left out ${parts.join(" and ")}; run ` +
          `\`cloudknot gc ${all ? "--all-regions " : ""}--untagged\` to list ${
            n === 1 ? "it" : "them"
          } too`,
      );
    };
    const table = (list: (GarbageItem & { region?: string })[]) =>
      renderTable(
        [...(all ? ["REGION"] : []), "KIND", "ID", "OWNER", "WHY"],
        list.map((g) => [
          ...(all ? [g.region ?? "-"] : []),
          g.kind,
          g.id,
          g.owner ?? "-",
          g.reason,
        ]),
        ctx.out,
      );
    const printJson = (result: GcResult) =>
      ctx.print(JSON.stringify({ dryRun, items, ...result, skipped, dockerSkipped }));
    // A dry run, or nothing to delete: what would be deleted, and nothing was.
    if (dryRun || items.length === 0) {
      if (json) await printJson({ deleted: [], gone: [], failed: [] });
      else if (items.length === 0) await ctx.print("Nothing to collect");
      else {
        await ctx.print(table(items));
        await ctx.log(
          `Dry run: ${items.length} resource${
            items.length === 1 ? "" : "s"
          } would be deleted; run \`${deleting}\` to delete them`,
        );
      }
      await note();
      return 0;
    }
    const result: GcResult = { deleted: [], gone: [], failed: [] };
    for (const r of regions) {
      if (r.items.length === 0) continue;
      const done = await deleteGarbage(r.items, {
        ...settings,
        ...(r.session !== undefined ? { session: r.session } : {}),
        onDelete: (g) => {
          if (!json) ctx.log(ctx.err("dim", `Deleting ${g.kind} ${g.id}`)).catch(() => {});
        },
        warn,
      });
      result.deleted.push(...tag(r.region, done.deleted));
      result.gone.push(...tag(r.region, done.gone));
      // Why each failed, in the command line's words (the library's name its calls).
      result.failed.push(
        ...done.failed.map((f) => ({
          item: tag(r.region, [f.item])[0]!,
          error: inCliWords(new Error(f.error), ctx.command),
        })),
      );
    }
    if (json) {
      await printJson(result);
    } else {
      if (result.deleted.length > 0) await ctx.print(table(result.deleted));
      const gone = result.gone.length;
      await ctx.log(
        `Deleted ${result.deleted.length} of ${items.length}` +
          (gone === 0 ? "" : `; ${gone} ${gone === 1 ? "was" : "were"} already gone`),
      );
      for (const { item, error } of result.failed) {
        await ctx.log(ctx.err("red", `Could not delete ${item.kind} ${item.id}: ${error}`));
      }
      await note();
    }
    return result.failed.length > 0 ? 1 : 0;
  };
  if (dryRun) return await collect();
  // One deleting gc at a time with a config file: a second waits for the first, then looks
  // again, and finds (and says) only what is still there.
  return await untilInterrupted(
    ctx,
    () =>
      settings.state.whileMaking(
        "gc",
        collect,
        () =>
          ctx.warn(
            `cloudknot: another cloudknot gc is deleting leftovers with this config file ` +
              `(${settings.state.path}); waiting for it to finish, then this one looks again`,
          ),
      ),
    `cloudknot gc stopped part-way: run ${deleting} again to delete what is left`,
  );
}
