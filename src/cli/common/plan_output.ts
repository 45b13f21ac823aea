/**
 * Printing a dry run's plan: its steps and estimate as text, or with
 * `--json` one document. And the plans of `map --dry-run`.
 *
 * @module
 */
import { join } from "node:path";
import { encodeInputs } from "../../job/inputs.ts";
import { Knot, type KnotOptions } from "../../knot.ts";
import { Estimate } from "../../cost/estimate.ts";
import { Plan } from "../../plan/plan.ts";
import { DEFAULT_PERMISSIONS } from "../../job/permissions.ts";
import type { AwsKnotOptions } from "../../targets/aws/aws_knot.ts";
import { findLocalKnot, localKnotsDir, localRunsRoot } from "../../targets/local/catalog.ts";
import { defined } from "../../util/defined.ts";
import { LocalTarget } from "../../targets/local/local_target.ts";
import type { MapRequest } from "../../targets/target.ts";
import { recordSection } from "../../state/sections.ts";
import type { DockerKnotOptions } from "../../targets/docker/catalog.ts";
import { knotLimits } from "../../targets/machine_resources.ts";
import { cliAwsKnot, cliSettings } from "./aws.ts";
import { inCliWords } from "./cli_words.ts";
import type { Command, CommandContext } from "./command.ts";
import { openAwsKnotReader } from "./knots.ts";

/**
 * A plan as a JSON document: its title, steps, notes and estimate.
 *
 * @param plan The plan.
 * @returns The document.
 */
export function planJson(plan: Plan): Record<string, unknown> {
  return {
    title: plan.title,
    steps: plan.steps,
    notes: plan.notes,
    ...(plan.estimate !== undefined ? { estimate: { ...plan.estimate } } : {}),
  };
}

/**
 * Prints plans on stdout: text, or with `--json` one document (an array when several).
 *
 * @param ctx The command's context.
 * @param plans The plans, in order.
 */
export async function printPlans(ctx: CommandContext, ...given: Plan[]): Promise<void> {
  const plans = given.map((plan) => planInCliWords(plan, ctx.command));
  if (ctx.flag("json")) {
    const docs = plans.map(planJson);
    await ctx.print(JSON.stringify(docs.length === 1 ? docs[0] : docs));
    return;
  }
  await ctx.print(plans.map(String).join("\n\n"));
}

/**
 * A plan in a command-line user's words: its notes (`pass itemSeconds`, the options an adoption
 * would ignore), and its estimate's assumptions and why it has no cost.
 */
function planInCliWords(plan: Plan, command: Command): Plan {
  const words = (text: string) => inCliWords(new Error(text), command);
  const { estimate } = plan;
  return new Plan({
    title: plan.title,
    steps: plan.steps,
    notes: plan.notes.map(words),
    ...(estimate !== undefined
      ? {
        estimate: new Estimate({
          ...estimate,
          assumptions: estimate.assumptions.map(words),
          ...(estimate.missing !== undefined ? { missing: words(estimate.missing) } : {}),
        }),
      }
      : {}),
  });
}

/**
 * The plans of `map --dry-run`: the knot's (when it is new, or its function
 * is given again locally), then the map's, with an estimate when
 * `--item-seconds` is given. Nothing is changed.
 *
 * @param ctx The `map` command's context.
 * @param o Where, the knot's options, the items and the map options.
 * @returns The plans, in order.
 */
export async function planMap(
  ctx: CommandContext,
  o: {
    target: "local" | "docker" | "aws";
    /** The knot's options; a docker knot's hold its target, driver and CPUs. */
    common: KnotOptions;
    aws: AwsKnotOptions;
    items: unknown[];
    env: Record<string, string>;
    jobType?: "array" | "independent";
    itemsPerJob?: number | "auto";
    concurrency?: number;
  },
): Promise<Plan[]> {
  const { common, items } = o;
  const request: MapRequest = {
    // Encoded a chunk at a time as the plan reads them, as a map does.
    items: encodeInputs(items, { starmap: ctx.flag("starmap") }),
    starmap: ctx.flag("starmap"),
    env: o.env,
    ...(o.jobType !== undefined ? { jobType: o.jobType } : {}),
    ...(o.itemsPerJob !== undefined ? { itemsPerJob: o.itemsPerJob } : {}),
  };
  const itemSeconds = ctx.positive("item-seconds");
  const options = itemSeconds !== undefined ? { itemSeconds } : {};
  if (o.target === "aws") {
    const settings = cliSettings(ctx);
    if ((await settings.state.get(recordSection("knot", common.name), "target")) === "aws") {
      return [await (await openAwsKnotReader(ctx, common.name)).plan(request, options)];
    }
    const spec = { ...common, ...o.aws, ...await cliAwsKnot(ctx, settings, { quiet: true }) };
    const { planAwsKnotMap } = await import("../../targets/aws/aws_plan.ts");
    return [
      await Knot.create({ ...spec, dryRun: true }),
      await planAwsKnotMap(spec, request, options),
    ];
  }
  const plans: Plan[] = [];
  const dir = localKnotsDir({ env: ctx.io.env });
  const found = await findLocalKnot(common.name, { env: ctx.io.env }).catch(() => undefined);
  // A knot of the other target of this machine is refused there, as the map would refuse it.
  if (found === undefined || common.module !== undefined || found.record.target !== o.target) {
    plans.push(await Knot.create({ ...common, dir, dryRun: true }));
  }
  const root = found?.root ?? join(dir, common.name);
  // The options not given are the knot's own, as the map would run with them.
  const own: DockerKnotOptions = found?.record.target === o.target
    ? found.record.options ?? {}
    : {};
  const { vcpus, ...limits } = knotLimits(own, {
    concurrency: o.concurrency,
    retries: common.retries,
    timeout: common.timeout,
    memory: common.memory,
    vcpus: common.vcpus,
  });
  const runs = { knot: common.name, root, ...limits };
  if (o.target === "docker") {
    const { DockerTarget } = await import("../../targets/docker/docker_target.ts");
    const { dockerKnotImage } = await import("../../targets/docker/docker_knot.ts");
    const docker = new DockerTarget({
      ...runs,
      image: await dockerKnotImage({ name: common.name, dir }),
      docker: common.docker!,
      ...defined({ vcpus }),
    });
    plans.push(await docker.plan(request, options));
    return plans;
  }
  const local = new LocalTarget({
    ...runs,
    runsRoot: found?.runsRoot ?? await localRunsRoot(root, { env: ctx.io.env }),
    artifact: "",
    permissions: { ...DEFAULT_PERMISSIONS },
  });
  plans.push(await local.plan(request, options));
  return plans;
}
