/**
 * `repo list`: the ECR repositories cloudknot knows.
 *
 * @module
 */
import { defineCommand } from "../common/command.ts";
import { JSON_OPTION } from "../common/options.ts";

/** `repo list`. */
export const repoList = defineCommand({
  group: "repo",
  name: "list",
  summary: "List the ECR repositories cloudknot knows, in the configured region",
  description:
    "The repositories of [docker-repos <profile> <region>] in the config file, those tagged " +
    "ManagedBy=cloudknot, and the default one. A recorded repository that ECR no longer has " +
    "shows as gone (`cloudknot gc` or `repo clobber` forgets it). Its note counts the tags " +
    "no record of the config file names whose job definitions say they were its knots' " +
    "(`cloudknot gc` deletes them), and the tags " +
    "no record names whose owner no job definition tells (`cloudknot gc --untagged`); and so " +
    "the untagged images (a heal or re-create that moved a knot's tag to a new build leaves " +
    "the old one untagged) that only deregistered job definitions and gone knots ran " +
    "(`cloudknot gc`), and those no job definition runs (`cloudknot gc --untagged`). With " +
    '--json, an array of {"name","uri","default","recorded","managed","exists","images",' +
    '"garbageTags","unownedTags","garbageImages","unownedImages"}.',
  args: [],
  options: { ...JSON_OPTION },
  examples: [{ description: "List the repositories", command: "cloudknot repo list" }],
  run: async (ctx) => await (await import("../actions/repo_list.ts")).run(ctx),
});
