/**
 * `knot clobber <knot>`: deletes a knot, its function and all its runs (on
 * AWS: its Batch resources and job data, and on request its Pars, image and
 * repository).
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/knot_clobber.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import { Knot } from "../../knot.ts";
import {
  type AwsKnotRecord,
  knotBeingClobbered,
  lackingResources,
  parsUsers,
  removeAwsKnot,
  repositoryUser,
} from "../../targets/aws/catalog.ts";
import { cliWarn, inCliWords } from "../common/cli_words.ts";
import { findLocalKnot, localRuns } from "../../targets/local/catalog.ts";
import { knotRuns } from "../common/knot_view.ts";
import { cliCloudknotDir, cliSettings } from "../common/aws.ts";
import { getEcrRepo, sessionFromSettings } from "../../resources/settings.ts";
import type { CommandContext } from "../common/command.ts";
import { confirmDeletion, openOrForget } from "../common/confirm.ts";
import { cliDocker } from "../common/docker.ts";
import {
  cliKnotEnv,
  cliLocalKnot,
  locateKnot,
  openAwsKnotReader,
  UnfinishedKnotError,
} from "../common/knots.ts";
import {
  clobberUnfinishedDockerKnot,
  type UnfinishedDockerKnot,
} from "../../targets/docker/catalog.ts";
import { clobberOriginalCommand, findOriginalKnot } from "../common/original.ts";
import { untilInterrupted } from "../common/interrupted.ts";
import { recordSection } from "../../state/sections.ts";

async function clobberAws(ctx: CommandContext, name: string): Promise<number> {
  const settings = cliSettings(ctx);
  const reader = await openAwsKnotReader(ctx, name);
  const { record } = reader;
  // Refused before the question too (the knot's clobber refuses for sure, whatever this saw).
  if (record.clobberRunning) throw knotBeingClobbered(settings.state, name);
  // A record that lacks a resource's name (edited by hand) cannot open the knot: it is forgotten,
  // and gc, which then finds what it made, deletes that.
  const lacking = lackingResources(record);
  if (lacking.length > 0) return await forgetIncomplete(ctx, record, lacking);
  // What is deleted is what its job data holds (as `knot show` lists it), not what its record
  // remembers: a map killed before it recorded its run has a run all the same.
  // (A record of another profile, or without a bucket, is refused when the knot is opened.)
  const readable = record.bucket !== "" && reader.session.sameProfile(record.profile);
  const data = readable
    ? await reader.runData()
    : { runs: record.runs, unfinished: [] as string[] };
  const runs = data.runs.length;
  const unfinished = data.unfinished.length;
  // In the default repository, or one another knot uses, only the knot's tags go, as the
  // knot's clobber does.
  const shared = record.dockerRepo === await getEcrRepo(settings) ||
    (ctx.flag("repo") && await repositoryUser(settings.state, name, record.dockerRepo));
  const repo = shared
    ? `its image tags in repository ${record.dockerRepo}`
    : `repository ${record.dockerRepo}`;
  const parts = [
    "its compute environment, job queue and job definitions",
    `${runs} run${runs === 1 ? "" : "s"}${ctx.flag("keep-data") ? "" : " and their job data"}`,
    ...(unfinished > 0 && !ctx.flag("keep-data")
      ? [`the data of ${unfinished} unfinished run${unfinished === 1 ? "" : "s"}`]
      : []),
    // A Pars another knot uses is kept (the clobber says so), as a shared repository.
    ...(ctx.flag("pars") && (await parsUsers(settings.state, name, record.pars)).length === 0
      ? [`Pars ${record.pars}`]
      : []),
    ...(ctx.flag("repo") ? [repo] : []),
    ...(ctx.flag("image") ? [`image ${record.dockerImage}`] : []),
  ];
  const what = `AWS knot ${name} (${parts.join(", ")})`;
  if (!await confirmDeletion(ctx, what)) return 1;
  // A config file that cannot lose the record is refused before anything is deleted.
  await settings.state.assertWritable();
  const knot = await openOrForget(ctx, `knot ${name}`, async () =>
    await Knot.create({
      name,
      target: "aws",
      ...cliCloudknotDir(settings),
      session: await sessionFromSettings(settings),
      state: settings.state,
      docker: cliDocker(ctx),
      warn: (message) => ctx.warn(inCliWords(new Error(message))),
    }));
  if (knot === undefined) return 0;
  await ctx.log(ctx.err("dim", `Deleting knot ${name}'s resources (this takes a minute)…`));
  return await untilInterrupted(
    ctx,
    async () => {
      await knot.clobber({
        pars: ctx.flag("pars"),
        repo: ctx.flag("repo"),
        image: ctx.flag("image"),
        keepData: ctx.flag("keep-data"),
      });
      await ctx.print(`Clobbered ${what}`);
      // A Pars no knot uses any more stays, as the library's clobber leaves it: said, with how.
      const pars = record.pars;
      if (
        !ctx.flag("pars") && (await parsUsers(settings.state, name, pars)).length === 0 &&
        await settings.state.section(recordSection("pars", pars)) !== undefined
      ) {
        await ctx.log(
          `Its Pars ${pars} stays (IAM roles, a security group; no knot uses it now): ` +
            `\`cloudknot pars clobber ${pars} --yes\` deletes it, as --pars would have`,
        );
      }
      return 0;
    },
    `the clobber of knot ${name} stopped part-way: run cloudknot knot clobber ${name} again to finish it`,
  );
}

/** Removes the record of a knot that names no `lacking` keys, and says how to delete the rest. */
async function forgetIncomplete(
  ctx: CommandContext,
  record: AwsKnotRecord,
  lacking: string[],
): Promise<number> {
  const { name, profile, region } = record;
  const settings = cliSettings(ctx);
  const keys = lacking.map((key) => `"${key}"`).join(", ");
  const what = `the record of AWS knot ${name}, which has no ${keys} (the config file was ` +
    `edited), so nothing of the knot can be found from it: \`cloudknot gc\` finds its ` +
    `resources and job data once the record is gone`;
  if (!await confirmDeletion(ctx, what)) return 1;
  await settings.state.assertWritable();
  await removeAwsKnot(settings.state, name, { knot: name, profile, region });
  await ctx.log(
    `Knot ${name}'s record had no ${keys}: its AWS resources and job data were left. ` +
      "Run `cloudknot gc` to list them and `cloudknot gc --yes` to delete them",
  );
  await ctx.print(`Forgot AWS knot ${name}`);
  return 0;
}

