/**
 * `repo clobber <name>`: deletes an ECR repository and its images.
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/repo_clobber.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import { AwsError } from "../../aws/core/error.ts";
import { CloudknotInputError } from "../../util/errors.ts";
import { DockerRepo } from "../../image/docker_repo.ts";
import { DefaultRepositoryError } from "../../image/errors.ts";
import { getEcrRepo, sessionFromSettings } from "../../resources/settings.ts";
import { reposSection } from "../../state/sections.ts";
import { readAwsKnots } from "../../targets/aws/catalog.ts";
import { cliSettings } from "../common/aws.ts";
import { confirmDeletion } from "../common/confirm.ts";
import type { CommandContext } from "../common/command.ts";

/**
 * Runs `repoClobber` (see its declaration, `../commands/repo_clobber.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const name = ctx.arg("name")!;
  const settings = cliSettings(ctx);
  if (name === await getEcrRepo(settings)) {
    throw new DefaultRepositoryError(
      name,
      "The tags of knots no longer recorded are listed by `cloudknot gc` and removed by " +
        "`cloudknot gc --yes`; a knot's own tags go with `cloudknot knot clobber <knot> --repo`",
    );
  }
  const session = await sessionFromSettings(settings);
  const doc = await settings.state.read();
  const section = session.profileNames.map((p) => reposSection(p, session.region))
    .find((s) => doc.get(s)?.has(name)) ?? reposSection(session.profile, session.region);
  const recorded = doc.get(section)?.has(name) ?? false;
  let found;
  try {
    found = (await session.ecr.describeRepositories({ repositoryNames: [name] }))
      .repositories?.find((r) => r.repositoryName === name);
  } catch (e) {
    if (!(e instanceof AwsError && e.code === "RepositoryNotFoundException")) throw e;
  }
  if (found === undefined) {
    if (!recorded) {
      throw new CloudknotInputError(
        `There is no repository named "${name}" in ${session.region}: see \`cloudknot repo list\``,
        { field: "name" },
      );
    }
    await settings.state.remove(section, name);
    await ctx.print(`Forgot repository ${name}: it was already gone`);
    return 0;
  }
  const tags = found.repositoryArn
    ? (await session.ecr.listTagsForResource({ resourceArn: found.repositoryArn })).tags ?? []
    : [];
  if (!recorded && !tags.some((t) => t.Key === "ManagedBy" && t.Value === "cloudknot")) {
    throw new CloudknotInputError(
      `Repository ${name} was not made by cloudknot (no ManagedBy=cloudknot tag, not in ` +
        `${settings.state.path}): delete it with the AWS console or CLI if you mean to`,
      { field: "name" },
    );
  }
  // A knot's jobs pull their image from it: without it, every item fails to start.
  const user = (await readAwsKnots(settings.state)).find((k) =>
    k.dockerRepo === name && k.region === session.region
  );
  if (user !== undefined) {
    throw new CloudknotInputError(
      `Repository ${name} holds the image of knot ${user.name}, whose jobs pull it: clobber the ` +
        `knot with it (\`cloudknot knot clobber ${user.name} --repo\`), or leave it`,
      { field: "name" },
    );
  }
  if (!await confirmDeletion(ctx, `repository ${name} and every image in it`)) return 1;
  // A config file that cannot lose the record is refused before anything is deleted.
  await settings.state.assertWritable();
  const repo = await DockerRepo.create({ name, session, state: settings.state });
  await repo.clobber({ env: ctx.io.env });
  await ctx.print(`Clobbered repository ${name}`);
  return 0;
}
