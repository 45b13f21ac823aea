/**
 * `pars clobber <name>`: deletes what a Pars made.
 *
 * What the command does. Its words (arguments, options, help) are
 * `../commands/pars_clobber.ts`, which loads this module only when the command runs.
 *
 * @module
 */
import { Pars } from "../../resources/pars.ts";
import { CloudknotInputError } from "../../util/errors.ts";
import { sessionFromSettings } from "../../resources/settings.ts";
import { recordSection } from "../../state/sections.ts";
import { cliSettings } from "../common/aws.ts";
import { confirmDeletion } from "../common/confirm.ts";
import { inCliWords } from "../common/cli_words.ts";
import { clobberOriginalCommand } from "../common/original.ts";
import { readOriginalRecord } from "../../resources/original.ts";
import { untilInterrupted } from "../common/interrupted.ts";
import type { CommandContext } from "../common/command.ts";

/**
 * Runs `parsClobber` (see its declaration, `../commands/pars_clobber.ts`).
 *
 * @param ctx The command's arguments, options and io.
 * @returns The exit code.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const name = ctx.arg("name")!;
  const settings = cliSettings(ctx);
  const original = await readOriginalRecord(settings.state, "pars", name);
  if (original !== undefined) {
    if (ctx.flag("force")) {
      throw ctx.usage(
        "--force: not for a Pars of the Python cloudknot (clobber its knots first)",
      );
    }
    return await clobberOriginalCommand(ctx, original);
  }
  if ((await settings.state.section(recordSection("pars", name))) === undefined) {
    throw new CloudknotInputError(
      `There is no Pars named "${name}" in ${settings.state.path}: see \`cloudknot pars list\`. ` +
        `A \`cloudknot pars create ${name}\` that stopped part-way writes no record: run it ` +
        `again to finish it, or \`cloudknot gc\` to list what it left`,
      { field: "name" },
    );
  }
  if (!await confirmDeletion(ctx, `Pars ${name} (its IAM roles, security group and network)`)) {
    return 1;
  }
  // A config file that cannot lose the record is refused before anything is deleted.
  await settings.state.assertWritable();
  return await untilInterrupted(
    ctx,
    async () => {
      const done = await Pars.clobber({
        ...settings,
        session: await sessionFromSettings(settings),
        name,
        force: ctx.flag("force"),
        warn: (m) => ctx.warn(inCliWords(new Error(m))),
      });
      const count = (n: number) => `${n} resource${n === 1 ? "" : "s"}`;
      const gone = done.gone.length > 0 ? `, ${count(done.gone.length)} gone already` : "";
      const kept = done.kept.length > 0 ? `, ${count(done.kept.length)} kept` : "";
      await ctx.print(
        `Clobbered Pars ${name}: ${count(done.deleted.length)} deleted${gone}${kept}`,
      );
      return 0;
    },
    `the clobber of Pars ${name} stopped part-way: run cloudknot pars clobber ${name} again to finish it`,
  );
}
