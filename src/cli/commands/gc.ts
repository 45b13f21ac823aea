/**
 * `gc`: finds (and with `--yes` deletes) the AWS resources cloudknot made
 * that no record of the config file refers to.
 *
 * @module
 */
import {
  deleteGarbage,
  findGarbage,
  findGarbageInRegions,
  type GarbageItem,
  type GcResult,
  type RegionGarbage,
} from "../../resources/gc.ts";
import { sessionFromSettings } from "../../resources/settings.ts";
import { cliSettings } from "../common/aws.ts";
import { defineCommand } from "../common/command.ts";
import { JSON_OPTION } from "../common/options.ts";
import { renderTable } from "../common/table.ts";

/** `gc`. */
export const gc = defineCommand({
  name: "gc",
  summary: "Find the AWS resources cloudknot made that nothing refers to; delete them with --yes",
  description:
    "Looks, in the configured region (with --all-regions, in every region the account has " +
    "enabled) and IAM, for resources tagged ManagedBy=cloudknot that " +
    "no record of the config file refers to: job queues, compute environments, job " +
    "definitions, launch templates, IAM roles and instance profiles, security groups, the " +
    "pieces of a VPC of its own, ECR repositories, and the job data (cloudknot/<knot>/ in the " +
    "bucket) of knots no longer recorded. It is a dry run: it prints what it would delete. With " +
    "--yes it deletes them, in dependency order, tolerating pieces already gone, and exits with " +
    "1 if any could not be deleted. Never the default VPC, the default repository or a bucket. " +
    "It judges by this config file only: the knots and Pars another config file records (a " +
    "colleague's on the same account) are listed too, with their job data in a shared bucket, " +
    "so run --yes only with the config file that records them all. " +
    'With --json, {"dryRun","items":[{"kind","id","arn","owner","reason"}],"deleted":[...],' +
    '(each item with its "region" under --all-regions) ' +
    '"failed":[{"item","error"}]}.',
  args: [],
  options: {
    yes: { type: "boolean", short: "y", description: "Delete what it finds" },
    "all-regions": {
      type: "boolean",
      description: "Look in every region the account has enabled (EC2 DescribeRegions), not " +
        "only the configured one",
    },
    ...JSON_OPTION,
  },
  examples: [
    { description: "See what is left over (a dry run)", command: "cloudknot gc" },
    { description: "Delete it", command: "cloudknot gc --yes" },
  ],
  async run(ctx) {
    const settings = cliSettings(ctx);
    const session = await sessionFromSettings(settings);
    const json = ctx.flag("json");
    const dryRun = !ctx.flag("yes");
    const all = ctx.flag("all-regions");
    if (!json) {
      await ctx.log(ctx.err(
        "dim",
        all
          ? "Looking for leftovers in every enabled region and IAM…"
          : `Looking for leftovers in ${session.region} and IAM…`,
      ));
    }
    const regions: RegionGarbage[] = all
      ? await findGarbageInRegions({ ...settings, session })
      : [{ region: session.region, session, items: await findGarbage({ ...settings, session }) }];
    // With --all-regions, each item says its region.
    const tag = (region: string, list: GarbageItem[]) =>
      all ? list.map((g) => ({ ...g, region })) : list;
    const items = regions.flatMap((r) => tag(r.region, r.items));
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
    if (dryRun) {
      if (json) {
        await ctx.print(JSON.stringify({ dryRun, items, deleted: [], failed: [] }));
      } else if (items.length === 0) await ctx.print("Nothing to collect");
      else {
        await ctx.print(table(items));
        await ctx.log(
          `Dry run: ${items.length} resource${
            items.length === 1 ? "" : "s"
          } would be deleted; run \`cloudknot gc ${all ? "--all-regions " : ""}--yes\` to ` +
            "delete them",
        );
      }
      return 0;
    }
    if (items.length === 0) {
      if (json) await ctx.print(JSON.stringify({ dryRun, items, deleted: [], failed: [] }));
      else await ctx.print("Nothing to collect");
      return 0;
    }
    const result: GcResult = { deleted: [], failed: [] };
    for (const r of regions) {
      if (r.items.length === 0) continue;
      const done = await deleteGarbage(r.items, {
        ...settings,
        session: r.session,
        onDelete: (g) => {
          if (!json) ctx.log(ctx.err("dim", `Deleting ${g.kind} ${g.id}`)).catch(() => {});
        },
        warn: (m) => ctx.warn(m),
      });
      result.deleted.push(...tag(r.region, done.deleted));
      result.failed.push(...done.failed.map((f) => ({ ...f, item: tag(r.region, [f.item])[0]! })));
    }
    if (json) {
      await ctx.print(JSON.stringify({ dryRun, items, ...result }));
    } else {
      if (result.deleted.length > 0) await ctx.print(table(result.deleted));
      await ctx.log(`Deleted ${result.deleted.length} of ${items.length}`);
      for (const { item, error } of result.failed) {
        await ctx.log(ctx.err("red", `Could not delete ${item.kind} ${item.id}: ${error}`));
      }
    }
    return result.failed.length > 0 ? 1 : 0;
  },
});
