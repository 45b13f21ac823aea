/**
 * `gc`: finds (and with `--yes` deletes) the AWS resources this config file
 * made (its owner tag) that no record of the config file refers to, and the
 * run folders on this machine a killed `map()` left, the image hold tags
 * a killed build left, and the containers and images of docker knots whose
 * folder is gone (with `--local`, only those, without AWS).
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
import { defineCommand } from "../common/command.ts";
import { JSON_OPTION } from "../common/options.ts";
import { renderTable } from "../common/table.ts";
import { untilInterrupted } from "../common/interrupted.ts";

/** `gc`. */
export const gc = defineCommand({
  name: "gc",
  summary:
    "Find the AWS resources this config file made that nothing refers to; delete them with --yes",
  description:
    "Looks, in the configured region (with --all-regions, in every region the account has " +
    "enabled) and IAM, for resources tagged ManagedBy=cloudknot and made with this config file " +
    "(tagged cloudknot:owner with the owner id in its [aws] section) that " +
    "no record of the config file refers to: job queues, compute environments, job " +
    "definitions, launch templates, IAM roles and instance profiles, security groups, the " +
    "pieces of a VPC of its own, ECR repositories, the image tags of knots no longer " +
    "recorded in the repositories it uses (the default one too: --yes removes the tag, and " +
    "the image only when no other tag names it), the untagged images a knot's heal or " +
    "re-create left there when it moved the knot's tag to a new build (kept while an active " +
    "job definition revision of a recorded knot runs one, for its retries; --yes deletes " +
    "one by its digest unless it has gained a tag since), and the job data (cloudknot/<knot>/ in the " +
    "bucket) of knots no longer recorded; and, on this machine, the run folders of local and " +
    "docker knots that a map() killed while it wrote their inputs left without a run.json " +
    "(none that a live process is writing), the half-made artifact folders " +
    "(artifacts/.<hash>.tmp-…, listed as artifact-folder) that a local knot create killed " +
    "while it copied the files its function ships left (none that a live process is making), " +
    "and the hold tags (cloudknot/<name>:hold-<id>) " +
    "that a knot create with this config file killed between its image's build and push left " +
    "on Docker (none that a live process holds; --yes removes the tag alone), or the empty " +
    "mark file of such a hold whose tag is gone (hold-file), the empty mark file a map on AWS killed while it submitted a run left, once the run's 10-minute submission window is over (submit-mark), and the containers (docker-container) " +
    "and images (docker-image) of docker knots of the knots directory whose folder is gone, " +
    "which a run's container started as its knot was clobbered leaves (an image only when " +
    "its tags are all its knot's and no other container uses it; without Docker, or with its " +
    "daemon down, it says so on stderr and looks at the rest). With --local it " +
    "looks only at those, and asks nothing of AWS. It is a dry run: it prints what it would delete. With " +
    "--yes it deletes them, in dependency order, tolerating pieces already gone, and exits with " +
    "1 if any could not be deleted. Never the default VPC, the default repository or a bucket. " +
    "What another config file made (a colleague's on the same account, another machine's) is " +
    "never listed, nor is job data with a run of another config file. Resources with no owner " +
    "tag (made before owner tags, or by the Python cloudknot) and job data whose runs name no " +
    "owner are left out and counted, unless --untagged; so are image tags and untagged images " +
    "no job definition of this config file runs (an image names no owner). " +
    'With --json, {"dryRun","items":[{"kind","id","arn","digest","dir","owner","reason"}],' +
    '"deleted":[...],"gone":[...],"failed":[{"item","error"}],"skipped":[...],' +
    '"dockerSkipped"}, "gone" ' +
    "holding what was gone already when gc came to delete it (not counted as deleted), " +
    '"skipped" what was left out for want of an owner tag, "dockerSkipped" why Docker was ' +
    "not looked at (not installed, not running: its containers, images and hold tags were " +
    'not looked for), null when it was, and each item its "region" under --all-regions.',
  args: [],
  options: {
    yes: { type: "boolean", short: "y", description: "Delete what it finds" },
    untagged: {
      type: "boolean",
      description: "Include resources with no cloudknot:owner tag (made before owner tags or " +
        "by the Python cloudknot, perhaps with another config file): read the dry run first",
    },
    "all-regions": {
      type: "boolean",
      description: "Look in every region the account has enabled (EC2 DescribeRegions), not " +
        "only the configured one",
    },
    local: {
      type: "boolean",
      description: "Look only at this machine's run folders a killed map() left (local and " +
        "docker knots), image hold tags a killed knot create left, and the containers and " +
        "images of docker knots whose folder is gone, asking nothing of AWS",
    },
    ...JSON_OPTION,
  },
  examples: [
    { description: "See what is left over (a dry run)", command: "cloudknot gc" },
    { description: "Delete it", command: "cloudknot gc --yes" },
    {
      description: "Delete what killed processes left on this machine, without AWS",
      command: "cloudknot gc --local --yes",
    },
    {
      description: "Include what was made before owner tags",
      command: "cloudknot gc --untagged",
    },
  ],
  async run(ctx) {
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
  },
});
