/**
 * `gc`: finds (and with `--yes` deletes) the AWS resources this config file
 * made (its owner tag) that no record of the config file refers to, and the
 * run folders on this machine a killed `map()` left, the image hold tags
 * a killed build left, and the containers and images of docker knots whose
 * folder is gone (with `--local`, only those, without AWS).
 *
 * @module
 */
import { defineCommand } from "../common/command.ts";
import { JSON_OPTION } from "../common/options.ts";

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
    "mark file of such a hold whose tag is gone (hold-file), the mark file a map on AWS killed while it submitted a run left, once the run's 10-minute submission window is over (submit-mark), and the containers (docker-container) " +
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
  run: async (ctx) => await (await import("../actions/gc.ts")).run(ctx),
});