/**
 * Removes what a create of a docker knot killed before it recorded the knot
 * left; nothing, saying so, when a create of it recorded the knot meanwhile.
 * The folder a local knot's clobber killed at the very end left (its mark
 * alone) is removed without Docker.
 */
async function clobberUnfinished(
  ctx: CommandContext,
  name: string,
  unfinished: UnfinishedDockerKnot,
): Promise<number> {
  const { root } = unfinished;
  if (unfinished.target === "local") {
    const what = `what the stopped clobber of local knot ${name} left (its folder ${root})`;
    if (!await confirmDeletion(ctx, what)) return 1;
    await Deno.remove(root, { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
    await ctx.print(`Clobbered ${what}`);
    return 0;
  }
  const what = `unfinished docker knot ${name} (its folder ${root}, and its image if it was built)`;
  if (!await confirmDeletion(ctx, what)) return 1;
  if (!await clobberUnfinishedDockerKnot({ name, root }, cliDocker(ctx), cliWarn(ctx))) {
    // A create of the knot finished since it was looked at: that knot was never confirmed.
    await ctx.log(
      `Nothing was deleted: a create of docker knot ${name} finished and recorded the knot (in ` +
        `${root}) while this waited, so it is no longer what a stopped create left. ` +
        `\`cloudknot knot show ${name}\` shows it; \`cloudknot knot clobber ${name}\` again ` +
        `clobbers it, with its runs`,
    );
    return 1;
  }
  await ctx.print(`Clobbered ${what}`);
  return 0;
}

/**
 * Runs `knotClobber` (see its declaration, `../commands/knot_clobber.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const name = ctx.arg("knot")!;
  const original = await findOriginalKnot(ctx, name);
  if (original !== undefined) {
    const extra = ["repo", "image", "keep-data"].filter((f) => ctx.flag(f));
    if (extra.length > 0) {
      throw ctx.usage(
        `${extra.map((f) => `--${f}`).join(", ")}: not for a knot of the Python cloudknot ` +
          "(its image and repository records are left, as its own clobber leaves them)",
      );
    }
    return await clobberOriginalCommand(ctx, original);
  }
  const located = await locateKnot(ctx, name).catch((e) => {
    // A docker knot a create left unfinished (killed): what it left is removed.
    if (e instanceof UnfinishedKnotError && !e.unfinished.running) return e.unfinished;
    throw e;
  });
  if (located === "aws") return await clobberAws(ctx, name);
  // Refused before anything is removed, an unfinished docker knot's folder too.
  const extra = ["pars", "repo", "image", "keep-data"].filter((f) => ctx.flag(f));
  if (extra.length > 0) {
    throw ctx.usage(`${extra.map((f) => `--${f}`).join(", ")}: for a knot on AWS only`);
  }
  if (typeof located === "object") return await clobberUnfinished(ctx, name, located);
  const found = await findLocalKnot(name, { env: ctx.io.env });
  // A local knot's runs made under another runs directory go too (CLOUDKNOT_LOCAL_RUNS).
  // So do those whose manifest is damaged.
  const local = (found.record.target as string) === "docker" ? undefined : localRuns(found);
  const runs = (await knotRuns(found).runs()).length +
    (local === undefined ? 0 : local.runsElsewhere().size + (await local.damagedRuns()).size);
  const what = `knot ${name} and its ${runs} run${runs === 1 ? "" : "s"}`;
  if (!await confirmDeletion(ctx, what)) return 1;
  // A docker knot's clobber removes its containers and image too.
  const knot = await Knot.create({
    name,
    ...cliLocalKnot(ctx, (found.record.target as string) === "docker" ? "docker" : "local"),
    // Such as that a clobber killed part-way before is finished now.
    warn: cliWarn(ctx),
  }, cliKnotEnv(ctx));
  await knot.clobber();
  await ctx.print(`Clobbered ${what}`);
  return 0;
}
