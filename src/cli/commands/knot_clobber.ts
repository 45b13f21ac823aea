/**
 * `knot clobber <knot>`: deletes a knot, its function and all its runs.
 *
 * @module
 */
import { Knot } from "../../knot.ts";
import { findLocalKnot, localKnotsDir, localRuns } from "../../targets/local/catalog.ts";
import { defineCommand } from "../command.ts";
import { confirmDeletion } from "../confirm.ts";
import { TARGET_OPTION } from "../options.ts";
import { resolveTarget } from "../target.ts";

/** `knot clobber <knot>`. */
export const knotClobber = defineCommand({
  group: "knot",
  name: "clobber",
  summary: "Delete a knot, its function and all its runs",
  description:
    "Asks first on a terminal; anywhere else (a script, CI) it needs --yes. Exits with 1 when " +
    "the question is answered no.",
  args: [{ name: "knot", required: true, description: "The knot's name" }],
  options: {
    yes: { type: "boolean", short: "y", description: "Do not ask: delete it" },
    ...TARGET_OPTION,
  },
  examples: [{
    description: "Delete the knot squares without asking",
    command: "cloudknot knot clobber squares --yes",
  }],
  async run(ctx) {
    resolveTarget(ctx);
    const name = ctx.arg("knot")!;
    const found = await findLocalKnot(name, { env: ctx.io.env });
    const runs = (await localRuns(found).runs()).length;
    const what = `knot ${name} and its ${runs} run${runs === 1 ? "" : "s"}`;
    if (!await confirmDeletion(ctx, what)) return 1;
    const knot = await Knot.create({ name, dir: localKnotsDir({ env: ctx.io.env }) });
    await knot.clobber();
    await ctx.print(`Clobbered ${what}`);
    return 0;
  },
});
