/**
 * `knot create <knot> <module> [export]`: packages a module's export as a knot.
 *
 * @module
 */
import { Knot } from "../../knot.ts";
import { findLocalKnot, localKnotsDir } from "../../targets/local/catalog.ts";
import { defineCommand } from "../command.ts";
import { functionLabel, knotJson } from "../knot_view.ts";
import { checkModulePath } from "../module_path.ts";
import { JSON_OPTION, TARGET_OPTION } from "../options.ts";
import { resolveTarget } from "../target.ts";

/** `knot create <knot> <module> [export]`. */
export const knotCreate = defineCommand({
  group: "knot",
  name: "create",
  summary: "Package a module's function as a knot (or update that knot)",
  description:
    "Bundles the module with everything it imports, npm packages included, so the function " +
    "runs with no network. Run it later with `map --name KNOT`.",
  args: [
    {
      name: "knot",
      required: true,
      description: "The knot's name: a letter, then letters, digits and hyphens",
    },
    { name: "module", required: true, description: "The module's path or URL" },
    { name: "export", required: false, description: 'The export to call (default: "default")' },
  ],
  options: { ...JSON_OPTION, ...TARGET_OPTION },
  examples: [{
    description: "Make the knot squares from the export square of examples/jobs.ts",
    command: "cloudknot knot create squares examples/jobs.ts square",
  }],
  async run(ctx) {
    resolveTarget(ctx);
    const name = ctx.arg("knot")!;
    const module = ctx.arg("module")!;
    await checkModulePath(module);
    const dir = localKnotsDir({ env: ctx.io.env });
    const existed = await findLocalKnot(name, { env: ctx.io.env }).then(() => true, () => false);
    await Knot.create({ name, module, exportName: ctx.arg("export") ?? "default", dir });
    const knot = await findLocalKnot(name, { env: ctx.io.env });
    if (ctx.flag("json")) await ctx.print(JSON.stringify(knotJson(knot)));
    else {
      await ctx.print(`${existed ? "Updated" : "Created"} knot ${name}: ${functionLabel(knot)}`);
    }
    return 0;
  },
});
