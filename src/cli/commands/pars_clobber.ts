/**
 * `pars clobber <name>`: deletes what a Pars made.
 *
 * @module
 */
import { Pars } from "../../resources/pars.ts";
import { CloudknotInputError } from "../../util/errors.ts";
import { sessionFromSettings } from "../../resources/settings.ts";
import { recordSection } from "../../state/sections.ts";
import { cliSettings } from "../common/aws.ts";
import { defineCommand } from "../common/command.ts";
import { confirmDeletion, YES_OPTION } from "../common/confirm.ts";
import { inCliWords } from "../common/cli_words.ts";
import { clobberOriginalCommand } from "../common/original.ts";
import { readOriginalRecord } from "../../resources/original.ts";
import { untilInterrupted } from "../common/interrupted.ts";

/** `pars clobber <name>`. */
export const parsClobber = defineCommand({
  group: "pars",
  name: "clobber",
  summary: "Delete a Pars' roles, security group and VPC (never the default VPC)",
  description:
    "Deletes only what the Pars made, in dependency order, and removes [pars <name>] from the " +
    "config file. It refuses while a knot uses the Pars, unless --force, which first deletes " +
    "those knots' job queues and compute environments (their runs stay readable). Asks first on a " +
    "terminal; anywhere else it needs --yes. A Pars whose resources are already partly gone (a " +
    "clobber that was killed part-way, or deleted outside cloudknot) is clobbered all the same: " +
    "what is left of it is deleted, and what was gone is said. A Pars of the Python cloudknot: its " +
    "CloudFormation stack is deleted, and waited for, unless a knot or stack still uses it.",
  args: [{ name: "name", required: true, description: "The Pars' name" }],
  options: {
    force: {
      type: "boolean",
      description: "Delete it even while knots use it, with their job queues and compute " +
        "environments (their runs stay readable; cloudknot knot create makes them again)",
    },
    ...YES_OPTION,
  },
  examples: [{
    description: "Delete the Pars lab without asking",
    command: "cloudknot pars clobber lab --yes",
  }],
  async run(ctx) {
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
        `There is no Pars named "${name}" in ${settings.state.path}: see \`cloudknot pars list\``,
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
  },
});
